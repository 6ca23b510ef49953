// SPDX-License-Identifier: GPL-2.0
/* pingd's configuration: one table of keys (cfg_keys[], keys.c) and one of value types
 * (cfg_types[], types.c) drive YAML parsing through libyaml, defaults, bounds,
 * cross-reference validation, name resolution, --dump-config and the docs reference. */
#include "userspace/cfg/cfg.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "userspace/cache/cache-t.h"
#include "userspace/cfg/health_params.h"
#include "userspace/cfg/keys.h"
#include "userspace/cfg/scalar.h"
#include "userspace/ctrl/l4cfg.h"
#include "userspace/http/h1.h"
#include "userspace/lib/addr.h"
#include "userspace/lib/log.h"

#define CFG_HOST_MAX 255

void cfg_msgs_free(struct cfg_msgs *m)
{
	free(m->text);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ validation */

/* "*", "*.domain" or a plain host name of letters, digits, "-", "_" and ".". */
static bool valid_host_pattern(const char *h)
{
	size_t len = strlen(h);

	if (!strcmp(h, "*"))
		return true;
	if (!len || len > CFG_HOST_MAX)
		return false;
	if (!strncmp(h, "*.", 2))
		h += 2;
	if (!*h)
		return false;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.' && *h != '_')
			return false;
	return true;
}

/* A CONNECT allow-list entry: "HOST:PORT" with HOST a host pattern (a name, "*.domain", "*"),
 * an IPv4 address or a bracketed IPv6 one, and PORT 1..65535 or "*". */
static bool valid_connect_pattern(const char *p)
{
	const char *colon = strrchr(p, ':');
	char host[CFG_HOST_MAX + 3], *end;
	size_t hl;
	unsigned long port;

	if (!colon || colon == p)
		return false;
	hl = (size_t)(colon - p);
	if (hl >= sizeof(host))
		return false;
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (host[0] == '[') {
		struct in6_addr a6;

		if (hl < 3 || host[hl - 1] != ']')
			return false;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6) != 1)
			return false;
	} else if (!valid_host_pattern(host)) {
		return false;
	}
	if (!strcmp(colon + 1, "*"))
		return true;
	if (!isdigit((unsigned char)colon[1]))
		return false;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	return !errno && !*end && port >= 1 && port <= 65535;
}

static bool addr_equal(const struct cfg_addr *a, const struct cfg_addr *b)
{
	return a->len == b->len && !memcmp(&a->ss, &b->ss, a->len);
}

/* Whether two items of a list are the same thing defined twice. */
typedef bool (*cfg_same_fn)(const void *a, const void *b);
/* Report <item> as a repeat of <earlier>. */
typedef void (*cfg_repeat_fn)(
	struct cfg_ctx *ctx, const void *item, const void *earlier, const char *where);

/* The one "defined twice" check: call <report> for item <i> of <arr> (items of <size> bytes)
 * and each item before it that <same> matches, or only the first of them when <first_only>;
 * <where> (may be NULL) names the list's owner in the message. */
static void check_repeats(struct cfg_ctx *ctx, const void *arr, size_t size, size_t i,
	cfg_same_fn same, cfg_repeat_fn report, bool first_only, const char *where)
{
	const char *item = (const char *)arr + i * size;

	for (size_t j = 0; j < i; j++) {
		const char *earlier = (const char *)arr + j * size;

		if (!same(item, earlier))
			continue;
		report(ctx, item, earlier, where);
		if (first_only)
			return;
	}
}

static bool same_upstream_name(const void *a, const void *b)
{
	const struct cfg_upstream *x = a, *y = b;

	return x->name && y->name && !strcmp(x->name, y->name);
}

static void upstream_repeat(
	struct cfg_ctx *ctx, const void *item, const void *earlier, const char *where)
{
	const struct cfg_upstream *u = item;

	cfg_msg_add(ctx, false, u->line, "'upstreams[].name': '%s' defined twice", u->name);
}

static bool same_server_addr(const void *a, const void *b)
{
	const struct cfg_server *x = a, *y = b;

	return x->address.len && addr_equal(&x->address, &y->address);
}

/* <where> is the pool's name. */
static void server_repeat(
	struct cfg_ctx *ctx, const void *item, const void *earlier, const char *where)
{
	const struct cfg_server *a = item, *b = earlier;

