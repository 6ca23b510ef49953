// SPDX-License-Identifier: GPL-2.0
/* HTTP/2 connections to upstream servers over nghttp2, the mirror of proxy/h2conn.c: each
 * exchange's upstream conn is socketless, and this file turns what it writes and what it
 * reads into one HTTP/2 stream of a connection shared with other exchanges:
 *
 *   exchange --sendv--> h1 parser --> HEADERS (+ DATA from s.rq) --nghttp2--> server
 *   exchange <--recv-- s.rs (an HTTP/1.1 answer, chunked, trailers) <--nghttp2-- server
 *
 * Per server and worker: streams wait in the peer's queue until a connection has room (its
 * limit is the server's SETTINGS_MAX_CONCURRENT_STREAMS); a new connection is opened when
 * every live one is full, none is being opened, and fewer than CONNS_MAX exist. A GOAWAY
 * stops new streams on its connection (nghttp2 fails the streams the server did not take,
 * which their exchanges retry as a reset on a reused connection: once, on a new one); a
 * connection that fails fails each of its streams as a reset socket would. Memory per stream
 * is bounded both ways: the exchange writes at most <buffer> request bytes ahead of the
 * server's window, and the server may send at most the stream's window (<buffer>), opened
 * again only as the exchange reads the answer. */
#include "userspace/upstream/h2up.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <nghttp2/nghttp2.h>

#include "userspace/http/h1.h"
#include "userspace/http/h2.h"
#include "userspace/lib/log.h"
#include "userspace/net/conn.h"
#include "userspace/upstream/h2io.h"

#define CONNS_MAX   64	 /* HTTP/2 connections per server per worker */
#define STREAMS_CAP 1000 /* streams per connection, whatever the server allows */
#define NV_MAX	    256	 /* request fields sent in one HEADERS */
#define NAMES_MAX   8192 /* bytes of lower-cased field names per HEADERS */

struct h2uc;

/* One exchange's stream. Freed when its conn is (vc_detach). */
struct h2us {
	struct h2up_peer *peer;
	struct h2uc *hc;	/* its connection while the stream is open there, else NULL */
	TAILQ_ENTRY(h2us) link; /* in peer->wait, or in hc->streams */
	struct conn *vc;
	int32_t id;	       /* 0 until the request's HEADERS are submitted */
	uint64_t min_seq;      /* takes connections opened from this one on */
	struct h1_parser *rqp; /* the request the exchange writes */
	enum h1_method method;
	struct evbuffer *rq; /* request body bytes waiting for DATA */
	struct evbuffer *rs; /* the answer as HTTP/1.1, for recv */
	struct evbuffer *hd; /* fields of the head (or trailers) being received */
	char cl[24];	     /* the answer's content-length, when it gave one */
	size_t unconsumed;   /* DATA bytes not yet given back to the windows */
	int status;	     /* :status of the head being received */
	int err;	     /* what recv reports once rs is empty; 0: nothing */
	bool waiting;	     /* in peer->wait */
	bool rq_end;	     /* the whole request is in rq */
	bool rq_deferred;    /* the DATA source waits for rq */
	bool final_head;     /* the final response head is in rs */
	bool chunked;	     /* the answer is framed as chunks */
	bool rs_end;	     /* the answer is complete in rs */
};

/* One HTTP/2 connection to the server. */
struct h2uc {
	struct h2up_peer *peer;
	TAILQ_ENTRY(h2uc) link;
	nghttp2_session *ng;
	struct conn *c;
	struct event *idle;	    /* armed while no stream is open */
	struct event flush;	    /* activated by hc_flush_soon(): one write per loop pass */
	TAILQ_HEAD(, h2us) streams; /* open streams (or not yet submitted) */
	uint64_t seq;		    /* order of opening among the peer's connections */
	unsigned int n_streams;	    /* streams counted against max_streams */
	unsigned int max_streams;   /* the server's limit (capped) */
	bool up;		    /* connected and the server's SETTINGS came */
	bool goaway;		    /* no new streams */
	bool dead;		    /* failed or closed: freed by the peer's next kick */
	bool busy;		    /* inside nghttp2 */
	bool flush_armed;	    /* <flush> is active */
};

