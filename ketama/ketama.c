// SPDX-License-Identifier: GPL-2.0
/* Ketama consistent-hash rings. The default mode reproduces nginx's "hash $key consistent"
 * ring point for point; the libketama mode reproduces the original libketama continuum. */
#include "ketama/ketama.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <zlib.h>

struct ketama {
	enum ketama_compat compat;
	uint32_t nservers;	     /* servers the ring was built from */
	uint32_t ndistinct;	     /* servers owning at least one point */
	size_t npoints;		     /* entries in points[] (after duplicates are removed) */
	EVP_MD *md5;		     /* libketama mode: fetched once, used by ketama_hash() */
	struct ketama_point *points; /* sorted by hash, one entry per distinct hash */
	/* For failover walks: how many points back (clockwise-before, wrapping) the previous
	 * point of the same server sits; npoints when the server has only this point. */
	uint32_t *prev_same;
	/* Lookup index: bucket b (the top <index_bits> bits of a hash) starts at point index[b];
	 * index[1 << index_bits] = npoints. About one bucket per point, so a pick reads one
	 * bucket and binary-searches the few points in it instead of the whole ring. */
	uint32_t *index;
	unsigned int index_bits; /* 1..KETAMA_INDEX_MAX_BITS */
};

#define KETAMA_INDEX_MAX_BITS 24

/* Points per unit of weight in nginx mode; per server (40 digests x 4) in libketama mode. */
#define NGX_POINTS_PER_WEIGHT 160u
#define LIBKETAMA_HASHES      40u
#define LIBKETAMA_PER_HASH    4u

static uint32_t crc32_bytes(uint32_t crc, const void *buf, size_t len)
{
	/* zlib takes a uInt length; split so that any size_t is handled. */
	const unsigned char *p = buf;

	while (len > UINT_MAX) {
		crc = crc32(crc, p, UINT_MAX);
		p += UINT_MAX;
		len -= UINT_MAX;
	}
	return crc32(crc, p, len);
}

/* The 4 bytes of <v> in little-endian order, whatever the host's order: nginx feeds the previous
 * point's hash back as the bytes of a little-endian uint32 on every platform. */
static void put_le32(unsigned char out[4], uint32_t v)
{
	out[0] = v & 0xff;
	out[1] = (v >> 8) & 0xff;
	out[2] = (v >> 16) & 0xff;
	out[3] = (v >> 24) & 0xff;
}

static uint32_t get_le32(const unsigned char in[4])
{
	return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
	       (uint32_t)in[3] << 24;
}

/* Split <name> the way nginx does before hashing: "unix:PATH" is host PATH with no port;
 * otherwise the digits after the last ':' are the port (none when the name does not end in
 * ":DIGITS"), and the rest is the host, brackets of an IPv6 address included. */
static void ngx_split(
	const char *name, const char **host, size_t *host_len, const char **port, size_t *port_len)
{
	size_t len = strlen(name), j;

	*host = name;
	*host_len = len;
	*port = NULL;
	*port_len = 0;
	if (len >= 5 && !strncasecmp(name, "unix:", 5)) {
		*host = name + 5;
		*host_len = len - 5;
		return;
	}
	for (j = 0; j < len; j++) {
		char c = name[len - j - 1];

		if (c == ':') {
			*host_len = len - j - 1;
			*port = name + len - j;
			*port_len = j;
			return;
		}
		if (c < '0' || c > '9')
			return;
	}
}

/* Append the nginx points of server <idx> to <pts> at *<np>: base = crc32(host "\0" port), then
 * 160 x weight points, each crc32(base + the previous point as 4 little-endian bytes). */
static void ngx_server_points(
	const struct ketama_server *s, uint32_t idx, struct ketama_point *pts, size_t *np)
{
	size_t host_len, port_len, j, n = (size_t)s->weight * NGX_POINTS_PER_WEIGHT;
	const char *host, *port;
	unsigned char prev[4] = {0, 0, 0, 0};
	uint32_t base, h;

	ngx_split(s->name, &host, &host_len, &port, &port_len);
	base = crc32_bytes(0, host, host_len);
	base = crc32_bytes(base, "", 1);
	if (port_len)
		base = crc32_bytes(base, port, port_len);
	for (j = 0; j < n; j++) {
		h = crc32_bytes(base, prev, 4);
		pts[*np].hash = h;
		pts[*np].server = idx;
		(*np)++;
		put_le32(prev, h);
	}
}

/* libketama's share of the 40 x N digests for a server: floorf(pct * 40.0 * (float)N) where
 * pct is a float and the product is computed in double, exactly as libketama writes it. */
static uint32_t libketama_hashes(uint64_t weight, uint64_t total, size_t n)
{
	float pct = (float)weight / (float)total;

	return (uint32_t)floorf((float)(pct * 40.0 * (float)n));
}

