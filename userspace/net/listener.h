/* SPDX-License-Identifier: GPL-2.0 */
/* Listening sockets: one SO_REUSEPORT socket per worker per configured listener, so the
 * kernel spreads connections over workers and no worker shares an accept queue. */
#ifndef USERSPACE_NET_LISTENER_H
#define USERSPACE_NET_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

#include <event2/util.h>

#include "userspace/cfg/cfg-t.h"

/* After accept() fails for want of descriptors or memory, the listener waits this long
 * before accepting again (nginx waits its accept_mutex_delay, 500 ms), and logs such failures
 * at most once per LISTENER_LOG_S seconds. */
#define LISTENER_BACKOFF_MS 500u
#define LISTENER_LOG_S	    5

struct event_base;
struct listener;

/* Called for every accepted socket <fd> (non-blocking; the callee owns it) from <sa>. */
typedef void (*listener_accept_fn)(
	void *arg, size_t listener_idx, evutil_socket_t fd, struct sockaddr *sa, socklen_t len);

/* Accept on <base>, calling <cb> with <arg> and <idx>: on <fd> when it is >= 0, a socket
 * already listening on <cfg>'s address (inherited from a previous configuration or process),
 * owned by the listener from here on, even on failure; otherwise on a new socket bound to
 * <cfg>'s address with SO_REUSEPORT. Returns NULL with errno (EADDRINUSE, EACCES, ...). */
struct listener *listener_new(struct event_base *base, const struct cfg_listener *cfg, size_t idx,
	listener_accept_fn cb, void *arg, int fd);

/* The listening socket of <l> (still owned by <l>). */
int listener_fd(const struct listener *l);

/* Stop accepting and close; NULL is accepted. */
void listener_free(struct listener *l);

/* Stop or resume accepting (e.g. at the connection limit). Resuming during a back-off
 * takes effect when the back-off ends. */
void listener_pause(struct listener *l, bool paused);

#endif /* USERSPACE_NET_LISTENER_H */
