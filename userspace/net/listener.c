// SPDX-License-Identifier: GPL-2.0
/* Listening sockets, each a read event on the worker's base. A plain listener accepts until
 * the queue is empty; a TLS listener accepts one connection per readiness, whose handshake
 * costs far more than the loop's next wakeup, rather than pay an accept() that fails with
 * EAGAIN after each connection. TCP_NODELAY is set on the listening socket, which accepted
 * sockets inherit. When accept() runs out of descriptors or memory, the listener stops
 * accepting for LISTENER_BACKOFF_MS instead of retrying at once: the pending connection
 * stays in the kernel's queue, so an immediate retry fails again and spins. */
#include "userspace/net/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "userspace/lib/clock.h"
#include "userspace/lib/log.h"

struct listener {
	struct event *ev;	     /* the listening socket is readable */
	int fd;
	bool one;		     /* one accept per readiness (TLS) rather than until EAGAIN */
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

/* accept() failed with <err>. Out of descriptors or memory, stop accepting for a while;
 * anything else (a connection reset while queued) concerns one client only. */
static void on_accept_error(struct listener *l, int err)
{
	struct timeval tv = clock_ms_tv(LISTENER_BACKOFF_MS);

	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return;
	log_failure(l, err);
	if (l->backoff)
		return;
	l->backoff = true;
	event_del(l->ev);
	if (evtimer_add(l->retry, &tv) < 0) {
		/* Without the timer nothing would resume: keep accepting and failing instead. */
		l->backoff = false;
		event_add(l->ev, NULL);
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
		event_add(l->ev, NULL);
}

/* The listening socket is readable: accept, and hand each socket to the owner with the
 * listener's index; one on a TLS listener, else until the queue is empty or the owner
 * paused the listener. */
static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct listener *l = arg;

	(void)what;
	do {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				errno != ECONNABORTED)
				on_accept_error(l, errno);
			return;
		}
		l->cb(l->arg, l->idx, fd, (struct sockaddr *)&ss, len);
	} while (!l->one && !l->paused && !l->backoff);
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
	/* Heads and small bodies must not wait for Nagle: set once here, accepted sockets
	 * inherit it. */
	fd = socket(cfg->address.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err_free;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto err_close;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto err_close;
	if (cfg->address.ss.ss_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto err_close;
	if (bind(fd, (const struct sockaddr *)&cfg->address.ss, cfg->address.len) < 0)
		goto err_close;
	if (listen(fd, (int)cfg->backlog) < 0)
		goto err_close;
ready:
	/* An inherited socket may be blocking (systemd's are), without close-on-exec, and
	 * from a version that set TCP_NODELAY on each connection instead. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
		fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		goto err_close;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->cfg = cfg;
	l->idx = idx;
	l->cb = cb;
	l->arg = arg;
	l->fd = fd;
	l->one = cfg->tls.n_certificates > 0;
	l->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_accept, l);
	l->retry = evtimer_new(base, on_retry, l);
	if (!l->ev || !l->retry || event_add(l->ev, NULL) < 0) {
		if (l->ev)
			event_free(l->ev);
		if (l->retry)
			event_free(l->retry);
		errno = ENOMEM;
		goto err_close;
	}
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
	event_free(l->retry);
	event_free(l->ev);
	close(l->fd);
	free(l);
}

int listener_fd(const struct listener *l)
{
	return l->fd;
}

void listener_pause(struct listener *l, bool paused)
{
	l->paused = paused;
	if (paused)
		event_del(l->ev);
	else if (!l->backoff)
		event_add(l->ev, NULL);
}
