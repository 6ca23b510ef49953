// SPDX-License-Identifier: GPL-2.0
/* The limit/ layer: sketch accuracy, window rotation and interpolation, clock jumps, threads,
 * the inflight limiter, the request limiter's decisions, address keys and bad input. Every
 * clock is a number passed in: nothing here reads or waits for time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/limit/cms.h"
#include "userspace/limit/hash.h"
#include "userspace/limit/inflight.h"
#include "userspace/limit/key.h"
#include "userspace/limit/rate.h"
#include "userspace/limit/req.h"

#define SEC 1000000ULL /* microseconds */
#define MS  1000ULL

/* Key <i> of a family of test keys: "k" and the number. */
static size_t key_of(char *buf, size_t size, const char *tag, unsigned int i)
{
	return (size_t)snprintf(buf, size, "%s%u", tag, i);
}

/* A few heavy keys among many light ones: never below the truth, and above it by no more
 * than e * N / width (the count-min bound; N = all events in the window). */
static void test_rate_accuracy(void)
{
	static const int64_t heavy[] = {5000, 2000, 700};
	struct limit_rate *r = limit_rate_new(SEC, 4, 1024, 42);
	int64_t total = 0, over = 0;
	char k[32];
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (unsigned int i = 0; i < 20000; i++) {
		n = key_of(k, sizeof(k), "bg", i);
		CU_ASSERT(limit_rate_observe(r, k, n, 1 + i % 3, 0) >= 1 + i % 3);
		total += 1 + i % 3;
	}
	for (unsigned int i = 0; i < 3; i++) {
		n = key_of(k, sizeof(k), "heavy", i);
		for (int64_t j = 0; j < heavy[i]; j++)
			(void)limit_rate_observe(r, k, n, 1, 0);
		total += heavy[i];
	}
	for (unsigned int i = 0; i < 3; i++) {
		double est;

		n = key_of(k, sizeof(k), "heavy", i);
		est = limit_rate_rate(r, k, n, 0); /* interval 1 s, f = 0, no previous window */
		CU_ASSERT(est >= (double)heavy[i]);
		CU_ASSERT(est <= (double)heavy[i] + M_E * (double)total / 1024);
	}
	/* The background keys on average: the expected overcount of one row is N / width, and
	 * the minimum of four rows is well below it. */
	for (unsigned int i = 0; i < 20000; i++) {
		n = key_of(k, sizeof(k), "bg", i);
		over += (int64_t)limit_rate_rate(r, k, n, 0) - (1 + i % 3);
	}
	CU_ASSERT(over >= 0);
	CU_ASSERT(over / 20000 <= total / 1024);
	CU_ASSERT_EQUAL(limit_rate_bytes(r), 2 * 4 * 1024 * sizeof(int64_t));
	limit_rate_free(r);
}

/* observe() counts the current interval; rate() interpolates prev * (1 - f) + cur. */
static void test_rate_windows(void)
{
	struct limit_rate *r = limit_rate_new(SEC, 0, 0, 1);
	const uint64_t t0 = 1000 * SEC;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "a", 1, 3, t0), 3);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "a", 1, 2, t0 + 10 * MS), 5);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "b", 1, 0, t0), 0);
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "a", 1, t0 + 500 * MS), 5.0, 1e-9);
	/* second 1: the first interval is now the previous one, at full weight */
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "a", 1, t0 + SEC), 5.0, 1e-9);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "a", 1, 4, t0 + SEC), 4);
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "a", 1, t0 + SEC), 9.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "a", 1, t0 + SEC + 750 * MS), 5.25, 1e-9);
	/* second 2: nobody observed, rate() moves nothing: 4 at full weight, then fading */
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "a", 1, t0 + 2 * SEC), 4.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "a", 1, t0 + 2 * SEC + 500 * MS), 2.0, 1e-9);
	/* second 3: the last counts are two intervals old */
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "a", 1, t0 + 3 * SEC), 0.0, 1e-9);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "a", 1, 1, t0 + 3 * SEC), 1);
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "a", 1, t0 + 3 * SEC), 1.0, 1e-9);
	/* a caller whose clock read is a little behind the move counts in the previous window */
	CU_ASSERT_EQUAL(limit_rate_observe(r, "a", 1, 2, t0 + 3 * SEC - 1), 2);
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "a", 1, t0 + 3 * SEC), 3.0, 1e-9);
	limit_rate_free(r);

	/* a 100 ms interval: rates are per second */
	r = limit_rate_new(100 * MS, 0, 0, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	(void)limit_rate_observe(r, "x", 1, 7, 0);
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "x", 1, 100 * MS), 70.0, 1e-9);
	limit_rate_free(r);
}

