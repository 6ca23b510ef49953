// SPDX-License-Identifier: GPL-2.0
/* pingd's config with an l4 section: accepted and parsed by the control plane's parser,
 * l4_health items with their defaults, and bad sections rejected with file:line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/cfgtest.h"
#include "tests/unit/unit.h"
#include "userspace/cfg/cfg.h"
#include "userspace/ctrl/l4cfg.h"

#define BASE                                \
	"listeners:\n"                      \
	"  - address: 127.0.0.1:8080\n"     \
	"upstreams:\n"                      \
	"  - name: web\n"                   \
	"    servers:\n"                    \
	"      - address: 127.0.0.1:9000\n" \
	"virtual_hosts:\n"                  \
	"  - name: main\n"                  \
	"    hosts: '*'\n"                  \
	"    routes:\n"                     \
	"      - path: /\n"                 \
	"        upstream: web\n"

/* Lines 13.. */
#define L4                                \
	"l4:\n"                           \
	"  services:\n"                   \
	"    - address: '10.9.0.1:80'\n"  \
	"      backends:\n"               \
	"        - address: '10.9.1.1'\n" \
	"        - address: '10.9.1.2'\n" \
	"          weight: 3\n"           \
	"    - address: '[fd00::1]:443'\n"

static void test_absent(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load(BASE, &m);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->l4);
	CU_ASSERT_EQUAL(c->n_l4_health, 0);
	CU_ASSERT_STRING_EQUAL(c->l4_pin_dir, PINGX_PIN_DIR);
	cfg_free(c);
	cfg_msgs_free(&m);
}

static void test_accepted(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load(BASE L4 "l4_pin_dir: /sys/fs/bpf/x\n"
					     "l4_health:\n"
					     "  - service: '10.9.0.1:80'\n"
					     "    check: http\n"
					     "    interval: 250ms\n"
					     "    fall: 2\n"
					     "    path: /healthz\n"
					     "  - check: off\n",
		&m);

	if (m.text)
		fprintf(stderr, "\n%s", m.text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(m.errors, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->l4);
	CU_ASSERT_EQUAL_FATAL(c->l4->n_services, 2);
	CU_ASSERT_EQUAL(c->l4->services[0].n_backends, 2);
	CU_ASSERT_EQUAL(c->l4->services[0].backends[1].be.weight, 3);
	CU_ASSERT_EQUAL(c->l4->services[0].line, 15);
	CU_ASSERT_EQUAL(c->l4->services[1].n_backends, 0);
	CU_ASSERT_FALSE(c->l4->has_node);
	CU_ASSERT_STRING_EQUAL(c->l4_pin_dir, "/sys/fs/bpf/x");
	CU_ASSERT_EQUAL_FATAL(c->n_l4_health, 2);
	CU_ASSERT_STRING_EQUAL(c->l4_health[0].service, "10.9.0.1:80");
	CU_ASSERT_EQUAL(c->l4_health[0].health.check, 2);
	CU_ASSERT_EQUAL(c->l4_health[0].health.interval_ms, 250);
	CU_ASSERT_EQUAL(c->l4_health[0].health.timeout_ms, 1000);
	CU_ASSERT_EQUAL(c->l4_health[0].health.fall, 2);
	CU_ASSERT_EQUAL(c->l4_health[0].health.rise, 2);
	CU_ASSERT_STRING_EQUAL(c->l4_health[0].health.path, "/healthz");
	CU_ASSERT_STRING_EQUAL(c->l4_health[1].service, "*");
	CU_ASSERT_EQUAL(c->l4_health[1].health.check, 0);
	cfg_free(c);
	cfg_msgs_free(&m);
}

/* The dump never prints an l4 section that could empty the maps on a read back. */
static void test_dump(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load(BASE L4, &m);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	cfg_dump(f, c);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# l4: given, not printed here"));
	CU_ASSERT_PTR_NULL(strstr(buf, "\nl4:"));
	free(buf);
	cfg_free(c);
	cfg_msgs_free(&m);
}

static void test_errors(void)
{
	/* The control plane's messages keep their line in pingd's file. */
	cfgtest_expect_error(BASE
		"l4:\n  services:\n    - address: '10.9.0.1:80'\n      backends:\n"
		"        - address: '10.9.1.1'\n          weight: -1\n",
		"t.yaml:18: 'weight'");
	cfgtest_expect_error(BASE "l4:\n  services:\n    - address: '10.9.0:80'\n", "t.yaml:15: ");
	cfgtest_expect_error(BASE "l4:\n  bogus: 1\n", "t.yaml:14: ");
	cfgtest_expect_error(BASE "l4: 3\n", "t.yaml:13: ");
	cfgtest_expect_error(BASE "l4:\n  services:\n    - address: '10.9.0.1:80'\n"
				  "    - address: '10.9.0.1:80'\n",
		"t.yaml:16: ");
	/* l4_health items go through the key table. */
	cfgtest_expect_error(
		BASE L4 "l4_health:\n  - check: udp\n", "t.yaml:22: 'l4_health[].check'");
	cfgtest_expect_error(BASE L4 "l4_health:\n  - fall: 0\n", "t.yaml:22: 'l4_health[].fall'");
	cfgtest_expect_error(
		BASE L4 "l4_health:\n  - probe: 1\n", "'l4_health[].probe': unknown key");
	cfgtest_expect_error(BASE L4 "l4_health: 1\n", "t.yaml:21: 'l4_health'");
}

int test_l4section_register(void)
{
	static const CU_TestInfo tests[] = {
		{"no l4 section: none, default pin dir", test_absent},
		{"l4 section and l4_health accepted", test_accepted},
		{"dump does not print the l4 section", test_dump},
		{"bad l4 sections: file:line errors", test_errors},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("l4section", tests);
}
