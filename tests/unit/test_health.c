// SPDX-License-Identifier: GPL-2.0
/* Health checks: the rise/fall and passive state machines, parameter validation, and the probe
 * engine on a real event base against a loopback listener and a closed port. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <event2/event.h>

#include "tests/unit/unit.h"
#include "userspace/upstream/health.h"

static void test_sm_rise_fall(void)
{
	struct health_sm sm;

	health_sm_init(&sm, true, 2, 3);
	CU_ASSERT_TRUE(sm.up);
	/* Two failures are not enough with fall 3; a success in between resets the count. */
	CU_ASSERT_FALSE(health_sm_report(&sm, false));
	CU_ASSERT_FALSE(health_sm_report(&sm, false));
	CU_ASSERT_FALSE(health_sm_report(&sm, true));
	CU_ASSERT_FALSE(health_sm_report(&sm, false));
	CU_ASSERT_FALSE(health_sm_report(&sm, false));
	CU_ASSERT_TRUE(sm.up);
	CU_ASSERT_TRUE(health_sm_report(&sm, false));
	CU_ASSERT_FALSE(sm.up);
	/* Further failures change nothing. */
	CU_ASSERT_FALSE(health_sm_report(&sm, false));
	/* Rise 2: one success, one failure, then two successes. */
	CU_ASSERT_FALSE(health_sm_report(&sm, true));
	CU_ASSERT_FALSE(health_sm_report(&sm, false));
	CU_ASSERT_FALSE(health_sm_report(&sm, true));
	CU_ASSERT_FALSE(sm.up);
	CU_ASSERT_TRUE(health_sm_report(&sm, true));
	CU_ASSERT_TRUE(sm.up);
	CU_ASSERT_FALSE(health_sm_report(&sm, true));
}

static void test_sm_one(void)
{
	struct health_sm sm;

	/* rise = fall = 1 flips on every contradicting result; 0 is treated as 1. */
	health_sm_init(&sm, false, 0, 0);
	CU_ASSERT_FALSE(health_sm_report(&sm, false));
	CU_ASSERT_TRUE(health_sm_report(&sm, true));
	CU_ASSERT_TRUE(health_sm_report(&sm, false));
	CU_ASSERT_FALSE(sm.up);
}

static void test_passive(void)
{
	struct health_passive p;

	health_passive_init(&p, 3, 1000, 1000);
	CU_ASSERT_TRUE(health_passive_available(&p, 0));
	CU_ASSERT_EQUAL(health_passive_report(&p, false, 10), HEALTH_PASSIVE_SAME);
	CU_ASSERT_EQUAL(health_passive_report(&p, false, 11), HEALTH_PASSIVE_SAME);
	/* A success clears consecutive failures. */
	CU_ASSERT_EQUAL(health_passive_report(&p, true, 12), HEALTH_PASSIVE_SAME);
	CU_ASSERT_EQUAL(health_passive_report(&p, false, 13), HEALTH_PASSIVE_SAME);
	CU_ASSERT_EQUAL(health_passive_report(&p, false, 14), HEALTH_PASSIVE_SAME);
	CU_ASSERT_EQUAL(health_passive_report(&p, false, 100), HEALTH_PASSIVE_DOWN);
	CU_ASSERT_EQUAL(p.cooldowns, 1);
	CU_ASSERT_FALSE(health_passive_available(&p, 100));
	CU_ASSERT_FALSE(health_passive_available(&p, 1099));
	/* Late outcomes of requests sent before the cool-down are ignored. */
	CU_ASSERT_EQUAL(health_passive_report(&p, true, 500), HEALTH_PASSIVE_SAME);
	CU_ASSERT_FALSE(health_passive_available(&p, 600));
	/* Cool-down over: probation; a failure starts another cool-down at once. */
	CU_ASSERT_TRUE(health_passive_available(&p, 1100));
	CU_ASSERT_EQUAL(p.state, HEALTH_PASSIVE_PROBATION);
	CU_ASSERT_EQUAL(health_passive_report(&p, false, 1101), HEALTH_PASSIVE_DOWN);
	CU_ASSERT_EQUAL(p.cooldowns, 2);
	CU_ASSERT_FALSE(health_passive_available(&p, 2100));
	CU_ASSERT_TRUE(health_passive_available(&p, 2101));
	/* Probation passed: back to OK with a clean count. */
	CU_ASSERT_EQUAL(health_passive_report(&p, true, 2102), HEALTH_PASSIVE_UP);
	CU_ASSERT_EQUAL(p.state, HEALTH_PASSIVE_OK);
	CU_ASSERT_EQUAL(health_passive_report(&p, false, 2103), HEALTH_PASSIVE_SAME);
	CU_ASSERT_TRUE(health_passive_available(&p, 2104));
}