struct h2up_peer {
	struct event_base *base;
	const struct conn_transport *tr;
	const struct cfg_addr *addr;
	struct h2up_opts o;
	TAILQ_HEAD(, h2uc) conns;
	TAILQ_HEAD(, h2us) wait; /* streams without a connection yet */
	struct event *kick;	 /* dispatch and reaping, from the loop */
	unsigned int n_conns;
	uint64_t seq; /* the next connection's */
};

static void hc_flush(struct h2uc *hc);

/* Write what nghttp2 has once the callbacks of this loop pass ran: the requests of every
 * exchange that wrote in the pass go out in one write rather than one each. */
static void hc_flush_soon(struct h2uc *hc)
{
	if (hc->flush_armed || hc->dead)
		return;
	hc->flush_armed = true;
	event_active(&hc->flush, EV_TIMEOUT, 1);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct h2uc *hc = arg;

	(void)fd;
	(void)what;
	hc->flush_armed = false;
	hc_flush(hc);
}

static void peer_kick(struct h2up_peer *p)
{
	event_active(p->kick, EV_TIMEOUT, 1);
}

/* ------------------------------------------------------------------ streams */

/* The stream fails with <err> once what it received is read. */
static void us_fail(struct h2us *s, int err)
{
	if (!s->err)
		s->err = err;
	if (s->vc)
		conn_trigger_read(s->vc);
}

/* The stream leaves its connection (closed by nghttp2, or never submitted). */
static void us_unlink(struct h2us *s)
{
	struct h2uc *hc = s->hc;

	TAILQ_REMOVE(&hc->streams, s, link);
	s->hc = NULL;
	hc->n_streams--;
	if (!hc->n_streams) {
		struct timeval tv = *hc->peer->o.t_idle;

		evtimer_add(hc->idle, &tv);
	}
	peer_kick(hc->peer);
}

/* Request body bytes for DATA; the end (END_STREAM) once the exchange wrote it all. */
static ssize_t rq_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
	uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct h2us *s = src->ptr;
	int n = evbuffer_remove(s->rq, buf, length);

	(void)ng;
	(void)id;
	(void)user;
	if (n > 0 && s->vc)
		conn_wake_write(s->vc);
	if (!evbuffer_get_length(s->rq) && s->rq_end) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return n > 0 ? n : 0;
	}
	if (n > 0)
		return n;
	s->rq_deferred = true;
	return NGHTTP2_ERR_DEFERRED;
}

/* A request head from the exchange: its HEADERS. Returns 0 or -errno. */
static int us_submit(struct h2us *s, const struct h1_msg *m)
{
	struct h2uc *hc = s->hc;
	nghttp2_data_provider dp = {.source.ptr = s, .read_callback = rq_read};
	nghttp2_nv nva[NV_MAX];
	char names[NAMES_MAX];
	int k = h2_req_nva(m, s->peer->o.tls ? "https" : "http", nva, NV_MAX, names, sizeof(names));
	int32_t id;

	if (k < 0)
		return k;
	s->method = m->method;
	id = nghttp2_submit_request(
		hc->ng, NULL, nva, (size_t)k, m->framing == H1_BODY_NONE ? NULL : &dp, s);
	if (id < 0) {
		log_ratelimited(LOG_LVL_WARN, "upstream %s: HTTP/2 request: %s", hc->c->peer_text,
			nghttp2_strerror(id));
		return -EPROTO;
	}
	s->id = id;
	return 0;
}

/* Feed <len> request bytes to the parser: the head becomes HEADERS, the body goes to rq.
 * Returns the bytes taken, or -errno. */
static ssize_t us_take(struct h2us *s, const char *p, size_t len)
{
	size_t took = 0;

	/* Until the parser wants more: the end of a message comes as an event of its own,
	 * after the bytes that complete it. */
	for (;;) {
		struct h1_event ev;
		size_t n = h1_parse(s->rqp, p + took, len - took, &ev);

		took += n;
		switch (ev.type) {
		case H1_EV_NONE:
			return (ssize_t)took;
		case H1_EV_HEAD: {
			int err = us_submit(s, ev.msg);

			if (err)
				return err;
			break;
		}
		case H1_EV_BODY:
			evbuffer_add(s->rq, ev.data.p, ev.data.len);
			break;
		case H1_EV_DONE:
			/* Request trailers: HTTP/2 clients' are not forwarded (h2conn.c), and
			 * HTTP/1.1 clients' are dropped here alike. */
			s->rq_end = true;
			if (took < len)
				return -EPROTO; /* one request per stream */
			return (ssize_t)took;
		default:
			return -EPROTO;
		}
	}
}

