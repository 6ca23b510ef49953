// SPDX-License-Identifier: GPL-2.0
/* Fixed-size objects in chunks of SLAB_CHUNK bytes aligned on their size, so that an
 * object's chunk is its address rounded down. A chunk's objects are handed out in order
 * first (the untouched rest of a fresh chunk costs no memory), then from its free list. */
#include "userspace/lib/slab.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "userspace/lib/bug.h"

#define SLAB_CHUNK ((size_t)64 * 1024)

struct slab_chunk {
	struct slab *sl;
	LIST_ENTRY(slab_chunk) link; /* in sl->partial while it has a free object */
	void *free;			/* freed objects, each holding the next */
	unsigned int used;		/* objects handed out */
	unsigned int fresh;		/* objects never handed out start at this index */
};

#define HDR (((sizeof(struct slab_chunk)) + 15) & ~(size_t)15)

void slab_init(struct slab *sl, size_t size)
{
	memset(sl, 0, sizeof(*sl));
	sl->size = (size + 15) & ~(size_t)15;
	BUG_ON(sl->size > (SLAB_CHUNK - HDR) / 8);
	sl->per_chunk = (unsigned int)((SLAB_CHUNK - HDR) / sl->size);
}

/* A mapping of SLAB_CHUNK bytes aligned on SLAB_CHUNK: twice that mapped, the excess
 * unmapped. */
static struct slab_chunk *chunk_map(void)
{
	char *p = mmap(NULL, 2 * SLAB_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		-1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + SLAB_CHUNK - 1) & ~(uintptr_t)(SLAB_CHUNK - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((char *)a + SLAB_CHUNK, (uintptr_t)p + SLAB_CHUNK - a);
	return (struct slab_chunk *)a;
}

void *slab_alloc(struct slab *sl)
{
	struct slab_chunk *c = LIST_FIRST(&sl->partial);
	void *p;

	if (!c) {
		c = sl->spare;
		sl->spare = NULL;
		if (!c) {
			c = chunk_map();
			if (!c) {
				errno = ENOMEM;
				return NULL;
			}
			c->sl = sl;
			sl->chunks++;
		}
		LIST_INSERT_HEAD(&sl->partial, c, link);
	}
	if (c->free) {
		p = c->free;
		c->free = *(void **)p;
	} else {
		p = (char *)c + HDR + (size_t)c->fresh++ * sl->size;
	}
	if (++c->used == sl->per_chunk)
		LIST_REMOVE(c, link);
	memset(p, 0, sl->size);
	return p;
}

void slab_free(void *p)
{
	struct slab_chunk *c;
	struct slab *sl;

	if (!p)
		return;
	c = (struct slab_chunk *)((uintptr_t)p & ~(uintptr_t)(SLAB_CHUNK - 1));
	sl = c->sl;
	*(void **)p = c->free;
	c->free = p;
	if (c->used-- == sl->per_chunk)
		LIST_INSERT_HEAD(&sl->partial, c, link);
	if (c->used)
		return;
	/* Empty: kept as the spare (its pages given back to the kernel), or unmapped. Only
	 * pages past the first were given back, and only if some object there was handed out
	 * since they last were: a worker whose few connections come and go one at a time
	 * would otherwise pay a system call and a page fault for each. */
	LIST_REMOVE(c, link);
	if (sl->spare) {
		munmap(c, SLAB_CHUNK);
		sl->chunks--;
		return;
	}
	if (HDR + (size_t)c->fresh * sl->size > 4096)
		(void)madvise((char *)c + 4096, SLAB_CHUNK - 4096, MADV_DONTNEED);
	c->free = NULL;
	c->fresh = 0;
	sl->spare = c;
}

void slab_destroy(struct slab *sl)
{
	/* Chunks whose objects are still in use stay mapped. */
	if (sl->spare)
		munmap(sl->spare, SLAB_CHUNK);
	sl->spare = NULL;
	sl->chunks = 0;
}
