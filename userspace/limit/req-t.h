/* SPDX-License-Identifier: GPL-2.0 */
/* Types of the request-rate limiter: its configuration and its decisions. */
#ifndef USERSPACE_LIMIT_REQ_T_H
#define USERSPACE_LIMIT_REQ_T_H

#include <stdint.h>

/* Bounds of a configuration (limit_req_conf_check()). */
#define LIMIT_REQ_RATE_MIN  0.001 /* requests per second: one in about 17 minutes */
#define LIMIT_REQ_RATE_MAX  1e9
#define LIMIT_REQ_BURST_MAX 1000000
/* Table geometry used when the configuration leaves it 0: 4 x 4096 cells, 128 KiB. */
#define LIMIT_REQ_ROWS_DEFAULT	4
#define LIMIT_REQ_WIDTH_DEFAULT 4096
/* delay_after value meaning "never delay": nginx's nodelay. */
#define LIMIT_REQ_NODELAY UINT32_MAX
/* Latest accepted <now_us>: keeps every internal nanosecond sum below 2^63. */
#define LIMIT_REQ_NOW_MAX_US ((1ULL << 62) / 1000)

/* A request-rate limit: <rate> per second on average per key, <burst> more at once. */
struct limit_req_conf {
	double rate;	      /* requests per second per key, LIMIT_REQ_RATE_MIN..MAX */
	uint32_t burst;	      /* requests beyond the rate a key may send at once, 0..BURST_MAX */
	uint32_t delay_after; /* requests of a burst passed at once; the rest are delayed to the
			       * rate. 0 delays every early request (nginx's default),
			       * LIMIT_REQ_NODELAY (or >= burst) none (nginx's nodelay) */
	unsigned int rows;    /* table rows, 0 for LIMIT_REQ_ROWS_DEFAULT */
	uint32_t width;	      /* cells per row (a power of two), 0 for LIMIT_REQ_WIDTH_DEFAULT */
	uint64_t seed;	      /* key hash seed; random where clients choose keys */
};

enum limit_verdict {
	LIMIT_PASS = 0,	  /* go on now */
	LIMIT_DELAY,	  /* go on after wait_ms */
	LIMIT_REJECT,	  /* refuse (429); a retry after wait_ms would pass */
	LIMIT_VERDICT_MAX /* must stay last */
};

/* The answer for one request. */
struct limit_decision {
	enum limit_verdict verdict; /* what to do with the request */
	uint64_t wait_ms; /* DELAY: how long to hold the request; REJECT: the Retry-After, both
			   * rounded up to a whole millisecond; 0 for PASS */
};

#endif /* USERSPACE_LIMIT_REQ_T_H */
