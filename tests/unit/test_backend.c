// SPDX-License-Identifier: GPL-2.0
/* Upstream selection: round robin, smooth WRR, least connections, ketama and Maglev (with
 * failover over tried and down peers), the retry budget, and cookie lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/cfg/cfg.h"
#include "userspace/upstream/backend.h"

static struct cfg *pool(const char *selection, const char *weights)
{
	char yaml[2048];
	size_t n;
	struct cfg_msgs m = {0};
	struct cfg *c;
	int w[8], k = 0;

	k = sscanf(weights, "%d %d %d %d %d %d %d %d", &w[0], &w[1], &w[2], &w[3], &w[4], &w[5],
		&w[6], &w[7]);
	n = (size_t)snprintf(yaml, sizeof(yaml),
		"listeners: [{address: 127.0.0.1:1}]\n"
		"virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: "
		"u}]}]\n"
		"upstreams:\n  - name: u\n    selection: %s\n    servers:\n",
		selection);
	for (int i = 0; i < k; i++)
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
			"      - {address: 10.0.0.%d:80, weight: %d}\n", i + 1, w[i]);
	c = cfg_load_string("b.yaml", yaml, n, &m);
	if (!c)
		fprintf(stderr, "%s", m.text);
	cfg_msgs_free(&m);
	return c;
}

struct fixture {
	struct cfg *c;
	struct backend *be;
	struct backend_wstate ws;
};

static int fx_open(struct fixture *f, const char *sel, const char *weights)
{
	f->c = pool(sel, weights);
	if (!f->c)
		return -1;
	f->be = backend_new(f->c, 0);
	if (!f->be)
		return -1;
	return backend_wstate_init(&f->ws, f->be);
}

static void fx_close(struct fixture *f)
{
	backend_wstate_release(&f->ws);
	backend_free(f->be);
	cfg_free(f->c);
}

static void test_rr(void)
{
	struct fixture f;
	int seq[6];

	CU_ASSERT_EQUAL_FATAL(fx_open(&f, "round_robin", "1 5 1"), 0);
	for (int i = 0; i < 6; i++) {
		seq[i] = backend_select(f.be, &f.ws, 0, 0);
		backend_done(&f.ws, seq[i]);
	}
	CU_ASSERT(seq[0] == 0 && seq[1] == 1 && seq[2] == 2 && seq[3] == 0 && seq[4] == 1 &&
		  seq[5] == 2);
	/* Tried peers are skipped; none left is -ENOENT. */
	CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 0, 1u << 0), 1);
	CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 0, (1u << 1) | (1u << 2)), 0);
	CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 0, 7), -ENOENT);
	/* Down peers are skipped too. */
	f.be->servers[1].down = 1;
	for (int i = 0; i < 10; i++)
		CU_ASSERT_NOT_EQUAL(backend_select(f.be, &f.ws, 0, 0), 1);
	fx_close(&f);
}

static void test_wrr(void)
{
	struct fixture f;
	char seq[8] = {0};
	int counts[3] = {0};

	CU_ASSERT_EQUAL_FATAL(fx_open(&f, "weighted_round_robin", "5 1 1"), 0);
	for (int i = 0; i < 7; i++)
		seq[i] = (char)('a' + backend_select(f.be, &f.ws, 0, 0));
	/* nginx's smooth sequence for weights 5, 1, 1. */
	CU_ASSERT_STRING_EQUAL(seq, "aabacaa");
	for (int i = 0; i < 700; i++)
		counts[backend_select(f.be, &f.ws, 0, 0)]++;
	CU_ASSERT(counts[0] == 500 && counts[1] == 100 && counts[2] == 100);
	CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 0, 1), 1);
	fx_close(&f);
}

static void test_least_conn(void)
{
	struct fixture f;
	int a, b, c, d;

	CU_ASSERT_EQUAL_FATAL(fx_open(&f, "least_conn", "1 1 2"), 0);
	a = backend_select(f.be, &f.ws, 0, 0);
	b = backend_select(f.be, &f.ws, 0, 0);
	c = backend_select(f.be, &f.ws, 0, 0);
	/* Idle pool: spread over all three. */
	CU_ASSERT(a != b && b != c && a != c);
	/* Each has one in flight; server 2 has weight 2, so it takes the next. */
	d = backend_select(f.be, &f.ws, 0, 0);
	CU_ASSERT_EQUAL(d, 2);
	CU_ASSERT_EQUAL(f.ws.active[2], 2);
	backend_done(&f.ws, 0);
	CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 0, 0), 0);
	backend_done(&f.ws, 1);
	backend_done(&f.ws, 1);
	CU_ASSERT_EQUAL(f.ws.active[1], 0);
	/* 1 of weight 1 against 2 of weight 2 is a tie: round robin goes on after 0. */
	CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 0, 1u << 1), 2);
	CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 0, 1u << 1), 0);
	fx_close(&f);
}

/* The same key always lands on the same peer; a tried peer moves only its own keys. */
static void consistent(const char *sel)
{
	struct fixture f;
	int first[200], moved = 0, hits[4] = {0};

	CU_ASSERT_EQUAL_FATAL(fx_open(&f, sel, "1 1 1 1"), 0);
	for (int i = 0; i < 200; i++) {
		char key[32];
		uint64_t h;

		snprintf(key, sizeof(key), "/item/%d", i);
		h = backend_hash(f.be, key, strlen(key));
		first[i] = backend_select(f.be, &f.ws, h, 0);
		CU_ASSERT(first[i] >= 0 && first[i] < 4);
		hits[first[i]]++;
		CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, h, 0), first[i]);
		if (first[i] != 2) {
			moved += backend_select(f.be, &f.ws, h, 1u << 2) != first[i];
		} else {
			int alt = backend_select(f.be, &f.ws, h, 1u << 2);

			CU_ASSERT(alt >= 0 && alt != 2);
		}
	}
	CU_ASSERT_EQUAL(moved, 0);
	for (int i = 0; i < 4; i++)
		CU_ASSERT(hits[i] > 20);
	CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 12345, 0xf), -ENOENT);
	fx_close(&f);
}

