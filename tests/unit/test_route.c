// SPDX-License-Identifier: GPL-2.0
/* Routing: listeners to virtual hosts (exact, wildcard, catch-all) to routes (exact path,
 * longest prefix). */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/cfg/cfg.h"
#include "userspace/proxy/route.h"

static const char yaml[] = "listeners:\n"
			   "  - address: 127.0.0.1:1\n"
			   "  - address: 127.0.0.1:2\n"
			   "    virtual_hosts: [api]\n"
			   "upstreams:\n"
			   "  - {name: u, servers: [{address: 127.0.0.1:9}]}\n"
			   "virtual_hosts:\n"
			   "  - name: api\n"
			   "    hosts: [api.example.com, '*.api.example.com']\n"
			   "    routes:\n"
			   "      - {path: /, upstream: u}\n"
			   "      - {path: /v1/, upstream: u}\n"
			   "      - {path: /v1/users, upstream: u}\n"
			   "      - {path: /v1/users/me, match: exact, upstream: u}\n"
			   "  - name: deep\n"
			   "    hosts: ['*.eu.api.example.com']\n"
			   "    routes: [{path: /, upstream: u}]\n"
			   "  - name: www\n"
			   "    hosts: [www.example.com, example.com]\n"
			   "    routes: [{path: /static/, upstream: u}]\n"
			   "  - name: other\n"
			   "    hosts: '*'\n"
			   "    routes: [{path: /only, match: exact, upstream: u}]\n";

static struct cfg *cfg;
static struct route_table *rt;

static void setup(void)
{
	struct cfg_msgs m = {0};

	cfg = cfg_load_string("route.yaml", yaml, strlen(yaml), &m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	rt = route_table_new(cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	cfg_msgs_free(&m);
}

static void teardown(void)
{
	route_table_free(rt);
	cfg_free(cfg);
	rt = NULL;
	cfg = NULL;
}

static const char *vh(size_t l, const char *host)
{
	const struct cfg_vhost *v = route_vhost(rt, l, host, host ? strlen(host) : 0);

	return v ? v->name : "(none)";
}

static void test_vhosts(void)
{
	setup();
	CU_ASSERT_STRING_EQUAL(vh(0, "api.example.com"), "api");
	CU_ASSERT_STRING_EQUAL(vh(0, "API.Example.COM"), "api");
	CU_ASSERT_STRING_EQUAL(vh(0, "api.example.com:8080"), "api");
	CU_ASSERT_STRING_EQUAL(vh(0, "api.example.com."), "api");
	CU_ASSERT_STRING_EQUAL(vh(0, "x.api.example.com"), "api");
	CU_ASSERT_STRING_EQUAL(vh(0, "a.b.api.example.com"), "api");
	/* The longest wildcard wins. */
	CU_ASSERT_STRING_EQUAL(vh(0, "x.eu.api.example.com"), "deep");
	/* "*.eu.api.example.com" does not match the bare domain. */
	CU_ASSERT_STRING_EQUAL(vh(0, "eu.api.example.com"), "api");
	CU_ASSERT_STRING_EQUAL(vh(0, "example.com"), "www");
	CU_ASSERT_STRING_EQUAL(vh(0, "xexample.com"), "other");
	CU_ASSERT_STRING_EQUAL(vh(0, "[::1]:80"), "other");
	CU_ASSERT_STRING_EQUAL(vh(0, ""), "other");
	CU_ASSERT_STRING_EQUAL(vh(0, NULL), "other");
	/* Listener 1 serves only "api": no catch-all there. */
	CU_ASSERT_STRING_EQUAL(vh(1, "x.api.example.com"), "api");
	CU_ASSERT_STRING_EQUAL(vh(1, "www.example.com"), "(none)");
	CU_ASSERT_STRING_EQUAL(vh(1, "x.eu.api.example.com"), "api");
	CU_ASSERT_STRING_EQUAL(vh(7, "api.example.com"), "(none)");
	teardown();
}

static const char *path(const char *host, const char *target)
{
	const struct cfg_route *r = route_match(rt, 0, host, strlen(host), target, strlen(target));

	return r ? r->path : "(none)";
}

static void test_paths(void)
{
	setup();
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/"), "/");
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/x"), "/");
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/v1"), "/");
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/v1/"), "/v1/");
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/v1/users?x=1"), "/v1/users");
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/v1/usersX"), "/v1/users");
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/v1/users/me"), "/v1/users/me");
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/v1/users/me?a"), "/v1/users/me");
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/v1/users/me#f"), "/v1/users/me");
	CU_ASSERT_STRING_EQUAL(path("api.example.com", "/v1/users/me/"), "/v1/users");
	CU_ASSERT_STRING_EQUAL(path("www.example.com", "/static/a.css"), "/static/");
	CU_ASSERT_STRING_EQUAL(path("www.example.com", "/"), "(none)");
	CU_ASSERT_STRING_EQUAL(path("www.example.com", "/static"), "(none)");
	CU_ASSERT_STRING_EQUAL(path("nowhere", "/only"), "/only");
	CU_ASSERT_STRING_EQUAL(path("nowhere", "/only/"), "(none)");
	CU_ASSERT_STRING_EQUAL(path("nowhere", "/onl"), "(none)");
	CU_ASSERT_STRING_EQUAL(path("nowhere", ""), "(none)");
	teardown();
}

int test_route_register(void)
{
	static const CU_TestInfo tests[] = {
		{"virtual hosts: exact, wildcard, catch-all, per listener", test_vhosts},
		{"routes: exact before longest prefix, query ignored", test_paths},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("route", tests);
}