static void us_free(struct h2us *s)
{
	if (!s)
		return;
	h1_parser_free(s->rqp);
	if (s->rq)
		evbuffer_free(s->rq);
	if (s->rs)
		evbuffer_free(s->rs);
	if (s->hd)
		evbuffer_free(s->hd);
	free(s);
}

/* ------------------------------------------------------------------ the exchange's conn */

static ssize_t vc_recv(struct conn *c, void *buf, size_t len)
{
	struct h2us *s = c->tr_conn;
	int n = evbuffer_remove(s->rs, buf, len);

	if (n > 0) {
		struct h2uc *hc = s->hc;

		/* The window opens again as the exchange takes the answer, not before. */
		if (hc && s->unconsumed && !hc->dead &&
			evbuffer_get_length(s->rs) < hc->peer->o.buffer) {
			nghttp2_session_consume(hc->ng, s->id, s->unconsumed);
			s->unconsumed = 0;
			hc_flush_soon(hc);
		}
		return n;
	}
	errno = s->err ? s->err : EAGAIN;
	return -1;
}

static ssize_t vc_sendv(struct conn *c, const struct iovec *iov, int n)
{
	struct h2us *s = c->tr_conn;
	struct h2uc *hc = s->hc;
	size_t took = 0;

	if (s->err || !hc || hc->dead || s->rq_end) {
		errno = s->err ? s->err : EPIPE;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		size_t have = evbuffer_get_length(s->rq), room;
		ssize_t k;

		if (have >= s->peer->o.buffer)
			break;
		room = s->peer->o.buffer - have;
		k = us_take(s, iov[i].iov_base, iov[i].iov_len < room ? iov[i].iov_len : room);
		if (k < 0) {
			log_ratelimited(LOG_LVL_WARN, "upstream %s: HTTP/2 stream: %s",
				hc->c->peer_text, strerror((int)-k));
			s->err = (int)-k;
			errno = s->err;
			return -1;
		}
		took += (size_t)k;
		if ((size_t)k < iov[i].iov_len)
			break;
	}
	if (s->rq_deferred && s->id && (evbuffer_get_length(s->rq) || s->rq_end)) {
		s->rq_deferred = false;
		nghttp2_session_resume_data(hc->ng, s->id);
	}
	hc_flush_soon(hc);
	if (!took) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)took;
}

static size_t vc_pending(struct conn *c)
{
	struct h2us *s = c->tr_conn;

	return s->err ? 1 : evbuffer_get_length(s->rs);
}

