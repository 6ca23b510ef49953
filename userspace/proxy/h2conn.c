// SPDX-License-Identifier: GPL-2.0
/* HTTP/2 client connections over nghttp2. nghttp2 does the framing, HPACK, flow control and
 * the protocol's checks (RFC 9113 §8 messaging, CONTINUATION, reset and ACK flood limits);
 * this file feeds it the client's bytes, writes what it produces with backpressure, and binds
 * each stream to a session of the stream engine over a socketless conn:
 *
 *   client HEADERS/DATA --nghttp2--> h2s.rq (HTTP/1.1 bytes) --recv--> session --> upstream
 *   client <--nghttp2-- HEADERS/DATA/trailers <-- h1 parser <-- h2s.rs <--sendv-- session
 *
 * Memory per stream is bounded: the client may send at most the stream window before pingd
 * hands the bytes to the session (the window opens again only as the session reads), and the
 * session's response waits in h2s.rs up to the buffer size, then in the conn's output, while
 * the session stops reading its upstream. A stream whose client stops reading stalls alone:
 * its DATA waits for the window, others go on, and the session's send timeout ends it. */
#include "userspace/proxy/h2conn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <nghttp2/nghttp2.h>

#include "userspace/http/h1.h"
#include "userspace/http/h2.h"
#include "userspace/lib/clock.h"
#include "userspace/lib/log.h"
#include "userspace/net/conn.h"
#include "userspace/upstream/h2io.h"

#define NV_MAX	     256   /* response or trailer fields sent in one HEADERS */
#define NAMES_MAX    8192  /* bytes of lower-cased field names per HEADERS */
#define RST_BURST    1000  /* stream resets allowed at once ... */
#define RST_RATE     100   /* ... and per second after that (rapid reset) */
#define MAX_EMPTY    1000  /* DATA frames without payload nor END_STREAM per connection */
#define SPARE_MAX    32    /* ended streams kept for the next ones while others are open */
#define RELEASE_MS   1000  /* an idle connection's memory goes back at most this often... */
			   /* ... (else from the reap timer): none per request */

struct h2s;

struct h2conn {
	nghttp2_session *ng;
	struct conn *cli;
	struct event_base *base;
	struct event *idle; /* armed while no stream is open */
	struct event *reap; /* every send timeout: resets answers the client stopped taking */
	struct event flush; /* activated by hc_flush_soon(): one write per loop pass */
	struct h2conn_limits lim;
	const struct h2conn_ops *ops;
	void *arg;
	TAILQ_HEAD(, h2s) streams; /* streams with a session or waiting for nghttp2 */
	TAILQ_HEAD(, h2s) spare;   /* ended streams whose buffers and parser serve again */
	unsigned int n_spare;
	struct h1_buf head;	   /* a request head written as HTTP/1.1, then copied to rq */
	unsigned int n_open;	   /* streams nghttp2 has not closed */
	unsigned int n_empty;	   /* empty DATA frames so far (CVE-2019-9518) */
	bool busy;		   /* inside nghttp2: no re-entry */
	bool ending;		   /* no more reading: flush, then done */
	bool over;		   /* ops->done called */
	bool draining;		   /* GOAWAY sent */
	bool mute;		   /* nothing more from nghttp2 (goaway_now()) */
	bool flush_armed;	   /* <flush> is active */
	bool dirty;		   /* frames written since the connection was last idle */
	uint64_t released_ms;	   /* the last hc_idle_release() (coarse clock) */
	struct h2io_mem mem;	   /* nghttp2's memory */
};

/* One stream. Freed when nghttp2 closed it and its session let go of its conn. */
struct h2s {
	struct h2conn *hc; /* NULL once the connection is gone (the session still ends) */
	TAILQ_ENTRY(h2s) link;
	int32_t id;
	struct h2_req req;	  /* the request head while it arrives */
	struct conn *vc;	  /* the session's client conn; NULL once it was freed */
	struct evbuffer *rq;	  /* HTTP/1.1 request bytes for the session */
	struct evbuffer *rs;	  /* HTTP/1.1 response bytes from the session */
	struct h1_parser *rsp;	  /* parses rs */
	size_t unconsumed;	  /* DATA bytes not yet given back to the windows */
	bool rq_chunked;	  /* request body framed as chunks */
	bool rq_end;		  /* the request is complete in rq */
	bool ready;		  /* the head is in rq: a session may start */
	bool started;		  /* handed to a session */
	bool head_done;		  /* final response head submitted */
	bool tunnel;		  /* CONNECT answered 2xx: raw bytes after the head */
	bool deferred;		  /* the data source waits for rs */
	bool rs_end;		  /* the session wrote its last byte (shutdown) */
	bool body_end;		  /* END_STREAM (or trailers) submitted */
	bool closed;		  /* nghttp2 closed the stream */
	bool reset;		  /* closed before the response was complete */
	uint64_t progress_ms;	  /* the last DATA taken by the client (coarse clock) */
};

