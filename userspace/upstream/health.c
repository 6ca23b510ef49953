// SPDX-License-Identifier: GPL-2.0
/* Health checking: the rise/fall and passive state machines, and the probe engine that runs
 * TCP-connect and HTTP probes on a libevent base. One probe per target is in flight at most.
 * A target given a transport (TLS to an https:// server) is probed through a conn over it;
 * the others through a bare socket. An HTTP probe of a server that speaks HTTP/2 (an h2c or h2
 * pool's) goes as one HTTP/2 stream over a conn, plain TCP or the TLS transport. */
#include "userspace/upstream/health.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "userspace/http/h1.h"
#include "userspace/net/conn.h"
#include "userspace/lib/addr.h"
#include "userspace/lib/clock.h"
#include "userspace/upstream/h2io.h"

#define HEALTH_REQ_MAX 1024u /* bytes of an HTTP probe request */
#define HEALTH_RX_BUF  4096u /* bytes read per recv() */

/* One probed target. */
struct health_target {
	struct health *h;
	unsigned int id;
	char name[HEALTH_NAME_MAX];
	void *target_arg;
	struct sockaddr_storage ss;
	socklen_t salen;
	struct health_params p; /* strings point into req_method/req_path/req_host */
	struct health_sm sm;
	struct event *timer;	  /* next probe start */
	struct event *deadline;	  /* current probe's timeout */
	struct event *io;	  /* current probe's socket */
	int fd;			  /* -1 when no probe is in flight */
	struct h1_parser *parser; /* HTTP: response parser, reused */
	char req[HEALTH_REQ_MAX]; /* HTTP: the request, built once */
	size_t req_len;
	size_t req_sent;	/* bytes of req written in the current probe */
	bool connected;		/* current probe: handshake done */
	uint64_t start_ms;	/* current (or last) probe start, monotonic */
	int64_t last_change_ms; /* wall clock of the last transition */
	uint64_t probes, failures, transitions;
	uint32_t last_duration_ms;
	char reason[HEALTH_REASON_MAX];

	const struct conn_transport *tr; /* probes go over it (TLS); NULL: a bare socket */
	struct conn *c;			 /* with <tr>: the current probe's connection */

	bool h2;		/* HTTP probes as an HTTP/2 stream (over <tr>, or plain TCP) */
	bool h2_tls;		/* :scheme https */
	nghttp2_session *ng;	/* h2: the current probe's session */
	unsigned int h2_status; /* h2: the final :status, once read */
	uint32_t h2_reset;	/* h2: the stream closed with this code before a status */
	bool h2_closed;		/* h2: the stream closed */
};

struct health {
	struct event_base *base;
	health_change_fn cb;
	void *arg;
	struct health_target **t;
	unsigned int n, cap;
	uint64_t rng; /* xorshift64 state for jitter */
};

void health_sm_init(struct health_sm *sm, bool up, unsigned int rise, unsigned int fall)
{
	sm->up = up;
	sm->rise = rise ? rise : 1;
	sm->fall = fall ? fall : 1;
	sm->streak = 0;
}

bool health_sm_report(struct health_sm *sm, bool ok)
{
	/* Only results that contradict the verdict count; one agreeing result clears them. */
	if (ok == sm->up) {
		sm->streak = 0;
		return false;
	}
	if (++sm->streak < (sm->up ? sm->fall : sm->rise))
		return false;
	sm->up = ok;
	sm->streak = 0;
	return true;
}

void health_passive_init(struct health_passive *p, unsigned int max_fails, uint64_t cooldown_ms,
	uint64_t cooldown_max_ms)
{
	memset(p, 0, sizeof(*p));
	p->state = HEALTH_PASSIVE_OK;
	p->max_fails = max_fails ? max_fails : 1;
	p->cooldown_ms = cooldown_ms;
	p->cooldown_max_ms = cooldown_max_ms > cooldown_ms ? cooldown_max_ms : cooldown_ms;
}

bool health_passive_available(struct health_passive *p, uint64_t now_ms)
{
	switch (p->state) {
	case HEALTH_PASSIVE_OK:
		return true;
	case HEALTH_PASSIVE_COOLDOWN:
		if (now_ms < p->down_until_ms)
			return false;
		p->state = HEALTH_PASSIVE_PROBATION;
		p->probing = true;
		p->probe_since_ms = now_ms;
		return true;
	case HEALTH_PASSIVE_PROBATION:
	default:
		/* One request at a time: the others wait for its outcome elsewhere. */
		if (p->probing && now_ms - p->probe_since_ms < p->cooldown_ms)
			return false;
		p->probing = true;
		p->probe_since_ms = now_ms;
		return true;
	}
}

