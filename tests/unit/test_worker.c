// SPDX-License-Identifier: GPL-2.0
/* Worker threads on loopback: accepted sockets go to the owner's client functions with their
 * listener's index, an adopted listening socket is used as is, and a drain closes the
 * listeners, tells the client side, and ends the loop (by the grace period when connections
 * stay, as soon as the last one ends with the stream layer). */
#include <sys/socket.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/cfgtest.h"
#include "tests/unit/nettest.h"
#include "tests/unit/unit.h"
#include "userspace/ops/stats.h"
#include "userspace/proxy/stream.h"
#include "userspace/proxy/worker.h"

/* What the fake client functions saw (written on the worker's thread). */
static atomic_int seen_accepts, seen_drains, seen_releases;
static atomic_size_t seen_idx;

static void fake_accept(struct worker *w, size_t idx, int fd, struct sockaddr *sa, socklen_t len)
{
	atomic_store(&seen_idx, idx);
	atomic_fetch_add(&seen_accepts, 1);
	close(fd);
}

static void fake_drain(struct worker *w)
{
	atomic_fetch_add(&seen_drains, 1);
}

static void fake_release_all(struct worker *w)
{
	atomic_fetch_add(&seen_releases, 1);
}

static const struct worker_client_fns fake_fns = {
	.accept = fake_accept,
	.drain = fake_drain,
	.release_all = fake_release_all,
};

/* A config with listeners on <p0> and <p1> (0: only one) and a route to <origin>. */
static struct cfg *load(unsigned int p0, unsigned int p1, unsigned int origin)
{
	char yaml[1024], second[64] = "";
	struct cfg_msgs m;
	struct cfg *c;

	if (p1)
		snprintf(second, sizeof(second), "  - address: 127.0.0.1:%u\n", p1);
	snprintf(yaml, sizeof(yaml),
		"workers: 1\n"
		"listeners:\n"
		"  - address: 127.0.0.1:%u\n"
		"%s" CFGTEST_WEB_HEAD "    servers:\n"
		"      - address: 127.0.0.1:%u\n",
		p0, second, origin);
	c = cfgtest_load(yaml, &m);
	cfg_msgs_free(&m);
	return c;
}

static void reset_seen(void)
{
	atomic_store(&seen_accepts, 0);
	atomic_store(&seen_drains, 0);
	atomic_store(&seen_releases, 0);
	atomic_store(&seen_idx, 99);
}

/* A connection to the second listener reaches accept() with index 1. */
static void test_accept_dispatch(void)
{
	unsigned int p0 = nettest_free_port(), p1 = nettest_free_port();
	struct cfg *c = load(p0, p1, nettest_free_port());
	struct pingd_rt *rt;
	struct worker w;
	int fd;

	reset_seen();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rt = pingd_rt_new(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL_FATAL(worker_init(&w, 0, rt, NULL, &fake_fns), 0);
	CU_ASSERT_EQUAL_FATAL(worker_start(&w), 0);
	fd = nettest_connect(p1);
	CU_ASSERT(fd >= 0);
	CU_ASSERT(NETTEST_UNTIL(atomic_load(&seen_accepts) == 1));
	CU_ASSERT_EQUAL(atomic_load(&seen_idx), 1);
	close(fd);
	worker_stop(&w);
	worker_join(&w);
	worker_release(&w);
	CU_ASSERT_EQUAL(atomic_load(&seen_releases), 1);
	CU_ASSERT_EQUAL(atomic_load(&seen_drains), 0);
	pingd_rt_free(rt);
	cfg_free(c);
}

/* A listening socket handed to worker_init() is the listener's, and its slot is cleared. */
static void test_adopt_listener(void)
{
	unsigned int port = 0;
	int lfd = nettest_listen(&port), fds[1];
	struct cfg *c = load(port, 0, nettest_free_port());
	struct pingd_rt *rt;
	struct worker w;

	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rt = pingd_rt_new(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	fds[0] = lfd;
	CU_ASSERT_EQUAL_FATAL(worker_init(&w, 0, rt, fds, &fake_fns), 0);
	CU_ASSERT_EQUAL(fds[0], -1);
	CU_ASSERT_EQUAL(worker_listener_fd(&w, 0), lfd);
	worker_release(&w);
	pingd_rt_free(rt);
	cfg_free(c);
}

/* With a connection the client side keeps, the drain ends by the grace period: listeners
 * closed at once, drain() called once, the loop over, release_all() at the end. */
static void test_drain_grace(void)
{
	unsigned int port = nettest_free_port();
	struct cfg *c = load(port, 0, nettest_free_port());
	struct pingd_rt *rt;
	struct worker w;

	reset_seen();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rt = pingd_rt_new(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL_FATAL(worker_init(&w, 0, rt, NULL, &fake_fns), 0);
	CU_ASSERT_EQUAL_FATAL(worker_start(&w), 0);
	worker_drain(&w, 200);
	CU_ASSERT(NETTEST_UNTIL(atomic_load(&w.done)));
	CU_ASSERT_EQUAL(atomic_load(&seen_drains), 1);
	CU_ASSERT_EQUAL(nettest_connect(port), -1);
	worker_join(&w);
	worker_release(&w);
	CU_ASSERT_EQUAL(atomic_load(&seen_releases), 1);
	pingd_rt_free(rt);
	cfg_free(c);
}

/* With the stream layer, an idle keep-alive client is closed by the drain and the loop ends
 * with it, well before the grace period. */
static void test_drain_stream_idle(void)
{
	unsigned int oport = 0, port = nettest_free_port();
	int ofd = nettest_listen(&oport), cfd, ufd;
	struct cfg *c = load(port, 0, oport);
	struct timespec t0, t1;
	struct pingd_rt *rt;
	struct worker w;
	char buf[2048];
	bool eof;

	CU_ASSERT_FATAL(ofd >= 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rt = pingd_rt_new(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	rt->stats = stats_new(c, 1, NULL);
	CU_ASSERT_EQUAL_FATAL(worker_init(&w, 0, rt, NULL, &stream_client_fns), 0);
	CU_ASSERT_EQUAL_FATAL(worker_start(&w), 0);
	cfd = nettest_connect(port);
	CU_ASSERT_FATAL(cfd >= 0);
	CU_ASSERT(nettest_send(cfd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
	ufd = nettest_accept(ofd);
	CU_ASSERT_FATAL(ufd >= 0);
	nettest_recv(ufd, buf, sizeof(buf), "\r\n\r\n", &eof);
	CU_ASSERT(nettest_send(ufd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
	nettest_recv(cfd, buf, sizeof(buf), "\r\n\r\n", &eof);
	CU_ASSERT(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	worker_drain(&w, 10000);
	nettest_recv(cfd, buf, sizeof(buf), NULL, &eof);
	CU_ASSERT(eof);
	CU_ASSERT(NETTEST_UNTIL(atomic_load(&w.done)));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CU_ASSERT(t1.tv_sec - t0.tv_sec < 5);
	close(cfd);
	close(ufd);
	worker_join(&w);
	worker_release(&w);
	stats_free(rt->stats);
	pingd_rt_free(rt);
	cfg_free(c);
	close(ofd);
}

int test_worker_register(void)
{
	static const CU_TestInfo tests[] = {
		{"accepted sockets go to the client functions", test_accept_dispatch},
		{"an adopted listening socket", test_adopt_listener},
		{"drain ended by the grace period", test_drain_grace},
		{"drain closes idle keep-alive sessions", test_drain_stream_idle},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("worker", tests);
}
