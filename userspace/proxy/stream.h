/* SPDX-License-Identifier: GPL-2.0 */
/* Client sessions and their request/response exchanges (streams). A stream runs a request
 * through its phases: request_filter (routing, header rules) -> the cache phase on routes
 * with a cache (cachephase.h: a hit ends the exchange here) -> upstream_peer (selection) ->
 * connection (pool or connect, with retries: fail_to_connect) -> upstream_request_filter ->
 * body both ways with backpressure -> response_filter -> logging; error_while_proxy on
 * failures after the connection. Each phase does the protocol's part itself and calls the
 * hook of the same name (pingx/pingx.h); pingd's config-driven part is the built-in table. */
#ifndef USERSPACE_PROXY_STREAM_H
#define USERSPACE_PROXY_STREAM_H

#include <stddef.h>
#include <sys/socket.h>

#include "userspace/proxy/worker-t.h"

struct pingx_proxy_ops;

/* Make <ops> (NULL: the built-in, config-driven table) the hooks every stream calls, with
 * <user_data>. Call before the workers start. */
void stream_set_ops(const struct pingx_proxy_ops *ops, void *user_data);

/* For worker_init(): a worker's accepted sockets become sessions; a drain closes idle
 * keep-alive sessions at once, says "Connection: close" on the responses in progress and
 * ends the worker's loop with its last session; release_all closes what is left. */
extern const struct worker_client_fns stream_client_fns;

#endif /* USERSPACE_PROXY_STREAM_H */
