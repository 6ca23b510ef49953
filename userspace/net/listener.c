// SPDX-License-Identifier: GPL-2.0
/* Listening sockets on evconnlistener. */
#include "userspace/net/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/listener.h>

struct listener {
	struct evconnlistener *ev;
	const struct cfg_listener *cfg;
	size_t idx;
	listener_accept_fn cb;
	void *arg;
};

/* evconnlistener callback: hand the socket to the owner with the listener's index. */
static void on_accept(
	struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct listener *l = arg;

	(void)ev;
	l->cb(l->arg, l->idx, fd, sa, (socklen_t)len);
}

struct listener *listener_new(struct event_base *base, const struct cfg_listener *cfg, size_t idx,
	listener_accept_fn cb, void *arg, int fd)
{
	struct listener *l = calloc(1, sizeof(*l));
	int one = 1, err;

	if (!l) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (fd >= 0) {
		/* An inherited socket: already bound and listening; only the backlog may have
		 * changed. */
		if (listen(fd, (int)cfg->backlog) < 0)
			goto err_close;
		goto ready;
	}
	fd = socket(cfg->address.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err_free;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto err_close;
	if (cfg->address.ss.ss_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto err_close;
	if (bind(fd, (const struct sockaddr *)&cfg->address.ss, cfg->address.len) < 0)
		goto err_close;
	if (listen(fd, (int)cfg->backlog) < 0)
		goto err_close;
ready:
	l->cfg = cfg;
	l->idx = idx;
	l->cb = cb;
	l->arg = arg;
	l->ev = evconnlistener_new(
		base, on_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!l->ev)
		goto err_close;
	return l;
err_close:
	err = errno;
	close(fd);
	errno = err;
err_free:
	err = errno;
	free(l);
	errno = err;
	return NULL;
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	evconnlistener_free(l->ev);
	free(l);
}

int listener_fd(const struct listener *l)
{
	return evconnlistener_get_fd(l->ev);
}

void listener_pause(struct listener *l, bool paused)
{
	if (paused)
		evconnlistener_disable(l->ev);
	else
		evconnlistener_enable(l->ev);
}
