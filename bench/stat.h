/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers the benchmarks share: thread CPU time and the median of a sample. */
#ifndef BENCH_STAT_H
#define BENCH_STAT_H

#include <stdlib.h>
#include <time.h>

/* CPU time of the calling thread in ns: on a shared, loaded machine wall time mostly
 * measures the scheduler, while stalls on cache lines another thread holds still count. */
static inline double bench_thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the <n> values of <v> (sorted in place). */
static inline double bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* BENCH_STAT_H */
