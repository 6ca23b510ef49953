/* SPDX-License-Identifier: GPL-2.0 */
/* Moving bytes between a conn and an nghttp2 session, for both ends of pingd's HTTP/2: the
 * client connections (proxy/h2conn.c) and the connections to servers (upstream/h2up.c). */
#ifndef USERSPACE_UPSTREAM_H2IO_H
#define USERSPACE_UPSTREAM_H2IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>

#include "userspace/net/conn-t.h"

struct evbuffer;

/* Write what <ng> has to send to <c> while fewer than <limit> bytes wait in its output.
 * Returns 0, a negative nghttp2 error (the session cannot go on) or -ENOMEM. */
int h2io_send(nghttp2_session *ng, struct conn *c, size_t limit);

/* Feed <ng> the bytes waiting in <c>'s input, draining what it took. Returns 0, or the
 * negative nghttp2 error that stopped it (the rest of the input is left). */
ssize_t h2io_recv(nghttp2_session *ng, struct conn *c);

/* Append <len> body bytes to <b>: as one HTTP/1.1 chunk when <chunked>, else as they are. */
void h2io_body_add(struct evbuffer *b, const void *data, size_t len, bool chunked);

#endif /* USERSPACE_UPSTREAM_H2IO_H */
