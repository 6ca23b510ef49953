// SPDX-License-Identifier: GPL-2.0
/* The configuration's value types, one row of functions each (cfg_types[]): the "expected"
 * text, parsing a scalar or a node, the default, freeing, and the dump. */
#include "userspace/cfg/keys.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/cfg/cfg.h"
#include "userspace/ctrl/l4cfg.h"
#include "userspace/http/h1.h"

#define CFG_TEXT_MAX  (1u << 20) /* longest config message buffer kept, bytes */
#define CFG_BARE_WARN 100	 /* a bare duration below this many ms is probably seconds */
#define CFG_DNS_MAX   253 /* longest DNS name in text form, without a trailing dot (RFC 1035) */
#define CFG_LABEL_MAX 63  /* longest label of a DNS name */

static void apply_defaults(struct cfg_ctx *ctx, enum cfg_section sec, char *base);

/* ------------------------------------------------------------------ messages */

/* Append one message for <line> (0: no line) to the context's list, as an error or a
 * <warning>. Messages past CFG_TEXT_MAX bytes are counted but not kept. */
void cfg_msg_add(struct cfg_ctx *ctx, bool warning, int line, const char *fmt, ...)
{
	struct cfg_msgs *m = ctx->msgs;
	char body[512], full[768];
	va_list ap;
	size_t n;
	char *t;
	int r;

	if (warning)
		m->warnings++;
	else
		m->errors++;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (line > 0)
		r = snprintf(full, sizeof(full), "%s:%d: %s%s\n", ctx->file, line,
			warning ? "warning: " : "", body);
	else
		r = snprintf(full, sizeof(full), "%s: %s%s\n", ctx->file,
			warning ? "warning: " : "", body);
	if (r < 0)
		return;
	n = strlen(full);
	if (m->len + n + 1 > CFG_TEXT_MAX)
		return;
	t = realloc(m->text, m->len + n + 1);
	if (!t)
		return;
	memcpy(t + m->len, full, n + 1);
	m->text = t;
	m->len += n;
}

/* What a non-scalar node is, for "got ..." in messages; NULL for a scalar. */
static const char *node_type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return NULL;
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* The "expected X" text of a type that needs nothing of its key. */
#define EXPECTED(fn, text)                                              \
	static void fn(const struct cfg_key *k, char *buf, size_t size) \
	{                                                               \
		(void)k;                                                \
		snprintf(buf, size, "%s", text);                        \
	}

EXPECTED(bool_expected, "true or false")
EXPECTED(duration_expected, "a duration with a unit (ms, s, m, h)")
EXPECTED(size_expected, "a size (bytes, or with k, m, g)")
EXPECTED(str_expected, "a string")
EXPECTED(addr_expected, "IPv4:PORT or [IPv6]:PORT")
EXPECTED(peer_expected, "IPv4:PORT, [IPv6]:PORT or NAME:PORT")
EXPECTED(strlist_expected, "a string or a list of strings")
EXPECTED(hdrops_expected, "a mapping of add, set and remove")
EXPECTED(hashkey_expected, "uri, client_addr, header:NAME or cookie:NAME")
EXPECTED(section_expected, "a mapping")
EXPECTED(l4_expected, "the l4: schema (docs/pingctl.md)")
EXPECTED(list_expected, "a list of mappings")

static void uint_expected(const struct cfg_key *k, char *buf, size_t size)
{
	snprintf(buf, size, "an integer in [%" PRIu64 ", %" PRIu64 "]", k->min, k->max);
}

static void enum_expected(const struct cfg_key *k, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "one of");

	for (int i = 0; k->names[i] && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s %s", i ? "," : "", k->names[i]);
}

/* Report "file:line: 'key': expected X, got 'Y'" for key <k>. */
static void bad_value(struct cfg_ctx *ctx, const struct cfg_key *k, int line, const char *got)
{
	char exp[256];

	cfg_types[k->type].expected(k, exp, sizeof(exp));
	cfg_msg_add(ctx, false, line, "'%s%s': expected %s, got '%s'", sections[k->sec].prefix,
		k->name, exp, got);
}

/* As bad_value(), naming a list or mapping by its kind rather than its text. */
static void bad_node(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n)
{
	const char *what = node_type_name(n);

	if (!what)
		bad_value(ctx, k, cfg_node_line(n), (const char *)n->data.scalar.value);
	else
		bad_value(ctx, k, cfg_node_line(n), what);
}