/* While a peer stays down, each failed probation doubles the cool-down up to the maximum;
 * probation lets one request at a time through, and gives up on a probe whose outcome never
 * comes; success resets the back-off. */
static void test_passive_backoff(void)
{
	struct health_passive p;
	uint64_t t = 0, want[] = {100, 200, 400, 800, 1000, 1000};

	health_passive_init(&p, 1, 100, 1000);
	CU_ASSERT_EQUAL(health_passive_report(&p, false, t), HEALTH_PASSIVE_DOWN);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CU_ASSERT_EQUAL(p.backoff_ms, want[i]);
		CU_ASSERT_FALSE(health_passive_available(&p, t + want[i] - 1));
		t += want[i];
		CU_ASSERT_TRUE(health_passive_available(&p, t));
		/* One probe at a time. */
		CU_ASSERT_FALSE(health_passive_available(&p, t));
		CU_ASSERT_EQUAL(health_passive_report(&p, false, t), HEALTH_PASSIVE_DOWN);
	}
	/* A probe that never reports is given up after the first cool-down's length. */
	t += 1000;
	CU_ASSERT_TRUE(health_passive_available(&p, t));
	CU_ASSERT_FALSE(health_passive_available(&p, t + 99));
	CU_ASSERT_TRUE(health_passive_available(&p, t + 100));
	CU_ASSERT_EQUAL(health_passive_report(&p, true, t + 101), HEALTH_PASSIVE_UP);
	CU_ASSERT_EQUAL(p.backoff_ms, 0);
	CU_ASSERT_TRUE(health_passive_available(&p, t + 102));
	CU_ASSERT_TRUE(health_passive_available(&p, t + 102));
	/* Down again: the back-off starts over from the first cool-down. */
	CU_ASSERT_EQUAL(health_passive_report(&p, false, t + 103), HEALTH_PASSIVE_DOWN);
	CU_ASSERT_EQUAL(p.backoff_ms, 100);
}

static void test_params(void)
{
	struct health_params p;
	char err[128];

	health_params_default(&p);
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), 0);
	p.timeout_ms = p.interval_ms + 1;
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "timeout"));
	health_params_default(&p);
	p.fall = 0;
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.fall = 1001;
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	health_params_default(&p);
	p.jitter_pct = 51;
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	health_params_default(&p);
	p.kind = HEALTH_HTTP;
	p.path = "/healthz";
	p.method = "HEAD";
	p.host = "example.com";
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), 0);
	p.path = "healthz";
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.path = "/a b";
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.path = "/a\r\nX: y";
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.path = "/";
	p.method = "GE T";
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.method = "";
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.method = NULL;
	p.host = "a\nb";
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.host = NULL;
	p.status_min = 300;
	p.status_max = 299;
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.status_min = 99;
	p.status_max = 200;
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.status_min = 200;
	p.status_max = 600;
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
	p.kind = HEALTH_KIND_MAX;
	CU_ASSERT_EQUAL(health_params_check(&p, err, sizeof(err)), -EINVAL);
}

/* Engine test: record transitions and stop the loop once every target has changed. */
struct engine_ctx {
	struct event_base *base;
	int changes;
	int want;
	bool up[4];
	char reason[4][HEALTH_REASON_MAX];
};

static void on_change(const struct health_event *ev, void *arg)
{
	struct engine_ctx *c = arg;

	CU_ASSERT_TRUE(ev->id < 4);
	CU_ASSERT_PTR_EQUAL(ev->target_arg, &c->up[ev->id]);
	CU_ASSERT_TRUE(ev->time_ms > 0);
	c->up[ev->id] = ev->up;
	snprintf(c->reason[ev->id], sizeof(c->reason[ev->id]), "%s", ev->reason);
	if (++c->changes == c->want)
		event_base_loopbreak(c->base);
}

