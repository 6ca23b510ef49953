// SPDX-License-Identifier: GPL-2.0
/* The admin listener: raw nonblocking sockets on a libevent base, requests read with the h1
 * codec, one response per connection (Connection: close). */
#include "userspace/ops/admin.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "userspace/http/h1.h"
#include "userspace/lib/clock.h"
#include "userspace/ops/metrics.h"

#define ADMIN_MAX_HEAD 8192u /* request head bytes */
#define ADMIN_RX_BUF   4096u

struct admin_conn {
	struct admin *a;
	int fd;
	struct event *ev;    /* read, then write */
	struct event *timer; /* ADMIN_TIMEOUT_MS */
	struct h1_parser *parser;
	bool head; /* request is HEAD: no body in the answer */
	char *out; /* response, malloc()ed */
	size_t out_len, out_off;
	struct admin_conn *next;
};

struct admin {
	struct event_base *base;
	struct admin_handlers h;
	void *arg;
	int fd;
	struct event *accept_ev;
	unsigned int port;
	unsigned int n_conns;
	struct admin_conn *conns;
};

static void conn_free(struct admin_conn *c)
{
	struct admin *a = c->a;
	struct admin_conn **pp;

	for (pp = &c->a->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	a->n_conns--;
	if (c->ev)
		event_free(c->ev);
	if (c->timer)
		event_free(c->timer);
	h1_parser_free(c->parser);
	free(c->out);
	close(c->fd);
	free(c);
	/* A slot is free again: take connections waiting in the backlog (the accept event is
	 * removed at the limit; adding a pending event again changes nothing). */
	if (a->accept_ev)
		(void)event_add(a->accept_ev, NULL); /* fails only on OOM; the next end retries */
}

static void on_write(evutil_socket_t fd, short what, void *arg);

/* Queue a response with <status>, <ctype>, <extra> header lines (each ending in CRLF, may be
 * empty) and <body> (<len> bytes, copied), then switch the connection to writing. */
static void respond(struct admin_conn *c, int status, const char *ctype, const char *extra,
	const char *body, size_t len)
{
	char head[512];
	int hl;

	hl = snprintf(head, sizeof(head),
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
		status, h1_status_reason(status), ctype, len, extra);
	if (c->head)
		len = 0;
	c->out = malloc((size_t)hl + len);
	if (!c->out) {
		conn_free(c);
		return;
	}
	memcpy(c->out, head, (size_t)hl);
	if (len)
		memcpy(c->out + hl, body, len);
	c->out_len = (size_t)hl + len;
	event_free(c->ev);
	c->ev = event_new(c->a->base, c->fd, EV_WRITE | EV_PERSIST, on_write, c);
	if (!c->ev || event_add(c->ev, NULL)) {
		conn_free(c);
		return;
	}
	on_write(c->fd, EV_WRITE, c);
}

static void respond_text(struct admin_conn *c, int status, const char *extra, const char *text)
{
	respond(c, status, "text/plain; charset=utf-8", extra, text, strlen(text));
}

/* Answer the complete request <m>. */
static void serve(struct admin_conn *c, const struct h1_msg *m)
{
	const struct admin *a = c->a;
	size_t plen = m->target.len;
	const char *q = memchr(m->target.p, '?', m->target.len);

	if (q)
		plen = (size_t)(q - m->target.p);
	c->head = m->method == H1_METHOD_HEAD;
	if (plen > 7 && !memcmp(m->target.p, "/cache/", 7) && a->h.cache) {
		bool purge = plen == 12 && !memcmp(m->target.p, "/cache/purge", 12);
		bool stats = plen == 12 && !memcmp(m->target.p, "/cache/stats", 12);
		char *body = NULL;
		size_t len = 0;
		int status;

		if (!purge && !stats) {
			respond_text(c, 404, "", "not found; try /cache/stats or /cache/purge\n");
			return;
		}
		if (purge ? m->method != H1_METHOD_POST :
			    m->method != H1_METHOD_GET && m->method != H1_METHOD_HEAD) {
			respond_text(c, 405, purge ? "Allow: POST\r\n" : "Allow: GET, HEAD\r\n",
				"method not allowed\n");
			return;
		}
		status = a->h.cache(a->arg, purge, q ? q + 1 : "",
			q ? m->target.len - plen - 1 : 0, &body, &len);
		if (!body) {
			respond_text(c, 500, "", "out of memory\n");
			return;
		}
		respond(c, status, "application/json", "", body, len);
		free(body);
		return;
	}
	if (m->method != H1_METHOD_GET && m->method != H1_METHOD_HEAD) {
		respond_text(c, 405, "Allow: GET, HEAD\r\n", "method not allowed\n");
		return;
	}
	if (plen == 8 && !memcmp(m->target.p, "/metrics", 8) && a->h.metrics) {
		char *body = NULL;
		size_t len = 0;

		if (a->h.metrics(a->arg, &body, &len) < 0) {
			respond_text(c, 500, "", "metrics unavailable\n");
			return;
		}
		respond(c, 200, METRICS_CONTENT_TYPE, "", body, len);
		free(body);
		return;
	}
	if (plen == 8 && !memcmp(m->target.p, "/healthz", 8)) {
		const char *reason = "unhealthy";

		if (a->h.health && a->h.health(a->arg, &reason)) {
			char text[128];

			snprintf(text, sizeof(text), "%s\n", reason);
			respond_text(c, 503, "", text);
		} else {
			respond_text(c, 200, "", "ok\n");
		}
		return;
	}
	respond_text(c, 404, "", "not found; try /metrics or /healthz\n");
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct admin_conn *c = arg;

	while (c->out_off < c->out_len) {
		ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->out_off += (size_t)n;
	}
	conn_free(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct admin_conn *c = arg;
	char buf[ADMIN_RX_BUF];
	const char *p = buf;
	struct h1_event ev;
	ssize_t n;
	size_t len;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	len = (size_t)n;
	for (;;) {
		size_t used = h1_parse(c->parser, p, len, &ev);

		p += used;
		len -= used;
		switch (ev.type) {
		case H1_EV_NONE:
			return;
		case H1_EV_DONE:
		case H1_EV_UPGRADE:
			serve(c, ev.msg);
			return;
		case H1_EV_ERROR: {
			size_t elen;
			const char *e = h1_error_response(ev.status, &elen);

			c->out = malloc(elen);
			if (!c->out) {
				conn_free(c);
				return;
			}
			memcpy(c->out, e, elen);
			c->out_len = elen;
			event_free(c->ev);
			c->ev = event_new(c->a->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
			if (!c->ev || event_add(c->ev, NULL)) {
				conn_free(c);
				return;
			}
			on_write(fd, EV_WRITE, c);
			return;
		}
		default:
			/* HEAD and BODY: the request body, if any, is read and ignored. */
			break;
		}
	}
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	conn_free(arg);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	const struct h1_limits lim = {.max_head = ADMIN_MAX_HEAD, .max_body = 65536};
	const struct timeval tv = clock_ms_tv(ADMIN_TIMEOUT_MS);
	struct admin *a = arg;

	while (a->n_conns < ADMIN_MAX_CONNS) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct admin_conn *c;

		if (fd == -1)
			return; /* EAGAIN, or an aborted connection: nothing to do */
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->a = a;
		c->fd = fd;
		c->next = a->conns;
		a->conns = c;
		a->n_conns++;
		c->parser = h1_parser_new(H1_REQUEST, &lim);
		c->ev = event_new(a->base, fd, EV_READ | EV_PERSIST, on_read, c);
		c->timer = evtimer_new(a->base, on_timeout, c);
		if (!c->parser || !c->ev || !c->timer || event_add(c->ev, NULL) ||
			evtimer_add(c->timer, &tv)) {
			conn_free(c);
			return;
		}
	}
	/* At the limit: stop accepting until a connection ends (see conn_free()). */
	event_del(a->accept_ev);
}

struct admin *admin_new(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
	const struct admin_handlers *h, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct admin *a;
	int one = 1, err;

	if (!base || !sa || !h || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->base = base;
	a->h = *h;
	a->arg = arg;
	a->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd == -1)
		goto err;
	/* SO_REUSEPORT: a binary upgrade's new pingd binds the same address while the old one
	 * still drains. */
	if (setsockopt(a->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
		setsockopt(a->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
		bind(a->fd, sa, salen) == -1 || listen(a->fd, 64) == -1 ||
		getsockname(a->fd, (struct sockaddr *)&ss, &sl) == -1)
		goto err;
	a->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						   ((struct sockaddr_in *)&ss)->sin_port);
	a->accept_ev = event_new(base, a->fd, EV_READ | EV_PERSIST, on_accept, a);
	if (!a->accept_ev || event_add(a->accept_ev, NULL)) {
		errno = ENOMEM;
		goto err;
	}
	return a;
err:
	err = errno;
	admin_free(a);
	errno = err;
	return NULL;
}

void admin_free(struct admin *a)
{
	if (!a)
		return;
	while (a->conns)
		conn_free(a->conns);
	if (a->accept_ev)
		event_free(a->accept_ev);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

void admin_set_handlers(struct admin *a, const struct admin_handlers *h, void *arg)
{
	a->h = *h;
	a->arg = arg;
}

unsigned int admin_port(const struct admin *a)
{
	return a->port;
}