/* As bad_value(), followed by ": <why>". */
static void bad_value_why(
	struct cfg_ctx *ctx, const struct cfg_key *k, int line, const char *got, const char *why)
{
	char exp[256];

	cfg_types[k->type].expected(k, exp, sizeof(exp));
	cfg_msg_add(ctx, false, line, "'%s%s': expected %s, got '%s': %s", sections[k->sec].prefix,
		k->name, exp, got, why);
}

/* ------------------------------------------------------------------ scalars */

/* YAML 1.1 booleans as libyaml leaves them (untyped scalars): true/yes/on, false/no/off. */
static int parse_bool(const char *s, bool *b)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
		*b = true;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
		*b = false;
		return 0;
	}
	return -EINVAL;
}

/* "uri", "client_addr", "header:NAME" or "cookie:NAME" into <hk> (NAME copied). */
static int parse_hashkey(const char *s, struct cfg_hash_key *hk)
{
	const char *name = NULL;

	if (!strcmp(s, "uri")) {
		hk->src = CFG_HASH_URI;
	} else if (!strcmp(s, "client_addr")) {
		hk->src = CFG_HASH_CLIENT_ADDR;
	} else if (!strncmp(s, "header:", 7)) {
		hk->src = CFG_HASH_HEADER;
		name = s + 7;
	} else if (!strncmp(s, "cookie:", 7)) {
		hk->src = CFG_HASH_COOKIE;
		name = s + 7;
	} else {
		return -EINVAL;
	}
	hk->name = NULL;
	if (name) {
		if (!h1_is_token(name))
			return -EINVAL;
		hk->name = strdup(name);
		if (!hk->name)
			return -ENOMEM;
	}
	return 0;
}

/* A header value we are willing to send: visible ASCII, space, tab, obs-text; no CR/LF/NUL. */
static bool is_field_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
		else if (*s == 0x7f)
			return false;
	return true;
}

static int uint_parse(
	struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno || v < k->min || v > k->max)
		return -EINVAL;
	*(unsigned int *)dst = (unsigned int)v;
	return 0;
}

static int bool_parse(
	struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst)
{
	bool b;
	int err;

	err = parse_bool(s, &b);
	if (!err)
		*(bool *)dst = b;
	return err;
}

static int duration_parse(
	struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst)
{
	unsigned int ms;
	int err;

	err = cfg_parse_duration(s, &ms);
	if (err || ms < k->min || ms > k->max)
		return -EINVAL;
	if (ms && ms < CFG_BARE_WARN && !strpbrk(s, "smh"))
		cfg_msg_add(ctx, true, line,
			"'%s%s': '%s' is %u milliseconds; write '%ss' if seconds were meant",
			sections[k->sec].prefix, k->name, s, ms, s);
	*(unsigned int *)dst = ms;
	return 0;
}

/* Sizes: unsigned int (CFG_T_SIZE) or uint64_t (CFG_T_SIZE64) bytes. */
static int size_parse(
	struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst)
{
	uint64_t sz;
	int err;

	err = cfg_parse_size(s, &sz);
	if (err || sz < k->min || sz > k->max)
		return -EINVAL;
	if (k->type == CFG_T_SIZE)
		*(unsigned int *)dst = (unsigned int)sz;
	else
		*(uint64_t *)dst = sz;
	return 0;
}

static int str_parse(
	struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst)
{
	free(*(char **)dst);
	*(char **)dst = *s ? strdup(s) : NULL;
	return *s && !*(char **)dst ? -ENOMEM : 0;
}

static int enum_parse(
	struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst)
{
	for (int i = 0; k->names[i]; i++)
		if (!strcmp(s, k->names[i])) {
			*(int *)dst = i;
			return 0;
		}
	return -EINVAL;
}

static int addr_parse(
	struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst)
{
	return cfg_parse_addr(s, dst);
}

static int hashkey_parse(
	struct cfg_ctx *ctx, const struct cfg_key *k, const char *s, int line, void *dst)
{
	free(((struct cfg_hash_key *)dst)->name);
	return parse_hashkey(s, dst);
}

/* ------------------------------------------------------------------ nodes */

/* A listener's address: as a scalar, with a hint when it is a name. */
static void addr_node(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	s = (const char *)n->data.scalar.value;
	if (!cfg_parse_addr(s, (struct cfg_addr *)(base + k->off)))
		return;
	if (cfg_looks_like_name(s))
		bad_value_why(ctx, k, cfg_node_line(n), s,
			"a listener binds an IP address; host names are not resolved here");
	else
		bad_value(ctx, k, cfg_node_line(n), s);
}

