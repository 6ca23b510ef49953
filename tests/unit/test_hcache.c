// SPDX-License-Identifier: GPL-2.0
/* The HTTP caching rules (userspace/http/hcache.c): dates, Cache-Control, storability,
 * freshness and age, Vary keys, preconditions, ranges, the stored object's layout, and
 * malformed input of each. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/cache/cache.h"
#include "userspace/http/h1.h"
#include "userspace/http/hcache.h"

/* A header list from "Name: value\n" lines. */
static void hdrs(struct h1_hdrs *h, const char *lines)
{
	char buf[2048], *save = NULL, *l;

	h1_hdrs_init(h, 64, 8192);
	snprintf(buf, sizeof(buf), "%s", lines);
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c = strchr(l, ':'), *v;

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		for (v = c + 1; *v == ' '; v++)
			;
		CU_ASSERT_EQUAL_FATAL(h1_hdrs_add(h, l, (size_t)(c - l), v, strlen(v)), 0);
	}
}

static void test_dates(void)
{
	int64_t t;

	CU_ASSERT_EQUAL(hc_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t), 0);
	CU_ASSERT_EQUAL(t, 784111777);
	CU_ASSERT_EQUAL(hc_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t), 0);
	CU_ASSERT_EQUAL(t, 784111777);
	CU_ASSERT_EQUAL(hc_date_parse("Sun Nov  6 08:49:37 1994", 24, &t), 0);
	CU_ASSERT_EQUAL(t, 784111777);
	/* malformed: a number, a bad month, trailing bytes, a bad weekday, empty, NULL */
	CU_ASSERT_EQUAL(hc_date_parse("0", 1, &t), -EINVAL);
	CU_ASSERT_EQUAL(hc_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", 29, &t), -EINVAL);
	CU_ASSERT_EQUAL(hc_date_parse("Sun, 06 Nov 1994 08:49:37 GMTX", 30, &t), -EINVAL);
	CU_ASSERT_EQUAL(hc_date_parse("Xyz, 06 Nov 1994 08:49:37 GMT", 29, &t), -EINVAL);
	CU_ASSERT_EQUAL(hc_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", 29, &t), -EINVAL);
	CU_ASSERT_EQUAL(hc_date_parse("", 0, &t), -EINVAL);
	CU_ASSERT_EQUAL(hc_date_parse(NULL, 29, &t), -EINVAL);
	{
		char buf[32];

		CU_ASSERT_EQUAL(hc_date_format(784111777, buf), 29);
		CU_ASSERT_STRING_EQUAL(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	}
}

static void test_cache_control(void)
{
	struct h1_hdrs h;
	struct hc_cc cc;

	hdrs(&h, "Cache-Control: Max-Age=60, no-CACHE, s-maxage=\"30\"\n"
		 "Cache-Control: stale-while-revalidate=5, private=\"Set-Cookie\"");
	hc_cc_parse(&h, &cc);
	CU_ASSERT_EQUAL(cc.max_age, 60);
	CU_ASSERT_EQUAL(cc.s_maxage, 30);
	CU_ASSERT_EQUAL(cc.swr, 5);
	CU_ASSERT(cc.flags & HC_CC_NO_CACHE);
	CU_ASSERT(cc.flags & HC_CC_PRIVATE);
	CU_ASSERT(cc.flags & HC_CC_S_MAXAGE);
	h1_hdrs_free(&h);
	/* names inside quoted strings are not directives */
	hdrs(&h, "Cache-Control: foo=\"max-age=3600, no-store\", max-age=5");
	hc_cc_parse(&h, &cc);
	CU_ASSERT_EQUAL(cc.max_age, 5);
	CU_ASSERT_FALSE(cc.flags & HC_CC_NO_STORE);
	h1_hdrs_free(&h);
	/* unreadable or contradicting values are 0 (stale), not ignored */
	hdrs(&h, "Cache-Control: max-age=-1, s-maxage='5', min-fresh=1.5");
	hc_cc_parse(&h, &cc);
	CU_ASSERT_EQUAL(cc.max_age, 0);
	CU_ASSERT_EQUAL(cc.s_maxage, 0);
	CU_ASSERT_EQUAL(cc.min_fresh, 0);
	h1_hdrs_free(&h);
	hdrs(&h, "Cache-Control: max-age=10, max-age=20\nCache-Control: max-stale");
	hc_cc_parse(&h, &cc);
	CU_ASSERT_EQUAL(cc.max_age, 0);
	CU_ASSERT(cc.flags & HC_CC_MAX_STALE_ANY);
	h1_hdrs_free(&h);
	/* huge values are capped; garbage, stray commas and an open quote end safely */
	hdrs(&h, "Cache-Control: max-age=99999999999999999999, ,,=, \"open");
	hc_cc_parse(&h, &cc);
	CU_ASSERT_EQUAL(cc.max_age, HC_DELTA_MAX);
	h1_hdrs_free(&h);
}

static void test_storable(void)
{
	struct h1_hdrs rq, rs;
	struct hc_cc rqc, rsc;

	hdrs(&rq, "Host: a");
	hdrs(&rs, "Cache-Control: max-age=60");
	hc_cc_parse(&rq, &rqc);
	hc_cc_parse(&rs, &rsc);
	CU_ASSERT_PTR_NULL(hc_storable(H1_METHOD_GET, &rq, &rqc, 200, &rs, &rsc, 0));
	CU_ASSERT_PTR_NOT_NULL(hc_storable(H1_METHOD_POST, &rq, &rqc, 200, &rs, &rsc, 0));
	CU_ASSERT_PTR_NOT_NULL(hc_storable(H1_METHOD_GET, &rq, &rqc, 206, &rs, &rsc, 0));
	/* 201 without explicit freshness: not heuristically cacheable */
	h1_hdrs_free(&rs);
	hdrs(&rs, "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT");
	hc_cc_parse(&rs, &rsc);
	CU_ASSERT_PTR_NOT_NULL(hc_storable(H1_METHOD_GET, &rq, &rqc, 201, &rs, &rsc, 0));
	CU_ASSERT_PTR_NULL(hc_storable(H1_METHOD_GET, &rq, &rqc, 200, &rs, &rsc, 0));
	h1_hdrs_free(&rs);
	/* private, no-store; must-understand lets a known status through no-store */
	hdrs(&rs, "Cache-Control: private, max-age=60");
	hc_cc_parse(&rs, &rsc);
	CU_ASSERT_PTR_NOT_NULL(hc_storable(H1_METHOD_GET, &rq, &rqc, 200, &rs, &rsc, 0));
	h1_hdrs_free(&rs);
	hdrs(&rs, "Cache-Control: no-store, must-understand, max-age=60");
	hc_cc_parse(&rs, &rsc);
	CU_ASSERT_PTR_NULL(hc_storable(H1_METHOD_GET, &rq, &rqc, 200, &rs, &rsc, 0));
	CU_ASSERT_PTR_NOT_NULL(hc_storable(H1_METHOD_GET, &rq, &rqc, 599, &rs, &rsc, 0));
	h1_hdrs_free(&rs);
	/* Authorization: only with public, must-revalidate or s-maxage */
	h1_hdrs_free(&rq);
	hdrs(&rq, "Authorization: Basic eA==");
	hc_cc_parse(&rq, &rqc);
	hdrs(&rs, "Cache-Control: max-age=60");
	hc_cc_parse(&rs, &rsc);
	CU_ASSERT_PTR_NOT_NULL(hc_storable(H1_METHOD_GET, &rq, &rqc, 200, &rs, &rsc, 0));
	h1_hdrs_free(&rs);
	hdrs(&rs, "Cache-Control: public, max-age=60");
	hc_cc_parse(&rs, &rsc);
	CU_ASSERT_PTR_NULL(hc_storable(H1_METHOD_GET, &rq, &rqc, 200, &rs, &rsc, 0));
	h1_hdrs_free(&rs);
	h1_hdrs_free(&rq);
}

static void test_freshness_and_age(void)
{
	struct h1_hdrs rs;
	struct hc_cc cc, none;
	struct hc_meta m = {0};
	const int64_t now = 784111777;

	memset(&none, 0, sizeof(none));
	none.max_age = none.s_maxage = none.max_stale = none.min_fresh = HC_UNSET;
	none.swr = none.sie = HC_UNSET;
	hdrs(&rs, "Cache-Control: max-age=100, s-maxage=10\nExpires: Sun, 06 Nov 1994 09:49:37 GMT");
	hc_cc_parse(&rs, &cc);
	CU_ASSERT_EQUAL(hc_lifetime(200, &rs, &cc, now, 0), 10);
	h1_hdrs_free(&rs);
	hdrs(&rs, "Date: Sun, 06 Nov 1994 08:49:37 GMT\nExpires: Sun, 06 Nov 1994 09:49:37 GMT");
	hc_cc_parse(&rs, &cc);
	CU_ASSERT_EQUAL(hc_lifetime(200, &rs, &cc, now, 0), 3600);
	h1_hdrs_free(&rs);
	hdrs(&rs, "Expires: 0");
	hc_cc_parse(&rs, &cc);
	CU_ASSERT_EQUAL(hc_lifetime(200, &rs, &cc, now, 300), 0);
	h1_hdrs_free(&rs);
	/* heuristic: 10% of the time since Last-Modified, for 200 but not 201; default_ttl */
	hdrs(&rs, "Date: Sun, 06 Nov 1994 08:49:37 GMT\nLast-Modified: Sun, 06 Nov 1994 08:32:57 GMT");
	hc_cc_parse(&rs, &cc);
	CU_ASSERT_EQUAL(hc_lifetime(200, &rs, &cc, now, 0), 100);
	CU_ASSERT_EQUAL(hc_lifetime(201, &rs, &cc, now, 0), 0);
	CU_ASSERT_EQUAL(hc_lifetime(200, &rs, &cc, now, 30), 30);
	h1_hdrs_free(&rs);
	/* Age: one non-negative integer, else the response is stale */
	hdrs(&rs, "Age: 50\nDate: Sun, 06 Nov 1994 08:49:37 GMT");
	CU_ASSERT_EQUAL(hc_initial_age(&rs, now - 2, now), 52);
	h1_hdrs_free(&rs);
	hdrs(&rs, "Age: 7200.0");
	CU_ASSERT_EQUAL(hc_initial_age(&rs, now, now), HC_AGE_INVALID);
	h1_hdrs_free(&rs);
	hdrs(&rs, "Age: 0\nAge: 0");
	CU_ASSERT_EQUAL(hc_initial_age(&rs, now, now), HC_AGE_INVALID);
	h1_hdrs_free(&rs);
	m.lifetime = 60;
	m.response_time = now;
	m.initial_age = 10;
	m.swr = m.sie = HC_UNSET;
	CU_ASSERT_TRUE(hc_fresh(&m, &none, now + 49));
	CU_ASSERT_FALSE(hc_fresh(&m, &none, now + 50));
	cc = none;
	cc.max_age = 5;
	CU_ASSERT_FALSE(hc_fresh(&m, &cc, now));
	/* stale: max-stale, stale-while-revalidate, stale-if-error; must-revalidate forbids */
	CU_ASSERT_FALSE(hc_stale_ok(&m, &none, now + 60, true, true));
	m.swr = 30;
	CU_ASSERT_TRUE(hc_stale_ok(&m, &none, now + 60, true, false));
	CU_ASSERT_FALSE(hc_stale_ok(&m, &none, now + 60, false, false));
	m.sie = 100;
	CU_ASSERT_TRUE(hc_stale_ok(&m, &none, now + 150, false, true));
	CU_ASSERT_FALSE(hc_stale_ok(&m, &none, now + 200, false, true));
	m.cc_flags = HC_CC_MUST_REVALIDATE;
	CU_ASSERT_FALSE(hc_stale_ok(&m, &none, now + 60, true, true));
	m.initial_age = HC_AGE_INVALID;
	m.cc_flags = 0;
	CU_ASSERT_FALSE(hc_fresh(&m, &none, now));
}

static void test_vary(void)
{
	struct h1_hdrs rs, a, b;
	struct h1_buf ka, kb;
	char names[128];

	hdrs(&rs, "Vary: Accept-Encoding, FOO\nVary: accept-encoding");
	CU_ASSERT_EQUAL(hc_vary_names(&rs, names, sizeof(names)), 19);
	CU_ASSERT_STRING_EQUAL(names, "accept-encoding,foo");
	h1_hdrs_free(&rs);
	hdrs(&rs, "Vary: Foo, *");
	CU_ASSERT_EQUAL(hc_vary_names(&rs, names, sizeof(names)), -1);
	h1_hdrs_free(&rs);
	hdrs(&rs, "Vary: a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q");
	CU_ASSERT_EQUAL(hc_vary_names(&rs, names, sizeof(names)), -ENOSPC);
	h1_hdrs_free(&rs);
	hdrs(&rs, "X: y");
	CU_ASSERT_EQUAL(hc_vary_names(&rs, names, sizeof(names)), 0);
	h1_hdrs_free(&rs);
	/* "a, b" and "a,b" are one variant; an absent field is not an empty one */
	h1_buf_init(&ka, 0);
	h1_buf_init(&kb, 0);
	hdrs(&a, "Accept-Encoding: gzip, br");
	hdrs(&b, "accept-encoding: gzip,br");
	CU_ASSERT_EQUAL(hc_vary_key(&a, "accept-encoding,foo", &ka), 0);
	CU_ASSERT_EQUAL(hc_vary_key(&b, "accept-encoding,foo", &kb), 0);
	CU_ASSERT(ka.len == kb.len && !memcmp(ka.p, kb.p, ka.len));
	h1_hdrs_free(&b);
	hdrs(&b, "Accept-Encoding: gzip, br\nFoo:");
	kb.len = 0;
	CU_ASSERT_EQUAL(hc_vary_key(&b, "accept-encoding,foo", &kb), 0);
	CU_ASSERT(ka.len != kb.len || memcmp(ka.p, kb.p, ka.len));
	h1_hdrs_free(&a);
	h1_hdrs_free(&b);
	h1_buf_free(&ka);
	h1_buf_free(&kb);
}

/* A stored object with fields <lines> and body "hello world". */
static void make_obj(struct h1_buf *b, const char *lines, struct hc_obj *o)
{
	struct h1_hdrs h;
	struct hc_meta m = {.kind = HC_KIND_RESPONSE, .status = 200};
	struct h1_str reason = {"OK", 2};

	hdrs(&h, lines);
	h1_buf_init(b, 0);
	CU_ASSERT_EQUAL_FATAL(hc_obj_encode(b, &m, &h, NULL, &reason, 11), 0);
	CU_ASSERT_EQUAL_FATAL(h1_buf_append(b, "hello world", 11), 0);
	CU_ASSERT_EQUAL_FATAL(hc_obj_parse(b->p, b->len, o), 0);
	h1_hdrs_free(&h);
}

static void test_object_layout(void)
{
	struct h1_buf b, b2;
	struct hc_obj o;
	struct h1_hdrs upd, old;
	struct hc_meta m;

	make_obj(&b, "Connection: X-Hop\nX-Hop: 1\nTransfer-Encoding: chunked\n"
		     "Content-Length: 11\nAge: 3\nETag: \"v1\"\nX-Kept: yes\nSet-Cookie: a=b",
		&o);
	CU_ASSERT_EQUAL(o.meta.n_fields, 3);
	CU_ASSERT_STRING_EQUAL(hc_obj_field(&o, "etag"), "\"v1\"");
	CU_ASSERT_STRING_EQUAL(hc_obj_field(&o, "Set-Cookie"), "a=b");
	CU_ASSERT_PTR_NULL(hc_obj_field(&o, "X-Hop"));
	CU_ASSERT_PTR_NULL(hc_obj_field(&o, "Age"));
	CU_ASSERT_EQUAL(o.meta.body_len, 11);
	CU_ASSERT_EQUAL(memcmp(o.body, "hello world", 11), 0);
	CU_ASSERT_EQUAL(memcmp(o.reason, "OK", 2), 0);
	/* a 304 updates fields, but not ETag or Content-Length */
	hdrs(&upd, "X-Kept: no\nETag: \"v2\"\nContent-Length: 99\nX-New: 1");
	h1_hdrs_init(&old, 64, 8192);
	CU_ASSERT_EQUAL(hc_obj_fields(&o, &old), 0);
	h1_buf_init(&b2, 0);
	m = o.meta;
	CU_ASSERT_EQUAL(hc_obj_encode(&b2, &m, &old, &upd, NULL, 0), 0);
	CU_ASSERT_EQUAL(hc_obj_parse(b2.p, b2.len, &o), 0);
	CU_ASSERT_STRING_EQUAL(hc_obj_field(&o, "X-Kept"), "no");
	CU_ASSERT_STRING_EQUAL(hc_obj_field(&o, "ETag"), "\"v1\"");
	CU_ASSERT_STRING_EQUAL(hc_obj_field(&o, "X-New"), "1");
	CU_ASSERT_PTR_NULL(hc_obj_field(&o, "Content-Length"));
	/* malformed objects: short, wrong magic, wrong length, unterminated fields */
	CU_ASSERT_EQUAL(hc_obj_parse(b.p, 3, &o), -EINVAL);
	CU_ASSERT_EQUAL(hc_obj_parse(b.p, b.len - 1, &o), -EINVAL);
	CU_ASSERT_EQUAL(hc_obj_parse(NULL, 0, &o), -EINVAL);
	b.p[0] ^= 0xff;
	CU_ASSERT_EQUAL(hc_obj_parse(b.p, b.len, &o), -EINVAL);
	b.p[0] ^= 0xff;
	memcpy(&m, b.p, sizeof(m));
	b.p[sizeof(m) + m.fields_len - 1] = 'x';
	CU_ASSERT_EQUAL(hc_obj_parse(b.p, b.len, &o), -EINVAL);
	h1_hdrs_free(&upd);
	h1_hdrs_free(&old);
	h1_buf_free(&b);
	h1_buf_free(&b2);
}

static void test_conditionals(void)
{
	struct h1_buf b;
	struct hc_obj o;
	struct h1_hdrs rq;

	make_obj(&b, "ETag: W/\"v1\"\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT", &o);
	hdrs(&rq, "If-None-Match: \"x\", \"v1\"");
	CU_ASSERT_EQUAL(hc_cond_eval(H1_METHOD_GET, &rq, &o), HC_COND_NOT_MODIFIED);
	CU_ASSERT_EQUAL(hc_cond_eval(H1_METHOD_DELETE, &rq, &o), HC_COND_FAILED);
	h1_hdrs_free(&rq);
	/* If-None-Match takes precedence over If-Modified-Since */
	hdrs(&rq, "If-None-Match: \"other\"\nIf-Modified-Since: Sun, 06 Nov 1994 09:00:00 GMT");
	CU_ASSERT_EQUAL(hc_cond_eval(H1_METHOD_GET, &rq, &o), HC_COND_NONE);
	h1_hdrs_free(&rq);
	hdrs(&rq, "If-Modified-Since: Sun, 06 Nov 1994 09:00:00 GMT");
	CU_ASSERT_EQUAL(hc_cond_eval(H1_METHOD_GET, &rq, &o), HC_COND_NOT_MODIFIED);
	h1_hdrs_free(&rq);
	hdrs(&rq, "If-Modified-Since: yesterday");
	CU_ASSERT_EQUAL(hc_cond_eval(H1_METHOD_GET, &rq, &o), HC_COND_NONE);
	h1_hdrs_free(&rq);
	/* If-Match compares strongly: a weak stored tag never matches */
	hdrs(&rq, "If-Match: \"v1\"");
	CU_ASSERT_EQUAL(hc_cond_eval(H1_METHOD_GET, &rq, &o), HC_COND_FAILED);
	h1_hdrs_free(&rq);
	hdrs(&rq, "If-None-Match: *");
	CU_ASSERT_EQUAL(hc_cond_eval(H1_METHOD_HEAD, &rq, &o), HC_COND_NOT_MODIFIED);
	h1_hdrs_free(&rq);
	hdrs(&rq, "If-None-Match: \"unterminated, W/");
	CU_ASSERT_EQUAL(hc_cond_eval(H1_METHOD_GET, &rq, &o), HC_COND_NONE);
	h1_hdrs_free(&rq);
	h1_buf_free(&b);
}

static void test_ranges(void)
{
	struct h1_buf b;
	struct hc_obj o;
	struct h1_hdrs rq;
	uint64_t f = 0, l = 0;
	static const struct {
		const char *range;
		enum hc_range want;
		uint64_t first, last;
	} cases[] = {
		{"Range: bytes=0-4", HC_RANGE_OK, 0, 4},
		{"Range: bytes=6-", HC_RANGE_OK, 6, 10},
		{"Range: bytes=-5", HC_RANGE_OK, 6, 10},
		{"Range: bytes=-50", HC_RANGE_OK, 0, 10},
		{"Range: bytes=3-100", HC_RANGE_OK, 3, 10},
		{"Range: bytes=11-", HC_RANGE_UNSATISFIABLE, 0, 0},
		{"Range: bytes=-0", HC_RANGE_UNSATISFIABLE, 0, 0},
		{"Range: bytes=0-1,3-4", HC_RANGE_NONE, 0, 0},
		{"Range: bytes=5-2", HC_RANGE_NONE, 0, 0},
		{"Range: items=0-1", HC_RANGE_NONE, 0, 0},
		{"Range: bytes=-", HC_RANGE_NONE, 0, 0},
		{"Range: bytes=x-1", HC_RANGE_NONE, 0, 0},
		{"Range: bytes=99999999999999999999999-", HC_RANGE_NONE, 0, 0},
		{"Range: bytes=0-1\nIf-Range: \"other\"", HC_RANGE_NONE, 0, 0},
		{"Range: bytes=0-1\nIf-Range: \"v1\"", HC_RANGE_OK, 0, 1},
	};

	make_obj(&b, "ETag: \"v1\"", &o);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum hc_range r;

		hdrs(&rq, cases[i].range);
		r = hc_range_eval(&rq, &o, 11, &f, &l);
		CU_ASSERT_EQUAL(r, cases[i].want);
		if (r == HC_RANGE_OK && cases[i].want == HC_RANGE_OK) {
			CU_ASSERT_EQUAL(f, cases[i].first);
			CU_ASSERT_EQUAL(l, cases[i].last);
		}
		if (r != cases[i].want)
			fprintf(stderr, "range case %zu (%s): got %d\n", i, cases[i].range, r);
		h1_hdrs_free(&rq);
	}
	h1_buf_free(&b);
}

/* The store's purge by prefix: only the keys that start with it go. */
static void test_remove_prefix(void)
{
	struct cache *c = cache_new(1 << 20, 4096, 4);
	static const char *const keys[] = {"http://a/x", "http://a/x?1", "http://a/y", "http://b/x"};
	struct cache_entry *e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (size_t i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(cache_put(c, i, keys[i], strlen(keys[i]), "v", 1), 0);
	CU_ASSERT_EQUAL(cache_remove_prefix(c, "http://a/x", 10), 2);
	CU_ASSERT_EQUAL(cache_get(c, 0, keys[0], strlen(keys[0]), &e), -ENOENT);
	CU_ASSERT_EQUAL(cache_get(c, 2, keys[2], strlen(keys[2]), &e), 0);
	cache_entry_release(e);
	CU_ASSERT_EQUAL(cache_remove_prefix(c, "http://zzz", 10), 0);
	CU_ASSERT_EQUAL(cache_remove_prefix(c, NULL, 0), 2);
	CU_ASSERT_EQUAL(cache_remove_prefix(NULL, "x", 1), 0);
	cache_free(c);
}

int test_hcache_register(void)
{
	static const CU_TestInfo tests[] = {
		{"dates", test_dates},
		{"cache_control", test_cache_control},
		{"storable", test_storable},
		{"freshness_and_age", test_freshness_and_age},
		{"vary", test_vary},
		{"object_layout", test_object_layout},
		{"conditionals", test_conditionals},
		{"ranges", test_ranges},
		{"remove_prefix", test_remove_prefix},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("hcache", tests);
}
