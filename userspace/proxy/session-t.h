/* SPDX-License-Identifier: GPL-2.0 */
/* A client session and its current exchange (stream), shared by the files of the proxy layer:
 * the state machine (stream.c), the built-in hooks (builtin.c) and the framework's accessors
 * (pingx_ctx.c). Nothing outside userspace/proxy/ sees these layouts. */
#ifndef USERSPACE_PROXY_SESSION_T_H
#define USERSPACE_PROXY_SESSION_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "userspace/cfg/cfg-t.h"
#include "userspace/http/h1-t.h"
#include "userspace/limit/inflight-t.h"
#include "userspace/net/conn-t.h"

struct backend;
struct cache_x;
struct conn;
struct evdns_getaddrinfo_request;
struct h2conn;
struct tunnel;
struct event;
struct h1_parser;
struct worker;

/* The hooks' view of an exchange: lives in struct stream. */
struct pingx_ctx {
	void *user;	     /* pingx_set_user() */
	struct h1_msg *resp; /* the response head during response_filter, else NULL */
	bool live;	     /* new_ctx ran and logging has not yet */
	bool has_be;	     /* upstream_peer chose a pool */
	uint8_t limit_key_len;	  /* bytes of limit_key; 0 = unset */
	char limit_key[64];	  /* pingx_set_limit_key(): the "hook" part of limit keys */
};

/*
 * A session moves through these states:
 *
 *   accept -> HEAD --head--> CONNECT --upstream ready--> EXCHANGE --response done--> IDLE
 *                ^                                                                   |
 *                +------------------- first byte of the next request ----------------+
 *
 * and to TUNNEL from EXCHANGE (a 101 to a forwarded Upgrade) or CONNECT (a CONNECT whose target
 * answered), which ends with the session; and to LINGER from anywhere once the last response is queued (an error answer, a
 * "Connection: close", a response that cannot be completed). Timers: HEAD has
 * client_header (408), IDLE has keepalive, LINGER a short drain; CONNECT and EXCHANGE use
 * the connection timeouts (connect, client_body, upstream_read, send) and total.
 */
enum sess_state {
	SS_IDLE = 0, /* between requests: keep-alive timer */
	SS_HEAD,     /* reading a request head: client_header timer */
	SS_CONNECT,  /* head parsed: getting an upstream connection; body not read yet */
	SS_EXCHANGE, /* request body and response flowing */
	SS_LINGER,   /* last response queued: flush, half-close, drain, close */
	SS_TUNNEL,   /* after a 101 or a 200 to CONNECT: bytes both ways (tunnel.c) */
	SS_H2,	     /* an HTTP/2 connection (h2conn.c); its streams are sessions of their own */
	SS_MAX	     /* must stay last */
};

/* Whether an exchange may become a tunnel (struct stream's tun). */
enum stream_tunnel {
	TUN_NONE = 0,	 /* an ordinary exchange */
	TUN_UPGRADE = 1, /* Upgrade forwarded: a 101 from the upstream starts a tunnel */
	TUN_CONNECT = 2, /* CONNECT: the "upstream" is the target, its connect starts one */
	TUN_MAX		 /* must stay last */
};

/* One request/response exchange: a session holds one from a request's head to the end of
 * its response (or to the session's end when it lingers, tunnels or closes), taken from
 * its worker's cache (stream.c: stream_take()), so a keep-alive connection between requests
 * holds none. */