static void hc_flush(struct h2conn *hc);
static void hc_maybe_end(struct h2conn *hc);
static void hc_flush_soon(struct h2conn *hc);

/* Write what nghttp2 has once the callbacks of this loop pass ran: the frames of every
 * stream answered in the pass (and the ACKs and window updates of what was read) go out in
 * one write rather than one per stream. */
static void hc_flush_soon(struct h2conn *hc)
{
	if (hc->flush_armed || hc->over)
		return;
	hc->flush_armed = true;
	event_active(&hc->flush, EV_TIMEOUT, 1);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct h2conn *hc = arg;

	(void)fd;
	(void)what;
	hc->flush_armed = false;
	hc_flush(hc);
}

/* No stream is open: the connection closes after the idle timeout. */
static void hc_idle_arm(struct h2conn *hc)
{
	struct timeval tv = clock_ms_tv(hc->lim.idle_ms);

	evtimer_add(hc->idle, &tv);
}

/* ------------------------------------------------------------------ streams */

static void h2s_release(struct h2s *s)
{
	h2_req_free(&s->req);
	if (s->rq)
		evbuffer_free(s->rq);
	if (s->rs)
		evbuffer_free(s->rs);
	h1_parser_free(s->rsp);
	free(s);
}

/* Free the spare streams and the head buffer: the connection has no stream open, and an idle
 * connection holds none of them. */
static void hc_release_spare(struct h2conn *hc)
{
	struct h2s *s;

	while ((s = TAILQ_FIRST(&hc->spare))) {
		TAILQ_REMOVE(&hc->spare, s, link);
		h2s_release(s);
	}
	hc->n_spare = 0;
	h1_buf_free(&hc->head);
}

/* An ended stream. While others are open on its connection its buffers, parser and memory
 * are kept for the next stream (SPARE_MAX of them): a stream then costs no allocation. */
static void h2s_free(struct h2s *s)
{
	struct h2conn *hc = s->hc;

	if (hc)
		TAILQ_REMOVE(&hc->streams, s, link);
	if (!hc || hc->over || !hc->n_open || hc->n_spare >= SPARE_MAX || !s->rq || !s->rs) {
		h2s_release(s);
		if (hc && !hc->n_open) {
			hc_release_spare(hc);
			if (TAILQ_EMPTY(&hc->streams))
				hc_flush_soon(hc); /* and hc_idle_release() */
		}
		return;
	}
	evbuffer_drain(s->rq, evbuffer_get_length(s->rq));
	evbuffer_drain(s->rs, evbuffer_get_length(s->rs));
	TAILQ_INSERT_HEAD(&hc->spare, s, link);
	hc->n_spare++;
}

/* A stream for <hc>: a spare one, else a new one. NULL when out of memory. */
static struct h2s *h2s_new(struct h2conn *hc)
{
	struct h2s *s = TAILQ_FIRST(&hc->spare);
	struct evbuffer *rq, *rs;
	struct h1_parser *rsp;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		h2_req_init(&s->req, hc->lim.max_headers, hc->lim.max_header_list);
		s->rq = evbuffer_new();
		s->rs = evbuffer_new();
		return s;
	}
	TAILQ_REMOVE(&hc->spare, s, link);
	hc->n_spare--;
	rq = s->rq;
	rs = s->rs;
	rsp = s->rsp;
	h2_req_reset(&s->req);
	{
		struct h2_req req = s->req;

		memset(s, 0, sizeof(*s));
		s->req = req;
	}
	s->rq = rq;
	s->rs = rs;
	s->rsp = rsp;
	if (rsp)
		h1_parser_reset(rsp);
	return s;
}

