// SPDX-License-Identifier: GPL-2.0
/* Access log formatting: combined and JSON lines, escaping, missing fields, truncation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/lib/log.h"

static const struct log_access_rec rec = {
	.client = "192.0.2.7",
	.method = "GET",
	.target = "/a?b=\"c\"",
	.version_minor = 1,
	.status = 200,
	.bytes_sent = 1234,
	.referer = NULL,
	.user_agent = "curl/8\x01\\x",
	.upstream = "10.0.0.1:80",
	.duration_us = 1500,
	.time_sec = 0,
};

static void test_combined(void)
{
	char buf[512];
	size_t n;

	setenv("TZ", "UTC", 1);
	n = log_access_format(buf, sizeof(buf), LOG_FMT_COMBINED, &rec);
	CU_ASSERT_EQUAL(n, strlen(buf));
	CU_ASSERT_STRING_EQUAL(buf,
		"192.0.2.7 - - [01/Jan/1970:00:00:00 +0000] \"GET /a?b=\\\"c\\\" "
		"HTTP/1.1\" 200 1234 \"-\" \"curl/8\\x01\\\\x\"\n");
}

static void test_json(void)
{
	char buf[512];

	setenv("TZ", "UTC", 1);
	log_access_format(buf, sizeof(buf), LOG_FMT_JSON, &rec);
	CU_ASSERT_STRING_EQUAL(buf,
		"{\"time\":\"1970-01-01T00:00:00+0000\",\"client\":\"192.0.2.7\","
		"\"method\":\"GET\",\"uri\":\"/a?b=\\\"c\\\"\","
		"\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":1234,"
		"\"referer\":null,\"user_agent\":\"curl/8\\u0001\\\\x\","
		"\"upstream\":\"10.0.0.1:80\",\"duration_ms\":1.500}\n");
}

static void test_truncation(void)
{
	char small[16], big[512];
	size_t need = log_access_format(big, sizeof(big), LOG_FMT_JSON, &rec);
	size_t n = log_access_format(small, sizeof(small), LOG_FMT_JSON, &rec);

	/* Like snprintf: the full length is returned and the buffer stays terminated. */
	CU_ASSERT_EQUAL(n, need);
	CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
	CU_ASSERT_EQUAL(memcmp(small, big, sizeof(small) - 1), 0);
	CU_ASSERT_EQUAL(log_access_format(NULL, 0, LOG_FMT_COMBINED, &rec),
		log_access_format(big, sizeof(big), LOG_FMT_COMBINED, &rec));
}

static void test_levels(void)
{
	CU_ASSERT_EQUAL(log_level_parse("err"), LOG_LVL_ERR);
	CU_ASSERT_EQUAL(log_level_parse("debug"), LOG_LVL_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("loud"), -EINVAL);
	log_setup(LOG_LVL_WARN, false);
	CU_ASSERT_TRUE(log_enabled(LOG_LVL_ERR));
	CU_ASSERT_TRUE(log_enabled(LOG_LVL_WARN));
	CU_ASSERT_FALSE(log_enabled(LOG_LVL_INFO));
	log_setup(LOG_LVL_NOTICE, false);
}

int test_log_register(void)
{
	static const CU_TestInfo tests[] = {
		{"combined format and escaping", test_combined},
		{"JSON format and escaping", test_json},
		{"truncation like snprintf", test_truncation},
		{"levels", test_levels},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("log", tests);
}
