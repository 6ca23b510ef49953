/* SPDX-License-Identifier: GPL-2.0 */
/* Client sessions and their request/response exchanges (streams). A stream runs a request
 * through its phases: request_filter (routing, header rules) -> upstream_peer (selection) ->
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

/* Take accepted socket <fd> from <sa> on listener <idx> of worker <w> (owns <fd>). */
void stream_accept(struct worker *w, size_t idx, int fd, struct sockaddr *sa, socklen_t len);

/* Start draining <w> (its listeners are closed already, w->draining is set): idle keep-alive
 * connections close shortly, responses in progress say "Connection: close", and the loop
 * breaks when the last session ends. */
void stream_drain(struct worker *w);

/* Close every session of <w> (at shutdown, after its loop ended). */
void stream_release_all(struct worker *w);

/* The three above, for worker_init(): a worker's client connections become sessions. */
extern const struct worker_client_fns stream_client_fns;

#endif /* USERSPACE_PROXY_STREAM_H */