/* A CONNECT stream whose client ended its side: the tunnel reads an EOF, as from a TCP
 * client's half-close. (Other requests end by their framing; an EOF there would read as a
 * client gone.) */
static bool vc_eof(const struct h2s *s)
{
	return s->tunnel && s->rq_end && !evbuffer_get_length(s->rq);
}

/* Feed the response parser of <s> from rs, at most <limit> body bytes, until an event. */
static size_t rs_step(struct h2s *s, size_t limit, struct h1_event *ev)
{
	for (;;) {
		struct evbuffer_iovec v;
		const char *data = NULL;
		size_t len = 0, n;

		if (evbuffer_peek(s->rs, -1, NULL, &v, 1) >= 1) {
			data = v.iov_base;
			len = v.iov_len;
		}
		if (len > limit)
			len = limit;
		n = h1_parse(s->rsp, data, len, ev);
		if (ev->type != H1_EV_NONE)
			return n;
		evbuffer_drain(s->rs, n);
		limit -= n;
		if (!n || !limit || !evbuffer_get_length(s->rs))
			return 0;
	}
}

static void h2s_rst(struct h2s *s, uint32_t code)
{
	if (s->hc && !s->closed)
		nghttp2_submit_rst_stream(s->hc->ng, NGHTTP2_FLAG_NONE, s->id, code);
}

/* The session may write more once rs drained to half the buffer. */
static void rs_drained(struct h2s *s)
{
	if (s->vc && s->hc && evbuffer_get_length(s->rs) <= s->hc->lim.buffer / 2)
		conn_wake_write(s->vc);
}

/* DATA for <s>: body bytes parsed out of rs, trailers at the end. */
static ssize_t data_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
	uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct h2s *s = src->ptr;
	struct h1_event ev;
	size_t got = 0;

	(void)ng;
	(void)id;
	(void)user;
	s->progress_ms = clock_coarse_ms();
	if (s->tunnel) {
		got = (size_t)evbuffer_remove(s->rs, buf, length);
		if (!got && s->rs_end)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		else if (!got)
			goto defer;
		rs_drained(s);
		return (ssize_t)got;
	}
	while (got < length) {
		size_t n = rs_step(s, length - got, &ev);

		switch (ev.type) {
		case H1_EV_BODY:
			memcpy(buf + got, ev.data.p, ev.data.len);
			got += ev.data.len;
			evbuffer_drain(s->rs, n);
			continue;
		case H1_EV_DONE:
			evbuffer_drain(s->rs, n);
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			s->body_end = true;
			if (ev.trailers && ev.trailers->n) {
				nghttp2_nv nva[NV_MAX];
				char names[NAMES_MAX];
				int k = h2_trailer_nva(ev.trailers, nva, NV_MAX, names, sizeof(names));

				if (k > 0 && nghttp2_submit_trailer(s->hc->ng, s->id, nva, (size_t)k) == 0)
					*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			}
			rs_drained(s);
			return (ssize_t)got;
		case H1_EV_NONE:
			break;
		default:
			/* A broken response: the session closes, the client sees a reset. */
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		}
		break;
	}
	rs_drained(s);
	if (got)
		return (ssize_t)got;
	if (s->rs_end)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* ended mid-body */
defer:
	s->deferred = true;
	return NGHTTP2_ERR_DEFERRED;
}

/* Method of the request of <s>, as the response parser needs it for framing. */
static enum h1_method req_method(const struct h2s *s)
{
	const char *m = s->req.method;

	if (s->req.method_len == 4 && !memcmp(m, "HEAD", 4))
		return H1_METHOD_HEAD;
	if (h2_req_is_connect(&s->req))
		return H1_METHOD_CONNECT;
	return H1_METHOD_GET;
}

/* Turn the response heads waiting in rs into HEADERS: 1xx as interim heads, then the final
 * one with a data source when a body follows. Returns 0, or -1 when the response is unusable
 * (the stream is reset). */