static void vc_detach(struct conn *c)
{
	struct h2us *s = c->tr_conn;
	struct h2uc *hc = s->hc;

	c->tr_conn = NULL;
	if (s->waiting) {
		TAILQ_REMOVE(&s->peer->wait, s, link);
	} else if (hc) {
		if (s->id) {
			/* Still open at the server: cancel it; its slot is freed when nghttp2
			 * closes it (on_stream_close). */
			nghttp2_session_set_stream_user_data(hc->ng, s->id, NULL);
			TAILQ_REMOVE(&hc->streams, s, link);
			nghttp2_submit_rst_stream(hc->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
			hc_flush_soon(hc);
		} else {
			us_unlink(s);
		}
	}
	us_free(s);
}

static const struct conn_transport vc_transport = {
	.name = "h2up",
	.recv = vc_recv,
	.sendv = vc_sendv,
	.pending = vc_pending,
	.detach = vc_detach,
};

/* ------------------------------------------------------------------ nghttp2 callbacks */

static struct h2us *stream_of(nghttp2_session *ng, int32_t id)
{
	return id ? nghttp2_session_get_stream_user_data(ng, id) : NULL;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
	struct h2us *s = stream_of(ng, f->hd.stream_id);

	(void)user;
	if (s) {
		evbuffer_drain(s->hd, evbuffer_get_length(s->hd));
		s->status = 0;
		s->cl[0] = '\0';
	}
	return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nl,
	const uint8_t *value, size_t vl, uint8_t flags, void *user)
{
	struct h2us *s = stream_of(ng, f->hd.stream_id);

	(void)flags;
	(void)user;
	if (!s)
		return 0;
	if (nl == 7 && !memcmp(name, ":status", 7)) {
		s->status = vl == 3 ? (value[0] - '0') * 100 + (value[1] - '0') * 10 +
					      (value[2] - '0') :
				      0;
		return 0;
	}
	if (nl && name[0] == ':')
		return 0; /* nghttp2 refused any other pseudo-header already */
	if (!s->final_head && nl == 14 && !memcmp(name, "content-length", 14)) {
		if (vl >= sizeof(s->cl))
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		memcpy(s->cl, value, vl);
		s->cl[vl] = '\0';
		return 0;
	}
	/* nghttp2 checked the name and value characters (RFC 9113 §8.2.1). */
	if (evbuffer_get_length(s->hd) + nl + vl > s->peer->o.max_header_list)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	evbuffer_add(s->hd, name, nl);
	evbuffer_add(s->hd, ": ", 2);
	evbuffer_add(s->hd, value, vl);
	evbuffer_add(s->hd, H1_CRLF, 2);
	return 0;
}

/* The answer's body ends: the last chunk (no trailers) when framed as chunks. */
static void rs_finish(struct h2us *s)
{
	if (s->rs_end)
		return;
	if (s->chunked)
		evbuffer_add(s->rs, "0\r\n\r\n", 5);
	s->rs_end = true;
}

/* A HEADERS frame of the answer is complete: an interim or final head, or the trailers. */
static int rs_headers(struct h2us *s, bool end)
{
	char line[64];
	bool no_body;

	if (s->final_head) {
		/* Trailers: after the last chunk (dropped when framed by length). */
		if (s->chunked && !s->rs_end) {
			evbuffer_add(s->rs, "0\r\n", 3);
			evbuffer_add_buffer(s->rs, s->hd);
			evbuffer_add(s->rs, H1_CRLF, 2);
			s->rs_end = true;
		}
		return 0;
	}
	if (s->status < 100 || s->status == 101)
		return -1;
	snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", s->status, h1_status_reason(s->status));
	evbuffer_add(s->rs, line, strlen(line));
	evbuffer_add_buffer(s->rs, s->hd);
	if (s->status < 200) {
		evbuffer_add(s->rs, H1_CRLF, 2);
		return 0;
	}
	s->final_head = true;
	no_body = s->method == H1_METHOD_HEAD || s->status == 204 || s->status == 304;
	if (no_body) {
		if (s->cl[0])
			evbuffer_add_printf(s->rs, "content-length: %s\r\n", s->cl);
		s->rs_end = end;
	} else if (end) {
		/* No DATA follows (a gRPC trailers-only answer among them). */
		evbuffer_add(s->rs, "content-length: 0\r\n", 19);
		s->rs_end = true;
	} else if (s->cl[0]) {
		evbuffer_add_printf(s->rs, "content-length: %s\r\n", s->cl);
	} else {
		evbuffer_add(s->rs, "transfer-encoding: chunked\r\n", 28);
		s->chunked = true;
	}
	/* One exchange per stream: never pooled as an HTTP/1.1 connection would be. */
	evbuffer_add(s->rs, "connection: close\r\n\r\n", 21);
	return 0;
}

static int on_data_chunk(
	nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user)
{
	struct h2us *s = stream_of(ng, id);

	(void)flags;
	(void)user;
	if (!s || !s->final_head || s->rs_end) {
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	h2io_body_add(s->rs, data, len, s->chunked);
	s->unconsumed += len;
	if (s->vc)
		conn_trigger_read(s->vc);
	return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
	struct h2uc *hc = user;
	struct h2us *s;
	bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;

	switch (f->hd.type) {
	case NGHTTP2_SETTINGS:
		if (!(f->hd.flags & NGHTTP2_FLAG_ACK)) {
			uint32_t max = nghttp2_session_get_remote_settings(
				ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);

			hc->max_streams = max < STREAMS_CAP ? max : STREAMS_CAP;
			if (!hc->up)
				conn_set_timeouts(hc->c, NULL, hc->peer->o.t_send);
			hc->up = true;
			peer_kick(hc->peer);
		}
		return 0;
	case NGHTTP2_GOAWAY:
		log_ratelimited(LOG_LVL_INFO, "upstream %s: HTTP/2 GOAWAY (%s, last stream %d)",
			hc->c->peer_text, nghttp2_http2_strerror(f->goaway.error_code),
			f->goaway.last_stream_id);
		hc->goaway = true;
		peer_kick(hc->peer);
		return 0;
	case NGHTTP2_HEADERS:
	case NGHTTP2_DATA:
		break;
	default:
		return 0;
	}
	s = stream_of(ng, f->hd.stream_id);
	if (!s)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && rs_headers(s, end) < 0) {
		log_ratelimited(LOG_LVL_WARN, "upstream %s: HTTP/2 stream %d: unusable head",
			hc->c->peer_text, s->id);
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_PROTOCOL_ERROR);
		us_fail(s, EPROTO);
		return 0;
	}
	if (end)
		rs_finish(s);
	if (s->vc)
		conn_trigger_read(s->vc);
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
	struct h2uc *hc = user;
	struct h2us *s = stream_of(ng, id);

	if (!s) {
		/* Cancelled by its exchange (vc_detach): only its slot is left. */
		hc->n_streams--;
		if (!hc->n_streams) {
			struct timeval tv = *hc->peer->o.t_idle;

			evtimer_add(hc->idle, &tv);
		}
		peer_kick(hc->peer);
		return 0;
	}
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	if (!s->rs_end || code != NGHTTP2_NO_ERROR) {
		if (code != NGHTTP2_NO_ERROR)
			log_ratelimited(LOG_LVL_INFO, "upstream %s: HTTP/2 stream %d reset: %s",
				hc->c->peer_text, id, nghttp2_http2_strerror(code));
		us_fail(s, code == NGHTTP2_REFUSED_STREAM ? ECONNREFUSED : ECONNRESET);
	}
	us_unlink(s);
	return 0;
}

