// SPDX-License-Identifier: GPL-2.0
/* pingd's monitor on a real event base: health checks mark pool servers down, metrics and
 * /healthz follow, a reload carries states over and hands the admin listener on. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <event2/event.h>

#include "tests/unit/unit.h"
#include "userspace/cfg/cfg.h"
#include "userspace/ops/metrics.h"
#include "userspace/ops/stats.h"
#include "userspace/pingd/monitor.h"
#include "userspace/upstream/backend.h"
#include "userspace/upstream/health.h"

/* A listening socket on the first free port of 127.0.0.1:31950-31999 (or a bound, refusing one
 * when <listening> is false); fills <port>. */
static int bind_lo(unsigned short *port, bool listening)
{
	for (unsigned short p = 31950; p < 32000; p++) {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(p)};
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		/* Only for listeners: two bound, non-listening sockets with SO_REUSEADDR may
		 * share a port, which would hand out the same port twice. */
		if (listening)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
			(!listening || !listen(fd, 8))) {
			*port = p;
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* Accept and close what the live server gets, so that probes never fill its backlog. */
static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c >= 0)
		close(c);
}

static void run_ms(struct event_base *base, unsigned int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Run <base> until the down flag at <flag> equals <want>, for at most 5 s: probes run every
 * 20 ms, but a loaded machine may delay them, and the test must not depend on timing. */
static void run_until_down(struct event_base *base, const volatile int *flag, int want)
{
	for (int i = 0; i < 100 && *flag != want; i++)
		run_ms(base, 50);
}

/* GET <path> from the admin listener on <port>, served by <base> on this same thread: the
 * client socket is nonblocking and the loop runs between its steps. Returns the response in a
 * static buffer. */
static const char *admin_get(struct event_base *base, unsigned int port, const char *path)
{
	static char buf[65536];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[256];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	buf[0] = '\0';
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) && errno != EINPROGRESS)
		goto out;
	run_ms(base, 20);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
		goto out;
	for (int i = 0; i < 50; i++) {
		ssize_t n;

		run_ms(base, 10);
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	buf[got] = '\0';
out:
	close(fd);
	return buf;
}

/* Runtime of <c> as pingd builds it: one pool per upstream. */
static struct pingd_rt *rt_new(const struct cfg *c)
{
	struct pingd_rt *rt = calloc(1, sizeof(*rt));

	rt->cfg = c;
	rt->n_backends = c->n_upstreams;
	rt->backends = calloc(c->n_upstreams, sizeof(*rt->backends));
	for (size_t u = 0; u < c->n_upstreams; u++)
		rt->backends[u] = backend_new(c, u);
	return rt;
}

static void rt_free(struct pingd_rt *rt)
{
	for (size_t u = 0; u < rt->n_backends; u++)
		backend_free(rt->backends[u]);
	free(rt->backends);
	free(rt);
}

