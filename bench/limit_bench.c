// SPDX-License-Identifier: GPL-2.0
/* Nanoseconds per operation of the limit/ layer: a bare sketch add shaped like pingora-limits'
 * benchmark (3 x 1024 cells, 4-byte keys drawn from a million), the rate estimator's observe on
 * one and two threads, the request limiter's decision and an inflight acquire and release.
 * Median of RUNS runs; the clock read, which the caller pays once per request, is measured
 * apart. Usage: limit_bench [RUNS] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/stat.h"
#include "userspace/limit/cms.h"
#include "userspace/limit/hash.h"
#include "userspace/limit/inflight.h"
#include "userspace/limit/rate.h"
#include "userspace/limit/req.h"

#define OPS	 (1u << 22) /* operations per run and thread */
#define KEYS	 (1u << 20) /* distinct keys: pingora-limits draws from 1,000,000 */
#define KEY_MASK (KEYS - 1)
#define CLIENTS	 4096 /* active clients in the request limiter's runs */

/* pingora-limits benches/benchmark.rs, as published in its source: Estimator::new(3, 1024),
 * 100M incr of u32 keys uniform over 1M, random draw included, 10 ns per op on one thread and
 * 212 ns per op on each of 8 threads (the authors' machine, not run here). */
#define PINGORA_NS_1T 10
#define PINGORA_NS_8T 212

/* xorshift64: the key stream, cheap enough not to hide what is measured */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

enum op {
	OP_CMS = 0,
	OP_OBSERVE,
	OP_DECIDE,
	OP_DECIDE_HOT,
	OP_INFLIGHT,
	OP_CLOCK,
	OP_MAX /* must stay last */
};

struct target {
	struct limit_cms *cms;
	struct limit_rate *rate;
	struct limit_req *req;
	struct limit_inflight *inflight;
};

struct job {
	const struct target *t;
	enum op op;
	unsigned int id;
	uint64_t base_us; /* the caller's clock at the first operation */
	double ns;	  /* result: nanoseconds per operation */
	uint64_t passed;  /* result: requests the limiter passed */
	volatile int64_t sink;
};

/* Run OPS operations of <j>'s kind; the caller's clock advances 1 us per operation (a million
 * requests a second) from <j>'s base, so the estimator's 1 s windows move about four times a
 * run, and each run starts later than the one before. */
static void *run(void *arg)
{
	struct job *j = arg;
	const struct target *t = j->t;
	uint64_t s = 0x9e3779b97f4a7c15ULL * (j->id + 1);
	struct limit_decision d;
	struct limit_inflight_guard g;
	int64_t sink = 0;
	double t0 = bench_thread_ns();

	for (uint32_t i = 0; i < OPS; i++) {
		uint32_t k = (uint32_t)next_rand(&s) & KEY_MASK; /* uniform over KEYS */
		uint64_t now = j->base_us + i;

		switch (j->op) {
		case OP_CMS:
			sink += limit_cms_add(t->cms, limit_hash(&k, sizeof(k), 0), 1);
			break;
		case OP_OBSERVE:
			sink += limit_rate_observe(t->rate, &k, sizeof(k), 1, now);
			break;
		case OP_DECIDE:
			k &= CLIENTS - 1;
			sink += limit_req_decide(t->req, &k, sizeof(k), now, &d);
			j->passed += d.verdict == LIMIT_PASS;
			break;
		case OP_DECIDE_HOT:
			sink += limit_req_decide(t->req, "hot", 3, now, &d) + d.verdict;
			break;
		case OP_INFLIGHT:
			sink += limit_inflight_acquire(t->inflight, &k, sizeof(k), &g);
			limit_inflight_release(&g);
			break;
		case OP_CLOCK: {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
			sink += ts.tv_nsec + k;
			break;
		}
		case OP_MAX:
			break;
		}
	}
	j->ns = (bench_thread_ns() - t0) / OPS;
	j->sink = sink;
	return NULL;
}

/* Median over <runs> of ns per op for <op> on <threads> threads (1 or 2), each thread's own
 * figure averaged per run; the share of requests passed goes to <*pass>. Returns a negative
 * number when a thread cannot start. */
