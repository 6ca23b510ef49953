/* SPDX-License-Identifier: GPL-2.0 */
/* Request-rate limiting per key in fixed memory: a token bucket per key (the generic cell rate
 * algorithm), its state kept in a count-min table, answering pass, delay by N ms, or reject
 * with a retry after N ms. The clock is the caller's (<now_us>, monotonic microseconds). */
#ifndef USERSPACE_LIMIT_REQ_H
#define USERSPACE_LIMIT_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "userspace/limit/req-t.h"

struct limit_req;

/* 0 when <conf> is usable, -EINVAL for a NULL <conf>, a rate that is not a number or is <= 0
 * or out of bounds, or a bad geometry, -ERANGE for a burst above LIMIT_REQ_BURST_MAX or one
 * whose length in time does not fit. For the configuration checks, before anything is built. */
int limit_req_conf_check(const struct limit_req_conf *conf);

/* A limiter for <conf> (copied), every key's bucket full. Returns NULL with errno set as
 * limit_req_conf_check() would return, or ENOMEM. */
struct limit_req *limit_req_new(const struct limit_req_conf *conf);

/* Free <l>; NULL is allowed. */
void limit_req_free(struct limit_req *l);

/* Decide on one request of the <len> bytes at <key> arriving at <now_us> and fill <d>. A passed
 * or delayed request takes its share of the bucket; a rejected one takes nothing, so a key
 * that keeps trying is never locked out longer than it takes the bucket to refill. Returns 0,
 * -EINVAL (NULL <l>, <d>, or <key> with <len> > 0) or -ERANGE (<now_us> past
 * LIMIT_REQ_NOW_MAX_US). Safe from any number of threads at once. */
int limit_req_decide(struct limit_req *l, const void *key, size_t len, uint64_t now_us,
	struct limit_decision *d);

/* Whole seconds for an HTTP Retry-After header from <wait_ms>: rounded up, at least 1. */
static inline uint64_t limit_retry_after_sec(uint64_t wait_ms)
{
	return wait_ms ? (wait_ms + 999) / 1000 : 1;
}

/* Keys of <l> whose bucket is not full at <now_us> (they sent a request within the last
 * (burst + 1) / rate seconds): a linear-counting estimate over one row, for metrics. 0 for a
 * NULL <l>. Reads the whole row: for a scrape, not for every request. */
uint64_t limit_req_active(const struct limit_req *l, uint64_t now_us);

/* Bytes of state held by <l>. */
size_t limit_req_bytes(const struct limit_req *l);

#endif /* USERSPACE_LIMIT_REQ_H */