/* Start a cool-down of <len> ms at <now_ms>. */
static void passive_cooldown(struct health_passive *p, uint64_t now_ms, uint64_t len)
{
	p->state = HEALTH_PASSIVE_COOLDOWN;
	p->fails = 0;
	p->probing = false;
	p->backoff_ms = len;
	p->down_until_ms = now_ms + len;
	p->cooldowns++;
}

enum health_passive_change health_passive_report(struct health_passive *p, bool ok, uint64_t now_ms)
{
	uint64_t len;

	switch (p->state) {
	case HEALTH_PASSIVE_OK:
		if (ok) {
			p->fails = 0;
			return HEALTH_PASSIVE_SAME;
		}
		if (++p->fails < p->max_fails)
			return HEALTH_PASSIVE_SAME;
		passive_cooldown(p, now_ms, p->cooldown_ms);
		return HEALTH_PASSIVE_DOWN;
	case HEALTH_PASSIVE_PROBATION:
		if (ok) {
			p->state = HEALTH_PASSIVE_OK;
			p->fails = 0;
			p->probing = false;
			p->backoff_ms = 0;
			return HEALTH_PASSIVE_UP;
		}
		len = p->backoff_ms * 2;
		if (len < p->cooldown_ms)
			len = p->cooldown_ms;
		if (len > p->cooldown_max_ms)
			len = p->cooldown_max_ms;
		passive_cooldown(p, now_ms, len);
		return HEALTH_PASSIVE_DOWN;
	case HEALTH_PASSIVE_COOLDOWN:
	default:
		/* Outcomes of requests sent before the cool-down began change nothing. */
		return HEALTH_PASSIVE_SAME;
	}
}

static uint64_t rng_next(struct health *h)
{
	uint64_t x = h->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	h->rng = x;
	return x;
}

/* Delay until the next probe of <t>: the interval spread by +-jitter_pct %. */
static uint64_t next_delay_ms(struct health_target *t)
{
	uint64_t iv = t->p.interval_ms, span = iv * t->p.jitter_pct / 100;

	if (!span)
		return iv;
	return iv - span + rng_next(t->h) % (2 * span + 1);
}

static void arm_ms(struct event *ev, uint64_t ms)
{
	struct timeval tv = clock_ms_tv(ms);

	/* event_add() fails only on a bad event or OOM in the backend; the next probe would
	 * then never run, which the probe counters make visible. */
	(void)event_add(ev, &tv);
}

static void probe_close(struct health_target *t)
{
	if (t->c) {
		conn_free(t->c);
		t->c = NULL;
	}
	if (t->ng) {
		nghttp2_session_del(t->ng);
		t->ng = NULL;
	}
	if (t->io) {
		event_free(t->io);
		t->io = NULL;
	}
	if (t->deadline)
		event_del(t->deadline);
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	if (t->parser)
		h1_parser_reset(t->parser);
}

/* End the probe in flight with result <ok> and <reason>, apply rise/fall, tell the owner of a
 * transition and schedule the next probe. */
static void probe_done(struct health_target *t, bool ok, const char *reason)
{
	uint64_t now = clock_mono_ms(), elapsed = now - t->start_ms, delay;
	struct health *h = t->h;

	probe_close(t);
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
	t->probes++;
	t->last_duration_ms = (uint32_t)elapsed;
	if (!ok)
		t->failures++;
	if (health_sm_report(&t->sm, ok)) {
		struct health_event ev = {
			.id = t->id,
			.name = t->name,
			.target_arg = t->target_arg,
			.up = t->sm.up,
			.reason = t->reason,
			.time_ms = clock_wall_ms(),
			.mono_ms = now,
		};

		t->transitions++;
		t->last_change_ms = ev.time_ms;
		if (h->cb)
			h->cb(&ev, h->arg);
	}
	/* Intervals run from probe start to probe start, so a slow target is not probed less
	 * often than a fast one. */
	delay = next_delay_ms(t);
	arm_ms(t->timer, elapsed >= delay ? 0 : delay - elapsed);
}

