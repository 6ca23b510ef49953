// SPDX-License-Identifier: GPL-2.0
/* The slab: objects are zeroed, distinct, aligned and reused after a free; a chunk is
 * unmapped once empty (one spare kept), across several chunks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/lib/slab.h"

static void test_alloc_free(void)
{
	struct slab sl;
	unsigned char *a, *b, *c;

	slab_init(&sl, 100); /* rounded up to 112 */
	CU_ASSERT_EQUAL(sl.size, 112);
	a = slab_alloc(&sl);
	b = slab_alloc(&sl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT(a != b);
	CU_ASSERT_EQUAL((uintptr_t)a % 16, 0);
	CU_ASSERT_EQUAL((uintptr_t)b % 16, 0);
	CU_ASSERT(b >= a + sl.size || a >= b + sl.size);
	for (size_t i = 0; i < sl.size; i++)
		CU_ASSERT_EQUAL_FATAL(a[i], 0);
	memset(a, 0xab, sl.size);
	slab_free(a);
	c = slab_alloc(&sl); /* the freed one again, zeroed */
	CU_ASSERT_PTR_EQUAL(c, a);
	for (size_t i = 0; i < sl.size; i++)
		CU_ASSERT_EQUAL_FATAL(c[i], 0);
	CU_ASSERT_EQUAL(sl.chunks, 1);
	slab_free(b);
	slab_free(c);
	slab_free(NULL);
	CU_ASSERT(LIST_EMPTY(&sl.partial));
	CU_ASSERT_PTR_NOT_NULL(sl.spare);
	CU_ASSERT_EQUAL(sl.chunks, 1);
	slab_destroy(&sl);
	CU_ASSERT_EQUAL(sl.chunks, 0);
}

static void test_chunks(void)
{
	enum { N = 3000 };
	struct slab sl;
	void **p = calloc(N, sizeof(*p));
	size_t peak;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	slab_init(&sl, 672);
	for (int i = 0; i < N; i++) {
		p[i] = slab_alloc(&sl);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
		memset(p[i], i & 0xff, 672);
	}
	peak = sl.chunks;
	CU_ASSERT(peak > 1);
	CU_ASSERT(peak <= (size_t)N / sl.per_chunk + 1);
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL_FATAL(((unsigned char *)p[i])[671], i & 0xff);
	/* Every other one freed: no chunk empties; then the rest: all but the spare go. */
	for (int i = 0; i < N; i += 2)
		slab_free(p[i]);
	CU_ASSERT_EQUAL(sl.chunks, peak);
	for (int i = 1; i < N; i += 2)
		slab_free(p[i]);
	CU_ASSERT_EQUAL(sl.chunks, 1);
	CU_ASSERT(LIST_EMPTY(&sl.partial));
	/* The spare serves again. */
	p[0] = slab_alloc(&sl);
	CU_ASSERT_PTR_NOT_NULL(p[0]);
	CU_ASSERT_EQUAL(sl.chunks, 1);
	slab_free(p[0]);
	slab_destroy(&sl);
	free(p);
}

int test_slab_register(void)
{
	static const CU_TestInfo tests[] = {
		{"objects zeroed, aligned, reused", test_alloc_free},
		{"chunks mapped and unmapped", test_chunks},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("slab", tests);
}