/* Jumps either way: nothing crashes, old counts never stick. */
static void test_rate_clock_jumps(void)
{
	struct limit_rate *r = limit_rate_new(SEC, 0, 0, 7);
	const uint64_t t0 = 5000 * SEC;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "k", 1, 100, t0), 100);
	/* forward by an hour: a fresh window */
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "k", 1, t0 + 3600 * SEC), 0.0, 1e-9);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "k", 1, 1, t0 + 3600 * SEC), 1);
	/* back by an hour: the future's counts are dropped, not waited out */
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "k", 1, t0), 0.0, 1e-9);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "k", 1, 2, t0), 2);
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "k", 1, t0), 2.0, 1e-9);
	/* the ends of the clock */
	CU_ASSERT_EQUAL(limit_rate_observe(r, "k", 1, 3, UINT64_MAX), 3);
	CU_ASSERT(limit_rate_rate(r, "k", 1, UINT64_MAX) >= 3.0);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "k", 1, 4, 0), 4);
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(r, "k", 1, 0), 4.0, 1e-9);
	limit_rate_free(r);
}

#define THREADS	   4
#define PER_THREAD 200000
#define INTERVALS  20

struct rate_worker {
	struct limit_rate *r;
	pthread_barrier_t *barrier;
	unsigned int id;
};

/* All threads observe interval k, meet at the barrier, then move on to k + 1 together, so
 * every move races with three observers that want it too. */
static void *rate_worker_run(void *arg)
{
	struct rate_worker *w = arg;
	char k[32];

	for (unsigned int iv = 0; iv < INTERVALS; iv++) {
		for (unsigned int i = 0; i < PER_THREAD / INTERVALS; i++) {
			uint64_t now = iv * SEC + (uint64_t)i * SEC / (PER_THREAD / INTERVALS);
			size_t n = key_of(k, sizeof(k), "bg", (i * 7919 + w->id) % 5000);

			(void)limit_rate_observe(w->r, "hot", 3, 1, now);
			(void)limit_rate_observe(w->r, k, n, 1, now);
		}
		(void)pthread_barrier_wait(w->barrier); /* PTHREAD_BARRIER_SERIAL_THREAD or 0 */
	}
	return NULL;
}

static void test_rate_threads(void)
{
	struct limit_rate *r = limit_rate_new(SEC, 4, 1024, 3);
	const double per_interval = (double)THREADS * PER_THREAD / INTERVALS;
	struct rate_worker w[THREADS];
	pthread_t tid[THREADS];
	pthread_barrier_t barrier;
	double est;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(pthread_barrier_init(&barrier, NULL, THREADS), 0);
	for (unsigned int i = 0; i < THREADS; i++) {
		w[i] = (struct rate_worker){.r = r, .barrier = &barrier, .id = i};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[i], NULL, rate_worker_run, &w[i]), 0);
	}
	for (unsigned int i = 0; i < THREADS; i++)
		CU_ASSERT_EQUAL(pthread_join(tid[i], NULL), 0);
	pthread_barrier_destroy(&barrier);
	/* At the start of the last interval (f = 0) the rate is prev + cur. Events observed
	 * while a move is under way go to the window being left, never nowhere: the last
	 * interval's events are all in one of the two windows, and nothing beyond the two
	 * intervals' events and the sketch bound (N = both windows' events) is invented. */
	est = limit_rate_rate(r, "hot", 3, (INTERVALS - 1) * SEC);
	CU_ASSERT(est >= per_interval);
	CU_ASSERT(est <= 2 * per_interval + M_E * (4 * per_interval) / 1024);
	limit_rate_free(r);
}

