// SPDX-License-Identifier: GPL-2.0
/* Tunnels (WebSocket and other Upgrades after a 101, CONNECT after its 200): bytes both ways
 * between two connections, each direction bounded, each half-close passed on, one idle timer
 * for the pair; and the route rules that allow a tunnel. */
#include "userspace/proxy/tunnel.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "userspace/lib/clock.h"
#include "userspace/net/conn.h"

/* One direction's source: bytes read from <c> go to <peer>'s connection. */
struct tun_side {
	struct tunnel *t;
	struct conn *c;
	struct tun_side *peer;
	uint64_t bytes;	 /* bytes read from <c> and passed on */
	bool paused;	 /* reading <c> stopped: the peer's output is full */
	bool eof;	 /* <c> closed its side (or failed reading) */
	bool shut;	 /* the peer's write side is shut (after every byte of <c>) */
};

struct tunnel {
	struct tun_side a, b;	/* a: the client, b: the upstream */
	struct event *idle;	/* fires every idle period; closes when nothing moved */
	uint64_t last_ms;	/* coarse monotonic time of the last byte either way */
	unsigned int idle_ms;
	size_t bound;		/* pause reading a side while its peer's output holds this */
	tunnel_done_fn done;
	void *arg;
	bool over;		/* done() called */
};

static void tun_end(struct tunnel *t, const char *why)
{
	if (t->over)
		return;
	t->over = true;
	event_del(t->idle);
	conn_disable(t->a.c, CONN_READING | CONN_WRITING);
	conn_disable(t->b.c, CONN_READING | CONN_WRITING);
	t->done(t->arg, why);
}

/* The source <s> closed and its peer's output is empty: pass the half-close on. Ends the
 * tunnel once both directions are closed. Returns true when the tunnel ended. */
static bool tun_maybe_shut(struct tun_side *s)
{
	struct tunnel *t = s->t;

	if (!s->eof || s->shut || conn_pending(s->peer->c))
		return false;
	s->shut = true;
	if (conn_shutdown_write(s->peer->c) < 0 && errno != ENOTCONN) {
		tun_end(t, "shutdown failed");
		return true;
	}
	if (s->peer->shut) {
		tun_end(t, NULL);
		return true;
	}
	return false;
}

/* Move what <s> read to its peer while the peer's output has room. */
static void tun_pump(struct tun_side *s)
{
	struct tunnel *t = s->t;
	struct conn *out = s->peer->c;
	size_t n = evbuffer_get_length(s->c->in);

	if (n) {
		s->bytes += n;
		t->last_ms = clock_coarse_ms();
		conn_send(out, s->c->in);
	}
	if (conn_pending(out) >= t->bound) {
		if (!s->paused && !s->eof) {
			s->paused = true;
			conn_disable(s->c, CONN_READING);
		}
	}
}

static void tun_read(struct conn *c, void *arg)
{
	struct tun_side *s = arg;

	(void)c;
	if (!s->t->over)
		tun_pump(s);
}

/* The output of <c> drained to half the bound (or empty): resume its source, and pass a
 * pending half-close on. */
static void tun_write(struct conn *c, void *arg)
{
	struct tun_side *dst = arg, *src = dst->peer;

	(void)c;
	if (dst->t->over)
		return;
	if (src->paused && conn_pending(dst->c) < dst->t->bound) {
		src->paused = false;
		conn_enable(src->c, CONN_READING);
		conn_trigger_read(src->c);
	}
	tun_maybe_shut(src);
}

static void tun_event(struct conn *c, short what, void *arg)
{
	struct tun_side *s = arg;
	struct tunnel *t = s->t;

	if (t->over)
		return;
	if (what & CONN_EOF) {
		s->eof = true;
		tun_pump(s);
		tun_maybe_shut(s);
		return;
	}
	if (what & CONN_TIMEOUT) {
		tun_end(t, "send timed out");
		return;
	}
	tun_end(t, c->err ? strerror(c->err) : "connection error");
}

static void tun_idle(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;
	uint64_t now = clock_coarse_ms(), quiet = now - t->last_ms;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (quiet >= t->idle_ms) {
		tun_end(t, "idle timeout");
		return;
	}
	tv = clock_ms_tv((unsigned int)(t->idle_ms - quiet));
	evtimer_add(t->idle, &tv);
}

static void side_init(struct tunnel *t, struct tun_side *s, struct conn *c, struct tun_side *p)
{
	s->t = t;
	s->c = c;
	s->peer = p;
	conn_set_cbs(c, tun_read, tun_write, tun_event, s);
	/* An idle tunnel is timed by the pair's timer, not per direction: one side may be
	 * quiet for hours while the other talks. A peer that stops reading is still timed by
	 * the send timeout already set. */
	conn_set_timeouts(c, NULL, c->t_write);
	conn_set_read_high(c, t->bound);
	conn_set_write_low(c, t->bound / 2);
	conn_enable(c, CONN_READING | CONN_WRITING);
}