static int md5_digest(EVP_MD *md, const void *buf, size_t len, unsigned char out[16])
{
	unsigned int olen = 0;

	if (!EVP_Digest(buf, len, out, &olen, md, NULL) || olen != 16)
		return -EIO;
	return 0;
}

/* Append the libketama points of server <idx>: for k in 0..<nh>-1, md5("NAME-k") gives four
 * points, each 4 digest bytes read little-endian. */
static int libketama_server_points(EVP_MD *md, const struct ketama_server *s, uint32_t idx,
	uint32_t nh, struct ketama_point *pts, size_t *np)
{
	size_t len = strlen(s->name);
	unsigned char digest[16];
	char *buf = malloc(len + 16);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (uint32_t k = 0; k < nh && !err; k++) {
		int n = snprintf(buf, len + 16, "%s-%u", s->name, k);

		err = md5_digest(md, buf, (size_t)n, digest);
		for (unsigned int h = 0; h < LIBKETAMA_PER_HASH && !err; h++) {
			pts[*np].hash = get_le32(digest + 4 * h);
			pts[*np].server = idx;
			(*np)++;
		}
	}
	free(buf);
	return err;
}

/* Stable LSD radix sort of <n> points by hash (four 8-bit passes), using <tmp> (n entries).
 * Stability is the tie-break: among equal hashes the earlier-generated point, i.e. the server
 * listed first, stays first, as nginx and libketama get from glibc's merge-sorting qsort(). */
static void sort_points(struct ketama_point *pts, struct ketama_point *tmp, size_t n)
{
	struct ketama_point *src = pts, *dst = tmp, *t;
	size_t count[256];

	for (unsigned int shift = 0; shift < 32; shift += 8) {
		size_t sum = 0;

		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(src[i].hash >> shift) & 0xff]++;
		for (unsigned int b = 0; b < 256; b++) {
			size_t c = count[b];

			count[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i].hash >> shift) & 0xff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	/* Four passes: the sorted data is back in <pts>. */
}

/* Keep the first point of each run of equal hashes. Returns the new count. */
static size_t dedup_points(struct ketama_point *pts, size_t n)
{
	size_t i = 0;

	if (!n)
		return 0;
	for (size_t j = 1; j < n; j++)
		if (pts[j].hash != pts[i].hash)
			pts[++i] = pts[j];
	return i + 1;
}

/* Fill r->prev_same and r->ndistinct. <last> is scratch for nservers entries. */
static void index_servers(struct ketama *r, uint32_t *last)
{
	const uint32_t none = UINT32_MAX;
	size_t n = r->npoints;

	for (uint32_t s = 0; s < r->nservers; s++)
		last[s] = none;
	/* First pass: each server's last point, so the first point can look back across the
	 * wrap-around. */
	for (size_t i = 0; i < n; i++)
		last[r->points[i].server] = (uint32_t)i;
	r->ndistinct = 0;
	for (uint32_t s = 0; s < r->nservers; s++)
		r->ndistinct += last[s] != none;
	for (size_t i = 0; i < n; i++) {
		uint32_t s = r->points[i].server;
		size_t back = (i + n - last[s]) % n;

		r->prev_same[i] = back ? (uint32_t)back : (uint32_t)n;
		last[s] = (uint32_t)i;
	}
}

/* Fill r->index. Returns 0 or -ENOMEM. */
static int build_index(struct ketama *r)
{
	unsigned int bits = 1;
	size_t nb, i = 0;

	while (bits < KETAMA_INDEX_MAX_BITS && ((size_t)1 << bits) < r->npoints)
		bits++;
	nb = (size_t)1 << bits;
	r->index = malloc((nb + 1) * sizeof(*r->index));
	if (!r->index)
		return -ENOMEM;
	r->index_bits = bits;
	for (size_t b = 0; b < nb; b++) {
		while (i < r->npoints && (r->points[i].hash >> (32 - bits)) < b)
			i++;
		r->index[b] = (uint32_t)i;
	}
	r->index[nb] = (uint32_t)r->npoints;
	return 0;
}

struct ketama *ketama_new(enum ketama_compat compat, const struct ketama_server *servers, size_t n)
{
	struct ketama_point *tmp = NULL;
	uint64_t total_weight = 0, cap = 0;
	uint32_t *nh = NULL;
	struct ketama *r;
	int err = 0;