	if (!*a->name && !*b->name)
		cfg_msg_add(ctx, false, a->line,
			"'upstreams[].servers[].address': '%s' listed twice in '%s'",
			a->address.text, where);
	else
		cfg_msg_add(ctx, false, a->line,
			"'upstreams[].servers[].address': '%s' (%s%s) listed twice in '%s': also from line %d (%s%s)",
			a->address.text, *a->name ? "from " : "", *a->name ? a->name : "written so",
			where, b->line, *b->name ? "from " : "",
			*b->name ? b->name : "written so");
}

static bool same_vhost_name(const void *a, const void *b)
{
	const struct cfg_vhost *x = a, *y = b;

	return x->name && y->name && !strcmp(x->name, y->name);
}

static void vhost_repeat(
	struct cfg_ctx *ctx, const void *item, const void *earlier, const char *where)
{
	const struct cfg_vhost *v = item;

	cfg_msg_add(ctx, false, v->line, "'virtual_hosts[].name': '%s' defined twice", v->name);
}

static bool same_listener_addr(const void *a, const void *b)
{
	const struct cfg_listener *x = a, *y = b;

	return x->address.len && addr_equal(&x->address, &y->address);
}

static void listener_repeat(
	struct cfg_ctx *ctx, const void *item, const void *earlier, const char *where)
{
	const struct cfg_listener *l = item;

	cfg_msg_add(ctx, false, l->line, "'listeners[].address': '%s' listed twice", l->address.text);
}

bool cfg_health_params(const struct cfg_health *h, struct health_params *out)
{
	health_params_default(out);
	if (h->check == CFG_HC_OFF)
		return false;
	out->kind = h->check == CFG_HC_HTTP ? HEALTH_HTTP : HEALTH_TCP;
	out->interval_ms = h->interval_ms;
	out->timeout_ms = h->timeout_ms;
	out->rise = h->rise;
	out->fall = h->fall;
	out->jitter_pct = h->jitter;
	out->method = h->method;
	out->path = h->path;
	out->host = h->host && *h->host ? h->host : NULL;
	out->status_min = h->status_min;
	out->status_max = h->status_max;
	return true;
}

/* caches[]: unique names, an object size that fits a shard, readable PURGE prefixes. */
static void validate_caches(struct cfg_ctx *ctx, const struct cfg *c)
{
	for (size_t i = 0; i < c->n_caches; i++) {
		const struct cfg_cache *k = &c->caches[i];
		uint64_t share = k->shards ? k->size / k->shards : 0;

		for (size_t j = 0; j < i; j++)
			if (k->name && c->caches[j].name && !strcmp(k->name, c->caches[j].name))
				cfg_msg_add(ctx, false, k->line,
					"'caches[].name': '%s' already defined at line %d", k->name,
					c->caches[j].line);
		if (share <= CACHE_ENTRY_OVERHEAD + 1024 ||
			k->max_object_size > share - CACHE_ENTRY_OVERHEAD)
			cfg_msg_add(ctx, false, k->line,
				"'caches[].max_object_size': %llu bytes does not fit in a shard of "
				"'%s' (size / shards = %llu bytes, less %u per entry)",
				(unsigned long long)k->max_object_size, k->name ? k->name : "",
				(unsigned long long)share, CACHE_ENTRY_OVERHEAD);
		for (size_t n = 0; n < k->purge_allow.n; n++) {
			uint8_t a[16];
			unsigned int len;
			int fam;

			if (cfg_parse_prefix(k->purge_allow.v[n], &fam, a, &len) < 0)
				cfg_msg_add(ctx, false, k->line,
					"'caches[].purge_allow': expected ADDR or ADDR/LEN, got '%s'",
					k->purge_allow.v[n]);
		}
	}
}

/* Checks that span keys: unique names and addresses, hosts served once, routes naming
 * existing upstreams (resolving upstream_idx), listeners naming existing virtual hosts. */