bool cfg_looks_like_name(const char *s)
{
	const char *colon = strrchr(s, ':');

	return colon && colon != s && strchr(s, ':') == colon && *s != '[' &&
	       strspn(s, "0123456789.*") < (size_t)(colon - s);
}

/* Check the host of "NAME:PORT" <s> (<len> bytes before the colon) as a DNS name: labels of
 * letters, digits, "-" and "_" (used by internal zones), none empty or over 63 bytes, no
 * label starting or ending with "-", at most 253 bytes plus an optional final dot, and a last
 * label not all digits (so that "10.0.0.256" is not looked up as a name). Returns NULL when
 * valid, else what is wrong, in <buf> or a constant. */
static const char *check_dns_name(const char *h, size_t len, char *buf, size_t size)
{
	size_t label = 0;
	bool digits = true;

	if (len && h[len - 1] == '.')
		len--; /* a fully qualified name: the root label is empty */
	if (!len)
		return "no host before the port";
	if (len > CFG_DNS_MAX)
		return "host name longer than 253 bytes";
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? h[i] : '.';

		if (ch == '.') {
			if (!label)
				return "empty label in host name";
			if (h[i - 1] == '-' || h[i - label] == '-')
				return "a host name label starts or ends with '-'";
			if (i < len) {
				label = 0;
				digits = true;
			}
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '_') {
			if (isprint((unsigned char)ch))
				snprintf(buf, size, "'%c' is not allowed in a host name", ch);
			else
				snprintf(buf, size, "byte 0x%02x is not allowed in a host name",
					(unsigned char)ch);
			return buf;
		}
		if (++label > CFG_LABEL_MAX)
			return "a host name label is longer than 63 bytes";
		digits &= isdigit((unsigned char)ch) != 0;
	}
	if (digits)
		return "not a valid IPv4 address, nor a host name (its last label is all digits)";
	return NULL;
}

/* Check "NAME:PORT" <s> (not an IP literal). Returns NULL when well formed, else what is
 * wrong, in <buf> or a constant. */
static const char *check_name_port(const char *s, char *buf, size_t size)
{
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;

	if (*s == '[')
		return "not an IPv6 address between the brackets";
	if (!colon)
		return "no port (NAME:PORT)";
	if (strchr(s, ':') != colon)
		return "an IPv6 address needs brackets: [IPv6]:PORT";
	if (colon == s + 1 && *s == '*')
		return "'*' (any address) is for listeners; a server needs an address or a name";
	if (!colon[1])
		return "no port after ':'";
	if (!isdigit((unsigned char)colon[1]) || strlen(colon + 1) > 5)
		return "the port is not a number from 1 to 65535";
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || errno || !port || port > 65535)
		return "the port is not a number from 1 to 65535";
	return check_dns_name(s, (size_t)(colon - s), buf, size);
}

/* Parse an upstream server's address node <n> (key <k>) into the struct cfg_server at
 * <base>: an IP literal fills its address now; a well-formed NAME:PORT is kept in its name
 * and resolved by cfg_resolve_servers() once the whole file is parsed. */