static int rs_heads(struct h2s *s)
{
	struct h2conn *hc = s->hc;
	nghttp2_data_provider dp = {.source.ptr = s, .read_callback = data_read};
	nghttp2_nv nva[NV_MAX];
	char names[NAMES_MAX], status[4];
	struct h1_event ev;

	while (!s->head_done) {
		size_t n = rs_step(s, SIZE_MAX, &ev);
		int k;

		if (ev.type == H1_EV_NONE)
			return 0;
		if (ev.type == H1_EV_DONE) {
			/* The end of a 1xx. */
			evbuffer_drain(s->rs, n);
			continue;
		}
		if (ev.type != H1_EV_HEAD)
			return -1;
		evbuffer_drain(s->rs, n);
		k = h2_resp_nva(ev.msg, nva, NV_MAX, names, sizeof(names), status);
		if (k < 0)
			return -1;
		if (ev.msg->status < 200) {
			if (ev.msg->status == 101)
				return -1;
			nghttp2_submit_headers(hc->ng, NGHTTP2_FLAG_NONE, s->id, NULL, nva,
				(size_t)k, NULL);
			continue;
		}
		s->head_done = true;
		s->tunnel = ev.msg->framing == H1_BODY_TUNNEL;
		if (vc_eof(s) && s->vc)
			conn_trigger_read(s->vc);
		if (ev.msg->framing == H1_BODY_NONE) {
			/* Consume the message's end now: no DATA follows. */
			rs_step(s, SIZE_MAX, &ev);
			s->body_end = true;
			if (nghttp2_submit_response(hc->ng, s->id, nva, (size_t)k, NULL))
				return -1;
		} else if (nghttp2_submit_response(hc->ng, s->id, nva, (size_t)k, &dp)) {
			return -1;
		}
	}
	return 0;
}

/* New response bytes in rs (or the session's end): heads out, DATA resumed. */
static void rs_progress(struct h2s *s)
{
	struct h2conn *hc = s->hc;

	if (!hc || s->closed)
		return;
	if (!s->head_done && rs_heads(s) < 0) {
		h2s_rst(s, NGHTTP2_INTERNAL_ERROR);
	} else if (!s->head_done && s->rs_end) {
		h2s_rst(s, NGHTTP2_INTERNAL_ERROR); /* no head at all */
	} else if (s->deferred && (evbuffer_get_length(s->rs) || s->rs_end)) {
		s->deferred = false;
		nghttp2_session_resume_data(hc->ng, s->id);
	}
	hc_flush_soon(hc);
}

/* ------------------------------------------------------------------ the session's conn */


static ssize_t vc_recv(struct conn *c, void *buf, size_t len)
{
	struct h2s *s = c->tr_conn;
	int n;

	if (!s->hc || (s->closed && !s->rs_end && s->reset)) {
		errno = ECONNRESET;
		return -1;
	}
	if (s->rs_end || vc_eof(s)) {
		/* The session answered and shut its side (its client "closes" too), or a
		 * tunnel's client half-closed. */
		return 0;
	}
	n = evbuffer_remove(s->rq, buf, len);
	if (n <= 0) {
		errno = EAGAIN;
		return -1;
	}
	/* The window opens again as the session takes the bytes, not before. */
	if (s->unconsumed && !s->closed && evbuffer_get_length(s->rq) < s->hc->lim.buffer) {
		nghttp2_session_consume(s->hc->ng, s->id, s->unconsumed);
		s->unconsumed = 0;
		hc_flush_soon(s->hc);
	}
	return n;
}

static ssize_t vc_sendv(struct conn *c, const struct iovec *iov, int n)
{
	struct h2s *s = c->tr_conn;
	size_t room, took = 0;

	if (!s->hc || s->closed) {
		errno = EPIPE;
		return -1;
	}
	room = evbuffer_get_length(s->rs) < s->hc->lim.buffer ?
		       s->hc->lim.buffer - evbuffer_get_length(s->rs) :
		       0;
	for (int i = 0; i < n && room; i++) {
		size_t k = iov[i].iov_len < room ? iov[i].iov_len : room;

		evbuffer_add(s->rs, iov[i].iov_base, k);
		room -= k;
		took += k;
	}
	if (!took) {
		errno = EAGAIN;
		return -1;
	}
	rs_progress(s);
	return (ssize_t)took;
}

static size_t vc_pending(struct conn *c)
{
	struct h2s *s = c->tr_conn;

	/* Something to report: bytes, the end of the answer, or a reset. */
	if (!s->hc || s->rs_end || (s->closed && s->reset) || vc_eof(s))
		return 1;
	return evbuffer_get_length(s->rq);
}

