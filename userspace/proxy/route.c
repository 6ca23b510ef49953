// SPDX-License-Identifier: GPL-2.0
/* Request routing over the config's listeners, virtual hosts and routes. Lookups normalise
 * the Host value on the stack and scan the (short) candidate lists; no allocation per request. */
#include "userspace/proxy/route.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROUTE_HOST_MAX 256

/* The virtual hosts one listener serves, as indexes into cfg->vhosts. */
struct route_listener {
	size_t *vhosts;
	size_t n;
};

struct route_table {
	const struct cfg *cfg;
	struct route_listener *listeners; /* one per cfg->listeners */
	size_t n_listeners;
};

struct route_table *route_table_new(const struct cfg *c)
{
	struct route_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cfg = c;
	t->n_listeners = c->n_listeners;
	t->listeners = calloc(c->n_listeners ? c->n_listeners : 1, sizeof(*t->listeners));
	if (!t->listeners)
		goto err;
	for (size_t i = 0; i < c->n_listeners; i++) {
		const struct cfg_str_list *names = &c->listeners[i].virtual_hosts;
		struct route_listener *rl = &t->listeners[i];

		rl->vhosts = calloc(c->n_vhosts ? c->n_vhosts : 1, sizeof(*rl->vhosts));
		if (!rl->vhosts)
			goto err;
		for (size_t v = 0; v < c->n_vhosts; v++) {
			bool take = names->n == 0;

			for (size_t k = 0; k < names->n && !take; k++)
				take = !strcmp(names->v[k], c->vhosts[v].name);
			if (take)
				rl->vhosts[rl->n++] = v;
		}
	}
	return t;
err:
	route_table_free(t);
	errno = ENOMEM;
	return NULL;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->listeners && i < t->n_listeners; i++)
		free(t->listeners[i].vhosts);
	free(t->listeners);
	free(t);
}

/* Reduce a Host value to a bare lower-case name in <out>: no port, no trailing dot. Returns
 * its length, or 0 when it is empty or too long (then only "*" can match). */
static size_t host_normalise(const char *h, size_t len, char *out)
{
	size_t n = 0;

	if (len && h[0] == '[') {
		const char *rb = memchr(h, ']', len);

		len = rb ? (size_t)(rb - h) + 1 : len;
	} else {
		const char *colon = memchr(h, ':', len);

		if (colon)
			len = (size_t)(colon - h);
	}
	if (len && h[len - 1] == '.')
		len--;
	if (!len || len >= ROUTE_HOST_MAX)
		return 0;
	for (; n < len; n++)
		out[n] = (h[n] >= 'A' && h[n] <= 'Z') ? (char)(h[n] + 32) : h[n];
	out[n] = '\0';
	return n;
}

const struct cfg_vhost *route_vhost(
	const struct route_table *t, size_t listener, const char *host, size_t host_len)
{
	const struct route_listener *rl;
	const struct cfg_vhost *wild = NULL, *any = NULL;
	size_t wild_len = 0, n;
	char name[ROUTE_HOST_MAX];

	if (listener >= t->n_listeners)
		return NULL;
	rl = &t->listeners[listener];
	n = host_normalise(host ? host : "", host ? host_len : 0, name);
	for (size_t i = 0; i < rl->n; i++) {
		const struct cfg_vhost *vh = &t->cfg->vhosts[rl->vhosts[i]];

		for (size_t k = 0; k < vh->hosts.n; k++) {
			const char *pat = vh->hosts.v[k];
			size_t pl = strlen(pat);

			if (pat[0] == '*' && pl == 1) {
				any = vh;
			} else if (pat[0] == '*' && pat[1] == '.') {
				/* "*.example.com" matches any name ending in ".example.com". */
				if (n > pl - 1 && !strcasecmp(name + n - (pl - 1), pat + 1) &&
					pl > wild_len) {
					wild = vh;
					wild_len = pl;
				}
			} else if (n && pl == n && !strcasecmp(pat, name)) {
				return vh;
			}
		}
	}
	return wild ? wild : any;
}

const struct cfg_route *route_path(const struct cfg_vhost *vh, const char *target, size_t len)
{
	const struct cfg_route *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < len; i++)
		if (target[i] == '?' || target[i] == '#') {
			len = i;
			break;
		}
	for (size_t i = 0; i < vh->n_routes; i++) {
		const struct cfg_route *r = &vh->routes[i];
		size_t pl = strlen(r->path);

		if (r->match == CFG_MATCH_EXACT) {
			if (pl == len && !memcmp(r->path, target, len))
				return r;
		} else if (pl <= len && !memcmp(r->path, target, pl) && (!best || pl > best_len)) {
			best = r;
			best_len = pl;
		}
	}
	return best;
}

const struct cfg_route *route_connect(const struct cfg_vhost *vh)
{
	for (size_t i = 0; i < vh->n_routes; i++)
		if (vh->routes[i].connect.n)
			return &vh->routes[i];
	return NULL;
}

const struct cfg_route *route_match(const struct route_table *t, size_t listener, const char *host,
	size_t host_len, const char *target, size_t target_len)
{
	const struct cfg_vhost *vh = route_vhost(t, listener, host, host_len);

	return vh ? route_path(vh, target, target_len) : NULL;
}
