// SPDX-License-Identifier: GPL-2.0
/* CUnit tests for the HTTP/1.x codec: parsing (fed whole and in small pieces), every
 * malformed-input and limit case, the serializer, header lists and canned responses. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/http/h1.h"
#include "userspace/http/h1_common.h"

#define MAX_MSGS 8

/* What one message looked like, copied at H1_EV_HEAD / H1_EV_DONE (heads do not outlive the
 * next message). */
struct rec_msg {
	int method;
	char method_name[40];
	char target[256];
	int minor;
	int status;
	char reason[64];
	enum h1_framing framing;
	uint64_t cl;
	unsigned flags;
	unsigned nhdrs;
	char hdr0[128]; /* "name: value" of the first field */
	char body[8192];
	size_t body_len;
	unsigned ntrailers;
	char trailer0[128];
	int done;
};

struct rec {
	struct rec_msg m[MAX_MSGS];
	int nmsg;    /* heads seen */
	int upgrade; /* H1_EV_UPGRADE seen */
	int error;   /* H1_EV_ERROR seen */
	enum h1_err err;
	int status;
	size_t consumed;	 /* bytes consumed in total */
	size_t consumed_at_done; /* bytes consumed when the first H1_EV_DONE came */
	int bad;		 /* protocol violations by the codec seen by the recorder */
};

static void copy_str(char *dst, size_t cap, const struct h1_str *s)
{
	size_t n = s->len < cap - 1 ? s->len : cap - 1;

	if (n)
		memcpy(dst, s->p, n);
	dst[n] = '\0';
}

static void copy_field(char *dst, size_t cap, const struct h1_header *f)
{
	snprintf(
		dst, cap, "%.*s: %.*s", (int)f->name.len, f->name.p, (int)f->value.len, f->value.p);
}

/* Handle one event into <r>. Returns false when feeding must stop (error or upgrade). */
static bool rec_event(struct rec *r, const struct h1_event *ev)
{
	struct rec_msg *m = r->nmsg ? &r->m[r->nmsg - 1] : NULL;

	switch (ev->type) {
	case H1_EV_NONE:
		return true;
	case H1_EV_HEAD:
		if (r->nmsg == MAX_MSGS) {
			r->bad++;
			return false;
		}
		m = &r->m[r->nmsg++];
		memset(m, 0, sizeof(*m));
		m->method = ev->msg->method;
		copy_str(m->method_name, sizeof(m->method_name), &ev->msg->method_name);
		copy_str(m->target, sizeof(m->target), &ev->msg->target);
		copy_str(m->reason, sizeof(m->reason), &ev->msg->reason);
		m->minor = ev->msg->minor;
		m->status = ev->msg->status;
		m->framing = ev->msg->framing;
		m->cl = ev->msg->content_length;
		m->flags = ev->msg->flags;
		m->nhdrs = ev->msg->hdrs.n;
		if (ev->msg->hdrs.n)
			copy_field(m->hdr0, sizeof(m->hdr0), &ev->msg->hdrs.v[0]);
		return true;
	case H1_EV_BODY:
		if (!m || m->done || !ev->data.len ||
			m->body_len + ev->data.len > sizeof(m->body)) {
			r->bad++;
			return false;
		}
		memcpy(m->body + m->body_len, ev->data.p, ev->data.len);
		m->body_len += ev->data.len;
		return true;
	case H1_EV_DONE:
		if (!m || m->done) {
			r->bad++;
			return false;
		}
		m->done = 1;
		m->flags = ev->msg->flags;
		if (ev->trailers) {
			m->ntrailers = ev->trailers->n;
			copy_field(m->trailer0, sizeof(m->trailer0), &ev->trailers->v[0]);
		}
		if (r->consumed_at_done == (size_t)-1)
			r->consumed_at_done = r->consumed;
		return true;
	case H1_EV_UPGRADE:
		r->upgrade = 1;
		return false;
	case H1_EV_ERROR:
		r->error = 1;
		r->err = ev->err;
		r->status = ev->status;
		if (!ev->reason || !*ev->reason)
			r->bad++;
		return false;
	default:
		r->bad++;
		return false;
	}
}

/* Feed <len> bytes in pieces of <step> bytes (0: all at once), acting like a caller that
 * answers at once after each message. Returns when all is consumed, on an error or an
 * upgrade. */
static void feed(struct h1_parser *p, const char *data, size_t len, size_t step, struct rec *r)
{
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	r->consumed_at_done = (size_t)-1;
	while (off < len) {
		size_t piece = step && step < len - off ? step : len - off;
		const char *d = data + off;
		size_t left = piece;

		for (int guard = 0; guard < 100000; guard++) {
			struct h1_event ev;
			size_t n = h1_parse(p, d, left, &ev);

			if (n > left) {
				r->bad++;
				return;
			}
			d += n, left -= n, off += n;
			r->consumed += n;
			if (!rec_event(r, &ev))
				return;
			if (ev.type == H1_EV_NONE)
				break;
		}
		if (left) {
			/* H1_EV_NONE promises everything was consumed */
			r->bad++;
			return;
		}
	}
	/* drain events pending without input (e.g. H1_EV_DONE right after a head) */
	for (int guard = 0; guard < 16; guard++) {
		struct h1_event ev;

		h1_parse(p, NULL, 0, &ev);
		if (!rec_event(r, &ev) || ev.type == H1_EV_NONE)
			return;
	}
}

static const size_t steps[] = {0, 1, 2, 3, 7, 64};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

static struct h1_parser *req_parser(void)
{
	struct h1_parser *p = h1_parser_new(H1_REQUEST, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

static struct h1_parser *resp_parser(enum h1_method m)
{
	struct h1_parser *p = h1_parser_new(H1_RESPONSE, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(h1_parser_set_method(p, m), 0);
	return p;
}

/* Parse <s> as one request with every step size; each run must give the same result, which
 * is returned from the whole-buffer run. */
static void parse_all_steps(
	enum h1_kind kind, enum h1_method m, const char *s, size_t len, struct rec *out)
{
	struct rec r;

	for (size_t i = 0; i < NSTEPS; i++) {
		struct h1_parser *p = kind == H1_REQUEST ? req_parser() : resp_parser(m);

		feed(p, s, len, steps[i], &r);
		CU_ASSERT_EQUAL(r.bad, 0);
		if (i == 0) {
			*out = r;
		} else {
			CU_ASSERT_EQUAL(r.nmsg, out->nmsg);
			CU_ASSERT_EQUAL(r.error, out->error);
			CU_ASSERT_EQUAL(r.err, out->err);
			CU_ASSERT_EQUAL(r.status, out->status);
			CU_ASSERT_EQUAL(r.upgrade, out->upgrade);
			for (int k = 0; k < r.nmsg && k < out->nmsg; k++) {
				CU_ASSERT_EQUAL(r.m[k].body_len, out->m[k].body_len);
				CU_ASSERT(!memcmp(r.m[k].body, out->m[k].body, r.m[k].body_len));
				CU_ASSERT_STRING_EQUAL(r.m[k].target, out->m[k].target);
				CU_ASSERT_EQUAL(r.m[k].method, out->m[k].method);
				CU_ASSERT_STRING_EQUAL(r.m[k].method_name, out->m[k].method_name);
				CU_ASSERT_EQUAL(r.m[k].nhdrs, out->m[k].nhdrs);
				CU_ASSERT_EQUAL(r.m[k].ntrailers, out->m[k].ntrailers);
				CU_ASSERT_EQUAL(r.m[k].done, out->m[k].done);
			}
		}
		h1_parser_free(p);
	}
}

#define S(lit) lit, sizeof(lit) - 1

/* ------------------------------------------------------------------------------------------
 * Happy paths
 */

static void test_get(void)
{
	static const char req[] = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n"
				  "User-Agent: t\r\nAccept: */*\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_REQUEST, 0, S(req), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.nmsg, 1);
	CU_ASSERT_EQUAL(r.m[0].method, H1_METHOD_GET);
	CU_ASSERT_STRING_EQUAL(r.m[0].method_name, "GET");
	CU_ASSERT_STRING_EQUAL(r.m[0].target, "/index.html?q=1");
	CU_ASSERT_EQUAL(r.m[0].minor, 1);
	CU_ASSERT_EQUAL(r.m[0].nhdrs, 3);
	CU_ASSERT_STRING_EQUAL(r.m[0].hdr0, "Host: example.com");
	CU_ASSERT_EQUAL(r.m[0].framing, H1_BODY_NONE);
	CU_ASSERT(r.m[0].flags & H1_F_KEEP_ALIVE);
	CU_ASSERT_EQUAL(r.m[0].done, 1);
	CU_ASSERT_EQUAL(r.consumed, sizeof(req) - 1);
}

static void test_head_fields(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost:  a.example:8080 \t\r\nX-Empty:\r\n"
				  "x-mixed-CASE: v1\r\nX-Obs: caf\xc3\xa9\r\n\r\n";
	struct h1_parser *p = req_parser();
	struct h1_event ev;
	const struct h1_str *v;
	size_t n;

	n = h1_parse(p, S(req), &ev);
	CU_ASSERT_EQUAL(n, sizeof(req) - 1);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->hdrs.n, 4);
	v = h1_hdrs_get(&ev.msg->hdrs, "host");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(v->len, 14); /* OWS trimmed on both sides */
	CU_ASSERT(!memcmp(v->p, "a.example:8080", 14));
	v = h1_hdrs_get(&ev.msg->hdrs, "X-EMPTY");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(v->len, 0);
	CU_ASSERT_EQUAL(h1_hdrs_find(&ev.msg->hdrs, "X-MIXED-case", 12, 0), 2);
	v = h1_hdrs_get(&ev.msg->hdrs, "X-Obs");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(v->len, 5);
	CU_ASSERT_PTR_EQUAL(h1_parser_msg(p), ev.msg);
	n = h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	CU_ASSERT(h1_parser_idle(p));
	n = h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_NONE);
	/* the head stays valid until bytes of the next message arrive */
	CU_ASSERT_PTR_NOT_NULL(h1_parser_msg(p));
	h1_parser_free(p);
}

/* A well-formed method llhttp does not know is forwarded as received (RFC 9110 §9.1): its
 * name, target, fields and body come through as for any method, whatever the split. */
static void test_extension_methods(void)
{
	static const char *const names[] = {"FOO", "get", "GETX", "DESCRIBE", "MY-METHOD",
		"BASELINE-CONTROL", "X_Y!#$%&'*+.^`|~", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF"};
	char req[256];
	struct rec r;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n = snprintf(req, sizeof(req),
			"\r\n%s /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
			"GET /y HTTP/1.1\r\nHost: a\r\n\r\n",
			names[i]);

		parse_all_steps(H1_REQUEST, 0, req, (size_t)n, &r);
		CU_ASSERT_EQUAL(r.error, 0);
		CU_ASSERT_EQUAL_FATAL(r.nmsg, 2);
		CU_ASSERT_EQUAL(r.m[0].method, H1_METHOD_EXT);
		CU_ASSERT_STRING_EQUAL(r.m[0].method_name, names[i]);
		CU_ASSERT_STRING_EQUAL(r.m[0].target, "/x");
		CU_ASSERT_STRING_EQUAL(r.m[0].hdr0, "Host: a");
		CU_ASSERT_EQUAL(r.m[0].body_len, 3);
		CU_ASSERT_EQUAL(r.m[0].done, 1);
		CU_ASSERT_EQUAL(r.m[1].method, H1_METHOD_GET);
		CU_ASSERT_STRING_EQUAL(r.m[1].target, "/y");
		CU_ASSERT_EQUAL(r.consumed, (size_t)n);
	}
	/* an absolute-form target, and chunked framing */
	parse_all_steps(H1_REQUEST, 0,
		S("PROPFIND http://a/d HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "2\r\nab\r\n0\r\n\r\n"),
		&r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.m[0].method, 12); /* llhttp's PROPFIND */
	parse_all_steps(H1_REQUEST, 0,
		S("BREW http://a/pot HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "2\r\nab\r\n0\r\n\r\n"),
		&r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.m[0].method, H1_METHOD_EXT);
	CU_ASSERT_STRING_EQUAL(r.m[0].method_name, "BREW");
	CU_ASSERT(r.m[0].flags & H1_F_ABS_TARGET);
	CU_ASSERT_EQUAL(r.m[0].body_len, 2);
	CU_ASSERT_STRING_EQUAL(h1_method_str(H1_METHOD_EXT), "<extension>");
}

static void test_post_cl(void)
{
	static const char req[] = "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"
				  "hello world";
	struct rec r;

	parse_all_steps(H1_REQUEST, 0, S(req), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.nmsg, 1);
	CU_ASSERT_EQUAL(r.m[0].method, H1_METHOD_POST);
	CU_ASSERT_EQUAL(r.m[0].framing, H1_BODY_LENGTH);
	CU_ASSERT_EQUAL(r.m[0].cl, 11);
	CU_ASSERT_EQUAL(r.m[0].body_len, 11);
	CU_ASSERT(!memcmp(r.m[0].body, "hello world", 11));
	CU_ASSERT_EQUAL(r.m[0].done, 1);
}

static void test_cl_zero(void)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_REQUEST, 0, S(req), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.m[0].framing, H1_BODY_NONE);
	CU_ASSERT_EQUAL(r.m[0].done, 1);
}

static void test_chunked_trailers(void)
{
	static const char req[] =
		"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"4\r\nWiki\r\n5;ext=1\r\npedia\r\nE;a;q=\"x; y\"\r\n in\r\n\r\nchunks.\r\n"
		"0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_REQUEST, 0, S(req), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.nmsg, 1);
	CU_ASSERT_EQUAL(r.m[0].framing, H1_BODY_CHUNKED);
	CU_ASSERT_EQUAL(r.m[0].body_len, 23);
	CU_ASSERT(!memcmp(r.m[0].body, "Wikipedia in\r\n\r\nchunks.", 23));
	CU_ASSERT_EQUAL(r.m[0].ntrailers, 2);
	CU_ASSERT_STRING_EQUAL(r.m[0].trailer0, "X-Checksum: abc");
	CU_ASSERT(r.m[0].flags & H1_F_HAS_TRAILERS);
	CU_ASSERT_EQUAL(r.m[0].done, 1);
	CU_ASSERT_EQUAL(r.consumed, sizeof(req) - 1);
}

static void test_chunked_no_trailers(void)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
				  "1\r\nx\r\nA\r\n0123456789\r\n0\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_REQUEST, 0, S(req), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.m[0].body_len, 11);
	CU_ASSERT_EQUAL(r.m[0].ntrailers, 0);
	CU_ASSERT_FALSE(r.m[0].flags & H1_F_HAS_TRAILERS);
	CU_ASSERT_EQUAL(r.m[0].done, 1);
}

