// SPDX-License-Identifier: GPL-2.0
/* ketama ring build time (100 and 1000 servers) and lookups per second, medians of several
 * runs, against peers measured in the same run: nginx's way of building the same ring (qsort()
 * with a comparison callback, then removal of duplicates) and a Maglev table lookup.
 * Also prints the share of keys that move when one of N servers leaves or joins.
 * Usage: ketama_bench [RUNS] */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "ketama/ketama.h"
#include "maglev/maglev.h"

#define NKEYS	   (1u << 20) /* lookups per timed run */
#define KEY_STRIDE 24	      /* bytes per generated key */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Defeats dead-code elimination of lookup loops. */
static volatile uint64_t sink;

struct srvset {
	size_t n;
	struct ketama_server *s;
	char (*names)[32];
};

static void srvset_init(struct srvset *ss, size_t n, uint32_t wmax)
{
	ss->n = n;
	ss->s = calloc(n, sizeof(*ss->s));
	ss->names = calloc(n, sizeof(*ss->names));
	if (!ss->s || !ss->names) {
		perror("ketama_bench");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(ss->names[i], sizeof(ss->names[i]), "10.%zu.%zu.%zu:8080", i / 65536,
			(i / 256) % 256, i % 256);
		ss->s[i].name = ss->names[i];
		ss->s[i].weight = 1 + (uint32_t)(i * 7) % wmax;
	}
}

static void srvset_free(struct srvset *ss)
{
	free(ss->s);
	free(ss->names);
}

/* The peer: nginx's ring build as nginx does it at configuration load, written out here:
 * the same crc32 point chain, then qsort() with a comparison callback and a pass that drops
 * repeated hashes. */
struct npoint {
	uint32_t hash;
	uint32_t server;
};

