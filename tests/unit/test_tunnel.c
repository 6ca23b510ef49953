// SPDX-License-Identifier: GPL-2.0
/* Tunnel rules: which Upgrade values a route forwards, CONNECT targets parsed and matched
 * against allow-lists, the route serving CONNECT, and the configuration's checks of both. */
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/cfgtest.h"
#include "tests/unit/unit.h"
#include "userspace/proxy/route.h"
#include "userspace/proxy/tunnel.h"

static bool up_ok(const char *const *allow, size_t n, const char *val)
{
	struct cfg_str_list l = {.v = (char **)allow, .n = n};

	return tunnel_upgrade_allowed(&l, val, strlen(val));
}

static void test_upgrade_tokens(void)
{
	static const char *const ws[] = {"websocket"};
	static const char *const any[] = {"*"};
	static const char *const two[] = {"websocket", "foo"};

	CU_ASSERT(up_ok(ws, 1, "websocket"));
	CU_ASSERT(up_ok(ws, 1, "WebSocket"));
	CU_ASSERT(up_ok(ws, 1, " websocket , "));
	CU_ASSERT(up_ok(ws, 1, "websocket/13"));
	CU_ASSERT(!up_ok(ws, 1, "h2c"));
	CU_ASSERT(!up_ok(ws, 1, "h2c, websocket"));
	CU_ASSERT(!up_ok(ws, 1, "websockets"));
	CU_ASSERT(!up_ok(ws, 1, "websock"));
	CU_ASSERT(!up_ok(ws, 1, ""));
	CU_ASSERT(!up_ok(ws, 1, " , "));
	CU_ASSERT(!up_ok(ws, 1, "/13"));
	CU_ASSERT(!up_ok(ws, 0, "websocket"));
	CU_ASSERT(up_ok(any, 1, "h2c, anything/2"));
	CU_ASSERT(up_ok(two, 2, "foo, websocket"));
	CU_ASSERT(!up_ok(two, 2, "foo, bar"));
}

static int parse(const char *t, char *host, uint16_t *port)
{
	return tunnel_target_parse(t, strlen(t), host, 256, port);
}

static void test_target_parse(void)
{
	static const char *const bad[] = {"", "host", "host:", ":80", "host:0", "host:65536",
		"host:123456", "host:8x", "host:-1", "host: 80", "user@host:80", "host:80/path",
		"a:b:80", "[::1]", "[::1]80", "[::1:80", "http://host:80", "ho st:80", "host:+80",
		NULL};
	char host[256], small[4];
	uint16_t port = 0;

	CU_ASSERT_EQUAL(parse("example.com:443", host, &port), 0);
	CU_ASSERT_STRING_EQUAL(host, "example.com");
	CU_ASSERT_EQUAL(port, 443);
	CU_ASSERT_EQUAL(parse("127.0.0.1:65535", host, &port), 0);
	CU_ASSERT_STRING_EQUAL(host, "127.0.0.1");
	CU_ASSERT_EQUAL(port, 65535);
	CU_ASSERT_EQUAL(parse("[::1]:22", host, &port), 0);
	CU_ASSERT_STRING_EQUAL(host, "::1");
	CU_ASSERT_EQUAL(port, 22);
	for (size_t i = 0; bad[i]; i++) {
		int r = parse(bad[i], host, &port);

		if (r != -EINVAL)
			fprintf(stderr, "\n  accepted CONNECT target '%s'\n", bad[i]);
		CU_ASSERT_EQUAL(r, -EINVAL);
	}
	/* A host longer than the caller's buffer is refused, not cut. */
	CU_ASSERT_EQUAL(tunnel_target_parse("abcd:1", 6, small, sizeof(small), &port), -EINVAL);
	CU_ASSERT_EQUAL(tunnel_target_parse("abc:1", 5, small, sizeof(small), &port), 0);
}

static bool allowed(const char *const *allow, size_t n, const char *host, uint16_t port)
{
	struct cfg_str_list l = {.v = (char **)allow, .n = n};

	return tunnel_target_allowed(&l, host, port);
}

