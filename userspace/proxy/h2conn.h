/* SPDX-License-Identifier: GPL-2.0 */
/* HTTP/2 client connections (h2 by ALPN, h2c with prior knowledge) over nghttp2. Each stream
 * is served by an ordinary session of the stream engine over a socketless conn
 * (conn_virtual()): the stream's request reaches it as HTTP/1.1 bytes and its HTTP/1.1
 * response is turned back into HEADERS, DATA and trailers, so routing, selection, retries,
 * health, metrics and the hooks apply to every stream unchanged. */
#ifndef USERSPACE_PROXY_H2CONN_H
#define USERSPACE_PROXY_H2CONN_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct event_base;
struct h2conn;

/* What the owner (the stream engine) does for an HTTP/2 connection. */
struct h2conn_ops {
	/* Serve socketless client conn <vc> (one stream's request; owned from here, even on
	 * failure) as an accepted connection. Returns 0, or -errno when it could not. */
	int (*open)(void *arg, struct conn *vc);
	/* The connection ended (closed, failed, drained, idle): the owner calls h2conn_free()
	 * and frees the client conn. Called from the event loop only. */
	void (*done)(void *arg);
};

struct h2conn_limits {
	unsigned int max_streams;     /* SETTINGS_MAX_CONCURRENT_STREAMS */
	unsigned int window;	      /* SETTINGS_INITIAL_WINDOW_SIZE: a stream's unread bytes */
	size_t buffer;		      /* bytes buffered per direction per stream, and queued
				       * to the client before frames wait */
	unsigned int max_header_list; /* header list bytes (SETTINGS_MAX_HEADER_LIST_SIZE) */
	unsigned int max_headers;     /* header fields per message */
	unsigned int idle_ms;	      /* no stream open for this long: GOAWAY and close */
	unsigned int send_ms;	      /* a stream's answer not taken for this long is reset */
};

/* Take over client conn <cli> (its callbacks become the connection's; the owner keeps it and
 * frees it after ops->done) once the preface has arrived (it is still in cli->in). Returns
 * NULL with errno ENOMEM. */
struct h2conn *h2conn_start(struct event_base *base, struct conn *cli,
	const struct h2conn_limits *lim, const struct h2conn_ops *ops, void *arg);

/* Graceful shutdown: GOAWAY with the last stream taken; streams in progress finish, then the
 * connection ends. */
void h2conn_drain(struct h2conn *hc);

/* Release <hc> (not the client conn); streams still served are cut off from it and end on
 * their own. NULL is accepted. */
void h2conn_free(struct h2conn *hc);

#endif /* USERSPACE_PROXY_H2CONN_H */
