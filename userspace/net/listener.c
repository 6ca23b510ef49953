// SPDX-License-Identifier: GPL-2.0
/* Listening sockets on evconnlistener. When accept() runs out of descriptors or memory, the
 * listener stops accepting for LISTENER_BACKOFF_MS instead of retrying at once: the pending
 * connection stays in the kernel's queue, so an immediate retry fails again and spins. */
#include "userspace/net/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "userspace/lib/clock.h"
#include "userspace/lib/log.h"

struct listener {
	struct evconnlistener *ev;
	struct event *retry;	     /* ends a back-off (accept failed for want of resources) */
	const struct cfg_listener *cfg;
	size_t idx;
	listener_accept_fn cb;
	void *arg;
	bool paused;		     /* the owner paused it (listener_pause) */
	bool backoff;		     /* waiting for <retry> */
	unsigned long failed;	     /* accept failures since the last log line */
	struct timeval last_log;     /* when that line was written (monotonic) */
};

/* Log the accept failures of <l> at most once per LISTENER_LOG_S, with how many there were. */
static void log_failure(struct listener *l, int err)
{
	struct timeval now;

	l->failed++;
	(void)evutil_gettimeofday(&now, NULL);
	if (l->last_log.tv_sec && now.tv_sec - l->last_log.tv_sec < LISTENER_LOG_S)
		return;
	log_warn("listener %zu: accept: %s (%lu failure%s); not accepting for %u ms", l->idx,
		strerror(err), l->failed, l->failed > 1 ? "s" : "", LISTENER_BACKOFF_MS);
	l->failed = 0;
	l->last_log = now;
}

/* evconnlistener error callback: accept() failed. Out of descriptors or memory, stop
 * accepting for a while; anything else (a connection reset while queued) concerns one
 * client only. */
static void on_accept_error(struct evconnlistener *ev, void *arg)
{
	struct listener *l = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = clock_ms_tv(LISTENER_BACKOFF_MS);

	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return;
	log_failure(l, err);
	if (l->backoff)
		return;
	l->backoff = true;
	evconnlistener_disable(ev);
	if (evtimer_add(l->retry, &tv) < 0) {
		/* Without the timer nothing would resume: keep accepting and failing instead. */
		l->backoff = false;
		evconnlistener_enable(ev);
	}
}

/* The back-off is over: accept again unless the owner paused the listener meanwhile. */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	l->backoff = false;
	if (!l->paused)
		evconnlistener_enable(l->ev);
}

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
	/* Backlog 0: the socket is listening already, with the configured backlog (libevent
	 * would call listen() again, with 128, for a negative one). */
	l->ev = evconnlistener_new(
		base, on_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!l->ev)
		goto err_close;
	l->retry = evtimer_new(base, on_retry, l);
	if (!l->retry) {
		evconnlistener_free(l->ev); /* closes fd */
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	evconnlistener_set_error_cb(l->ev, on_accept_error);
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
	if (l->retry)
		event_free(l->retry);
	evconnlistener_free(l->ev);
	free(l);
}

int listener_fd(const struct listener *l)
{
	return evconnlistener_get_fd(l->ev);
}

void listener_pause(struct listener *l, bool paused)
{
	l->paused = paused;
	if (paused)
		evconnlistener_disable(l->ev);
	else if (!l->backoff)
		evconnlistener_enable(l->ev);
}
