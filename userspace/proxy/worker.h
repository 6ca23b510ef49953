/* SPDX-License-Identifier: GPL-2.0 */
/* Worker threads: set up (binding the listeners on the caller's thread, so errors surface at
 * start-up), run, stop and release. */
#ifndef USERSPACE_PROXY_WORKER_H
#define USERSPACE_PROXY_WORKER_H

#include "userspace/proxy/worker-t.h"

/* Build the shared runtime of <c> (routes, backends). Returns NULL with errno. */
struct pingd_rt *pingd_rt_new(const struct cfg *c);

/* Release <rt>; NULL is accepted. */
void pingd_rt_free(struct pingd_rt *rt);

/* The transport to server <srv> of upstream <up> of <rt>: TLS for an https:// server, else
 * plain TCP. */
const struct conn_transport *pingd_rt_up_transport(
	const struct pingd_rt *rt, size_t up, size_t srv);

/* Set up worker <id> over <rt>: event base, listeners, pools; its accepted connections go
 * to <client> (which must outlive <w>). <fds> (NULL: bind every listener) adopts listening
 * sockets: one entry per configured listener, a listening socket of that address to accept on
 * instead of binding a new one, or -1; the worker takes every entry it reads (setting it to
 * -1), even on failure. Returns 0 or a negative errno (with the failing listener's address
 * logged). */
int worker_init(struct worker *w, unsigned int id, const struct pingd_rt *rt, int *fds,
	const struct worker_client_fns *client);

/* Run <w>'s event loop on a new thread. Returns 0 or a negative errno. */
int worker_start(struct worker *w);

/* Ask <w>'s loop to exit (safe from any thread: it writes to the worker's eventfd). */
void worker_stop(struct worker *w);

/* Ask <w> to drain (safe from any thread): close its listeners, finish the requests in
 * progress, close idle keep-alive connections, and end its loop when no connection is left or
 * after <grace_ms>. w->done tells when the loop has ended. */
void worker_drain(struct worker *w, unsigned int grace_ms);

/* The listening socket of <w>'s listener <idx> (still owned by it), or -1. Only while <w>'s
 * thread is not running or from it, or before it drains. */
int worker_listener_fd(const struct worker *w, size_t idx);

/* Wait for <w>'s thread to end. */
void worker_join(struct worker *w);

/* Free what worker_init() set up (after worker_join()). */
void worker_release(struct worker *w);

#endif /* USERSPACE_PROXY_WORKER_H */
