// SPDX-License-Identifier: GPL-2.0
/* The stream state machine on loopback, with one worker on a real event base: an exchange
 * and a second one on the same connections (client keep-alive, upstream pool), and the answers
 * pingd gives itself: 400 for a smuggling shape, 404 without a route, 408 for a slow head,
 * 502 when the upstream refuses. The origin is answered by hand from the test thread. */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "tests/unit/cfgtest.h"
#include "tests/unit/nettest.h"
#include "tests/unit/unit.h"
#include "userspace/ops/stats.h"
#include "userspace/proxy/stream.h"
#include "userspace/proxy/worker.h"

/* One worker serving listener <port>, route "/" of host <host> to the origin at <origin>. */
struct px {
	struct cfg *c;
	struct pingd_rt *rt;
	struct worker w;
	unsigned int port;
	bool up;
};

static bool px_start(struct px *p, const char *host, unsigned int origin, const char *extra)
{
	char yaml[1024];
	struct cfg_msgs m;

	memset(p, 0, sizeof(*p));
	p->port = nettest_free_port();
	snprintf(yaml, sizeof(yaml),
		"workers: 1\n"
		"listeners:\n"
		"  - address: 127.0.0.1:%u\n"
		"virtual_hosts:\n"
		"  - name: main\n"
		"    hosts: '%s'\n"
		"    routes:\n"
		"      - path: /\n"
		"        upstream: web\n"
		"upstreams:\n"
		"  - name: web\n"
		"    servers:\n"
		"      - address: 127.0.0.1:%u\n"
		"%s",
		p->port, host, origin, extra ? extra : "");
	p->c = cfgtest_load(yaml, &m);
	if (!p->c)
		fprintf(stderr, "\n  config: %s", m.text ? m.text : "?");
	cfg_msgs_free(&m);
	if (!p->c)
		return false;
	p->rt = pingd_rt_new(p->c);
	if (!p->rt)
		return false;
	p->rt->stats = stats_new(p->c, 1, NULL);
	if (!p->rt->stats || worker_init(&p->w, 0, p->rt, NULL, &stream_client_fns) < 0)
		return false;
	p->up = worker_start(&p->w) == 0;
	return p->up;
}

static void px_stop(struct px *p)
{
	if (p->up) {
		worker_stop(&p->w);
		worker_join(&p->w);
	}
	if (p->rt) {
		worker_release(&p->w);
		stats_free(p->rt->stats);
		pingd_rt_free(p->rt);
	}
	cfg_free(p->c);
}

/* Send <req> on a new connection and read the answer until EOF into <buf>. */
static void ask(unsigned int port, const char *req, char *buf, size_t size, bool *eof)
{
	int fd = nettest_connect(port);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(nettest_send(fd, req));
	nettest_recv(fd, buf, size, NULL, eof);
	close(fd);
}