struct stream {
	struct session *s; /* the session whose exchange it is */
	struct h1_msg *rq; /* request head, owned by the request parser */
	const struct cfg_route *route;
	size_t be_idx;
	const struct backend *be;
	int srv;	       /* selected server index, or -1 */
	uint64_t tried;	       /* servers tried (bit index % 64) */
	unsigned int attempts; /* connections attempted */
	uint64_t hash;	       /* key hash for ketama/maglev */
	struct conn *up;       /* upstream connection */
	bool up_reused;	       /* taken from the idle pool */
	bool fresh_only;       /* the next connection is a new one, not from the pool */
	bool up_eof;	       /* the upstream closed its side */
	uint8_t cli_minor;     /* client's HTTP/1.x minor version */
	unsigned int wflags;   /* h1_write_head() flags of the upstream request */
	bool idempotent;       /* may be replayed (RFC 9110 §9.2.2) */
	bool expect;	       /* client sent Expect: 100-continue */
	bool req_body;	       /* request has a body */
	bool req_chunked;      /* request body re-framed as chunked upstream */
	bool req_done;	       /* request fully read from the client */
	bool resp_started;     /* a byte of response arrived from the upstream */
	bool resp_head_sent;   /* final response head queued to the client */
	bool resp_chunked;     /* response body re-framed as chunked to the client */
	bool interim;	       /* the upstream message being parsed is a 1xx */
	bool grpc;	       /* a gRPC call: pingd's own errors are gRPC statuses */
	bool deadline;	       /* its grpc-timeout ran out */
	uint8_t tun;	       /* enum stream_tunnel: what this exchange may turn into */
	int status;	       /* status sent to the client */
	uint64_t bytes_out;    /* response body bytes sent to the client */
	uint64_t start_us;     /* monotonic */
	const char *upstream;  /* peer that answered, for logs (config storage) */
	struct pingx_ctx px;   /* what the hooks see */
	/* In-flight slots of the rate limits (limits.c), released when the exchange ends. */
	struct limit_inflight_guard lim_guard[CFG_ROUTE_LIMITS_MAX];
	unsigned int n_lim_guard;
	bool upq_slot; /* holds one of its pool's max_conns (upqueue.c) */
	struct cache_x *cx;    /* the cache phase's state on a cached route (cachephase.c) */
	char cli_text[CONN_PEER_TEXT_MAX]; /* the client's address, written on first use
					    * (sess_client_text()); "" until then */
};

struct session {
	TAILQ_ENTRY(session) link;
	/* A session waits in one of its worker's lists at most: for a pool's max_conns while
	 * upq_waiting, between requests while idle_listed, for its first head while
	 * fresh_listed. */
	union {
		TAILQ_ENTRY(session) upq_link; /* in the worker's upq_wait */
		TAILQ_ENTRY(session) idle_link; /* in the worker's idle or fresh list */
	};
	union {
		uint64_t upq_deadline_ms; /* coarse clock: 503 after it */
		uint64_t idle_until_ms;	  /* coarse clock: the keep-alive or header timeout
					   * ends then */
	};
	struct worker *w;
	const struct cfg *cfg;
	struct conn *cli;
	struct h1_parser *rqp; /* requests from the client */
	struct h1_parser *rsp; /* responses from the current upstream */
	struct event *timer;   /* header, drain or linger timer; NULL until needed and
				* while idle (stream.c: sess_timer_set()) */
	struct event *total;   /* timeouts.total of the current exchange */
	struct event *delay;   /* a rate limit's delay of the current request; NULL until one */
	struct tunnel *tun; /* SS_TUNNEL: the byte pump (tunnel.c) */
	struct evdns_getaddrinfo_request *dns; /* CONNECT: resolving the target's name */
	char *target;			       /* CONNECT: "host:port" for the logs, owned */
	struct h2conn *h2; /* SS_H2: the HTTP/2 connection this session became */
	struct conn *tls_cli; /* the connection the client's TLS runs on: cli, or for an HTTP/2
			       * stream its connection's (NULL once that one is gone) */
	struct stream *x; /* the current exchange; NULL between requests */
	/* Small fields packed last: an idle keep-alive client holds a session. */
	unsigned int nreq;	 /* requests started on this connection */
	uint16_t listener;	 /* index of the listener it came from (cfg->listeners) */
	uint8_t depth;		 /* callbacks on the stack */
	uint8_t st;		 /* enum sess_state */
	bool upq_waiting : 1; /* queued for its pool's max_conns */
	bool idle_listed : 1; /* between requests, in the worker's idle list */
	bool fresh_listed : 1; /* new, waiting for its first head in the worker's fresh list */
	bool close_after : 1; /* close once the current response is sent */
	bool cli_paused : 1;  /* client reads paused: upstream output full */
	bool up_paused : 1;   /* upstream reads paused: client output full */
	bool shut : 1;	      /* write side shut down while lingering */
	bool unread_none : 1; /* closing with nothing of the client's unread: no lingering */
	bool dead : 1;	      /* free when the outermost callback returns */
	bool virt : 1;	      /* serves one HTTP/2 stream over a socketless conn: not counted
			       * as a connection of the worker */
};

#endif /* USERSPACE_PROXY_SESSION_T_H */