static int cmp_npoint(const void *a, const void *b)
{
	const struct npoint *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static size_t qsort_build(const struct srvset *ss, struct npoint *pts)
{
	size_t np = 0, i = 0;

	for (size_t k = 0; k < ss->n; k++) {
		const char *name = ss->s[k].name, *colon = strrchr(name, ':');
		uint32_t base =
			(uint32_t)crc32(0, (const unsigned char *)name, (uInt)(colon - name));
		unsigned char prev[4] = {0, 0, 0, 0};

		base = (uint32_t)crc32(base, (const unsigned char *)"", 1);
		base = (uint32_t)crc32(
			base, (const unsigned char *)colon + 1, (uInt)strlen(colon + 1));
		for (uint32_t j = 0; j < ss->s[k].weight * 160; j++) {
			uint32_t h = (uint32_t)crc32(base, prev, 4);

			pts[np].hash = h;
			pts[np++].server = (uint32_t)k;
			prev[0] = h & 0xff;
			prev[1] = (h >> 8) & 0xff;
			prev[2] = (h >> 16) & 0xff;
			prev[3] = h >> 24;
		}
	}
	qsort(pts, np, sizeof(*pts), cmp_npoint);
	for (size_t j = 1; j < np; j++)
		if (pts[i].hash != pts[j].hash)
			pts[++i] = pts[j];
	return np ? i + 1 : 0;
}

static void bench_build(size_t n, uint32_t wmax, int runs)
{
	struct srvset ss;
	double *t_ngx = calloc((size_t)runs, sizeof(double));
	double *t_lk = calloc((size_t)runs, sizeof(double));
	double *t_q = calloc((size_t)runs, sizeof(double));
	struct npoint *pts;
	uint64_t total = 0;
	size_t np = 0, nq = 0;

	srvset_init(&ss, n, wmax);
	for (size_t i = 0; i < n; i++)
		total += ss.s[i].weight;
	pts = malloc(total * 160 * sizeof(*pts));
	if (!t_ngx || !t_lk || !t_q || !pts) {
		perror("ketama_bench");
		exit(1);
	}
	for (int r = 0; r < runs; r++) {
		double t0 = now_s();
		struct ketama *k = ketama_new(KETAMA_NGINX, ss.s, n);
		double t1 = now_s();
		struct ketama *l;

		if (!k) {
			perror("ketama_new");
			exit(1);
		}
		ketama_points(k, &np);
		ketama_free(k);
		t_ngx[r] = t1 - t0;

		t0 = now_s();
		nq = qsort_build(&ss, pts);
		t_q[r] = now_s() - t0;

		t0 = now_s();
		l = ketama_new(KETAMA_LIBKETAMA, ss.s, n);
		t_lk[r] = now_s() - t0;
		if (!l) {
			perror("ketama_new");
			exit(1);
		}
		ketama_free(l);
	}
	if (np != nq) {
		fprintf(stderr, "ketama_bench: ring sizes differ: %zu vs %zu\n", np, nq);
		exit(1);
	}
	{
		double a = median(t_ngx, runs), q = median(t_q, runs), lk = median(t_lk, runs);

		printf("build  %5zu servers  weights 1-%u  %7zu points  nginx mode %8.3f ms  "
		       "qsort peer %8.3f ms  (%.2fx faster)  libketama mode %7.3f ms\n",
			n, wmax, np, a * 1e3, q * 1e3, q / a, lk * 1e3);
	}
	free(pts);
	free(t_ngx);
	free(t_lk);
	free(t_q);
	srvset_free(&ss);
}

/* Lookups per second for <n> servers: pick on precomputed hashes, hash + pick on string keys,
 * and the peer: a Maglev table (M = 65537) slot read for the same keys. */
static void bench_lookup(size_t n, int runs)
{
	char *keys = malloc((size_t)NKEYS * KEY_STRIDE);
	uint32_t *hashes = malloc(NKEYS * sizeof(*hashes));
	double *t_pick = calloc((size_t)runs, sizeof(double));
	double *t_full = calloc((size_t)runs, sizeof(double));
	double *t_lk = calloc((size_t)runs, sizeof(double));
	double *t_mg = calloc((size_t)runs, sizeof(double));
	struct maglev_backend *mb = calloc(n, sizeof(*mb));
	uint8_t(*mkeys)[MAGLEV_KEY_MAX] = calloc(n, sizeof(*mkeys));
	uint32_t *table = malloc(MAGLEV_DEFAULT_SIZE * sizeof(*table));
	uint8_t *klen = malloc(NKEYS);
	struct maglev *mg = maglev_new(MAGLEV_DEFAULT_SIZE);
	struct ketama *k, *l;
	struct srvset ss;

	if (!keys || !hashes || !t_pick || !t_full || !t_lk || !t_mg || !mb || !mkeys || !table ||
		!klen || !mg) {
		perror("ketama_bench");
		exit(1);
	}
	srvset_init(&ss, n, 1);
	k = ketama_new(KETAMA_NGINX, ss.s, n);
	l = ketama_new(KETAMA_LIBKETAMA, ss.s, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t a = 0x0a000000u + (uint32_t)i;
		uint8_t be[4] = {a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff};

		mb[i].key = mkeys[i];
		mb[i].key_len = maglev_addr_key(mkeys[i], AF_INET, be, 8080);
		mb[i].weight = 1;
	}
	if (!k || !l || maglev_build(mg, mb, n, table)) {
		fprintf(stderr, "ketama_bench: building the rings or table failed\n");
		exit(1);
	}
	srand(1);
	for (uint32_t i = 0; i < NKEYS; i++) {
		klen[i] = (uint8_t)snprintf(keys + (size_t)i * KEY_STRIDE, KEY_STRIDE,
			"/object/%08x%04x", (unsigned int)rand(), i & 0xffff);
		hashes[i] = ketama_hash(k, keys + (size_t)i * KEY_STRIDE, klen[i]);
	}
	for (int r = 0; r < runs; r++) {
		uint64_t acc = 0;
		double t0 = now_s();

		for (uint32_t i = 0; i < NKEYS; i++)
			acc += ketama_pick(k, hashes[i]);
		t_pick[r] = now_s() - t0;

		t0 = now_s();
		for (uint32_t i = 0; i < NKEYS; i++) {
			const char *key = keys + (size_t)i * KEY_STRIDE;

			acc += ketama_pick(k, ketama_hash(k, key, klen[i]));
		}
		t_full[r] = now_s() - t0;

		t0 = now_s();
		for (uint32_t i = 0; i < NKEYS / 8; i++) {
			const char *key = keys + (size_t)i * KEY_STRIDE;

			acc += ketama_pick(l, ketama_hash(l, key, klen[i]));
		}
		t_lk[r] = (now_s() - t0) * 8;

		t0 = now_s();
		for (uint32_t i = 0; i < NKEYS; i++) {
			const char *key = keys + (size_t)i * KEY_STRIDE;

			acc += table[maglev_key_slot(key, klen[i], MAGLEV_DEFAULT_SIZE)];
		}
		t_mg[r] = now_s() - t0;
		sink += acc;
	}
	{
		double pick = NKEYS / median(t_pick, runs) / 1e6;
		double full = NKEYS / median(t_full, runs) / 1e6;
		double lk = NKEYS / median(t_lk, runs) / 1e6;
		double mgl = NKEYS / median(t_mg, runs) / 1e6;
		size_t np;

		ketama_points(k, &np);
		printf("lookup %5zu servers  %7zu points  pick %6.1f M/s  crc32+pick %6.1f M/s  "
		       "md5+pick (libketama) %5.2f M/s  maglev peer %6.1f M/s  (ketama = %.2fx maglev)\n",
			n, np, pick, full, lk, mgl, full / mgl);
	}
	ketama_free(k);
	ketama_free(l);
	maglev_free(mg);
	srvset_free(&ss);
	free(keys);
	free(hashes);
	free(klen);
	free(t_pick);
	free(t_full);
	free(t_lk);
	free(t_mg);
	free(mb);
	free(mkeys);
	free(table);
}

/* Share of 200000 keys that move when server n/3 of <n> leaves, and when a server joins. */
static void bench_disruption(enum ketama_compat compat, size_t n)
{
	enum { DKEYS = 200000 };
	struct ketama *r0, *r1, *r2;
	size_t victim = n / 3, rm = 0, add = 0;
	struct srvset ss;
	char key[32];

	srvset_init(&ss, n + 1, 1);
	r0 = ketama_new(compat, ss.s, n);
	r2 = ketama_new(compat, ss.s, n + 1);
	memmove(&ss.s[victim], &ss.s[victim + 1], (n - victim) * sizeof(*ss.s));
	r1 = ketama_new(compat, ss.s, n - 1);
	if (!r0 || !r1 || !r2) {
		fprintf(stderr, "ketama_bench: disruption setup failed\n");
		exit(1);
	}
	for (uint32_t i = 0; i < DKEYS; i++) {
		int len = snprintf(key, sizeof(key), "key-%u", i);
		uint32_t was = ketama_pick(r0, ketama_hash(r0, key, (size_t)len));
		uint32_t gone = ketama_pick(r1, ketama_hash(r1, key, (size_t)len));

		gone += gone >= victim;
		rm += gone != was;
		add += ketama_pick(r2, ketama_hash(r2, key, (size_t)len)) != was;
	}
	printf("moved  %5zu servers  %-9s remove one: %5.2f%% of keys  add one: %5.2f%%  "
	       "(1/N = %.2f%%)\n",
		n, compat == KETAMA_NGINX ? "nginx" : "libketama", 100.0 * rm / DKEYS,
		100.0 * add / DKEYS, 100.0 / n);
	ketama_free(r0);
	ketama_free(r1);
	ketama_free(r2);
	srvset_free(&ss);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 9;

	if (runs < 1 || runs > 1000) {
		fprintf(stderr, "usage: ketama_bench [RUNS 1..1000]\n");
		return 2;
	}
	printf("ketama: medians of %d runs\n", runs);
	bench_build(100, 1, runs);
	bench_build(1000, 1, runs);
	bench_build(1000, 5, runs);
	bench_lookup(100, runs);
	bench_lookup(1000, runs);
	for (int c = 0; c < KETAMA_COMPAT_MAX; c++) {
		bench_disruption(c, 10);
		bench_disruption(c, 100);
		bench_disruption(c, 1000);
	}
	return 0;
}
