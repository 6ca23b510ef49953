// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: parsing the l4: configuration section with libyaml. No BPF here, so
 * the unit tests link it alone; applying is in l4apply.c. */
#include "userspace/ctrl/l4cfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev/maglev.h"

struct pctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 3, 4))) static int perr(
	struct pctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	snprintf(x->err, x->err_len, "%s:%lu: ", x->file,
		n ? (unsigned long)n->start_mark.line + 1 : 0);
	len = strlen(x->err);
	va_start(ap, fmt);
	vsnprintf(x->err + len, x->err_len - len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static unsigned int line_of(const yaml_node_t *n)
{
	return (unsigned int)n->start_mark.line + 1;
}

static const char *kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* The text of scalar <n> for key <key>, or NULL with the error set. */
static const char *scalar(struct pctx *x, const char *key, const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE) {
		perr(x, n, "'%s': expected a value, got %s", key, kind_name(n));
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* Iterate over the pairs of mapping <m>: checks that it is a mapping and has no key twice. */
static int check_mapping(struct pctx *x, const char *what, yaml_node_t *m)
{
	yaml_node_pair_t *p, *q;
	yaml_node_t *k, *k2;

	if (m->type != YAML_MAPPING_NODE)
		return perr(x, m, "'%s': expected a mapping, got %s", what, kind_name(m));
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(x->doc, p->key);
		if (!k || k->type != YAML_SCALAR_NODE)
			return perr(x, k ? k : m, "'%s': keys must be plain words", what);
		for (q = m->data.mapping.pairs.start; q < p; q++) {
			k2 = yaml_document_get_node(x->doc, q->key);
			if (!strcmp((char *)k->data.scalar.value, (char *)k2->data.scalar.value))
				return perr(
					x, k, "'%s': given twice", (char *)k->data.scalar.value);
		}
	}
	return 0;
}

#define FOR_PAIRS(x, m, p, key, val)                                            \
	for (p = (m)->data.mapping.pairs.start;                                 \
		p < (m)->data.mapping.pairs.top &&                              \
		((key = (const char *)yaml_document_get_node((x)->doc, p->key)  \
				 ->data.scalar.value),                          \
			(val = yaml_document_get_node((x)->doc, p->value)), 1); \
		p++)

static int parse_u32(struct pctx *x, const char *key, yaml_node_t *n, unsigned long min,
	unsigned long max, __u32 *out)
{
	const char *s = scalar(x, key, n);
	unsigned long v;
	char *end;

	if (!s)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || *s == '+' || v < min || v > max)
		return perr(x, n, "'%s': expected a number from %lu to %lu, got '%s'", key, min,
			max, s);
	*out = (__u32)v;
	return 0;
}

static int parse_name(struct pctx *x, const char *key, yaml_node_t *n, const char *const *names,
	const char *expect, __u8 *out)
{
	const char *s = scalar(x, key, n);
	int i;

	if (!s)
		return -EINVAL;
	for (i = 0; names[i]; i++) {
		if (!strcmp(names[i], s)) {
			*out = (__u8)i;
			return 0;
		}
	}
	return perr(x, n, "'%s': expected %s, got '%s'", key, expect, s);
}

static int parse_mac(struct pctx *x, const char *key, yaml_node_t *n, __u8 *mac)
{
	const char *s = scalar(x, key, n);
	unsigned int b[6];
	char tail;
	int i;

	if (!s)
		return -EINVAL;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		    &tail) != 6 ||
		strlen(s) != 17)
		return perr(
			x, n, "'%s': expected a MAC address aa:bb:cc:dd:ee:ff, got '%s'", key, s);
	for (i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	return 0;
}

/* An outer source "ADDR" or "ADDR/PLEN" (ctrl_parse_src_prefix). */
static int parse_src(
	struct pctx *x, const char *key, yaml_node_t *n, int af, union lb_addr *a, __u8 *plen)
{
	const char *s = scalar(x, key, n);
	char msg[160];
	int err;

	if (!s)
		return -EINVAL;
	err = ctrl_parse_src_prefix(s, af, a, plen, msg, sizeof(msg));
	if (err == -EINVAL)
		return perr(x, n, "'%s': expected an %s address, got '%s'", key,
			af == AF_INET ? "IPv4" : "IPv6", s);
	if (err)
		return perr(x, n, "'%s': %s", key, msg);
	return 0;
}