static void validate(struct cfg_ctx *ctx, struct cfg *c)
{
	struct cfg_addr tmp;
	bool steer = false; /* some listener takes steered connections */

	if (c->admin.address && *c->admin.address && cfg_parse_addr(c->admin.address, &tmp) < 0)
		cfg_msg_add(ctx, false, 0,
			"'admin.address': expected IPv4:PORT or [IPv6]:PORT, got '%s'%s",
			c->admin.address,
			cfg_looks_like_name(c->admin.address) ?
				": the admin listener binds an IP address; host names are not "
				"resolved here" :
				"");
	for (size_t i = 0; i < c->n_upstreams; i++) {
		struct cfg_upstream *u = &c->upstreams[i];
		struct health_params hp;
		char why[128];

		if (cfg_health_params(&u->health, &hp) && health_params_check(&hp, why, sizeof(why)))
			cfg_msg_add(ctx, false, u->line, "'upstreams[].health': %s", why);

		for (size_t s = 0; s < u->n_servers; s++) {
			if (u->protocol == CFG_PROTO_H2 && !u->servers[s].tls)
				cfg_msg_add(ctx, false, u->line,
					"'upstreams[].protocol': h2 is HTTP/2 over TLS: server '%s' "
					"must be written https:// (h2c is HTTP/2 in clear text)",
					u->servers[s].address.text);
			else if (u->protocol == CFG_PROTO_H2C && u->servers[s].tls)
				cfg_msg_add(ctx, false, u->line,
					"'upstreams[].protocol': h2c is HTTP/2 in clear text: server "
					"'https://%s' needs protocol h2",
					u->servers[s].address.text);
		}
		check_repeats(ctx, c->upstreams, sizeof(*u), i, same_upstream_name,
			upstream_repeat, false, NULL);
		for (size_t s = 0; s < u->n_servers; s++) {
			const struct cfg_server *srv = &u->servers[s];

			check_repeats(ctx, u->servers, sizeof(*u->servers), s, same_server_addr,
				server_repeat, true, u->name ? u->name : "");
			if (!srv->tls && (srv->sni || srv->verify_hostname))
				cfg_msg_add(ctx, false, srv->line,
					"'upstreams[].servers[].%s': only for servers written https://",
					srv->sni ? "sni" : "verify_hostname");
		}
	}
	for (size_t i = 0; i < c->n_vhosts; i++) {
		struct cfg_vhost *v = &c->vhosts[i];

		check_repeats(
			ctx, c->vhosts, sizeof(*v), i, same_vhost_name, vhost_repeat, false, NULL);
		for (size_t h = 0; h < v->hosts.n; h++) {
			if (!valid_host_pattern(v->hosts.v[h]))
				cfg_msg_add(ctx, false, v->line,
					"'virtual_hosts[].hosts': expected a host name, *.domain or *, got '%s'",
					v->hosts.v[h]);
			for (size_t j = 0; j <= i; j++)
				for (size_t g = 0; g < (j == i ? h : c->vhosts[j].hosts.n); g++)
					if (!strcasecmp(v->hosts.v[h], c->vhosts[j].hosts.v[g]))
						cfg_msg_add(ctx, false, v->line,
							"'virtual_hosts[].hosts': '%s' already served by '%s'",
							v->hosts.v[h],
							c->vhosts[j].name ? c->vhosts[j].name : "");
		}
		for (size_t r = 0; r < v->n_routes; r++) {
			struct cfg_route *rt = &v->routes[r];

			rt->upstream_idx = -1;
			if (rt->path && rt->path[0] != '/')
				cfg_msg_add(ctx, false, rt->line,
					"'virtual_hosts[].routes[].path': expected a path starting with /, got '%s'",
					rt->path);
			if (rt->host && !valid_host_pattern(rt->host))
				cfg_msg_add(ctx, false, rt->line,
					"'virtual_hosts[].routes[].host': expected a host name, got '%s'",
					rt->host);
			for (size_t k = 0; k < rt->methods.n; k++)
				if (!h1_is_token(rt->methods.v[k]))
					cfg_msg_add(ctx, false, rt->line,
						"'virtual_hosts[].routes[].methods': expected a method token, got '%s'",
						rt->methods.v[k]);
			rt->cache_idx = -1;
			for (size_t k = 0; rt->cache && *rt->cache && k < c->n_caches; k++)
				if (c->caches[k].name && !strcmp(c->caches[k].name, rt->cache))
					rt->cache_idx = (int)k;
			if (rt->cache && *rt->cache && rt->cache_idx < 0)
				cfg_msg_add(ctx, false, rt->line,
					"'virtual_hosts[].routes[].cache': no cache named '%s'",
					rt->cache);
			for (size_t k = 0; k < rt->upgrade.n; k++)
				if (strcmp(rt->upgrade.v[k], "*") && !h1_is_token(rt->upgrade.v[k]))
					cfg_msg_add(ctx, false, rt->line,
						"'virtual_hosts[].routes[].upgrade': expected a protocol token or *, got '%s'",
						rt->upgrade.v[k]);
			for (size_t k = 0; k < rt->connect.n; k++)
				if (!valid_connect_pattern(rt->connect.v[k]))
					cfg_msg_add(ctx, false, rt->line,
						"'virtual_hosts[].routes[].connect': expected HOST:PORT (HOST a name, IP, *.domain or *; PORT a number or *), got '%s'",
						rt->connect.v[k]);
			if (!rt->upstream)
				continue;
			for (size_t u = 0; u < c->n_upstreams; u++)
				if (c->upstreams[u].name &&
					!strcmp(c->upstreams[u].name, rt->upstream))
					rt->upstream_idx = (int)u;
			if (rt->upstream_idx < 0)
				cfg_msg_add(ctx, false, rt->line,
					"'virtual_hosts[].routes[].upstream': no upstream named '%s'",
					rt->upstream);
		}
	}
	validate_caches(ctx, c);
	for (size_t i = 0; i < c->n_listeners; i++) {
		struct cfg_listener *l = &c->listeners[i];

		check_repeats(ctx, c->listeners, sizeof(*l), i, same_listener_addr, listener_repeat,
			false, NULL);
		for (size_t j = 0; l->steer && j < i; j++) {
			const struct cfg_listener *o = &c->listeners[j];

			if (o->steer && o->address.ss.ss_family == l->address.ss.ss_family)
				cfg_msg_add(ctx, false, l->line,
					"'listeners[].steer': '%s' and '%s' both steer IPv%c; one may",
					o->address.text, l->address.text,
					l->address.ss.ss_family == AF_INET6 ? '6' : '4');
		}
		steer |= l->steer;
		for (size_t n = 0; n < l->tls.protocols.n; n++)
			if (strcmp(l->tls.protocols.v[n], "TLSv1.2") &&
				strcmp(l->tls.protocols.v[n], "TLSv1.3"))
				cfg_msg_add(ctx, false, l->line,
					"'listeners[].tls.protocols': expected TLSv1.2 or TLSv1.3, got '%s'",
					l->tls.protocols.v[n]);
		if (!l->tls.n_certificates && (l->tls.protocols.n || l->tls.alpn.n ||
						      (l->tls.ciphers && *l->tls.ciphers) ||
						      (l->tls.ciphersuites && *l->tls.ciphersuites)))
			cfg_msg_add(ctx, false, l->line,
				"'listeners[].tls': certificates are required with TLS options");
		for (size_t n = 0; n < l->virtual_hosts.n; n++) {
			bool found = false;

			for (size_t v = 0; v < c->n_vhosts; v++)
				if (c->vhosts[v].name &&
					!strcmp(c->vhosts[v].name, l->virtual_hosts.v[n]))
					found = true;
			if (!found)
				cfg_msg_add(ctx, false, l->line,
					"'listeners[].virtual_hosts': no virtual host named '%s'",
					l->virtual_hosts.v[n]);
		}
	}
	cfg_rate_limits_validate(ctx, c);
	/* The kernel's own tables: the announcer would add and delete routes the node forwards
	 * with (main), its local addresses or the default table. 0 is refused by the key. */
	if (c->l4_announce_table >= 253 && c->l4_announce_table <= 255)
		cfg_msg_add(ctx, false, 0,
			"'l4_announce_table': %u is the kernel's '%s' table; give the announcements "
			"a table of their own (the default is 4242)",
			c->l4_announce_table,
			c->l4_announce_table == 253 ? "default" :
			c->l4_announce_table == 254 ? "main" :
						      "local");
	if (steer && (!c->steer_pin_dir || c->steer_pin_dir[0] != '/'))
		cfg_msg_add(ctx, false, 0, "'steer_pin_dir': expected an absolute path, got '%s'",
			c->steer_pin_dir ? c->steer_pin_dir : "");
}

