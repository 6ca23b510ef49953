/* SPDX-License-Identifier: GPL-2.0 */
/* A worker: one thread, one event base, its own listening sockets, connection pools and
 * selection state. Workers share only read-only data (struct pingd_rt). */
#ifndef USERSPACE_PROXY_WORKER_T_H
#define USERSPACE_PROXY_WORKER_T_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "userspace/cfg/cfg-t.h"
#include "userspace/http/h1-t.h"
#include "userspace/lib/slab.h"
#include "userspace/upstream/backend-t.h"

struct event_base;
struct evdns_base;
struct evbuffer;
struct listener;
struct route_table;
struct pool;
struct session;
struct stats;
struct limits_rt;
struct upq;
struct h1_parser;
struct hcache;
struct conn_transport;
struct tls_server;
struct tls_client;
struct tls_peer;
struct worker;

/* What a worker does with its client connections, registered by its owner (the stream layer's
 * functions): the worker runs the loop and the listeners, and knows nothing of HTTP. */
struct worker_client_fns {
	/* Take accepted socket <fd> (owned from here) from <sa> on listener <idx> of <w>. */
	void (*accept)(struct worker *w, size_t idx, int fd, struct sockaddr *sa, socklen_t len);
	/* <w> started draining: its listeners are closed and w->draining is set. */
	void (*drain)(struct worker *w);
	/* Close every connection of <w> (at shutdown, after its loop ended). */
	void (*release_all)(struct worker *w);
};

/* What every worker reads and none writes: built from one config. */
struct pingd_rt {
	const struct cfg *cfg;
	struct route_table *routes;
	struct backend **backends; /* one per cfg->upstreams */
	size_t n_backends;
	struct upq *upq;	  /* max_conns and queues of the pools (upqueue.h) */
	struct tls_server **tls;		  /* one per cfg->listeners; NULL: plain TCP */
	const struct conn_transport **transports; /* one per cfg->listeners */
	struct tls_client **up_tls;  /* one per cfg->upstreams; NULL: no https:// server */
	struct tls_peer ***up_peers; /* [upstream][server] of up_tls; NULL: plain TCP */
	struct stats *stats; /* metrics; set by main before the workers start */
	struct limits_rt *limits; /* rate_limits' state, shared by the workers (limits.h) */
	struct hcache **caches; /* one per cfg->caches (cachephase.c); NULL when none */
};

struct worker {
	unsigned int id;
	pthread_t thread;
	struct event_base *base;
	const struct pingd_rt *rt;
	const struct worker_client_fns *client; /* the owner's; see worker_init() */
	struct listener **listeners;		/* one per cfg->listeners */
	size_t n_listeners;
	struct backend_wstate *bws; /* one per backend */
	struct pool **pools;	    /* [backend][server] */
	int stop_fd;		    /* eventfd: another thread asks the loop to end */
	struct event *stop_ev;
	atomic_uint drain_ms;	/* non-zero with stop_fd: drain, with this grace period */
	atomic_bool done;	/* the thread's loop has ended */
	bool draining;		/* listeners closed; sessions end after their exchange */
	struct event *grace_ev; /* ends a drain that outlasts its grace period */
	struct event *trim_ev;	/* worker 0: hands freed heap back to the kernel */
	size_t trim_free;	/* heap bytes free after the last look */
	unsigned int n_conns;	/* client connections open */
	bool paused;		/* listeners paused at max_connections */
	uint64_t requests;	/* requests started */
	TAILQ_HEAD(session_list, session) sessions; /* open client sessions */
	struct session_list upq_wait; /* waiting for a pool's max_conns, oldest first */
	struct event *upq_ev;	      /* retries them (upqueue.c); NULL until one waits */
	struct session_list idle;     /* keep-alive sessions between requests, oldest first */
	struct session_list fresh;    /* new sessions waiting for a first head, oldest first */
	struct event *idle_ev;	      /* times both lists; NULL until one is used */
	uint64_t idle_at_ms;	      /* when it was last armed to fire */
	struct h1_buf scratch;		 /* serialized heads, used and emptied synchronously */
	struct evbuffer *cstage;	 /* bytes for the current session's client, and ... */
	struct evbuffer *ustage;	 /* ... for its upstream: sent in one write when the
					  * callback ends, empty between callbacks */
	struct h1_parser *rsp_cache[64]; /* idle response parsers, handed to exchanges so
					  * idle client connections hold none */
	unsigned int n_rsp_cache;
	struct h1_parser *rqp_cache[64]; /* idle request parsers, the same way: a keep-alive
					  * connection takes one when its next request starts */
	unsigned int n_rqp_cache;
	struct stream *x_cache[64]; /* idle exchanges (struct stream), the same way */
	unsigned int n_x_cache;
	struct slab sess_slab; /* accepted sessions with their client connections (stream.c) */
	const struct timeval *t_header;	   /* libevent common timeouts for the timers every */
	const struct timeval *t_keepalive; /* connection arms: O(1) instead of a heap */
	const struct timeval *t_connect;   /* ... and for the connection timeouts, re-armed on */
	const struct timeval *t_body;	   /* every read and write */
	const struct timeval *t_upread;
	const struct timeval *t_send;
	const struct timeval *t_drain; /* idle keep-alive connections while draining */
	struct evdns_base *dns;	       /* resolver of CONNECT targets, made on first use */
};

#endif /* USERSPACE_PROXY_WORKER_T_H */