static void test_rate_bad_input(void)
{
	struct limit_rate *r;

	errno = 0;
	CU_ASSERT_PTR_NULL(limit_rate_new(0, 0, 0, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(limit_rate_new(LIMIT_RATE_INTERVAL_MAX_US + 1, 0, 0, 0));
	CU_ASSERT_PTR_NULL(limit_rate_new(SEC, LIMIT_ROWS_MAX + 1, 0, 0));
	CU_ASSERT_PTR_NULL(limit_rate_new(SEC, 0, 1000, 0)); /* not a power of two */
	CU_ASSERT_PTR_NULL(limit_rate_new(SEC, 0, 8, 0));
	r = limit_rate_new(SEC, 1, LIMIT_WIDTH_MIN, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(limit_rate_observe(NULL, "k", 1, 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(limit_rate_observe(r, NULL, 1, 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "k", 1, -1, 0), -EINVAL);
	CU_ASSERT_EQUAL(limit_rate_observe(r, "k", 1, LIMIT_RATE_N_MAX + 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(limit_rate_observe(r, NULL, 0, 1, 0), 1); /* the empty key is a key */
	CU_ASSERT_DOUBLE_EQUAL(limit_rate_rate(NULL, "k", 1, 0), -EINVAL, 1e-9);
	limit_rate_free(r);
	limit_rate_free(NULL);
}

static void test_inflight(void)
{
	struct limit_inflight *l = limit_inflight_new(0, 0, 9);
	struct limit_inflight_guard g[4], extra, zero = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(limit_inflight_acquire(l, "a", 1, &g[0]), 1);
	CU_ASSERT_EQUAL(limit_inflight_acquire(l, "a", 1, &g[1]), 2);
	CU_ASSERT_EQUAL(limit_inflight_acquire(l, "a", 1, &g[2]), 3);
	CU_ASSERT_EQUAL(limit_inflight_acquire(l, "b", 1, &g[3]), 1);
	CU_ASSERT_EQUAL(limit_inflight_get(l, "a", 1), 3);
	limit_inflight_release(&g[1]);
	CU_ASSERT_EQUAL(limit_inflight_get(l, "a", 1), 2);
	limit_inflight_release(&g[1]); /* twice: no effect */
	limit_inflight_release(&zero);
	limit_inflight_release(NULL);
	CU_ASSERT_EQUAL(limit_inflight_get(l, "a", 1), 2);
	/* at most 2 in flight: a third is refused and leaves nothing behind */
	CU_ASSERT_EQUAL(limit_inflight_try_acquire(l, "a", 1, 2, &extra), -EBUSY);
	CU_ASSERT_PTR_NULL(extra.owner);
	CU_ASSERT_EQUAL(limit_inflight_get(l, "a", 1), 2);
	CU_ASSERT_EQUAL(limit_inflight_try_acquire(l, "a", 1, 3, &extra), 3);
	limit_inflight_release(&extra);
	limit_inflight_release(&g[0]);
	limit_inflight_release(&g[2]);
	limit_inflight_release(&g[3]);
	CU_ASSERT_EQUAL(limit_inflight_get(l, "a", 1), 0);
	CU_ASSERT_EQUAL(limit_inflight_get(l, "b", 1), 0);
	CU_ASSERT_EQUAL(limit_inflight_acquire(NULL, "a", 1, &extra), -EINVAL);
	CU_ASSERT_EQUAL(limit_inflight_acquire(l, "a", 1, NULL), -EINVAL);
	CU_ASSERT_EQUAL(limit_inflight_get(l, NULL, 1), -EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(limit_inflight_new(0, 100, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	limit_inflight_free(l);
}

struct inflight_worker {
	struct limit_inflight *l;
	unsigned int id;
};

/* Acquire and release in bursts, sharing one hot key with the other threads. */
static void *inflight_worker_run(void *arg)
{
	struct inflight_worker *w = arg;
	struct limit_inflight_guard g[8];
	char k[32];

	for (unsigned int i = 0; i < PER_THREAD / 8; i++) {
		for (unsigned int j = 0; j < 8; j++) {
			size_t n = key_of(k, sizeof(k), "c", (i + j + w->id) % 64);

			(void)limit_inflight_acquire(w->l, j % 2 ? "hot" : k, j % 2 ? 3 : n, &g[j]);
		}
		for (unsigned int j = 0; j < 8; j++)
			limit_inflight_release(&g[j]);
	}
	return NULL;
}

struct cap_worker {
	struct limit_inflight *l;
	atomic_int *live;  /* holders right now, counted outside the limiter */
	int most;	   /* the most this thread saw */
	unsigned int held; /* successful acquires */
};

/* try_acquire with max 2 in a loop: while a thread holds a slot, count it in <live>. */
static void *cap_worker_run(void *arg)
{
	struct cap_worker *w = arg;

	for (unsigned int i = 0; i < PER_THREAD / 4; i++) {
		struct limit_inflight_guard g;
		int now;

		if (limit_inflight_try_acquire(w->l, "hot", 3, 2, &g) < 0)
			continue;
		now = atomic_fetch_add(w->live, 1) + 1;
		w->most = now > w->most ? now : w->most;
		w->held++;
		atomic_fetch_sub(w->live, 1);
		limit_inflight_release(&g);
	}
	return NULL;
}

/* Racing try_acquire never lets more than max hold at once. */
static void test_inflight_cap_threads(void)
{
	struct limit_inflight *l = limit_inflight_new(4, 256, 5);
	struct cap_worker w[THREADS];
	pthread_t tid[THREADS];
	atomic_int live = 0;
	unsigned int held = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (unsigned int i = 0; i < THREADS; i++) {
		w[i] = (struct cap_worker){.l = l, .live = &live};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[i], NULL, cap_worker_run, &w[i]), 0);
	}
	for (unsigned int i = 0; i < THREADS; i++) {
		CU_ASSERT_EQUAL(pthread_join(tid[i], NULL), 0);
		CU_ASSERT(w[i].most <= 2);
		held += w[i].held;
	}
	CU_ASSERT(held > 0);
	CU_ASSERT_EQUAL(limit_inflight_get(l, "hot", 3), 0);
	limit_inflight_free(l);
}

static void test_inflight_threads(void)
{
	struct limit_inflight *l = limit_inflight_new(4, 256, 5);
	struct inflight_worker w[THREADS];
	pthread_t tid[THREADS];
	char k[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (unsigned int i = 0; i < THREADS; i++) {
		w[i] = (struct inflight_worker){.l = l, .id = i};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[i], NULL, inflight_worker_run, &w[i]), 0);
	}
	for (unsigned int i = 0; i < THREADS; i++)
		CU_ASSERT_EQUAL(pthread_join(tid[i], NULL), 0);
	/* every acquire was released: the counts are back at exactly 0 */
	CU_ASSERT_EQUAL(limit_inflight_get(l, "hot", 3), 0);
	for (unsigned int i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(limit_inflight_get(l, k, key_of(k, sizeof(k), "c", i)), 0);
	limit_inflight_free(l);
}

/* A limiter of <rate>/s and <burst>, delaying all but <delay_after> early requests. */
static struct limit_req *req_new(double rate, uint32_t burst, uint32_t delay_after)
{
	struct limit_req_conf c = {
		.rate = rate, .burst = burst, .delay_after = delay_after, .seed = 11};

	return limit_req_new(&c);
}

/* Decide for <key> at <now> and check the verdict and wait. */
#define DECIDE(l, key, now, v, ms)                                                   \
	do {                                                                         \
		struct limit_decision d_ = {.verdict = LIMIT_VERDICT_MAX};           \
		CU_ASSERT_EQUAL(limit_req_decide(l, key, strlen(key), now, &d_), 0); \
		CU_ASSERT_EQUAL(d_.verdict, v);                                      \
		CU_ASSERT_EQUAL(d_.wait_ms, ms);                                     \
	} while (0)

/* nodelay: burst + 1 pass at once, then one per 1 / rate; rejections say when to retry and
 * take nothing from the bucket. */
static void test_req_reject(void)
{
	struct limit_req *l = req_new(10, 4, LIMIT_REQ_NODELAY);
	const uint64_t t0 = 100 * SEC;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (int i = 0; i < 5; i++)
		DECIDE(l, "c", t0, LIMIT_PASS, 0);
	DECIDE(l, "c", t0, LIMIT_REJECT, 100);
	DECIDE(l, "c", t0 + 30 * MS, LIMIT_REJECT, 70);
	DECIDE(l, "other", t0, LIMIT_PASS, 0);
	DECIDE(l, "c", t0 + 100 * MS, LIMIT_PASS, 0);
	for (int i = 0; i < 50; i++)
		DECIDE(l, "c", t0 + 150 * MS, LIMIT_REJECT, 50);
	DECIDE(l, "c", t0 + 200 * MS, LIMIT_PASS, 0);
	/* idle for a while: the bucket refills to burst + 1, no more */
	for (int i = 0; i < 5; i++)
		DECIDE(l, "c", t0 + 60 * SEC, LIMIT_PASS, 0);
	DECIDE(l, "c", t0 + 60 * SEC, LIMIT_REJECT, 100);
	limit_req_free(l);

	/* burst 0: exactly one per interval; sub-millisecond waits round up */
	l = req_new(3, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	DECIDE(l, "c", t0, LIMIT_PASS, 0);
	DECIDE(l, "c", t0, LIMIT_REJECT, 334);
	DECIDE(l, "c", t0 + 333 * MS, LIMIT_REJECT, 1);
	DECIDE(l, "c", t0 + 334 * MS, LIMIT_PASS, 0);
	limit_req_free(l);
	CU_ASSERT_EQUAL(limit_retry_after_sec(0), 1);
	CU_ASSERT_EQUAL(limit_retry_after_sec(1), 1);
	CU_ASSERT_EQUAL(limit_retry_after_sec(1000), 1);
	CU_ASSERT_EQUAL(limit_retry_after_sec(1001), 2);
}

/* Delay mode (nginx without nodelay, and with delay=N). */
static void test_req_delay(void)
{
	struct limit_req *l = req_new(10, 4, 0);
	const uint64_t t0 = 7 * SEC;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	DECIDE(l, "c", t0, LIMIT_PASS, 0);
	DECIDE(l, "c", t0, LIMIT_DELAY, 100);
	DECIDE(l, "c", t0, LIMIT_DELAY, 200);
	DECIDE(l, "c", t0, LIMIT_DELAY, 300);
	DECIDE(l, "c", t0, LIMIT_DELAY, 400);
	DECIDE(l, "c", t0, LIMIT_REJECT, 100);
	DECIDE(l, "c", t0 + 250 * MS, LIMIT_DELAY, 250);
	limit_req_free(l);

	l = req_new(10, 4, 2); /* delay=2: the first three go at once */
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	DECIDE(l, "c", t0, LIMIT_PASS, 0);
	DECIDE(l, "c", t0, LIMIT_PASS, 0);
	DECIDE(l, "c", t0, LIMIT_PASS, 0);
	DECIDE(l, "c", t0, LIMIT_DELAY, 100);
	DECIDE(l, "c", t0, LIMIT_DELAY, 200);
	DECIDE(l, "c", t0, LIMIT_REJECT, 100);
	limit_req_free(l);
}

/* Backward jumps cost at most a full bucket; forward jumps refill it; no overflow at the
 * ends of the accepted clock. */
static void test_req_clock_jumps(void)
{
	struct limit_req *l = req_new(10, 4, LIMIT_REQ_NODELAY);
	const uint64_t t0 = 3600 * SEC;
	struct limit_decision d;
	int passed = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (int i = 0; i < 5; i++)
		DECIDE(l, "c", t0, LIMIT_PASS, 0);
	/* an hour back: the key waits one request interval, not an hour */
	DECIDE(l, "c", SEC, LIMIT_REJECT, 100);
	DECIDE(l, "c", SEC + 100 * MS, LIMIT_PASS, 0);
	/* a time later, back at full speed */
	for (int i = 0; i < 5; i++)
		DECIDE(l, "c", 10 * SEC, LIMIT_PASS, 0);
	/* far forward, to the end of the clock, and back to 0 */
	for (int i = 0; i < 5; i++)
		DECIDE(l, "c", LIMIT_REQ_NOW_MAX_US, LIMIT_PASS, 0);
	DECIDE(l, "c", LIMIT_REQ_NOW_MAX_US, LIMIT_REJECT, 100);
	CU_ASSERT_EQUAL(limit_req_decide(l, "c", 1, LIMIT_REQ_NOW_MAX_US + 1, &d), -ERANGE);
	CU_ASSERT_EQUAL(limit_req_decide(l, "c", 1, UINT64_MAX, &d), -ERANGE);
	for (uint64_t t = 0; t <= 500 * MS; t += 100 * MS)
		for (int i = 0; i < 10; i++) {
			CU_ASSERT_EQUAL(limit_req_decide(l, "c", 1, t, &d), 0);
			passed += d.verdict == LIMIT_PASS;
		}
	CU_ASSERT(passed >= 5);
	limit_req_free(l);
}

/* A thousand keys at once in the default table: collisions make the limit stricter, never
 * looser, and only rarely bite. */
static void test_req_many_keys(void)
{
	struct limit_req *l = req_new(10, 10, LIMIT_REQ_NODELAY);
	unsigned int full = 0, over = 0;
	char k[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (unsigned int i = 0; i < 1000; i++) {
		size_t n = key_of(k, sizeof(k), "client", i);
		struct limit_decision d;
		unsigned int passed = 0;

		for (int j = 0; j < 15; j++) {
			CU_ASSERT_EQUAL(limit_req_decide(l, k, n, SEC, &d), 0);
			passed += d.verdict == LIMIT_PASS;
		}
		full += passed == 11;
		over += passed > 11;
	}
	CU_ASSERT_EQUAL(over, 0);
	CU_ASSERT(full >= 990);
	CU_ASSERT_EQUAL(limit_req_bytes(l), LIMIT_REQ_ROWS_DEFAULT * LIMIT_REQ_WIDTH_DEFAULT * 8);
	limit_req_free(l);
}

struct req_worker {
	struct limit_req *l;
	unsigned int passed;
};

/* Many tries at one instant for one key. */
static void *req_worker_run(void *arg)
{
	struct req_worker *w = arg;

	for (unsigned int i = 0; i < PER_THREAD / 10; i++) {
		struct limit_decision d;

		if (!limit_req_decide(w->l, "hot", 3, 5 * SEC, &d) && d.verdict == LIMIT_PASS)
			w->passed++;
	}
	return NULL;
}

/* Racing callers: the bucket's burst + 1 is honoured within one request per extra thread. */
static void test_req_threads(void)
{
	struct limit_req *l = req_new(0.001, 100, LIMIT_REQ_NODELAY);
	struct req_worker w[THREADS];
	pthread_t tid[THREADS];
	unsigned int passed = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (unsigned int i = 0; i < THREADS; i++) {
		w[i] = (struct req_worker){.l = l};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[i], NULL, req_worker_run, &w[i]), 0);
	}
	for (unsigned int i = 0; i < THREADS; i++) {
		CU_ASSERT_EQUAL(pthread_join(tid[i], NULL), 0);
		passed += w[i].passed;
	}
	CU_ASSERT(passed >= 101 - (THREADS - 1));
	CU_ASSERT(passed <= 101 + (THREADS - 1));
	limit_req_free(l);
}

static void test_req_bad_input(void)
{
	struct limit_req_conf c = {.rate = 10, .burst = 5};
	struct limit_req *l;
	struct limit_decision d;

	CU_ASSERT_EQUAL(limit_req_conf_check(&c), 0);
	CU_ASSERT_EQUAL(limit_req_conf_check(NULL), -EINVAL);
	c.rate = 0;
	CU_ASSERT_EQUAL(limit_req_conf_check(&c), -EINVAL);
	c.rate = -5;
	CU_ASSERT_EQUAL(limit_req_conf_check(&c), -EINVAL);
	c.rate = NAN;
	CU_ASSERT_EQUAL(limit_req_conf_check(&c), -EINVAL);
	c.rate = INFINITY;
	CU_ASSERT_EQUAL(limit_req_conf_check(&c), -EINVAL);
	c.rate = 2e9;
	CU_ASSERT_EQUAL(limit_req_conf_check(&c), -EINVAL);
	c.rate = 10;
	c.burst = LIMIT_REQ_BURST_MAX + 1;
	CU_ASSERT_EQUAL(limit_req_conf_check(&c), -ERANGE);
	c.burst = UINT32_MAX;
	errno = 0;
	CU_ASSERT_PTR_NULL(limit_req_new(&c));
	CU_ASSERT_EQUAL(errno, ERANGE);
	c.burst = LIMIT_REQ_BURST_MAX; /* the largest burst at the lowest rate still fits */
	c.rate = LIMIT_REQ_RATE_MIN;
	CU_ASSERT_EQUAL(limit_req_conf_check(&c), 0);
	c.width = 1000;
	CU_ASSERT_EQUAL(limit_req_conf_check(&c), -EINVAL);
	c.width = 0;
	c.rows = LIMIT_ROWS_MAX + 1;
	CU_ASSERT_EQUAL(limit_req_conf_check(&c), -EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(limit_req_new(NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	l = req_new(1, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(limit_req_decide(NULL, "k", 1, 0, &d), -EINVAL);
	CU_ASSERT_EQUAL(limit_req_decide(l, NULL, 1, 0, &d), -EINVAL);
	CU_ASSERT_EQUAL(limit_req_decide(l, "k", 1, 0, NULL), -EINVAL);
	limit_req_free(l);
	limit_req_free(NULL);
}

/* Address keys: one key per prefix, family and length part of it. */
static void test_key_addr(void)
{
	unsigned char a[LIMIT_KEY_ADDR_MAX], b[LIMIT_KEY_ADDR_MAX];
	struct in_addr v4a, v4b;
	struct in6_addr v6a, v6b;
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr sun = {.sa_family = AF_UNIX};
	int na, nb;

	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, "192.0.2.7", &v4a), 1);
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, "192.0.2.9", &v4b), 1);
	na = limit_key_addr(a, sizeof(a), AF_INET, &v4a, 24);
	nb = limit_key_addr(b, sizeof(b), AF_INET, &v4b, 24);
	CU_ASSERT_EQUAL(na, 5);
	CU_ASSERT(na == nb && !memcmp(a, b, (size_t)na));
	CU_ASSERT_EQUAL(limit_key_addr(a, sizeof(a), AF_INET, &v4a, 32), 6);
	CU_ASSERT_EQUAL(limit_key_addr(b, sizeof(b), AF_INET, &v4b, 32), 6);
	CU_ASSERT(memcmp(a, b, 6) != 0);
	/* /20 cuts inside the third byte: 192.0.2.x -> 192.0.0 */
	CU_ASSERT_EQUAL(limit_key_addr(a, sizeof(a), AF_INET, &v4a, 20), 5);
	CU_ASSERT(a[2] == 192 && a[3] == 0 && a[4] == 0);
	/* the same bits under two prefix lengths are two keys */
	CU_ASSERT_EQUAL(inet_pton(AF_INET, "10.0.0.0", &v4a), 1);
	na = limit_key_addr(a, sizeof(a), AF_INET, &v4a, 8);
	nb = limit_key_addr(b, sizeof(b), AF_INET, &v4a, 16);
	CU_ASSERT(na != nb || memcmp(a, b, (size_t)na));
	CU_ASSERT_EQUAL(limit_key_addr(a, sizeof(a), AF_INET, &v4a, 0), 2);

	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, "2001:db8:1:2:aaaa::1", &v6a), 1);
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, "2001:db8:1:2:bbbb::2", &v6b), 1);
	na = limit_key_addr(a, sizeof(a), AF_INET6, &v6a, 64);
	nb = limit_key_addr(b, sizeof(b), AF_INET6, &v6b, 64);
	CU_ASSERT_EQUAL(na, 10);
	CU_ASSERT(na == nb && !memcmp(a, b, (size_t)na));
	CU_ASSERT_EQUAL(limit_key_addr(a, sizeof(a), AF_INET6, &v6a, 128), LIMIT_KEY_ADDR_MAX);
	/* an IPv4 client on a dual-stack socket keys as IPv4 */
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr), 1);
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, "192.0.2.200", &sin.sin_addr), 1);
	na = limit_key_sockaddr(a, sizeof(a), (struct sockaddr *)&sin6, 24, 64);
	nb = limit_key_sockaddr(b, sizeof(b), (struct sockaddr *)&sin, 24, 64);
	CU_ASSERT_EQUAL(na, 5);
	CU_ASSERT(na == nb && !memcmp(a, b, (size_t)na));
	sin6.sin6_addr = v6a;
	CU_ASSERT_EQUAL(limit_key_sockaddr(a, sizeof(a), (struct sockaddr *)&sin6, 24, 56), 9);

	CU_ASSERT_EQUAL(limit_key_addr(a, sizeof(a), AF_INET, &v4a, 33), -EINVAL);
	CU_ASSERT_EQUAL(limit_key_addr(a, sizeof(a), AF_INET6, &v6a, 129), -EINVAL);
	CU_ASSERT_EQUAL(limit_key_addr(a, sizeof(a), AF_UNIX, &v4a, 8), -EAFNOSUPPORT);
	CU_ASSERT_EQUAL(limit_key_addr(NULL, sizeof(a), AF_INET, &v4a, 8), -EINVAL);
	CU_ASSERT_EQUAL(limit_key_addr(a, sizeof(a), AF_INET, NULL, 8), -EINVAL);
	CU_ASSERT_EQUAL(limit_key_addr(a, 4, AF_INET, &v4a, 24), -ENOSPC);
	CU_ASSERT_EQUAL(limit_key_sockaddr(a, sizeof(a), NULL, 24, 64), -EINVAL);
	CU_ASSERT_EQUAL(limit_key_sockaddr(a, sizeof(a), &sun, 24, 64), -EAFNOSUPPORT);
}