/* ------------------------------------------------------------------ names */

static cfg_getaddrinfo_fn resolve_fn = getaddrinfo;
static cfg_freeaddrinfo_fn resolve_free_fn = freeaddrinfo;

void cfg_set_resolver(cfg_getaddrinfo_fn getaddrinfo_fn, cfg_freeaddrinfo_fn freeaddrinfo_fn)
{
	resolve_fn = getaddrinfo_fn ? getaddrinfo_fn : getaddrinfo;
	resolve_free_fn = freeaddrinfo_fn ? freeaddrinfo_fn : freeaddrinfo;
}

/* Order of resolved addresses: IPv4 before IPv6, then address bytes, then port (and scope),
 * so that a pool's servers, and with them its ketama ring and Maglev table, do not depend on
 * the order in which DNS answered. */
static int addr_cmp(const void *x, const void *y)
{
	const struct cfg_addr *a = x, *b = y;
	int r;

	if (a->ss.ss_family != b->ss.ss_family)
		return a->ss.ss_family == AF_INET ? -1 : 1;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)&a->ss, *q = (const void *)&b->ss;

		r = memcmp(&p->sin_addr, &q->sin_addr, sizeof(p->sin_addr));
		return r ? r : (int)ntohs(p->sin_port) - (int)ntohs(q->sin_port);
	} else {
		const struct sockaddr_in6 *p = (const void *)&a->ss, *q = (const void *)&b->ss;

		r = memcmp(&p->sin6_addr, &q->sin6_addr, sizeof(p->sin6_addr));
		if (!r)
			r = (int)ntohs(p->sin6_port) - (int)ntohs(q->sin6_port);
		if (!r && p->sin6_scope_id != q->sin6_scope_id)
			r = p->sin6_scope_id < q->sin6_scope_id ? -1 : 1;
		return r;
	}
}