static int parse_node(struct pctx *x, yaml_node_t *m, struct ctrl_l4cfg *cfg)
{
	struct lb_node *n = &cfg->node;
	yaml_node_pair_t *p;
	const char *key, *s;
	yaml_node_t *v;
	__u32 u;
	int err;

	err = check_mapping(x, "node", m);
	if (err)
		return err;
	cfg->has_node = true;
	cfg->node_line = line_of(m);
	memset(n, 0, sizeof(*n));
	FOR_PAIRS(x, m, p, key, v)
	{
		if (!strcmp(key, "src4")) {
			err = parse_src(x, key, v, AF_INET, &n->src4, &n->src4_plen);
		} else if (!strcmp(key, "src6")) {
			err = parse_src(x, key, v, AF_INET6, &n->src6, &n->src6_plen);
		} else if (!strcmp(key, "gateway_mac")) {
			s = scalar(x, key, v);
			if (!s)
				return -EINVAL;
			if (strcmp(s, "fib")) {
				err = parse_mac(x, key, v, n->gw_mac);
				n->flags |= LB_NODE_F_GW_MAC;
			}
		} else if (!strcmp(key, "src_mac")) {
			err = parse_mac(x, key, v, n->src_mac);
		} else if (!strcmp(key, "egress")) {
			s = scalar(x, key, v);
			if (!s)
				return -EINVAL;
			if (!*s || strlen(s) >= IF_NAMESIZE || strchr(s, '/') || strchr(s, ' '))
				return perr(
					x, v, "'%s': expected an interface name, got '%s'", key, s);
			if (strcmp(s, "none"))
				strcpy(cfg->egress, s);
		} else if (!strcmp(key, "mtu")) {
			err = parse_u32(x, key, v, 68, 65535, &n->mtu);
		} else if (!strcmp(key, "gue_port")) {
			err = parse_u32(x, key, v, 1, 65535, &u);
			n->gue_port = htons((__u16)u);
		} else if (!strcmp(key, "seed")) {
			err = parse_u32(x, key, v, 0, UINT32_MAX, &n->hash_seed);
		} else if (!strcmp(key, "udp_timeout")) {
			err = parse_u32(x, key, v, 1, 86400, &n->udp_timeout);
		} else if (!strcmp(key, "flow_rate")) {
			s = scalar(x, key, v);
			if (!s)
				return -EINVAL;
			if (!strcmp(s, "off"))
				n->flow_rate = LB_FLOW_RATE_OFF;
			else
				err = parse_u32(x, key, v, 1, LB_FLOW_RATE_OFF - 1, &n->flow_rate);
		} else {
			return perr(x, yaml_document_get_node(x->doc, p->key),
				"'%s': unknown key in node (src4, src6, gateway_mac, src_mac, "
				"egress, mtu, gue_port, seed, udp_timeout, flow_rate)",
				key);
		}
		if (err)
			return err;
	}
	return 0;
}

static const char *const mode_names[] = {[LB_MODE_L4] = "l4", [LB_MODE_L7] = "l7", NULL};
static const char *const algo_names[] = {
	[LB_ALGO_MAGLEV] = "maglev", [LB_ALGO_KETAMA] = "ketama", NULL};
static const char *const fwd_names[] = {
	[LB_FWD_IPIP] = "ipip", [LB_FWD_GUE] = "gue", [LB_FWD_L2] = "l2", NULL};
static const char *const state_names[] = {[LB_BE_FREE] = "-",
	[LB_BE_UP] = "up",
	[LB_BE_DRAIN] = "drain",
	[LB_BE_DOWN] = "down",
	NULL};
static const char *const hash_names[] = {"5tuple", "src", NULL};
static const char *const proto_names[] = {"tcp", "udp", NULL};

static int parse_backend(struct pctx *x, yaml_node_t *m, const struct ctrl_l4cfg_service *s,
	struct ctrl_l4cfg_backend *cb)
{
	struct lb_backend *b = &cb->be;
	yaml_node_t *v, *addr = NULL;
	yaml_node_pair_t *p;
	const char *key, *t;
	char why[128];
	__u16 port;
	__u8 proto;
	int err;

	err = check_mapping(x, "backends", m);
	if (err)
		return err;
	memset(cb, 0, sizeof(*cb));
	cb->line = line_of(m);
	b->weight = 1;
	b->state = LB_BE_UP;
	FOR_PAIRS(x, m, p, key, v)
	{
		if (!strcmp(key, "address")) {
			t = scalar(x, key, v);
			if (!t)
				return -EINVAL;
			if (strchr(t, '/') || ctrl_parse_endpoint(t, false, &b->family, &b->addr,
						      &port, &proto, why, sizeof(why)))
				return perr(
					x, v, "'address': expected ADDR or ADDR:PORT, got '%s'", t);
			b->port = htons(port);
			addr = v;
		} else if (!strcmp(key, "weight")) {
			err = parse_u32(x, key, v, 0, 65535, &b->weight);
		} else if (!strcmp(key, "state")) {
			err = parse_name(x, key, v, state_names, "up, drain or down", &b->state);
			if (!err && b->state == LB_BE_FREE)
				err = perr(x, v, "'state': expected up, drain or down, got '-'");
		} else if (!strcmp(key, "mac")) {
			err = parse_mac(x, key, v, b->mac);
		} else {
			return perr(x, yaml_document_get_node(x->doc, p->key),
				"'%s': unknown key in a backend (address, weight, state, mac)",
				key);
		}
		if (err)
			return err;
	}
	if (!addr)
		return perr(x, m, "'address': missing in a backend");
	/* As ctrl_be_add(): no IPv6-in-IPv4. */
	if (s->key.family == LB_AF_INET6 && b->family == LB_AF_INET && s->conf.fwd != LB_FWD_L2)
		return perr(x, addr, "'address': an IPv6 service needs IPv6 backends (or fwd: l2)");
	return 0;
}