static int on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *f, int err, void *user)
{
	struct h2uc *hc = user;

	(void)ng;
	log_ratelimited(LOG_LVL_INFO, "upstream %s: HTTP/2 invalid frame (type %u, stream %d): %s",
		hc->c->peer_text, f->hd.type, f->hd.stream_id, nghttp2_strerror(err));
	return 0;
}

/* ------------------------------------------------------------------ connections */

/* <hc> is done: its streams fail (as on a reset socket) and the peer frees it. */
static void hc_fail(struct h2uc *hc, int err)
{
	struct h2us *s;

	if (hc->dead)
		return;
	hc->dead = true;
	conn_disable(hc->c, CONN_READING | CONN_WRITING);
	while ((s = TAILQ_FIRST(&hc->streams))) {
		if (s->id)
			nghttp2_session_set_stream_user_data(hc->ng, s->id, NULL);
		if (!s->rs_end)
			us_fail(s, err);
		TAILQ_REMOVE(&hc->streams, s, link);
		s->hc = NULL;
	}
	if (!hc->up) {
		/* It never came up: the streams waiting for it fail as a connect would. */
		while ((s = TAILQ_FIRST(&hc->peer->wait))) {
			TAILQ_REMOVE(&hc->peer->wait, s, link);
			s->waiting = false;
			us_fail(s, err);
		}
	}
	peer_kick(hc->peer);
}

/* Move what nghttp2 has to send to the server while its output has room. */
static void hc_flush(struct h2uc *hc)
{
	ssize_t err;

	if (hc->busy || hc->dead || !hc->c->connected)
		return;
	hc->busy = true;
	err = h2io_send(hc->ng, hc->c, hc->peer->o.buffer);
	hc->busy = false;
	if (err < 0) {
		log_ratelimited(LOG_LVL_WARN, "upstream %s: HTTP/2: %s", hc->c->peer_text,
			err == -ENOMEM ? strerror(ENOMEM) : nghttp2_strerror((int)err));
		hc_fail(hc, err == -ENOMEM ? ENOMEM : EPROTO);
		return;
	}
	if (!nghttp2_session_want_read(hc->ng) && !nghttp2_session_want_write(hc->ng) &&
		!conn_pending(hc->c))
		hc_fail(hc, ECONNRESET);
}

