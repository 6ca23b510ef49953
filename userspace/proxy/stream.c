// SPDX-License-Identifier: GPL-2.0
/* Client sessions and request/response exchanges. A session is one client connection; it
 * carries one exchange (stream) at a time, so pipelined requests are answered in order by
 * not parsing the next one before the current response is done. Both bodies are streamed
 * through bounded buffers: a side whose output holds limits.buffer_size bytes stops reading
 * the other side until it drains. The session's layout is in session-t.h; the built-in hooks
 * are in builtin.c and the framework's accessors in pingx_ctx.c. */
#include "userspace/proxy/stream.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "pingx/pingx.h"
#include "userspace/http/h1.h"
#include "userspace/lib/bug.h"
#include "userspace/lib/clock.h"
#include "userspace/lib/log.h"
#include "userspace/lib/slab.h"
#include "userspace/net/conn.h"
#include "userspace/net/listener.h"
#include "userspace/ops/stats.h"
#include "userspace/proxy/limits.h"
#include "userspace/proxy/cachephase.h"
#include "userspace/proxy/route.h"
#include "userspace/http/h2.h"
#include "userspace/proxy/h2conn.h"
#include "userspace/proxy/session.h"
#include "userspace/proxy/upqueue.h"
#include "userspace/proxy/tunnel.h"
#include "userspace/proxy/worker.h"
#include "userspace/upstream/backend.h"
#include "userspace/upstream/h2up.h"
#include "userspace/upstream/health.h"
#include "userspace/upstream/pool.h"

#define LINGER_MS    2000 /* how long a closing connection drains unread client bytes */
#define LOCAL_NEST_MAX 8 /* pipelined local answers handled inline before the next waits a turn */
#define CONNECT_OK   "HTTP/1.1 200 Connection Established\r\n\r\n"

/* Consume client input as the state allows: a head when idle, body bytes during the
 * exchange, nothing while connecting (bytes wait, bounded by the read watermark). */
static void drive_client(struct session *s);
/* Move the upstream response to the client while its output has room; pause the upstream
 * when it has none (sess_flush() or cli_write() resumes it). */
static void drive_response(struct session *s);
/* Get a connection to the selected server: an idle pooled one at once, else a new connect
 * whose outcome arrives in up_event(). */
static void connect_upstream(struct session *s);
static void fail_to_connect(struct session *s, int err, bool timed_out);
static void upstream_drop(struct session *s);
static void send_error(struct session *s, int status);
static void px_end(struct session *s);
static enum pingx_verdict px_fail_to_connect(struct session *s, int err);
static enum pingx_verdict px_error_while_proxy(struct session *s, const char *why);
/* Tunnels (tunnel.c does the byte pump): a CONNECT's target, and the switch after a 101 or
 * the CONNECT's 200. */
static void connect_target(struct session *s);
static void tunnel_begin(struct session *s);
/* HTTP/2 (h2conn.c runs it): a connection that starts with the preface becomes one. Returns
 * true when it did (or is waiting for the rest of the preface). */
static bool h2_detect(struct session *s);
static void on_total(evutil_socket_t fd, short what, void *arg);


/* ------------------------------------------------------------------ helpers */

static struct evbuffer *cli_in(struct session *s)
{
	return s->cli->in;
}

static struct evbuffer *cli_out(struct session *s)
{
	return s->cli->out;
}

/* Bytes for the client are staged and sent when the callback ends (sess_leave()). */
static struct evbuffer *cli_stage(struct session *s)
{
	return s->w->cstage;
}

static struct evbuffer *up_stage(struct session *s)
{
	return s->w->ustage;
}

static struct evbuffer *up_out(struct session *s)
{
	return s->x->up->out;
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

/* Arm the session timer, made on first use: a keep-alive connection between requests has
 * none (the worker's idle list times it), nor one whose heads arrive whole. Returns 0 or
 * -ENOMEM. */
int sess_timer_set(struct session *s, const struct timeval *tv)
{
	if (!s->timer) {
		s->timer = evtimer_new(s->w->base, on_timer, s);
		if (!s->timer)
			return -ENOMEM;
	}
	return evtimer_add(s->timer, tv) < 0 ? -ENOMEM : 0;
}

static void sess_kill(struct session *s);

/* Without a timer the session cannot be timed: it ends rather than wait for ever. */
static void timer_set(struct session *s, const struct timeval *tv)
{
	if (sess_timer_set(s, tv) < 0) {
		log_ratelimited(LOG_LVL_ERR, "client %s: out of memory for a timer",
			SESS_PEER(s));
		sess_kill(s);
	}
}

static void timer_del(struct session *s)
{
	if (s->timer)
		evtimer_del(s->timer);
}

/* Keep-alive connections between requests wait in their worker's idle list, oldest first
 * (they all have the same timeout), under one timer for the worker: no timer per
 * connection, and nothing to arm or disarm per request but a list link. A fresh connection
 * waits for its first head (and its TLS handshake) the same way, in the fresh list with the
 * header timeout from its accept: an idle client holds no timer of its own. */
static void on_idle_expiry(evutil_socket_t fd, short what, void *arg);

/* Arm the worker's timer for the earliest deadline of its two lists. */
static void idle_arm(struct worker *w, uint64_t now)
{
	struct session *a = TAILQ_FIRST(&w->idle), *b = TAILQ_FIRST(&w->fresh);
	struct timeval tv;

	if (!a || (b && b->idle_until_ms < a->idle_until_ms))
		a = b;
	if (!a)
		return;
	w->idle_at_ms = a->idle_until_ms;
	tv = clock_ms_tv(a->idle_until_ms > now ? a->idle_until_ms - now : 1);
	evtimer_add(w->idle_ev, &tv);
}

/* The worker's timer, made (with both lists) on first use; NULL without memory. */
static struct event *idle_ev(struct worker *w)
{
	if (!w->idle_ev) {
		w->idle_ev = evtimer_new(w->base, on_idle_expiry, w);
		TAILQ_INIT(&w->idle);
		TAILQ_INIT(&w->fresh);
	}
	return w->idle_ev;
}

/* <s> was appended to one of the lists with deadline s->idle_until_ms: arm the timer unless
 * it fires before then anyway (one list's deadlines never decrease; the other's may be
 * later). */
static void idle_rearm(struct session *s, uint64_t now)
{
	struct worker *w = s->w;

	if (!evtimer_pending(w->idle_ev, NULL) || s->idle_until_ms < w->idle_at_ms)
		idle_arm(w, now);
}

static void idle_enter(struct session *s)
{
	struct worker *w = s->w;
	uint64_t now = clock_coarse_ms();

	if (!idle_ev(w)) {
		timer_set(s, w->t_keepalive); /* its own timer after all */
		return;
	}
	/* The timer goes back too: most heads arrive whole and need none. */
	if (s->timer) {
		event_free(s->timer);
		s->timer = NULL;
	}
	s->idle_until_ms = now + s->cfg->timeouts.keepalive_ms;
	s->idle_listed = true;
	TAILQ_INSERT_TAIL(&w->idle, s, idle_link);
	idle_rearm(s, now);
}

/* A new connection waits for its first head (after its handshake) for timeouts.header. */
static void fresh_enter(struct session *s)
{
	struct worker *w = s->w;
	uint64_t now = clock_coarse_ms();

	if (!idle_ev(w)) {
		timer_set(s, w->t_header);
		return;
	}
	s->idle_until_ms = now + s->cfg->timeouts.client_header_ms;
	s->fresh_listed = true;
	TAILQ_INSERT_TAIL(&w->fresh, s, idle_link);
	idle_rearm(s, now);
}

/* Out of either list. */
static void idle_leave(struct session *s)
{
	if (s->idle_listed) {
		TAILQ_REMOVE(&s->w->idle, s, idle_link);
		s->idle_listed = false;
	} else if (s->fresh_listed) {
		TAILQ_REMOVE(&s->w->fresh, s, idle_link);
		s->fresh_listed = false;
	}
}

/* Copy h1_str <v> into <buf> as a C string (truncated to <size>). NULL for an absent one. */
static const char *cstr(const struct h1_str *v, char *buf, size_t size)
{
	if (!v)
		return NULL;
	snprintf(buf, size, "%.*s", (int)v->len, v->p ? v->p : "");
	return buf;
}

/* ------------------------------------------------------------------ hooks */

/* Set once before the workers start (stream_set_ops()), read-only after. */
static const struct pingx_proxy_ops *px_ops = &builtin_hooks;
static void *px_data;

void stream_set_ops(const struct pingx_proxy_ops *ops, void *user_data)
{
	px_ops = ops ? ops : &builtin_hooks;
	px_data = user_data;
}

/* Run filter hook <fn> (NULL: nothing to do). Returns 0 to go on, or -1 after answering:
 * with the status the hook gave, 431 for -ENOSPC (the head outgrew its limits), else 500. */
static int px_filter(struct session *s, int (*fn)(struct pingx_ctx *, void *))
{
	int r, status;

	if (!fn)
		return 0;
	r = fn(&s->x->px, px_data);
	if (!r)
		return 0;
	if (r >= 400 && r <= 599)
		status = r;
	else if (r == -ENOSPC)
		status = 431;
	else
		status = 500;
	upstream_drop(s);
	send_error(s, status);
	return -1;
}

/* The logging hook of a live context: once per request that reached new_ctx. */
static void px_end(struct session *s)
{
	struct pingx_ctx *px;

	if (!s->x)
		return;
	px = &s->x->px;
	if (!px->live)
		return;
	px->live = false;
	if (!s->x->status)
		s->x->status = 499;
	if (px_ops->logging)
		px_ops->logging(px, px_data);
	px->user = NULL;
}

/* ------------------------------------------------------------------ lifetime */

/* Parsers live in a session only while it needs them: a worker keeps a few idle ones of
 * each kind (<cache>, <n> of them, room for PARSER_CACHE), so an idle keep-alive connection
 * holds none and a busy one allocates none. */
#define PARSER_CACHE 64

static struct h1_parser *parser_take(struct session *s, struct h1_parser **cache, unsigned int *n,
	enum h1_kind kind)
{
	const struct cfg_limits *l = &s->cfg->limits;
	struct h1_limits pl = {
		.max_head = l->max_header_size,
		.max_headers = l->max_headers,
		.max_body = kind == H1_REQUEST ? l->max_body_size : 0,
	};