static void vc_shutdown(struct conn *c)
{
	struct h2s *s = c->tr_conn;

	if (s->rs_end)
		return;
	/* Every byte of the answer is in rs; data_read() resets the stream if they end short
	 * of a complete message (the session's responses are never close-delimited). */
	s->rs_end = true;
	rs_progress(s);
	conn_trigger_read(c);
}

static void vc_detach(struct conn *c)
{
	struct h2s *s = c->tr_conn;
	struct h2conn *hc = s->hc;

	c->tr_conn = NULL;
	s->vc = NULL;
	if (!hc) {
		h2s_free(s);
		return;
	}
	if (!s->closed) {
		/* The session ended before it wrote its whole answer: reset rather than leave
		 * the client waiting. An answer written whole still drains from rs as the
		 * client's window allows. */
		if (!s->rs_end && !s->body_end)
			h2s_rst(s, NGHTTP2_INTERNAL_ERROR);
		hc_flush_soon(hc);
		return; /* freed at stream close */
	}
	h2s_free(s);
	hc_maybe_end(hc);
}

static const struct conn_transport vc_transport = {
	.name = "h2",
	.recv = vc_recv,
	.sendv = vc_sendv,
	.pending = vc_pending,
	.shutdown = vc_shutdown,
	.detach = vc_detach,
};

/* The head is complete: write it as HTTP/1.1 into rq; the stream starts after the current
 * batch of frames (h2s_start()), so one reset in the same batch costs no session. */
static int h2s_prepare(struct h2conn *hc, struct h2s *s, bool end_stream)
{
	struct h1_buf *b = &hc->head;
	int err;

	b->len = 0;
	b->max = (size_t)hc->lim.max_header_list + 4096;
	err = h2_req_write(&s->req, end_stream, H1_W_CLOSE, b, &s->rq_chunked);
	if (!err && evbuffer_add(s->rq, b->p, b->len) < 0)
		err = -ENOMEM;
	if (err)
		return err;
	s->rq_end = end_stream;
	if (!s->rsp)
		s->rsp = h1_parser_new(H1_RESPONSE, &(struct h1_limits){
			.max_head = hc->lim.max_header_list, .max_headers = hc->lim.max_headers});
	if (!s->rsp)
		return -ENOMEM;
	h1_parser_set_method(s->rsp, req_method(s));
	s->ready = true;
	return 0;
}

/* Hand a prepared stream to a session. Returns 0 or -errno (the stream was reset). */
static int h2s_start(struct h2conn *hc, struct h2s *s)
{
	int err;

	s->vc = conn_virtual(hc->base, &vc_transport, s, (struct sockaddr *)&hc->cli->peer,
		hc->cli->peer_len);
	if (!s->vc)
		return -ENOMEM;
	s->started = true;
	s->progress_ms = clock_coarse_ms();
	err = hc->ops->open(hc->arg, s->vc);
	if (err) {
		/* The owner freed the conn (vc_detach ran): the stream stays for nghttp2. */
		return err;
	}
	conn_trigger_read(s->vc);
	return 0;
}