static void probe_fail_errno(struct health_target *t, const char *what, int err)
{
	char reason[HEALTH_REASON_MAX];

	snprintf(reason, sizeof(reason), "%s: %s", what, strerror(err));
	probe_done(t, false, reason);
}

static void on_io(evutil_socket_t fd, short what, void *arg);

/* Wait for <events> on the probe socket. Returns 0 or -ENOMEM. */
static int probe_wait(struct health_target *t, short events)
{
	if (t->io)
		event_free(t->io);
	t->io = event_new(t->h->base, t->fd, events, on_io, t);
	if (!t->io)
		return -ENOMEM;
	return event_add(t->io, NULL) ? -ENOMEM : 0;
}

/* The final status of the probe's response: within the accepted range or not. */
static void probe_status(struct health_target *t, unsigned int status)
{
	char reason[HEALTH_REASON_MAX];

	if (status >= t->p.status_min && status <= t->p.status_max) {
		snprintf(reason, sizeof(reason), "HTTP %u", status);
		probe_done(t, true, reason);
	} else {
		snprintf(reason, sizeof(reason), "HTTP %u not in %u-%u", status, t->p.status_min,
			t->p.status_max);
		probe_done(t, false, reason);
	}
}

/* Feed the response bytes in <buf> to the parser; finishes the probe on a verdict. */
static void probe_parse(struct health_target *t, const char *buf, size_t len)
{
	char reason[HEALTH_REASON_MAX];
	struct h1_event ev;

	for (;;) {
		size_t n = h1_parse(t->parser, buf, len, &ev);

		buf += n;
		len -= n;
		switch (ev.type) {
		case H1_EV_NONE:
			return;
		case H1_EV_HEAD:
			/* An interim 1xx response is followed by the final one. */
			if (ev.msg->status < 200 && ev.msg->status != 101)
				break;
			probe_status(t, ev.msg->status);
			return;
		case H1_EV_ERROR:
			snprintf(reason, sizeof(reason), "bad response: %s", ev.reason);
			probe_done(t, false, reason);
			return;
		default:
			if (!len)
				return;
			break;
		}
	}
}

static void probe_send(struct health_target *t)
{
	while (t->req_sent < t->req_len) {
		ssize_t n =
			send(t->fd, t->req + t->req_sent, t->req_len - t->req_sent, MSG_NOSIGNAL);

		if (n < 0) {
			int err = errno;

			if (err == EAGAIN || err == EINTR) {
				if (probe_wait(t, EV_WRITE) < 0)
					probe_fail_errno(t, "wait", ENOMEM);
				return;
			}
			probe_fail_errno(t, "send", err);
			return;
		}
		t->req_sent += (size_t)n;
	}
	if (probe_wait(t, EV_READ | EV_PERSIST) < 0)
		probe_fail_errno(t, "wait", ENOMEM);
}

/* The handshake completed: a TCP probe succeeded, an HTTP probe sends its request. */
static void probe_connected(struct health_target *t)
{
	t->connected = true;
	if (t->p.kind == HEALTH_TCP) {
		probe_done(t, true, "connected");
		return;
	}
	probe_send(t);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct health_target *t = arg;
	char buf[HEALTH_RX_BUF];
	struct h1_event ev;
	ssize_t n;

	if (!t->connected) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr) {
			probe_fail_errno(t, "connect", soerr);
			return;
		}
		probe_connected(t);
		return;
	}
	if (what & EV_WRITE) {
		probe_send(t);
		return;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			probe_fail_errno(t, "recv", errno);
		return;
	}
	if (n == 0) {
		h1_parse_eof(t->parser, &ev);
		probe_done(t, false, "connection closed before a response status");
		return;
	}
	probe_parse(t, buf, (size_t)n);
}

/* ------------------------------------------------------------------ HTTP/2 probes */

/* nghttp2's callbacks only note what came; the probe ends after the bytes are fed, never
 * inside nghttp2 (which ending frees). */