static int parse_service(struct pctx *x, yaml_node_t *m, struct ctrl_l4cfg_service *s)
{
	yaml_node_t *v, *addr = NULL, *proto = NULL, *bes = NULL, *syn = NULL, *burst = NULL;
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	const char *key, *t;
	char why[128];
	__u16 port;
	__u8 pr, h = 0;
	size_t i, j;
	int err;

	err = check_mapping(x, "services", m);
	if (err)
		return err;
	s->line = line_of(m);
	FOR_PAIRS(x, m, p, key, v)
	{
		if (!strcmp(key, "address")) {
			t = scalar(x, key, v);
			if (!t)
				return -EINVAL;
			if (ctrl_parse_endpoint(t, true, &s->key.family, &s->key.addr, &port,
				    &s->key.proto, why, sizeof(why)))
				return perr(x, v, "'address': expected VIP:PORT, got '%s' (%s)", t,
					why);
			s->key.port = htons(port);
			addr = v;
		} else if (!strcmp(key, "proto")) {
			err = parse_name(x, key, v, proto_names, "tcp or udp", &pr);
			proto = v;
		} else if (!strcmp(key, "mode")) {
			err = parse_name(x, key, v, mode_names, "l4 or l7", &s->conf.mode);
		} else if (!strcmp(key, "algo")) {
			err = parse_name(x, key, v, algo_names, "maglev or ketama", &s->conf.algo);
		} else if (!strcmp(key, "fwd")) {
			err = parse_name(x, key, v, fwd_names, "ipip, gue or l2", &s->conf.fwd);
		} else if (!strcmp(key, "hash")) {
			err = parse_name(x, key, v, hash_names, "5tuple or src", &h);
		} else if (!strcmp(key, "table_size")) {
			err = parse_u32(
				x, key, v, MAGLEV_MIN_SIZE, LB_MAX_TABLE_SIZE, &s->conf.table_size);
			if (!err && !maglev_is_prime(s->conf.table_size))
				err = perr(x, v, "'table_size': expected a prime, got '%u'",
					s->conf.table_size);
		} else if (!strcmp(key, "syn_rate")) {
			t = scalar(x, key, v);
			if (t && !strcmp(t, "off"))
				s->syn.rate = 0;
			else
				err = parse_u32(x, key, v, 1, LB_SRC_RATE_MAX, &s->syn.rate);
			syn = v;
		} else if (!strcmp(key, "syn_burst")) {
			err = parse_u32(x, key, v, 0, LB_SRC_BURST_MAX, &s->syn.burst);
			burst = v;
		} else if (!strcmp(key, "backends")) {
			if (v->type != YAML_SEQUENCE_NODE)
				return perr(
					x, v, "'backends': expected a list, got %s", kind_name(v));
			bes = v;
		} else {
			return perr(x, yaml_document_get_node(x->doc, p->key),
				"'%s': unknown key in a service (address, proto, mode, algo, fwd, "
				"hash, table_size, syn_rate, syn_burst, backends)",
				key);
		}
		if (err)
			return err;
	}
	if (!addr)
		return perr(x, m, "'address': missing in a service");
	if (burst && !s->syn.rate)
		return perr(x, burst, "'syn_burst': needs a syn_rate (the guard is %s)",
			syn ? "off" : "off without one");
	if (proto) {
		__u8 want = pr ? IPPROTO_UDP : IPPROTO_TCP;

		if (strchr((char *)addr->data.scalar.value, '/') && want != s->key.proto)
			return perr(x, proto, "'proto': '%s' contradicts the address",
				(char *)proto->data.scalar.value);
		s->key.proto = want;
	}
	if (h)
		s->conf.flags |= LB_SVC_F_HASH_SRC;
	if (!s->conf.table_size)
		s->conf.table_size = LB_DEFAULT_TABLE_SIZE;
	if (!bes)
		return 0;
	s->n_backends = (size_t)(bes->data.sequence.items.top - bes->data.sequence.items.start);
	if (s->n_backends > LB_MAX_REALS)
		return perr(x, bes, "'backends': more than %d", LB_MAX_REALS);
	s->backends = calloc(s->n_backends ? s->n_backends : 1, sizeof(*s->backends));
	if (!s->backends) {
		snprintf(x->err, x->err_len, "%s: %s", x->file, strerror(ENOMEM));
		return -ENOMEM;
	}
	for (i = 0, it = bes->data.sequence.items.start; it < bes->data.sequence.items.top;
		it++, i++) {
		v = yaml_document_get_node(x->doc, *it);
		err = parse_backend(x, v, s, &s->backends[i]);
		if (err)
			return err;
		for (j = 0; j < i; j++) {
			const struct lb_backend *a = &s->backends[j].be, *b = &s->backends[i].be;

			if (a->family == b->family && !memcmp(&a->addr, &b->addr, sizeof(a->addr)))
				return perr(x, v,
					"'address': backend given twice in this service "
					"(first at line %u)",
					s->backends[j].line);
		}
	}
	return 0;
}