/* ------------------------------------------------------------------ nghttp2 callbacks */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
	struct h2conn *hc = user;
	struct h2s *s;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = h2s_new(hc);
	if (!s)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	s->hc = hc;
	s->id = f->hd.stream_id;
	TAILQ_INSERT_TAIL(&hc->streams, s, link);
	hc->n_open++;
	evtimer_del(hc->idle);
	if (!s->rq || !s->rs) {
		nghttp2_session_set_stream_user_data(ng, s->id, s);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	nghttp2_session_set_stream_user_data(ng, s->id, s);
	return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
	size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *user)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	int err;

	(void)flags;
	(void)user;
	if (!s || s->started) {
		/* Trailers of a request: HTTP/1.1 upstreams get none (gRPC clients send none);
		 * still bounded by the header list limit through nghttp2's own checks. */
		return 0;
	}
	err = h2_req_field(&s->req, name, nl, value, vl);
	if (err == -ENOSPC) {
		/* The HPACK-bomb and large-header case: refuse the stream, keep nothing. */
		log_ratelimited(LOG_LVL_INFO, "client %s: HTTP/2 stream %d: header list over %u bytes",
			CONN_PEER(s->hc->cli), s->id, s->hc->lim.max_header_list);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return err ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
	size_t len, void *user)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)flags;
	(void)user;
	if (!s || !s->ready || (s->started && !s->vc)) {
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	h2io_body_add(s->rq, data, len, s->rq_chunked);
	s->unconsumed += len;
	if (s->vc)
		conn_trigger_read(s->vc);
	return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
	struct h2conn *hc = user;
	struct h2s *s;
	bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;

	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	if (f->hd.type == NGHTTP2_DATA && !f->hd.length && !end && ++hc->n_empty > MAX_EMPTY) {
		log_ratelimited(LOG_LVL_INFO, "client %s: HTTP/2: flood of empty DATA frames",
			CONN_PEER(hc->cli));
		return nghttp2_session_terminate_session(ng, NGHTTP2_ENHANCE_YOUR_CALM) ?
			       NGHTTP2_ERR_CALLBACK_FAILURE :
			       0;
	}
	s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (!s)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && !s->ready) {
		int err = h2s_prepare(hc, s, end);

		if (err) {
			log_ratelimited(LOG_LVL_INFO, "client %s: HTTP/2 stream %d refused: %s",
				CONN_PEER(hc->cli), s->id, strerror(-err));
			nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id,
				err == -EINVAL ? NGHTTP2_PROTOCOL_ERROR : NGHTTP2_REFUSED_STREAM);
		}
		return 0;
	}
	if (end && s->ready && !s->rq_end) {
		if (s->rq_chunked)
			evbuffer_add(s->rq, "0\r\n\r\n", 5);
		s->rq_end = true;
		if (s->vc)
			conn_trigger_read(s->vc);
	}
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
	struct h2conn *hc = user;
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, id);

	if (!s)
		return 0;
	s->closed = true;
	hc->n_open--;
	if (!hc->n_open && !hc->ending)
		hc_idle_arm(hc);
	if (s->vc) {
		/* A reset by the client, or the end of a stream the session still holds: it
		 * sees a reset and ends. */
		s->reset = code != NGHTTP2_NO_ERROR || !s->body_end;
		if (s->reset)
			conn_trigger_read(s->vc);
		return 0; /* freed when the session lets go of its conn (vc_detach) */
	}
	h2s_free(s);
	return 0;
}

static int on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *f, int err, void *user)
{
	struct h2conn *hc = user;

	(void)ng;
	log_ratelimited(LOG_LVL_INFO, "client %s: HTTP/2 invalid frame (type %u, stream %d): %s",
		CONN_PEER(hc->cli), f->hd.type, f->hd.stream_id, nghttp2_strerror(err));
	return 0;
}

/* ------------------------------------------------------------------ connection I/O */

static void hc_end(struct h2conn *hc)
{
	if (hc->over)
		return;
	hc->over = true;
	evtimer_del(hc->idle);
	evtimer_del(hc->reap);
	event_del(&hc->flush);
	conn_disable(hc->cli, CONN_READING | CONN_WRITING);
	hc->ops->done(hc->arg);
}

/* Done when nghttp2 wants nothing more and everything is written. */
static void hc_maybe_end(struct h2conn *hc)
{
	if (hc->over || hc->busy)
		return;
	if ((hc->ending || (!nghttp2_session_want_read(hc->ng) &&
			      !nghttp2_session_want_write(hc->ng))) &&
		!conn_pending(hc->cli))
		hc_end(hc);
}

/* No stream open and nothing to write: what the connection holds only while busy goes back
 * (nghttp2's frame buffer pages, the conn's buffers), once per busy spell: at once, unless
 * the last time was under RELEASE_MS ago (a client sending one request at a time), then
 * from the reap timer (<now>). */
static void hc_idle_release(struct h2conn *hc, bool now)
{
	uint64_t t = clock_coarse_ms();

	if (!hc->dirty || hc->n_open || !TAILQ_EMPTY(&hc->streams) || conn_pending(hc->cli) ||
		evbuffer_get_length(hc->cli->in) || nghttp2_session_want_write(hc->ng) ||
		(!now && t - hc->released_ms < RELEASE_MS))
		return;
	hc->dirty = false;
	hc->released_ms = t;
	h2io_mem_idle(&hc->mem);
	h1_buf_free(&hc->head);
	conn_release_buffers(hc->cli);
}

