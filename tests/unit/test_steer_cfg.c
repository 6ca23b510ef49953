// SPDX-License-Identifier: GPL-2.0
/* pingd config keys of L7 steering: listeners[].steer and steer_pin_dir, their defaults and
 * their validation (one steering listener per family, an absolute pin directory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/cfgtest.h"
#include "tests/unit/unit.h"
#include "userspace/cfg/cfg.h"

#define ROUTES CFGTEST_WEB_HEAD "    servers:\n      - address: 127.0.0.1:9000\n"

static void test_defaults(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load("listeners:\n  - address: 127.0.0.1:8080\n" ROUTES, &m);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FALSE(c->listeners[0].steer);
	CU_ASSERT_STRING_EQUAL(c->steer_pin_dir, PINGX_PIN_DIR);
	cfg_free(c);
	cfg_msgs_free(&m);
}

static void test_one_per_family(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load("steer_pin_dir: /sys/fs/bpf/other\n"
				     "listeners:\n"
				     "  - {address: 127.0.0.1:8080, steer: true}\n"
				     "  - {address: '[::1]:8080', steer: true}\n"
				     "  - {address: 127.0.0.1:8081}\n" ROUTES,
		&m);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_TRUE(c->listeners[0].steer);
	CU_ASSERT_TRUE(c->listeners[1].steer);
	CU_ASSERT_FALSE(c->listeners[2].steer);
	CU_ASSERT_STRING_EQUAL(c->steer_pin_dir, "/sys/fs/bpf/other");
	cfg_free(c);
	cfg_msgs_free(&m);
}

static void test_errors(void)
{
	cfgtest_expect_error_n("listeners:\n"
			       "  - {address: 127.0.0.1:8080, steer: true}\n"
			       "  - {address: '*:8081', steer: true}\n" ROUTES,
		"'listeners[].steer': '127.0.0.1:8080' and '*:8081' both steer IPv4; one may", 1);
	cfgtest_expect_error_n("listeners:\n"
			       "  - {address: '[::1]:8080', steer: true}\n"
			       "  - {address: '[::]:8081', steer: true}\n" ROUTES,
		"both steer IPv6", 1);
	/* Reported once, however many listeners steer. */
	cfgtest_expect_error_n("steer_pin_dir: pins\n"
			       "listeners:\n"
			       "  - {address: 127.0.0.1:8080, steer: true}\n"
			       "  - {address: '[::1]:8080', steer: true}\n" ROUTES,
		"'steer_pin_dir': expected an absolute path, got 'pins'", 1);
	cfgtest_expect_error_n("steer_pin_dir: ''\n"
			       "listeners:\n  - {address: 127.0.0.1:8080, steer: true}\n" ROUTES,
		"'steer_pin_dir': expected an absolute path, got ''", 1);
	cfgtest_expect_error_n("listeners:\n  - {address: 127.0.0.1:8080, steer: maybe}\n" ROUTES,
		"t.yaml:2: 'listeners[].steer': expected true or false, got 'maybe'", 1);
	cfgtest_expect_error_n("listeners:\n  - {address: 127.0.0.1:8080, steer: [true]}\n" ROUTES,
		"'listeners[].steer': expected true or false, got 'a list'", 1);
}

/* The pin directory matters only when a listener steers. */
static void test_pin_dir_unused(void)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load("steer_pin_dir: relative\n"
				     "listeners:\n  - address: 127.0.0.1:8080\n" ROUTES,
		&m);

	CU_ASSERT_PTR_NOT_NULL(c);
	cfg_free(c);
	cfg_msgs_free(&m);
}

int test_steer_cfg_register(void)
{
	static const CU_TestInfo tests[] = {
		{"defaults: no steering, the build's pin directory", test_defaults},
		{"one steering listener per family", test_one_per_family},
		{"errors: two per family, pin directory, bad booleans", test_errors},
		{"pin directory unchecked without steering", test_pin_dir_unused},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("steer_cfg", tests);
}
