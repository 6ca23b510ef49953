// SPDX-License-Identifier: GPL-2.0
/* Control-plane address parsing: services and backends as pingctl and pingd write them,
 * good and bad. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/ctrl/ctrl.h"

struct ep {
	__u8 family;
	union lb_addr addr;
	__u16 port;
	__u8 proto;
	char err[128];
};

static int parse(const char *s, bool need_port, struct ep *e)
{
	memset(e, 0, sizeof(*e));
	return ctrl_parse_endpoint(
		s, need_port, &e->family, &e->addr, &e->port, &e->proto, e->err, sizeof(e->err));
}

static void test_ipv4(void)
{
	struct ep e;
	uint8_t want[4] = {192, 0, 2, 10};

	CU_ASSERT_EQUAL_FATAL(parse("192.0.2.10:80", true, &e), 0);
	CU_ASSERT_EQUAL(e.family, LB_AF_INET);
	CU_ASSERT(!memcmp(e.addr.bytes, want, 4));
	CU_ASSERT_EQUAL(e.addr.v6[1] | e.addr.v6[2] | e.addr.v6[3], 0);
	CU_ASSERT_EQUAL(e.port, 80);
	CU_ASSERT_EQUAL(e.proto, IPPROTO_TCP);
	CU_ASSERT_EQUAL_FATAL(parse("192.0.2.10:53/udp", true, &e), 0);
	CU_ASSERT_EQUAL(e.proto, IPPROTO_UDP);
	CU_ASSERT_EQUAL(e.port, 53);
	CU_ASSERT_EQUAL_FATAL(parse("192.0.2.10:0/tcp", true, &e), 0);
	CU_ASSERT_EQUAL(e.port, 0); /* the all-ports service */
	CU_ASSERT_EQUAL_FATAL(parse("198.51.100.1", false, &e), 0);
	CU_ASSERT_EQUAL(e.port, 0);
	CU_ASSERT_EQUAL_FATAL(parse("198.51.100.1:65535", false, &e), 0);
	CU_ASSERT_EQUAL(e.port, 65535);
}

static void test_ipv6(void)
{
	struct ep e;
	struct in6_addr want;

	inet_pton(AF_INET6, "2001:db8::1", &want);
	CU_ASSERT_EQUAL_FATAL(parse("[2001:db8::1]:443/udp", true, &e), 0);
	CU_ASSERT_EQUAL(e.family, LB_AF_INET6);
	CU_ASSERT(!memcmp(e.addr.bytes, &want, 16));
	CU_ASSERT_EQUAL(e.port, 443);
	CU_ASSERT_EQUAL(e.proto, IPPROTO_UDP);
	/* A bare IPv6 address (backends) needs no brackets. */
	CU_ASSERT_EQUAL_FATAL(parse("2001:db8::1", false, &e), 0);
	CU_ASSERT_EQUAL(e.port, 0);
	CU_ASSERT_EQUAL_FATAL(parse("[2001:db8::1]", false, &e), 0);
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"",
		"192.0.2",
		"192.0.2.1:",
		"192.0.2.1:65536",
		"192.0.2.1:-1",
		"192.0.2.1:+1",
		"192.0.2.1:8x",
		"192.0.2.1:80/sctp",
		"192.0.2.1:80/",
		"300.0.2.1:80",
		"[2001:db8::1:80",
		"[2001:db8::1]80",
		"2001:db8::1:443",
		"[192.0.2.1]:80x",
		"host.example:80",
		"192.0.2.1:80/tcp/udp",
	};
	struct ep e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Services need a port, so a bare IPv6 address with a last group is refused. */
		CU_ASSERT_EQUAL(parse(bad[i], true, &e), -EINVAL);
		CU_ASSERT(e.err[0] != '\0');
	}
	/* Too long to be an address. */
	char lng[200];

	memset(lng, '1', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	CU_ASSERT_EQUAL(parse(lng, false, &e), -EINVAL);
	CU_ASSERT(strstr(e.err, "too long") != NULL);
}

static void test_format(void)
{
	union lb_addr a = {};
	char buf[CTRL_ADDRSTRLEN];

	inet_pton(AF_INET, "192.0.2.10", a.bytes);
	CU_ASSERT_STRING_EQUAL(
		ctrl_format_addr(LB_AF_INET, &a, 80, buf, sizeof(buf)), "192.0.2.10:80");
	CU_ASSERT_STRING_EQUAL(ctrl_format_addr(LB_AF_INET, &a, 0, buf, sizeof(buf)), "192.0.2.10");
	inet_pton(AF_INET6, "2001:db8::1", a.bytes);
	CU_ASSERT_STRING_EQUAL(
		ctrl_format_addr(LB_AF_INET6, &a, 443, buf, sizeof(buf)), "[2001:db8::1]:443");
}

/* Outer source prefixes: ADDR or ADDR/PLEN, the length within the family's bits. */
static void test_src_prefix(void)
{
	union lb_addr a, want = {};
	char err[160];
	__u8 plen = 99;

	CU_ASSERT_EQUAL(ctrl_parse_src_prefix("192.0.2.0/24", AF_INET, &a, &plen, err, sizeof(err)),
		0);
	inet_pton(AF_INET, "192.0.2.0", want.bytes);
	CU_ASSERT(!memcmp(&a, &want, sizeof(a)) && plen == 24);
	CU_ASSERT_EQUAL(ctrl_parse_src_prefix("192.0.2.1", AF_INET, &a, &plen, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(plen, 0);
	CU_ASSERT_EQUAL(
		ctrl_parse_src_prefix("2001:db8::/64", AF_INET6, &a, &plen, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(plen, 64);
	CU_ASSERT_EQUAL(
		ctrl_parse_src_prefix("192.0.2.0/33", AF_INET, &a, &plen, err, sizeof(err)), -ERANGE);
	CU_ASSERT_STRING_EQUAL(
		err, "invalid IPv4 prefix length in '192.0.2.0/33': expected 1..32");
	CU_ASSERT_EQUAL(
		ctrl_parse_src_prefix("192.0.2.0/0", AF_INET, &a, &plen, err, sizeof(err)), -ERANGE);
	CU_ASSERT_EQUAL(
		ctrl_parse_src_prefix("192.0.2.0/", AF_INET, &a, &plen, err, sizeof(err)), -ERANGE);
	CU_ASSERT_EQUAL(
		ctrl_parse_src_prefix("192.0.2.0/-8", AF_INET, &a, &plen, err, sizeof(err)), -ERANGE);
	CU_ASSERT_EQUAL(ctrl_parse_src_prefix(
				"2001:db8::/129", AF_INET6, &a, &plen, err, sizeof(err)),
		-ERANGE);
	CU_ASSERT_EQUAL(
		ctrl_parse_src_prefix("2001:db8::/64", AF_INET, &a, &plen, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "invalid IPv4 address '2001:db8::/64'");
}

int test_ctrl_register(void)
{
	static const CU_TestInfo tests[] = {
		{"ipv4", test_ipv4},
		{"ipv6", test_ipv6},
		{"bad", test_bad},
		{"format", test_format},
		{"src_prefix", test_src_prefix},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("ctrl", tests);
}