static void peer_node(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	struct cfg_server *srv = (struct cfg_server *)base;
	const char *s, *why;
	char buf[64];

	if (n->type != YAML_SCALAR_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	s = (const char *)n->data.scalar.value;
	/* A scheme says how to talk to it: TLS for https://, plain for http:// or none. */
	if (!strncmp(s, "https://", 8)) {
		srv->tls = true;
		s += 8;
	} else if (!strncmp(s, "http://", 7)) {
		s += 7;
	}
	if (*s == ':' || !strncmp(s, "*:", 2)) {
		why = check_name_port(s, buf, sizeof(buf));
		bad_value_why(ctx, k, cfg_node_line(n), s, why ? why : "no host");
		return;
	}
	if (!cfg_parse_addr(s, &srv->address))
		return;
	why = check_name_port(s, buf, sizeof(buf));
	if (why) {
		bad_value_why(ctx, k, cfg_node_line(n), s, why);
		return;
	}
	snprintf(srv->name, sizeof(srv->name), "%s", s);
}

/* Append a copy of <s> to <l>. Returns 0 or -ENOMEM. */
static int strlist_push(struct cfg_str_list *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int hdrops_push(
	struct cfg_hdr_ops *h, enum cfg_hdr_action a, const char *name, const char *value)
{
	struct cfg_hdr_op *ops = realloc(h->ops, (h->n + 1) * sizeof(*ops));

	if (!ops)
		return -ENOMEM;
	h->ops = ops;
	ops[h->n].action = a;
	ops[h->n].name = strdup(name);
	ops[h->n].value = value ? strdup(value) : NULL;
	h->n++;
	return 0;
}

/* A string or a sequence of non-empty strings into <l>; bad items are reported and
 * skipped so that every error of a file shows in one run. */
static void parse_strlist(
	struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, struct cfg_str_list *l)
{
	if (n->type == YAML_SCALAR_NODE) {
		(void)strlist_push(l, (const char *)n->data.scalar.value);
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
		it++) {
		yaml_node_t *item = yaml_document_get_node(ctx->doc, *it);

		if (item->type != YAML_SCALAR_NODE || !item->data.scalar.length) {
			bad_node(ctx, k, item);
			continue;
		}
		(void)strlist_push(l, (const char *)item->data.scalar.value);
	}
}

static void strlist_node(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	parse_strlist(ctx, k, n, (struct cfg_str_list *)(base + k->off));
}

/* The {add: {N: V}, set: {N: V}, remove: [N]} form of header rewrites, in the order
 * written, with names checked as tokens and values free of control bytes. */
static void hdrops_node(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	struct cfg_hdr_ops *h = (struct cfg_hdr_ops *)(base + k->off);
	static const char *const actions[] = {"add", "set", "remove"};
	char full[128];

	snprintf(full, sizeof(full), "%s%s", sections[k->sec].prefix, k->name);

	if (n->type != YAML_MAPPING_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
		p++) {
		yaml_node_t *kn = yaml_document_get_node(ctx->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ctx->doc, p->value);
		const char *an =
			kn->type == YAML_SCALAR_NODE ? (const char *)kn->data.scalar.value : "";
		int a = -1;

		for (int i = 0; i < CFG_HDR_MAX; i++)
			if (!strcmp(an, actions[i]))
				a = i;
		if (a < 0) {
			cfg_msg_add(ctx, false, cfg_node_line(kn),
				"'%s': expected add, set or remove, got '%s'", full, an);
			continue;
		}
		if (a == CFG_HDR_REMOVE) {
			struct cfg_str_list l = {0};

			parse_strlist(ctx, k, vn, &l);
			for (size_t i = 0; i < l.n; i++) {
				if (!h1_is_token(l.v[i]))
					cfg_msg_add(ctx, false, cfg_node_line(vn),
						"'%s': expected a header name, got '%s'", full,
						l.v[i]);
				else
					(void)hdrops_push(h, CFG_HDR_REMOVE, l.v[i], NULL);
				free(l.v[i]);
			}
			free(l.v);
			continue;
		}
		if (vn->type != YAML_MAPPING_NODE) {
			cfg_msg_add(ctx, false, cfg_node_line(vn),
				"'%s': expected a mapping of header names to values under '%s', got '%s'",
				full, an,
				vn->type == YAML_SCALAR_NODE ? (const char *)vn->data.scalar.value :
							       "a list");
			continue;
		}
		for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
			q < vn->data.mapping.pairs.top; q++) {
			yaml_node_t *hn = yaml_document_get_node(ctx->doc, q->key);
			yaml_node_t *hv = yaml_document_get_node(ctx->doc, q->value);

			if (hn->type != YAML_SCALAR_NODE ||
				!h1_is_token((const char *)hn->data.scalar.value)) {
				cfg_msg_add(ctx, false, cfg_node_line(hn),
					"'%s': expected a header name, got '%s'", full,
					hn->type == YAML_SCALAR_NODE ?
						(const char *)hn->data.scalar.value :
						"a collection");
				continue;
			}
			if (hv->type != YAML_SCALAR_NODE ||
				!is_field_value((const char *)hv->data.scalar.value)) {
				cfg_msg_add(ctx, false, cfg_node_line(hv),
					"'%s': expected a header value without control bytes, got '%s'",
					full,
					hv->type == YAML_SCALAR_NODE ?
						(const char *)hv->data.scalar.value :
						"a collection");
				continue;
			}
			(void)hdrops_push(h, (enum cfg_hdr_action)a,
				(const char *)hn->data.scalar.value,
				(const char *)hv->data.scalar.value);
		}
	}
}

/* A nested mapping stored inline; anything else is reported and the section defaulted. */
static void section_node(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	char *dst = base + k->off;

	if (n->type != YAML_MAPPING_NODE) {
		bad_node(ctx, k, n);
		apply_defaults(ctx, k->child, dst);
		return;
	}
	cfg_parse_mapping(ctx, n, k->child, dst);
}

/* A sequence of mappings for a CFG_T_LIST key: the item count is checked against the
 * key's bounds, then each item is parsed (or defaulted) as a section of its own. */
static void list_node(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	const struct cfg_section_info *si = &sections[k->child];
	size_t count, *cnt = (size_t *)(base + k->count_off);
	char **arr = (char **)(base + k->off);

	if (n->type != YAML_SEQUENCE_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count < k->min || count > k->max) {
		cfg_msg_add(ctx, false, cfg_node_line(n),
			"'%s%s': expected %" PRIu64 " to %" PRIu64 " items, got %zu",
			sections[k->sec].prefix, k->name, k->min, k->max, count);
		return;
	}
	*arr = calloc(count, si->size);
	if (!*arr) {
		cfg_msg_add(ctx, false, cfg_node_line(n), "out of memory");
		return;
	}
	*cnt = count;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item =
			yaml_document_get_node(ctx->doc, n->data.sequence.items.start[i]);
		char *elem = *arr + i * si->size;

		if (si->line_off != SIZE_MAX)
			*(int *)(elem + si->line_off) = cfg_node_line(item);
		if (item->type != YAML_MAPPING_NODE) {
			bad_node(ctx, k, item);
			apply_defaults(ctx, k->child, elem);
			continue;
		}
		cfg_parse_mapping(ctx, item, k->child, elem);
	}
}