static double measure(
	const struct target *t, enum op op, int threads, int runs, double *v, double *pass)
{
	static uint64_t base_us = 1000000;
	uint64_t passed = 0;

	for (int r = 0; r < runs; r++) {
		struct job jobs[2] = {{.t = t, .op = op, .id = 0, .base_us = base_us},
			{.t = t, .op = op, .id = 1, .base_us = base_us}};
		pthread_t tid;

		base_us += OPS + 10000000; /* 10 s idle between runs: buckets refill */
		if (threads == 2 && pthread_create(&tid, NULL, run, &jobs[1]))
			return -1;
		run(&jobs[0]);
		if (threads == 2) {
			pthread_join(tid, NULL);
			v[r] = (jobs[0].ns + jobs[1].ns) / 2;
		} else {
			v[r] = jobs[0].ns;
		}
		passed += jobs[0].passed + jobs[1].passed;
	}
	*pass = (double)passed / ((double)OPS * threads * runs);
	return bench_median(v, runs);
}

int main(int argc, char **argv)
{
	static const struct {
		enum op op;
		int threads;
		const char *what;
		const char *published;
	} rows[] = {
		{OP_CMS, 1, "sketch add, 3x1024", "10 ns, 1 thread (Estimator::incr 3x1024)"},
		{OP_CMS, 2, "sketch add, 3x1024", "212 ns/thread at 8 threads"},
		{OP_OBSERVE, 1, "rate observe, 4x1024 x2", ""},
		{OP_OBSERVE, 2, "rate observe, 4x1024 x2", ""},
		{OP_DECIDE, 1, "req decide, 4x4096, 4096 keys", ""},
		{OP_DECIDE, 2, "req decide, 4x4096, 4096 keys", ""},
		{OP_DECIDE_HOT, 1, "req decide, one key, rejected", ""},
		{OP_INFLIGHT, 1, "inflight acquire+release", ""},
		{OP_CLOCK, 1, "clock read (MONOTONIC_COARSE)", ""},
	};
	/* 1M requests a second over 4096 clients is 244 a second each: under this limit, so the
	 * decisions are mostly passes, the path that writes */
	struct limit_req_conf rc = {.rate = 1000, .burst = 100, .delay_after = LIMIT_REQ_NODELAY};
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	struct target t;
	double *v;

	if (runs < 1 || runs > 1000) {
		fprintf(stderr, "usage: limit_bench [RUNS 1..1000]\n");
		return 2;
	}
	v = calloc(runs, sizeof(*v));
	t.cms = limit_cms_new(3, 1024);
	t.rate = limit_rate_new(1000000, 0, 0, 1);
	t.req = limit_req_new(&rc);
	t.inflight = limit_inflight_new(0, 0, 1);
	if (!v || !t.cms || !t.rate || !t.req || !t.inflight) {
		fprintf(stderr, "limit_bench: out of memory\n");
		return 1;
	}
	printf("limit: ns of thread CPU time per operation, median of %d runs of %u ops per thread\n",
		runs, OPS);
	printf("%-32s %7s %8s   %s\n", "operation", "threads", "ns/op",
		"published by pingora-limits");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double pass, ns = measure(&t, rows[i].op, rows[i].threads, runs, v, &pass);

		if (ns < 0) {
			fprintf(stderr, "limit_bench: cannot start a thread\n");
			return 1;
		}
		printf("%-32s %7d %8.1f   %s", rows[i].what, rows[i].threads, ns,
			rows[i].published);
		if (rows[i].op == OP_DECIDE || rows[i].op == OP_DECIDE_HOT)
			printf("(%.1f%% passed)", pass * 100);
		printf("\n");
	}
	printf("published: pingora-limits benches/benchmark.rs (Estimator 3x1024, u32 keys over 1M,\n"
	       "random draw in the loop, 100M ops; %d ns on 1 thread, %d ns/op on each of 8\n"
	       "threads) from its authors' machine and harness: context, not a same-run "
	       "comparison.\n",
		PINGORA_NS_1T, PINGORA_NS_8T);
	limit_cms_free(t.cms);
	limit_rate_free(t.rate);
	limit_req_free(t.req);
	limit_inflight_free(t.inflight);
	free(v);
	return 0;
}