static int h2_on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nl,
	const uint8_t *value, size_t vl, uint8_t flags, void *user)
{
	struct health_target *t = user;
	unsigned int st = 0;

	(void)ng;
	(void)flags;
	if (f->hd.type != NGHTTP2_HEADERS || f->hd.stream_id != 1 || nl != 7 ||
		memcmp(name, ":status", 7) || vl != 3)
		return 0;
	for (size_t i = 0; i < 3; i++)
		st = st * 10 + (unsigned int)(value[i] - '0');
	/* An interim 1xx is followed by the final status (nghttp2 checked the digits). */
	if (st >= 200 && !t->h2_status)
		t->h2_status = st;
	return 0;
}

static int h2_on_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
	struct health_target *t = user;

	(void)ng;
	if (id == 1) {
		t->h2_closed = true;
		t->h2_reset = code;
	}
	return 0;
}

/* The fields of the HTTP/1.1 probe request built once ("METHOD PATH HTTP/1.1\r\nHost: HOST"),
 * as the pseudo-headers of an HTTP/2 request into <nva> (6 entries). */
static size_t h2_request(const struct health_target *t, nghttp2_nv *nva)
{
	const char *m = t->req, *sp = memchr(m, ' ', t->req_len), *path = sp + 1;
	const char *pe = strstr(path, " HTTP/1.1\r\nHost: "), *host = pe + 17;
	const char *he = strstr(host, "\r\n");
	size_t n = 0;

#define NV(N, V, VL)                                                                 \
	nva[n++] = (nghttp2_nv){(uint8_t *)(N), (uint8_t *)(V), sizeof(N) - 1, (VL), \
		NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE}
	NV(":method", m, (size_t)(sp - m));
	NV(":scheme", t->h2_tls ? "https" : "http", t->h2_tls ? 5u : 4u);
	NV(":authority", host, (size_t)(he - host));
	NV(":path", path, (size_t)(pe - path));
	NV("user-agent", "pingd-health", 12u);
	NV("accept", "*/*", 3u);
#undef NV
	return n;
}

