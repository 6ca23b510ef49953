/* SPDX-License-Identifier: GPL-2.0 */
/* A connection: one socket and its bufferevent, client or server side. It moves bytes and
 * knows nothing about HTTP. The transport vtable hides how the bufferevent is made (plain
 * TCP now; TLS through bufferevent_openssl later) from every layer above. */
#ifndef USERSPACE_PROXY_CONN_T_H
#define USERSPACE_PROXY_CONN_T_H

#include <stdbool.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/util.h>

struct bufferevent;
struct conn;
struct event_base;

typedef void (*conn_io_fn)(struct conn *c, void *arg);
typedef void (*conn_event_fn)(struct conn *c, short what, void *arg); /* BEV_EVENT_* bits */

/* How a transport wraps a socket. */
struct conn_transport {
	const char *name; /* "tcp", later "tls" */
	/* Wrap the non-blocking socket <fd> (or -1 for a socket to be connected) in a
	 * bufferevent on <base>; <accepted> tells a client-side (server role) socket. Returns
	 * NULL on failure. */
	struct bufferevent *(*bev_new)(
		struct event_base *base, evutil_socket_t fd, bool accepted, void *ctx);
	void *ctx;   /* transport context, e.g. an SSL_CTX */
	bool direct; /* bytes may be written to the socket itself, bypassing the bufferevent
		      * (plain TCP; never TLS) */
};

enum conn_side {
	CONN_CLIENT = 0, /* accepted from a client */
	CONN_SERVER,	 /* opened to an upstream server */
	CONN_SIDE_MAX	 /* must stay last */
};

struct conn {
	struct bufferevent *bev;
	const struct conn_transport *tr;
	enum conn_side side;
	bool connected;		      /* server side: the connect completed */
	struct sockaddr_storage peer; /* the other end */
	socklen_t peer_len;
	char peer_text[64]; /* "ip" (client) or "ip:port" (server) */
	conn_io_fn on_read; /* owner callbacks; NULL ignores the event */
	conn_io_fn on_write;
	conn_event_fn on_event;
	void *arg;
	TAILQ_ENTRY(conn) pool_link; /* server side: place in an idle pool */
	void *pool;		     /* the struct server_pool holding it while idle */
	unsigned int requests;	     /* requests carried so far */
};

#endif /* USERSPACE_PROXY_CONN_T_H */
