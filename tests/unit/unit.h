/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the CUnit suites. */
#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H

#include <stdlib.h>

#include <CUnit/CUnit.h>

/* Add suite <name> with the NULL-terminated <tests> to the registry. Returns a CU_ErrorCode. */
static inline int unit_add_suite(const char *name, const CU_TestInfo *tests)
{
	CU_pSuite s = CU_add_suite(name, NULL, NULL);

	if (!s)
		return CU_get_error();
	for (; tests->pName; tests++)
		if (!CU_add_test(s, tests->pName, tests->pTestFunc))
			return CU_get_error();
	return CUE_SUCCESS;
}

/* Directory holding tests/vectors, from $PINGX_TOP or the current directory. */
static inline const char *unit_vectors_dir(void)
{
	const char *top = getenv("PINGX_VECTORS");

	return top ? top : "tests/vectors";
}

#endif /* TESTS_UNIT_UNIT_H */