size_t cfg_addrs_sort_unique(struct cfg_addr *a, size_t n)
{
	size_t w = 0;

	if (!n)
		return 0;
	qsort(a, n, sizeof(*a), addr_cmp);
	for (size_t i = 1; i < n; i++)
		if (addr_cmp(&a[w], &a[i]))
			a[++w] = a[i];
	return w + 1;
}

/* Whether host <h> (<len> bytes) is in the special-use domain "invalid." (RFC 6761 6.4), which
 * resolvers should refuse without asking anyone: so it is, here. */
static bool is_invalid_tld(const char *h, size_t len)
{
	if (len && h[len - 1] == '.')
		len--;
	return (len == 7 && !strncasecmp(h, "invalid", 7)) ||
	       (len > 8 && !strncasecmp(h + len - 8, ".invalid", 8));
}

/* Fill <a> from socket address <sa> (AF_INET or AF_INET6, <salen> bytes), with its text in
 * the config's numeric form ("10.0.0.1:80", "[2001:db8::1]:80"). Returns 0 or -EAFNOSUPPORT. */
static int addr_from_sockaddr(struct cfg_addr *a, const struct sockaddr *sa, socklen_t salen)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		memcpy(&a->ss, sa, sizeof(struct sockaddr_in));
		a->len = sizeof(struct sockaddr_in);
	} else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		memcpy(&a->ss, sa, sizeof(struct sockaddr_in6));
		/* not part of the server's identity */
		((struct sockaddr_in6 *)&a->ss)->sin6_flowinfo = 0;
		a->len = sizeof(struct sockaddr_in6);
	} else {
		return -EAFNOSUPPORT;
	}
	return addr_sockaddr_text((const struct sockaddr *)&a->ss, true, a->text, sizeof(a->text));
}

/* Resolve "NAME:PORT" <written> (checked by check_name_port()) to its TCP addresses, sorted,
 * without duplicates. Returns 0 with *<out> (<n> items, the caller frees it), or a negative
 * errno with the reason in <why>. */
