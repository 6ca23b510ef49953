/* SPDX-License-Identifier: GPL-2.0 */
/* Per-key event rates in fixed memory: two count-min sketches, one for the current interval and
 * one for the previous, rotated lock-free as time passes. The clock is the caller's: every call
 * takes <now_us>, microseconds of a monotonic clock. */
#ifndef USERSPACE_LIMIT_RATE_H
#define USERSPACE_LIMIT_RATE_H

#include <stddef.h>
#include <stdint.h>

/* Interval bounds, microseconds. */
#define LIMIT_RATE_INTERVAL_MIN_US 1000ULL
#define LIMIT_RATE_INTERVAL_MAX_US 3600000000ULL
/* Table geometry used when limit_rate_new() gets 0 for it: 4 x 1024 cells, 32 KiB a window. */
#define LIMIT_RATE_ROWS_DEFAULT	 4
#define LIMIT_RATE_WIDTH_DEFAULT 1024
/* The most one observation may add: keeps a window's counters far from overflow. */
#define LIMIT_RATE_N_MAX (1LL << 32)

struct limit_rate;

/* A rate estimator over windows of <interval_us> (LIMIT_RATE_INTERVAL_MIN_US..MAX_US) using
 * <rows> x <width> cells per window (0 for the defaults; see limit_geometry_check()), keys hashed
 * with <seed> (pass a random one where clients choose the keys, so they cannot aim collisions).
 * Returns NULL with errno EINVAL or ENOMEM. */
struct limit_rate *limit_rate_new(
	uint64_t interval_us, unsigned int rows, uint32_t width, uint64_t seed);

/* Free <r>; NULL is allowed. */
void limit_rate_free(struct limit_rate *r);

/* Count <n> (0..LIMIT_RATE_N_MAX) events of the <len> bytes at <key> at time <now_us>, first
 * moving to <now_us>'s interval when it has begun. Returns the key's estimated count in the
 * current interval including these events (in the interval being left, for the microseconds
 * another thread takes to move the windows), or -EINVAL (NULL <r>, NULL <key> with <len> > 0,
 * <n> out of range). Safe from any number of threads at once. */
int64_t limit_rate_observe(
	struct limit_rate *r, const void *key, size_t len, int64_t n, uint64_t now_us);

/* Events per second of <key> at <now_us>: with T the interval, f the part of the current
 * interval elapsed at <now_us> (0 <= f < 1), prev and cur the key's counts in the previous and
 * current intervals, rate = (prev * (1 - f) + cur) / T: a sliding window of length T whose
 * older part is assumed evenly spread. 0 when the last counts are two or more intervals old.
 * Never moves the windows. Returns -EINVAL for a NULL <r> or <key> with <len> > 0. */
double limit_rate_rate(const struct limit_rate *r, const void *key, size_t len, uint64_t now_us);

/* Bytes of counters held by <r> (both windows). */
size_t limit_rate_bytes(const struct limit_rate *r);

#endif /* USERSPACE_LIMIT_RATE_H */