void ctrl_l4cfg_free(struct ctrl_l4cfg *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_services; i++)
		free(cfg->services[i].backends);
	free(cfg->services);
	memset(cfg, 0, sizeof(*cfg));
}

int ctrl_l4cfg_parse_node(yaml_document_t *doc, yaml_node_t *l4, const char *file,
	struct ctrl_l4cfg *cfg, char *err, size_t err_len)
{
	struct pctx x = {.doc = doc, .file = file, .err = err, .err_len = err_len};
	yaml_node_t *v, *svcs = NULL;
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	const char *key;
	size_t i, j, total = 0;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	r = check_mapping(&x, "l4", l4);
	if (r)
		return r;
	FOR_PAIRS(&x, l4, p, key, v)
	{
		if (!strcmp(key, "node")) {
			r = parse_node(&x, v, cfg);
			if (r)
				return r;
		} else if (!strcmp(key, "services")) {
			if (v->type != YAML_SEQUENCE_NODE)
				return perr(
					&x, v, "'services': expected a list, got %s", kind_name(v));
			svcs = v;
		} else {
			return perr(&x, yaml_document_get_node(doc, p->key),
				"'%s': unknown key in l4 (node, services)", key);
		}
	}
	if (!svcs)
		return 0;
	cfg->n_services = (size_t)(svcs->data.sequence.items.top - svcs->data.sequence.items.start);
	if (cfg->n_services > LB_MAX_VIPS)
		return perr(&x, svcs, "'services': more than %d", LB_MAX_VIPS);
	cfg->services = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*cfg->services));
	if (!cfg->services) {
		cfg->n_services = 0;
		snprintf(err, err_len, "%s: %s", file, strerror(ENOMEM));
		return -ENOMEM;
	}
	for (i = 0, it = svcs->data.sequence.items.start; it < svcs->data.sequence.items.top;
		it++, i++) {
		v = yaml_document_get_node(doc, *it);
		r = parse_service(&x, v, &cfg->services[i]);
		if (r)
			return r;
		total += cfg->services[i].n_backends;
		if (total > LB_MAX_REALS)
			return perr(
				&x, v, "'backends': more than %d over all services", LB_MAX_REALS);
		for (j = 0; j < i; j++)
			if (!memcmp(&cfg->services[j].key, &cfg->services[i].key,
				    sizeof(struct lb_svc_key)))
				return perr(&x, v,
					"'address': service given twice (first at line %u)",
					cfg->services[j].line);
	}
	return 0;
}

int ctrl_l4cfg_parse_file(const char *path, struct ctrl_l4cfg *cfg, char *err, size_t err_len)
{
	yaml_node_t *root, *k, *l4 = NULL;
	yaml_node_pair_t *p;
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	f = fopen(path, "r");
	if (!f) {
		r = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(-r));
		return r;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		snprintf(err, err_len, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, err_len, "%s:%lu: %s%s%s", path,
			(unsigned long)parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "invalid YAML", parser.context ? " " : "",
			parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
			k = yaml_document_get_node(&doc, p->key);
			if (k->type == YAML_SCALAR_NODE &&
				!strcmp((char *)k->data.scalar.value, "l4"))
				l4 = yaml_document_get_node(&doc, p->value);
		}
	}
	if (!l4) {
		snprintf(err, err_len, "%s:%lu: expected a mapping with an 'l4' key", path,
			root ? (unsigned long)root->start_mark.line + 1 : 1UL);
		r = -EINVAL;
	} else {
		r = ctrl_l4cfg_parse_node(&doc, l4, path, cfg, err, err_len);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return r;
}