static void test_glue(void)
{
	unsigned short live, dead, adm;
	int lfd = bind_lo(&live, true), dfd = bind_lo(&dead, false), afd, down;
	struct event_base *base = event_base_new();
	struct health_params hp;
	const struct health_params *per_pool[2] = {&hp, NULL};
	struct monitor_params p = {.health = per_pool};
	struct cfg_msgs msgs = {0};
	struct pingd_rt *rt1, *rt2;
	struct monitor *o1, *o2;
	char yaml[512], admin[32];
	const char *r;
	struct cfg *c;
	char *out;
	size_t len;

	CU_ASSERT_FATAL(lfd >= 0 && dfd >= 0 && base);
	struct event *acc = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);

	CU_ASSERT_FATAL(acc && !event_add(acc, NULL));
	/* Find a free admin port, then release it for the admin listener to bind. */
	afd = bind_lo(&adm, false);
	CU_ASSERT_FATAL(afd >= 0);
	close(afd);
	snprintf(admin, sizeof(admin), "127.0.0.1:%u", adm);
	p.admin_address = admin;
	snprintf(yaml, sizeof(yaml),
		"listeners: [{address: 127.0.0.1:1}]\n"
		"upstreams:\n"
		"  - {name: web, servers: [{address: 127.0.0.1:%u}, {address: 127.0.0.1:%u}]}\n"
		"  - {name: plain, servers: [{address: 127.0.0.1:%u}]}\n"
		"virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: web}]}]\n",
		live, dead, dead);
	c = cfg_load_string("ops.yaml", yaml, strlen(yaml), &msgs);
	CU_ASSERT_FATAL(c != NULL);
	health_params_default(&hp);
	hp.interval_ms = 20;
	hp.timeout_ms = 15;
	hp.rise = 1;
	hp.fall = 2;

	rt1 = rt_new(c);
	o1 = monitor_new(base, rt1, 1, &p, NULL);
	CU_ASSERT_FATAL(o1 != NULL);
	CU_ASSERT_EQUAL(monitor_admin_port(o1), adm);
	run_until_down(base, &rt1->backends[0]->servers[1].down, 1);
	run_ms(base, 100);
	/* The refusing server is down in its pool; the live one and the unprobed pool are not. */
	CU_ASSERT_EQUAL(rt1->backends[0]->servers[0].down, 0);
	CU_ASSERT_EQUAL(rt1->backends[0]->servers[1].down, 1);
	CU_ASSERT_EQUAL(rt1->backends[1]->servers[0].down, 0);
	CU_ASSERT_EQUAL(metrics_render(stats_metrics(monitor_stats(o1)), &out, &len), 0);
	snprintf(yaml, sizeof(yaml),
		"pingd_upstream_peer_up{upstream=\"web\",server=\"127.0.0.1:%u\"} 0\n", dead);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, yaml));
	free(out);
	/* The admin listener serves the same metrics and pingd's health. */
	r = admin_get(base, adm, "/metrics");
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.1 200 OK\r\n", 17), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, yaml));
	r = admin_get(base, adm, "/healthz");
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.1 200 OK\r\n", 17), 0);

	/* Reload: new pools start with the carried-over states, before any probe ran. */
	rt2 = rt_new(c);
	o2 = monitor_new(base, rt2, 1, &p, o1);
	CU_ASSERT_FATAL(o2 != NULL);
	CU_ASSERT_EQUAL(rt2->backends[0]->servers[0].down, 0);
	CU_ASSERT_EQUAL(rt2->backends[0]->servers[1].down, 1);
	CU_ASSERT_EQUAL(monitor_admin_port(o2), adm);
	CU_ASSERT_EQUAL(monitor_admin_port(o1), 0);
	monitor_free(o1);
	rt_free(rt1);
	/* A worker count that differs from the running one is refused. */
	CU_ASSERT_PTR_NULL(monitor_new(base, rt2, 2, &p, o2));
	/* Probing goes on with the new pools; the live server going away is noticed. */
	event_free(acc);
	close(lfd);
	run_until_down(base, &rt2->backends[0]->servers[0].down, 1);
	down = rt2->backends[0]->servers[0].down;
	CU_ASSERT_EQUAL(down, 1);
	r = admin_get(base, adm, "/metrics");
	snprintf(yaml, sizeof(yaml),
		"pingd_upstream_peer_up{upstream=\"web\",server=\"127.0.0.1:%u\"} 0\n", live);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, yaml));
	monitor_draining(o2);
	r = admin_get(base, adm, "/healthz");
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.1 503 Service Unavailable\r\n", 34), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "\r\n\r\ndraining\n"));
	monitor_free(o2);
	rt_free(rt2);

	/* A bad admin address is an error, not a silent no-op. */
	p.admin_address = "localhost";
	rt1 = rt_new(c);
	CU_ASSERT_PTR_NULL(monitor_new(base, rt1, 1, &p, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	rt_free(rt1);
	close(dfd);
	cfg_free(c);
	cfg_msgs_free(&msgs);
	event_base_free(base);
}

int test_monitor_register(void)
{
	static const CU_TestInfo tests[] = {
		{"health into pools, metrics, admin, reload hand-over", test_glue},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("monitor", tests);
}