static void test_pipelined(void)
{
	static const char reqs[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
				   "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
				   "\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	struct h1_parser *p = req_parser();
	struct h1_event ev;
	struct rec r;
	size_t n;

	parse_all_steps(H1_REQUEST, 0, S(reqs), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL_FATAL(r.nmsg, 3);
	CU_ASSERT_STRING_EQUAL(r.m[0].target, "/1");
	CU_ASSERT_STRING_EQUAL(r.m[1].target, "/2");
	CU_ASSERT_STRING_EQUAL(r.m[2].target, "/3");
	CU_ASSERT_EQUAL(r.m[1].body_len, 3);
	CU_ASSERT(r.m[1].flags & H1_F_KEEP_ALIVE);
	CU_ASSERT_FALSE(r.m[2].flags & H1_F_KEEP_ALIVE);
	CU_ASSERT(r.m[2].flags & H1_F_CONN_CLOSE);
	CU_ASSERT_EQUAL(r.consumed_at_done, 28); /* stopped right after the first message */

	/* A caller that is not ready does not call again: the parser has not looked further. */
	n = h1_parse(p, S(reqs), &ev);
	CU_ASSERT_EQUAL(n, 28);
	CU_ASSERT_EQUAL(ev.type, H1_EV_HEAD);
	n = h1_parse(p, reqs + 28, sizeof(reqs) - 1 - 28, &ev);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	CU_ASSERT_EQUAL(h1_parser_msg(p)->target.p[1], '1');
	n = h1_parse(p, reqs + 28, sizeof(reqs) - 1 - 28, &ev);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->target.len, 2);
	CU_ASSERT_EQUAL(ev.msg->target.p[1], '2');
	h1_parser_free(p);
}

static void test_pipelined_many(void)
{
	struct h1_parser *p = req_parser();
	struct h1_buf b;
	size_t off = 0;
	int heads = 0, dones = 0;

	h1_buf_init(&b, 0);
	for (int i = 0; i < 500; i++) {
		char one[64];
		int n = snprintf(one, sizeof(one), "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i);

		CU_ASSERT_EQUAL_FATAL(h1_buf_append(&b, one, (size_t)n), 0);
	}
	for (int guard = 0; guard < 5000; guard++) {
		struct h1_event ev;
		size_t n = h1_parse(p, b.p + off, b.len - off, &ev);

		off += n;
		if (ev.type == H1_EV_NONE)
			break;
		if (ev.type == H1_EV_HEAD) {
			char want[16];

			snprintf(want, sizeof(want), "/%d", heads++);
			CU_ASSERT_EQUAL(ev.msg->target.len, strlen(want));
			CU_ASSERT(!memcmp(ev.msg->target.p, want, strlen(want)));
		} else if (ev.type == H1_EV_DONE) {
			dones++;
		} else {
			CU_FAIL("unexpected event");
			break;
		}
	}
	CU_ASSERT_EQUAL(heads, 500);
	CU_ASSERT_EQUAL(dones, 500);
	CU_ASSERT_EQUAL(off, b.len);
	h1_buf_free(&b);
	h1_parser_free(p);
}

static void test_response_keepalive(void)
{
	static const struct {
		const char *in;
		bool keep;
	} cases[] = {
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false},
		{"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
		{"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true},
		{"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
			false},
		{"HTTP/1.1 204 No Content\r\n\r\n", true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct h1_parser *p = resp_parser(H1_METHOD_GET);
		struct h1_event ev;

		h1_parse(p, cases[i].in, strlen(cases[i].in), &ev);
		CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
		CU_ASSERT_EQUAL(!!(ev.msg->flags & H1_F_KEEP_ALIVE), cases[i].keep);
		CU_ASSERT_EQUAL(ev.msg->framing, H1_BODY_NONE);
		h1_parse(p, NULL, 0, &ev);
		CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
		h1_parser_free(p);
	}
}

static void test_data_after_close(void)
{
	static const char reqs[] = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
				   "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_REQUEST, 0, S(reqs), &r);
	CU_ASSERT_EQUAL(r.nmsg, 1);
	CU_ASSERT_EQUAL(r.m[0].done, 1);
	CU_ASSERT_EQUAL(r.error, 1);
	CU_ASSERT_EQUAL(r.err, H1_E_SYNTAX);
	CU_ASSERT_EQUAL(r.status, 400);
}

static void test_leading_crlf(void)
{
	static const char req[] = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_REQUEST, 0, S(req), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.nmsg, 1);
	CU_ASSERT_EQUAL(r.m[0].done, 1);
}

static void test_http10(void)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	static const char ka[] = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
				 "GET /b HTTP/1.0\r\nHost: x\r\nExpect: 100-continue\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_REQUEST, 0, S(req), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.m[0].minor, 0);
	CU_ASSERT_FALSE(r.m[0].flags & H1_F_KEEP_ALIVE);
	parse_all_steps(H1_REQUEST, 0, S(ka), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL_FATAL(r.nmsg, 2);
	CU_ASSERT(r.m[0].flags & H1_F_KEEP_ALIVE);
	CU_ASSERT(r.m[0].flags & H1_F_CONN_KEEPALIVE);
	CU_ASSERT_FALSE(r.m[1].flags & H1_F_KEEP_ALIVE);
	/* Expect is ignored in HTTP/1.0 (RFC 9110 §10.1.1) */
	CU_ASSERT_FALSE(r.m[1].flags & H1_F_EXPECT_CONTINUE);
}

static void test_expect_continue(void)
{
	static const char head[] = "PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
				   "Expect: 100-Continue\r\n\r\n";
	struct h1_parser *p = req_parser();
	struct h1_event ev;
	size_t n;

	n = h1_parse(p, S(head), &ev);
	CU_ASSERT_EQUAL(n, sizeof(head) - 1);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT(ev.msg->flags & H1_F_EXPECT_CONTINUE);
	CU_ASSERT_FALSE(ev.msg->flags & H1_F_EXPECT_OTHER);
	CU_ASSERT(h1_parser_in_body(p));
	CU_ASSERT_FALSE(h1_parser_idle(p));
	/* the body only comes after the caller sends 100 Continue */
	n = h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_NONE);
	CU_ASSERT_EQUAL(strlen(H1_100_CONTINUE), 25);
	n = h1_parse(p, S("data"), &ev);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(ev.type, H1_EV_BODY);
	n = h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	h1_parser_free(p);

	p = req_parser();
	h1_parse(p, S("GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT(ev.msg->flags & H1_F_EXPECT_OTHER);
	h1_parser_free(p);
}

static void test_backpressure(void)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"
				  "0123456789GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char ch[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "a\r\n0123456789\r\n0\r\n\r\n";
	size_t head = sizeof(req) - 1 - 10 - 27, off;
	struct h1_parser *p = req_parser();
	struct h1_event ev;
	size_t n;

	n = h1_parse(p, req, sizeof(req) - 1, &ev);
	CU_ASSERT_EQUAL(n, head);
	CU_ASSERT_EQUAL(ev.type, H1_EV_HEAD);
	/* the caller can take 3 body bytes now: it passes 3 */
	n = h1_parse(p, req + head, 3, &ev);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(ev.type, H1_EV_BODY);
	CU_ASSERT_EQUAL(ev.data.len, 3);
	CU_ASSERT_PTR_EQUAL(ev.data.p, req + head); /* zero copy */
	n = h1_parse(p, req + head + 3, sizeof(req) - 1 - head - 3, &ev);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_EQUAL(ev.type, H1_EV_BODY);
	CU_ASSERT_EQUAL(ev.data.len, 7);
	n = h1_parse(p, req + head + 10, 27, &ev);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	h1_parser_free(p);

	/* chunked: the slice never extends past the bytes passed in */
	p = req_parser();
	off = h1_parse(p, S(ch), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_HEAD);
	n = h1_parse(p, ch + off, 8, &ev); /* "a\r\n01234" */
	CU_ASSERT_EQUAL(n, 8);
	CU_ASSERT_EQUAL(ev.type, H1_EV_BODY);
	CU_ASSERT_EQUAL(ev.data.len, 5);
	CU_ASSERT(!memcmp(ev.data.p, "01234", 5));
	h1_parser_free(p);
}

static void test_target_forms(void)
{
	struct rec r;

	parse_all_steps(
		H1_REQUEST, 0, S("GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n"), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT(r.m[0].flags & H1_F_ABS_TARGET);
	parse_all_steps(
		H1_REQUEST, 0, S("GET https://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n"), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT(r.m[0].flags & H1_F_ABS_TARGET);
	parse_all_steps(H1_REQUEST, 0, S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_STRING_EQUAL(r.m[0].target, "*");
	parse_all_steps(H1_REQUEST, 0, S("DELETE /x HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL(r.m[0].method, H1_METHOD_DELETE);
}

static void test_connect(void)
{
	static const char req[] =
		"CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n"
		"\x16\x03\x01 tunnel bytes";
	struct h1_parser *p = req_parser();
	struct h1_event ev;
	size_t n, off;

	off = h1_parse(p, S(req), &ev);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->method, H1_METHOD_CONNECT);
	CU_ASSERT(ev.msg->flags & H1_F_UPGRADE);
	CU_ASSERT_EQUAL(off, sizeof(req) - 1 - 16);
	n = h1_parse(p, req + off, sizeof(req) - 1 - off, &ev);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	n = h1_parse(p, req + off, sizeof(req) - 1 - off, &ev);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(ev.type, H1_EV_UPGRADE);
	n = h1_parse(p, req + off, sizeof(req) - 1 - off, &ev);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(ev.type, H1_EV_UPGRADE); /* sticky */
	h1_parse_eof(p, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_UPGRADE);
	h1_parser_free(p);

	/* the upstream's answer */
	p = resp_parser(H1_METHOD_CONNECT);
	n = h1_parse(p, S("HTTP/1.1 200 Connection Established\r\n\r\nXYZ"), &ev);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->framing, H1_BODY_TUNNEL);
	CU_ASSERT_EQUAL(n, 39);
	h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	h1_parse(p, "XYZ", 3, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_UPGRADE);
	h1_parser_free(p);

	/* a refused CONNECT is an ordinary response with a body */
	p = resp_parser(H1_METHOD_CONNECT);
	h1_parse(p, S("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"), &ev);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->framing, H1_BODY_LENGTH);
	h1_parser_free(p);

	/* a CONNECT the upstream refused: the client may go on with HTTP */
	p = req_parser();
	h1_parse(p, S("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_HEAD);
	h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	h1_parse(p, S("GET /after HTTP/1.1\r\nHost: a\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_UPGRADE);
	CU_ASSERT_EQUAL(h1_parser_resume_http(p), 0);
	n = h1_parse(p, S("GET /after HTTP/1.1\r\nHost: a\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL(n, 32);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->target.len, 6);
	h1_parser_free(p);

	/* authority-form only for CONNECT, and CONNECT only with it */
	p = req_parser();
	h1_parse(p, S("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_ERROR);
	CU_ASSERT_EQUAL(ev.err, H1_E_TARGET);
	h1_parser_free(p);
}

static void test_upgrade(void)
{
	static const char req[] =
		"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
		"Upgrade: websocket\r\n\r\n"
		"GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t first = sizeof(req) - 1 - 31;
	struct h1_parser *p = req_parser();
	struct h1_event ev;
	size_t n;

	n = h1_parse(p, S(req), &ev);
	CU_ASSERT_EQUAL(n, first);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT(ev.msg->flags & H1_F_UPGRADE);
	CU_ASSERT(ev.msg->flags & H1_F_CONN_UPGRADE);
	h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	n = h1_parse(p, req + first, 31, &ev);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(ev.type, H1_EV_UPGRADE);
	/* the upstream declined (answered 200): HTTP goes on */
	CU_ASSERT_EQUAL(h1_parser_resume_http(p), 0);
	CU_ASSERT_EQUAL(h1_parser_resume_http(p), -EINVAL);
	n = h1_parse(p, req + first, 31, &ev);
	CU_ASSERT_EQUAL(n, 31);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->target.len, 5);
	h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	h1_parser_free(p);

	/* 101 from the upstream */
	p = resp_parser(H1_METHOD_GET);
	n = h1_parse(p,
		S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\n\r\n\x81\x00"),
		&ev);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->framing, H1_BODY_TUNNEL);
	h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	h1_parse(p, "\x81\x00", 2, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_UPGRADE);
	h1_parser_free(p);
}

static void test_response_basic(void)
{
	static const char resp[] =
		"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n"
		"Content-Type: text/plain\r\n\r\nnope\n"
		"HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_RESPONSE, H1_METHOD_GET, S(resp), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL_FATAL(r.nmsg, 2);
	CU_ASSERT_EQUAL(r.m[0].status, 404);
	CU_ASSERT_STRING_EQUAL(r.m[0].reason, "Not Found");
	CU_ASSERT_EQUAL(r.m[0].body_len, 5);
	CU_ASSERT_EQUAL(r.m[0].method, H1_METHOD_GET);
	CU_ASSERT_EQUAL(r.m[1].status, 200);
	CU_ASSERT_STRING_EQUAL(r.m[1].reason, "");
	CU_ASSERT_EQUAL(r.m[1].framing, H1_BODY_CHUNKED);
	CU_ASSERT_EQUAL(r.m[1].body_len, 2);
	CU_ASSERT_EQUAL(r.m[1].done, 1);
}

static void test_response_head(void)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_RESPONSE, H1_METHOD_HEAD, S(resp), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL_FATAL(r.nmsg, 2);
	CU_ASSERT_EQUAL(r.m[0].framing, H1_BODY_NONE);
	CU_ASSERT_EQUAL(r.m[0].body_len, 0);
	CU_ASSERT_EQUAL(r.m[0].done, 1);
	CU_ASSERT(r.m[0].flags & H1_F_KEEP_ALIVE);
	CU_ASSERT_EQUAL(r.m[1].framing, H1_BODY_NONE);
	CU_ASSERT_EQUAL(r.m[1].done, 1);
}

static void test_response_1xx(void)
{
	static const char resp[] = "HTTP/1.1 100 Continue\r\n\r\n"
				   "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
				   "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
	struct rec r;

	parse_all_steps(H1_RESPONSE, H1_METHOD_POST, S(resp), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL_FATAL(r.nmsg, 3);
	CU_ASSERT_EQUAL(r.m[0].status, 100);
	CU_ASSERT_EQUAL(r.m[0].framing, H1_BODY_NONE);
	CU_ASSERT_EQUAL(r.m[0].done, 1);
	CU_ASSERT_EQUAL(r.m[1].status, 103);
	CU_ASSERT_EQUAL(r.m[1].nhdrs, 1);
	CU_ASSERT_EQUAL(r.m[2].status, 201);
	CU_ASSERT_EQUAL(r.m[2].body_len, 2);
	CU_ASSERT_EQUAL(r.m[2].done, 1);
}

static void test_response_204_304(void)
{
	static const char resp[] =
		"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
		"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 9\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct rec r;

	parse_all_steps(H1_RESPONSE, H1_METHOD_GET, S(resp), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL_FATAL(r.nmsg, 3);
	CU_ASSERT_EQUAL(r.m[0].framing, H1_BODY_NONE);
	CU_ASSERT_EQUAL(r.m[1].framing, H1_BODY_NONE);
	CU_ASSERT_EQUAL(r.m[2].status, 200);
	CU_ASSERT_EQUAL(r.m[2].done, 1);
}

static void test_response_close_delimited(void)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this"
				   " until EOF";
	struct h1_event ev;
	struct rec r;

	for (size_t i = 0; i < NSTEPS; i++) {
		struct h1_parser *p = resp_parser(H1_METHOD_GET);

		feed(p, S(resp), steps[i], &r);
		CU_ASSERT_EQUAL(r.bad, 0);
		CU_ASSERT_EQUAL(r.error, 0);
		CU_ASSERT_EQUAL(r.m[0].framing, H1_BODY_CLOSE);
		CU_ASSERT_FALSE(r.m[0].flags & H1_F_KEEP_ALIVE);
		CU_ASSERT_EQUAL(r.m[0].body_len, 21);
		CU_ASSERT_EQUAL(r.m[0].done, 0); /* only EOF ends it */
		h1_parse_eof(p, &ev);
		CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
		h1_parse_eof(p, &ev);
		CU_ASSERT_EQUAL(ev.type, H1_EV_NONE);
		h1_parser_free(p);
	}
	/* HTTP/1.0 response without length */
	{
		struct h1_parser *p = resp_parser(H1_METHOD_GET);

		feed(p, S("HTTP/1.0 200 OK\r\n\r\nabc"), 0, &r);
		CU_ASSERT_EQUAL(r.m[0].framing, H1_BODY_CLOSE);
		h1_parse_eof(p, &ev);
		CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
		h1_parser_free(p);
	}
}

static void test_eof(void)
{
	static const struct {
		enum h1_kind kind;
		const char *in;
		enum h1_ev_type want;
	} cases[] = {
		{H1_REQUEST, "", H1_EV_NONE},
		{H1_REQUEST, "\r\n", H1_EV_NONE},
		{H1_REQUEST, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", H1_EV_NONE},
		{H1_REQUEST, "GE", H1_EV_ERROR},
		{H1_REQUEST, "GET / HTTP/1.1\r\nHost: a\r\n", H1_EV_ERROR},
		{H1_REQUEST, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabc",
			H1_EV_ERROR},
		{H1_REQUEST,
			"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
			H1_EV_ERROR},
		{H1_REQUEST,
			"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n",
			H1_EV_ERROR},
		{H1_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", H1_EV_ERROR},
		{H1_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345",
			H1_EV_ERROR},
	};

	/* EOF while telling a bad method from an unknown one */
	{
		struct h1_parser *p = req_parser();
		struct h1_event ev;

		CU_ASSERT_EQUAL(h1_parse(p, S("FOOBAR"), &ev), 6);
		CU_ASSERT_EQUAL(ev.type, H1_EV_NONE);
		h1_parse_eof(p, &ev);
		CU_ASSERT_EQUAL(ev.type, H1_EV_ERROR);
		CU_ASSERT_EQUAL(ev.err, H1_E_METHOD);
		h1_parser_free(p);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct h1_parser *p = h1_parser_new(cases[i].kind, NULL);
		struct h1_event ev;
		struct rec r;

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		feed(p, cases[i].in, strlen(cases[i].in), 0, &r);
		CU_ASSERT_EQUAL(r.error, 0);
		h1_parse_eof(p, &ev);
		if (ev.type != cases[i].want)
			fprintf(stderr, "\neof case %zu: got %d\n", i, ev.type);
		CU_ASSERT_EQUAL(ev.type, cases[i].want);
		if (ev.type == H1_EV_ERROR) {
			CU_ASSERT_EQUAL(ev.err, H1_E_TRUNCATED);
			CU_ASSERT_EQUAL(ev.status, cases[i].kind == H1_REQUEST ? 400 : 502);
		}
		h1_parser_free(p);
	}
}

/* ------------------------------------------------------------------------------------------
 * Bad input: each case with the error and status expected, fed whole and in pieces.
 */

struct bad_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	enum h1_err err;
	int status;
};

#define BAD(n, s, e, st)                   \
	{                                  \
		n, s, sizeof(s) - 1, e, st \
	}
#define CHUNKED_HEAD "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

static const struct bad_case bad_requests[] = {
	/* request line */
	BAD("method token too long",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1\r\nHost: a\r\n\r\n",
		H1_E_METHOD_UNKNOWN, 501),
	BAD("extension method, asterisk target", "FOO * HTTP/1.1\r\nHost: a\r\n\r\n",
		H1_E_TARGET, 400),
	BAD("extension method, authority target", "FOO a:80 HTTP/1.1\r\nHost: a\r\n\r\n",
		H1_E_TARGET, 400),
	BAD("extension method, double space", "FOO  / HTTP/1.1\r\nHost: a\r\n\r\n",
		H1_E_SYNTAX, 400),
	BAD("extension method, bad field", "FOO / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n",
		H1_E_SPACE_COLON, 400),
	BAD("method with separator", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_METHOD, 400),
	BAD("method with CTL", "GE\x01T / HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("method then CRLF", "FOO\r\nHost: a\r\n\r\n", H1_E_METHOD, 400),
	BAD("TLS on a plain port", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", H1_E_SYNTAX,
		400),
	BAD("double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("no version (0.9 form)", "GET /\r\nHost: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("ctl in target", "GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("8-bit target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("relative target", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_TARGET, 400),
	BAD("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_TARGET, 400),
	BAD("fragment in target", "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_TARGET, 400),
	BAD("CONNECT without port", "CONNECT host HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_TARGET, 400),
	BAD("version 1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", H1_E_VERSION_UNSUP, 505),
	BAD("version 2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", H1_E_VERSION_UNSUP, 505),
	BAD("version 3.0", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", H1_E_VERSION_UNSUP, 505),
	BAD("version 0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", H1_E_VERSION_UNSUP, 505),
	BAD("version no minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", H1_E_VERSION, 400),
	BAD("version lowercase", "GET / http/1.1\r\nHost: a\r\n\r\n", H1_E_VERSION, 400),
	BAD("RTSP version", "GET / RTSP/1.0\r\nHost: a\r\n\r\n", H1_E_VERSION, 400),
	BAD("ICE version", "SOURCE / ICE/1.0\r\nHost: a\r\n\r\n", H1_E_VERSION, 400),
	BAD("RTSP request", "DESCRIBE / RTSP/1.0\r\nHost: a\r\n\r\n", H1_E_VERSION, 400),
	BAD("PRI method", "PRI / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		H1_E_METHOD_UNKNOWN, 501),
	BAD("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", H1_E_VERSION_UNSUP, 505),
	BAD("version garbage", "GET / HTTP/1.1x\r\nHost: a\r\n\r\n", H1_E_VERSION, 400),
	/* line endings */
	BAD("bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", H1_E_BARE_LF, 400),
	BAD("bare LF after field", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", H1_E_BARE_LF, 400),
	BAD("bare LF ending head", "GET / HTTP/1.1\r\nHost: a\r\n\n", H1_E_BARE_LF, 400),
	BAD("bare CR leading line", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_BARE_CR, 400),
	BAD("scheme only target", "GET http:// HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_TARGET, 400),
	BAD("other scheme target", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_TARGET, 400),
	BAD("bare LF leading line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_BARE_LF, 400),
	BAD("bare CR in value", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", H1_E_BARE_CR, 400),
	BAD("bare CR in request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", H1_E_BARE_CR, 400),
	BAD("CR inside request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("bare CR ending head", "GET / HTTP/1.1\r\nHost: a\r\n\rX", H1_E_BARE_CR, 400),
	/* fields */
	BAD("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", H1_E_OBS_FOLD, 400),
	BAD("obs-fold tab", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", H1_E_OBS_FOLD, 400),
	BAD("space before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", H1_E_SYNTAX, 400),
	BAD("NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", H1_E_HEADER_VALUE, 400),
	BAD("SOH in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", H1_E_HEADER_VALUE,
		400),
	BAD("ESC in value", "GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[0m\r\n\r\n", H1_E_HEADER_VALUE,
		400),
	BAD("DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fz\r\n\r\n", H1_E_HEADER_VALUE,
		400),
	BAD("NUL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\0Y: a\r\n\r\n", H1_E_HEADER_NAME, 400),
	BAD("CTL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\x01: a\r\n\r\n", H1_E_HEADER_NAME, 400),
	BAD("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", H1_E_SPACE_COLON, 400),
	BAD("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", H1_E_SPACE_COLON, 400),
	BAD("space in name", "GET / HTTP/1.1\r\nHost: a\r\nX Y: a\r\n\r\n", H1_E_SPACE_COLON, 400),
	BAD("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", H1_E_HEADER_NAME, 400),
	BAD("no colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", H1_E_HEADER_NAME, 400),
	BAD("separator in name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): a\r\n\r\n", H1_E_HEADER_NAME,
		400),
	/* Host */
	BAD("missing Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", H1_E_HOST, 400),
	BAD("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", H1_E_HOST, 400),
	BAD("two identical Hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", H1_E_HOST, 400),
	BAD("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", H1_E_HOST, 400),
	BAD("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", H1_E_HOST, 400),
	BAD("two Hosts in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", H1_E_HOST, 400),
	/* Content-Length / Transfer-Encoding (request smuggling) */
	BAD("CL then TE",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\n\r\n",
		H1_E_CL_TE, 400),
	BAD("TE then CL",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
		"0\r\n\r\n",
		H1_E_CL_TE, 400),
	BAD("TE gzip then CL",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
		H1_E_CL_TE, 400),
	BAD("duplicate identical CL",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
		H1_E_CL_DUP, 400),
	BAD("duplicate differing CL",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		H1_E_CL_DUP, 400),
	BAD("CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
		H1_E_CL_INVALID, 400),
	BAD("CL plus sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
		H1_E_CL_INVALID, 400),
	BAD("CL negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
		H1_E_CL_INVALID, 400),
	BAD("CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc",
		H1_E_CL_INVALID, 400),
	BAD("CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", H1_E_CL_INVALID,
		400),
	BAD("CL overflow",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		H1_E_CL_INVALID, 400),
	BAD("TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
		H1_E_TE_INVALID, 400),
	BAD("TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
		H1_E_TE_INVALID, 400),
	BAD("TE chunked, gzip",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		H1_E_TE_INVALID, 400),
	BAD("TE chunked twice",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
		H1_E_TE_INVALID, 400),
	BAD("TE chunked in two fields",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		H1_E_TE_INVALID, 400),
	BAD("TE chunkedx", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n",
		H1_E_TE_INVALID, 400),
	BAD("TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", H1_E_TE_INVALID,
		400),
	BAD("TE gzip, chunked",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
		H1_E_TE_UNSUPPORTED, 501),
	BAD("TE gzip + chunked fields",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		H1_E_TE_UNSUPPORTED, 501),
	BAD("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		H1_E_TE_INVALID, 400),
	/* chunk framing */
	BAD("chunk 0x prefix", CHUNKED_HEAD "0x3\r\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk + prefix", CHUNKED_HEAD "+3\r\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk - prefix", CHUNKED_HEAD "-3\r\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk non-hex", CHUNKED_HEAD "g\r\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk leading space", CHUNKED_HEAD " 3\r\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk trailing space", CHUNKED_HEAD "3 \r\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk empty size", CHUNKED_HEAD "\r\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk size overflow", CHUNKED_HEAD "10000000000000000\r\nabc\r\n0\r\n\r\n", H1_E_CHUNK,
		400),
	BAD("chunk size bare LF", CHUNKED_HEAD "3\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk size bare CR", CHUNKED_HEAD "3\rabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk ext bare LF", CHUNKED_HEAD "3;a=b\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk ext CTL", CHUNKED_HEAD "3;a=\x01\r\nabc\r\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk data too long", CHUNKED_HEAD "3\r\nabcXY0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("chunk data bare LF", CHUNKED_HEAD "3\r\nabc\n0\r\n\r\n", H1_E_CHUNK, 400),
	BAD("last chunk bare LF", CHUNKED_HEAD "3\r\nabc\r\n0\n\r\n", H1_E_CHUNK, 400),
	BAD("trailer end bare LF", CHUNKED_HEAD "3\r\nabc\r\n0\r\n\n", H1_E_BARE_LF, 400),
	BAD("trailer bare LF", CHUNKED_HEAD "0\r\nX: y\n\r\n", H1_E_BARE_LF, 400),
	BAD("trailer obs-fold", CHUNKED_HEAD "0\r\nX: y\r\n z\r\n\r\n", H1_E_OBS_FOLD, 400),
	BAD("trailer NUL", CHUNKED_HEAD "0\r\nX: a\0b\r\n\r\n", H1_E_HEADER_VALUE, 400),
	BAD("trailer Content-Length", CHUNKED_HEAD "0\r\nContent-Length: 5\r\n\r\n", H1_E_TRAILER,
		400),
	BAD("trailer Transfer-Encoding", CHUNKED_HEAD "0\r\nX: 1\r\ntransfer-encoding: x\r\n\r\n",
		H1_E_TE_INVALID, 400),
	BAD("trailer Host", CHUNKED_HEAD "0\r\nHost: evil\r\n\r\n", H1_E_TRAILER, 400),
	BAD("trailer space colon", CHUNKED_HEAD "0\r\nX : y\r\n\r\n", H1_E_SPACE_COLON, 400),
};

static const struct bad_case bad_responses[] = {
	BAD("short status", "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", H1_E_STATUS, 502),
	BAD("long status", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", H1_E_STATUS, 502),
	BAD("status glued", "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n", H1_E_STATUS, 502),
	BAD("status 099", "HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n", H1_E_STATUS, 502),
	BAD("no status", "HTTP/1.1\r\n\r\n", H1_E_STATUS, 502),
	BAD("not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", H1_E_STATUS, 502),
	BAD("version 2", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", H1_E_VERSION_UNSUP, 502),
	BAD("CL and TE",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		H1_E_CL_TE, 502),
	BAD("dup CL", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		H1_E_CL_DUP, 502),
	BAD("TE gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", H1_E_TE_INVALID,
		502),
	BAD("obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", H1_E_OBS_FOLD,
		502),
	BAD("bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", H1_E_BARE_LF, 502),
	BAD("NUL", "HTTP/1.1 200 OK\r\nX: \0\r\nContent-Length: 0\r\n\r\n", H1_E_HEADER_VALUE, 502),
	BAD("bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", H1_E_CHUNK,
		502),
	BAD("trailer Transfer-Encoding",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTransfer-Encoding: n\r\n\r\n",
		H1_E_TRAILER, 502),
};

static void run_bad(enum h1_kind kind, const struct bad_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t s = 0; s < NSTEPS; s++) {
			struct h1_parser *p = h1_parser_new(kind, NULL);
			struct h1_event ev;
			struct rec r;

			CU_ASSERT_PTR_NOT_NULL_FATAL(p);
			feed(p, c[i].in, c[i].len, steps[s], &r);
			if (!r.error || r.err != c[i].err || r.status != c[i].status || r.bad)
				fprintf(stderr,
					"\n  %s (step %zu): error %d err %d (%s) status %d\n",
					c[i].name, steps[s], r.error, r.err, h1_err_str(r.err),
					r.status);
			CU_ASSERT_EQUAL(r.bad, 0);
			CU_ASSERT_EQUAL(r.error, 1);
			CU_ASSERT_EQUAL(r.err, c[i].err);
			CU_ASSERT_EQUAL(r.status, c[i].status);
			/* nothing of a rejected message was passed on as complete */
			for (int k = 0; k < r.nmsg; k++)
				if (k == r.nmsg - 1)
					CU_ASSERT_EQUAL(r.m[k].done, 0);
			/* the error is sticky and consumes nothing */
			CU_ASSERT_EQUAL(h1_parse(p, "x", 1, &ev), 0);
			CU_ASSERT_EQUAL(ev.type, H1_EV_ERROR);
			CU_ASSERT_EQUAL(ev.err, c[i].err);
			h1_parse_eof(p, &ev);
			CU_ASSERT_EQUAL(ev.type, H1_EV_ERROR);
			h1_parser_free(p);
		}
	}
}

static void test_bad_requests(void)
{
	run_bad(H1_REQUEST, bad_requests, sizeof(bad_requests) / sizeof(bad_requests[0]));
}

static void test_bad_responses(void)
{
	run_bad(H1_RESPONSE, bad_responses, sizeof(bad_responses) / sizeof(bad_responses[0]));
}

/* ------------------------------------------------------------------------------------------
 * Limits
 */

static void expect_error(const struct h1_limits *lim, enum h1_kind kind, const char *in, size_t len,
	enum h1_err err, int status)
{
	for (size_t s = 0; s < NSTEPS; s++) {
		struct h1_parser *p = h1_parser_new(kind, lim);
		struct rec r;

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		feed(p, in, len, steps[s], &r);
		CU_ASSERT_EQUAL(r.bad, 0);
		CU_ASSERT_EQUAL(r.error, 1);
		CU_ASSERT_EQUAL(r.err, err);
		CU_ASSERT_EQUAL(r.status, status);
		h1_parser_free(p);
	}
}

static void expect_ok(const struct h1_limits *lim, const char *in, size_t len, int nmsg)
{
	for (size_t s = 0; s < NSTEPS; s++) {
		struct h1_parser *p = h1_parser_new(H1_REQUEST, lim);
		struct rec r;

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		feed(p, in, len, steps[s], &r);
		CU_ASSERT_EQUAL(r.bad, 0);
		CU_ASSERT_EQUAL(r.error, 0);
		CU_ASSERT_EQUAL(r.nmsg, nmsg);
		h1_parser_free(p);
	}
}

static void test_limit_head(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: 0123456789\r\n\r\n"; /* 46 */
	struct h1_limits lim = {.max_head = sizeof(req) - 1};
	char *big;

	expect_ok(&lim, S(req), 1);
	lim.max_head--;
	expect_error(&lim, H1_REQUEST, S(req), H1_E_HEAD_TOO_BIG, 431);
	/* a long request line alone */
	lim.max_head = 64;
	expect_error(&lim, H1_REQUEST,
		S("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n"),
		H1_E_LINE_TOO_LONG, 414);
	/* an endless unknown method is bounded by the same limit */
	expect_error(&lim, H1_REQUEST,
		S("FOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO"),
		H1_E_METHOD, 400);
	/* endless empty lines before a request are bounded too */
	expect_error(&lim, H1_REQUEST,
		S("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
		  "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"),
		H1_E_HEAD_TOO_BIG, 431);
	/* default limit: 16 KiB */
	big = malloc(20000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
	memset(big + 28, 'a', 20000 - 28);
	expect_error(NULL, H1_REQUEST, big, 20000, H1_E_HEAD_TOO_BIG, 431);
	free(big);
}

static void test_limit_fields(void)
{
	struct h1_limits lim = {.max_headers = 3};
	static const char three[] = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
	static const char four[] = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	static const char trailers[] = CHUNKED_HEAD "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
	char buf[8192];
	size_t n;

	expect_ok(&lim, S(three), 1);
	expect_error(&lim, H1_REQUEST, S(four), H1_E_TOO_MANY_HEADERS, 431);
	expect_error(&lim, H1_REQUEST, S(trailers), H1_E_TOO_MANY_HEADERS, 431);
	/* default: 100 fields */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "F%d: v\r\n", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	expect_error(NULL, H1_REQUEST, buf, n, H1_E_TOO_MANY_HEADERS, 431);
}

static void test_limit_body(void)
{
	struct h1_limits lim = {.max_body = 10};

	expect_ok(&lim, S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"), 1);
	expect_error(&lim, H1_REQUEST,
		S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n0123456789a"),
		H1_E_BODY_TOO_BIG, 413);
	expect_ok(&lim, S(CHUNKED_HEAD "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"), 1);
	expect_error(&lim, H1_REQUEST, S(CHUNKED_HEAD "5\r\n01234\r\n6\r\n567890\r\n0\r\n\r\n"),
		H1_E_BODY_TOO_BIG, 413);
	expect_error(
		&lim, H1_REQUEST, S(CHUNKED_HEAD "ffffffffffffffff\r\n"), H1_E_BODY_TOO_BIG, 413);
	/* a response parser with a limit, close-delimited */
	expect_error(
		&lim, H1_RESPONSE, S("HTTP/1.1 200 OK\r\n\r\n0123456789a"), H1_E_BODY_TOO_BIG, 502);
}

static void test_strict_llhttp(void)
{
	/* llhttp's loose mode skips the two bytes after chunk data unchecked; this codec must
	 * be linked with a strict-mode llhttp, which this catches. */
	struct h1_parser *p = req_parser();
	struct rec r;

	feed(p, S(CHUNKED_HEAD "1\r\naXY0\r\n\r\n"), 0, &r);
	CU_ASSERT_EQUAL(r.error, 1);
	CU_ASSERT_EQUAL(r.err, H1_E_CHUNK);
	h1_parser_free(p);
}

static void test_parser_api(void)
{
	struct h1_parser *p;
	struct h1_event ev;

	errno = 0;
	CU_ASSERT_PTR_NULL(h1_parser_new(H1_KIND_MAX, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	p = req_parser();
	CU_ASSERT_EQUAL(h1_parser_set_method(p, H1_METHOD_HEAD), -EINVAL);
	CU_ASSERT(h1_parser_idle(p));
	CU_ASSERT_PTR_NULL(h1_parser_msg(p));
	CU_ASSERT_FALSE(h1_parser_in_body(p));
	h1_parse(p, S("GET / HTTP/1.1\r\nHo"), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_NONE);
	CU_ASSERT_FALSE(h1_parser_idle(p));
	h1_parser_trim(p); /* not idle: no effect */
	h1_parse(p, S("st: a\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_HEAD);
	h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	CU_ASSERT(h1_parser_idle(p));
	h1_parser_trim(p);
	h1_parse(p, S("GET /again HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->target.len, 6);
	h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	/* trimming forgets the head but not that the connection ends here */
	h1_parser_trim(p);
	CU_ASSERT_EQUAL(h1_parser_msg(p)->hdrs.n, 0);
	CU_ASSERT_EQUAL(h1_parser_msg(p)->target.len, 0);
	h1_parse(p, S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_ERROR);
	/* reset forgets everything, even an error */
	h1_parse(p, S("BAD"), &ev);
	h1_parser_reset(p);
	h1_parse(p, S("garbage\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_ERROR);
	h1_parser_reset(p);
	h1_parse(p, S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_HEAD);
	h1_parser_free(p);
	h1_parser_free(NULL);

	p = resp_parser(H1_METHOD_GET);
	CU_ASSERT_EQUAL(h1_parser_set_method(p, H1_METHOD_MAX), -EINVAL);
	h1_parser_free(p);

	CU_ASSERT_STRING_EQUAL(h1_method_str(H1_METHOD_PATCH), "PATCH");
	CU_ASSERT_STRING_EQUAL(h1_method_str(H1_METHOD_MAX), "<unknown>");
	CU_ASSERT_STRING_EQUAL(h1_err_str(H1_E_CL_TE), "both Content-Length and Transfer-Encoding");
	CU_ASSERT_STRING_EQUAL(h1_err_str(H1_E_MAX), "unknown error");
	for (int e = 0; e < H1_E_MAX; e++)
		CU_ASSERT_PTR_NOT_NULL(h1_err_str((enum h1_err)e));
}

/* ------------------------------------------------------------------------------------------
 * Header lists
 */

static void test_hdrs(void)
{
	static char big_value[700];
	struct h1_hdrs h;
	const struct h1_str *v;
	char name[16], val[64];

	memset(big_value, 'v', sizeof(big_value));
	h1_hdrs_init(&h, 200, 8192);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("Host"), S("a")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("X-A"), S("1")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("x-a"), S("2")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("Empty"), NULL, 0), 0);
	CU_ASSERT_EQUAL(h.n, 4);
	CU_ASSERT_EQUAL(h1_hdrs_find(&h, S("X-A"), 0), 1);
	CU_ASSERT_EQUAL(h1_hdrs_find(&h, S("X-A"), 2), 2);
	CU_ASSERT_EQUAL(h1_hdrs_find(&h, S("X-A"), 3), -1);
	CU_ASSERT_EQUAL(h1_hdrs_find(&h, S("X-"), 0), -1);
	v = h1_hdrs_get(&h, "HOST");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(v->len, 1);
	CU_ASSERT_PTR_NULL(h1_hdrs_get(&h, "Nope"));
	/* invalid names and values */
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, NULL, 0, S("v")), -EINVAL);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("A B"), S("v")), -EINVAL);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("A:"), S("v")), -EINVAL);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("A"), S("v\r\nX: injected")), -EINVAL);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("A"), "a\0b", 3), -EINVAL);
	CU_ASSERT_EQUAL(h1_hdrs_set(&h, S("X-A"), S("bad\n")), -EINVAL);
	CU_ASSERT_EQUAL(h.n, 4); /* unchanged by the failures */
	/* set replaces all, appended at the end */
	CU_ASSERT_EQUAL(h1_hdrs_set(&h, S("X-a"), S("3")), 0);
	CU_ASSERT_EQUAL(h.n, 3);
	CU_ASSERT_EQUAL(h1_hdrs_find(&h, S("x-A"), 0), 2);
	CU_ASSERT_EQUAL(h1_hdrs_set(&h, S("New"), S("n")), 0);
	CU_ASSERT_EQUAL(h.n, 4);
	CU_ASSERT_EQUAL(h1_hdrs_remove(&h, S("x-a")), 1);
	CU_ASSERT_EQUAL(h1_hdrs_remove(&h, S("x-a")), 0);
	h1_hdrs_remove_at(&h, 0);
	h1_hdrs_remove_at(&h, 99);
	CU_ASSERT_EQUAL(h.n, 2);
	CU_ASSERT_EQUAL(h1_hdrs_find(&h, S("Empty"), 0), 0);
	/* growth keeps every earlier field intact */
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "F%d", i);
		snprintf(val, sizeof(val), "value-%d-%0*d", i, 20, i);
		CU_ASSERT_EQUAL_FATAL(h1_hdrs_add(&h, name, strlen(name), val, strlen(val)), 0);
	}
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		snprintf(val, sizeof(val), "value-%d-%0*d", i, 20, i);
		v = h1_hdrs_get(&h, name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		CU_ASSERT_EQUAL(v->len, strlen(val));
		CU_ASSERT(!memcmp(v->p, val, v->len));
	}
	h1_hdrs_clear(&h);
	CU_ASSERT_EQUAL(h.n, 0);
	h1_hdrs_free(&h);

	/* adding or setting from a field of the same list, while the arena moves */
	h1_hdrs_init(&h, 64, 1 << 16);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("Seed"), S("0123456789")), 0);
	for (int i = 0; i < 12; i++) {
		const struct h1_header *f = &h.v[h.n - 1];

		CU_ASSERT_EQUAL_FATAL(
			h1_hdrs_add(&h, f->name.p, f->name.len, f->value.p, f->value.len), 0);
		CU_ASSERT_EQUAL_FATAL(h1_hdrs_add(&h, S("Pad"), big_value, sizeof(big_value)), 0);
	}
	CU_ASSERT_EQUAL(h1_hdrs_set(&h, h.v[0].name.p, h.v[0].name.len, h.v[1].value.p, 4), 0);
	v = h1_hdrs_get(&h, "seed");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(v->len, 4);
	CU_ASSERT(!memcmp(v->p, "0123", 4));
	CU_ASSERT_EQUAL(h1_hdrs_find(&h, S("Seed"), 0), (int)h.n - 1);
	h1_hdrs_free(&h);

	/* limits */
	h1_hdrs_init(&h, 2, 10);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("A"), S("123456789")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("B"), S("1")), -ENOSPC);
	h1_hdrs_free(&h);
	h1_hdrs_init(&h, 2, 100);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("A"), S("1")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("B"), S("1")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("C"), S("1")), -ENOSPC);
	CU_ASSERT_EQUAL(h.n, 2);
	h1_hdrs_free(&h);
	/* a set that does not fit leaves the old field */
	h1_hdrs_init(&h, 4, 8);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("A"), S("1234")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_set(&h, S("A"), S("12345")), -ENOSPC);
	CU_ASSERT_EQUAL(h.n, 1);
	CU_ASSERT_EQUAL(h1_hdrs_get(&h, "A")->len, 4);
	CU_ASSERT_EQUAL(h1_hdrs_set(&h, S("A"), S("12")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_get(&h, "a")->len, 2);
	h1_hdrs_free(&h);
}

static void test_value_tokens(void)
{
	struct h1_str v = {S(" keep-alive ,Upgrade,, close\t")};
	struct h1_str e = {NULL, 0};

	CU_ASSERT(h1_value_has_token(&v, "close"));
	CU_ASSERT(h1_value_has_token(&v, "UPGRADE"));
	CU_ASSERT(h1_value_has_token(&v, "keep-alive"));
	CU_ASSERT_FALSE(h1_value_has_token(&v, "keep"));
	CU_ASSERT_FALSE(h1_value_has_token(&v, "clos"));
	CU_ASSERT_FALSE(h1_value_has_token(&e, "close"));
}

/* Parse the head in <in> with <p>; <*m> is the parser's message. */
static void parse_head(struct h1_parser *p, const char *in, size_t len, struct h1_msg **m)
{
	struct h1_event ev;

	h1_parse(p, in, len, &ev);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	*m = ev.msg;
}

/* The word-at-a-time name comparison against the byte-wise one: each name the codec acts on,
 * in upper case, and with each byte replaced by every other byte value but CR (which no
 * field name or list element holds). */
static void test_fname_kind(void)
{
	static const struct {
		const char *name;
		enum fname kind;
	} names[] = {{"te", FN_TE}, {"host", FN_HOST}, {"expect", FN_EXPECT},
		{"trailer", FN_TRAILER}, {"upgrade", FN_UPGRADE}, {"connection", FN_CONNECTION},
		{"keep-alive", FN_KEEP_ALIVE}, {"content-length", FN_CONTENT_LENGTH},
		{"proxy-connection", FN_PROXY_CONNECTION},
		{"transfer-encoding", FN_TRANSFER_ENCODING}};
	char b[32];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len = strlen(names[i].name);

		CU_ASSERT_EQUAL(fname_kind(names[i].name, len), names[i].kind);
		for (size_t k = 0; k < len; k++)
			b[k] = (char)toupper((unsigned char)names[i].name[k]);
		CU_ASSERT_EQUAL(fname_kind(b, len), names[i].kind);
		for (size_t k = 0; k < len; k++) {
			memcpy(b, names[i].name, len);
			for (int c = 0; c < 256; c++) {
				bool same;

				if (c == '\r')
					continue;
				b[k] = (char)c;
				same = ieq(b, len, names[i].name, len);
				CU_ASSERT_EQUAL(fname_kind(b, len) == names[i].kind, same);
			}
		}
	}
}

static void test_strip_hop(void)
{
	static const char req[] =
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Foo, , host\r\n"
		"X-Foo: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
		"Upgrade: h2c\r\nProxy-Connection: keep-alive\r\nTrailer: X-T\r\n"
		"X-Bar: 2\r\nconnection: content-length\r\nContent-Length: 0\r\n\r\n";
	static const char ws[] = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, X-Foo\r\n"
				 "Upgrade: websocket\r\nX-Foo: 1\r\nSec-WebSocket-Key: k\r\n\r\n";
	struct h1_parser *p = req_parser();
	struct h1_msg *m;
	int n;

	parse_head(p, S(req), &m);
	n = h1_hdrs_strip_hop(&m->hdrs, 0);
	CU_ASSERT_EQUAL(n, 8);
	CU_ASSERT_EQUAL_FATAL(m->hdrs.n, 3);
	CU_ASSERT_EQUAL(h1_hdrs_find(&m->hdrs, S("Host"), 0), 0);
	CU_ASSERT_EQUAL(h1_hdrs_find(&m->hdrs, S("X-Bar"), 0), 1);
	CU_ASSERT_EQUAL(h1_hdrs_find(&m->hdrs, S("Content-Length"), 0), 2);
	CU_ASSERT_EQUAL(h1_hdrs_strip_hop(&m->hdrs, 0), 0);
	h1_parser_free(p);

	p = req_parser();
	parse_head(p, S(ws), &m);
	n = h1_hdrs_strip_hop(&m->hdrs, H1_HOP_KEEP_UPGRADE);
	CU_ASSERT_EQUAL(n, 2); /* Connection and X-Foo */
	CU_ASSERT_EQUAL_FATAL(m->hdrs.n, 4);
	CU_ASSERT(h1_hdrs_get(&m->hdrs, "Upgrade") != NULL);
	CU_ASSERT(h1_hdrs_get(&m->hdrs, "Sec-WebSocket-Key") != NULL);
	CU_ASSERT_EQUAL(h1_hdrs_find(&m->hdrs, S("Connection"), 0), 3);
	CU_ASSERT(h1_value_has_token(h1_hdrs_get(&m->hdrs, "Connection"), "upgrade"));
	h1_parser_free(p);

	p = req_parser();
	parse_head(p, S(ws), &m);
	CU_ASSERT_EQUAL(h1_hdrs_strip_hop(&m->hdrs, 0), 3);
	CU_ASSERT_PTR_NULL(h1_hdrs_get(&m->hdrs, "Upgrade"));
	h1_parser_free(p);
}

/* The hop-by-hop rule written the plain way (RFC 9110 §7.6.1, as h1.h states it), to check
 * h1_hdrs_strip_hop() against on generated lists: <keep[i]> says whether field i stays. */
static unsigned ref_strip(const struct h1_hdrs *h, bool keep_upgrade, bool *keep, bool *readd)
{
	static const char *const fixed[] = {"connection", "keep-alive", "te", "trailer",
		"transfer-encoding", "proxy-connection"};
	unsigned kept = 0;

	*readd = false;
	for (unsigned i = 0; i < h->n; i++) {
		const struct h1_str *nm = &h->v[i].name;

		keep[i] = true;
		for (size_t f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++)
			if (nm->len == strlen(fixed[f]) && !strncasecmp(nm->p, fixed[f], nm->len))
				keep[i] = false;
		if (!keep_upgrade && nm->len == 7 && !strncasecmp(nm->p, "upgrade", 7))
			keep[i] = false;
	}
	for (unsigned c = 0; c < h->n; c++) {
		const struct h1_str *v = &h->v[c].value;
		size_t pos = 0;

		if (h->v[c].name.len != 10 || strncasecmp(h->v[c].name.p, "connection", 10))
			continue;
		while (pos <= v->len) {
			size_t e = pos, a, b;

			while (e < v->len && v->p[e] != ',')
				e++;
			a = pos, b = e;
			while (a < b && (v->p[a] == ' ' || v->p[a] == '\t'))
				a++;
			while (b > a && (v->p[b - 1] == ' ' || v->p[b - 1] == '\t'))
				b--;
			pos = e + 1;
			if (b - a == 7 && !strncasecmp(v->p + a, "upgrade", 7))
				*readd = keep_upgrade;
			if (b == a ||
				(b - a == 14 && !strncasecmp(v->p + a, "content-length", 14)) ||
				(b - a == 4 && !strncasecmp(v->p + a, "host", 4)) ||
				(keep_upgrade && b - a == 7 &&
					!strncasecmp(v->p + a, "upgrade", 7)))
				continue;
			for (unsigned i = 0; i < h->n; i++)
				if (h->v[i].name.len == b - a &&
					!strncasecmp(h->v[i].name.p, v->p + a, b - a))
					keep[i] = false;
		}
	}
	for (unsigned i = 0; i < h->n; i++)
		kept += keep[i];
	return h->n - kept;
}

/* Generated lists: few or many (more than the stripper keeps on its stack) Connection
 * elements, repeated Connection fields, case variants, empty elements, framing fields named
 * in Connection; the result must match ref_strip() field by field. */
static void test_strip_hop_generated(void)
{
	static const char *const names[] = {"Connection", "connection", "CONNECTION", "X-A", "x-a",
		"X-B", "Keep-Alive", "TE", "Te", "Trailer", "Upgrade", "upgrade",
		"Transfer-Encoding", "Proxy-Connection", "Host", "Content-Length", "Expect", "X-C",
		"X-D", "X-E", "X-F", "X-G", "X-H", "X-I", "X-J", "Via", "close"};
	static const char *const elems[] = {"close", "keep-alive", "upgrade", "Upgrade", "X-A",
		"x-b", "X-C", "X-D", "X-E", "X-F", "X-G", "X-H", "X-I", "X-J", "Host",
		"content-length", "", " ", "Expect", "TE", "Via", "X-Z", "X-A "};
	uint32_t seed = 12345;

	for (int iter = 0; iter < 3000; iter++) {
		struct h1_hdrs h, orig;
		bool keep[40], readd;
		unsigned nf, want;
		bool ku = iter & 1;
		int got;

		h1_hdrs_init(&h, 64, 8192);
		h1_hdrs_init(&orig, 64, 8192);
		seed = seed * 1103515245u + 12345u;
		nf = 1 + (seed >> 16) % 30;
		for (unsigned i = 0; i < nf; i++) {
			const char *nm;
			char val[256] = "";
			size_t vl = 0;

			seed = seed * 1103515245u + 12345u;
			nm = names[(seed >> 16) % (sizeof(names) / sizeof(names[0]))];
			if (!strcasecmp(nm, "connection")) {
				unsigned ne = 1 + (seed >> 8) % (iter % 3 ? 4 : 16);

				for (unsigned k = 0; k < ne; k++) {
					const char *el;

					seed = seed * 1103515245u + 12345u;
					el = elems[(seed >> 16) %
						   (sizeof(elems) / sizeof(elems[0]))];
					vl += (size_t)snprintf(val + vl, sizeof(val) - vl, "%s%s",
						k ? (seed & 1 ? ", " : ",") : "", el);
				}
			} else {
				vl = (size_t)snprintf(val, sizeof(val), "v%u", i);
			}
			/* a value with edge OWS as the parser would leave it: trimmed */
			while (vl && (val[vl - 1] == ' '))
				val[--vl] = '\0';
			CU_ASSERT_EQUAL_FATAL(h1_hdrs_add(&h, nm, strlen(nm), val, vl), 0);
			CU_ASSERT_EQUAL_FATAL(h1_hdrs_add(&orig, nm, strlen(nm), val, vl), 0);
		}
		want = ref_strip(&orig, ku, keep, &readd);
		got = h1_hdrs_strip_hop(&h, ku ? H1_HOP_KEEP_UPGRADE : 0);
		CU_ASSERT_EQUAL(got, (int)want);
		CU_ASSERT_EQUAL_FATAL(h.n, orig.n - want + readd);
		for (unsigned i = 0, k = 0; i < orig.n; i++) {
			if (!keep[i])
				continue;
			CU_ASSERT(h.v[k].name.len == orig.v[i].name.len &&
				  !memcmp(h.v[k].name.p, orig.v[i].name.p, orig.v[i].name.len));
			CU_ASSERT(h.v[k].value.len == orig.v[i].value.len &&
				  !memcmp(h.v[k].value.p, orig.v[i].value.p, orig.v[i].value.len));
			k++;
		}
		if (readd)
			CU_ASSERT(h.v[h.n - 1].name.len == 10 && h.v[h.n - 1].value.len == 7 &&
				  !memcmp(h.v[h.n - 1].value.p, "upgrade", 7));
		h1_hdrs_free(&h);
		h1_hdrs_free(&orig);
	}
}

/* Edge cases: an empty list, only hop-by-hop fields, a Connection list naming more fields
 * than fit on the stripper's stack, and a full list where re-adding Connection fails. */
static void test_strip_hop_edges(void)
{
	static const char many[] = "a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, A11, keep-alive";
	struct h1_hdrs h;
	char nm[8];

	h1_hdrs_init(&h, 16, 1024);
	CU_ASSERT_EQUAL(h1_hdrs_strip_hop(&h, 0), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("TE"), S("trailers")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("connection"), S("te")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_strip_hop(&h, 0), 2);
	CU_ASSERT_EQUAL(h.n, 0);

	/* 11 named fields: the slow path; the fields named come before and after the list */
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("A1"), S("x")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("Connection"), S(many)), 0);
	for (int i = 2; i <= 11; i++) {
		int n = snprintf(nm, sizeof(nm), "a%d", i);

		CU_ASSERT_EQUAL(h1_hdrs_add(&h, nm, (size_t)n, S("x")), 0);
	}
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("Kept"), S("y")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_strip_hop(&h, 0), 12);
	CU_ASSERT_EQUAL_FATAL(h.n, 1);
	CU_ASSERT_EQUAL(h1_hdrs_find(&h, S("kept"), 0), 0);
	h1_hdrs_free(&h);

	/* Connection: upgrade re-added into a list with no room left fails with -ENOSPC */
	h1_hdrs_init(&h, 2, 1024);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("Upgrade"), S("websocket")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("X"), S("1")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_strip_hop(&h, H1_HOP_KEEP_UPGRADE), 0);
	h1_hdrs_free(&h);
	h1_hdrs_init(&h, 2, 1024);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("Upgrade"), S("websocket")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&h, S("Connection"), S("upgrade")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_strip_hop(&h, H1_HOP_KEEP_UPGRADE), 1);
	CU_ASSERT_EQUAL(h.n, 2);
	h1_hdrs_free(&h);
}

/* ------------------------------------------------------------------------------------------
 * Whole heads (fast path) against the same heads arriving in pieces (llhttp path)
 */

/* Heads with OWS, tabs, empty values, obs-text, Connection forms, methods and versions the
 * fast path takes or leaves to llhttp: fed whole and byte by byte, the field lists, the arena
 * bytes used and the room left for added fields must be identical. */
static void test_whole_vs_bytewise(void)
{
	static const char *const heads[] = {
		("GET /a?b=c HTTP/1.1\r\nHost: h\r\nX-Sp:   v  \r\nX-Tab:\t v\t\r\nX-E:\r\n"
		 "X-E2:   \r\nX-Obs: \xe2\x82\xac\r\nConnection: keep-alive\r\n\r\n"),
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"HEAD / HTTP/1.0\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length:  0012 \r\n\r\n",
		"PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 000\r\n\r\n",
		"DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
		"PATCH /x HTTP/1.1\r\nHost: h\r\nProxy-Connection: keep-alive\r\n\r\n",
		"MKCOL /x HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 123456789012345678901\r\n\r\n",
		"\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n",
	};
	struct h1_limits lim = {.head_extra = 64, .extra_fields = 2};

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		struct h1_parser *a = h1_parser_new(H1_REQUEST, &lim);
		struct h1_parser *b = h1_parser_new(H1_REQUEST, &lim);
		size_t len = strlen(heads[i]);
		struct h1_event ea, eb;
		int adds_a = 0, adds_b = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		h1_parse(a, heads[i], len, &ea);
		for (size_t k = 0; k < len; k++) {
			size_t n = h1_parse(b, heads[i] + k, 1, &eb);

			CU_ASSERT_EQUAL(n, eb.type == H1_EV_ERROR ? 0u : 1u);
			if (eb.type != H1_EV_NONE)
				break;
		}
		CU_ASSERT_EQUAL(ea.type, eb.type);
		if (ea.type != H1_EV_HEAD || eb.type != H1_EV_HEAD) {
			CU_ASSERT_EQUAL(ea.err, eb.err);
			goto next;
		}
		CU_ASSERT_EQUAL(ea.msg->hdrs.n, eb.msg->hdrs.n);
		CU_ASSERT_EQUAL(ea.msg->hdrs.used, eb.msg->hdrs.used);
		CU_ASSERT_EQUAL(ea.msg->flags, eb.msg->flags);
		CU_ASSERT_EQUAL(ea.msg->framing, eb.msg->framing);
		CU_ASSERT_EQUAL(ea.msg->content_length, eb.msg->content_length);
		CU_ASSERT_EQUAL(ea.msg->method, eb.msg->method);
		CU_ASSERT_EQUAL(ea.msg->minor, eb.msg->minor);
		CU_ASSERT(ea.msg->target.len == eb.msg->target.len &&
			  !memcmp(ea.msg->target.p, eb.msg->target.p, ea.msg->target.len));
		for (unsigned k = 0; k < ea.msg->hdrs.n && k < eb.msg->hdrs.n; k++) {
			const struct h1_header *fa = &ea.msg->hdrs.v[k], *fb = &eb.msg->hdrs.v[k];

			CU_ASSERT(fa->name.len == fb->name.len &&
				  !memcmp(fa->name.p, fb->name.p, fa->name.len));
			CU_ASSERT(fa->value.len == fb->value.len &&
				  (!fa->value.len ||
					  !memcmp(fa->value.p, fb->value.p, fa->value.len)));
		}
		/* the room left for the proxy's fields is the same */
		while (adds_a < 64 && h1_hdrs_add(&ea.msg->hdrs, S("X-Added"), S("12345")) == 0)
			adds_a++;
		while (adds_b < 64 && h1_hdrs_add(&eb.msg->hdrs, S("X-Added"), S("12345")) == 0)
			adds_b++;
		CU_ASSERT_EQUAL(adds_a, adds_b);
	next:
		h1_parser_free(a);
		h1_parser_free(b);
	}
}

/* One Connection spelling <lead><token><trail> in HTTP/1.<minor>, then <next>: see
 * test_whole_head_forms(). */
static void conn_form(
	const char *token, const char *lead, const char *trail, int minor, const char *next)
{
	bool close = !strcasecmp(token, "close") || strstr(token, ", close");
	bool ka = !strncasecmp(token, "keep-alive", 10);
	char in[512];
	struct rec r;
	int n = snprintf(in, sizeof(in),
		"GET / HTTP/1.%d\r\nHost: a\r\nConnection:%s%s%s\r\n\r\n%s", minor, lead, token,
		trail, next);

	parse_all_steps(H1_REQUEST, H1_METHOD_GET, in, (size_t)n, &r);
	/* Data after a message that ends the connection is an error. llhttp does not take a
	 * token followed by HTAB, so it ends an HTTP/1.0 connection after "keep-alive<HTAB>"
	 * (and the next request gets 400) where the codec's flags say keep-alive: that stays
	 * as it was, whichever way the head arrives. */
	CU_ASSERT_EQUAL(r.error, minor ? close : !ka || close || strchr(trail, '\t'));
	CU_ASSERT_EQUAL(r.nmsg, 2 - r.error);
}

/* Connection and Content-Length values in every spelling of case and OWS, in a head that
 * arrives whole and then in pieces, followed by a message the fast path leaves to llhttp:
 * the same messages and errors come out whichever way, so llhttp's view of the connection
 * (kept alive or closed) after a whole head matches the codec's. */
static void test_whole_head_forms(void)
{
	static const char *const tokens[] = {"close", "CLOSE", "Close", "keep-alive", "Keep-Alive",
		"KEEP-ALIVE", "upgrade", "Upgrade", "close2", "keep-alive, close"};
	static const char *const ows[] = {"", " ", "\t", " \t", "\t ", "  "};
	static const char *const cls[] = {"2", "02", "2 ", "2  ", "2\t", "2 \t", "\t2", " 2 ",
		"2 2", "", "+2", "0x2", "1234567890123456789012"};
	static const char next[] = "MKCOL /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	char in[512];
	struct rec r;

	for (size_t t = 0; t < sizeof(tokens) / sizeof(tokens[0]); t++)
		for (size_t k = 0; k < 2 * 36; k++)
			conn_form(tokens[t], ows[k / 2 % 6], ows[k / 12], (int)(k % 2), next);
	for (size_t c = 0; c < sizeof(cls) / sizeof(cls[0]); c++) {
		for (size_t a = 0; a < 3; a++) {
			int n = snprintf(in, sizeof(in),
				"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:%s%s\r\n\r\nab%s",
				ows[a], cls[c], next);

			parse_all_steps(H1_REQUEST, H1_METHOD_GET, in, (size_t)n, &r);
			n = snprintf(in, sizeof(in),
				"HTTP/1.1 200 OK\r\nContent-Length:%s%s\r\n\r\nab"
				"HTTP/1.1 204 No Content\r\n\r\n",
				ows[a], cls[c]);
			parse_all_steps(H1_RESPONSE, H1_METHOD_GET, in, (size_t)n, &r);
		}
	}
	/* the one the fuzzer found: an HTAB after the digits is refused, whole or not */
	parse_all_steps(H1_RESPONSE, H1_METHOD_GET,
		S("HTTP/1.1 200 OK\r\nContent-Length: 2\t\r\n\r\nab"), &r);
	CU_ASSERT_EQUAL(r.error, 1);
	CU_ASSERT_EQUAL(r.err, H1_E_CL_INVALID);
}

/* One keep-alive connection mixing heads the fast path takes and heads it leaves to llhttp,
 * with bodies, trimmed between messages as pingd does. */
static void test_mixed_connection(void)
{
	static const char in[] =
		"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
		"POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
		"POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nwxyz"
		"MKCOL /4 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nqq"
		"GET /5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	static const char *const targets[] = {"/1", "/2", "/3", "/4", "/5"};
	static const char *const bodies[] = {"", "abc", "wxyz", "qq", ""};
	struct rec r;

	parse_all_steps(H1_REQUEST, H1_METHOD_GET, S(in), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL_FATAL(r.nmsg, 5);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_STRING_EQUAL(r.m[i].target, targets[i]);
		CU_ASSERT_EQUAL(r.m[i].body_len, strlen(bodies[i]));
		CU_ASSERT(!memcmp(r.m[i].body, bodies[i], r.m[i].body_len));
		CU_ASSERT_EQUAL(r.m[i].done, 1);
	}
	CU_ASSERT_EQUAL(r.m[4].flags & H1_F_KEEP_ALIVE, 0);

	/* the same, one message per call, trimming the idle parser in between */
	{
		struct h1_parser *p = req_parser();
		size_t off = 0, len = sizeof(in) - 1;
		int dones = 0;

		for (int guard = 0; guard < 100 && off < len; guard++) {
			struct h1_event ev;

			off += h1_parse(p, in + off, len - off, &ev);
			CU_ASSERT_NOT_EQUAL(ev.type, H1_EV_ERROR);
			if (ev.type == H1_EV_DONE) {
				dones++;
				CU_ASSERT(h1_parser_idle(p));
				h1_parser_trim(p);
			}
		}
		CU_ASSERT_EQUAL(off, len);
		CU_ASSERT_EQUAL(dones, 4); /* the last DONE comes with the next call */
		h1_parser_free(p);
	}
}

/* A Content-Length body the codec counts itself: in-body state, trim refused, EOF inside
 * it, and responses (1xx then final, HEAD, 204) fed whole. */
static void test_whole_head_bodies(void)
{
	static const char post[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab";
	static const char rsp[] =
		"HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n!";
	struct h1_parser *p = req_parser();
	struct h1_event ev;
	struct rec r;
	size_t n;

	n = h1_parse(p, S(post), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->framing, H1_BODY_LENGTH);
	n += h1_parse(p, post + n, sizeof(post) - 1 - n, &ev);
	CU_ASSERT_EQUAL(n, sizeof(post) - 1);
	CU_ASSERT_EQUAL(ev.type, H1_EV_BODY);
	CU_ASSERT(h1_parser_in_body(p));
	CU_ASSERT(!h1_parser_idle(p));
	h1_parser_trim(p); /* no effect inside a message */
	CU_ASSERT_PTR_NOT_NULL_FATAL(h1_parser_msg(p));
	CU_ASSERT_EQUAL(h1_parser_msg(p)->hdrs.n, 2);
	h1_parse_eof(p, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_ERROR);
	CU_ASSERT_EQUAL(ev.err, H1_E_TRUNCATED);
	h1_parser_free(p);

	parse_all_steps(H1_RESPONSE, H1_METHOD_GET, S(rsp), &r);
	CU_ASSERT_EQUAL(r.error, 0);
	CU_ASSERT_EQUAL_FATAL(r.nmsg, 4);
	CU_ASSERT_EQUAL(r.m[0].status, 103);
	CU_ASSERT_EQUAL(r.m[1].body_len, 2);
	CU_ASSERT_EQUAL(r.m[2].framing, H1_BODY_NONE);
	CU_ASSERT_EQUAL(r.m[3].body_len, 1);
	CU_ASSERT_EQUAL(r.m[3].done, 1);

	/* a HEAD response announces a length but has no body */
	p = resp_parser(H1_METHOD_HEAD);
	n = h1_parse(p, S("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"), &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->framing, H1_BODY_NONE);
	h1_parse(p, NULL, 0, &ev);
	CU_ASSERT_EQUAL(ev.type, H1_EV_DONE);
	h1_parser_free(p);
}

/* ------------------------------------------------------------------------------------------
 * Serializer
 */

static void test_write_request_roundtrip(void)
{
	static const char req[] =
		"POST /api/v1?x=1 HTTP/1.1\r\nHost: origin\r\nConnection: keep-alive\r\n"
		"Transfer-Encoding: chunked\r\nX-Keep: yes\r\n\r\n";
	struct h1_parser *p = req_parser(), *q = req_parser();
	struct h1_msg *m, *m2;
	struct h1_buf b;
	char out[512];
	size_t n;

	parse_head(p, S(req), &m);
	CU_ASSERT(h1_hdrs_strip_hop(&m->hdrs, 0) > 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&m->hdrs, S("X-Forwarded-For"), S("192.0.2.1")), 0);
	CU_ASSERT_EQUAL(h1_hdrs_add(&m->hdrs, S("Via"), S("1.1 pingd")), 0);
	n = h1_write_head(out, sizeof(out), m, H1_W_CHUNKED);
	CU_ASSERT_EQUAL(n, strlen(out));
	CU_ASSERT_STRING_EQUAL(out, "POST /api/v1?x=1 HTTP/1.1\r\nHost: origin\r\nX-Keep: yes\r\n"
				    "X-Forwarded-For: 192.0.2.1\r\nVia: 1.1 pingd\r\n"
				    "Transfer-Encoding: chunked\r\n\r\n");
	parse_head(q, out, n, &m2);
	CU_ASSERT_EQUAL(m2->framing, H1_BODY_CHUNKED);
	CU_ASSERT_EQUAL(m2->hdrs.n, 5);
	CU_ASSERT_EQUAL(m2->target.len, m->target.len);

	/* sizing contract: too small writes nothing */
	memset(out, '#', sizeof(out));
	CU_ASSERT_EQUAL(h1_write_head(out, n - 1, m, H1_W_CHUNKED), n);
	CU_ASSERT_EQUAL(out[0], '#');
	CU_ASSERT_EQUAL(h1_write_head(NULL, 0, m, H1_W_CHUNKED), n);
	CU_ASSERT_EQUAL(h1_write_head(out, n, m, H1_W_CHUNKED), n); /* fits without the NUL */
	CU_ASSERT_EQUAL(out[n], '#');

	/* a rewritten target and method from the enum */
	m->target.p = "/rewritten";
	m->target.len = 10;
	m->method_name.len = 0;
	m->method = H1_METHOD_PUT;
	m->content_length = 42;
	h1_buf_init(&b, 0);
	CU_ASSERT_EQUAL(h1_buf_write_head(&b, m, H1_W_CONTENT_LENGTH | H1_W_CLOSE), 0);
	CU_ASSERT(!strncmp(b.p, "PUT /rewritten HTTP/1.1\r\n", 25));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "\r\nContent-Length: 42\r\nConnection: close\r\n\r\n"));
	h1_buf_free(&b);
	h1_parser_free(p);
	h1_parser_free(q);
}

static void test_write_response(void)
{
	struct h1_msg m;
	struct h1_buf b;
	struct h1_parser *p = resp_parser(H1_METHOD_GET);
	struct h1_event ev;

	memset(&m, 0, sizeof(m));
	m.kind = H1_RESPONSE;
	m.status = 503;
	m.major = 1;
	m.minor = 1;
	h1_hdrs_init(&m.hdrs, 8, 256);
	CU_ASSERT_EQUAL(h1_hdrs_add(&m.hdrs, S("Retry-After"), S("1")), 0);
	m.content_length = 0;
	h1_buf_init(&b, 0);
	CU_ASSERT_EQUAL(h1_buf_write_head(&b, &m, H1_W_CONTENT_LENGTH | H1_W_KEEP_ALIVE), 0);
	CU_ASSERT_STRING_EQUAL(b.p, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
				    "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n");
	h1_parse(p, b.p, b.len, &ev);
	CU_ASSERT_EQUAL_FATAL(ev.type, H1_EV_HEAD);
	CU_ASSERT_EQUAL(ev.msg->status, 503);
	CU_ASSERT_EQUAL(ev.msg->framing, H1_BODY_NONE);
	/* custom reason, HTTP/1.0, 101 with upgrade */
	b.len = 0;
	m.reason.p = "Go Away";
	m.reason.len = 7;
	m.minor = 0;
	CU_ASSERT_EQUAL(h1_buf_write_head(&b, &m, 0), 0);
	CU_ASSERT(!strncmp(b.p, "HTTP/1.0 503 Go Away\r\n", 22));
	b.len = 0;
	m.status = 101;
	m.reason.len = 0;
	m.minor = 1;
	h1_hdrs_clear(&m.hdrs);
	CU_ASSERT_EQUAL(h1_buf_write_head(&b, &m, H1_W_UPGRADE), 0);
	CU_ASSERT_STRING_EQUAL(
		b.p, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n");
	/* the growable buffer has a hard limit */
	h1_buf_free(&b);
	h1_buf_init(&b, 16);
	CU_ASSERT_EQUAL(h1_buf_write_head(&b, &m, 0), -ENOSPC);
	CU_ASSERT_EQUAL(h1_buf_append(&b, "0123456789", 10), 0);
	CU_ASSERT_EQUAL(h1_buf_append(&b, "0123456789", 10), -ENOSPC);
	CU_ASSERT_EQUAL(b.len, 10);
	h1_buf_free(&b);
	h1_hdrs_free(&m.hdrs);
	h1_parser_free(p);
}

/* Status codes and sizes are written by hand: every status 0..1099 (three digits at least,
 * as "%03u" would) and Content-Length / chunk sizes around each power of ten and sixteen
 * must come out as printf writes them. */
static void test_write_numbers(void)
{
	struct h1_msg m;
	char out[256], want[256], hdr[H1_CHUNK_HDR_MAX];
	uint64_t sizes[200];
	size_t ns = 0;

	memset(&m, 0, sizeof(m));
	m.kind = H1_RESPONSE;
	m.major = 1;
	m.minor = 1;
	m.reason.p = "R";
	m.reason.len = 1;
	h1_hdrs_init(&m.hdrs, 4, 64);
	for (unsigned st = 0; st < 1100; st++) {
		size_t n;

		m.status = (uint16_t)st;
		n = h1_write_head(out, sizeof(out), &m, 0);
		snprintf(want, sizeof(want), "HTTP/1.1 %03u R\r\n\r\n", st);
		CU_ASSERT_EQUAL(n, strlen(want));
		CU_ASSERT_STRING_EQUAL(out, want);
	}
	m.status = 65535;
	h1_write_head(out, sizeof(out), &m, 0);
	CU_ASSERT_STRING_EQUAL(out, "HTTP/1.1 65535 R\r\n\r\n");
	/* the standard reason when none is given */
	m.reason.len = 0;
	m.status = 404;
	h1_write_head(out, sizeof(out), &m, 0);
	CU_ASSERT_STRING_EQUAL(out, "HTTP/1.1 404 Not Found\r\n\r\n");

	sizes[ns++] = 0;
	sizes[ns++] = UINT64_MAX;
	sizes[ns++] = UINT64_MAX - 1;
	for (uint64_t p = 1; ns < 190; p *= 10) {
		sizes[ns++] = p - 1;
		sizes[ns++] = p;
		sizes[ns++] = p + 1;
		if (p > UINT64_MAX / 10)
			break;
	}
	for (int sh = 0; sh < 64 && ns < 200; sh += 4)
		sizes[ns++] = (uint64_t)1 << sh;
	for (size_t i = 0; i < ns; i++) {
		size_t n;

		m.content_length = sizes[i];
		n = h1_write_head(out, sizeof(out), &m, H1_W_CONTENT_LENGTH);
		snprintf(want, sizeof(want),
			"HTTP/1.1 404 Not Found\r\nContent-Length: %" PRIu64 "\r\n\r\n", sizes[i]);
		CU_ASSERT_EQUAL(n, strlen(want));
		CU_ASSERT_STRING_EQUAL(out, want);
		if (!sizes[i])
			continue;
		n = h1_chunk_header(hdr, sizes[i]);
		snprintf(want, sizeof(want), "%" PRIx64 "\r\n", sizes[i]);
		CU_ASSERT_EQUAL(n, strlen(want));
		CU_ASSERT_STRING_EQUAL(hdr, want);
		n = h1_chunk_header(hdr, sizes[i] - 1 ? sizes[i] - 1 : 1);
		snprintf(want, sizeof(want), "%" PRIx64 "\r\n", sizes[i] - 1 ? sizes[i] - 1 : 1);
		CU_ASSERT_STRING_EQUAL(hdr, want);
	}
	h1_hdrs_free(&m.hdrs);
}

/* Every flag combination, a request with the method from the enum and an empty target, and
 * the sizing contract at each capacity around the length. */
static void test_write_flags(void)
{
	static const char *const lines[] = {"Content-Length: 7\r\n",
		"Transfer-Encoding: chunked\r\n", "Connection: close\r\n",
		"Connection: keep-alive\r\n", "Connection: upgrade\r\n"};
	static const unsigned bits[] = {
		H1_W_CONTENT_LENGTH, H1_W_CHUNKED, H1_W_CLOSE, H1_W_KEEP_ALIVE, H1_W_UPGRADE};
	struct h1_msg m;
	char out[512], want[512];

	memset(&m, 0, sizeof(m));
	m.kind = H1_REQUEST;
	m.method = H1_METHOD_OPTIONS;
	m.major = 1;
	m.minor = 0;
	m.content_length = 7;
	h1_hdrs_init(&m.hdrs, 4, 64);
	CU_ASSERT_EQUAL(h1_hdrs_add(&m.hdrs, S("X-Empty"), "", 0), 0);
	for (unsigned f = 0; f < 32; f++) {
		size_t wl =
			(size_t)snprintf(want, sizeof(want), "OPTIONS  HTTP/1.0\r\nX-Empty: \r\n");
		size_t n;

		for (int b = 0; b < 5; b++)
			if (f & bits[b])
				wl += (size_t)snprintf(
					want + wl, sizeof(want) - wl, "%s", lines[b]);
		wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "\r\n");
		n = h1_write_head(out, sizeof(out), &m, f);
		CU_ASSERT_EQUAL(n, wl);
		CU_ASSERT_STRING_EQUAL(out, want);
		for (size_t cap = n - 2; cap <= n + 1; cap++) {
			memset(out, '#', sizeof(out));
			CU_ASSERT_EQUAL(h1_write_head(out, cap, &m, f), n);
			if (cap < n) {
				CU_ASSERT_EQUAL(out[0], '#');
			} else {
				CU_ASSERT(
					!memcmp(out, want, n) && out[n] == (cap > n ? '\0' : '#'));
			}
		}
	}
	h1_hdrs_free(&m.hdrs);
}

static void test_chunk_helpers(void)
{
	char hdr[H1_CHUNK_HDR_MAX], out[256];
	struct h1_hdrs t;
	struct h1_buf b;
	struct rec r;
	struct h1_parser *p;
	size_t n;

	CU_ASSERT_EQUAL(h1_chunk_header(hdr, 1), 3);
	CU_ASSERT_STRING_EQUAL(hdr, "1\r\n");
	CU_ASSERT_EQUAL(h1_chunk_header(hdr, 0xabc), 5);
	CU_ASSERT_STRING_EQUAL(hdr, "abc\r\n");
	CU_ASSERT_EQUAL(h1_chunk_header(hdr, UINT64_MAX), 18);
	CU_ASSERT_STRING_EQUAL(hdr, "ffffffffffffffff\r\n");
	CU_ASSERT_EQUAL(h1_write_last_chunk(out, sizeof(out), NULL), 5);
	CU_ASSERT_STRING_EQUAL(out, "0\r\n\r\n");

	/* a whole chunked body built with the helpers parses back to the same bytes */
	h1_hdrs_init(&t, 4, 128);
	CU_ASSERT_EQUAL(h1_hdrs_add(&t, S("X-Sum"), S("42")), 0);
	h1_buf_init(&b, 0);
	CU_ASSERT_EQUAL(h1_buf_append(&b, S(CHUNKED_HEAD)), 0);
	for (int i = 1; i <= 20; i++) {
		char data[32];

		memset(data, 'a' + i % 26, (size_t)i);
		n = h1_chunk_header(hdr, (uint64_t)i);
		CU_ASSERT_EQUAL(h1_buf_append(&b, hdr, n), 0);
		CU_ASSERT_EQUAL(h1_buf_append(&b, data, (size_t)i), 0);
		CU_ASSERT_EQUAL(h1_buf_append(&b, S(H1_CRLF)), 0);
	}
	CU_ASSERT_EQUAL(h1_buf_write_last_chunk(&b, &t), 0);
	CU_ASSERT_EQUAL(h1_write_last_chunk(out, sizeof(out), &t), 16);
	CU_ASSERT_STRING_EQUAL(out, "0\r\nX-Sum: 42\r\n\r\n");
	for (size_t s = 0; s < NSTEPS; s++) {
		p = req_parser();
		feed(p, b.p, b.len, steps[s], &r);
		CU_ASSERT_EQUAL(r.error, 0);
		CU_ASSERT_EQUAL(r.bad, 0);
		CU_ASSERT_EQUAL(r.m[0].body_len, 210);
		CU_ASSERT_EQUAL(r.m[0].ntrailers, 1);
		CU_ASSERT_STRING_EQUAL(r.m[0].trailer0, "X-Sum: 42");
		CU_ASSERT_EQUAL(r.m[0].done, 1);
		h1_parser_free(p);
	}
	h1_buf_free(&b);
	h1_hdrs_free(&t);
}

static void test_canned(void)
{
	static const int statuses[] = {400, 401, 403, 404, 405, 408, 411, 413, 414, 417, 429, 431,
		500, 501, 502, 503, 504, 505};
	size_t len;
	const char *txt;

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct h1_parser *p = resp_parser(H1_METHOD_GET);
		char want[64];
		struct rec r;

		txt = h1_error_response(statuses[i], &len);
		CU_ASSERT_EQUAL(len, strlen(txt));
		feed(p, txt, len, 0, &r);
		CU_ASSERT_EQUAL(r.error, 0);
		CU_ASSERT_EQUAL(r.bad, 0);
		CU_ASSERT_EQUAL(r.consumed, len);
		CU_ASSERT_EQUAL_FATAL(r.nmsg, 1);
		CU_ASSERT_EQUAL(r.m[0].status, statuses[i]);
		CU_ASSERT_EQUAL(r.m[0].done, 1); /* Content-Length matches the body */
		CU_ASSERT(r.m[0].flags & H1_F_CONN_CLOSE);
		CU_ASSERT_FALSE(r.m[0].flags & H1_F_KEEP_ALIVE);
		snprintf(want, sizeof(want), "%s\n", h1_status_reason(statuses[i]));
		CU_ASSERT_EQUAL(r.m[0].body_len, strlen(want));
		CU_ASSERT(!memcmp(r.m[0].body, want, strlen(want)));
		CU_ASSERT_STRING_EQUAL(r.m[0].reason, h1_status_reason(statuses[i]));
		h1_parser_free(p);
	}
	txt = h1_error_response(418, &len);
	CU_ASSERT(!strncmp(txt, "HTTP/1.1 500 ", 13));
	CU_ASSERT_STRING_EQUAL(h1_status_reason(404), "Not Found");
	CU_ASSERT_STRING_EQUAL(h1_status_reason(999), "Unknown");
}

/* Every status the parser can ask for has a canned response. */
static void test_error_statuses_canned(void)
{
	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		size_t len;
		const char *t = h1_error_response(bad_requests[i].status, &len);
		char want[16];

		snprintf(want, sizeof(want), "HTTP/1.1 %d ", bad_requests[i].status);
		CU_ASSERT(!strncmp(t, want, strlen(want)));
	}
}

int test_h1_register(void)
{
	static const CU_TestInfo tests[] = {
		{"get", test_get},
		{"fname_kind", test_fname_kind},
		{"head_fields", test_head_fields},
		{"extension_methods", test_extension_methods},
		{"post_content_length", test_post_cl},
		{"content_length_zero", test_cl_zero},
		{"chunked_trailers", test_chunked_trailers},
		{"chunked_no_trailers", test_chunked_no_trailers},
		{"pipelined", test_pipelined},
		{"pipelined_many", test_pipelined_many},
		{"data_after_close", test_data_after_close},
		{"response_keepalive", test_response_keepalive},
		{"leading_crlf", test_leading_crlf},
		{"http10", test_http10},
		{"expect_continue", test_expect_continue},
		{"backpressure", test_backpressure},
		{"target_forms", test_target_forms},
		{"connect", test_connect},
		{"upgrade", test_upgrade},
		{"response_basic", test_response_basic},
		{"response_head", test_response_head},
		{"response_1xx", test_response_1xx},
		{"response_204_304", test_response_204_304},
		{"response_close_delimited", test_response_close_delimited},
		{"eof", test_eof},
		{"bad_requests", test_bad_requests},
		{"bad_responses", test_bad_responses},
		{"limit_head", test_limit_head},
		{"limit_fields", test_limit_fields},
		{"limit_body", test_limit_body},
		{"strict_llhttp", test_strict_llhttp},
		{"parser_api", test_parser_api},
		{"hdrs", test_hdrs},
		{"value_tokens", test_value_tokens},
		{"strip_hop", test_strip_hop},
		{"strip_hop_generated", test_strip_hop_generated},
		{"strip_hop_edges", test_strip_hop_edges},
		{"whole_vs_bytewise", test_whole_vs_bytewise},
		{"whole_head_forms", test_whole_head_forms},
		{"mixed_connection", test_mixed_connection},
		{"whole_head_bodies", test_whole_head_bodies},
		{"write_request_roundtrip", test_write_request_roundtrip},
		{"write_response", test_write_response},
		{"write_numbers", test_write_numbers},
		{"write_flags", test_write_flags},
		{"chunk_helpers", test_chunk_helpers},
		{"canned", test_canned},
		{"error_statuses_canned", test_error_statuses_canned},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("h1", tests);
}
