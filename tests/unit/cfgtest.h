/* SPDX-License-Identifier: GPL-2.0 */
/* Loading pingd configurations from strings in the unit tests, and checking their errors. */
#ifndef TESTS_UNIT_CFGTEST_H
#define TESTS_UNIT_CFGTEST_H

#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "userspace/cfg/cfg.h"

/* One virtual host sending every path to the pool "web", then the start of that pool: the
 * tests append its servers (or more keys). Seven lines. */
#define CFGTEST_WEB_HEAD          \
	"virtual_hosts:\n"        \
	"  - name: main\n"        \
	"    hosts: '*'\n"        \
	"    routes:\n"           \
	"      - path: /\n"       \
	"        upstream: web\n" \
	"upstreams:\n"            \
	"  - name: web\n"

/* Load <yaml> as "t.yaml"; NULL on errors, with the messages in <m> (the caller frees them). */
static inline struct cfg *cfgtest_load(const char *yaml, struct cfg_msgs *m)
{
	memset(m, 0, sizeof(*m));
	return cfg_load_string("t.yaml", yaml, strlen(yaml), m);
}

/* Expect <yaml> rejected with <want> in its messages <count> times (0: at least once). */
static inline void cfgtest_expect_error_n(const char *yaml, const char *want, int count)
{
	struct cfg_msgs m;
	struct cfg *c = cfgtest_load(yaml, &m);
	int n = 0;

	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(m.errors > 0);
	for (const char *p = m.text; p && (p = strstr(p, want)); p++)
		n++;
	if (count ? n != count : !n)
		fprintf(stderr, "\n  wanted '%s' %s%d in:\n%s", want, count ? "" : "at least ",
			count ? count : 1, m.text ? m.text : "(nothing)");
	CU_ASSERT(count ? n == count : n > 0);
	cfg_free(c);
	cfg_msgs_free(&m);
}

static inline void cfgtest_expect_error(const char *yaml, const char *want)
{
	cfgtest_expect_error_n(yaml, want, 0);
}

#endif /* TESTS_UNIT_CFGTEST_H */
