// SPDX-License-Identifier: GPL-2.0
/* ketama rings against real nginx picks (tests/vectors/ketama-nginx-*.tsv), libketama's own
 * published test data, failover walks, disruption on membership change, and bad input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "ketama/ketama.h"
#include "tests/unit/unit.h"

#define MAX_VEC_SERVERS 128
#define MAX_VEC_KEYS	2000
#define MAX_PEERS	8

/* One vector file: the upstream's servers and, per key, the peers nginx tried in order. */
struct vec {
	size_t nservers, ndead, nkeys;
	char *names[MAX_VEC_SERVERS];
	uint32_t weights[MAX_VEC_SERVERS];
	char *dead[MAX_VEC_SERVERS];
	char *keys[MAX_VEC_KEYS];
	char *peers[MAX_VEC_KEYS][MAX_PEERS];
	size_t npeers[MAX_VEC_KEYS];
};

static void vec_free(struct vec *v)
{
	for (size_t i = 0; i < v->nservers; i++)
		free(v->names[i]);
	for (size_t i = 0; i < v->ndead; i++)
		free(v->dead[i]);
	for (size_t i = 0; i < v->nkeys; i++) {
		free(v->keys[i]);
		for (size_t j = 0; j < v->npeers[i]; j++)
			free(v->peers[i][j]);
	}
	free(v);
}

/* Load tests/vectors/ketama-nginx-<name>.tsv. Returns NULL (after a CUnit failure) when the
 * file is missing or malformed. */
static struct vec *vec_load(const char *name)
{
	char path[512], line[1024];
	struct vec *v = calloc(1, sizeof(*v));
	FILE *f;

	CU_ASSERT_FATAL(v != NULL);
	snprintf(path, sizeof(path), "%s/ketama-nginx-%s.tsv", unit_vectors_dir(), name);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL(f);
	if (!f) {
		fprintf(stderr, "\n%s: %s\n", path, strerror(errno));
		free(v);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save, *type, *a, *b;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		type = strtok_r(line, "\t", &save);
		a = strtok_r(NULL, "\t", &save);
		b = strtok_r(NULL, "\t", &save);
		if (!strcmp(type, "server") && a && b && v->nservers < MAX_VEC_SERVERS) {
			v->names[v->nservers] = strdup(a);
			v->weights[v->nservers++] = (uint32_t)strtoul(b, NULL, 10);
		} else if (!strcmp(type, "dead") && a && v->ndead < MAX_VEC_SERVERS) {
			v->dead[v->ndead++] = strdup(a);
		} else if (!strcmp(type, "key") && a && b && v->nkeys < MAX_VEC_KEYS) {
			size_t k = v->nkeys++;
			char *s2, *p;

			v->keys[k] = strdup(a);
			for (p = strtok_r(b, ",", &s2); p && v->npeers[k] < MAX_PEERS;
				p = strtok_r(NULL, ",", &s2))
				v->peers[k][v->npeers[k]++] = strdup(p);
		} else {
			CU_FAIL("malformed vector line");
		}
	}
	fclose(f);
	return v;
}

static struct ketama *vec_ring(const struct vec *v)
{
	struct ketama_server s[MAX_VEC_SERVERS];

	for (size_t i = 0; i < v->nservers; i++) {
		s[i].name = v->names[i];
		s[i].weight = v->weights[i];
	}
	return ketama_new(KETAMA_NGINX, s, v->nservers);
}

/* nginx's $upstream_addr prints a peer's resolved address, which for IPv6 carries brackets:
 * the same text as the server name in these vectors (addresses written canonically). */
static int vec_server_index(const struct vec *v, const char *peer)
{
	for (size_t i = 0; i < v->nservers; i++)
		if (!strcmp(v->names[i], peer))
			return (int)i;
	return -1;
}