static void hc_read(struct conn *c, void *arg)
{
	struct h2uc *hc = arg;
	ssize_t n;

	if (hc->dead)
		return;
	hc->busy = true;
	n = h2io_recv(hc->ng, c);
	hc->busy = false;
	if (n < 0) {
		log_ratelimited(LOG_LVL_WARN, "upstream %s: HTTP/2: %s", c->peer_text,
			nghttp2_strerror((int)n));
		/* Tell the server why before closing (best effort). */
		nghttp2_session_terminate_session(hc->ng, NGHTTP2_PROTOCOL_ERROR);
		hc_flush(hc);
		hc_fail(hc, EPROTO);
		return;
	}
	hc_flush(hc);
}

static void hc_write(struct conn *c, void *arg)
{
	(void)c;
	hc_flush(arg);
}

static void hc_event(struct conn *c, short what, void *arg)
{
	struct h2uc *hc = arg;

	if (hc->dead)
		return;
	if (what & CONN_CONNECTED) {
		/* The server's SETTINGS are due within the connect timeout: a server that
		 * accepts and says nothing fails the connection, not every request after. */
		conn_set_timeouts(c, hc->peer->o.t_connect, hc->peer->o.t_send);
		hc_flush(hc); /* the preface and SETTINGS */
		return;
	}
	log_ratelimited(LOG_LVL_INFO, "upstream %s: HTTP/2 connection %s", c->peer_text,
		what & CONN_EOF	    ? "closed" :
		what & CONN_TIMEOUT ? "timed out" :
				      "failed");
	hc_fail(hc, what & CONN_TIMEOUT ? ETIMEDOUT :
		    what & CONN_EOF	? ECONNRESET :
		    c->err		? c->err :
					  ECONNRESET);
}

/* No stream for the idle timeout: say goodbye and close. */
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct h2uc *hc = arg;

	(void)fd;
	(void)what;
	if (hc->dead || hc->n_streams)
		return;
	hc->goaway = true;
	nghttp2_session_terminate_session(hc->ng, NGHTTP2_NO_ERROR);
	hc_flush(hc);
	hc_fail(hc, ECONNRESET);
}

static void hc_free(struct h2uc *hc)
{
	struct h2us *s;

	while ((s = TAILQ_FIRST(&hc->streams))) {
		TAILQ_REMOVE(&hc->streams, s, link);
		s->hc = NULL;
		us_fail(s, ECONNRESET);
	}
	if (hc->flush_armed)
		event_del(&hc->flush);
	if (hc->ng)
		nghttp2_session_del(hc->ng);
	if (hc->idle)
		event_free(hc->idle);
	conn_free(hc->c);
	free(hc);
}

