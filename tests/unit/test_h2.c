// SPDX-License-Identifier: GPL-2.0
/* HTTP/2 <-> HTTP/1.1 head translation: the preface, requests built field by field (pseudo-
 * headers in any order, Host from :authority, cookie crumbs, framing, limits, bad fields),
 * and responses and trailers without connection-specific fields; upstream requests as HTTP/2
 * header lists; gRPC statuses, answers and timeouts; h2io's writes in batches. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <event2/event.h>

#include "tests/unit/unit.h"
#include "userspace/http/h1.h"
#include "userspace/http/h2.h"
#include "userspace/net/conn.h"
#include "userspace/upstream/h2io.h"

static void test_preface(void)
{
	CU_ASSERT_EQUAL(h2_preface_match(H2_PREFACE, H2_PREFACE_LEN), 1);
	CU_ASSERT_EQUAL(h2_preface_match(H2_PREFACE "\x00\x00", H2_PREFACE_LEN + 2), 1);
	CU_ASSERT_EQUAL(h2_preface_match("PRI * HTTP/2", 12), 0);
	CU_ASSERT_EQUAL(h2_preface_match("P", 1), 0);
	CU_ASSERT_EQUAL(h2_preface_match("GET / HTTP/1.1\r\n", 16), -1);
	CU_ASSERT_EQUAL(h2_preface_match("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", 24), -1);
	CU_ASSERT_EQUAL(h2_preface_match("POST", 4), -1);
}

static int add(struct h2_req *r, const char *n, const char *v)
{
	return h2_req_field(r, (const uint8_t *)n, strlen(n), (const uint8_t *)v, strlen(v));
}

/* The HTTP/1.1 head of <r>, as a C string in <out> (static storage). */
static const char *head(struct h2_req *r, bool end_stream, bool *chunked, int *err)
{
	static char out[4096];
	struct h1_buf b;

	h1_buf_init(&b, 0);
	*err = h2_req_write(r, end_stream, 0, &b, chunked);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.p ? b.p : "");
	h1_buf_free(&b);
	return out;
}

static void test_request(void)
{
	struct h2_req r;
	bool chunked;
	int err;
	const char *h;

	/* h2load's order: :path before :method. */
	h2_req_init(&r, 100, 16384);
	CU_ASSERT_EQUAL(add(&r, ":path", "/a?b=c"), 0);
	CU_ASSERT_EQUAL(add(&r, ":scheme", "https"), 0);
	CU_ASSERT_EQUAL(add(&r, ":authority", "a.test:8443"), 0);
	CU_ASSERT_EQUAL(add(&r, ":method", "GET"), 0);
	CU_ASSERT_EQUAL(add(&r, "cookie", "a=1"), 0);
	CU_ASSERT_EQUAL(add(&r, "user-agent", "t"), 0);
	CU_ASSERT_EQUAL(add(&r, "cookie", "b=2"), 0);
	CU_ASSERT_EQUAL(add(&r, "host", "ignored.test"), 0);
	h = head(&r, true, &chunked, &err);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_FALSE(chunked);
	CU_ASSERT_STRING_EQUAL(h, "GET /a?b=c HTTP/1.1\r\nuser-agent: t\r\nHost: a.test:8443\r\n"
				  "Cookie: a=1; b=2\r\n\r\n");
	h2_req_free(&r);

	/* A body without content-length is chunked; with one it passes as is. */
	h2_req_init(&r, 100, 16384);
	add(&r, ":method", "POST");
	add(&r, ":path", "/up");
	add(&r, "host", "h.test");
	h = head(&r, false, &chunked, &err);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_TRUE(chunked);
	CU_ASSERT_STRING_EQUAL(
		h, "POST /up HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n");
	h2_req_free(&r);
	h2_req_init(&r, 100, 16384);
	add(&r, ":method", "PUT");
	add(&r, ":path", "/up");
	add(&r, ":authority", "h.test");
	add(&r, "content-length", "5");
	h = head(&r, false, &chunked, &err);
	CU_ASSERT_FALSE(chunked);
	CU_ASSERT_STRING_EQUAL(h, "PUT /up HTTP/1.1\r\ncontent-length: 5\r\nHost: h.test\r\n\r\n");
	h2_req_free(&r);

	/* CONNECT: the authority is the target, no framing. */
	h2_req_init(&r, 100, 16384);
	add(&r, ":method", "CONNECT");
	add(&r, ":authority", "t.test:443");
	CU_ASSERT_TRUE(h2_req_is_connect(&r));
	h = head(&r, false, &chunked, &err);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_FALSE(chunked);
	CU_ASSERT_STRING_EQUAL(h, "CONNECT t.test:443 HTTP/1.1\r\nHost: t.test:443\r\n\r\n");
	h2_req_free(&r);
}

