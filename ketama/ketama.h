/* SPDX-License-Identifier: GPL-2.0 */
/* Ketama consistent-hash rings: nginx "hash ... consistent" compatible by default (CRC32,
 * 160 points per unit of weight), libketama (MD5) compatible as an option. Pure C. */
#ifndef KETAMA_KETAMA_H
#define KETAMA_KETAMA_H

#include <stddef.h>
#include <stdint.h>

/* Largest ring accepted, in points before duplicates are removed (160 x total weight in nginx
 * mode, 160 x servers in libketama mode): 16 Mi points, 128 MiB. */
#define KETAMA_MAX_POINTS (1u << 24)

enum ketama_compat {
	KETAMA_NGINX = 0, /* nginx upstream hash consistent: crc32 points and keys */
	KETAMA_LIBKETAMA, /* libketama: md5, 40 x 4 points scaled by share of total weight */
	KETAMA_COMPAT_MAX /* must stay last */
};

/* One server as the caller describes it. The caller owns the memory. */
struct ketama_server {
	const char *name; /* the address as written, e.g. "10.0.0.1:8080"; hashed verbatim */
	uint32_t weight;  /* > 0 */
};

/* One point of a ring, sorted by hash; exported so the control plane can copy a ring into a
 * BPF map. */
struct ketama_point {
	uint32_t hash;	 /* position on the ring */
	uint32_t server; /* index into the server array the ring was built from */
};

/* A built ring (opaque). Immutable after ketama_new(), so readers need no locking. */
struct ketama;

/* Build a ring of <n> servers in mode <compat>. Points are sorted by hash; of several points with
 * the same hash only the one of the server listed first is kept (what nginx and libketama do
 * with glibc's stable qsort), so the ring depends on the order of <servers>, as theirs do.
 * <servers> is only read during the call. Returns NULL with errno EINVAL (servers NULL, n == 0,
 * a NULL or empty name, a weight of 0, an unknown mode), E2BIG (more than KETAMA_MAX_POINTS
 * points), EIO (MD5 unavailable from OpenSSL) or ENOMEM. */
struct ketama *ketama_new(enum ketama_compat compat, const struct ketama_server *servers, size_t n);

/* Release <r>; NULL is accepted. */
void ketama_free(struct ketama *r);

/* Hash <len> bytes of <key> the way the ring's mode hashes keys. */
uint32_t ketama_hash(const struct ketama *r, const void *key, size_t len);

/* The server index for a key hash: the first point >= <hash>, wrapping around. O(log points). */
uint32_t ketama_pick(const struct ketama *r, uint32_t hash);

/* Failover: the <nth> distinct server met walking clockwise from <hash>'s point (nth == 0 is
 * ketama_pick()). Returns the server index, or -ENOENT when the ring holds fewer than nth + 1
 * distinct servers. */
int ketama_next(const struct ketama *r, uint32_t hash, unsigned int nth);

/* The ring's points, sorted by hash, and their count in *<n>. Valid while <r> lives. */
const struct ketama_point *ketama_points(const struct ketama *r, size_t *n);

#endif /* KETAMA_KETAMA_H */
