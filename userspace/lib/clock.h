/* SPDX-License-Identifier: GPL-2.0 */
/* pingd's clocks, read in one place: the monotonic clock (fine and coarse), the wall clock,
 * and milliseconds as a struct timeval for libevent. */
#ifndef USERSPACE_LIB_CLOCK_H
#define USERSPACE_LIB_CLOCK_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

/* Read clock <id>; clock_gettime() cannot fail for the clocks used here. */
static inline struct timespec clock_read(clockid_t id)
{
	struct timespec ts;

	(void)clock_gettime(id, &ts);
	return ts;
}

/* Microseconds of CLOCK_MONOTONIC (durations such as a request's). */
static inline uint64_t clock_mono_us(void)
{
	struct timespec ts = clock_read(CLOCK_MONOTONIC);

	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Milliseconds of CLOCK_MONOTONIC. */
static inline uint64_t clock_mono_ms(void)
{
	struct timespec ts = clock_read(CLOCK_MONOTONIC);

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds of CLOCK_MONOTONIC_COARSE: the same clock at tick resolution (a few ms), cheap
 * enough for the request path (selection, passive health, retry budgets). */
static inline uint64_t clock_coarse_ms(void)
{
	struct timespec ts = clock_read(CLOCK_MONOTONIC_COARSE);

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
static inline int64_t clock_wall_ms(void)
{
	struct timespec ts = clock_read(CLOCK_REALTIME);

	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* <ms> milliseconds as a struct timeval (libevent's timeouts). */
static inline struct timeval clock_ms_tv(uint64_t ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	return tv;
}

#endif /* USERSPACE_LIB_CLOCK_H */