	if (*n)
		return cache[--*n];
	return h1_parser_new(kind, &pl);
}

static void parser_give(struct h1_parser **p, struct h1_parser **cache, unsigned int *n)
{
	if (!*p)
		return;
	if (*n < PARSER_CACHE) {
		h1_parser_reset(*p);
		cache[(*n)++] = *p;
	} else {
		h1_parser_free(*p);
	}
	*p = NULL;
}

/* Give <s> a response parser for its exchange. */
static int rsp_take(struct session *s)
{
	struct worker *w = s->w;

	if (!s->rsp)
		s->rsp = parser_take(s, w->rsp_cache, &w->n_rsp_cache, H1_RESPONSE);
	return s->rsp ? 0 : -ENOMEM;
}

static void rsp_give(struct session *s)
{
	parser_give(&s->rsp, s->w->rsp_cache, &s->w->n_rsp_cache);
}

/* Give <s> a request parser: at its first byte, and at the first byte of a request after
 * it idled without one. */
static int rqp_take(struct session *s)
{
	struct worker *w = s->w;

	if (!s->rqp)
		s->rqp = parser_take(s, w->rqp_cache, &w->n_rqp_cache, H1_REQUEST);
	return s->rqp ? 0 : -ENOMEM;
}

/* An idle session's request parser and buffers go back when nothing of the next request
 * is here. */
static void rqp_give(struct session *s)
{
	if (evbuffer_get_length(cli_in(s)))
		return;
	if (s->rqp && h1_parser_idle(s->rqp))
		parser_give(&s->rqp, s->w->rqp_cache, &s->w->n_rqp_cache);
	conn_release_buffers(s->cli);
}

/* Give <s> an exchange, cleared: at a request's head, or for an answer before one. */
static int stream_take(struct session *s)
{
	struct worker *w = s->w;
	struct stream *x = s->x;

	if (x) {
		limits_release(x);
		upq_release(s);
	} else {
		x = w->n_x_cache ? w->x_cache[--w->n_x_cache] : malloc(sizeof(*x));
		if (!x)
			return -ENOMEM;
		s->x = x;
	}
	memset(x, 0, sizeof(*x));
	x->s = s;
	x->srv = -1;
	return 0;
}

/* The exchange of <s> is over (logged, its upstream given back): keep it for another. */
static void stream_give(struct session *s)
{
	struct worker *w = s->w;

	if (!s->x)
		return;
	if (w->n_x_cache < sizeof(w->x_cache) / sizeof(w->x_cache[0]))
		w->x_cache[w->n_x_cache++] = s->x;
	else
		free(s->x);
	s->x = NULL;
}

/* An accepted session's client connection follows it in the same slab object (aligned on
 * 8, all it needs: 168 + 280 bytes, one 448-byte object). */
#define SESS_HEAD ((sizeof(struct session) + 7) & ~(size_t)7)

/* Free <s> and everything it holds; only sess_leave() calls this, at depth 0. */
static void sess_destroy(struct session *s)
{
	struct worker *w = s->w;

	if (s->x) {
		px_end(s);
		limits_release(s->x);
		upq_release(s);
		cachephase_end(s);
	}
	TAILQ_REMOVE(&w->sessions, s, link);
	idle_leave(s);
	if (!s->virt) {
		w->n_conns--;
		stats_conn_close(w->rt->stats, w->id);
	}
	if (s->h2) {
		struct session *o;

		/* Its streams' sessions may end later: they lose the TLS connection's identity. */
		TAILQ_FOREACH(o, &w->sessions, link)
		if (o->tls_cli == s->cli)
			o->tls_cli = NULL;
	}
	h2conn_free(s->h2);
	if (w->paused && w->n_conns < s->cfg->limits.max_connections) {
		for (size_t i = 0; i < w->n_listeners; i++)
			listener_pause(w->listeners[i], false);
		w->paused = false;
	}
	if (s->dns)
		evdns_getaddrinfo_cancel(s->dns);
	tunnel_free(s->tun);
	free(s->target);
	if (s->x && s->x->up)
		conn_free(s->x->up);
	if (s->x && s->x->srv >= 0)
		backend_done(&w->bws[s->x->be_idx], s->x->srv);
	stream_give(s);
	conn_free(s->cli);
	h1_parser_free(s->rqp);
	s->rqp = NULL;
	rsp_give(s);
	if (s->timer)
		event_free(s->timer);
	if (s->total)
		event_free(s->total);
	if (s->delay)
		event_free(s->delay);
	if (s->virt)
		free(s); /* an HTTP/2 stream's */
	else
		slab_free(s);
	/* A draining worker is done with its last client. */
	if (w->draining && !w->n_conns)
		event_base_loopbreak(w->base);
}

/* Every callback runs between sess_enter() and sess_leave(), and code that ends a session
 * only marks it dead, so no frame ever touches a freed session. */
static void sess_enter(struct session *s)
{
	s->depth++;
}

static void sess_leave(struct session *s);

static void head_timeout(struct session *s);

/* Close the keep-alive connections whose time is up, quietly, and answer the new ones that
 * sent no head in time. */
static void on_idle_expiry(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t now = clock_coarse_ms();
	struct session *s;

	(void)fd;
	(void)what;
	while ((s = TAILQ_FIRST(&w->idle)) && s->idle_until_ms <= now) {
		idle_leave(s);
		sess_enter(s);
		sess_kill(s);
		sess_leave(s);
	}
	while ((s = TAILQ_FIRST(&w->fresh)) && s->idle_until_ms <= now) {
		idle_leave(s);
		sess_enter(s);
		head_timeout(s);
		sess_leave(s);
	}
	idle_arm(w, now);
}

static void linger_flushed(struct session *s);

/* The end of a callback: send what was staged, and wake a paused side whose peer's output
 * drained, through a deferred callback so that this one can return first. */
static void sess_flush(struct session *s)
{
	size_t bs = s->cfg->limits.buffer_size;
	struct conn *up = s->x ? s->x->up : NULL;

	if (evbuffer_get_length(cli_stage(s)))
		conn_send(s->cli, cli_stage(s));
	if (evbuffer_get_length(up_stage(s))) {
		if (up)
			conn_send(up, up_stage(s));
		else
			evbuffer_drain(up_stage(s), evbuffer_get_length(up_stage(s)));
	}
	if (s->st == SS_LINGER) {
		linger_flushed(s);
		return;
	}
	if (s->up_paused && up && evbuffer_get_length(cli_out(s)) < bs) {
		s->up_paused = false;
		conn_enable(up, CONN_READING);
		conn_trigger_read(up);
	}
	if (s->cli_paused && up && evbuffer_get_length(up_out(s)) < bs) {
		s->cli_paused = false;
		conn_enable(s->cli, CONN_READING);
		conn_trigger_read(s->cli);
	}
}

static void sess_leave(struct session *s)
{
	if (s->depth == 1) {
		if (!s->dead) {
			sess_flush(s);
		} else {
			/* The stages are the worker's: leave them empty for the next session. */
			evbuffer_drain(cli_stage(s), evbuffer_get_length(cli_stage(s)));
			evbuffer_drain(up_stage(s), evbuffer_get_length(up_stage(s)));
		}
	}
	if (--s->depth == 0 && s->dead)
		sess_destroy(s);
}

/* Mark <s> for destruction and silence its events; the memory goes in sess_leave(). */
static void sess_kill(struct session *s)
{
	s->dead = true;
	conn_disable(s->cli, CONN_READING | CONN_WRITING);
	if (s->x && s->x->up)
		conn_disable(s->x->up, CONN_READING | CONN_WRITING);
	idle_leave(s);
	timer_del(s);
	if (s->total)
		evtimer_del(s->total);
	if (s->delay)
		evtimer_del(s->delay);
}

/* Drop the upstream side of the exchange without reuse, and its in-flight count. */
static void upstream_drop(struct session *s)
{
	struct stream *x = s->x;

	if (!x)
		return;
	if (x->up) {
		conn_free(x->up);
		x->up = NULL;
	}
	if (x->srv >= 0) {
		backend_done(&s->w->bws[x->be_idx], x->srv);
		x->srv = -1;
	}
	evbuffer_drain(up_stage(s), evbuffer_get_length(up_stage(s)));
	s->up_paused = false;
}

/* The logging phase: one access-log line per exchange. */
static void phase_logging(struct session *s)
{
	struct stream *x = s->x;
	char method[32], target[1024], ref[512], ua[512];
	struct log_access_rec rec = {0};

	stats_request(s->w->rt->stats, s->w->id, x->route, x->status,
		x->start_us ? clock_mono_us() - x->start_us : 0);
	px_end(s);
	limits_release(x);
	upq_release(s);
	if (s->delay)
		evtimer_del(s->delay);
	cachephase_end(s);
	if (!log_access_enabled())
		return;
	rec.client = sess_client_text(s);
	rec.status = x->status;
	rec.bytes_sent = x->bytes_out;
	rec.version_minor = x->cli_minor;
	rec.protocol = s->virt ? "HTTP/2.0" : NULL;
	rec.upstream = x->upstream;
	rec.duration_us = x->start_us ? clock_mono_us() - x->start_us : 0;
	rec.time_sec = time(NULL) - (int64_t)(rec.duration_us / 1000000);
	if (x->rq) {
		rec.method = cstr(&x->rq->method_name, method, sizeof(method));
		rec.target = cstr(&x->rq->target, target, sizeof(target));
		rec.referer = cstr(h1_hdrs_get(&x->rq->hdrs, "Referer"), ref, sizeof(ref));
		rec.user_agent = cstr(h1_hdrs_get(&x->rq->hdrs, "User-Agent"), ua, sizeof(ua));
	}
	log_access(&rec);
}

/* Shut the write side once the last response is flushed; the close itself waits for the
 * client to close or the linger timer, so unread request bytes do not turn into a reset
 * that destroys the response before the client reads it. With nothing unread, the close
 * comes at once (as nginx's lingering close only lingers over unread bytes): no shutdown,
 * no wait for the client's FIN. */
static void linger_flushed(struct session *s)
{
	if (s->shut || evbuffer_get_length(cli_out(s)) || evbuffer_get_length(cli_stage(s)))
		return;
	if (s->unread_none) {
		sess_kill(s);
		return;
	}
	s->shut = true;
	if (conn_shutdown_write(s->cli) < 0)
		sess_kill(s);
}

/* Enter LINGER: drop the upstream, stop reading requests (unread bytes are discarded),
 * and close once the queued answer is out and the client closed or LINGER_MS passed. */
static void sess_linger(struct session *s)
{
	const struct conn *c = s->cli;

	/* The whole request was read and nothing follows it, neither in the input buffer nor
	 * read ahead by the transport. */
	s->unread_none = !s->virt && s->x && s->x->req_done && !evbuffer_get_length(cli_in(s)) &&
			 !(c->tr->pending && c->tr->pending(s->cli));
	upstream_drop(s);
	if (s->total)
		evtimer_del(s->total);
	idle_leave(s); /* timed as a lingering session from now on */
	s->st = SS_LINGER;
	if (s->x)
		s->x->rq = NULL;
	rsp_give(s);
	/* Lingering reads what comes for LINGER_MS whatever the client's timeouts; closing at
	 * once keeps them (re-arming the read event would cost an epoll_ctl() pair). */
	if (!s->unread_none)
		conn_set_timeouts(s->cli, NULL, NULL);
	conn_enable(s->cli, CONN_READING | CONN_WRITING);
	if (!s->unread_none)
		conn_set_read_high(s->cli, 0);
	{
		struct timeval tv = clock_ms_tv(LINGER_MS);

		timer_set(s, &tv);
	}
	evbuffer_drain(cli_in(s), evbuffer_get_length(cli_in(s)));
	/* sess_leave() sends the staged answer and half-closes once it is out. */
}

/* Answer with the whole response <r> (<len> bytes, status <status>, "Connection: close")
 * and close the connection once it is sent. */
static void send_canned(struct session *s, int status, const char *r, size_t len)
{
	char g[256];
	size_t glen;

	if (!s->x && stream_take(s)) {
		sess_kill(s);
		return;
	}
	BUG_ON(s->x->resp_head_sent);
	/* A gRPC client reads statuses, not pages: a trailers-only answer (the log keeps the
	 * HTTP status). */
	if (s->x->grpc && status >= 400 &&
		(glen = h2_grpc_answer(g, sizeof(g), status, s->x->deadline))) {
		r = g;
		len = glen;
	}
	evbuffer_add(cli_stage(s), r, len);
	s->x->status = status;
	s->x->resp_head_sent = true;
	phase_logging(s);
	sess_linger(s);
}

/* Answer with a canned <status> (before any response byte went out) and close. */
static void send_error(struct session *s, int status)
{
	size_t len;
	const char *r = h1_error_response(status, &len);

	send_canned(s, status, r, len);
}

/* End the client connection: the response already started and cannot be completed, and a
 * close is the only way to say so (never a fake end of body). */
static void stream_abort(struct session *s, const char *why)
{
	log_ratelimited(
		LOG_LVL_WARN, "client %s: %s; closing mid-response", SESS_PEER(s), why);
	s->x->status = s->x->status ? s->x->status : 502;
	phase_logging(s);
	/* Flush what the client was already promised, then close without the final chunk. */
	sess_linger(s);
}

/* ------------------------------------------------------------------ parsing */

/* Run <p> over <in> until an event other than "need more", feeding at most <limit> bytes.
 * Bytes consumed before a "need more" are drained here; for any other event the caller
 * drains the returned count after using the event (BODY data points into <in>). h1_parse()
 * is called at least once, even with no input, so events that need no bytes (the end of a
 * message without a body) come out. */
static size_t parse_step(
	struct h1_parser *p, struct evbuffer *in, size_t limit, struct h1_event *ev)
{
	for (;;) {
		struct evbuffer_iovec v;
		const char *data = NULL;
		size_t len = 0, n;

		if (evbuffer_peek(in, -1, NULL, &v, 1) >= 1) {
			data = v.iov_base;
			len = v.iov_len;
		}
		if (len > limit)
			len = limit;
		n = h1_parse(p, data, len, ev);
		if (ev->type != H1_EV_NONE)
			return n;
		evbuffer_drain(in, n);
		limit -= n;
		if (!n || !limit || !evbuffer_get_length(in))
			return 0;
	}
}

/* ------------------------------------------------------------------ request phases */

/* An absolute-form target (http://host/path): the authority becomes Host and the target its
 * path, which is a suffix of the original bytes, so nothing is copied. */
static int absolute_target(struct h1_msg *m)
{
	static const char root[] = "/";
	const char *t = m->target.p, *end = t + m->target.len, *auth, *path;

	auth = memmem(t, m->target.len, "://", 3);
	if (!auth)
		return -EINVAL;
	auth += 3;
	for (path = auth; path < end && *path != '/' && *path != '?'; path++)
		;
	if (path == auth)
		return -EINVAL;
	if (h1_hdrs_set(&m->hdrs, "Host", 4, auth, (size_t)(path - auth)) < 0)
		return -ENOSPC;
	if (path < end && *path == '/') {
		m->target.p = path;
		m->target.len = (size_t)(end - path);
	} else {
		m->target.p = root;
		m->target.len = 1;
	}
	return 0;
}

/* request_filter: what the engine refuses (CONNECT, a bad absolute target), the hook
 * (routing in pingd), then the request's properties. Returns 0, or -1 after answering with
 * an error. */
/* Whether the route's method list <l> takes <m>'s method (GET takes HEAD too). */
static bool method_allowed(const struct cfg_str_list *l, const struct h1_msg *m)
{
	const struct h1_str *n = &m->method_name;

	for (size_t i = 0; i < l->n; i++) {
		const char *a = l->v[i];

		if ((strlen(a) == n->len && !memcmp(a, n->p, n->len)) ||
			(m->method == H1_METHOD_HEAD && !strcmp(a, "GET")))
			return true;
	}
	return false;
}

/* 405 with the route's methods in Allow (RFC 9110 §15.5.6), then close. */
static void send_405(struct session *s, const struct cfg_str_list *l)
{
	struct evbuffer *b = cli_stage(s);
	bool head = false;

	BUG_ON(s->x->resp_head_sent);
	if (s->x->grpc) {
		send_error(s, 405);
		return;
	}
	evbuffer_add_printf(b, "HTTP/1.1 405 Method Not Allowed\r\nAllow: ");
	for (size_t i = 0; i < l->n; i++) {
		evbuffer_add_printf(b, "%s%s", i ? ", " : "", l->v[i]);
		head = head || !strcmp(l->v[i], "HEAD");
	}
	for (size_t i = 0; i < l->n && !head; i++)
		if (!strcmp(l->v[i], "GET")) {
			evbuffer_add_printf(b, ", HEAD");
			head = true;
		}
	evbuffer_add_printf(b, "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	s->x->status = 405;
	s->x->resp_head_sent = true;
	phase_logging(s);
	sess_linger(s);
}

static int phase_request_filter(struct session *s)
{
	struct stream *x = s->x;
	struct h1_msg *m = x->rq;

	if (m->method == H1_METHOD_CONNECT) {
		/* Routing (the hook) picks the route whose allow-list decides; no phase after
		 * it applies to a tunnel to a target of the client's choosing. */
		if (px_filter(s, px_ops->request_filter) == 0)
			connect_target(s);
		return -1;
	}
	if (m->method == H1_METHOD_OPTIONS && m->target.len == 1 && m->target.p[0] == '*') {
		/* "OPTIONS *" asks about the server itself, not a resource of an upstream: the
		 * proxy answers it (RFC 9110 §9.3.7). */
		static const char options_star[] = "HTTP/1.1 200 OK\r\n"
						   "Allow: GET, HEAD, POST, PUT, DELETE, "
						   "OPTIONS, PATCH\r\n"
						   "Content-Length: 0\r\n"
						   "Connection: close\r\n\r\n";

		send_canned(s, 200, options_star, sizeof(options_star) - 1);
		return -1;
	}
	if ((m->flags & H1_F_ABS_TARGET) && absolute_target(m) < 0) {
		send_error(s, 400);
		return -1;
	}
	if (px_filter(s, px_ops->request_filter) < 0)
		return -1;
	if (x->route && x->route->methods.n && !method_allowed(&x->route->methods, m)) {
		send_405(s, &x->route->methods);
		return -1;
	}
	x->cli_minor = m->minor;
	x->idempotent = method_idempotent(m->method);
	x->req_body = m->framing != H1_BODY_NONE;
	x->req_chunked = m->framing == H1_BODY_CHUNKED;
	x->expect = (m->flags & H1_F_EXPECT_CONTINUE) != 0;
	if (m->flags & H1_F_EXPECT_OTHER) {
		send_error(s, 417);
		return -1;
	}
	if (!(m->flags & H1_F_KEEP_ALIVE))
		s->close_after = true;
	if (s->cfg->limits.max_requests && s->nreq >= s->cfg->limits.max_requests)
		s->close_after = true;
	return 0;
}

/* The bytes a hashing pool hashes for this request. */

static uint64_t request_hash(struct session *s)
{
	const struct backend *be = s->x->be;
	const struct h1_msg *m = s->x->rq;
	const struct cfg_hash_key *hk = &be->cfg->hash_key;
	const struct h1_str *v;
	const char *val = "";
	size_t len = 0;

	if (be->cfg->selection != CFG_SEL_KETAMA && be->cfg->selection != CFG_SEL_MAGLEV)
		return 0;
	switch (hk->src) {
	case CFG_HASH_URI:
		val = m->target.p;
		len = m->target.len;
		break;
	case CFG_HASH_HEADER:
		v = h1_hdrs_get(&m->hdrs, hk->name);
		if (v) {
			val = v->p;
			len = v->len;
		}
		break;
	case CFG_HASH_COOKIE:
		v = h1_hdrs_get(&m->hdrs, "Cookie");
		if (v && !backend_cookie_value(v->p, v->len, hk->name, &val, &len)) {
			val = "";
			len = 0;
		}
		break;
	default:
		val = sess_client_text(s);
		len = strlen(val);
		break;
	}
	return backend_hash(be, val ? val : "", len);
}

/* backend_select() skipping the servers this worker holds in a passive-health cool-down. When
 * every usable server is cooling down, the plain choice is taken: trying one beats a 502. */
static int select_server(struct session *s, struct backend_wstate *ws, uint64_t tried)
{
	struct stream *x = s->x;
	uint64_t now = clock_coarse_ms(), skip = tried;

	for (size_t k = 0; k <= x->be->n; k++) {
		int srv = backend_select(x->be, ws, x->hash, skip);

		if (srv < 0)
			break;
		if (!ws->passive || health_passive_available(&ws->passive[srv], now))
			return srv;
		backend_done(ws, srv);
		skip |= 1ull << (srv % 64);
	}
	return backend_select(x->be, ws, x->hash, tried);
}

/* Passive health: record the outcome <ok> of the current attempt on its server. */
static void passive_report(struct session *s, bool ok)
{
	struct stream *x = s->x;
	struct backend_wstate *ws = &s->w->bws[x->be_idx];

	struct health_passive *p;

	if (!ws->passive || x->srv < 0)
		return;
	p = &ws->passive[x->srv];
	switch (health_passive_report(p, ok, clock_coarse_ms())) {
	case HEALTH_PASSIVE_DOWN:
		stats_peer_cooldown(s->w->rt->stats, s->w->id, x->be_idx, (size_t)x->srv);
		log_notice("worker %u: upstream %s: failed %s, out for %llu ms", s->w->id,
			x->be->servers[x->srv].cfg->address.text,
			p->cooldowns > 1 && p->backoff_ms > p->cooldown_ms ? "again" : "requests",
			(unsigned long long)p->backoff_ms);
		break;
	case HEALTH_PASSIVE_UP:
		log_notice("worker %u: upstream %s: answering again, back in", s->w->id,
			x->be->servers[x->srv].cfg->address.text);
		break;
	default:
		break;
	}
}

/* upstream_peer: the hook chooses the pool, then a server of it is picked. Returns 0, or -1
 * after answering. */
static int phase_upstream_peer(struct session *s)
{
	struct stream *x = s->x;
	struct backend_wstate *ws;

	if (px_filter(s, px_ops->upstream_peer) < 0)
		return -1;
	if (!x->px.has_be) {
		log_ratelimited(LOG_LVL_WARN, "client %s: upstream_peer chose no upstream",
			SESS_PEER(s));
		send_error(s, 502);
		return -1;
	}
	ws = &s->w->bws[x->be_idx];
	x->hash = request_hash(s);
	backend_note_request(ws, clock_coarse_ms());
	x->srv = select_server(s, ws, 0);
	if (x->srv < 0) {
		log_ratelimited(LOG_LVL_WARN, "upstream '%s': no usable server", x->be->cfg->name);
		send_error(s, 502);
		return -1;
	}
	return 0;
}

/* upstream_request_filter: turn the client's head into the upstream's (hop-by-hop fields
 * out, a Host for HTTP/1.0, then the hook) and set how it is serialized. Returns 0, or -1
 * after answering. */
static int phase_upstream_request_filter(struct session *s)
{
	struct stream *x = s->x;
	struct h1_msg *m = x->rq;
	struct h1_hdrs *h = &m->hdrs;
	const struct h1_str *up = (m->flags & H1_F_UPGRADE) ? h1_hdrs_get(h, "Upgrade") : NULL;
	int err = 0;

	/* An Upgrade the route allows goes to the upstream, whose 101 starts a tunnel; any
	 * other (h2c among them) is dropped and the request answered in HTTP/1.1. */
	if (up && x->route && tunnel_upgrade_allowed(&x->route->upgrade, up->p, up->len))
		x->tun = TUN_UPGRADE;
	if (h1_hdrs_strip_hop(h, x->tun == TUN_UPGRADE ? H1_HOP_KEEP_UPGRADE : 0) < 0)
		err = -ENOSPC;
	/* pingd answers Expect: 100-continue itself once the upstream is connected. */
	h1_hdrs_remove(h, "Expect", 6);
	/* A Host the hook (or a route's host:) may replace; only HTTP/1.0 can lack one. */
	if (!err && !h1_hdrs_get(h, "Host")) {
		const char *a = x->be->servers[x->srv].cfg->address.text;

		err = h1_hdrs_add(h, "Host", 4, a, strlen(a));
	}
	if (err) {
		log_ratelimited(LOG_LVL_WARN, "client %s: request head too large after rewriting",
			SESS_PEER(s));
		send_error(s, 431);
		return -1;
	}
	if (px_filter(s, px_ops->upstream_request_filter) < 0)
		return -1;
	/* Serialized at each connection attempt (retries resend the same head). */
	m->minor = 1;
	if (x->req_chunked)
		x->wflags |= H1_W_CHUNKED;
	if (!x->be->cfg->keepalive && x->tun != TUN_UPGRADE)
		x->wflags |= H1_W_CLOSE;
	return 0;
}

/* The phases from upstream_request_filter to the upstream connection. */
static void stream_connect(struct session *s)
{
	if (phase_upstream_request_filter(s) < 0)
		return;
	if (rsp_take(s) < 0) {
		upstream_drop(s);
		send_error(s, 500);
		return;
	}
	connect_upstream(s);
}

/* The phases from upstream_peer on; the pool's max_conns may queue the request (upqueue.c
 * resumes it with stream_upq_resume()). */
static void stream_proceed(struct session *s)
{
	if (phase_upstream_peer(s) < 0)
		return;
	switch (upq_acquire(s)) {
	case UPQ_GO:
		stream_connect(s);
		return;
	case UPQ_WAIT:
		return;
	default:
		log_ratelimited(LOG_LVL_WARN, "upstream '%s': max_conns reached and queue full",
			s->x->be->cfg->name);
		upstream_drop(s);
		send_error(s, 503);
		return;
	}
}

void stream_upq_resume(struct session *s, bool ok)
{
	sess_enter(s);
	if (s->dead || s->st != SS_CONNECT) {
		upq_release(s);
	} else if (ok) {
		stream_connect(s);
	} else {
		log_ratelimited(LOG_LVL_WARN, "upstream '%s': queue_timeout waiting for max_conns",
			s->x->be->cfg->name);
		upstream_drop(s);
		send_error(s, 503);
	}
	sess_leave(s);
}

static void stream_after_limits(struct session *s);

/* A request held by a rate limit's delay goes on. */
static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	sess_enter(s);
	if (!s->dead && s->st == SS_CONNECT)
		stream_after_limits(s);
	sess_leave(s);
}

/* The rate limits of the request's route (limits.c): 0 to go on now, 1 when the request is
 * held (on_delay() resumes it), -1 after answering. */
static int phase_limits(struct session *s)
{
	uint64_t wait_ms = 0, retry_s = 0;
	int status = 429;
	struct timeval tv;

	switch (limits_check(s, &wait_ms, &status, &retry_s)) {
	case LIMITS_PASS:
		return 0;
	case LIMITS_REJECT:
		limits_answer(s, status, retry_s);
		return -1;
	default:
		break;
	}
	if (!s->delay)
		s->delay = evtimer_new(s->w->base, on_delay, s);
	if (!s->delay) {
		send_error(s, 500);
		return -1;
	}
	tv = clock_ms_tv(wait_ms);
	evtimer_add(s->delay, &tv);
	return 1;
}

/* A gRPC call's grpc-timeout bounds its exchange as timeouts.total does (the sooner wins). */
static void grpc_deadline(struct session *s, const struct h1_msg *m)
{
	uint64_t ms = h2_grpc_timeout_ms(h1_hdrs_get(&m->hdrs, "grpc-timeout"));
	struct timeval tv;

	if (!ms || (s->cfg->timeouts.total_ms && ms >= s->cfg->timeouts.total_ms))
		return;
	if (!s->total)
		s->total = evtimer_new(s->w->base, on_total, s);
	if (!s->total)
		return;
	tv = clock_ms_tv(ms);
	evtimer_add(s->total, &tv);
}

/* A new request head from the client: run the phases up to the upstream connection. */
static void stream_begin(struct session *s, struct h1_msg *m)
{
	struct stream *x;
	struct timeval tv;

	if (stream_take(s)) {
		log_ratelimited(LOG_LVL_ERR, "client %s: out of memory", SESS_PEER(s));
		sess_kill(s);
		return;
	}
	x = s->x;
	x->rq = m;
	x->start_us = clock_mono_us();
	x->px.live = true;
	s->nreq++;
	s->w->requests++;
	s->st = SS_CONNECT;
	idle_leave(s);
	timer_del(s);
	if (s->total && s->cfg->timeouts.total_ms) {
		tv = clock_ms_tv(s->cfg->timeouts.total_ms);
		evtimer_add(s->total, &tv);
	}
	x->grpc = h2_is_grpc(&m->hdrs);
	if (x->grpc)
		grpc_deadline(s, m);
	if (px_filter(s, px_ops->new_ctx) < 0 || phase_request_filter(s) < 0 ||
		phase_limits(s) != 0)
		return;
	stream_after_limits(s);
}

/* The request passed its rate limits (at once, or after their delay): the cache phase, then
 * the upstream. */
static void stream_after_limits(struct session *s)
{
	if (cachephase_begin(s))
		return;
	stream_proceed(s);
}

/* The phases from upstream_peer on, for the cache phase's misses and revalidations. */
void stream_forward(struct session *s)
{
	if (s->dead)
		return;
	stream_proceed(s);
}

/* ------------------------------------------------------------------ upstream connection */

/* Event callbacks: each one is a sess_enter()/sess_leave() pair around the work. */
static void up_read(struct conn *c, void *arg);
static void up_write(struct conn *c, void *arg);
static void up_event(struct conn *c, short what, void *arg);

/* The idle pool of the server the exchange uses. */
static struct pool *cur_pool(struct session *s)
{
	return &s->w->pools[s->x->be_idx][s->x->srv];
}

/* The request is fully read: from now on the upstream owes us a response. */
static void request_done(struct session *s)
{
	struct worker *w = s->w;

	s->x->req_done = true;
	if (s->x->req_body)
		conn_set_timeouts(s->cli, NULL, w->t_send);
	if (s->x->up && s->x->up->connected && s->x->up_reused)
		conn_set_timeouts_since(s->x->up, w->t_upread, w->t_send, s->x->up->idle_ms);
	else if (s->x->up && s->x->up->connected)
		conn_set_timeouts(s->x->up, w->t_upread, w->t_send);
}

/* The upstream connection is usable: send the head, then let the body flow. */
static void upstream_ready(struct session *s)
{
	struct stream *x = s->x;
	struct worker *w = s->w;
	struct h1_buf *hb = &w->scratch;

	h1_parser_reset(s->rsp);
	h1_parser_set_method(s->rsp, x->rq->method);

	hb->len = 0;
	if (h1_buf_write_head(hb, x->rq, x->wflags) < 0) {
		upstream_drop(s);
		send_error(s, 500);
		return;
	}
	evbuffer_add(up_stage(s), hb->p, hb->len);
	/* Timeouts are libevent common timeouts (O(1) to re-arm on every read and write).
	 * Without a body, request_done() comes in this same call and sets the upstream's. */
	if (x->req_done && x->up_reused)
		conn_set_timeouts_since(x->up, w->t_upread, w->t_send, x->up->idle_ms);
	else if (x->req_done)
		conn_set_timeouts(x->up, w->t_upread, w->t_send);
	else if (x->req_body)
		conn_set_timeouts(x->up, NULL, w->t_send);
	s->st = SS_EXCHANGE;
	if (!x->req_done) {
		if (x->req_body && x->expect && x->cli_minor >= 1)
			evbuffer_add(cli_stage(s), H1_100_CONTINUE, strlen(H1_100_CONTINUE));
		if (x->req_body)
			conn_set_timeouts(s->cli, w->t_body, w->t_send);
		drive_client(s);
	}
}

/* Make <c> the exchange's upstream connection: callbacks, and a read watermark so an
 * upstream that outruns the client fills at most buffer_size of our memory. */
static void upstream_attach(struct session *s, struct conn *c)
{
	unsigned int bs = s->cfg->limits.buffer_size;

	s->x->up = c;
	conn_set_cbs(c, up_read, up_write, up_event, s);
	conn_set_read_high(c, bs);
	conn_set_write_low(c, bs / 2);
}

/* An HTTP/2 server: the exchange's upstream conn is a stream of a shared connection
 * (upstream/h2up.c), which speaks HTTP/1.1 to the exchange; it connects as a socket would. */
static void connect_h2(struct session *s, struct pool *pool, const struct cfg_addr *addr)
{
	struct stream *x = s->x;
	struct worker *w = s->w;
	const struct h2up_opts o = {
		.buffer = s->cfg->limits.buffer_size,
		.max_header_list = s->cfg->limits.max_header_size,
		.max_headers = s->cfg->limits.max_headers,
		.t_connect = w->t_connect,
		.t_send = w->t_send,
		.t_idle = pool->t_idle,
		.tls = x->be->cfg->protocol == CFG_PROTO_H2,
	};
	bool live;
	const struct conn_transport *tr = pingd_rt_up_transport(w->rt, x->be_idx, x->srv);
	struct conn *c = h2up_stream(&pool->h2, w->base, tr, addr, &o, x->fresh_only, &live);

	x->fresh_only = false;
	/* A stream on a live connection fails, when the server refuses it or the connection
	 * dies, as a reused keep-alive connection does: replayed once on a new connection. */
	x->up_reused = live;
	stats_upstream_request(w->rt->stats, w->id, x->be_idx, live);
	if (!c) {
		fail_to_connect(s, errno, false);
		return;
	}
	upstream_attach(s, c);
	conn_set_timeouts(c, NULL, w->t_connect);
}

static void connect_upstream(struct session *s)
{
	struct stream *x = s->x;
	struct pool *pool = cur_pool(s);
	const struct cfg_addr *addr = &x->be->servers[x->srv].cfg->address;
	struct conn *c;

	x->attempts++;
	x->upstream = addr->text;
	x->up_eof = false;
	x->resp_started = false;
	if (x->be->cfg->protocol != CFG_PROTO_H1) {
		connect_h2(s, pool, addr);
		return;
	}
	c = x->fresh_only ? NULL : pool_get(pool);
	x->fresh_only = false;
	stats_upstream_request(s->w->rt->stats, s->w->id, x->be_idx, c != NULL);
	if (c) {
		x->up_reused = true;
		upstream_attach(s, c);
		upstream_ready(s);
		return;
	}
	x->up_reused = false;
	c = conn_connect(s->w->base, pingd_rt_up_transport(s->w->rt, x->be_idx, x->srv), addr);
	if (!c) {
		fail_to_connect(s, errno, false);
		return;
	}
	pool->opened++;
	upstream_attach(s, c);
	/* A connect is timed by the write timeout. */
	conn_set_timeouts(c, NULL, s->w->t_connect);
}

/* Try another server (or, after a stale pooled connection, the same one on a fresh
 * connection). Returns true when an attempt started. */
static bool retry(struct session *s, bool stale)
{
	struct stream *x = s->x;
	struct backend_wstate *ws = &s->w->bws[x->be_idx];
	/* A failed connect never delivered the request, so sending it elsewhere adds no work
	 * to the pool: only replays of a request a server may have seen spend the budget. */
	bool replay = s->st != SS_CONNECT;

	if (x->up) {
		conn_free(x->up);
		x->up = NULL;
	}
	evbuffer_drain(up_stage(s), evbuffer_get_length(up_stage(s)));
	s->up_paused = false;
	if (stale) {
		/* A keep-alive connection the server closed as we reused it: not the server's
		 * fault and not an attempt of its own, the request never reached it. It goes
		 * again on a new connection: the pool's other connections to that server may
		 * be dead too (it restarted or died), and each would fail the same way. */
		x->attempts--;
		x->fresh_only = true;
		s->st = SS_CONNECT;
		connect_upstream(s);
		return true;
	}
	x->tried |= 1ull << (x->srv % 64);
	backend_done(ws, x->srv);
	x->srv = -1;
	if (x->attempts > x->be->cfg->retries ||
		(replay && !backend_retry_take(x->be, ws, clock_coarse_ms())))
		return false;
	x->srv = select_server(s, ws, x->tried);
	if (x->srv < 0)
		return false;
	stats_upstream_retry(s->w->rt->stats, s->w->id, x->be_idx);
	log_ratelimited(LOG_LVL_INFO, "retrying on %s", x->be->servers[x->srv].cfg->address.text);
	s->st = SS_CONNECT;
	connect_upstream(s);
	return true;
}

/* fail_to_connect: the connect failed or timed out; retry elsewhere or answer 502/504. */
static void fail_to_connect(struct session *s, int err, bool timed_out)
{
	log_ratelimited(LOG_LVL_WARN, "connect to %s: %s", s->x->upstream,
		timed_out ? "timed out" : strerror(err));
	if (s->x->tun == TUN_CONNECT) {
		/* A target of the client's choosing: no pool, no retry, no health. */
		send_error(s, timed_out ? 504 : 502);
		return;
	}
	passive_report(s, false);
	if (s->x->srv >= 0)
		stats_upstream_connect_error(
			s->w->rt->stats, s->w->id, s->x->be_idx, (size_t)s->x->srv);
	if (px_fail_to_connect(s, timed_out ? ETIMEDOUT : err) == PINGX_RETRY && retry(s, false))
		return;
	upstream_drop(s);
	if (cachephase_on_error(s))
		return;
	send_error(s, timed_out ? 504 : 502);
}

/* error_while_proxy: the upstream failed after the connection was made. A request the
 * upstream has not started answering may be replayed if it is idempotent and has no body;
 * otherwise 502/504, or a close if the response already started. */
static void error_while_proxy(struct session *s, const char *why, bool timed_out)
{
	struct stream *x = s->x;
	/* A request may be replayed only when no response byte came and its body (none) is not
	 * gone; the hook decides within that (pingd: idempotent methods). A timeout is the
	 * server taking its time, so it is replayed only where configured, and on another
	 * peer: the server may still be working on it. */
	bool replay = !x->resp_started && !x->req_body && x->req_done &&
		      (!timed_out || x->be->cfg->retry_on_timeout) &&
		      px_error_while_proxy(s, why) == PINGX_RETRY;
	/* A pooled connection the server closed or reset as we reused it: the request most
	 * likely never reached it (a timeout says nothing of the kind). */
	bool stale = x->up_reused && !timed_out;

	/* A stale pooled connection is not the server's fault. */
	if (!(stale && replay))
		passive_report(s, false);
	if (replay) {
		if (stale) {
			log_ratelimited(LOG_LVL_INFO,
				"upstream %s: %s on a reused connection; sending again on a new one",
				x->upstream, why);
			stats_upstream_retry(s->w->rt->stats, s->w->id, x->be_idx);
			if (retry(s, true))
				return;
		} else {
			log_ratelimited(LOG_LVL_WARN, "upstream %s: %s", x->upstream, why);
			if (retry(s, false))
				return;
		}
	} else {
		log_ratelimited(LOG_LVL_WARN, "upstream %s: %s", x->upstream, why);
	}
	if (!x->resp_head_sent) {
		upstream_drop(s);
		if (cachephase_on_error(s))
			return;
		send_error(s, timed_out ? 504 : 502);
	} else {
		stream_abort(s, why);
	}
}

/* ------------------------------------------------------------------ request body */

/* Move request body bytes from the client to the upstream while the upstream's output has
 * room; pause the client when it has none. */
static void pump_request(struct session *s)
{
	struct stream *x = s->x;
	struct evbuffer *in = cli_in(s), *out = up_stage(s);
	size_t bs = s->cfg->limits.buffer_size;
	char ch[H1_CHUNK_HDR_MAX];
	struct h1_event ev;

	while (!s->dead && s->st == SS_EXCHANGE && !x->req_done) {
		size_t olen = evbuffer_get_length(out) + evbuffer_get_length(up_out(s)), n;

		if (olen >= bs) {
			conn_disable(s->cli, CONN_READING);
			s->cli_paused = true;
			return;
		}
		n = parse_step(s->rqp, in, bs - olen, &ev);
		switch (ev.type) {
		case H1_EV_NONE:
			if (evbuffer_get_length(in)) {
				/* Out of room with the client's bytes already here: wait for the
				 * upstream's output to drain, as above (sess_flush() resumes). */
				conn_disable(s->cli, CONN_READING);
				s->cli_paused = true;
			}
			return;
		case H1_EV_BODY:
			if (x->req_chunked) {
				evbuffer_add(out, ch, h1_chunk_header(ch, ev.data.len));
				evbuffer_add(out, ev.data.p, ev.data.len);
				evbuffer_add(out, H1_CRLF, 2);
			} else {
				evbuffer_add(out, ev.data.p, ev.data.len);
			}
			evbuffer_drain(in, n);
			break;
		case H1_EV_DONE:
			if (x->req_chunked) {
				size_t need = h1_write_last_chunk(NULL, 0, ev.trailers);
				struct evbuffer_iovec v;

				if (evbuffer_reserve_space(out, need + 1, &v, 1) == 1) {
					h1_write_last_chunk(v.iov_base, need + 1, ev.trailers);
					v.iov_len = need;
					evbuffer_commit_space(out, &v, 1);
				}
			}
			evbuffer_drain(in, n);
			request_done(s);
			return;
		case H1_EV_UPGRADE:
			/* Upgrade was stripped from the upstream request: stay in HTTP. */
			h1_parser_resume_http(s->rqp);
			break;
		case H1_EV_ERROR:
			log_ratelimited(LOG_LVL_INFO, "client %s: %s (%d)", SESS_PEER(s),
				ev.reason, ev.status);
			if (x->resp_head_sent) {
				stream_abort(s, ev.reason);
			} else {
				upstream_drop(s);
				send_error(s, ev.status);
			}
			return;
		default:
			BUG_ON(ev.type == H1_EV_HEAD);
			return;
		}
	}
}

/* Read the next request head (idle or in the middle of one). */
static void read_head(struct session *s)
{
	struct evbuffer *in = cli_in(s);
	struct h1_event ev;
	size_t n;

	if (!s->nreq && h2_detect(s))
		return;
	if (!evbuffer_get_length(in) && (!s->rqp || h1_parser_idle(s->rqp)))
		return;
	if (rqp_take(s)) {
		log_ratelimited(LOG_LVL_ERR, "client %s: out of memory", SESS_PEER(s));
		sess_kill(s);
		return;
	}
	n = parse_step(s->rqp, in, SIZE_MAX, &ev);
	if (ev.type == H1_EV_UPGRADE) {
		/* The previous request asked for an upgrade (h2c, websocket) and was answered
		 * in HTTP/1.1 (Upgrade is not forwarded): the connection stays HTTP/1.1. */
		h1_parser_resume_http(s->rqp);
		n = parse_step(s->rqp, in, SIZE_MAX, &ev);
	}
	switch (ev.type) {
	case H1_EV_NONE:
		if (s->st == SS_IDLE && !h1_parser_idle(s->rqp)) {
			s->st = SS_HEAD;
			idle_leave(s);
			timer_set(s, s->w->t_header);
		}
		return;
	case H1_EV_HEAD:
		evbuffer_drain(in, n);
		stream_begin(s, ev.msg);
		return;
	case H1_EV_ERROR:
		log_ratelimited(LOG_LVL_INFO, "client %s: %s (%d)", SESS_PEER(s), ev.reason,
			ev.status);
		if (stream_take(s)) {
			sess_kill(s);
			return;
		}
		s->x->start_us = clock_mono_us();
		send_error(s, ev.status);
		return;
	default:
		log_err("client %s: unexpected parser event %d before a head", SESS_PEER(s),
			ev.type);
		sess_kill(s);
		return;
	}
}

static void drive_client(struct session *s)
{
	switch (s->st) {
	case SS_IDLE:
	case SS_HEAD:
		read_head(s);
		break;
	case SS_EXCHANGE:
		if (!s->x->req_done)
			pump_request(s);
		break;
	case SS_LINGER:
		evbuffer_drain(cli_in(s), evbuffer_get_length(cli_in(s)));
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ response */

/* response_filter: the upstream's head becomes the client's (hop-by-hop fields out, then the
 * hook). Returns 0 or non-zero when the head cannot be used. */
static int phase_response_filter(struct session *s, struct h1_msg *m, unsigned int hop)
{
	int err = 0;

	if (h1_hdrs_strip_hop(&m->hdrs, hop) < 0)
		return -ENOSPC;
	if (px_ops->response_filter) {
		s->x->px.resp = m;
		err = px_ops->response_filter(&s->x->px, px_data);
		s->x->px.resp = NULL;
	}
	return err;
}

/* An upstream head: relay a 1xx (not 100, which pingd sends itself, and never to
 * HTTP/1.0), or run the cache phase and response_filter on the final head and choose the
 * client framing: Content-Length as is, chunked or close-delimited re-framed as chunked for
 * HTTP/1.1 and close-delimited for HTTP/1.0. Returns 0, 1 when the cache answered the client
 * instead (the exchange is over), or -1 when the head cannot be forwarded. */
static int response_head(struct session *s, struct h1_msg *m)
{
	struct stream *x = s->x;
	unsigned int flags = 0;

	if (m->status == 101 && x->tun == TUN_UPGRADE) {
		/* The upstream took the Upgrade: its 101 goes to the client with Upgrade and
		 * "Connection: upgrade", and the connection becomes a tunnel. */
		if (phase_response_filter(s, m, H1_HOP_KEEP_UPGRADE))
			return -1;
		x->status = 101;
		passive_report(s, true);
		s->w->scratch.len = 0;
		if (h1_buf_write_head(&s->w->scratch, m, 0) < 0)
			return -1;
		evbuffer_add(cli_stage(s), s->w->scratch.p, s->w->scratch.len);
		x->resp_head_sent = true;
		tunnel_begin(s);
		return 0;
	}
	if (m->status < 200) {
		x->interim = true;
		/* 100 is pingd's to send (it stripped Expect); HTTP/1.0 clients get no 1xx. */
		if (m->status == 100 || x->cli_minor == 0 || m->status == 101)
			return m->status == 101 ? -1 : 0;
		h1_hdrs_strip_hop(&m->hdrs, 0);
		s->w->scratch.len = 0;
		if (h1_buf_write_head(&s->w->scratch, m, 0) == 0)
			evbuffer_add(cli_stage(s), s->w->scratch.p, s->w->scratch.len);
		return 0;
	}
	if (x->cx && !s->x->resp_head_sent) {
		int r = cachephase_response(s, m);

		if (r)
			return r;
	}
	if (phase_response_filter(s, m, 0))
		return -1;
	switch (m->framing) {
	case H1_BODY_NONE:
	case H1_BODY_LENGTH:
		break;
	case H1_BODY_CHUNKED:
	case H1_BODY_CLOSE:
		if (x->cli_minor >= 1) {
			x->resp_chunked = true;
			flags |= H1_W_CHUNKED;
		} else {
			s->close_after = true;
		}
		break;
	default:
		return -1;
	}
	/* Unread request body bytes would be taken for the next request; a draining worker
	 * tells the client to take its next request elsewhere. */
	if (!x->req_done || s->w->draining)
		s->close_after = true;
	if (s->close_after)
		flags |= H1_W_CLOSE;
	else if (x->cli_minor == 0)
		flags |= H1_W_KEEP_ALIVE;
	x->status = m->status;
	/* 502-504 from the upstream mean it (or what is behind it) is failing. */
	passive_report(s, m->status < 502 || m->status > 504);
	s->w->scratch.len = 0;
	if (h1_buf_write_head(&s->w->scratch, m, flags) < 0)
		return -1;
	evbuffer_add(cli_stage(s), s->w->scratch.p, s->w->scratch.len);
	x->resp_head_sent = true;
	return 0;
}

/* Set while a local answer ends its exchange too deep in a chain of pipelined local answers:
 * the next request is then read from the loop (conn_trigger_read()) rather than from this
 * frame, so a client pipelining many hits cannot grow the stack without bound. */
static __thread bool finish_defers;
static __thread unsigned int local_nest;

/* The exchange is over: log, return the upstream connection to its pool when it can carry
 * another request, then wait for the next request or close. */
static void stream_finish(struct session *s, bool reuse)
{
	struct stream *x = s->x;
	struct pool *pool = x->srv >= 0 ? cur_pool(s) : NULL;

	phase_logging(s);
	if (s->total)
		evtimer_del(s->total);
	if (evbuffer_get_length(up_stage(s))) {
		/* Request bytes still unsent: the server answered early, so the connection is
		 * mid-request and cannot carry another one. */
		reuse = false;
		evbuffer_drain(up_stage(s), evbuffer_get_length(up_stage(s)));
	}
	if (x->up) {
		struct conn *c = x->up;

		x->up = NULL;
		c->requests++;
		if (reuse && pool)
			pool_put(pool, c, s->w->n_conns);
		else
			conn_free(c);
	}
	if (x->srv >= 0)
		backend_done(&s->w->bws[x->be_idx], x->srv);
	x->srv = -1;
	x->rq = NULL;
	s->up_paused = false;
	if (s->close_after) {
		sess_linger(s);
		return;
	}
	s->st = SS_IDLE;
	if (s->cli_paused) {
		s->cli_paused = false;
		conn_enable(s->cli, CONN_READING);
	}
	rqp_give(s);
	rsp_give(s);
	stream_give(s);
	/* Draining, a response that promised keep-alive: the client may already be sending
	 * the next request, which is answered with "Connection: close"; a quiet one closes
	 * soon. */
	if (s->w->draining)
		timer_set(s, s->w->t_drain);
	else
		idle_enter(s);
	if (finish_defers)
		conn_trigger_read(s->cli);
	else
		drive_client(s);
}

/* The final response is complete: end the client body and decide whether the upstream
 * connection can carry another request. */
static void response_done(struct session *s, const struct h1_hdrs *trailers, bool up_closed)
{
	struct stream *x = s->x;
	struct h1_msg *m = h1_parser_msg(s->rsp);
	bool reuse;

	if (x->cx)
		cachephase_done(s);
	if (x->resp_chunked) {
		size_t need = h1_write_last_chunk(NULL, 0, trailers);
		struct evbuffer_iovec v;

		if (evbuffer_reserve_space(cli_stage(s), need + 1, &v, 1) == 1) {
			h1_write_last_chunk(v.iov_base, need + 1, trailers);
			v.iov_len = need;
			evbuffer_commit_space(cli_stage(s), &v, 1);
		}
	}
	reuse = !up_closed && !x->up_eof && x->req_done && m && (m->flags & H1_F_KEEP_ALIVE) &&
		m->framing != H1_BODY_CLOSE && x->be->cfg->keepalive &&
		!evbuffer_get_length(x->up->in);
	stream_finish(s, reuse);
}

/* The upstream closed and every byte it sent has been parsed. */
static void upstream_closed(struct session *s)
{
	struct h1_event ev;

	h1_parse_eof(s->rsp, &ev);
	if (ev.type == H1_EV_DONE && !s->x->interim && s->x->resp_head_sent)
		response_done(s, ev.trailers, true);
	else if (!s->x->resp_started)
		error_while_proxy(s, "closed before responding", false);
	else
		error_while_proxy(
			s, ev.type == H1_EV_ERROR ? ev.reason : "closed mid-response", false);
}

static void drive_response(struct session *s)
{
	struct stream *x = s->x;
	size_t bs = s->cfg->limits.buffer_size;
	char ch[H1_CHUNK_HDR_MAX];
	struct h1_event ev;

	while (!s->dead && s->st == SS_EXCHANGE && x->up) {
		struct evbuffer *in = x->up->in, *out = cli_stage(s);
		size_t olen = evbuffer_get_length(out) + evbuffer_get_length(cli_out(s)), n;

		if (olen >= bs) {
			conn_disable(x->up, CONN_READING);
			s->up_paused = true;
			return;
		}
		if (evbuffer_get_length(in))
			x->resp_started = true;
		n = parse_step(s->rsp, in, bs - olen, &ev);
		switch (ev.type) {
		case H1_EV_NONE:
			if (evbuffer_get_length(in)) {
				/* The parser took all the room the client's output had left and
				 * wants more of what is already here (the next head, pipelined):
				 * nothing will come from the upstream to wake us, so wait as for a
				 * full output; sess_flush() or cli_write() carries on. */
				conn_disable(x->up, CONN_READING);
				s->up_paused = true;
				return;
			}
			if (x->up_eof)
				upstream_closed(s);
			return;
		case H1_EV_HEAD: {
			int r;

			evbuffer_drain(in, n);
			r = response_head(s, ev.msg);
			if (r > 0) /* answered from the cache; the exchange is over */
				return;
			if (r < 0) {
				error_while_proxy(s, "unusable response head", false);
				return;
			}
			break;
		}
		case H1_EV_BODY:
			if (x->resp_chunked) {
				evbuffer_add(out, ch, h1_chunk_header(ch, ev.data.len));
				evbuffer_add(out, ev.data.p, ev.data.len);
				evbuffer_add(out, H1_CRLF, 2);
			} else {
				evbuffer_add(out, ev.data.p, ev.data.len);
			}
			x->bytes_out += ev.data.len;
			if (x->cx)
				cachephase_body(s, ev.data.p, ev.data.len);
			evbuffer_drain(in, n);
			break;
		case H1_EV_DONE:
			evbuffer_drain(in, n);
			if (x->interim) {
				x->interim = false;
				break;
			}
			response_done(s, ev.trailers, false);
			return;
		case H1_EV_ERROR:
			error_while_proxy(s, ev.reason, false);
			return;
		default:
			error_while_proxy(s, "protocol switch not supported", false);
			return;
		}
	}
}

/* ------------------------------------------------------------------ local answers */

int stream_local_head(struct session *s, struct h1_msg *m)
{
	struct stream *x = s->x;

	if (!x->req_done && !x->req_body) {
		struct h1_event ev;
		size_t n = parse_step(s->rqp, cli_in(s), SIZE_MAX, &ev);

		if (ev.type == H1_EV_DONE) {
			evbuffer_drain(cli_in(s), n);
			x->req_done = true;
		}
	}
	return response_head(s, m) ? -1 : 0;
}

void stream_local_done(struct session *s)
{
	if (local_nest >= LOCAL_NEST_MAX) {
		finish_defers = true;
		stream_finish(s, false);
		finish_defers = false;
		return;
	}
	local_nest++;
	stream_finish(s, false);
	local_nest--;
}

void stream_local_error(struct session *s, int status)
{
	upstream_drop(s);
	send_error(s, status);
}

/* ------------------------------------------------------------------ callbacks */

static void up_read(struct conn *c, void *arg)
{
	struct session *s = arg;

	(void)c;
	sess_enter(s);
	if (!s->dead)
		drive_response(s);
	sess_leave(s);
}

static void up_write(struct conn *c, void *arg)
{
	struct session *s = arg;

	sess_enter(s);
	if (!s->dead && s->cli_paused &&
		evbuffer_get_length(c->out) < s->cfg->limits.buffer_size) {
		s->cli_paused = false;
		conn_enable(s->cli, CONN_READING);
		drive_client(s);
	}
	sess_leave(s);
}

static void up_event(struct conn *c, short what, void *arg)
{
	struct session *s = arg;

	sess_enter(s);
	if (s->dead || c != s->x->up)
		goto out;
	if (what & CONN_CONNECTED) {
		if (s->x->tun == TUN_CONNECT) {
			evbuffer_add(cli_stage(s), CONNECT_OK, strlen(CONNECT_OK));
			s->x->status = 200;
			s->x->resp_head_sent = true;
			tunnel_begin(s);
		} else {
			upstream_ready(s);
		}
	} else if (s->st == SS_CONNECT) {
		fail_to_connect(s, EVUTIL_SOCKET_ERROR(), (what & CONN_TIMEOUT) != 0);
	} else if (what & CONN_TIMEOUT) {
		error_while_proxy(
			s, (what & CONN_READING) ? "read timed out" : "write timed out", true);
	} else if (what & CONN_EOF) {
		s->x->up_eof = true;
		drive_response(s);
	} else {
		/* Refused once connected (an HTTP/2 stream the server refused, or one past its
		 * GOAWAY): the server never saw the request, as with a stale keep-alive conn. */
		if (EVUTIL_SOCKET_ERROR() == ECONNREFUSED)
			s->x->up_reused = true;
		error_while_proxy(s, strerror(EVUTIL_SOCKET_ERROR()), false);
	}
out:
	sess_leave(s);
}

static void cli_read(struct conn *c, void *arg)
{
	struct session *s = arg;

	(void)c;
	sess_enter(s);
	if (!s->dead)
		drive_client(s);
	sess_leave(s);
}

static void cli_write(struct conn *c, void *arg)
{
	struct session *s = arg;

	sess_enter(s);
	if (s->dead)
		goto out;
	if (s->st == SS_LINGER) {
		linger_flushed(s);
	} else if (s->up_paused && s->x && s->x->up &&
		   evbuffer_get_length(c->out) <
			   s->cfg->limits.buffer_size) {
		s->up_paused = false;
		conn_enable(s->x->up, CONN_READING);
		drive_response(s);
	}
out:
	sess_leave(s);
}

/* Client EOF, error or timeout. A half-close after a whole request still gets its answer;
 * a stalled request body gets 408; anything else ends the session (logged as 499). */
static void cli_event(struct conn *c, short what, void *arg)
{
	struct session *s = arg;

	sess_enter(s);
	if (s->dead)
		goto out;
	if (c->handshaking) {
		log_ratelimited(LOG_LVL_INFO, "client %s: %s handshake %s", CONN_PEER(c),
			c->tr->name,
			what & CONN_TIMEOUT ? "timed out" :
			what & CONN_EOF	    ? "cut short" :
					      strerror(c->err));
		sess_kill(s);
	} else if ((what & CONN_EOF) && s->st == SS_EXCHANGE && s->x->req_done) {
		/* Half-closed after a complete request: answer it, then close. */
		s->close_after = true;
	} else if ((what & CONN_TIMEOUT) && (what & CONN_READING) &&
		   s->st == SS_EXCHANGE && !s->x->resp_head_sent) {
		log_ratelimited(
			LOG_LVL_INFO, "client %s: request body timed out", SESS_PEER(s));
		upstream_drop(s);
		send_error(s, 408);
	} else {
		if (s->st == SS_EXCHANGE || s->st == SS_CONNECT) {
			s->x->status = s->x->status ? s->x->status : 499;
			phase_logging(s);
		}
		sess_kill(s);
	}
out:
	sess_leave(s);
}

/* The session timer: a cache lock's poll, or a timeout (head_timeout()). */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	sess_enter(s);
	if (s->dead)
		goto out;
	if (s->st == SS_CONNECT && cachephase_waiting(s)) {
		cachephase_poll(s);
	} else {
		head_timeout(s);
	}
out:
	sess_leave(s);
}

/* A session's timeout: 408 for a head that took too long, a quiet close otherwise
 * (keep-alive expiry, the end of lingering). */
static void head_timeout(struct session *s)
{
	if (s->dead)
		return;
	if (s->st != SS_HEAD) {
		sess_kill(s);
		return;
	}
	log_ratelimited(LOG_LVL_INFO, "client %s: request head timed out", SESS_PEER(s));
	if (stream_take(s))
		sess_kill(s);
	else
		send_error(s, 408);
}

/* A gRPC answer under way whose deadline passed: its messages so far (whole chunks), then
 * trailers with DEADLINE_EXCEEDED, as a server ends a call it gave up on. */
static void grpc_expire(struct session *s)
{
	char t[128];
	int n = snprintf(t, sizeof(t),
		"0\r\ngrpc-status: %d\r\ngrpc-message: pingd: deadline exceeded\r\n\r\n",
		H2_GRPC_DEADLINE_EXCEEDED);

	upstream_drop(s);
	evbuffer_add(cli_stage(s), t, (size_t)n);
	s->close_after = true;
	stream_finish(s, false);
}

/* timeouts.total: 504 before the response started, a close after (gRPC: a status). */
static void on_total(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	sess_enter(s);
	if (!s->dead && (s->st == SS_CONNECT || s->st == SS_EXCHANGE)) {
		s->x->deadline = s->x->grpc;
		log_ratelimited(LOG_LVL_WARN, "client %s: exchange exceeded %s", SESS_PEER(s),
			s->x->grpc ? "its deadline (grpc-timeout or timeouts.total)" : "timeouts.total");
		if (!s->x->resp_head_sent) {
			upstream_drop(s);
			send_error(s, 504);
		} else if (s->x->grpc && s->x->resp_chunked) {
			grpc_expire(s);
		} else {
			stream_abort(s, "total timeout");
		}
	}
	sess_leave(s);
}

/* ------------------------------------------------------------------ tunnels */

/* The tunnel ended (both sides closed, an error, the idle timeout): log it, close both. */
static void tunnel_done(void *arg, const char *why)
{
	struct session *s = arg;

	sess_enter(s);
	if (why)
		log_ratelimited(LOG_LVL_INFO, "client %s: tunnel to %s closed: %s",
			SESS_PEER(s), s->x->upstream ? s->x->upstream : "?", why);
	s->x->bytes_out = tunnel_bytes(s->tun, false);
	phase_logging(s);
	sess_kill(s);
	sess_leave(s);
}

/* The 101 or the CONNECT's 200 is staged: from now on the session carries bytes only. The
 * exchange's timers give way to the tunnel's idle timeout. */
static void tunnel_begin(struct session *s)
{
	timer_del(s);
	if (s->total)
		evtimer_del(s->total);
	s->st = SS_TUNNEL;
	s->cli_paused = s->up_paused = false;
	s->tun = tunnel_start(s->w->base, s->cli, s->x->up, s->cfg->limits.buffer_size,
		s->cfg->timeouts.tunnel_ms, tunnel_done, s);
	if (!s->tun)
		stream_abort(s, "out of memory for a tunnel");
}

/* Connect to the CONNECT target <addr> (<len> bytes, port set); the outcome comes to
 * up_event() as for an upstream, without retries. */
static void connect_addr(struct session *s, const struct sockaddr *sa, socklen_t len)
{
	struct stream *x = s->x;
	struct cfg_addr addr = {0};
	struct conn *c;

	memcpy(&addr.ss, sa, len);
	addr.len = len;
	x->attempts++;
	c = conn_connect(s->w->base, &conn_tcp, &addr);
	if (!c) {
		fail_to_connect(s, errno, false);
		return;
	}
	x->up = c;
	conn_set_cbs(c, up_read, up_write, up_event, s);
	conn_set_timeouts(c, NULL, s->w->t_connect);
}

/* The target's name resolved (or not): connect to its first address. */
static void connect_resolved(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct session *s = arg;

	if (err == EVUTIL_EAI_CANCEL)
		return; /* the session is being freed */
	s->dns = NULL;
	sess_enter(s);
	if (s->dead) {
		/* nothing to do */
	} else if (err || !ai) {
		log_ratelimited(LOG_LVL_INFO, "client %s: CONNECT target: %s", SESS_PEER(s),
			evutil_gai_strerror(err));
		send_error(s, 502);
	} else {
		connect_addr(s, ai->ai_addr, (socklen_t)ai->ai_addrlen);
	}
	if (ai)
		evutil_freeaddrinfo(ai);
	sess_leave(s);
}

/* A CONNECT after routing: the route must allow the target (405 without a CONNECT route, 400
 * for a target that is not host:port, 403 outside the allow-list); an IP target is
 * connected at once, a name resolved first (502 when that fails). */
static void connect_target(struct session *s)
{
	struct stream *x = s->x;
	struct h1_msg *m = x->rq;
	struct evutil_addrinfo hints = {0};
	char host[256], port_text[8];
	struct sockaddr_in6 a6 = {0};
	struct sockaddr_in a4 = {0};
	uint16_t port;

	x->tun = TUN_CONNECT;
	x->cli_minor = m->minor;
	if (!x->route || !x->route->connect.n) {
		send_error(s, 405);
		return;
	}
	if (tunnel_target_parse(m->target.p, m->target.len, host, sizeof(host), &port) < 0) {
		send_error(s, 400);
		return;
	}
	if (!tunnel_target_allowed(&x->route->connect, host, port)) {
		log_ratelimited(LOG_LVL_INFO, "client %s: CONNECT to %.*s not allowed",
			SESS_PEER(s), (int)m->target.len, m->target.p);
		send_error(s, 403);
		return;
	}
	/* The target as the client wrote it, for the logs. */
	free(s->target);
	s->target = strndup(m->target.p, m->target.len);
	x->upstream = s->target;
	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		a4.sin_port = htons(port);
		connect_addr(s, (struct sockaddr *)&a4, sizeof(a4));
		return;
	}
	if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons(port);
		connect_addr(s, (struct sockaddr *)&a6, sizeof(a6));
		return;
	}
	if (!s->w->dns) {
		s->w->dns = evdns_base_new(s->w->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
							       EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (!s->w->dns) {
			send_error(s, 502);
			return;
		}
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(port_text, sizeof(port_text), "%u", port);
	/* The answer may come at once (hosts file, a cached name): the callback then runs
	 * inside this call, within the current callback's enter/leave. */
	s->dns = evdns_getaddrinfo(s->w->dns, host, port_text, &hints, connect_resolved, s);
}

/* ------------------------------------------------------------------ HTTP/2 */

static void stream_setup(struct session *s);

/* A stream of an HTTP/2 connection: a session over socketless conn <vc>, like an accepted
 * one but not counted as a connection. Returns 0 or -ENOMEM (<vc> freed). */
static int h2_stream_open(void *arg, struct conn *vc)
{
	struct session *owner = arg, *s;
	struct worker *w = owner->w;
	const struct cfg *c = owner->cfg;
	struct h1_limits rl = {
		.max_head = c->limits.max_header_size,
		.max_headers = c->limits.max_headers,
		.max_body = c->limits.max_body_size,
	};

	s = calloc(1, sizeof(*s));
	if (s) {
		s->rqp = h1_parser_new(H1_REQUEST, &rl);
		s->timer = evtimer_new(w->base, on_timer, s);
		if (c->timeouts.total_ms)
			s->total = evtimer_new(w->base, on_total, s);
	}
	if (!s || !s->rqp || !s->timer || (c->timeouts.total_ms && !s->total)) {
		if (s) {
			h1_parser_free(s->rqp);
			if (s->timer)
				event_free(s->timer);
			if (s->total)
				event_free(s->total);
			free(s);
		}
		conn_free(vc);
		return -ENOMEM;
	}
	s->w = w;
	s->cfg = c;
	s->listener = owner->listener;
	s->virt = true;
	s->cli = vc;
	s->tls_cli = owner->tls_cli;
	TAILQ_INSERT_TAIL(&w->sessions, s, link);
	stream_setup(s);
	return 0;
}

/* The HTTP/2 connection of session <arg> is over. */
static void h2_conn_done(void *arg)
{
	struct session *s = arg;

	sess_enter(s);
	/* Closed as an HTTP/1.1 connection is: write side shut once the last frames (a
	 * GOAWAY) are out, the client's bytes read and dropped for a while, so a client still
	 * sending (a flood) reads the GOAWAY rather than a reset. */
	conn_set_cbs(s->cli, cli_read, cli_write, cli_event, s);
	sess_linger(s);
	sess_leave(s);
}

static const struct h2conn_ops h2_ops = {
	.open = h2_stream_open,
	.done = h2_conn_done,
};

static bool h2_detect(struct session *s)
{
	const struct cfg *c = s->cfg;
	struct evbuffer *in = cli_in(s);
	char head[H2_PREFACE_LEN];
	size_t len = evbuffer_get_length(in);
	struct h2conn_limits lim = {
		.max_streams = c->limits.h2_max_streams,
		.window = c->limits.buffer_size,
		.buffer = c->limits.buffer_size,
		.max_header_list = c->limits.max_header_size,
		.max_headers = c->limits.max_headers,
		.idle_ms = c->timeouts.keepalive_ms,
		.send_ms = c->timeouts.send_ms,
	};
	int m;

	if (s->virt || !c->listeners[s->listener].http2 || !len)
		return false;
	if (len > sizeof(head))
		len = sizeof(head);
	evbuffer_copyout(in, head, len);
	m = h2_preface_match(head, len);
	if (m < 0)
		return false;
	if (m == 0) {
		/* A beginning of the preface: wait for the rest under the header timer. */
		if (s->st == SS_IDLE) {
			s->st = SS_HEAD;
			idle_leave(s);
			timer_set(s, s->w->t_header);
		}
		return true;
	}
	idle_leave(s);
	timer_del(s);
	s->st = SS_H2;
	s->h2 = h2conn_start(s->w->base, s->cli, &lim, &h2_ops, s);
	if (!s->h2) {
		log_ratelimited(LOG_LVL_ERR, "client %s: out of memory for HTTP/2", SESS_PEER(s));
		sess_kill(s);
	}
	return true;
}

/* ------------------------------------------------------------------ accept */

/* Take accepted socket <fd> from <sa> on listener <idx> of worker <w> (owns <fd>). */
static void stream_accept(struct worker *w, size_t idx, int fd, struct sockaddr *sa, socklen_t len)
{
	const struct cfg *c = w->rt->cfg;
	struct session *s;

	/* The session and its client connection: one object of the worker's slab, as long-lived
	 * as the connection, kept apart from what its requests allocate. */
	if (!w->sess_slab.size)
		slab_init(&w->sess_slab, SESS_HEAD + conn_accepted_size());
	s = slab_alloc(&w->sess_slab);
	if (!s) {
		close(fd);
		return;
	}
	s->w = w;
	s->cfg = c;
	s->listener = idx;
	s->cli = conn_accepted_in(
		(char *)s + SESS_HEAD, w->base, w->rt->transports[idx], fd, sa, len);
	s->tls_cli = s->cli;
	if (c->timeouts.total_ms)
		s->total = evtimer_new(w->base, on_total, s);
	TAILQ_INSERT_TAIL(&w->sessions, s, link);
	w->n_conns++;
	stats_conn_open(w->rt->stats, w->id);
	/* At the limit, stop accepting: further clients wait in the kernel's backlog until a
	 * connection ends (sess_destroy() resumes), rather than being accepted and dropped. */
	if (w->n_conns >= c->limits.max_connections && !w->paused) {
		log_ratelimited(LOG_LVL_WARN, "worker %u: %u connections, pausing accept", w->id,
			w->n_conns);
		for (size_t i = 0; i < w->n_listeners; i++)
			listener_pause(w->listeners[i], true);
		w->paused = true;
	}
	if (!s->cli || (c->timeouts.total_ms && !s->total)) {
		log_ratelimited(LOG_LVL_ERR, "worker %u: out of memory accepting", w->id);
		if (!s->cli) {
			/* conn_accepted() closed fd; give sess_destroy() nothing to free twice. */
			s->cli = NULL;
		}
		if (s->cli)
			sess_destroy(s);
		else {
			TAILQ_REMOVE(&w->sessions, s, link);
			w->n_conns--;
			stats_conn_close(w->rt->stats, w->id);
			if (s->timer)
				event_free(s->timer);
			if (s->total)
				event_free(s->total);
			slab_free(s);
		}
		return;
	}
	stream_setup(s);
}

/* A new session's client side: callbacks, watermarks, and the wait for the first head. */
static void stream_setup(struct session *s)
{
	struct worker *w = s->w;

	conn_set_timeouts(s->cli, NULL, w->t_send);
	conn_set_cbs(s->cli, cli_read, cli_write, cli_event, s);
	conn_set_read_high(s->cli, s->cfg->limits.buffer_size);
	conn_set_write_low(s->cli, s->cfg->limits.buffer_size / 2);
	s->st = SS_HEAD;
	fresh_enter(s);
}

/* Start draining <w> (its listeners are closed already, w->draining is set): idle keep-alive
 * connections close shortly, responses in progress say "Connection: close", and the loop
 * breaks when the last session ends. */
static void stream_drain(struct worker *w)
{
	struct session *s;

	/* Idle keep-alive connections close after a short wait rather than at once: a request
	 * already on its way still gets an answer (with "Connection: close"). Sessions in an
	 * exchange close when it ends (response_head() and stream_finish()). */
	TAILQ_FOREACH(s, &w->sessions, link) {
		if (s->st == SS_IDLE) {
			idle_leave(s);
			timer_set(s, w->t_drain);
		}
		else if (s->st == SS_H2)
			h2conn_drain(s->h2);
	}
	if (!w->n_conns)
		event_base_loopbreak(w->base);
}

/* Close every session of <w> (at shutdown, after its loop ended). */
static void stream_release_all(struct worker *w)
{
	struct session *s;

	while ((s = TAILQ_FIRST(&w->sessions)))
		sess_destroy(s);
	while (w->n_rsp_cache)
		h1_parser_free(w->rsp_cache[--w->n_rsp_cache]);
	while (w->n_rqp_cache)
		h1_parser_free(w->rqp_cache[--w->n_rqp_cache]);
	while (w->n_x_cache)
		free(w->x_cache[--w->n_x_cache]);
	slab_destroy(&w->sess_slab);
	if (w->dns)
		evdns_base_free(w->dns, 1);
	w->dns = NULL;
	if (w->idle_ev)
		event_free(w->idle_ev);
	w->idle_ev = NULL;
}

/* A NULL error hook takes the built-in decision. */
static enum pingx_verdict px_fail_to_connect(struct session *s, int err)
{
	pingx_fail_to_connect_fn *fn = px_ops->fail_to_connect;

	return (fn ? fn : builtin_fail_to_connect)(&s->x->px, err, px_data);
}

static enum pingx_verdict px_error_while_proxy(struct session *s, const char *why)
{
	pingx_error_while_proxy_fn *fn = px_ops->error_while_proxy;

	return (fn ? fn : builtin_error_while_proxy)(&s->x->px, why, px_data);
}

const struct worker_client_fns stream_client_fns = {
	.accept = stream_accept,
	.drain = stream_drain,
	.release_all = stream_release_all,
};