static int resolve_name(
	const char *written, struct cfg_addr **out, size_t *n, char *why, size_t why_size)
{
	const struct addrinfo hints = {.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV};
	const char *colon = strrchr(written, ':');
	char host[CFG_NAME_MAX];
	struct addrinfo *res = NULL;
	struct cfg_addr *a;
	size_t count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - written), written);
	if (is_invalid_tld(host, strlen(host))) {
		snprintf(why, why_size, "%s", gai_strerror(EAI_NONAME));
		return -ENOENT;
	}
	rc = resolve_fn(host, colon + 1, &hints, &res);
	if (rc) {
		int err = errno;

		snprintf(why, why_size, "%s", rc == EAI_SYSTEM ? strerror(err) : gai_strerror(rc));
		return rc == EAI_MEMORY ? -ENOMEM : rc == EAI_AGAIN ? -EAGAIN : -ENOENT;
	}
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
		count++;
	a = calloc(count + 1, sizeof(*a));
	if (!a) {
		resolve_free_fn(res);
		snprintf(why, why_size, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	count = 0;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if (ai->ai_addr && !addr_from_sockaddr(&a[count], ai->ai_addr, ai->ai_addrlen))
			count++;
	resolve_free_fn(res);
	if (!count) {
		free(a);
		snprintf(why, why_size, "no IPv4 or IPv6 address");
		return -ENOENT;
	}
	*n = cfg_addrs_sort_unique(a, count);
	*out = a;
	return 0;
}

/* Give <srv>, a struct copy of another server, copies of its TLS names. Returns false when
 * out of memory (the names it could not copy are NULL). */
static bool server_names_dup(struct cfg_server *srv)
{
	bool ok = true;

	if (srv->sni && !(srv->sni = strdup(srv->sni)))
		ok = false;
	if (srv->verify_hostname && !(srv->verify_hostname = strdup(srv->verify_hostname)))
		ok = false;
	return ok;
}

/* Resolve every server written as NAME:PORT and put one server per address in its place,
 * with the same weight, line and name. A name that does not resolve is an error at its line;
 * its server stays, without an address, so that every error of the file is still reported. */
static void resolve_servers(struct cfg_ctx *ctx, struct cfg *c)
{
	for (size_t i = 0; i < c->n_upstreams; i++) {
		struct cfg_upstream *u = &c->upstreams[i];
		struct cfg_addr **addrs = NULL;
		struct cfg_server *servers;
		size_t *counts = NULL, total = 0, k = 0, n_old = u->n_servers;
		bool named = false;

		for (size_t s = 0; s < u->n_servers; s++)
			named |= u->servers[s].name[0] != '\0';
		if (!named)
			continue;
		addrs = calloc(u->n_servers, sizeof(*addrs));
		counts = calloc(u->n_servers, sizeof(*counts));
		if (!addrs || !counts) {
			cfg_msg_add(ctx, false, u->line, "out of memory");
			goto next;
		}
		for (size_t s = 0; s < u->n_servers; s++) {
			struct cfg_server *srv = &u->servers[s];
			char why[256];
			int err;

			counts[s] = 1;
			if (!srv->name[0])
				continue;
			err = resolve_name(srv->name, &addrs[s], &counts[s], why, sizeof(why));
			if (err) {
				counts[s] = 1;
				cfg_msg_add(ctx, false, srv->line,
					"'upstreams[].servers[].address': cannot resolve '%.*s': %s",
					(int)(strrchr(srv->name, ':') - srv->name), srv->name, why);
			}
		}
		for (size_t s = 0; s < u->n_servers; s++)
			total += counts[s];
		if (total > CFG_MAX_SERVERS) {
			cfg_msg_add(ctx, false, u->line,
				"'upstreams[].servers': expected at most %u servers once names are resolved, got %zu",
				CFG_MAX_SERVERS, total);
			goto next;
		}
		servers = calloc(total, sizeof(*servers));
		if (!servers) {
			cfg_msg_add(ctx, false, u->line, "out of memory");
			goto next;
		}
		/* A server owns only its TLS names: the first copy takes them over, the others
		 * get copies of their own, and the old array goes with free(). */
		for (size_t s = 0; s < u->n_servers; s++) {
			if (!addrs[s]) {
				servers[k++] = u->servers[s];
				continue;
			}
			for (size_t j = 0; j < counts[s]; j++) {
				servers[k] = u->servers[s];
				servers[k].address = addrs[s][j];
				if (j && !server_names_dup(&servers[k]))
					cfg_msg_add(ctx, false, u->line, "out of memory");
				k++;
			}
		}
		free(u->servers);
		u->servers = servers;
		u->n_servers = total;
	next:
		for (size_t s = 0; addrs && s < n_old; s++)
			free(addrs[s]);
		free(addrs);
		free(counts);
	}
}

/* ------------------------------------------------------------------ loading */

/* Build a config from <parser>'s one document; NULL with errno EINVAL when any error was
 * reported (all of them are, not only the first). */
static struct cfg *load(const char *name, yaml_parser_t *parser, struct cfg_msgs *msgs)
{
	struct cfg_ctx ctx = {.file = name, .msgs = msgs};
	yaml_document_t doc;
	yaml_node_t *root;
	struct cfg *c;

	if (!ctx.msgs)
		ctx.msgs = &ctx.local;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->file = strdup(name);
	if (!yaml_parser_load(parser, &doc)) {
		cfg_msg_add(&ctx, false, (int)parser->problem_mark.line + 1, "YAML: %s%s%s",
			parser->problem ? parser->problem : "syntax error",
			parser->context ? " " : "", parser->context ? parser->context : "");
		goto err;
	}
	ctx.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		cfg_msg_add(&ctx, false, 0, "empty configuration");
	} else if (root->type != YAML_MAPPING_NODE) {
		cfg_msg_add(&ctx, false, cfg_node_line(root), "expected a mapping at the top, got %s",
			root->type == YAML_SCALAR_NODE ? "a scalar" : "a list");
	} else {
		cfg_parse_mapping(&ctx, root, SEC_ROOT, (char *)c);
		resolve_servers(&ctx, c);
		validate(&ctx, c);
	}
	yaml_document_delete(&doc);
	if (ctx.msgs->errors)
		goto err;
	cfg_msgs_free(&ctx.local);
	return c;
err:
	cfg_msgs_free(&ctx.local);
	cfg_free(c);
	errno = EINVAL;
	return NULL;
}