static void test_request_errors(void)
{
	struct h2_req r;
	bool chunked;
	int err;
	char big[2048];

	/* No :method, no :path, a CONNECT without :authority. */
	h2_req_init(&r, 100, 16384);
	add(&r, ":path", "/");
	head(&r, true, &chunked, &err);
	CU_ASSERT_EQUAL(err, -EINVAL);
	h2_req_free(&r);
	h2_req_init(&r, 100, 16384);
	add(&r, ":method", "GET");
	head(&r, true, &chunked, &err);
	CU_ASSERT_EQUAL(err, -EINVAL);
	h2_req_free(&r);
	h2_req_init(&r, 100, 16384);
	add(&r, ":method", "CONNECT");
	head(&r, false, &chunked, &err);
	CU_ASSERT_EQUAL(err, -EINVAL);
	h2_req_free(&r);

	/* Duplicates and pseudo-headers pingd does not take. */
	h2_req_init(&r, 100, 16384);
	CU_ASSERT_EQUAL(add(&r, ":method", "GET"), 0);
	CU_ASSERT_EQUAL(add(&r, ":method", "GET"), -EINVAL);
	CU_ASSERT_EQUAL(add(&r, ":path", "/"), 0);
	CU_ASSERT_EQUAL(add(&r, ":path", "/x"), -EINVAL);
	CU_ASSERT_EQUAL(add(&r, ":protocol", "websocket"), -EINVAL);
	CU_ASSERT_EQUAL(add(&r, ":foo", "1"), -EINVAL);
	CU_ASSERT_EQUAL(add(&r, ":path", ""), -EINVAL);
	CU_ASSERT_EQUAL(add(&r, "bad name", "1"), -EINVAL);
	CU_ASSERT_EQUAL(add(&r, "x", "a\r\nb: c"), -EINVAL);
	h2_req_free(&r);
	h2_req_init(&r, 100, 16384);
	CU_ASSERT_EQUAL(add(&r, ":method", "A-METHOD-NAME-LONGER-THAN-32-BYTES"), -EINVAL);
	h2_req_free(&r);

	/* The header list limit counts names, values and 32 bytes each: an expanding HPACK
	 * block is refused as soon as it passes it, holding no more than the limit. */
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	h2_req_init(&r, 100, 16384);
	add(&r, ":method", "GET");
	add(&r, ":path", "/");
	for (int i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(add(&r, "x-bomb", big), 0);
	CU_ASSERT_EQUAL(add(&r, "x-bomb", big), -ENOSPC);
	h2_req_free(&r);
	/* And the field count. */
	h2_req_init(&r, 3, 16384);
	add(&r, ":method", "GET");
	add(&r, ":path", "/");
	CU_ASSERT_EQUAL(add(&r, "a", "1"), 0);
	CU_ASSERT_EQUAL(add(&r, "b", "1"), 0);
	CU_ASSERT_EQUAL(add(&r, "c", "1"), 0);
	CU_ASSERT_EQUAL(add(&r, "d", "1"), -ENOSPC);
	h2_req_free(&r);
}

static void test_response(void)
{
	struct h1_msg m = {0};
	nghttp2_nv nva[16];
	char names[256], status[4];
	int n;

	h1_hdrs_init(&m.hdrs, 32, 4096);
	m.kind = H1_RESPONSE;
	m.status = 200;
	h1_hdrs_add(&m.hdrs, "Content-Type", 12, "text/plain", 10);
	h1_hdrs_add(&m.hdrs, "Connection", 10, "close, X-Hop", 12);
	h1_hdrs_add(&m.hdrs, "X-Hop", 5, "1", 1);
	h1_hdrs_add(&m.hdrs, "Keep-Alive", 10, "timeout=5", 9);
	h1_hdrs_add(&m.hdrs, "Transfer-Encoding", 17, "chunked", 7);
	h1_hdrs_add(&m.hdrs, "Upgrade", 7, "h2c", 3);
	h1_hdrs_add(&m.hdrs, "Proxy-Connection", 16, "x", 1);
	h1_hdrs_add(&m.hdrs, "TE", 2, "trailers", 8);
	h1_hdrs_add(&m.hdrs, "X-Kept", 6, "yes", 3);
	n = h2_resp_nva(&m, nva, 16, names, sizeof(names), status);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(nva[0].namelen, 7);
	CU_ASSERT_NSTRING_EQUAL(nva[0].name, ":status", 7);
	CU_ASSERT_NSTRING_EQUAL(nva[0].value, "200", 3);
	CU_ASSERT_NSTRING_EQUAL(nva[1].name, "content-type", 12);
	CU_ASSERT_NSTRING_EQUAL(nva[1].value, "text/plain", 10);
	CU_ASSERT_NSTRING_EQUAL(nva[2].name, "x-kept", 6);
	/* Too little room is an error, not a cut list. */
	CU_ASSERT_EQUAL(h2_resp_nva(&m, nva, 2, names, sizeof(names), status), -ENOSPC);
	CU_ASSERT_EQUAL(h2_resp_nva(&m, nva, 16, names, 8, status), -ENOSPC);
	n = h2_trailer_nva(&m.hdrs, nva, 16, names, sizeof(names));
	CU_ASSERT_EQUAL(n, 2);
	h1_hdrs_free(&m.hdrs);
}

/* The field <name> of <nva> (<n> entries) equals <value>. */
static int nv_is(const nghttp2_nv *nva, int n, const char *name, const char *value)
{
	for (int i = 0; i < n; i++)
		if (nva[i].namelen == strlen(name) && !memcmp(nva[i].name, name, nva[i].namelen))
			return nva[i].valuelen == strlen(value) &&
			       !memcmp(nva[i].value, value, nva[i].valuelen);
	return 0;
}

static void test_upstream_request(void)
{
	struct h1_msg m = {0};
	nghttp2_nv nva[16];
	char names[256];
	int n;

	h1_hdrs_init(&m.hdrs, 16, 1024);
	m.kind = H1_REQUEST;
	m.method = H1_METHOD_POST;
	m.method_name = (struct h1_str){"POST", 4};
	m.target = (struct h1_str){"/pingx.Test/Echo?a=1", 20};
	h1_hdrs_add(&m.hdrs, "Host", 4, "g.test:50051", 12);
	h1_hdrs_add(&m.hdrs, "Content-Type", 12, "application/grpc+proto", 22);
	h1_hdrs_add(&m.hdrs, "Connection", 10, "keep-alive, X-Hop", 17);
	h1_hdrs_add(&m.hdrs, "X-Hop", 5, "1", 1);
	h1_hdrs_add(&m.hdrs, "Transfer-Encoding", 17, "chunked", 7);
	h1_hdrs_add(&m.hdrs, "X-Kept", 6, "yes", 3);
	n = h2_req_nva(&m, "http", nva, 16, names, sizeof(names));
	/* :method :scheme :authority :path content-type x-kept te */
	CU_ASSERT_EQUAL_FATAL(n, 7);
	CU_ASSERT_NSTRING_EQUAL(nva[0].name, ":method", 7);
	CU_ASSERT(nv_is(nva, n, ":method", "POST"));
	CU_ASSERT(nv_is(nva, n, ":scheme", "http"));
	CU_ASSERT(nv_is(nva, n, ":authority", "g.test:50051"));
	CU_ASSERT(nv_is(nva, n, ":path", "/pingx.Test/Echo?a=1"));
	CU_ASSERT(nv_is(nva, n, "content-type", "application/grpc+proto"));
	CU_ASSERT(nv_is(nva, n, "x-kept", "yes"));
	CU_ASSERT(nv_is(nva, n, "te", "trailers"));
	CU_ASSERT(!nv_is(nva, n, "host", "g.test:50051"));
	CU_ASSERT(h2_is_grpc(&m.hdrs));
	/* absolute-form: the path part */
	m.target = (struct h1_str){"http://g.test/x/y", 17};
	n = h2_req_nva(&m, "https", nva, 16, names, sizeof(names));
	CU_ASSERT(nv_is(nva, n, ":path", "/x/y"));
	CU_ASSERT(nv_is(nva, n, ":scheme", "https"));
	m.target = (struct h1_str){"http://g.test", 13};
	n = h2_req_nva(&m, "http", nva, 16, names, sizeof(names));
	CU_ASSERT(nv_is(nva, n, ":path", "/"));
	/* not carried: asterisk-form, CONNECT, no Host; too little room */
	m.target = (struct h1_str){"*", 1};
	CU_ASSERT_EQUAL(h2_req_nva(&m, "http", nva, 16, names, sizeof(names)), -EINVAL);
	m.target = (struct h1_str){"/", 1};
	CU_ASSERT_EQUAL(h2_req_nva(&m, "http", nva, 5, names, sizeof(names)), -ENOSPC);
	m.method = H1_METHOD_CONNECT;
	CU_ASSERT_EQUAL(h2_req_nva(&m, "http", nva, 16, names, sizeof(names)), -EINVAL);
	m.method = H1_METHOD_GET;
	h1_hdrs_remove(&m.hdrs, "Host", 4);
	CU_ASSERT_EQUAL(h2_req_nva(&m, "http", nva, 16, names, sizeof(names)), -EINVAL);
	h1_hdrs_remove(&m.hdrs, "Content-Type", 12);
	h1_hdrs_add(&m.hdrs, "Content-Type", 12, "application/grpcx", 17);
	CU_ASSERT(!h2_is_grpc(&m.hdrs));
	h1_hdrs_free(&m.hdrs);
}

static void test_grpc(void)
{
	struct {
		const char *v;
		uint64_t ms;
	} t[] = {
		{"1S", 1000}, {"250m", 250}, {"2M", 120000}, {"1H", 3600000}, {"1500u", 2},
		{"1n", 1}, {"0m", 1}, {"99999999S", 99999999000ull}, {"123456789S", 0}, {"S", 0},
		{"10", 0}, {"10s", 0}, {"1.5S", 0}, {"-1S", 0}, {"", 0},
	};
	char buf[256];
	size_t n;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct h1_str v = {t[i].v, strlen(t[i].v)};

		CU_ASSERT_EQUAL(h2_grpc_timeout_ms(&v), t[i].ms);
	}
	CU_ASSERT_EQUAL(h2_grpc_timeout_ms(NULL), 0);
	CU_ASSERT_EQUAL(h2_grpc_status(502, false), H2_GRPC_UNAVAILABLE);
	CU_ASSERT_EQUAL(h2_grpc_status(503, false), H2_GRPC_UNAVAILABLE);
	CU_ASSERT_EQUAL(h2_grpc_status(504, false), H2_GRPC_UNAVAILABLE);
	CU_ASSERT_EQUAL(h2_grpc_status(504, true), H2_GRPC_DEADLINE_EXCEEDED);
	CU_ASSERT_EQUAL(h2_grpc_status(404, false), H2_GRPC_UNIMPLEMENTED);
	CU_ASSERT_EQUAL(h2_grpc_status(403, false), H2_GRPC_PERMISSION_DENIED);
	CU_ASSERT_EQUAL(h2_grpc_status(429, false), H2_GRPC_UNAVAILABLE);
	CU_ASSERT_EQUAL(h2_grpc_status(418, false), H2_GRPC_UNKNOWN);
	n = h2_grpc_answer(buf, sizeof(buf), 502, false);
	CU_ASSERT(n > 0 && n < sizeof(buf));
	CU_ASSERT(strstr(buf, "HTTP/1.1 200 OK\r\n") == buf);
	CU_ASSERT(strstr(buf, "\r\ngrpc-status: 14\r\n") != NULL);
	CU_ASSERT(strstr(buf, "\r\ncontent-type: application/grpc\r\n") != NULL);
	CU_ASSERT(strstr(buf, "\r\ncontent-length: 0\r\n") != NULL);
	CU_ASSERT(n >= 4 && !memcmp(buf + n - 4, "\r\n\r\n", 4));
	CU_ASSERT_EQUAL(h2_grpc_answer(buf, 16, 502, false), 0);
}