/* The l4: section goes to the control plane's own parser, the one `pingctl restore` uses. */
static void l4_node(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	struct ctrl_l4cfg **dst = (struct ctrl_l4cfg **)(base + k->off);
	char err[512];
	int rc;

	*dst = calloc(1, sizeof(**dst));
	if (!*dst) {
		cfg_msg_add(ctx, false, cfg_node_line(n), "out of memory");
		return;
	}
	rc = ctrl_l4cfg_parse_node(ctx->doc, n, ctx->file, *dst, err, sizeof(err));
	if (rc) {
		/* <err> reads "file:line: reason": keep its line, our format. */
		size_t flen = strlen(ctx->file);
		const char *why = err;
		long line = cfg_node_line(n);
		char *end;

		if (!strncmp(err, ctx->file, flen) && err[flen] == ':') {
			long l = strtol(err + flen + 1, &end, 10);

			if (end != err + flen + 1 && *end == ':') {
				line = l;
				why = end + 1 + (end[1] == ' ');
			} else {
				why = err + flen + 1 + (err[flen + 1] == ' ');
			}
		}
		cfg_msg_add(ctx, false, (int)line, "%s", why);
	}
}

/* ------------------------------------------------------------------ defaults and freeing */

static void section_default(struct cfg_ctx *ctx, const struct cfg_key *k, char *base)
{
	apply_defaults(ctx, k->child, base + k->off);
}

/* Lists, string lists, header rewrites and the l4 section start empty. */
static void empty_default(struct cfg_ctx *ctx, const struct cfg_key *k, char *base)
{
}

static void str_free(const struct cfg_key *k, char *base)
{
	free(*(char **)(base + k->off));
}

static void hashkey_free(const struct cfg_key *k, char *base)
{
	free(((struct cfg_hash_key *)(base + k->off))->name);
}

static void strlist_free(const struct cfg_key *k, char *base)
{
	struct cfg_str_list *l = (struct cfg_str_list *)(base + k->off);

	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void hdrops_free(const struct cfg_key *k, char *base)
{
	struct cfg_hdr_ops *h = (struct cfg_hdr_ops *)(base + k->off);

	for (size_t i = 0; i < h->n; i++) {
		free(h->ops[i].name);
		free(h->ops[i].value);
	}
	free(h->ops);
}

static void section_free(const struct cfg_key *k, char *base)
{
	cfg_free_section(k->child, base + k->off);
}

/* Every item of the list, then the array. */
static void list_free(const struct cfg_key *k, char *base)
{
	char *arr = *(char **)(base + k->off);
	size_t n = *(size_t *)(base + k->count_off);

	for (size_t j = 0; arr && j < n; j++)
		cfg_free_section(k->child, arr + j * sections[k->child].size);
	free(arr);
}

static void l4_free(const struct cfg_key *k, char *base)
{
	struct ctrl_l4cfg *l4 = *(struct ctrl_l4cfg **)(base + k->off);

	if (l4)
		ctrl_l4cfg_free(l4);
	free(l4);
}

/* ------------------------------------------------------------------ dump */

/* <s> as a single-quoted YAML scalar (quotes doubled), so any text reads back as is. */
static void dump_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; s && *s; s++)
		fprintf(f, *s == '\'' ? "''" : "%c", *s);
	fputc('\'', f);
}