static void test_ketama(void)
{
	consistent("ketama");
}

static void test_maglev(void)
{
	struct fixture f;
	int hits[2] = {0};

	consistent("maglev");
	/* Weights 3:1 give about three times the keys. */
	CU_ASSERT_EQUAL_FATAL(fx_open(&f, "maglev", "3 1"), 0);
	for (int i = 0; i < 4000; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k%d", i);
		hits[backend_select(f.be, &f.ws, backend_hash(f.be, key, strlen(key)), 0)]++;
	}
	CU_ASSERT(hits[0] > 2700 && hits[0] < 3300);
	fx_close(&f);
}

static void test_retry_budget(void)
{
	struct fixture f;
	int allowed = 0;
	uint64_t t = 1000000;

	CU_ASSERT_EQUAL_FATAL(fx_open(&f, "round_robin", "1 1"), 0);
	/* Default budget: 20% of requests plus 10 per window. */
	for (int i = 0; i < 100; i++)
		backend_note_request(&f.ws, t);
	for (int i = 0; i < 100; i++)
		allowed += backend_retry_take(f.be, &f.ws, t);
	CU_ASSERT_EQUAL(allowed, 30);
	/* The next window still remembers the previous one... */
	t += BACKEND_BUDGET_WINDOW_MS;
	CU_ASSERT_FALSE(backend_retry_take(f.be, &f.ws, t));
	/* ...and two windows later the budget is back to the minimum. */
	t += 2 * BACKEND_BUDGET_WINDOW_MS;
	allowed = 0;
	for (int i = 0; i < 100; i++)
		allowed += backend_retry_take(f.be, &f.ws, t);
	CU_ASSERT_EQUAL(allowed, 10);
	fx_close(&f);
}

/* Health checks can mark every server down (a live but slow one fails its probe timeout):
 * selection then fails open, still skipping tried servers, so that a request reaches the
 * live one instead of being answered 502. */
static void test_all_down(void)
{
	static const char *const sels[] = {
		"round_robin", "weighted_round_robin", "least_conn", "ketama", "maglev"};

	for (size_t k = 0; k < sizeof(sels) / sizeof(sels[0]); k++) {
		struct fixture f;
		int srv;

		CU_ASSERT_EQUAL_FATAL(fx_open(&f, sels[k], "1 1 1"), 0);
		f.be->servers[0].down = 1;
		f.be->servers[1].down = 1;
		f.be->servers[2].down = 1;
		for (int i = 0; i < 6; i++) {
			srv = backend_select(f.be, &f.ws, (uint64_t)i * 7919, 0);
			CU_ASSERT(srv >= 0 && srv < 3);
			backend_done(&f.ws, srv);
		}
		/* Server 0 refused (tried), 1 and 2 down: the retry goes to 1 or 2. */
		srv = backend_select(f.be, &f.ws, 0, 1u << 0);
		CU_ASSERT(srv == 1 || srv == 2);
		backend_done(&f.ws, srv);
		CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 0, (1u << 0) | (1u << 2)), 1);
		backend_done(&f.ws, 1);
		CU_ASSERT_EQUAL(backend_select(f.be, &f.ws, 0, 7), -ENOENT);
		/* One server up: only it is picked while it is untried. */
		f.be->servers[2].down = 0;
		for (int i = 0; i < 6; i++) {
			srv = backend_select(f.be, &f.ws, (uint64_t)i * 7919, 0);
			CU_ASSERT_EQUAL(srv, 2);
			backend_done(&f.ws, srv);
		}
		CU_ASSERT_NOT_EQUAL(backend_select(f.be, &f.ws, 0, 1u << 2), -ENOENT);
		fx_close(&f);
	}
}

static void test_cookie(void)
{
	const char *h = "a=1; sid=\"xyz\" ;  b=; sidx=no; s=2";
	const char *v;
	size_t l;

	CU_ASSERT_TRUE(backend_cookie_value(h, strlen(h), "sid", &v, &l));
	CU_ASSERT(l == 3 && !memcmp(v, "xyz", 3));
	CU_ASSERT_TRUE(backend_cookie_value(h, strlen(h), "a", &v, &l));
	CU_ASSERT(l == 1 && v[0] == '1');
	CU_ASSERT_TRUE(backend_cookie_value(h, strlen(h), "b", &v, &l));
	CU_ASSERT_EQUAL(l, 0);
	CU_ASSERT_TRUE(backend_cookie_value(h, strlen(h), "s", &v, &l));
	CU_ASSERT(l == 1 && v[0] == '2');
	CU_ASSERT_FALSE(backend_cookie_value(h, strlen(h), "si", &v, &l));
	CU_ASSERT_FALSE(backend_cookie_value("", 0, "a", &v, &l));
	CU_ASSERT_FALSE(backend_cookie_value("novalue", 7, "novalue", &v, &l));
}

int test_backend_register(void)
{
	static const CU_TestInfo tests[] = {
		{"round robin skips tried and down peers", test_rr},
		{"smooth weighted round robin", test_wrr},
		{"least connections per weight", test_least_conn},
		{"ketama: stable keys, failover moves only the failed peer's", test_ketama},
		{"maglev: stable keys, failover, weights", test_maglev},
		{"retry budget", test_retry_budget},
		{"every server down: fail open, skipping tried ones", test_all_down},
		{"cookie lookup", test_cookie},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("backend", tests);
}