static struct sockaddr_in lo(unsigned short port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* A listening socket on the first free port of 127.0.0.1:31900-31949; fills <port>. */
static int listen_lo(unsigned short *port)
{
	for (unsigned short p = 31900; p < 31950; p++) {
		struct sockaddr_in sin = lo(p);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

		if (fd < 0)
			return -errno;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, (struct sockaddr *)&sin, sizeof(sin)) && !listen(fd, 16)) {
			*port = p;
			return fd;
		}
		close(fd);
	}
	return -EADDRINUSE;
}

static void test_engine(void)
{
	struct engine_ctx c = {.want = 2};
	struct health_params p;
	struct health_info info;
	struct sockaddr_in up_addr, down_addr;
	unsigned short port, dead;
	struct health *h;
	struct timeval limit = {.tv_sec = 5};
	int lfd, id0, id1, dfd;

	lfd = listen_lo(&port);
	CU_ASSERT_FATAL(lfd >= 0);
	/* A port bound but not listening refuses connections. */
	dfd = listen_lo(&dead);
	CU_ASSERT_FATAL(dfd >= 0);
	close(dfd);
	c.base = event_base_new();
	CU_ASSERT_FATAL(c.base != NULL);
	h = health_new(c.base, on_change, &c);
	CU_ASSERT_FATAL(h != NULL);
	health_params_default(&p);
	p.interval_ms = 20;
	p.timeout_ms = 15;
	p.rise = 2;
	p.fall = 2;
	/* Target 0 starts down and must rise; target 1 starts up and must fall. */
	p.start_down = true;
	c.up[0] = false;
	up_addr = lo(port);
	id0 = health_add(
		h, "listening", (struct sockaddr *)&up_addr, sizeof(up_addr), &p, &c.up[0]);
	p.start_down = false;
	c.up[1] = true;
	down_addr = lo(dead);
	id1 = health_add(
		h, "refusing", (struct sockaddr *)&down_addr, sizeof(down_addr), &p, &c.up[1]);
	CU_ASSERT_EQUAL(id0, 0);
	CU_ASSERT_EQUAL(id1, 1);
	CU_ASSERT_EQUAL(health_count(h), 2);
	CU_ASSERT_EQUAL(health_find(h, "refusing"), 1);
	CU_ASSERT_EQUAL(health_find(h, "listening"), 0);
	CU_ASSERT_EQUAL(health_find(h, "nobody"), -ENOENT);
	CU_ASSERT_FALSE(health_is_up(h, 0));
	CU_ASSERT_TRUE(health_is_up(h, 1));
	/* Bad input is refused without side effects. */
	CU_ASSERT_EQUAL(health_add(h, "x", (struct sockaddr *)&up_addr, 4, &p, NULL), -EINVAL);
	p.rise = 0;
	CU_ASSERT_EQUAL(health_add(h, "x", (struct sockaddr *)&up_addr, sizeof(up_addr), &p, NULL),
		-EINVAL);
	CU_ASSERT_EQUAL(health_count(h), 2);

	event_base_loopexit(c.base, &limit);
	event_base_dispatch(c.base);
	CU_ASSERT_EQUAL(c.changes, 2);
	CU_ASSERT_TRUE(c.up[0]);
	CU_ASSERT_FALSE(c.up[1]);
	CU_ASSERT_STRING_EQUAL(c.reason[0], "connected");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.reason[1], "refused"));
	CU_ASSERT_EQUAL(health_info(h, 1, &info), 0);
	CU_ASSERT_FALSE(info.up);
	CU_ASSERT_TRUE(info.probes >= 2);
	CU_ASSERT_TRUE(info.failures >= 2);
	CU_ASSERT_EQUAL(info.transitions, 1);
	CU_ASSERT_EQUAL(health_info(h, 7, &info), -ENOENT);
	health_free(h);
	event_base_free(c.base);
	close(lfd);
}

int test_health_register(void)
{
	static const CU_TestInfo tests[] = {
		{"rise/fall hysteresis", test_sm_rise_fall},
		{"rise = fall = 1", test_sm_one},
		{"passive: failures, cool-down, probation", test_passive},
		{"passive: back-off, one probe at a time", test_passive_backoff},
		{"probe parameters: bounds and malformed HTTP fields", test_params},
		{"engine: TCP probes on loopback rise and fall", test_engine},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("health", tests);
}