/* The key hash: stable for a seed, sensitive to every byte, the length and the seed. */
static void test_hash(void)
{
	CU_ASSERT_EQUAL(limit_hash("abc", 3, 1), limit_hash("abc", 3, 1));
	CU_ASSERT_NOT_EQUAL(limit_hash("abc", 3, 1), limit_hash("abd", 3, 1));
	CU_ASSERT_NOT_EQUAL(limit_hash("abc", 3, 1), limit_hash("abc", 3, 2));
	CU_ASSERT_NOT_EQUAL(limit_hash("a", 1, 1), limit_hash("a\0", 2, 1));
	CU_ASSERT_NOT_EQUAL(limit_hash("0123456789", 10, 1), limit_hash("0123456788", 10, 1));
	CU_ASSERT_EQUAL(limit_geometry_check(4, 1024), 0);
	CU_ASSERT_EQUAL(limit_geometry_check(0, 1024), -EINVAL);
	CU_ASSERT_EQUAL(limit_geometry_check(4, LIMIT_WIDTH_MAX * 2), -EINVAL);
}

int test_limit_register(void)
{
	static const CU_TestInfo tests[] = {
		{"hash", test_hash},
		{"rate accuracy", test_rate_accuracy},
		{"rate windows", test_rate_windows},
		{"rate clock jumps", test_rate_clock_jumps},
		{"rate threads", test_rate_threads},
		{"rate bad input", test_rate_bad_input},
		{"inflight", test_inflight},
		{"inflight threads", test_inflight_threads},
		{"inflight cap threads", test_inflight_cap_threads},
		{"req reject", test_req_reject},
		{"req delay", test_req_delay},
		{"req clock jumps", test_req_clock_jumps},
		{"req many keys", test_req_many_keys},
		{"req threads", test_req_threads},
		{"req bad input", test_req_bad_input},
		{"key addr", test_key_addr},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("limit", tests);
}
