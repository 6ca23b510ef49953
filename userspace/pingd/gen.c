// SPDX-License-Identifier: GPL-2.0
/* Generations of config + runtime + workers, and the listening sockets passed between them. */
#include "userspace/pingd/gen.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "userspace/cfg/cfg.h"
#include "userspace/lib/log.h"
#include "userspace/pingd/monitor.h"
#include "userspace/proxy/stream.h"
#include "userspace/proxy/worker.h"

int gen_fdpool_add(struct gen_fdpool *p, int fd)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		int *fds = realloc(p->fd, cap * sizeof(*fds));
		bool *taken;

		if (fds)
			p->fd = fds;
		taken = fds ? realloc(p->taken, cap * sizeof(*taken)) : NULL;
		if (!taken) {
			if (p->owned)
				close(fd);
			return -ENOMEM;
		}
		p->taken = taken;
		p->cap = cap;
	}
	p->fd[p->n] = fd;
	p->taken[p->n++] = false;
	return 0;
}

int gen_fdpool_from_gen(struct gen_fdpool *p, const struct gen *g)
{
	int err;

	p->owned = false;
	for (unsigned int i = 0; i < g->nw; i++)
		for (size_t l = 0; l < g->cfg->n_listeners; l++) {
			int fd = worker_listener_fd(&g->workers[i], l);

			if (fd >= 0 && (err = gen_fdpool_add(p, fd)))
				return err;
		}
	return 0;
}

void gen_fdpool_release(struct gen_fdpool *p)
{
	for (size_t i = 0; p->owned && i < p->n; i++)
		if (!p->taken[i])
			close(p->fd[i]);
	free(p->fd);
	free(p->taken);
	memset(p, 0, sizeof(*p));
}

/* Whether socket <fd> is bound to <a>. */
static bool bound_to(int fd, const struct cfg_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 || ss.ss_family != a->ss.ss_family)
		return false;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&ss, *y = (const void *)&a->ss;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)&ss, *y = (const void *)&a->ss;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

/* A socket of <pool> bound to <a> for a new listener, or -1 (bind a new one). */
static int pool_take(struct gen_fdpool *pool, const struct cfg_addr *a)
{
	for (size_t i = 0; pool && i < pool->n; i++) {
		if (pool->taken[i] || !bound_to(pool->fd[i], a))
			continue;
		pool->taken[i] = true;
		if (pool->owned)
			return pool->fd[i];
		return fcntl(pool->fd[i], F_DUPFD_CLOEXEC, 0);
	}
	return -1;
}

struct gen *gen_new(struct cfg *c, struct gen_fdpool *pool)
{
	struct gen *g = calloc(1, sizeof(*g));
	unsigned int nw;
	int *fds = NULL;
	int err = ENOMEM;

	if (!g)
		return NULL;
	g->rt = pingd_rt_new(c);
	if (!g->rt) {
		err = errno;
		goto err;
	}
	nw = c->workers ? c->workers : (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!nw)
		nw = 1;
	g->workers = calloc(nw, sizeof(*g->workers));
	fds = calloc(c->n_listeners, sizeof(*fds));
	if (!g->workers || !fds)
		goto err;
	for (unsigned int i = 0; i < nw; i++) {
		for (size_t l = 0; l < c->n_listeners; l++)
			fds[l] = pool_take(pool, &c->listeners[l].address);
		err = -worker_init(&g->workers[i], i, g->rt, fds, &stream_client_fns);
		if (err) {
			for (size_t l = 0; l < c->n_listeners; l++)
				if (fds[l] >= 0)
					close(fds[l]);
			goto err;
		}
		g->nw++;
	}
	free(fds);
	g->cfg = c;
	return g;
err:
	free(fds);
	gen_free(g);
	errno = err;
	return NULL;
}

int gen_start(struct gen *g)
{
	int err;

	for (; g->started < g->nw; g->started++) {
		err = worker_start(&g->workers[g->started]);
		if (err) {
			log_err("worker %u: %s", g->started, strerror(-err));
			return err;
		}
	}
	return 0;
}

void gen_drain(struct gen *g, unsigned int grace_ms)
{
	g->draining = true;
	for (unsigned int i = 0; i < g->started; i++)
		worker_drain(&g->workers[i], grace_ms);
}

bool gen_done(const struct gen *g)
{
	for (unsigned int i = 0; i < g->started; i++)
		if (!atomic_load(&g->workers[i].done))
			return false;
	return true;
}

void gen_free(struct gen *g)
{
	if (!g)
		return;
	for (unsigned int i = 0; i < g->started; i++)
		worker_stop(&g->workers[i]);
	for (unsigned int i = 0; i < g->started; i++)
		worker_join(&g->workers[i]);
	for (unsigned int i = 0; i < g->nw; i++)
		worker_release(&g->workers[i]);
	free(g->workers);
	monitor_free(g->monitor);
	pingd_rt_free(g->rt);
	cfg_free(g->cfg);
	free(g);
}
