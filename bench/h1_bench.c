// SPDX-License-Identifier: GPL-2.0
/* HTTP/1.x codec throughput: messages per second for typical requests and responses through
 * h1_parse(), against bare llhttp (the same strict build, callbacks that only count) in the
 * same run. The ratio is what the strict scanner, copying and checks cost.
 * Usage: h1_bench [RUNS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llhttp.h>

#include "userspace/proxy/h1.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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

static volatile size_t sink; /* keeps the work observable */

static int cnt_data(llhttp_t *ll, const char *at, size_t n)
{
	(void)at;
	sink += n;
	return 0;
}

static int cnt_cb(llhttp_t *ll)
{
	sink++;
	return 0;
}

/* Bare llhttp over <buf> holding <msgs> messages. */
static double run_llhttp(enum h1_kind kind, const char *buf, size_t len, int msgs, int reps)
{
	llhttp_settings_t st;
	llhttp_t ll;
	double t;

	llhttp_settings_init(&st);
	st.on_url = st.on_status = st.on_header_field = st.on_header_value = st.on_body = cnt_data;
	st.on_headers_complete = st.on_message_complete = cnt_cb;
	llhttp_init(&ll, kind == H1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE, &st);
	t = now_s();
	for (int r = 0; r < reps; r++)
		if (llhttp_execute(&ll, buf, len) != HPE_OK) {
			fprintf(stderr, "h1_bench: llhttp: %s\n", llhttp_get_error_reason(&ll));
			exit(1);
		}
	t = now_s() - t;
	return (double)msgs * reps / t;
}

/* The codec over the same bytes, answering each message at once. */
static double run_h1(enum h1_kind kind, const char *buf, size_t len, int msgs, int reps)
{
	struct h1_parser *p = h1_parser_new(kind, NULL);
	int done = 0;
	double t;

	if (!p)
		exit(1);
	t = now_s();
	for (int r = 0; r < reps; r++) {
		const char *d = buf;
		size_t left = len;

		for (;;) {
			struct h1_event ev;
			size_t n = h1_parse(p, d, left, &ev);

			d += n, left -= n;
			if (ev.type == H1_EV_NONE)
				break;
			if (ev.type == H1_EV_ERROR) {
				fprintf(stderr, "h1_bench: h1: %s\n", ev.reason);
				exit(1);
			}
			if (ev.type == H1_EV_BODY)
				sink += ev.data.len;
			if (ev.type == H1_EV_DONE)
				done++;
		}
	}
	t = now_s() - t;
	h1_parser_free(p);
	if (done != msgs * reps) {
		fprintf(stderr, "h1_bench: %d of %d messages\n", done, msgs * reps);
		exit(1);
	}
	return (double)msgs * reps / t;
}

/* <n> copies of <one> in a fresh buffer. */
static char *repeat(const char *one, size_t len, int n, size_t *out)
{
	char *b = malloc(len * (size_t)n);

	if (!b)
		exit(1);
	for (int i = 0; i < n; i++)
		memcpy(b + len * (size_t)i, one, len);
	*out = len * (size_t)n;
	return b;
}

int main(int argc, char **argv)
{
	static const char browser_get[] =
		"GET /static/app/main.3f9a.js?v=1 HTTP/1.1\r\nHost: www.example.com\r\n"
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
		"Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\n"
		"Accept-Encoding: gzip, deflate, br\r\nReferer: https://www.example.com/\r\n"
		"Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n"
		"Connection: keep-alive\r\nSec-Fetch-Dest: script\r\nSec-Fetch-Mode: no-cors\r\n"
		"Sec-Fetch-Site: same-origin\r\n\r\n";
	static const char small_resp[] =
		"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sat, 28 Nov 2026 12:00:00 GMT\r\n"
		"Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\n"
		"Hello, world!";
	struct {
		const char *name;
		enum h1_kind kind;
		char *buf;
		size_t len;
		int msgs;
	} cases[3];
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	char *one;
	size_t n1;

	if (runs < 1 || runs > 1000)
		runs = 7;
	cases[0].name = "browser GET (512 B head)";
	cases[0].kind = H1_REQUEST;
	cases[0].msgs = 64;
	cases[0].buf = repeat(browser_get, sizeof(browser_get) - 1, 64, &cases[0].len);
	cases[1].name = "small response (200 B)";
	cases[1].kind = H1_RESPONSE;
	cases[1].msgs = 64;
	cases[1].buf = repeat(small_resp, sizeof(small_resp) - 1, 64, &cases[1].len);
	/* 64 KiB chunked request body in 4 KiB chunks */
	{
		static const char head[] = "POST /upload HTTP/1.1\r\nHost: a\r\n"
					   "Transfer-Encoding: chunked\r\n\r\n";
		size_t off = 0;

		n1 = sizeof(head) - 1 + 16 * (6 + 4096 + 2) + 5;
		one = malloc(n1);
		if (!one)
			return 1;
		memcpy(one, head, sizeof(head) - 1);
		off = sizeof(head) - 1;
		for (int i = 0; i < 16; i++) {
			memcpy(one + off, "1000\r\n", 6);
			memset(one + off + 6, 'x', 4096);
			memcpy(one + off + 6 + 4096, "\r\n", 2);
			off += 6 + 4096 + 2;
		}
		memcpy(one + off, "0\r\n\r\n", 5);
		cases[2].name = "chunked POST (64 KiB)";
		cases[2].kind = H1_REQUEST;
		cases[2].msgs = 4;
		cases[2].buf = repeat(one, n1, 4, &cases[2].len);
		free(one);
	}

	printf("%-26s %14s %14s %8s\n", "messages/s (median)", "h1", "llhttp", "h1/ll");
	for (size_t c = 0; c < 3; c++) {
		double a[1000], b[1000], ma, mb;
		int reps = cases[c].len > 100000 ? 200 : 2000;

		for (int r = 0; r < runs; r++) {
			/* interleaved so load bursts from other work hit both */
			a[r] = run_h1(cases[c].kind, cases[c].buf, cases[c].len, cases[c].msgs, reps);
			b[r] = run_llhttp(cases[c].kind, cases[c].buf, cases[c].len, cases[c].msgs, reps);
		}
		ma = median(a, runs);
		mb = median(b, runs);
		printf("%-26s %14.0f %14.0f %8.2f\n", cases[c].name, ma, mb, ma / mb);
		free(cases[c].buf);
	}
	return 0;
}
