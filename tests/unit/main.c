// SPDX-License-Identifier: GPL-2.0
/* The unit-test runner: every CUnit suite is registered in suites[] below, and any subset can
 * be run by name: pingx-unit [--list] [SUITE...]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/unit.h"

struct suite_entry {
	const char *name;
	int (*reg)(void); /* adds the suite to the registry; returns a CU_ErrorCode */
};

/* One row per tests/unit/test_<name>.c, generated from the file names into suites.h. */
#define UNIT_SUITE(n) int test_##n##_register(void);
#include "tests/unit/suites.h"
#undef UNIT_SUITE
#define UNIT_SUITE(n) {#n, test_##n##_register},
static const struct suite_entry suites[] = {
#include "tests/unit/suites.h"
	{NULL, NULL}, /* must stay last */
};
#undef UNIT_SUITE

static const struct suite_entry *find_suite(const char *name)
{
	for (const struct suite_entry *s = suites; s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

/* Append "unit PASSED FAILED 0" to $PINGX_RESULTS for tests/run.sh, when it is set. */
static void record_results(unsigned int run, unsigned int failed)
{
	const char *path = getenv("PINGX_RESULTS");
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "a");
	if (!f) {
		perror(path);
		return;
	}
	fprintf(f, "unit %u %u 0\n", run - failed, failed);
	fclose(f);
}

/* Each failed assertion, "unit:SUITE/TEST FILE:LINE CONDITION", into $PINGX_FAILURES, which
 * tests/run.sh repeats after its summary. */
static void record_failures(void)
{
	const char *path = getenv("PINGX_FAILURES");
	const char *run = getenv("PINGX_UNIT_RUN"); /* "asan" for the sanitized build */
	CU_pFailureRecord r;
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	for (r = CU_get_failure_list(); r; r = r->pNext)
		fprintf(f, "%s:%s/%s %s:%u %s\n", run ? run : "unit",
			r->pSuite ? r->pSuite->pName : "?", r->pTest ? r->pTest->pName : "?",
			r->strFileName ? r->strFileName : "?", r->uiLineNumber,
			r->strCondition ? r->strCondition : "");
	fclose(f);
}

int main(int argc, char **argv)
{
	unsigned int run, failed;
	int err = 0;

	if (argc > 1 && !strcmp(argv[1], "--list")) {
		for (const struct suite_entry *s = suites; s->name; s++)
			printf("%s\n", s->name);
		return 0;
	}
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "pingx-unit: %s\n", CU_get_error_msg());
		return 1;
	}
	if (argc > 1) {
		for (int i = 1; i < argc && !err; i++) {
			const struct suite_entry *s = find_suite(argv[i]);

			if (!s) {
				fprintf(stderr, "pingx-unit: no suite '%s' (try --list)\n", argv[i]);
				err = 2;
				break;
			}
			err = s->reg() != CUE_SUCCESS;
		}
	} else {
		for (const struct suite_entry *s = suites; s->name && !err; s++)
			err = s->reg() != CUE_SUCCESS;
	}
	if (err) {
		if (err == 1)
			fprintf(stderr, "pingx-unit: registering suites: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return err;
	}
	CU_basic_set_mode(getenv("UNIT_VERBOSE") ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	printf("\n");
	record_results(run, failed);
	record_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
