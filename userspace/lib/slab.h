/* SPDX-License-Identifier: GPL-2.0 */
/* Objects of one fixed size packed in chunks of their own (anonymous mappings), apart from
 * the heap: for what lives as long as a connection, so that a burst of requests, whose
 * short-lived allocations fill the heap around them, leaves no heap page pinned by one of
 * them once the burst is over. A chunk is unmapped when its last object is freed (one empty
 * chunk is kept). Not thread-safe: one slab per thread that uses it. */
#ifndef USERSPACE_LIB_SLAB_H
#define USERSPACE_LIB_SLAB_H

#include <stddef.h>
#include <sys/queue.h>

struct slab_chunk;

struct slab {
	size_t size;		   /* object size, a multiple of 16 */
	unsigned int per_chunk;	   /* objects in a chunk */
	LIST_HEAD(, slab_chunk) partial; /* chunks with a free object, the one to use first */
	struct slab_chunk *spare;   /* an empty chunk kept for the next one */
	size_t chunks;		   /* chunks mapped, the spare included */
};

/* A slab of <size>-byte objects (<size> at most a few KiB). */
void slab_init(struct slab *sl, size_t size);

/* A zeroed object, or NULL with errno ENOMEM. */
void *slab_alloc(struct slab *sl);

/* Give back <p> (from slab_alloc() of any slab; NULL is accepted). */
void slab_free(void *p);

/* Unmap the empty chunk kept; a chunk with objects still in use stays mapped. */
void slab_destroy(struct slab *sl);

#endif /* USERSPACE_LIB_SLAB_H */