static void test_target_allowed(void)
{
	static const char *const list[] = {
		"example.com:443", "*.corp.test:*", "10.0.0.1:22", "[::1]:8080", "*:8443"};

	CU_ASSERT(allowed(list, 5, "example.com", 443));
	CU_ASSERT(allowed(list, 5, "EXAMPLE.com", 443));
	CU_ASSERT(!allowed(list, 5, "example.com", 80));
	CU_ASSERT(!allowed(list, 5, "www.example.com", 443));
	CU_ASSERT(allowed(list, 5, "a.corp.test", 1));
	CU_ASSERT(allowed(list, 5, "a.b.corp.test", 65535));
	CU_ASSERT(!allowed(list, 5, "corp.test", 1));
	CU_ASSERT(!allowed(list, 5, "xcorp.test", 1));
	CU_ASSERT(allowed(list, 5, "10.0.0.1", 22));
	CU_ASSERT(!allowed(list, 5, "10.0.0.10", 22));
	CU_ASSERT(allowed(list, 5, "::1", 8080));
	CU_ASSERT(allowed(list, 5, "0:0::1", 8080));
	CU_ASSERT(!allowed(list, 5, "::2", 8080));
	CU_ASSERT(allowed(list, 5, "anything", 8443));
	CU_ASSERT(!allowed(list, 0, "example.com", 443));
}

static void test_route_connect_cfg(void)
{
	static const char ok[] = "listeners: [{address: '127.0.0.1:1'}]\n"
				 "upstreams: [{name: u, servers: [{address: '127.0.0.1:9'}]}]\n"
				 "virtual_hosts:\n"
				 "  - name: v\n"
				 "    hosts: '*'\n"
				 "    routes:\n"
				 "      - {path: /ws, upstream: u, upgrade: [websocket]}\n"
				 "      - {path: /, upstream: u, connect: ['*.a.test:443', '[::1]:*']}\n"
				 "  - name: w\n"
				 "    hosts: [w.test]\n"
				 "    routes: [{path: /, upstream: u}]\n";
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load(ok, &m);
	struct route_table *rt;
	const struct cfg_vhost *vh;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->timeouts.tunnel_ms, 3600u * 1000u);
	rt = route_table_new(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	vh = route_vhost(rt, 0, "x.a.test:443", 12);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vh);
	CU_ASSERT_PTR_NOT_NULL_FATAL(route_connect(vh));
	CU_ASSERT_STRING_EQUAL(route_connect(vh)->path, "/");
	vh = route_vhost(rt, 0, "w.test", 6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vh);
	CU_ASSERT_PTR_NULL(route_connect(vh));
	route_table_free(rt);
	cfg_free(c);
	cfg_msgs_free(&m);

#define ROUTE_WITH(k) \
	"listeners: [{address: '127.0.0.1:1'}]\n" \
	"upstreams: [{name: u, servers: [{address: '127.0.0.1:9'}]}]\n" \
	"virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: u, " k "}]}]\n"
	cfgtest_expect_error(ROUTE_WITH("upgrade: ['web socket']"),
		"'virtual_hosts[].routes[].upgrade': expected a protocol token or *, got 'web socket'");
	cfgtest_expect_error(ROUTE_WITH("connect: [example.com]"),
		"'virtual_hosts[].routes[].connect': expected HOST:PORT");
	cfgtest_expect_error(ROUTE_WITH("connect: ['a.test:0']"), "got 'a.test:0'");
	cfgtest_expect_error(ROUTE_WITH("connect: ['a.test:70000']"), "got 'a.test:70000'");
	cfgtest_expect_error(ROUTE_WITH("connect: ['a.test:x']"), "got 'a.test:x'");
	cfgtest_expect_error(ROUTE_WITH("connect: [':443']"), "got ':443'");
	cfgtest_expect_error(ROUTE_WITH("connect: ['[::1:443']"), "got '[::1:443'");
	cfgtest_expect_error(ROUTE_WITH("connect: ['[nothex]:443']"), "got '[nothex]:443'");
	cfgtest_expect_error(ROUTE_WITH("connect: ['a b:443']"), "got 'a b:443'");
#undef ROUTE_WITH
}

int test_tunnel_register(void)
{
	static const CU_TestInfo tests[] = {
		{"Upgrade values a route forwards", test_upgrade_tokens},
		{"CONNECT targets: authority-form only", test_target_parse},
		{"CONNECT allow-lists: names, wildcards, IPs, ports", test_target_allowed},
		{"routes: upgrade and connect keys, the CONNECT route", test_route_connect_cfg},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("tunnel", tests);
}
