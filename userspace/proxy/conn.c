// SPDX-License-Identifier: GPL-2.0
/* Connections over bufferevents. Owners see their own callbacks with the conn, never the
 * bufferevent callback signature, so a TLS transport changes nothing above this file. */
#include "userspace/proxy/conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

/* The plain TCP transport: a socket bufferevent that closes its fd when freed. */
static struct bufferevent *tcp_bev_new(
	struct event_base *base, evutil_socket_t fd, bool accepted, void *ctx)
{
	(void)accepted;
	(void)ctx;
	/* Callbacks run straight from the event loop (not deferred): owners may free the conn
	 * from them, which libevent allows, and the stream layer never touches a freed one. */
	return bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
}

const struct conn_transport conn_tcp = {
	.name = "tcp",
	.bev_new = tcp_bev_new,
	.direct = true,
};

/* "ip" or "ip:port" ("[ip]:port" for IPv6) of <sa>, for logs and X-Forwarded-For. */
static void addr_text(const struct sockaddr *sa, bool with_port, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		port = ntohs(s6->sin6_port);
	}
	if (!with_port)
		snprintf(out, size, "%s", ip);
	else if (sa->sa_family == AF_INET6)
		snprintf(out, size, "[%s]:%u", ip, port);
	else
		snprintf(out, size, "%s:%u", ip, port);
}

/* Trampolines from bufferevent callbacks to the owner's, which take the conn. */
static void on_bev_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->on_read)
		c->on_read(c, c->arg);
}

static void on_bev_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->on_write)
		c->on_write(c, c->arg);
}

/* Connect completion also sets TCP_NODELAY, which must wait for the socket to exist. */
static void on_bev_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		c->connected = true;
		/* Heads and small bodies must not wait for Nagle. */
		(void)setsockopt(
			bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (c->on_event)
		c->on_event(c, what, c->arg);
}

/* A zeroed conn of <side> over <tr>, without a bufferevent yet. */
static struct conn *conn_alloc(const struct conn_transport *tr, enum conn_side side)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->tr = tr;
	c->side = side;
	return c;
}

struct conn *conn_accepted(struct event_base *base, const struct conn_transport *tr,
	evutil_socket_t fd, const struct sockaddr *sa, socklen_t len)
{
	struct conn *c = conn_alloc(tr, CONN_CLIENT);
	int one = 1;

	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	if (len > sizeof(c->peer))
		len = sizeof(c->peer);
	memcpy(&c->peer, sa, len);
	c->peer_len = len;
	addr_text(sa, false, c->peer_text, sizeof(c->peer_text));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->bev = tr->bev_new(base, fd, true, tr->ctx);
	if (!c->bev) {
		close(fd);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->connected = true;
	bufferevent_setcb(c->bev, on_bev_read, on_bev_write, on_bev_event, c);
	return c;
}

struct conn *conn_connect(
	struct event_base *base, const struct conn_transport *tr, const struct cfg_addr *addr)
{
	struct conn *c = conn_alloc(tr, CONN_SERVER);
	int err;

	if (!c)
		return NULL;
	memcpy(&c->peer, &addr->ss, addr->len);
	c->peer_len = addr->len;
	snprintf(c->peer_text, sizeof(c->peer_text), "%s", addr->text);
	c->bev = tr->bev_new(base, -1, false, tr->ctx);
	if (!c->bev) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	bufferevent_setcb(c->bev, on_bev_read, on_bev_write, on_bev_event, c);
	/* An immediate refusal is reported later through the event callback, like any other
	 * failure, so callers have one failure path. */
	if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)&addr->ss, (int)addr->len) <
		0) {
		err = errno ? errno : ECONNREFUSED;
		bufferevent_free(c->bev);
		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void conn_set_cbs(
	struct conn *c, conn_io_fn on_read, conn_io_fn on_write, conn_event_fn on_event, void *arg)
{
	c->on_read = on_read;
	c->on_write = on_write;
	c->on_event = on_event;
	c->arg = arg;
	/* Writing is enabled from creation on; enabling it again would wake the loop for an
	 * empty output buffer. */
	bufferevent_enable(c->bev, EV_READ);
}

void conn_send(struct conn *c, struct evbuffer *stage)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	/* A direct write skips the two epoll_ctl calls a bufferevent makes per response. */
	if (c->tr->direct && c->connected && !evbuffer_get_length(out))
		(void)evbuffer_write(stage, bufferevent_getfd(c->bev));
	if (evbuffer_get_length(stage))
		evbuffer_add_buffer(out, stage);
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->bev)
		bufferevent_free(c->bev);
	free(c);
}
