/* SPDX-License-Identifier: GPL-2.0 */
/* Hashing a string selection key onto a Maglev table: the one definition shared by pingctl
 * ("where does this key go?") and the L7 proxy, so both send a key to the same slot. */
#ifndef MAGLEV_MAGLEV_KEY_H
#define MAGLEV_MAGLEV_KEY_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit hash of the <len> bytes at <key> (any bytes; len 0 allowed): FNV-1a 64 from its
 * offset basis, then the length xored in, then MurmurHash3's fmix64 finaliser so that the low
 * bits used by "% M" depend on every input bit. Defined bytewise: the same on every machine. */
uint64_t maglev_key_hash(const void *key, size_t len);

/* The slot of <key> in a table of <m> (> 0) slots: maglev_key_hash(key, len) % m. */
uint32_t maglev_key_slot(const void *key, size_t len, uint32_t m);

#endif /* MAGLEV_MAGLEV_KEY_H */
