// SPDX-License-Identifier: GPL-2.0
/* HTTP/1.x codec throughput: messages per second for typical requests and responses through
 * h1_parse(), against bare llhttp (the same strict build, callbacks that only count) in the
 * same run. The ratio is what the strict scanner, copying and checks cost. Then the codec's
 * part of one proxied request as pingd does it (parse, strip, add fields, serialize, both
 * ways), in ns per cycle. Usage: h1_bench [RUNS [cycle]]; "cycle" runs only the cycle (for perf).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llhttp.h>

#include "userspace/http/h1.h"

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

/* A wrk/curl-like request head (8 fields) and an nginx response head (8 fields, 13-byte
 * body), the exchange pingd proxies in the wrk comparison. */
static const char cyc_req[] =
	"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
	"User-Agent: wrk/4.2.0\r\nAccept: */*\r\n"
	"Accept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.5\r\n"
	"Cache-Control: no-cache\r\nConnection: keep-alive\r\n"
	"X-Request-Id: 7f3a9c1e\r\n\r\n";
static const char cyc_rsp[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
	"Date: Sat, 28 Nov 2026 12:00:00 GMT\r\nContent-Type: text/plain\r\n"
	"Content-Length: 13\r\nLast-Modified: Sat, 28 Nov 2026 11:00:00 GMT\r\n"
	"Connection: keep-alive\r\nETag: \"6767a1c0-d\"\r\n"
	"Accept-Ranges: bytes\r\n\r\nHello, world!";

static void die(const char *what)
{
	fprintf(stderr, "h1_bench: cycle: %s\n", what);
	exit(1);
}

/* Parse one message of <len> bytes to its head; returns the head. */
static struct h1_msg *cyc_head(struct h1_parser *p, const char *d, size_t len, size_t *used)
{
	struct h1_event ev;

	*used = h1_parse(p, d, len, &ev);
	if (ev.type != H1_EV_HEAD)
		die(ev.reason[0] ? ev.reason : "no head");
	return ev.msg;
}

/* Parse the rest of the message (body) up to DONE. */
static void cyc_done(struct h1_parser *p, const char *d, size_t len)
{
	for (;;) {
		struct h1_event ev;
		size_t n = h1_parse(p, d, len, &ev);

		d += n, len -= n;
		if (ev.type == H1_EV_DONE)
			return;
		if (ev.type == H1_EV_BODY)
			sink += ev.data.len;
		else if (ev.type != H1_EV_NONE || !n)
			die("no done");
	}
}

/* One request/response exchange as stream.c runs the codec: request head in, hop-by-hop
 * out, X-Forwarded-For/-Proto and Via in, serialized; response head in, hop-by-hop out,
 * Via in, serialized; the request parser trimmed (idle keep-alive connection) and the
 * response parser reset for the next exchange. */
static void cycle_once(struct h1_parser *rq, struct h1_parser *rs, struct h1_buf *out)
{
	const struct h1_str *v;
	struct h1_msg *m;
	size_t n;

	m = cyc_head(rq, cyc_req, sizeof(cyc_req) - 1, &n);
	if (h1_hdrs_strip_hop(&m->hdrs, 0) < 0)
		die("strip");
	h1_hdrs_remove(&m->hdrs, "Expect", 6);
	if (!h1_hdrs_get(&m->hdrs, "Host"))
		die("host");
	if (h1_hdrs_find(&m->hdrs, "X-Forwarded-For", 15, 0) >= 0 ||
		h1_hdrs_set(&m->hdrs, "X-Forwarded-For", 15, "127.0.0.1", 9) < 0 ||
		h1_hdrs_set(&m->hdrs, "X-Forwarded-Proto", 17, "http", 4) < 0 ||
		h1_hdrs_add(&m->hdrs, "Via", 3, "1.1 pingd", 9) < 0)
		die("add");
	m->minor = 1;
	out->len = 0;
	if (h1_buf_write_head(out, m, 0) < 0)
		die("write");
	sink += out->len;
	cyc_done(rq, cyc_req + n, sizeof(cyc_req) - 1 - n);

	h1_parser_reset(rs);
	h1_parser_set_method(rs, m->method);
	m = cyc_head(rs, cyc_rsp, sizeof(cyc_rsp) - 1, &n);
	if (h1_hdrs_strip_hop(&m->hdrs, 0) < 0 ||
		h1_hdrs_add(&m->hdrs, "Via", 3, "1.1 pingd", 9) < 0)
		die("response edit");
	out->len = 0;
	if (h1_buf_write_head(out, m, 0) < 0)
		die("write");
	sink += out->len;
	cyc_done(rs, cyc_rsp + n, sizeof(cyc_rsp) - 1 - n);
	/* access log fields */
	v = h1_hdrs_get(&h1_parser_msg(rq)->hdrs, "User-Agent");
	sink += v ? v->len : 0;
	v = h1_hdrs_get(&h1_parser_msg(rq)->hdrs, "Referer");
	sink += v ? v->len : 0;
	h1_parser_trim(rq);
}

/* ns per cycle_once() over <reps> cycles. */
static double run_cycle(int reps)
{
	struct h1_parser *rq = h1_parser_new(H1_REQUEST, NULL);
	struct h1_parser *rs = h1_parser_new(H1_RESPONSE, NULL);
	struct h1_buf out;
	double t;

	if (!rq || !rs)
		exit(1);
	h1_buf_init(&out, 0);
	t = now_s();
	for (int r = 0; r < reps; r++)
		cycle_once(rq, rs, &out);
	t = now_s() - t;
	h1_buf_free(&out);
	h1_parser_free(rq);
	h1_parser_free(rs);
	return t * 1e9 / reps;
}

/* ns for bare llhttp over the same two messages (no copies, no edits, no output). */
static double run_cycle_llhttp(int reps)
{
	llhttp_settings_t st;
	llhttp_t a, b;
	double t;

	llhttp_settings_init(&st);
	st.on_url = st.on_status = st.on_header_field = st.on_header_value = st.on_body = cnt_data;
	st.on_headers_complete = st.on_message_complete = cnt_cb;
	llhttp_init(&a, HTTP_REQUEST, &st);
	llhttp_init(&b, HTTP_RESPONSE, &st);
	t = now_s();
	for (int r = 0; r < reps; r++)
		if (llhttp_execute(&a, cyc_req, sizeof(cyc_req) - 1) != HPE_OK ||
			llhttp_execute(&b, cyc_rsp, sizeof(cyc_rsp) - 1) != HPE_OK)
			die("llhttp");
	t = now_s() - t;
	return t * 1e9 / reps;
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
	bool only_cycle = argc > 2 && !strcmp(argv[2], "cycle");
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

	if (!only_cycle)
		printf("%-26s %14s %14s %8s\n", "messages/s (median)", "h1", "llhttp", "h1/ll");
	for (size_t c = 0; c < 3; c++) {
		if (only_cycle) {
			free(cases[c].buf);
			continue;
		}
		double a[1000], b[1000], ma, mb;
		int reps = cases[c].len > 100000 ? 200 : 2000;

		for (int r = 0; r < runs; r++) {
			/* interleaved so load bursts from other work hit both */
			a[r] = run_h1(
				cases[c].kind, cases[c].buf, cases[c].len, cases[c].msgs, reps);
			b[r] = run_llhttp(
				cases[c].kind, cases[c].buf, cases[c].len, cases[c].msgs, reps);
		}
		ma = median(a, runs);
		mb = median(b, runs);
		printf("%-26s %14.0f %14.0f %8.2f\n", cases[c].name, ma, mb, ma / mb);
		free(cases[c].buf);
	}
	{
		double a[1000], b[1000], ma, mb;

		for (int r = 0; r < runs; r++) {
			a[r] = run_cycle(200000);
			b[r] = run_cycle_llhttp(200000);
		}
		ma = median(a, runs);
		mb = median(b, runs);
		printf("\n%-26s %14s %14s %8s\n", "ns per cycle (median)", "h1", "llhttp", "h1/ll");
		printf("%-26s %14.1f %14.1f %8.2f\n", "proxy cycle (req+rsp)", ma, mb, ma / mb);
	}
	return 0;
}