/* h2io_send(): the frames of many streams leave in writes of up to the limit, batch after
 * batch while the socket takes them whole (a socket that took a batch at once raises no
 * write event that would resume the flush), and the count is the bytes the peer reads. */
static void test_send_batches(void)
{
	static const nghttp2_settings_entry set[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	struct event_base *base = event_base_new();
	nghttp2_session *ng = NULL;
	struct conn *c;
	char path[32], buf[65536];
	size_t got = 0;
	ssize_t n, k;
	int sv[2];

	CU_ASSERT_FATAL(base != NULL);
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	c = conn_accepted(base, &conn_tcp, sv[0], (struct sockaddr *)&sin, sizeof(sin));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(h2io_session_new(&ng,
				&(struct h2io_session){
					.set = set, .n_set = 1, .window = 65535, .streams = 1},
				NULL) == 0);
	for (int i = 0; i < 50; i++) {
		int len = snprintf(path, sizeof(path), "/stream/%d", i);
		nghttp2_nv nva[] = {
			{(uint8_t *)":method", (uint8_t *)"GET", 7, 3, NGHTTP2_NV_FLAG_NONE},
			{(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, NGHTTP2_NV_FLAG_NONE},
			{(uint8_t *)":authority", (uint8_t *)"a.test", 10, 6, NGHTTP2_NV_FLAG_NONE},
			{(uint8_t *)":path", (uint8_t *)path, 5, (size_t)len, NGHTTP2_NV_FLAG_NONE},
		};

		CU_ASSERT(nghttp2_submit_request(ng, NULL, nva, 4, NULL, NULL) > 0);
	}
	n = h2io_send(ng, c, 512);
	CU_ASSERT(n > 512);
	CU_ASSERT_EQUAL(nghttp2_session_want_write(ng), 0);
	CU_ASSERT_EQUAL(conn_pending(c), 0);
	while ((k = read(sv[1], buf, sizeof(buf))) > 0)
		got += (size_t)k;
	CU_ASSERT_EQUAL((ssize_t)got, n);
	/* Nothing more to send: nothing written. */
	CU_ASSERT_EQUAL(h2io_send(ng, c, 512), 0);
	nghttp2_session_del(ng);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);
}

int test_h2_register(void)
{
	static const CU_TestInfo tests[] = {
		{"the connection preface, whole, partial, other", test_preface},
		{"requests: pseudo-headers in any order, Host, cookies, framing", test_request},
		{"requests: missing or bad pseudo-headers, limits", test_request_errors},
		{"responses: :status, lower-case names, no connection-specific fields",
			test_response},
		{"upstream requests: pseudo-headers from the head, Host out, te for gRPC",
			test_upstream_request},
		{"gRPC: statuses, the trailers-only answer, grpc-timeout", test_grpc},
		{"h2io: the frames of many streams written in batches up to the limit",
			test_send_batches},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("h2", tests);
}