/* Move what nghttp2 has to send to the client while its output has room. */
static void hc_flush(struct h2conn *hc)
{
	ssize_t err;

	if (hc->busy || hc->over)
		return;
	if (hc->mute) {
		hc_maybe_end(hc);
		return;
	}
	hc->busy = true;
	err = h2io_send(hc->ng, hc->cli, hc->lim.buffer);
	if (err < 0) {
		log_ratelimited(LOG_LVL_INFO, "client %s: HTTP/2: %s", CONN_PEER(hc->cli),
			err == -ENOMEM ? strerror(ENOMEM) : nghttp2_strerror((int)err));
		hc->ending = true;
	} else if (err > 0) {
		hc->dirty = true;
	}
	hc->busy = false;
	if (!hc->ending)
		hc_idle_release(hc, false);
	hc_maybe_end(hc); /* last: the owner may free <hc> */
}

/* A GOAWAY with <code> written at once, ahead of the frames nghttp2 still holds (the ACKs a
 * flood asked for), which are never sent: the connection ends after it. */
static void goaway_now(struct h2conn *hc, uint32_t code)
{
	int32_t last = nghttp2_session_get_last_proc_stream_id(hc->ng);
	uint8_t f[17] = {0, 0, 8, NGHTTP2_GOAWAY, 0, 0, 0, 0, 0, (uint8_t)(last >> 24),
		(uint8_t)(last >> 16), (uint8_t)(last >> 8), (uint8_t)last, (uint8_t)(code >> 24),
		(uint8_t)(code >> 16), (uint8_t)(code >> 8), (uint8_t)code};
	struct evbuffer *b = evbuffer_new();

	hc->mute = true;
	if (!b)
		return;
	evbuffer_add(b, f, sizeof(f));
	conn_send(hc->cli, b);
	evbuffer_free(b);
}

static void cli_read(struct conn *c, void *arg)
{
	struct h2conn *hc = arg;
	ssize_t n;

	if (hc->over)
		return;
	hc->busy = true;
	n = hc->ending ? 0 : h2io_recv(hc->ng, c);
	if (n < 0) {
		log_ratelimited(LOG_LVL_INFO, "client %s: HTTP/2: %s", CONN_PEER(c),
			nghttp2_strerror((int)n));
		/* A GOAWAY says why before the close: ENHANCE_YOUR_CALM for a flood (SETTINGS
		 * or PING faster than their ACKs go out), PROTOCOL_ERROR otherwise; none for a
		 * connection that is not HTTP/2. */
		if (n == NGHTTP2_ERR_FLOODED)
			goaway_now(hc, NGHTTP2_ENHANCE_YOUR_CALM);
		else if (n != NGHTTP2_ERR_BAD_CLIENT_MAGIC)
			nghttp2_session_terminate_session(hc->ng, NGHTTP2_PROTOCOL_ERROR);
		hc->ending = true;
	}
	if (hc->ending)
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
	/* Streams whose head came in this batch and that are still open get their sessions
	 * (still busy: nothing is sent, so no stream is freed under the walk). */
	if (!hc->ending) {
		struct h2s *s;

		TAILQ_FOREACH(s, &hc->streams, link)
		if (s->ready && !s->started && !s->closed && h2s_start(hc, s) < 0 &&
			!s->started)
			h2s_rst(s, NGHTTP2_REFUSED_STREAM);
	}
	hc->busy = false;
	hc_flush_soon(hc);
}

static void cli_write(struct conn *c, void *arg)
{
	struct h2conn *hc = arg;

	(void)c;
	if (!hc->over)
		hc_flush(hc);
}

static void cli_event(struct conn *c, short what, void *arg)
{
	struct h2conn *hc = arg;

	if (hc->over)
		return;
	if (!(what & CONN_EOF) || conn_pending(c) == 0)
		log_ratelimited(LOG_LVL_DEBUG, "client %s: HTTP/2 connection %s", CONN_PEER(c),
			what & CONN_EOF ? "closed" : what & CONN_TIMEOUT ? "timed out" : "failed");
	hc_end(hc);
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct h2conn *hc = arg;

	(void)fd;
	(void)what;
	if (hc->over || hc->n_open)
		return;
	nghttp2_session_terminate_session(hc->ng, NGHTTP2_NO_ERROR);
	hc->ending = true;
	hc_flush(hc);
}

/* An answer whose session is gone waits in rs only as long as the client keeps taking it:
 * one that made no progress for a send timeout is reset, as its session's send timeout would
 * have ended it. */
