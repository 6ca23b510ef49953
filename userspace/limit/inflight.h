/* SPDX-License-Identifier: GPL-2.0 */
/* Concurrent (in-flight) events per key in fixed memory: a count-min sketch of counts that go
 * up on acquire and down on release, so the estimate never falls below a key's true count. */
#ifndef USERSPACE_LIMIT_INFLIGHT_H
#define USERSPACE_LIMIT_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "userspace/limit/inflight-t.h"

/* An empty limiter of <rows> x <width> cells (0 for the defaults; see limit_geometry_check()),
 * keys hashed with <seed>. Returns NULL with errno EINVAL or ENOMEM. Guards still held when it
 * is freed must not be released afterwards. */
struct limit_inflight *limit_inflight_new(unsigned int rows, uint32_t width, uint64_t seed);

/* Free <l>; NULL is allowed. */
void limit_inflight_free(struct limit_inflight *l);

/* Count one more event in flight for the <len> bytes at <key> and fill <g>, which must later go
 * to limit_inflight_release(). Returns the key's estimated in-flight count including this one
 * (>= 1), or -EINVAL for a NULL <l> or <g>, or a NULL <key> with <len> > 0. */
int64_t limit_inflight_acquire(
	struct limit_inflight *l, const void *key, size_t len, struct limit_inflight_guard *g);

/* As limit_inflight_acquire(), but only while the estimate stays at most <max>: returns the new
 * count, or -EBUSY with <g> left released when the key already has <max> (or, through sketch
 * collisions, seems to). Racing callers never hold more than <max> at once between them; at
 * the edge they may all back off. */
int64_t limit_inflight_try_acquire(struct limit_inflight *l, const void *key, size_t len,
	int64_t max, struct limit_inflight_guard *g);

/* Release what <g> holds; a released or zeroed guard, or a NULL one, is left alone, so calling
 * it twice is harmless. */
void limit_inflight_release(struct limit_inflight_guard *g);

/* The estimated in-flight count of <key> (>= its true count), or -EINVAL as for acquire. */
int64_t limit_inflight_get(const struct limit_inflight *l, const void *key, size_t len);

#endif /* USERSPACE_LIMIT_INFLIGHT_H */