static void check_nginx_vectors(const char *name, size_t want_servers, size_t min_keys)
{
	struct vec *v = vec_load(name);
	struct ketama *r;
	size_t bad = 0;

	if (!v)
		return;
	CU_ASSERT_EQUAL(v->nservers, want_servers);
	CU_ASSERT(v->nkeys >= min_keys);
	r = vec_ring(v);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (size_t k = 0; k < v->nkeys; k++) {
		uint32_t h = ketama_hash(r, v->keys[k], strlen(v->keys[k]));
		int want = vec_server_index(v, v->peers[k][0]);

		CU_ASSERT_EQUAL(v->npeers[k], 1);
		if (want < 0 || ketama_pick(r, h) != (uint32_t)want) {
			if (bad++ < 5)
				fprintf(stderr, "\n%s: key '%s': nginx %s, ring %s\n", name,
					v->keys[k], v->peers[k][0], v->names[ketama_pick(r, h)]);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	ketama_free(r);
	vec_free(v);
}

static void test_nginx_3(void)
{
	check_nginx_vectors("3", 3, 1000);
}

static void test_nginx_10(void)
{
	check_nginx_vectors("10", 10, 1000);
}

static void test_nginx_100(void)
{
	check_nginx_vectors("100", 100, 1000);
}

/* Two servers whose rings share one point (2708557623): nginx gives that point, and the 40
 * vector keys that land on it, to the server listed first, in either order. */
static void test_nginx_tie(void)
{
	static const char *const order[] = {"tie-ab", "tie-ba"};

	for (int o = 0; o < 2; o++) {
		struct vec *v = vec_load(order[o]);
		const struct ketama_point *p;
		struct ketama *r;
		size_t n, on_tie = 0, i;

		if (!v)
			return;
		r = vec_ring(v);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		p = ketama_points(r, &n);
		CU_ASSERT_EQUAL(n, 319);
		for (i = 0; i < n && p[i].hash != 2708557623u; i++)
			;
		CU_ASSERT_FATAL(i < n);
		CU_ASSERT_EQUAL(p[i].server, 0);
		for (size_t k = 0; k < v->nkeys; k++) {
			uint32_t h = ketama_hash(r, v->keys[k], strlen(v->keys[k]));

			on_tie += h <= p[i].hash && (i == 0 || h > p[i - 1].hash);
		}
		CU_ASSERT(on_tie >= 40);
		ketama_free(r);
		vec_free(v);
		check_nginx_vectors(order[o], 2, 300);
	}
}

/* nginx retries the next distinct server clockwise when a peer refuses: the chain of peers it
 * tried must be ketama_next(hash, 0), (hash, 1), ... ending at the first live server. */
static void test_nginx_failover(void)
{
	struct vec *v = vec_load("failover");
	size_t bad = 0, retried = 0;
	struct ketama *r;

	if (!v)
		return;
	CU_ASSERT(v->ndead > 0);
	CU_ASSERT(v->nkeys >= 1000);
	r = vec_ring(v);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (size_t k = 0; k < v->nkeys; k++) {
		uint32_t h = ketama_hash(r, v->keys[k], strlen(v->keys[k]));

		retried += v->npeers[k] > 1;
		for (size_t j = 0; j < v->npeers[k]; j++) {
			int want = vec_server_index(v, v->peers[k][j]);
			int got = ketama_next(r, h, (unsigned int)j);

			if (want < 0 || got != want) {
				if (bad++ < 5)
					fprintf(stderr,
						"\nfailover: key '%s' try %zu: nginx %s, ring %d\n",
						v->keys[k], j, v->peers[k][j], got);
			}
		}
		/* The chain stops at a live server: the one after it is never asked for. */
		for (size_t d = 0; d < v->ndead; d++)
			CU_ASSERT(strcmp(v->peers[k][v->npeers[k] - 1], v->dead[d]) != 0);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(retried > 100); /* 3 of 10 servers are dead: many keys need a retry */
	ketama_free(r);
	vec_free(v);
}

/* The first point of a server is crc32(HOST "\0" PORT + four zero bytes), with nginx's split of
 * the name: port = digits after the last ':', none otherwise; "unix:" is dropped. */
static void check_first_point(const char *name, const char *host, const char *port)
{
	struct ketama_server s = {name, 1};
	unsigned char buf[256];
	size_t len = 0, n, found = 0;
	const struct ketama_point *p;
	struct ketama *r;
	uint32_t want;

	memcpy(buf, host, strlen(host));
	len += strlen(host);
	buf[len++] = '\0';
	memcpy(buf + len, port, strlen(port));
	len += strlen(port);
	memset(buf + len, 0, 4);
	len += 4;
	want = (uint32_t)crc32(0, buf, (uInt)len);

	r = ketama_new(KETAMA_NGINX, &s, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	p = ketama_points(r, &n);
	CU_ASSERT(n > 150 && n <= 160);
	for (size_t i = 0; i < n; i++)
		found += p[i].hash == want;
	CU_ASSERT_EQUAL(found, 1);
	ketama_free(r);
}

static void test_nginx_name_split(void)
{
	check_first_point("10.0.0.1:8080", "10.0.0.1", "8080");
	check_first_point("[2001:db8::1]:443", "[2001:db8::1]", "443");
	check_first_point("10.0.0.1", "10.0.0.1", "");
	check_first_point("backend.example:http", "backend.example:http", "");
	check_first_point("unix:/run/app.sock", "/run/app.sock", "");
	check_first_point("UNIX:/run/app.sock", "/run/app.sock", "");
	check_first_point(":80", "", "80");
}

/* Points are strictly increasing (duplicates removed), and there are 160 x weight of them
 * before duplicates: with a 32-bit hash almost none collide. */
static void test_points_sorted(void)
{
	struct ketama_server s[50];
	char names[50][32];
	const struct ketama_point *p;
	uint32_t total = 0;
	struct ketama *r;
	size_t n;

	for (int i = 0; i < 50; i++) {
		snprintf(names[i], sizeof(names[i]), "192.0.2.%d:%d", i, 8000 + i);
		s[i].name = names[i];
		s[i].weight = 1 + i % 5;
		total += s[i].weight;
	}
	for (int c = 0; c < KETAMA_COMPAT_MAX; c++) {
		r = ketama_new(c, s, 50);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		p = ketama_points(r, &n);
		if (c == KETAMA_NGINX) {
			CU_ASSERT(n <= total * 160 && n >= total * 160 - 5);
		} else {
			CU_ASSERT(n <= 50 * 160 && n >= 50 * 160 - 50 * 4 - 5);
		}
		for (size_t i = 0; i < n; i++) {
			CU_ASSERT(p[i].server < 50);
			if (i)
				CU_ASSERT(p[i - 1].hash < p[i].hash);
		}
		ketama_free(r);
	}
}

/* Equal points go to the server listed first: two servers with the same name share their
 * first 160 points, which the first one keeps. */
static void test_tie_break(void)
{
	struct ketama_server s[2] = {{"10.1.1.1:80", 1}, {"10.1.1.1:80", 2}};
	const struct ketama_point *p;
	struct ketama *r = ketama_new(KETAMA_NGINX, s, 2);
	size_t n, own0 = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	p = ketama_points(r, &n);
	CU_ASSERT_EQUAL(n, 320);
	for (size_t i = 0; i < n; i++)
		own0 += p[i].server == 0;
	CU_ASSERT_EQUAL(own0, 160);
	ketama_free(r);
}

/* A hash above the last point wraps to the first; a hash equal to a point picks that point. */
static void test_pick_wrap(void)
{
	struct ketama_server s[3] = {{"a:1", 1}, {"b:2", 1}, {"c:3", 1}};
	struct ketama *r = ketama_new(KETAMA_NGINX, s, 3);
	const struct ketama_point *p;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	p = ketama_points(r, &n);
	CU_ASSERT_EQUAL(ketama_pick(r, 0), p[0].server);
	CU_ASSERT_EQUAL(ketama_pick(r, UINT32_MAX), p[0].server); /* points < 2^32 - 1 here */
	CU_ASSERT(p[n - 1].hash != UINT32_MAX);
	CU_ASSERT_EQUAL(ketama_pick(r, p[n - 1].hash + 1), p[0].server);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(ketama_pick(r, p[i].hash), p[i].server);
		if (i)
			CU_ASSERT_EQUAL(ketama_pick(r, p[i - 1].hash + 1), p[i].server);
	}
	ketama_free(r);
}

/* ketama_pick() against a plain search of the exported points, for random hashes, hashes
 * on and next to every point, and bucket edges of the lookup index, on rings of many sizes. */
static void test_pick_search(void)
{
	static const size_t sizes[] = {1, 2, 3, 17, 100, 1000};
	uint64_t state = 0x9e3779b97f4a7c15ull;
	size_t bad = 0;

	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		size_t ns = sizes[z], n;
		struct ketama_server *s = calloc(ns, sizeof(*s));
		char(*names)[64] = calloc(ns, sizeof(*names));
		const struct ketama_point *p;
		struct ketama *r;

		CU_ASSERT_FATAL(s && names);
		for (size_t i = 0; i < ns; i++) {
			snprintf(names[i], sizeof(names[i]), "172.16.%zu.%zu:%zu", i / 256, i % 256,
				1000 + i);
			s[i].name = names[i];
			s[i].weight = 1 + (uint32_t)i % 3;
		}
		r = ketama_new(KETAMA_NGINX, s, ns);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		p = ketama_points(r, &n);
		for (size_t t = 0; t < 20000 + 3 * n; t++) {
			uint32_t h, lo = 0, hi = (uint32_t)n;

			if (t < 20000) {
				state = state * 6364136223846793005ull + 1442695040888963407ull;
				h = (uint32_t)(state >> 32);
				if (t % 4 == 0)
					h &= 0xffff0000u << (t / 4 % 16); /* bucket edges */
			} else {
				h = p[(t - 20000) / 3].hash + (uint32_t)((t - 20000) % 3) - 1;
			}
			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;

				if (p[mid].hash < h)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (ketama_pick(r, h) != p[lo == n ? 0 : lo].server)
				bad++;
		}
		ketama_free(r);
		free(names);
		free(s);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* ketama_next() against a brute-force walk of the exported points. */
static void test_next_distinct(void)
{
	struct ketama_server s[7];
	char names[7][32];
	const struct ketama_point *p;
	struct ketama *r;
	size_t n;

	for (int i = 0; i < 7; i++) {
		snprintf(names[i], sizeof(names[i]), "10.9.0.%d:80", i + 1);
		s[i].name = names[i];
		s[i].weight = 1 + (i * 3) % 5;
	}
	for (int c = 0; c < KETAMA_COMPAT_MAX; c++) {
		r = ketama_new(c, s, 7);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		p = ketama_points(r, &n);
		for (uint32_t t = 0; t < 2000; t++) {
			uint32_t h = t * 2654435761u, start = 0;
			int seen[7] = {0}, order[7], nd = 0;

			while (start < n && p[start].hash < h)
				start++;
			for (size_t d = 0; d < n && nd < 7; d++) {
				uint32_t sv = p[(start + d) % n].server;

				if (!seen[sv]) {
					seen[sv] = 1;
					order[nd++] = (int)sv;
				}
			}
			CU_ASSERT_EQUAL(nd, 7);
			CU_ASSERT_EQUAL(ketama_next(r, h, 0), (int)ketama_pick(r, h));
			for (int k = 0; k < nd; k++)
				CU_ASSERT_EQUAL(ketama_next(r, h, (unsigned int)k), order[k]);
			CU_ASSERT_EQUAL(ketama_next(r, h, 7), -ENOENT);
			CU_ASSERT_EQUAL(ketama_next(r, h, 1000), -ENOENT);
		}
		ketama_free(r);
	}
}

static void test_single_server(void)
{
	struct ketama_server s = {"127.0.0.1:1", 1};
	struct ketama *r = ketama_new(KETAMA_NGINX, &s, 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(ketama_pick(r, 12345), 0);
	CU_ASSERT_EQUAL(ketama_next(r, 12345, 0), 0);
	CU_ASSERT_EQUAL(ketama_next(r, 12345, 1), -ENOENT);
	ketama_free(r);
}

static void test_bad_input(void)
{
	struct ketama_server ok = {"10.0.0.1:80", 1};
	struct ketama_server bad[] = {{NULL, 1}, {"", 1}, {"10.0.0.1:80", 0}};

	errno = 0;
	CU_ASSERT_PTR_NULL(ketama_new(KETAMA_NGINX, NULL, 1));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(ketama_new(KETAMA_NGINX, &ok, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(ketama_new(KETAMA_COMPAT_MAX, &ok, 1));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(ketama_new((enum ketama_compat) - 1, &ok, 1));
	CU_ASSERT_EQUAL(errno, EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ketama_server two[2] = {ok, bad[i]};

		for (int c = 0; c < KETAMA_COMPAT_MAX; c++) {
			errno = 0;
			CU_ASSERT_PTR_NULL(ketama_new(c, two, 2));
			CU_ASSERT_EQUAL(errno, EINVAL);
		}
	}
	/* 160 x weight points must stay within KETAMA_MAX_POINTS. */
	ok.weight = KETAMA_MAX_POINTS / 160 + 1;
	errno = 0;
	CU_ASSERT_PTR_NULL(ketama_new(KETAMA_NGINX, &ok, 1));
	CU_ASSERT_EQUAL(errno, E2BIG);
	ok.weight = UINT32_MAX;
	errno = 0;
	CU_ASSERT_PTR_NULL(ketama_new(KETAMA_NGINX, &ok, 1));
	CU_ASSERT_EQUAL(errno, E2BIG);
	/* libketama scales weights to shares, so a huge weight is fine there. */
	{
		struct ketama *r = ketama_new(KETAMA_LIBKETAMA, &ok, 1);

		CU_ASSERT_PTR_NOT_NULL(r);
		ketama_free(r);
	}
}

/* Identical input gives byte-identical rings. */
static void test_deterministic(void)
{
	struct ketama_server s[3] = {{"10.0.0.1:80", 2}, {"10.0.0.2:80", 1}, {"[::1]:80", 4}};

	for (int c = 0; c < KETAMA_COMPAT_MAX; c++) {
		struct ketama *a = ketama_new(c, s, 3), *b = ketama_new(c, s, 3);
		const struct ketama_point *pa, *pb;
		size_t na, nb;

		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		pa = ketama_points(a, &na);
		pb = ketama_points(b, &nb);
		CU_ASSERT_EQUAL(na, nb);
		CU_ASSERT(!memcmp(pa, pb, na * sizeof(*pa)));
		ketama_free(a);
		ketama_free(b);
	}
}

/* Remove or add one of N servers and count the keys that move. Consistent hashing moves
 * exactly the keys of the removed server (or the keys the new one takes): its share of the
 * weight, about 1/N. <moved> is checked within half to twice that share (a server of weight 1
 * has only 160 points, so its arc varies by about 1/sqrt(160) = 8%). */
static int share_ok(size_t moved, size_t nkeys, uint32_t w, uint64_t total)
{
	double want = (double)nkeys * w / (double)total;

	return moved > want / 2 && moved < want * 2;
}

static void check_disruption(enum ketama_compat compat, size_t nsrv, uint32_t weight_mod)
{
	enum { NKEYS = 100000 };
	struct ketama_server *s = calloc(nsrv + 1, sizeof(*s));
	char(*names)[32] = calloc(nsrv + 1, sizeof(*names));
	uint32_t *before = calloc(NKEYS, sizeof(*before));
	size_t victim = nsrv / 3, moved = 0, wrong = 0;
	uint64_t total = 0;
	uint32_t victim_w;
	struct ketama *r0, *r1, *r2;
	char key[32];

	CU_ASSERT_FATAL(s && names && before);
	for (size_t i = 0; i <= nsrv; i++) {
		snprintf(names[i], sizeof(names[i]), "10.%zu.%zu.1:8080", i / 250, i % 250);
		s[i].name = names[i];
		s[i].weight = weight_mod ? 1 + (uint32_t)i % weight_mod : 1;
	}
	for (size_t i = 0; i < nsrv; i++)
		total += s[i].weight;
	victim_w = s[victim].weight;
	r0 = ketama_new(compat, s, nsrv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r0);
	for (uint32_t k = 0; k < NKEYS; k++) {
		int len = snprintf(key, sizeof(key), "key-%u", k);

		before[k] = ketama_pick(r0, ketama_hash(r0, key, (size_t)len));
	}

	/* Removal: server <victim> goes; later servers shift down one index. */
	memmove(&s[victim], &s[victim + 1], (nsrv - victim) * sizeof(*s));
	r1 = ketama_new(compat, s, nsrv - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r1);
	for (uint32_t k = 0; k < NKEYS; k++) {
		int len = snprintf(key, sizeof(key), "key-%u", k);
		uint32_t now = ketama_pick(r1, ketama_hash(r1, key, (size_t)len));
		uint32_t was = before[k];

		now += now >= victim;
		if (now != was) {
			moved++;
			wrong += was != victim;
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT(share_ok(moved, NKEYS, victim_w, total));

	/* Addition: restore the list and append server <nsrv>. */
	memmove(&s[victim + 1], &s[victim], (nsrv - victim) * sizeof(*s));
	s[victim].name = names[victim];
	s[victim].weight = weight_mod ? 1 + (uint32_t)victim % weight_mod : 1;
	r2 = ketama_new(compat, s, nsrv + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
	moved = wrong = 0;
	for (uint32_t k = 0; k < NKEYS; k++) {
		int len = snprintf(key, sizeof(key), "key-%u", k);
		uint32_t now = ketama_pick(r2, ketama_hash(r2, key, (size_t)len));

		if (now != before[k]) {
			moved++;
			wrong += now != nsrv;
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT(share_ok(moved, NKEYS, s[nsrv].weight, total + s[nsrv].weight));
	ketama_free(r0);
	ketama_free(r1);
	ketama_free(r2);
	free(before);
	free(names);
	free(s);
}

static void test_disruption_nginx(void)
{
	check_disruption(KETAMA_NGINX, 10, 5);
	check_disruption(KETAMA_NGINX, 100, 5);
}

/* libketama spreads 40 x N digests by share of weight, so with unequal weights a change moves
 * some keys between the other servers too; with equal weights it is as clean as nginx's. */
static void test_disruption_libketama(void)
{
	check_disruption(KETAMA_LIBKETAMA, 10, 0);
	check_disruption(KETAMA_LIBKETAMA, 100, 0);
}

/* libketama's published check (libketama/test.sh): ketama_test over ketama.servers prints an
 * empty error line, then "KEYHASH POINT ADDR" for keys "0".."999999"; the MD5 of that output is
 * 5672b131391f5aa2b280936aec1eea74. */
static void test_libketama_published(void)
{
	static const struct ketama_server s[] = {
		{"10.0.1.1:11211", 600},
		{"10.0.1.2:11211", 300},
		{"10.0.1.3:11211", 200},
		{"10.0.1.4:11211", 350},
		{"10.0.1.5:11211", 1000},
		{"10.0.1.6:11211", 800},
		{"10.0.1.7:11211", 950},
		{"10.0.1.8:11211", 100},
	};
	static const char want[] = "5672b131391f5aa2b280936aec1eea74";
	struct ketama *r = ketama_new(KETAMA_LIBKETAMA, s, 8);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char digest[16];
	char hex[33], line[64], key[16];
	const struct ketama_point *p;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	p = ketama_points(r, &n);
	CU_ASSERT_FATAL(EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1);
	EVP_DigestUpdate(ctx, "\n", 1);
	for (unsigned int i = 0; i < 1000000; i++) {
		int klen = snprintf(key, sizeof(key), "%u", i), len;
		uint32_t h = ketama_hash(r, key, (size_t)klen), point;
		size_t lo = 0, hi = n;

		/* The pick's point: ketama_pick() gives the server, the test prints the point. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (p[mid].hash < h)
				lo = mid + 1;
			else
				hi = mid;
		}
		point = p[lo == n ? 0 : lo].hash;
		CU_ASSERT_EQUAL(p[lo == n ? 0 : lo].server, ketama_pick(r, h));
		len = snprintf(
			line, sizeof(line), "%u %u %s\n", h, point, s[ketama_pick(r, h)].name);
		EVP_DigestUpdate(ctx, line, (size_t)len);
	}
	EVP_DigestFinal_ex(ctx, digest, NULL);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	CU_ASSERT_STRING_EQUAL(hex, want);
	EVP_MD_CTX_free(ctx);
	ketama_free(r);
}

/* libketama's python binding tests (python_ketama/tests.py): two servers 600/400 make 320
 * points; hashi("test") = 3446378249; "test" lands on point 3454255383 of 127.0.0.1:11211. */
static void test_libketama_python(void)
{
	static const struct ketama_server s[] = {
		{"127.0.0.1:11211", 600}, {"127.0.0.1:11212", 400}};
	struct ketama *r = ketama_new(KETAMA_LIBKETAMA, s, 2);
	const struct ketama_point *p;
	uint32_t h;
	size_t n, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	p = ketama_points(r, &n);
	CU_ASSERT_EQUAL(n, 320);
	h = ketama_hash(r, "test", 4);
	CU_ASSERT_EQUAL(h, 3446378249u);
	CU_ASSERT_EQUAL(ketama_pick(r, h), 0);
	for (i = 0; i < n && p[i].hash < h; i++)
		;
	CU_ASSERT_EQUAL(p[i % n].hash, 3454255383u);
	ketama_free(r);
}

/* libketama/test.sh's distribution check: observed shares within 10% (summed) of weights. */
static void test_libketama_distribution(void)
{
	static const struct ketama_server s[] = {
		{"10.0.1.1:11211", 600},
		{"10.0.1.2:11211", 300},
		{"10.0.1.3:11211", 200},
		{"10.0.1.4:11211", 350},
		{"10.0.1.5:11211", 1000},
		{"10.0.1.6:11211", 800},
		{"10.0.1.7:11211", 950},
		{"10.0.1.8:11211", 100},
	};
	struct ketama *r = ketama_new(KETAMA_LIBKETAMA, s, 8);
	unsigned int count[8] = {0}, total = 100000;
	double diff = 0;
	char key[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (unsigned int i = 0; i < total; i++) {
		int len = snprintf(key, sizeof(key), "%u", i);

		count[ketama_pick(r, ketama_hash(r, key, (size_t)len))]++;
	}
	for (int i = 0; i < 8; i++) {
		double want = s[i].weight / 4300.0, got = (double)count[i] / total;

		diff += want > got ? want - got : got - want;
	}
	CU_ASSERT(diff < 0.10);
	ketama_free(r);
}

/* nginx keys hash with plain crc32; libketama keys with the first 4 bytes of MD5, LE. */
static void test_key_hash(void)
{
	struct ketama_server s = {"x:1", 1};
	struct ketama *n = ketama_new(KETAMA_NGINX, &s, 1);
	struct ketama *l = ketama_new(KETAMA_LIBKETAMA, &s, 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(ketama_hash(n, "123456789", 9), 0xcbf43926u); /* the CRC-32 check value */
	CU_ASSERT_EQUAL(ketama_hash(n, "", 0), 0);
	/* md5("") = d41d8cd9...: first four bytes little-endian. */
	CU_ASSERT_EQUAL(ketama_hash(l, "", 0), 0xd98c1dd4u);
	ketama_free(n);
	ketama_free(l);
}

int test_ketama_register(void)
{
	static const CU_TestInfo tests[] = {
		{"nginx vectors, 3 servers", test_nginx_3},
		{"nginx vectors, 10 servers", test_nginx_10},
		{"nginx vectors, 100 servers", test_nginx_100},
		{"nginx failover chains", test_nginx_failover},
		{"nginx equal points: first listed wins", test_nginx_tie},
		{"nginx server name split", test_nginx_name_split},
		{"points sorted and counted", test_points_sorted},
		{"equal points: first server wins", test_tie_break},
		{"pick wraps around", test_pick_wrap},
		{"pick equals a plain search", test_pick_search},
		{"next distinct server", test_next_distinct},
		{"single server", test_single_server},
		{"bad input", test_bad_input},
		{"deterministic", test_deterministic},
		{"key hashes", test_key_hash},
		{"disruption, nginx", test_disruption_nginx},
		{"disruption, libketama", test_disruption_libketama},
		{"libketama published test.sh hash", test_libketama_published},
		{"libketama python binding values", test_libketama_python},
		{"libketama distribution", test_libketama_distribution},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("ketama", tests);
}
