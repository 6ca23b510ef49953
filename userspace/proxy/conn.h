/* SPDX-License-Identifier: GPL-2.0 */
/* Connections: create (accepted or outgoing), set owner callbacks, free. */
#ifndef USERSPACE_PROXY_CONN_H
#define USERSPACE_PROXY_CONN_H

#include <sys/socket.h>

#include <event2/util.h>

struct evbuffer;

#include "userspace/proxy/cfg-t.h"
#include "userspace/proxy/conn-t.h"

/* Plain TCP. */
extern const struct conn_transport conn_tcp;

/* Wrap accepted socket <fd> from <sa> (<len> bytes). Takes ownership of <fd> even on
 * failure. Returns NULL with errno. */
struct conn *conn_accepted(struct event_base *base, const struct conn_transport *tr,
	evutil_socket_t fd, const struct sockaddr *sa, socklen_t len);

/* Start connecting to <addr>. Completion (BEV_EVENT_CONNECTED) or failure comes through the
 * event callback; bytes written before completion are sent after it. Returns NULL with
 * errno when even the attempt could not start. */
struct conn *conn_connect(
	struct event_base *base, const struct conn_transport *tr, const struct cfg_addr *addr);

/* Route the events of <c> to the given callbacks with <arg>; NULLs ignore. Reading is
 * enabled. */
void conn_set_cbs(
	struct conn *c, conn_io_fn on_read, conn_io_fn on_write, conn_event_fn on_event, void *arg);

/* Move every byte of <stage> to <c>: written to the socket at once when nothing is queued
 * and the transport allows it, the rest queued on the bufferevent. <stage> ends empty. A
 * write error is left for the bufferevent to report. */
void conn_send(struct conn *c, struct evbuffer *stage);

/* Close and free <c>; NULL is accepted. */
void conn_free(struct conn *c);

#endif /* USERSPACE_PROXY_CONN_H */
