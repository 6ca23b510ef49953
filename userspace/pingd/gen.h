/* SPDX-License-Identifier: GPL-2.0 */
/* Generations: one config, the runtime built from it and the workers serving it. A reload
 * starts a new generation on the listening sockets of the old one and drains the old one,
 * which is freed once its last connection has ended. */
#ifndef USERSPACE_PINGD_GEN_H
#define USERSPACE_PINGD_GEN_H

#include <stdbool.h>
#include <stddef.h>

#include "userspace/cfg/cfg-t.h"
#include "userspace/proxy/worker-t.h"

struct monitor;

struct gen {
	struct cfg *cfg; /* owned */
	struct pingd_rt *rt;
	struct monitor *monitor; /* health checks, metrics, admin listener: set by the caller, freed
			  * with the generation (its workers count into its stats) */
	struct worker *workers;
	unsigned int nw;      /* workers set up */
	unsigned int started; /* threads running */
	bool draining;
	struct gen *next; /* older generations still draining (a list kept by the caller) */
};

/* Listening sockets a new generation may take instead of binding: those of the running
 * generation (borrowed: a taker gets a duplicate) or received from another process (owned:
 * a taker gets the socket itself). */
struct gen_fdpool {
	int *fd;
	bool *taken;
	size_t n, cap;
	bool owned;
};

/* Add listening socket <fd> to <p>. Returns 0 or -ENOMEM (an owned <fd> is then closed). */
int gen_fdpool_add(struct gen_fdpool *p, int fd);

/* Fill <p> (borrowed) with every listening socket of <g>, worker by worker. */
int gen_fdpool_from_gen(struct gen_fdpool *p, const struct gen *g);

/* Release <p>, closing the owned sockets no generation took. */
void gen_fdpool_release(struct gen_fdpool *p);

/* Set up a generation for <c> (which it owns on success): runtime, and workers whose
 * listeners take a socket of the same address from <pool> (may be NULL) before binding new
 * ones. Returns NULL with errno, <c> still the caller's. */
struct gen *gen_new(struct cfg *c, struct gen_fdpool *pool);

/* Start the worker threads of <g>. Returns 0 or a negative errno. */
int gen_start(struct gen *g);

/* Drain every worker of <g> within <grace_ms>. */
void gen_drain(struct gen *g, unsigned int grace_ms);

/* Whether every worker thread of <g> has ended (drained). */
bool gen_done(const struct gen *g);

/* Stop, join and free <g> with its monitor, runtime and config; NULL is accepted. */
void gen_free(struct gen *g);

#endif /* USERSPACE_PINGD_GEN_H */