/* Open a connection to the peer's server. Returns 0 or -errno. */
static int hc_open(struct h2up_peer *p)
{
	struct h2uc *hc = calloc(1, sizeof(*hc));
	nghttp2_settings_entry set[] = {
		{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
		{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, p->o.buffer},
		{NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, p->o.max_header_list},
	};
	int err = -ENOMEM;

	if (!hc)
		return -ENOMEM;
	hc->peer = p;
	TAILQ_INIT(&hc->streams);
	hc->idle = evtimer_new(p->base, on_idle, hc);
	event_assign(&hc->flush, p->base, -1, 0, on_flush, hc);
	if (!hc->idle || h2io_session_new(&hc->ng,
				 &(struct h2io_session){.begin_headers = on_begin_headers,
					 .header = on_header,
					 .data_chunk = on_data_chunk,
					 .frame_recv = on_frame_recv,
					 .stream_close = on_stream_close,
					 .invalid_frame = on_invalid_frame,
					 .set = set,
					 .n_set = sizeof(set) / sizeof(set[0]),
					 .window = p->o.buffer,
					 .streams = STREAMS_CAP},
				 hc))
		goto fail;
	hc->c = conn_connect(p->base, p->tr, p->addr);
	if (!hc->c) {
		err = -errno;
		goto fail;
	}
	conn_set_cbs(hc->c, hc_read, hc_write, hc_event, hc);
	conn_set_read_high(hc->c, 0); /* nghttp2 takes all; DATA stays within windows */
	conn_set_write_low(hc->c, p->o.buffer / 2);
	conn_set_timeouts(hc->c, NULL, p->o.t_connect);
	hc->seq = p->seq++;
	TAILQ_INSERT_TAIL(&p->conns, hc, link);
	p->n_conns++;
	return 0;
fail:
	if (hc->ng)
		nghttp2_session_del(hc->ng);
	if (hc->idle)
		event_free(hc->idle);
	free(hc);
	return err;
}

/* Free dead connections, then give waiting streams a connection with room, opening one
 * when none is live nor being opened. */
static void peer_dispatch(struct h2up_peer *p)
{
	struct h2uc *hc, *next;
	struct h2us *s;

	for (hc = TAILQ_FIRST(&p->conns); hc; hc = next) {
		next = TAILQ_NEXT(hc, link);
		if (hc->dead || (hc->goaway && !hc->n_streams && !conn_pending(hc->c))) {
			TAILQ_REMOVE(&p->conns, hc, link);
			p->n_conns--;
			hc_free(hc);
		}
	}
	while ((s = TAILQ_FIRST(&p->wait))) {
		struct h2uc *room = NULL;
		bool opening = false;

		TAILQ_FOREACH(hc, &p->conns, link)
		{
			if (hc->dead || hc->goaway || hc->seq < s->min_seq)
				continue;
			if (!hc->up) {
				opening = true;
				continue;
			}
			if (hc->n_streams < hc->max_streams) {
				room = hc;
				break;
			}
		}
		if (!room) {
			int err;

			if (opening || p->n_conns >= CONNS_MAX)
				return;
			err = hc_open(p);
			if (err) {
				TAILQ_REMOVE(&p->wait, s, link);
				s->waiting = false;
				us_fail(s, -err);
				continue;
			}
			return;
		}
		TAILQ_REMOVE(&p->wait, s, link);
		s->waiting = false;
		s->hc = room;
		TAILQ_INSERT_TAIL(&room->streams, s, link);
		room->n_streams++;
		evtimer_del(room->idle);
		conn_virtual_connected(s->vc); /* the exchange writes its request now */
	}
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peer_dispatch(arg);
}

/* ------------------------------------------------------------------ API */

static struct h2up_peer *peer_get(struct h2up_peer **slot, struct event_base *base,
	const struct conn_transport *tr, const struct cfg_addr *addr, const struct h2up_opts *o)
{
	struct h2up_peer *p = *slot;

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->base = base;
	p->tr = tr;
	p->addr = addr;
	p->o = *o;
	TAILQ_INIT(&p->conns);
	TAILQ_INIT(&p->wait);
	p->kick = evtimer_new(base, on_kick, p);
	if (!p->kick) {
		free(p);
		return NULL;
	}
	*slot = p;
	return p;
}

struct conn *h2up_stream(struct h2up_peer **slot, struct event_base *base,
	const struct conn_transport *tr, const struct cfg_addr *addr, const struct h2up_opts *o,
	bool fresh, bool *live)
{
	struct h2up_peer *p = peer_get(slot, base, tr, addr, o);
	struct h2us *s = p ? calloc(1, sizeof(*s)) : NULL;
	struct h2uc *hc;

	*live = false;
	if (!s)
		goto nomem;
	s->peer = p;
	s->rq = evbuffer_new();
	s->rs = evbuffer_new();
	s->hd = evbuffer_new();
	s->rqp =
		h1_parser_new(H1_REQUEST, &(struct h1_limits){.max_head = o->max_header_list + 4096,
						  .max_headers = o->max_headers + 32});
	if (!s->rq || !s->rs || !s->hd || !s->rqp)
		goto nomem;
	s->min_seq = fresh ? p->seq : 0;
	s->vc = conn_virtual_out(base, &vc_transport, s, addr);
	if (!s->vc)
		goto nomem;
	s->waiting = true;
	TAILQ_INSERT_TAIL(&p->wait, s, link);
	TAILQ_FOREACH(hc, &p->conns, link)
	if (!fresh && hc->up && !hc->dead && !hc->goaway && hc->n_streams < hc->max_streams)
		*live = true;
	peer_kick(p);
	return s->vc;
nomem:
	us_free(s);
	errno = ENOMEM;
	return NULL;
}

void h2up_peer_free(struct h2up_peer *p)
{
	struct h2uc *hc;
	struct h2us *s;

	if (!p)
		return;
	while ((s = TAILQ_FIRST(&p->wait))) {
		TAILQ_REMOVE(&p->wait, s, link);
		s->waiting = false;
	}
	while ((hc = TAILQ_FIRST(&p->conns))) {
		TAILQ_REMOVE(&p->conns, hc, link);
		hc_free(hc);
	}
	event_free(p->kick);
	free(p);
}