struct cfg *cfg_load_string(const char *name, const char *text, size_t len, struct cfg_msgs *msgs)
{
	yaml_parser_t parser;
	struct cfg *c;
	int err;

	if (!yaml_parser_initialize(&parser)) {
		errno = ENOMEM;
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	c = load(name, &parser, msgs);
	err = errno;
	yaml_parser_delete(&parser);
	errno = err;
	return c;
}

struct cfg *cfg_load_file(const char *path, struct cfg_msgs *msgs)
{
	yaml_parser_t parser;
	struct cfg *c;
	FILE *f;
	int err;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	yaml_parser_set_input_file(&parser, f);
	c = load(path, &parser, msgs);
	err = errno;
	yaml_parser_delete(&parser);
	fclose(f);
	errno = err;
	return c;
}

/* Write <s> to <f> as a single-quoted YAML scalar: every byte kept, "'" doubled. */
static void yaml_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (const char *p = s; *p; p++)
		fprintf(f, *p == '\'' ? "''" : "%c", *p);
	fputc('\'', f);
}

/* As yaml_quoted(), the first <n> bytes of <s>. */
static void yaml_quoted_n(FILE *f, const char *s, size_t n)
{
	fputc('\'', f);
	for (const char *p = s; p < s + n && *p; p++)
		fprintf(f, *p == '\'' ? "''" : "%c", *p);
	fputc('\'', f);
}

struct cfg *cfg_oneline(const char *listen, const char *upstreams, unsigned int workers,
	const char *const *tls, size_t n_tls, struct cfg_msgs *msgs)
{
	return cfg_oneline_ext(listen, upstreams, workers, tls, n_tls, NULL, NULL, msgs);
}

struct cfg *cfg_oneline_ext(const char *listen, const char *upstreams, unsigned int workers,
	const char *const *tls, size_t n_tls, const char *limit_rate, const char *cache_size,
	struct cfg_msgs *msgs)
{
	char *yaml = NULL, *list = NULL, *save = NULL, *tok;
	size_t size = 0;
	struct cfg *c;
	FILE *f;
	int err;