static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct h2conn *hc = arg;
	uint64_t now = clock_coarse_ms();
	struct h2s *s;
	bool any = false;
	struct timeval tv = clock_ms_tv(hc->lim.send_ms);

	(void)fd;
	(void)what;
	if (hc->over)
		return;
	hc->busy = true;
	TAILQ_FOREACH(s, &hc->streams, link)
	if (!s->vc && !s->closed && s->rs_end && now - s->progress_ms >= hc->lim.send_ms) {
		h2s_rst(s, NGHTTP2_CANCEL);
		any = true;
	}
	hc->busy = false;
	evtimer_add(hc->reap, &tv);
	if (any)
		hc_flush(hc);
	else if (!hc->ending)
		hc_idle_release(hc, true);
}

/* ------------------------------------------------------------------ lifetime */

struct h2conn *h2conn_start(struct event_base *base, struct conn *cli,
	const struct h2conn_limits *lim, const struct h2conn_ops *ops, void *arg)
{
	struct h2conn *hc = calloc(1, sizeof(*hc));
	nghttp2_settings_entry set[] = {
		{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, lim->max_streams},
		{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, lim->window},
		{NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, lim->max_header_list},
		{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	};
	if (!hc)
		goto nomem;
	hc->base = base;
	hc->cli = cli;
	hc->lim = *lim;
	hc->ops = ops;
	hc->arg = arg;
	TAILQ_INIT(&hc->streams);
	TAILQ_INIT(&hc->spare);
	h2io_mem_init(&hc->mem);
	hc->idle = evtimer_new(base, on_idle, hc);
	hc->reap = evtimer_new(base, on_reap, hc);
	event_assign(&hc->flush, base, -1, 0, on_flush, hc);
	if (!hc->idle || !hc->reap ||
		h2io_session_new(&hc->ng,
			&(struct h2io_session){.begin_headers = on_begin_headers,
				.header = on_header,
				.data_chunk = on_data_chunk,
				.frame_recv = on_frame_recv,
				.stream_close = on_stream_close,
				.invalid_frame = on_invalid_frame,
				.server = true,
				.rst_burst = RST_BURST,
				.rst_rate = RST_RATE,
				.set = set,
				.n_set = sizeof(set) / sizeof(set[0]),
				.window = lim->window,
				.streams = lim->max_streams,
				.mem = &hc->mem},
			hc))
		goto nomem;
	conn_set_cbs(cli, cli_read, cli_write, cli_event, hc);
	/* nghttp2 takes every byte read at once (DATA goes to windows it bounds), so reads
	 * need no watermark of their own. */
	conn_set_read_high(cli, 0);
	conn_set_write_low(cli, lim->buffer / 2);
	hc_idle_arm(hc);
	{
		struct timeval tv = clock_ms_tv(lim->send_ms);

		evtimer_add(hc->reap, &tv);
	}
	if (evbuffer_get_length(cli->in))
		conn_trigger_read(cli);
	return hc;
nomem:
	h2conn_free(hc);
	errno = ENOMEM;
	return NULL;
}

void h2conn_drain(struct h2conn *hc)
{
	if (hc->draining || hc->over)
		return;
	hc->draining = true;
	nghttp2_submit_goaway(hc->ng, NGHTTP2_FLAG_NONE,
		nghttp2_session_get_last_proc_stream_id(hc->ng), NGHTTP2_NO_ERROR, NULL, 0);
	if (!hc->n_open)
		hc->ending = true;
	/* Sent from the loop: the caller may be walking its sessions. */
	conn_trigger_read(hc->cli);
}

void h2conn_free(struct h2conn *hc)
{
	struct h2s *s;

	if (!hc)
		return;
	while ((s = TAILQ_FIRST(&hc->streams))) {
		TAILQ_REMOVE(&hc->streams, s, link);
		if (s->vc) {
			/* Its session ends on its own and frees it (vc_detach). */
			s->hc = NULL;
			conn_trigger_read(s->vc);
		} else {
			s->hc = NULL;
			h2s_free(s);
		}
	}
	if (hc->flush_armed)
		event_del(&hc->flush);
	hc_release_spare(hc);
	if (hc->ng)
		nghttp2_session_del(hc->ng);
	if (hc->idle)
		event_free(hc->idle);
	if (hc->reap)
		event_free(hc->reap);
	free(hc);
}
