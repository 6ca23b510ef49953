// SPDX-License-Identifier: GPL-2.0
/* Maglev table build time for N = 10, 100, 1000 backends at M = 65537 and 655373: median of
 * several builds, against a textbook Pseudocode 1 built in the same run and the paper's figures.
 * Usage: maglev_bench [RUNS] */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maglev/maglev-internal.h"
#include "maglev/maglev.h"

/* NSDI'16 section 5.3: table generation for 1000 backends. */
#define PAPER_MS_65537	1.8
#define PAPER_MS_655373 22.9

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Pseudocode 1 as printed: permutation[i][j] = (offset + j * skip) mod M computed on the fly,
 * entry[] = -1 marking empty slots; offsets and skips from the same key hashes. The peer that
 * shows what the lazy walk, bitmap and tail phase buy. */
static void textbook(uint32_t m, size_t n, const uint32_t *off, const uint32_t *skip,
	uint64_t *next, int64_t *entry)
{
	uint32_t filled = 0;

	memset(next, 0, n * sizeof(*next));
	for (uint32_t s = 0; s < m; s++)
		entry[s] = -1;
	for (;;) {
		for (size_t i = 0; i < n; i++) {
			uint64_t c = (off[i] + next[i] * skip[i]) % m;

			while (entry[c] >= 0) {
				next[i]++;
				c = (off[i] + next[i] * skip[i]) % m;
			}
			entry[c] = (int64_t)i;
			next[i]++;
			if (++filled == m)
				return;
		}
	}
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = {65537, 655373};
	static const size_t counts[] = {10, 100, 1000};
	int runs = argc > 1 ? atoi(argv[1]) : 15;
	double *t = calloc(runs > 0 ? runs : 1, sizeof(*t));
	double *t_plain = calloc(runs > 0 ? runs : 1, sizeof(*t));
	double *t_text = calloc(runs > 0 ? runs : 1, sizeof(*t));
	struct maglev_backend *be = calloc(1000, sizeof(*be));
	uint8_t(*keys)[MAGLEV_KEY_MAX] = calloc(1000, sizeof(*keys));
	uint32_t off[1000], skip[1000];
	int ret = 0;

	if (runs < 1 || runs > 1000 || !t || !t_plain || !t_text || !be || !keys) {
		fprintf(stderr, "usage: maglev_bench [RUNS 1..1000]\n");
		return 2;
	}
	for (size_t i = 0; i < 1000; i++) {
		uint8_t a[4] = {10, 1, (uint8_t)(i >> 8), (uint8_t)i};

		be[i].key = keys[i];
		be[i].key_len = maglev_addr_key(keys[i], AF_INET, a, 80);
		be[i].weight = 1;
	}
	printf("maglev build time, median of %d runs (ms)\n", runs);
	printf("%-7s %5s %9s %9s %9s %10s %s\n", "M", "N", "pingx", "no-tail", "textbook",
		"vs-text", "vs paper (N=1000)");
	for (size_t si = 0; si < 2; si++) {
		uint32_t m = sizes[si];
		uint32_t *table = malloc(m * sizeof(*table));
		int64_t *entry = malloc(m * sizeof(*entry));
		uint64_t next[1000];
		struct maglev *mg = maglev_new(m), *plain = maglev_new(m);

		if (!table || !entry || !mg || !plain || maglev_set_tail(plain, 0)) {
			fprintf(stderr, "maglev_bench: out of memory\n");
			return 1;
		}
		for (size_t ci = 0; ci < 3; ci++) {
			size_t n = counts[ci];
			double ms, ms_plain, ms_text, paper = si ? PAPER_MS_655373 : PAPER_MS_65537;

			/* warm-up: scratch space grows once, pages get touched */
			if (maglev_build(mg, be, n, table) || maglev_build(plain, be, n, table)) {
				fprintf(stderr, "maglev_bench: build failed\n");
				return 1;
			}
			/* the three take turns, so a burst of load on this shared machine hits all
			 */
			for (int r = 0; r < runs; r++) {
				double t0 = now_ms();

				(void)maglev_build(mg, be, n, table); /* succeeded above */
				t[r] = now_ms() - t0;
				t0 = now_ms();
				(void)maglev_build(plain, be, n, table);
				t_plain[r] = now_ms() - t0;
				t0 = now_ms();
				for (size_t i = 0; i < n; i++)
					maglev_key_params(
						be[i].key, be[i].key_len, m, &off[i], &skip[i]);
				textbook(m, n, off, skip, next, entry);
				t_text[r] = now_ms() - t0;
			}
			ms = median(t, runs);
			ms_plain = median(t_plain, runs);
			ms_text = median(t_text, runs);
			printf("%-7u %5zu %9.3f %9.3f %9.3f %9.2fx", m, n, ms, ms_plain, ms_text,
				ms_text / ms);
			if (n == 1000) {
				printf(" paper %.1f ms: %.2fx %s", paper, paper / ms,
					ms < paper ? "faster" : "SLOWER");
				ret |= ms >= paper;
			}
			printf("\n");
		}
		maglev_free(mg);
		maglev_free(plain);
		free(table);
		free(entry);
	}
	free(t);
	free(t_plain);
	free(t_text);
	free(be);
	free(keys);
	return ret;
}