	list = strdup(upstreams);
	f = open_memstream(&yaml, &size);
	if (!list || !f) {
		free(list);
		if (f)
			fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	/* Single-quoted YAML scalars keep every byte but "'", which we double. */
	fprintf(f, "workers: %u\nlisteners:\n  - address: '", workers);
	for (const char *p = listen; *p; p++)
		fprintf(f, *p == '\'' ? "''" : "%c", *p);
	fprintf(f, "'\n");
	if (n_tls)
		fprintf(f, "    tls:\n      certificates:\n");
	for (size_t i = 0; i < n_tls; i++) {
		fprintf(f, "        - cert: ");
		yaml_quoted(f, tls[2 * i]);
		fprintf(f, "\n          key: ");
		yaml_quoted(f, tls[2 * i + 1]);
		fprintf(f, "\n");
	}
	fprintf(f, "upstreams:\n  - name: default\n    servers:\n");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		fprintf(f, "      - address: '");
		for (const char *p = tok; *p; p++)
			fprintf(f, *p == '\'' ? "''" : "%c", *p);
		fprintf(f, "'\n");
	}
	if (cache_size && *cache_size) {
		fprintf(f, "caches:\n  - name: default\n    size: ");
		yaml_quoted(f, cache_size);
		fprintf(f, "\n");
	}
	fprintf(f, "virtual_hosts:\n  - name: default\n    hosts: '*'\n"
		   "    routes:\n      - path: /\n        upstream: default\n");
	if (cache_size && *cache_size)
		fprintf(f, "        cache: default\n");
	if (limit_rate) {
		const char *colon = strchr(limit_rate, ':');
		int rl = colon ? (int)(colon - limit_rate) : (int)strlen(limit_rate);

		fprintf(f, "        limits: [limit_rate]\nrate_limits:\n  - name: limit_rate\n"
			   "    key: client_addr\n    rate: ");
		yaml_quoted_n(f, limit_rate, (size_t)rl);
		if (colon) {
			fprintf(f, "\n    burst: ");
			yaml_quoted(f, colon + 1);
		}
		fprintf(f, "\n");
	}
	fclose(f);
	c = cfg_load_string("command line", yaml, size, msgs);
	err = errno;
	free(yaml);
	free(list);
	errno = err;
	return c;
}

/* ------------------------------------------------------------------ freeing */

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	cfg_free_section(SEC_ROOT, (char *)c);
	free(c->file);
	free(c);
}

/* ------------------------------------------------------------------ dump and docs */

void cfg_dump(FILE *f, const struct cfg *c)
{
	cfg_dump_section(f, SEC_ROOT, (const char *)c, 0, false);
}

/* "section.sub[].key" as messages and docs spell it. */
static void full_name(const struct cfg_key *k, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", sections[k->sec].prefix, k->name,
		k->type == CFG_T_LIST ? "[]" : "");
}

size_t cfg_key_count(void)
{
	return cfg_n_keys;
}

int cfg_key_info_at(size_t i, struct cfg_key_info *out)
{
	static __thread char name[128];
	const struct cfg_key *k;

	if (i >= cfg_n_keys)
		return -ERANGE;
	k = &cfg_keys[i];
	full_name(k, name, sizeof(name));
	out->name = name;
	out->type = cfg_types[k->type].doc;
	out->def = k->def;
	if (cfg_types[k->type].container)
		out->def = NULL;
	out->help = k->help;
	return 0;
}

void cfg_doc(FILE *f)
{
	char name[128], exp[256];

	fprintf(f, "| key | type | default | accepted | description |\n");
	fprintf(f, "|---|---|---|---|---|\n");
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *def = k->def;

		full_name(k, name, sizeof(name));
		cfg_types[k->type].expected(k, exp, sizeof(exp));
		if (k->type == CFG_T_LIST)
			snprintf(exp, sizeof(exp), "%" PRIu64 " to %" PRIu64 " items", k->min,
				k->max);
		if (k->flags & CFG_REQUIRED)
			def = "required";
		else if (cfg_types[k->type].container)
			def = "";
		fprintf(f, "| `%s` | %s | %s%s%s | %s | %s |\n", name, cfg_types[k->type].doc,
			def && *def && strcmp(def, "required") ? "`" : "", def ? def : "",
			def && *def && strcmp(def, "required") ? "`" : "", exp, k->help);
	}
}