/* HEAD -> CONNECT -> EXCHANGE -> IDLE twice: the second request reuses both connections. */
static void test_exchange_keepalive(void)
{
	unsigned int oport = 0;
	int ofd = nettest_listen(&oport), cfd, ufd;
	char buf[4096];
	bool eof;
	struct px p;

	CU_ASSERT_FATAL(ofd >= 0);
	CU_ASSERT_FATAL(px_start(&p, "*", oport, NULL));
	cfd = nettest_connect(p.port);
	CU_ASSERT_FATAL(cfd >= 0);
	CU_ASSERT(nettest_send(cfd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
	ufd = nettest_accept(ofd);
	CU_ASSERT_FATAL(ufd >= 0);
	nettest_recv(ufd, buf, sizeof(buf), "\r\n\r\n", &eof);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "GET /a HTTP/1.1\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "X-Forwarded-For: 127.0.0.1\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Via: 1.1 pingd\r\n"));
	CU_ASSERT(nettest_send(ufd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
	nettest_recv(cfd, buf, sizeof(buf), "\r\n\r\nok", &eof);
	CU_ASSERT(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Via: 1.1 pingd\r\n"));
	CU_ASSERT(!eof);

	/* The next request on both kept-alive connections: no new upstream connection. */
	CU_ASSERT(nettest_send(cfd, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
	nettest_recv(ufd, buf, sizeof(buf), "\r\n\r\n", &eof);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "GET /b HTTP/1.1\r\n"));
	CU_ASSERT(nettest_send(ufd, "HTTP/1.1 204 No Content\r\n\r\n"));
	nettest_recv(cfd, buf, sizeof(buf), "\r\n\r\n", &eof);
	CU_ASSERT(!strncmp(buf, "HTTP/1.1 204 No Content\r\n", 25));
	CU_ASSERT(poll(&(struct pollfd){.fd = ofd, .events = POLLIN}, 1, 0) == 0);
	close(cfd);
	close(ufd);
	px_stop(&p);
	CU_ASSERT_EQUAL(p.w.requests, 2);
	close(ofd);
}

/* Two Content-Length fields: 400, the connection closes, nothing reaches the origin. */
static void test_smuggling_400(void)
{
	unsigned int oport = 0;
	int ofd = nettest_listen(&oport);
	char buf[4096];
	bool eof;
	struct px p;

	CU_ASSERT_FATAL(ofd >= 0);
	CU_ASSERT_FATAL(px_start(&p, "*", oport, NULL));
	ask(p.port,
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		buf, sizeof(buf), &eof);
	CU_ASSERT(!strncmp(buf, "HTTP/1.1 400 ", 13));
	CU_ASSERT(eof);
	CU_ASSERT(poll(&(struct pollfd){.fd = ofd, .events = POLLIN}, 1, 100) == 0);
	px_stop(&p);
	close(ofd);
}

/* No virtual host for the Host: 404 from request_filter. */
static void test_no_route_404(void)
{
	unsigned int oport = 0;
	int ofd = nettest_listen(&oport);
	char buf[4096];
	bool eof;
	struct px p;

	CU_ASSERT_FATAL(ofd >= 0);
	CU_ASSERT_FATAL(px_start(&p, "only.example", oport, NULL));
	ask(p.port, "GET / HTTP/1.1\r\nHost: other.example\r\n\r\n", buf, sizeof(buf), &eof);
	CU_ASSERT(!strncmp(buf, "HTTP/1.1 404 ", 13));
	CU_ASSERT(eof);
	px_stop(&p);
	close(ofd);
}

/* A head not complete within timeouts.client_header: 408 and close. */
static void test_head_timeout_408(void)
{
	char buf[4096];
	bool eof;
	struct px p;
	int fd;

	CU_ASSERT_FATAL(
		px_start(&p, "*", nettest_free_port(), "timeouts:\n  client_header: 200ms\n"));
	fd = nettest_connect(p.port);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(nettest_send(fd, "GET / HTTP/1.1\r\nHo"));
	nettest_recv(fd, buf, sizeof(buf), NULL, &eof);
	CU_ASSERT(!strncmp(buf, "HTTP/1.1 408 ", 13));
	CU_ASSERT(eof);
	close(fd);
	px_stop(&p);
}

/* The only server refuses: after the connect failure (and no other server), 502. */
static void test_connect_refused_502(void)
{
	char buf[4096];
	bool eof;
	struct px p;

	CU_ASSERT_FATAL(px_start(&p, "*", nettest_free_port(), NULL));
	ask(p.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf), &eof);
	CU_ASSERT(!strncmp(buf, "HTTP/1.1 502 ", 13));
	CU_ASSERT(eof);
	px_stop(&p);
}

int test_stream_register(void)
{
	static const CU_TestInfo tests[] = {
		{"exchange and keep-alive on both sides", test_exchange_keepalive},
		{"smuggling shape: 400, origin untouched", test_smuggling_400},
		{"no route: 404", test_no_route_404},
		{"slow head: 408", test_head_timeout_408},
		{"connect refused: 502", test_connect_refused_502},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("stream", tests);
}
