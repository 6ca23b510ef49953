/* SPDX-License-Identifier: GPL-2.0 */
/* Types of the inflight limiter: the guard a caller keeps while its request is in flight. */
#ifndef USERSPACE_LIMIT_INFLIGHT_T_H
#define USERSPACE_LIMIT_INFLIGHT_T_H

#include <stdint.h>

/* Table geometry used when limit_inflight_new() gets 0 for it: 4 x 1024 cells, 32 KiB. */
#define LIMIT_INFLIGHT_ROWS_DEFAULT  4
#define LIMIT_INFLIGHT_WIDTH_DEFAULT 1024

struct limit_inflight;

/* One acquired slot; owned by the caller (on its stack or in its stream), released once. */
struct limit_inflight_guard {
	struct limit_inflight *owner; /* NULL when released or never acquired */
	uint64_t hash;		      /* the key's hash: release needs no key */
};

#endif /* USERSPACE_LIMIT_INFLIGHT_T_H */
