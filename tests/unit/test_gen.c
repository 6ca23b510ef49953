// SPDX-License-Identifier: GPL-2.0
/* Configuration generations on loopback: a reload's generation takes the running one's
 * listening sockets (the same sockets, so no connection is refused), the old one drains and
 * ends, and the new one serves its own upstreams; a pool of owned sockets closes those no
 * generation took. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/cfgtest.h"
#include "tests/unit/nettest.h"
#include "tests/unit/unit.h"
#include "userspace/ops/stats.h"
#include "userspace/pingd/gen.h"
#include "userspace/proxy/worker.h"

/* Two workers listening on <port>, every path to the origin at <origin>. */
static struct cfg *load(unsigned int port, unsigned int origin)
{
	char yaml[1024];
	struct cfg_msgs m;
	struct cfg *c;

	snprintf(yaml, sizeof(yaml),
		"workers: 2\n"
		"listeners:\n"
		"  - address: 127.0.0.1:%u\n" CFGTEST_WEB_HEAD "    servers:\n"
		"      - address: 127.0.0.1:%u\n",
		port, origin);
	c = cfgtest_load(yaml, &m);
	cfg_msgs_free(&m);
	return c;
}

/* Whether <a> and <b> are descriptors of the same socket. */
static bool same_socket(int a, int b)
{
	struct stat sa, sb;

	return a >= 0 && b >= 0 && !fstat(a, &sa) && !fstat(b, &sb) && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

/* One request on a new connection to <port>, answered by the origin behind <ofd>. Returns
 * whether the client got the origin's 200. */
static bool exchange(unsigned int port, int ofd)
{
	int cfd = nettest_connect(port), ufd;
	char buf[2048];
	bool eof, ok;

	if (cfd < 0)
		return false;
	ok = nettest_send(cfd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ufd = nettest_accept(ofd);
	if (ufd >= 0) {
		nettest_recv(ufd, buf, sizeof(buf), "\r\n\r\n", &eof);
		ok = ok && nettest_send(ufd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ngen");
		nettest_recv(cfd, buf, sizeof(buf), NULL, &eof);
		ok = ok && !strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) && strstr(buf, "\r\n\r\ngen");
		close(ufd);
	} else {
		ok = false;
	}
	close(cfd);
	return ok;
}

static void test_reload_takes_sockets(void)
{
	unsigned int port = nettest_free_port(), o1 = 0, o2 = 0;
	int ofd1 = nettest_listen(&o1), ofd2 = nettest_listen(&o2);
	struct gen_fdpool pool = {0};
	struct stats *st1, *st2;
	struct gen *g1, *g2;
	struct cfg *c;

	CU_ASSERT_FATAL(ofd1 >= 0 && ofd2 >= 0);
	c = load(port, o1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	g1 = gen_new(c, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g1);
	CU_ASSERT_EQUAL(g1->nw, 2);
	st1 = g1->rt->stats = stats_new(g1->cfg, g1->nw, NULL);
	CU_ASSERT_EQUAL_FATAL(gen_start(g1), 0);
	CU_ASSERT(exchange(port, ofd1));

	/* The reload: same listener, another origin. */
	CU_ASSERT_EQUAL_FATAL(gen_fdpool_from_gen(&pool, g1), 0);
	CU_ASSERT_EQUAL(pool.n, 2);
	c = load(port, o2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	g2 = gen_new(c, &pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g2);
	for (unsigned int i = 0; i < g2->nw; i++)
		CU_ASSERT(same_socket(worker_listener_fd(&g2->workers[i], 0),
			worker_listener_fd(&g1->workers[i], 0)));
	gen_fdpool_release(&pool);
	st2 = g2->rt->stats = stats_new(g2->cfg, g2->nw, st1);
	CU_ASSERT_EQUAL_FATAL(gen_start(g2), 0);

	gen_drain(g1, 2000);
	CU_ASSERT(NETTEST_UNTIL(gen_done(g1)));
	gen_free(g1);
	CU_ASSERT(exchange(port, ofd2));
	CU_ASSERT(poll(&(struct pollfd){.fd = ofd1, .events = POLLIN}, 1, 0) == 0);
	gen_free(g2);
	stats_free(st2);
	stats_free(st1);
	close(ofd1);
	close(ofd2);
}

/* Sockets received from another process belong to the pool until a generation takes them. */
static void test_owned_pool_release(void)
{
	unsigned int port = 0;
	int lfd = nettest_listen(&port);
	struct gen_fdpool pool = {.owned = true};

	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT_EQUAL(gen_fdpool_add(&pool, lfd), 0);
	CU_ASSERT_EQUAL(pool.n, 1);
	gen_fdpool_release(&pool);
	CU_ASSERT_EQUAL(fcntl(lfd, F_GETFD), -1);
	CU_ASSERT_EQUAL(nettest_connect(port), -1);
}

int test_gen_register(void)
{
	static const CU_TestInfo tests[] = {
		{"a reload takes the listening sockets", test_reload_takes_sockets},
		{"an owned pool closes what nobody took", test_owned_pool_release},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("gen", tests);
}