/* <ms> in the largest unit that divides it exactly, so the dump reads back the same. */
static void dump_duration(FILE *f, unsigned int ms)
{
	if (ms && ms % 3600000 == 0)
		fprintf(f, "%uh", ms / 3600000);
	else if (ms && ms % 60000 == 0)
		fprintf(f, "%um", ms / 60000);
	else if (ms && ms % 1000 == 0)
		fprintf(f, "%us", ms / 1000);
	else if (ms)
		fprintf(f, "%ums", ms);
	else
		fprintf(f, "0");
}

/* <b> bytes in the largest unit that divides it exactly. */
static void dump_size(FILE *f, uint64_t b)
{
	if (b && b % (1u << 30) == 0)
		fprintf(f, "%" PRIu64 "g", b >> 30);
	else if (b && b % (1u << 20) == 0)
		fprintf(f, "%" PRIu64 "m", b >> 20);
	else if (b && b % 1024 == 0)
		fprintf(f, "%" PRIu64 "k", b >> 10);
	else
		fprintf(f, "%" PRIu64, b);
}

/* "<name>:" of <k> at <indent> columns; its dump function prints the rest of the line. */
static void dump_name(FILE *f, const struct cfg_key *k, int indent)
{
	fprintf(f, "%*s%s:", indent, "", k->name);
}

static void uint_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	dump_name(f, k, indent);
	fprintf(f, " %u\n", *(const unsigned int *)p);
}

static void bool_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	dump_name(f, k, indent);
	fprintf(f, " %s\n", *(const bool *)p ? "true" : "false");
}

static void duration_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	dump_name(f, k, indent);
	fputc(' ', f);
	dump_duration(f, *(const unsigned int *)p);
	fputc('\n', f);
}

static void size_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	dump_name(f, k, indent);
	fputc(' ', f);
	dump_size(f, *(const unsigned int *)p);
	fputc('\n', f);
}

static void size64_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	dump_name(f, k, indent);
	fputc(' ', f);
	dump_size(f, *(const uint64_t *)p);
	fputc('\n', f);
}

static void str_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	dump_name(f, k, indent);
	fputc(' ', f);
	dump_quoted(f, *(char *const *)p);
	fputc('\n', f);
}

static void enum_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	dump_name(f, k, indent);
	fprintf(f, " %s\n", k->names[*(const int *)p]);
}

static void addr_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	dump_name(f, k, indent);
	fputc(' ', f);
	dump_quoted(f, ((const struct cfg_addr *)p)->text);
	fputc('\n', f);
}

/* The running config holds addresses: print them, and the name they came from. */
static void peer_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const struct cfg_server *srv = (const struct cfg_server *)base;

	char buf[sizeof(srv->address.text) + 8];

	dump_name(f, k, indent);
	fputc(' ', f);
	snprintf(buf, sizeof(buf), "%s%s", srv->tls ? "https://" : "", srv->address.text);
	dump_quoted(f, buf);
	if (*srv->name)
		fprintf(f, " # %s", srv->name);
	fputc('\n', f);
}

static void hashkey_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	static const char *const src[] = {"uri", "header:", "cookie:", "client_addr"};
	const struct cfg_hash_key *hk = (const struct cfg_hash_key *)(base + k->off);

	dump_name(f, k, indent);
	fprintf(f, " '%s%s'\n", src[hk->src], hk->name ? hk->name : "");
}

static void strlist_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const struct cfg_str_list *l = (const struct cfg_str_list *)(base + k->off);

	dump_name(f, k, indent);
	fprintf(f, " [");
	for (size_t i = 0; i < l->n; i++) {
		fprintf(f, "%s", i ? ", " : "");
		dump_quoted(f, l->v[i]);
	}
	fprintf(f, "]\n");
}

