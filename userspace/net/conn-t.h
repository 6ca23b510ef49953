/* SPDX-License-Identifier: GPL-2.0 */
/* A connection: one non-blocking socket with an input and an output buffer, client or
 * server side. It moves bytes and knows nothing about HTTP. The transport vtable is how
 * bytes cross the socket (plain TCP now; TLS later), so no layer above sees the difference. */
#ifndef USERSPACE_NET_CONN_T_H
#define USERSPACE_NET_CONN_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <event2/event_struct.h>
#include <event2/util.h>

struct conn;
struct evbuffer;
struct evbuffer_cb_entry;
struct event_base;

/* What an owner's event callback is told: a direction and what happened. */
enum conn_what {
	CONN_READING = 0x01,   /* while reading */
	CONN_WRITING = 0x02,   /* while writing */
	CONN_EOF = 0x10,       /* the peer closed its side */
	CONN_ERROR = 0x20,     /* a socket error: errno (and conn.err) tell which */
	CONN_TIMEOUT = 0x40,   /* the read or write timeout expired */
	CONN_CONNECTED = 0x80, /* an outgoing connect completed */
};

typedef void (*conn_io_fn)(struct conn *c, void *arg);
typedef void (*conn_event_fn)(struct conn *c, short what, void *arg); /* enum conn_what bits */

/* How bytes cross a transport. recv and sendv follow read(2)/writev(2): a byte count, 0 for
 * EOF (recv only), or -1 with errno (EAGAIN when the socket is not ready). The hooks after
 * them are optional (NULL for plain TCP, which then pays nothing for them). */
struct conn_transport {
	const char *name; /* "tcp" or "tls" */
	ssize_t (*recv)(struct conn *c, void *buf, size_t len);
	ssize_t (*sendv)(struct conn *c, const struct iovec *iov, int n);
	/* Set up per-connection state in c->tr_conn when the socket is accepted: 0 or
	 * -errno. */
	int (*attach)(struct conn *c);
	/* One step of the handshake: 0 once done, -EAGAIN with c->hs_want telling which
	 * readiness it waits for, another -errno when it failed. */
	int (*handshake)(struct conn *c);
	/* Application bytes the transport holds already, which no readiness of the socket
	 * would announce (the rest of a record larger than the last read). */
	size_t (*pending)(struct conn *c);
	/* Say goodbye before the write side is shut (a closing alert): best effort. */
	void (*shutdown)(struct conn *c);
	/* Release c->tr_conn when the connection is freed. */
	void (*detach)(struct conn *c);
	/* Bytes read from the socket for the transport (a batch of reads, conn_batch_io()): its
	 * next recv takes them before the socket, or, with <keep>, a later one. <n> <= 0 is the
	 * end of the stream (0) or an error (-errno); <more>: the socket may hold more. With it
	 * the transport's connections are read in batches as plain ones are. */
	void (*feed)(struct conn *c, const void *buf, ssize_t n, bool more, bool keep);
	const struct timeval *t_handshake; /* the whole handshake's deadline; NULL: none */
	void *ctx;			   /* transport context, e.g. the TLS server */
};

enum conn_side {
	CONN_CLIENT = 0, /* accepted from a client */
	CONN_SERVER,	 /* opened to an upstream server */
	CONN_SIDE_MAX	 /* must stay last */
};

/* Room for the text of a peer's address (conn_peer_text()): "[IPv6]:port" and a NUL. */
#define CONN_PEER_TEXT_MAX 64

/* An accepted connection is what an idle keep-alive client holds, so its part is packed:
 * the read event embedded at a fixed place (the start), the flags in bits, and the peer's
 * address only as a sockaddr (its text is written on demand: conn_peer_text()). */
struct conn {
	struct event rev;		 /* readable (persistent while reading is enabled) */
	struct evbuffer *in;		 /* bytes read, for the owner to consume */
	struct evbuffer *out;		 /* bytes conn_send() could not write at once */
	struct event *wev;		 /* writable (pending only while <out> holds bytes);
					  * accepted: NULL until a write has to wait */
	struct evbuffer_cb_entry *in_cb; /* while suspended: resumes reading once <in>
					  * drains below rd_high */
	const struct conn_transport *tr;
	const struct timeval *t_read; /* read/write timeouts, NULL: none (caller storage) */
	const struct timeval *t_write;
	void *tr_conn;	    /* per-connection transport state (an SSL) */
	conn_io_fn on_read; /* owner callbacks; NULL ignores the event */
	conn_io_fn on_write;
	conn_event_fn on_event;
	void *arg;
	uint64_t hs_deadline_ms; /* the handshake ends by then (clock_coarse_ms()) */
	uint32_t rd_high;	 /* stop reading while <in> holds this much (0: no limit) */
	uint32_t wr_low;	 /* on_write once <out> drains to this much */
	evutil_socket_t fd;
	int err; /* the last socket error */
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} peer; /* the other end (IPv4 or IPv6: a sockaddr_storage would be 100 bytes more) */
	uint8_t peer_len;	  /* bytes of <peer> */
	unsigned int side : 1;	  /* enum conn_side */
	unsigned int enabled : 2; /* CONN_READING | CONN_WRITING */
	unsigned int hs_want : 2; /* CONN_READING or CONN_WRITING: what the handshake waits for */
	unsigned int tr_flags : 2; /* the transport's own (TLS: enum tls_conn_flag) */
	bool suspended : 1;	  /* reading stopped by rd_high */
	bool connected : 1;	  /* server side: the connect completed */
	bool triggered : 1;	  /* conn_trigger_read() pending */
	bool handshaking : 1;	  /* the transport's handshake is not done yet */
	bool wev_own : 1;	  /* <wev> was allocated apart (event_new()) */
	bool mem_ext : 1;	  /* in its owner's memory: conn_free() does not free it */
	bool deferred : 1;	  /* on its thread's list of writes due after the callbacks */
	bool rd_listed : 1;	  /* on its thread's list of reads due after the callbacks */
	bool rd_held : 1;	  /* a batch read bytes after reading stopped: on_read is due */
	bool rd_bulk : 1;	  /* its last batched read filled its share: read alone */
	/* Server side only, last: an accepted connection's allocation ends before them
	 * (CONN_CLIENT_SIZE). */
	TAILQ_ENTRY(conn) pool_link;	    /* place in an idle pool */
	void *pool;			    /* the struct pool holding it while idle */
	unsigned int requests;		    /* requests carried so far */
	uint64_t idle_ms;		    /* when it last went idle (clock_coarse_ms()) */
	char peer_text[CONN_PEER_TEXT_MAX]; /* "ip:port" as configured (conn_peer_text()) */
};

/* The bytes of struct conn an accepted connection uses. */
#define CONN_CLIENT_SIZE offsetof(struct conn, pool_link)

#endif /* USERSPACE_NET_CONN_T_H */
