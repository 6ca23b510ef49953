/* SPDX-License-Identifier: GPL-2.0 */
/* HTTP/2 to upstream servers (upstreams[].protocol h2c or h2). Each worker keeps, per server,
 * a few HTTP/2 connections that carry many exchanges at once; an exchange sees its stream as
 * a socketless conn that speaks HTTP/1.1 (the mirror of an HTTP/2 client's stream): the
 * request written to it goes out as HEADERS and DATA, the answer comes back as an HTTP/1.1
 * response, chunked, with the server's trailers. */
#ifndef USERSPACE_UPSTREAM_H2UP_H
#define USERSPACE_UPSTREAM_H2UP_H

#include <stdbool.h>
#include <sys/time.h>

#include "userspace/cfg/cfg-t.h"
#include "userspace/net/conn-t.h"

struct h2up_peer;

/* How a server's connections behave; the timevals must outlive the pool. */
struct h2up_opts {
	unsigned int buffer;	      /* request and response bytes held per stream (its window) */
	unsigned int max_header_list; /* SETTINGS_MAX_HEADER_LIST_SIZE, and the answer's head */
	unsigned int max_headers;     /* fields of the answer's head */
	const struct timeval *t_connect; /* TCP (and TLS) connect */
	const struct timeval *t_send;	 /* no progress writing to the server */
	const struct timeval *t_idle;	 /* a connection without a stream closes after it */
	bool tls;			 /* :scheme https (protocol h2) */
};

/* A stream to the server at <addr> over <tr>, whose connections are *<peer> (made on the
 * first call; a pool's h2 member): a socketless conn for one exchange, not
 * connected yet. Its owner hears CONN_CONNECTED from the event loop once a connection with
 * room for the stream is up (at once when one is: *<live> is then true), or an error (as a
 * failed connect) when none could be made; the write timeout it sets bounds the wait. A
 * <fresh> stream goes on a connection opened after this call (the last one failed it).
 * Returns NULL with errno. */
struct conn *h2up_stream(struct h2up_peer **peer, struct event_base *base,
	const struct conn_transport *tr, const struct cfg_addr *addr, const struct h2up_opts *o,
	bool fresh, bool *live);

/* Close the connections of <peer> (a pool's, when the pool is released); their streams'
 * conns must be gone. NULL is accepted. */
void h2up_peer_free(struct h2up_peer *peer);

#endif /* USERSPACE_UPSTREAM_H2UP_H */
