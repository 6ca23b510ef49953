// SPDX-License-Identifier: GPL-2.0
/* The parser of the l4: configuration section: a full file, defaults, a whole pingd config
 * with other sections, and malformed files with their file:line messages. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/ctrl/l4cfg.h"

static char path[64];
static char err[512];

/* Parse <text> as a file; returns the result, the message in err. */
static int parse_text(const char *text, struct ctrl_l4cfg *cfg)
{
	FILE *f;
	int fd, r;

	strcpy(path, "/tmp/pingx-l4cfg-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	r = ctrl_l4cfg_parse_file(path, cfg, err, sizeof(err));
	unlink(path);
	return r;
}

static void test_full(void)
{
	struct ctrl_l4cfg cfg;
	const struct ctrl_l4cfg_service *s;
	const struct lb_backend *b;
	__u8 v4[4] = {192, 0, 2, 10};

	CU_ASSERT_EQUAL_FATAL(
		parse_text("l4:\n"
			   "  node:\n"
			   "    src4: 192.0.2.1\n"
			   "    src6: '2001:db8::1'\n"
			   "    gateway_mac: '02:00:00:00:00:fe'\n"
			   "    mtu: 1600\n"
			   "    gue_port: 7000\n"
			   "    seed: 42\n"
			   "    udp_timeout: 60\n"
			   "  services:\n"
			   "    - address: 192.0.2.10:80\n"
			   "      table_size: 251\n"
			   "      backends:\n"
			   "        - {address: 198.51.100.1, weight: 2, state: drain}\n"
			   "        - address: '198.51.100.2:8080'\n"
			   "          mac: '02:00:00:00:00:02'\n"
			   "    - address: '[2001:db8::10]:443'\n"
			   "      proto: udp\n"
			   "      algo: ketama\n"
			   "      fwd: gue\n"
			   "      hash: src\n"
			   "      mode: l7\n",
			&cfg),
		0);
	CU_ASSERT(cfg.has_node);
	CU_ASSERT_EQUAL(cfg.node.mtu, 1600);
	CU_ASSERT_EQUAL(ntohs(cfg.node.gue_port), 7000);
	CU_ASSERT_EQUAL(cfg.node.hash_seed, 42);
	CU_ASSERT_EQUAL(cfg.node.udp_timeout, 60);
	CU_ASSERT(cfg.node.flags & LB_NODE_F_GW_MAC);
	CU_ASSERT_EQUAL(cfg.node.gw_mac[5], 0xfe);
	CU_ASSERT_EQUAL_FATAL(cfg.n_services, 2);
	s = &cfg.services[0];
	CU_ASSERT(!memcmp(s->key.addr.bytes, v4, 4));
	CU_ASSERT_EQUAL(ntohs(s->key.port), 80);
	CU_ASSERT_EQUAL(s->key.proto, IPPROTO_TCP);
	CU_ASSERT_EQUAL(s->conf.table_size, 251);
	CU_ASSERT_EQUAL(s->conf.algo, LB_ALGO_MAGLEV);
	CU_ASSERT_EQUAL_FATAL(s->n_backends, 2);
	b = &s->backends[0].be;
	CU_ASSERT_EQUAL(b->weight, 2);
	CU_ASSERT_EQUAL(b->state, LB_BE_DRAIN);
	CU_ASSERT_EQUAL(s->backends[0].line, 14);
	b = &s->backends[1].be;
	CU_ASSERT_EQUAL(b->weight, 1);
	CU_ASSERT_EQUAL(b->state, LB_BE_UP);
	CU_ASSERT_EQUAL(ntohs(b->port), 8080);
	CU_ASSERT_EQUAL(b->mac[5], 2);
	s = &cfg.services[1];
	CU_ASSERT_EQUAL(s->key.family, LB_AF_INET6);
	CU_ASSERT_EQUAL(s->key.proto, IPPROTO_UDP);
	CU_ASSERT_EQUAL(s->conf.algo, LB_ALGO_KETAMA);
	CU_ASSERT_EQUAL(s->conf.fwd, LB_FWD_GUE);
	CU_ASSERT_EQUAL(s->conf.mode, LB_MODE_L7);
	CU_ASSERT_EQUAL(s->conf.flags, LB_SVC_F_HASH_SRC);
	CU_ASSERT_EQUAL(s->conf.table_size, LB_DEFAULT_TABLE_SIZE);
	CU_ASSERT_EQUAL(s->n_backends, 0);
	ctrl_l4cfg_free(&cfg);
}

/* A pingd config: the other sections are not ours; without node: the node stays. */
static void test_in_pingd_config(void)
{
	struct ctrl_l4cfg cfg;

	CU_ASSERT_EQUAL_FATAL(parse_text("workers: 2\n"
					 "listeners:\n"
					 "  - address: '*:8080'\n"
					 "l4:\n"
					 "  services:\n"
					 "    - address: 192.0.2.10:0/udp\n"
					 "      backends: []\n",
				      &cfg),
		0);
	CU_ASSERT(!cfg.has_node);
	CU_ASSERT_EQUAL_FATAL(cfg.n_services, 1);
	CU_ASSERT_EQUAL(cfg.services[0].key.port, 0);
	CU_ASSERT_EQUAL(cfg.services[0].key.proto, IPPROTO_UDP);
	ctrl_l4cfg_free(&cfg);
	CU_ASSERT_EQUAL(parse_text("l4: {services: []}\n", &cfg), 0);
	CU_ASSERT_EQUAL(cfg.n_services, 0);
	ctrl_l4cfg_free(&cfg);
}

static void bad(const char *text, const char *want)
{
	struct ctrl_l4cfg cfg;
	char full[600];

	CU_ASSERT_EQUAL(parse_text(text, &cfg), -EINVAL);
	snprintf(full, sizeof(full), "%s:%s", path, want);
	if (strcmp(err, full))
		fprintf(stderr, "\n  got  '%s'\n  want '%s'\n", err, full);
	CU_ASSERT_STRING_EQUAL(err, full);
	ctrl_l4cfg_free(&cfg);
}

static void test_bad(void)
{
	bad("l4: [\n", "2: did not find expected node content while parsing a flow node");
	bad("", "1: expected a mapping with an 'l4' key");
	bad("l4:\n", "1: 'l4': expected a mapping, got a scalar");
	bad("l4:\n  node: []\n", "2: 'node': expected a mapping, got a list");
	bad("l4:\n  node: {seed: 4294967296}\n",
		"2: 'seed': expected a number from 0 to 4294967295, got '4294967296'");
	bad("l4:\n  node: {gue_port: 0}\n",
		"2: 'gue_port': expected a number from 1 to 65535, got '0'");
	bad("l4:\n  node: {mtu: +1500}\n",
		"2: 'mtu': expected a number from 68 to 65535, got '+1500'");
	bad("l4:\n  node: {src_mac: '02:00:00:00:00:0g'}\n",
		"2: 'src_mac': expected a MAC address aa:bb:cc:dd:ee:ff, got '02:00:00:00:00:0g'");
	bad("l4:\n  node: {egress: 'a b'}\n", "2: 'egress': expected an interface name, got 'a b'");
	bad("l4:\n  node:\n    src6: 10.0.0.1\n",
		"3: 'src6': expected an IPv6 address, got '10.0.0.1'");
	bad("l4:\n  services:\n    - address: 192.0.2.1:80\n      backends: {}\n",
		"4: 'backends': expected a list, got a mapping");
	bad("l4:\n  services:\n    - address: 192.0.2.1:80\n      mode: [l4]\n",
		"4: 'mode': expected a value, got a list");
	bad("l4:\n  services:\n    - address: 192.0.2.1:80\n      table_size: 250\n",
		"4: 'table_size': expected a number from 251 to 1000003, got '250'");
	bad("l4:\n  services:\n    - address: 192.0.2.1:80\n      backends:\n        - "
	    "198.51.100.1\n",
		"5: 'backends': expected a mapping, got a scalar");
	bad("l4:\n  services:\n    - address: 192.0.2.1:80\n      backends:\n        - {address: "
	    "198.51.100.1/udp}\n",
		"5: 'address': expected ADDR or ADDR:PORT, got '198.51.100.1/udp'");
	bad("l4:\n  services:\n    - address: 192.0.2.1:80\n      backends:\n        - {address: "
	    "198.51.100.1, weight: 65536}\n",
		"5: 'weight': expected a number from 0 to 65535, got '65536'");
	bad("l4:\n  services:\n    - address: 192.0.2.1:99999\n",
		"3: 'address': expected VIP:PORT, got '192.0.2.1:99999' ('99999': port "
		"must be 0..65535)");
}

int test_l4cfg_register(void)
{
	static const CU_TestInfo tests[] = {
		{"full", test_full},
		{"in_pingd_config", test_in_pingd_config},
		{"bad", test_bad},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("l4cfg", tests);
}