static void hdrops_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	static const char *const an[] = {"add", "set", "remove"};
	const struct cfg_hdr_ops *h = (const struct cfg_hdr_ops *)(base + k->off);

	dump_name(f, k, indent);
	if (!h->n) {
		fprintf(f, " {}\n");
		return;
	}
	fputc('\n', f);
	/* Group by action; YAML mappings cannot repeat a key, so each action once. */
	for (int a = 0; a < CFG_HDR_MAX; a++) {
		bool any = false;

		for (size_t i = 0; i < h->n; i++) {
			if (h->ops[i].action != (enum cfg_hdr_action)a)
				continue;
			if (!any)
				fprintf(f, "%*s%s:%s", indent + 2, "", an[a],
					a == CFG_HDR_REMOVE ? " [" : "\n");
			if (a == CFG_HDR_REMOVE) {
				fprintf(f, "%s", any ? ", " : "");
				dump_quoted(f, h->ops[i].name);
			} else {
				fprintf(f, "%*s", indent + 4, "");
				dump_quoted(f, h->ops[i].name);
				fprintf(f, ": ");
				dump_quoted(f, h->ops[i].value);
				fputc('\n', f);
			}
			any = true;
		}
		if (any && a == CFG_HDR_REMOVE)
			fprintf(f, "]\n");
	}
}

static void section_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	dump_name(f, k, indent);
	fputc('\n', f);
	cfg_dump_section(f, k->child, base + k->off, indent + 2, false);
}

static void list_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const char *arr = *(char *const *)(base + k->off);
	size_t n = *(const size_t *)(base + k->count_off);

	dump_name(f, k, indent);
	fprintf(f, "%s\n", n ? "" : " []");
	for (size_t i = 0; i < n; i++)
		cfg_dump_section(f, k->child, arr + i * sections[k->child].size, indent + 2, true);
}

/* The maps are the l4 section's truth: pingctl save prints them, not the dump. */
static void l4_dump(FILE *f, const struct cfg_key *k, const char *base, int indent)
{
	const void *p = base + k->off;

	if (*(struct ctrl_l4cfg *const *)p)
		fprintf(f, "%*s# %s: given, not printed here ('pingctl save' prints it)\n", indent,
			"", k->name);
}

/* ------------------------------------------------------------------ the table */

/* clang-format off */
const struct cfg_type_fns cfg_types[CFG_T_MAX] = {
	[CFG_T_UINT] = {"integer", false, uint_expected, uint_parse, NULL, NULL, NULL, uint_dump},
	[CFG_T_BOOL] = {"boolean", false, bool_expected, bool_parse, NULL, NULL, NULL, bool_dump},
	[CFG_T_DURATION] = {"duration", false, duration_expected, duration_parse, NULL, NULL, NULL,
		duration_dump},
	[CFG_T_SIZE] = {"size", false, size_expected, size_parse, NULL, NULL, NULL, size_dump},
	[CFG_T_SIZE64] = {"size", false, size_expected, size_parse, NULL, NULL, NULL, size64_dump},
	[CFG_T_STR] = {"string", false, str_expected, str_parse, NULL, NULL, str_free, str_dump},
	[CFG_T_ENUM] = {"enum", false, enum_expected, enum_parse, NULL, NULL, NULL, enum_dump},
	[CFG_T_ADDR] = {"address", false, addr_expected, addr_parse, addr_node, NULL, NULL,
		addr_dump},
	[CFG_T_STRLIST] = {"string list", false, strlist_expected, NULL, strlist_node,
		empty_default, strlist_free, strlist_dump},
	[CFG_T_HDROPS] = {"header rewrites", false, hdrops_expected, NULL, hdrops_node,
		empty_default, hdrops_free, hdrops_dump},
	[CFG_T_HASHKEY] = {"hash key", false, hashkey_expected, hashkey_parse, NULL, NULL,
		hashkey_free, hashkey_dump},
	[CFG_T_SECTION] = {"section", true, section_expected, NULL, section_node, section_default,
		section_free, section_dump},
	[CFG_T_LIST] = {"list", true, list_expected, NULL, list_node, empty_default, list_free,
		list_dump},
	[CFG_T_L4] = {"l4 section", false, l4_expected, NULL, l4_node, empty_default, l4_free,
		l4_dump},
	[CFG_T_PEER] = {"address or name", false, peer_expected, NULL, peer_node, NULL, NULL,
		peer_dump},
};
/* clang-format on */

/* ------------------------------------------------------------------ one key */

static void parse_value(struct cfg_ctx *ctx, const struct cfg_key *k, yaml_node_t *n, char *base)
{
	const struct cfg_type_fns *t = &cfg_types[k->type];
	const char *s;
	int err;

	if (t->parse_node) {
		t->parse_node(ctx, k, n, base);
		return;
	}
	if (n->type != YAML_SCALAR_NODE) {
		bad_node(ctx, k, n);
		return;
	}
	s = (const char *)n->data.scalar.value;
	err = t->parse(ctx, k, s, cfg_node_line(n), base + k->off);
	if (err == -ENOMEM)
		cfg_msg_add(ctx, false, cfg_node_line(n), "out of memory");
	else if (err)
		bad_value(ctx, k, cfg_node_line(n), s);
}