	if (!servers || n == 0 || n > INT32_MAX || (unsigned int)compat >= KETAMA_COMPAT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!servers[i].name || !servers[i].name[0] || servers[i].weight == 0) {
			errno = EINVAL;
			return NULL;
		}
		total_weight += servers[i].weight;
	}
	if (compat == KETAMA_NGINX) {
		/* Compared before multiplying, so that no sum of weights can overflow. */
		if (total_weight > KETAMA_MAX_POINTS / NGX_POINTS_PER_WEIGHT) {
			errno = E2BIG;
			return NULL;
		}
		cap = total_weight * NGX_POINTS_PER_WEIGHT;
	} else {
		if ((uint64_t)n > KETAMA_MAX_POINTS / (LIBKETAMA_HASHES * LIBKETAMA_PER_HASH)) {
			errno = E2BIG;
			return NULL;
		}
		/* Each server's digest count first: the float arithmetic could round a share
		 * up, so size the buffer from the counts rather than from 40 x N. */
		nh = malloc(n * sizeof(*nh));
		if (!nh)
			return NULL;
		for (size_t i = 0; i < n; i++) {
			nh[i] = libketama_hashes(servers[i].weight, total_weight, n);
			cap += (uint64_t)nh[i] * LIBKETAMA_PER_HASH;
		}
		/* tmp doubles as per-server scratch in index_servers(): at least n entries. */
		if (cap < n)
			cap = n;
	}

	r = calloc(1, sizeof(*r));
	if (!r) {
		free(nh);
		return NULL;
	}
	r->compat = compat;
	r->nservers = (uint32_t)n;
	r->points = malloc(cap * sizeof(*r->points));
	tmp = malloc(cap * sizeof(*tmp));
	if (!r->points || !tmp) {
		err = -ENOMEM;
		goto out;
	}

	if (compat == KETAMA_NGINX) {
		for (size_t i = 0; i < n; i++)
			ngx_server_points(&servers[i], (uint32_t)i, r->points, &r->npoints);
	} else {
		r->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
		if (!r->md5) {
			err = -EIO;
			goto out;
		}
		for (size_t i = 0; i < n && !err; i++)
			err = libketama_server_points(
				r->md5, &servers[i], (uint32_t)i, nh[i], r->points, &r->npoints);
		if (err)
			goto out;
	}

	sort_points(r->points, tmp, r->npoints);
	r->npoints = dedup_points(r->points, r->npoints);
	if (!r->npoints) {
		err = -EINVAL;
		goto out;
	}
	r->prev_same = malloc(r->npoints * sizeof(*r->prev_same));
	if (!r->prev_same) {
		err = -ENOMEM;
		goto out;
	}
	/* <tmp> holds at least n points of 8 bytes, so n uint32_t fit. */
	index_servers(r, (uint32_t *)tmp);
	err = build_index(r);
out:
	free(nh);
	free(tmp);
	if (err) {
		ketama_free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

void ketama_free(struct ketama *r)
{
	if (!r)
		return;
	EVP_MD_free(r->md5);
	free(r->index);
	free(r->prev_same);
	free(r->points);
	free(r);
}

uint32_t ketama_hash(const struct ketama *r, const void *key, size_t len)
{
	unsigned char digest[16];

	if (r->compat == KETAMA_NGINX)
		return crc32_bytes(0, key, len);
	/* MD5 through a fetched EVP_MD cannot fail short of memory exhaustion; a failure maps
	 * every key to hash 0 (the first point) rather than to garbage. */
	if (md5_digest(r->md5, key, len, digest))
		return 0;
	return get_le32(digest);
}

/* Index of the first point >= <hash>, wrapping to 0 past the last point. */
static size_t find_point(const struct ketama *r, uint32_t hash)
{
	const struct ketama_point *p = r->points;
	uint32_t b = hash >> (32 - r->index_bits);
	size_t lo = r->index[b], hi = r->index[b + 1];

	/* Every point before index[b] is below <hash>'s bucket and every point from
	 * index[b + 1] on is above it: the answer lies in [lo, hi], hi meaning "none in the
	 * bucket", i.e. the first point of a later bucket. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == r->npoints ? 0 : lo;
}

uint32_t ketama_pick(const struct ketama *r, uint32_t hash)
{
	return r->points[find_point(r, hash)].server;
}

int ketama_next(const struct ketama *r, uint32_t hash, unsigned int nth)
{
	size_t start, i;
	unsigned int found = 0;

	if (nth >= r->ndistinct)
		return -ENOENT;
	start = find_point(r, hash);
	/* A point starts a new server when the previous point of its server lies behind the
	 * walk's start, i.e. further back than the distance walked so far. */
	for (size_t d = 0; d < r->npoints; d++) {
		i = start + d;
		if (i >= r->npoints)
			i -= r->npoints;
		if (r->prev_same[i] > d) {
			if (found == nth)
				return (int)r->points[i].server;
			found++;
		}
	}
	return -ENOENT; /* not reached: ndistinct servers all appear within one turn */
}

const struct ketama_point *ketama_points(const struct ketama *r, size_t *n)
{
	*n = r->npoints;
	return r->points;
}
