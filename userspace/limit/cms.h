/* SPDX-License-Identifier: GPL-2.0 */
/* A count-min sketch of signed 64-bit counters, lock-free: <rows> rows of <width> atomic cells,
 * each key adding to one cell per row, its estimate the smallest of those cells. Memory is
 * fixed (rows x width x 8 bytes) however many keys pass through it. */
#ifndef USERSPACE_LIMIT_CMS_H
#define USERSPACE_LIMIT_CMS_H

#include <stddef.h>
#include <stdint.h>

struct limit_cms;

/* A zeroed sketch of <rows> x <width> cells (see limit_geometry_check()). Returns NULL with
 * errno EINVAL for a bad geometry or ENOMEM. */
struct limit_cms *limit_cms_new(unsigned int rows, uint32_t width);

/* Free <c>; NULL is allowed. */
void limit_cms_free(struct limit_cms *c);

/* Add <n> (negative to take away) to the cells of the key whose limit_hash() is <h>; returns the
 * key's new estimate: the smallest of its cells just after each one's addition. Relaxed atomics:
 * concurrent adders never lose an addition, but an estimate may or may not include theirs. */
int64_t limit_cms_add(struct limit_cms *c, uint64_t h, int64_t n);

/* The estimate for the key whose hash is <h>: the smallest of its cells. While every key's
 * total is >= 0 it is never below the key's own total. */
int64_t limit_cms_get(const struct limit_cms *c, uint64_t h);

/* Set every cell of <c> to 0, one relaxed store each: a concurrent reader may see a mix of old
 * and zeroed rows (an estimate between 0 and the old one), a concurrent adder's addition may be
 * wiped. */
void limit_cms_clear(struct limit_cms *c);

/* Bytes of cells in <c> (the fixed memory it holds). */
size_t limit_cms_bytes(const struct limit_cms *c);

#endif /* USERSPACE_LIMIT_CMS_H */