/* The defaults are in the table as YAML text, so they go through the same parser as the
 * file; a default that fails to parse is a bug. */
static void apply_default(struct cfg_ctx *ctx, const struct cfg_key *k, char *base)
{
	const struct cfg_type_fns *t = &cfg_types[k->type];

	if (t->set_default) {
		t->set_default(ctx, k, base);
		return;
	}
	if (!k->def || !t->parse || t->parse(ctx, k, k->def, 0, base + k->off)) {
		fprintf(stderr, "pingd: BUG: bad default for '%s'\n", k->name);
		abort();
	}
}

/* ------------------------------------------------------------------ sections */

/* Every optional key of section <sec> at <base> to its default. */
static void apply_defaults(struct cfg_ctx *ctx, enum cfg_section sec, char *base)
{
	for (size_t i = 0; i < cfg_n_keys; i++)
		if (cfg_keys[i].sec == sec && !(cfg_keys[i].flags & CFG_REQUIRED))
			apply_default(ctx, &cfg_keys[i], base);
}

/* Parse mapping <map> as section <sec> into <base>: unknown and repeated keys are errors,
 * missing keys take their defaults or, when required, are errors at the mapping's line. */
void cfg_parse_mapping(struct cfg_ctx *ctx, yaml_node_t *map, enum cfg_section sec, char *base)
{
	bool seen[cfg_n_keys];

	memset(seen, 0, sizeof(seen));

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
		p++) {
		yaml_node_t *kn = yaml_document_get_node(ctx->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ctx->doc, p->value);
		const struct cfg_key *k = NULL;
		const char *name;
		size_t i;

		if (kn->type != YAML_SCALAR_NODE) {
			cfg_msg_add(ctx, false, cfg_node_line(kn), "expected a key name, got %s",
				node_type_name(kn));
			continue;
		}
		name = (const char *)kn->data.scalar.value;
		for (i = 0; i < cfg_n_keys; i++)
			if (cfg_keys[i].sec == sec && !strcmp(cfg_keys[i].name, name)) {
				k = &cfg_keys[i];
				break;
			}
		if (!k) {
			char known[512];
			size_t n = 0;

			known[0] = '\0';
			for (size_t j = 0; j < cfg_n_keys && n < sizeof(known); j++)
				if (cfg_keys[j].sec == sec)
					n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
						n ? ", " : "", cfg_keys[j].name);
			cfg_msg_add(ctx, false, cfg_node_line(kn),
				"'%s%s': unknown key (known here: %s)", sections[sec].prefix, name,
				known);
			continue;
		}
		if (seen[i]) {
			cfg_msg_add(ctx, false, cfg_node_line(kn), "'%s%s': given twice",
				sections[sec].prefix, name);
			continue;
		}
		seen[i] = true;
		parse_value(ctx, k, vn, base);
	}
	for (size_t i = 0; i < cfg_n_keys; i++) {
		if (cfg_keys[i].sec != sec || seen[i])
			continue;
		if (cfg_keys[i].flags & CFG_REQUIRED)
			cfg_msg_add(ctx, false, cfg_node_line(map), "'%s%s': required, missing",
				sections[sec].prefix, cfg_keys[i].name);
		else
			apply_default(ctx, &cfg_keys[i], base);
	}
}

/* Release what section <sec> at <base> owns, list items included. */
void cfg_free_section(enum cfg_section sec, char *base)
{
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		if (k->sec == sec && cfg_types[k->type].free)
			cfg_types[k->type].free(k, base);
	}
}

/* Print the keys of section <sec> at <base>; <first_dash> starts a list item. */
void cfg_dump_section(FILE *f, enum cfg_section sec, const char *base, int indent, bool first_dash)
{
	bool first = true;

	for (size_t i = 0; i < cfg_n_keys; i++) {
		if (cfg_keys[i].sec != sec)
			continue;
		if (first && first_dash) {
			fprintf(f, "%*s- ", indent, "");
			/* the dump indents; the dash already took those columns. */
			FILE *tmp = f;
			char *line = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&line, &len);

			if (!m)
				return;
			cfg_types[cfg_keys[i].type].dump(m, &cfg_keys[i], base, indent + 2);
			fclose(m);
			fputs(line + indent + 2, tmp);
			free(line);
		} else {
			cfg_types[cfg_keys[i].type].dump(
				f, &cfg_keys[i], base, first_dash ? indent + 2 : indent);
		}
		first = false;
	}
}
