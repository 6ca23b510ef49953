/* SPDX-License-Identifier: GPL-2.0 */
/* Request routing: listener -> virtual host (Host header, exact then wildcard then "*") ->
 * route (exact path, then longest prefix). Built once from a config and read-only after, so
 * every worker shares it without locks. */
#ifndef USERSPACE_PROXY_ROUTE_H
#define USERSPACE_PROXY_ROUTE_H

#include <stddef.h>

#include "userspace/cfg/cfg-t.h"

struct route_table;

/* Build the routing table of <c>, which must outlive it. Returns NULL with errno ENOMEM. */
struct route_table *route_table_new(const struct cfg *c);

/* Release <t>; NULL is accepted. */
void route_table_free(struct route_table *t);

/* The virtual host serving <host> (<host_len> bytes, as in the Host header: any case, an
 * optional :port, an optional trailing dot, IPv6 literals in brackets) on listener
 * <listener> (index into cfg->listeners). Returns NULL when none does. */
const struct cfg_vhost *route_vhost(
	const struct route_table *t, size_t listener, const char *host, size_t host_len);

/* The route of <vh> for request-target <target> (<len> bytes, origin-form; the query and
 * fragment are ignored). Returns NULL when none matches. */
const struct cfg_route *route_path(const struct cfg_vhost *vh, const char *target, size_t len);

/* The route of <vh> that serves CONNECT requests: the first with a CONNECT allow-list, or
 * NULL. A CONNECT target has no path to match. */
const struct cfg_route *route_connect(const struct cfg_vhost *vh);

/* Both steps at once; NULL when either finds nothing. */
const struct cfg_route *route_match(const struct route_table *t, size_t listener, const char *host,
	size_t host_len, const char *target, size_t target_len);

#endif /* USERSPACE_PROXY_ROUTE_H */