struct tunnel *tunnel_start(struct event_base *base, struct conn *a, struct conn *b,
	size_t bound, unsigned int idle_ms, tunnel_done_fn done, void *arg)
{
	struct tunnel *t = calloc(1, sizeof(*t));
	struct timeval tv = clock_ms_tv(idle_ms);

	if (!t)
		goto nomem;
	t->idle = evtimer_new(base, tun_idle, t);
	if (!t->idle)
		goto nomem;
	t->bound = bound ? bound : 1;
	t->idle_ms = idle_ms;
	t->done = done;
	t->arg = arg;
	t->last_ms = clock_coarse_ms();
	side_init(t, &t->a, a, &t->b);
	side_init(t, &t->b, b, &t->a);
	evtimer_add(t->idle, &tv);
	/* Bytes that arrived with the head (a client that did not wait for the 101, a server
	 * frame right behind it) go first; later ones come with the read events. */
	if (evbuffer_get_length(a->in))
		conn_trigger_read(a);
	if (evbuffer_get_length(b->in))
		conn_trigger_read(b);
	return t;
nomem:
	if (t)
		free(t);
	errno = ENOMEM;
	return NULL;
}

void tunnel_free(struct tunnel *t)
{
	if (!t)
		return;
	event_free(t->idle);
	free(t);
}

uint64_t tunnel_bytes(const struct tunnel *t, bool to_upstream)
{
	return to_upstream ? t->a.bytes : t->b.bytes;
}

/* ------------------------------------------------------------------ route rules */

static bool is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

bool tunnel_upgrade_allowed(const struct cfg_str_list *allow, const char *val, size_t len)
{
	const char *p = val, *end = val + len;
	size_t listed = 0;

	if (!allow->n)
		return false;
	while (p < end) {
		const char *e, *tok_end;
		bool ok = false;
		size_t tl;

		while (p < end && (is_ows(*p) || *p == ','))
			p++;
		if (p == end)
			break;
		for (e = p; e < end && *e != ','; e++)
			;
		/* "websocket", "h2c", "foo/1.2": the name before a version. */
		for (tok_end = p; tok_end < e && *tok_end != '/' && !is_ows(*tok_end); tok_end++)
			;
		tl = (size_t)(tok_end - p);
		for (size_t i = 0; i < allow->n && !ok; i++)
			ok = !strcmp(allow->v[i], "*") ||
			     (strlen(allow->v[i]) == tl && !strncasecmp(allow->v[i], p, tl));
		if (!ok || !tl)
			return false;
		listed++;
		p = e;
	}
	return listed > 0;
}

int tunnel_target_parse(const char *t, size_t len, char *host, size_t hsize, uint16_t *port)
{
	const char *colon, *h = t;
	size_t hl;
	unsigned long v = 0;

	if (!len)
		return -EINVAL;
	if (t[0] == '[') {
		const char *rb = memchr(t, ']', len);

		if (!rb || rb + 1 >= t + len || rb[1] != ':')
			return -EINVAL;
		h = t + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = memchr(t, ':', len);
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - t);
		if (memchr(colon + 1, ':', len - hl - 1))
			return -EINVAL;
	}
	if (!hl || hl >= hsize)
		return -EINVAL;
	for (size_t i = 0; i < hl; i++) {
		char ch = h[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
			    (t[0] == '[' && ch == ':')))
			return -EINVAL;
	}
	if (colon + 1 == t + len || (size_t)(t + len - colon - 1) > 5)
		return -EINVAL;
	for (const char *d = colon + 1; d < t + len; d++) {
		if (*d < '0' || *d > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*d - '0');
	}
	if (!v || v > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)v;
	return 0;
}

/* Whether host pattern <pat> (<pl> bytes) covers <host>. */
static bool host_covered(const char *pat, size_t pl, const char *host)
{
	size_t hl = strlen(host);

	if (pl == 1 && pat[0] == '*')
		return true;
	if (pl > 2 && pat[0] == '*' && pat[1] == '.')
		return hl > pl - 1 && !strncasecmp(host + hl - (pl - 1), pat + 1, pl - 1);
	if (pl > 2 && pat[0] == '[' && pat[pl - 1] == ']') {
		struct in6_addr x, y;
		char buf[64];

		if (pl - 2 >= sizeof(buf))
			return false;
		memcpy(buf, pat + 1, pl - 2);
		buf[pl - 2] = '\0';
		return inet_pton(AF_INET6, buf, &x) == 1 && inet_pton(AF_INET6, host, &y) == 1 &&
		       !memcmp(&x, &y, sizeof(x));
	}
	return hl == pl && !strncasecmp(pat, host, pl);
}

bool tunnel_target_allowed(const struct cfg_str_list *allow, const char *host, uint16_t port)
{
	for (size_t i = 0; i < allow->n; i++) {
		const char *pat = allow->v[i], *colon = strrchr(pat, ':');

		if (!colon)
			continue;
		if (strcmp(colon + 1, "*") && strtoul(colon + 1, NULL, 10) != port)
			continue;
		if (host_covered(pat, (size_t)(colon - pat), host))
			return true;
	}
	return false;
}