/* The connection is up: the preface, SETTINGS and the request's HEADERS, in one write. */
static void h2_probe_up(struct health_target *t)
{
	static const nghttp2_settings_entry set[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
	nghttp2_nv nva[6];
	size_t n;
	int err;

	if (h2io_session_new(&t->ng,
		    &(struct h2io_session){.header = h2_on_header,
			    .stream_close = h2_on_close,
			    .set = set,
			    .n_set = 1,
			    .window = NGHTTP2_INITIAL_WINDOW_SIZE,
			    .streams = 1},
		    t)) {
		probe_fail_errno(t, "HTTP/2 session", ENOMEM);
		return;
	}
	t->h2_status = 0;
	t->h2_closed = false;
	t->h2_reset = 0;
	n = h2_request(t, nva);
	if (nghttp2_submit_request(t->ng, NULL, nva, n, NULL, NULL) < 0) {
		probe_fail_errno(t, "HTTP/2 request", ENOMEM);
		return;
	}
	err = (int)h2io_send(t->ng, t->c, SIZE_MAX);
	if (err < 0)
		probe_fail_errno(t, "send", err == -ENOMEM ? ENOMEM : EPROTO);
}

/* Bytes from the server: a verdict once the final status is read or the stream ended. */
static void h2_probe_read(struct health_target *t)
{
	char reason[HEALTH_REASON_MAX];
	ssize_t n = h2io_recv(t->ng, t->c);
	int err;

	if (n < 0) {
		snprintf(reason, sizeof(reason), "bad response: HTTP/2: %s",
			nghttp2_strerror((int)n));
		probe_done(t, false, reason);
		return;
	}
	if (t->h2_status) {
		probe_status(t, t->h2_status);
		return;
	}
	if (t->h2_closed) {
		snprintf(reason, sizeof(reason), "HTTP/2 stream closed before a status (%s)",
			nghttp2_http2_strerror(t->h2_reset));
		probe_done(t, false, reason);
		return;
	}
	/* SETTINGS ACKs and WINDOW_UPDATEs the server is owed. */
	err = (int)h2io_send(t->ng, t->c, SIZE_MAX);
	if (err < 0)
		probe_fail_errno(t, "send", err == -ENOMEM ? ENOMEM : EPROTO);
}

/* ------------------------------------------------------------------ probes over a conn */

/* Probes over a transport. The connection is up (the TLS handshake done, the server's
 * certificate verified): a TCP check succeeds, an HTTP check sends its request. */
static void conn_probe_up(struct health_target *t)
{
	struct evbuffer *b;

	t->connected = true;
	if (t->p.kind == HEALTH_TCP) {
		probe_done(t, true, "connected (TLS)");
		return;
	}
	if (t->h2) {
		h2_probe_up(t);
		return;
	}
	b = evbuffer_new();
	if (!b || evbuffer_add(b, t->req, t->req_len) < 0) {
		evbuffer_free(b);
		probe_fail_errno(t, "send", ENOMEM);
		return;
	}
	conn_send(t->c, b); /* a write error comes as an event */
	evbuffer_free(b);
}

static void conn_probe_event(struct conn *c, short what, void *arg)
{
	struct health_target *t = arg;
	struct h1_event ev;

	(void)c;
	if (what & CONN_CONNECTED) {
		conn_probe_up(t);
	} else if (what & CONN_EOF) {
		h1_parse_eof(t->parser, &ev);
		probe_done(t, false, "connection closed before a response status");
	} else if (!t->connected) {
		/* The connect or the handshake (whose cause tlsclient.c logs). */
		probe_fail_errno(t, t->tr ? "connect (TLS)" : "connect", errno ? errno : EPROTO);
	} else {
		probe_fail_errno(t, what & CONN_WRITING ? "send" : "recv", errno ? errno : EIO);
	}
}

static void conn_probe_read(struct conn *c, void *arg)
{
	struct health_target *t = arg;
	char buf[HEALTH_RX_BUF];
	int n;

	if (t->h2) {
		if (t->ng)
			h2_probe_read(t);
		return;
	}
	/* Each chunk may end the probe, which frees the conn. */
	while (t->c == c && (n = evbuffer_remove(c->in, buf, sizeof(buf))) > 0)
		probe_parse(t, buf, (size_t)n);
}

/* Start a probe of <t> over its transport. */
static void conn_probe_start(struct health_target *t)
{
	struct cfg_addr a = {.len = t->salen};

	memcpy(&a.ss, &t->ss, t->salen);
	(void)addr_sockaddr_text((const struct sockaddr *)&t->ss, true, a.text, sizeof(a.text));
	t->c = conn_connect(t->h->base, t->tr ? t->tr : &conn_tcp, &a);
	if (!t->c) {
		probe_fail_errno(t, "connect", errno);
		return;
	}
	conn_set_cbs(t->c, conn_probe_read, NULL, conn_probe_event, t);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct health_target *t = arg;
	char reason[HEALTH_REASON_MAX];

	snprintf(reason, sizeof(reason), "timeout after %ums (%s)", t->p.timeout_ms,
		t->connected ? "waiting for the response" : "connecting");
	probe_done(t, false, reason);
}

static void on_timer(evutil_socket_t unused, short what, void *arg)
{
	struct health_target *t = arg;
	int fd;

	t->start_ms = clock_mono_ms();
	t->connected = false;
	t->req_sent = 0;
	if (t->tr || (t->h2 && t->p.kind == HEALTH_HTTP)) {
		arm_ms(t->deadline, t->p.timeout_ms);
		conn_probe_start(t);
		return;
	}
	fd = socket(t->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		probe_fail_errno(t, "socket", errno);
		return;
	}
	t->fd = fd;
	arm_ms(t->deadline, t->p.timeout_ms);
	if (connect(fd, (const struct sockaddr *)&t->ss, t->salen) == 0) {
		probe_connected(t);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_fail_errno(t, "connect", errno);
		return;
	}
	if (probe_wait(t, EV_WRITE) < 0)
		probe_fail_errno(t, "wait", ENOMEM);
}

struct health *health_new(struct event_base *base, health_change_fn cb, void *arg)
{
	struct health *h;

	if (!base) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->base = base;
	h->cb = cb;
	h->arg = arg;
	h->rng = ((uint64_t)clock_wall_ms() << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)h;
	if (!h->rng)
		h->rng = 0x9e3779b97f4a7c15ull;
	return h;
}

static void target_free(struct health_target *t)
{
	probe_close(t);
	if (t->timer)
		event_free(t->timer);
	if (t->deadline)
		event_free(t->deadline);
	h1_parser_free(t->parser);
	free(t);
}

void health_free(struct health *h)
{
	if (!h)
		return;
	for (unsigned int i = 0; i < h->n; i++)
		target_free(h->t[i]);
	free(h->t);
	free(h);
}

/* Build the HTTP probe request of <t> once. Returns 0 or -EINVAL when it does not fit. */
static int build_request(struct health_target *t)
{
	char host[INET6_ADDRSTRLEN + 8];
	int n;

	if (!t->p.host &&
		addr_sockaddr_text((const struct sockaddr *)&t->ss, true, host, sizeof(host)) < 0)
		return -EINVAL;
	n = snprintf(t->req, sizeof(t->req),
		"%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pingd-health\r\n"
		"Accept: */*\r\nConnection: close\r\n\r\n",
		t->p.method ? t->p.method : "GET", t->p.path ? t->p.path : "/",
		t->p.host ? t->p.host : host);
	if (n < 0 || (size_t)n >= sizeof(t->req))
		return -EINVAL;
	t->req_len = (size_t)n;
	return 0;
}

int health_add(struct health *h, const char *name, const struct sockaddr *sa, socklen_t salen,
	const struct health_params *p, void *target_arg)
{
	struct health_target *t;
	int err;

	if (!h || !name || !sa || !p || health_params_check(p, NULL, 0) < 0)
		return -EINVAL;
	if (!((sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) ||
		    (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6))) ||
		salen > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (h->n == h->cap) {
		unsigned int cap = h->cap ? h->cap * 2 : 8;
		struct health_target **v = realloc(h->t, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->t = v;
		h->cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->h = h;
	t->id = h->n;
	t->fd = -1;
	t->target_arg = target_arg;
	snprintf(t->name, sizeof(t->name), "%s", name);
	memcpy(&t->ss, sa, salen);
	t->salen = salen;
	t->p = *p;
	/* The request text keeps method, path and host; the pointers are not needed later. */
	t->p.method = t->p.path = t->p.host = NULL;
	if (p->kind == HEALTH_HTTP) {
		t->p.method = p->method;
		t->p.path = p->path;
		t->p.host = p->host;
		err = build_request(t);
		t->p.method = t->p.path = t->p.host = NULL;
		if (err < 0)
			goto err_free;
		t->parser = h1_parser_new(H1_RESPONSE, NULL);
		if (!t->parser)
			goto err_nomem;
		if (p->method && !strcmp(p->method, "HEAD"))
			(void)h1_parser_set_method(t->parser, H1_METHOD_HEAD); /* cannot fail */
	}
	health_sm_init(&t->sm, !p->start_down, p->rise, p->fall);
	snprintf(t->reason, sizeof(t->reason), "not probed yet");
	t->timer = evtimer_new(h->base, on_timer, t);
	t->deadline = evtimer_new(h->base, on_deadline, t);
	if (!t->timer || !t->deadline)
		goto err_nomem;
	arm_ms(t->timer, rng_next(h) % p->interval_ms);
	h->t[h->n++] = t;
	return (int)t->id;

err_nomem:
	err = -ENOMEM;
err_free:
	target_free(t);
	return err;
}

int health_set_transport(struct health *h, unsigned int id, const struct conn_transport *tr)
{
	if (!h || id >= h->n)
		return -ENOENT;
	h->t[id]->tr = tr;
	return 0;
}

int health_set_http2(struct health *h, unsigned int id, bool tls)
{
	if (!h || id >= h->n)
		return -ENOENT;
	h->t[id]->h2 = true;
	h->t[id]->h2_tls = tls;
	return 0;
}

int health_find(const struct health *h, const char *name)
{
	for (unsigned int i = 0; h && name && i < h->n; i++)
		if (!strcmp(h->t[i]->name, name))
			return (int)i;
	return -ENOENT;
}

unsigned int health_count(const struct health *h)
{
	return h ? h->n : 0;
}

bool health_is_up(const struct health *h, unsigned int id)
{
	return h && id < h->n && h->t[id]->sm.up;
}

int health_info(const struct health *h, unsigned int id, struct health_info *out)
{
	const struct health_target *t;

	if (!h || id >= h->n)
		return -ENOENT;
	t = h->t[id];
	out->name = t->name;
	out->up = t->sm.up;
	out->last_change_ms = t->last_change_ms;
	out->probes = t->probes;
	out->failures = t->failures;
	out->transitions = t->transitions;
	out->last_duration_ms = t->last_duration_ms;
	snprintf(out->reason, sizeof(out->reason), "%s", t->reason);
	return 0;
}
