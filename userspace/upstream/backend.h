/* SPDX-License-Identifier: GPL-2.0 */
/* Server selection for an upstream pool: round robin, smooth weighted round robin, least
 * connections, ketama and Maglev; hashing of the request key; the retry budget. No I/O. */
#ifndef USERSPACE_UPSTREAM_BACKEND_H
#define USERSPACE_UPSTREAM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "userspace/upstream/backend-t.h"

/* Build the shared part of pool <idx> of config <c> (which must outlive it). Returns NULL
 * with errno ENOMEM, or the errno of building the Maglev table or ketama ring. */
struct backend *backend_new(const struct cfg *c, size_t idx);

/* Release <be>; NULL is accepted. */
void backend_free(struct backend *be);

/* Whether <be> takes servers out on failed requests (passive health): on unless
 * passive.max_fails is 0 or an active check is configured, which then decides alone. */
bool backend_passive_on(const struct backend *be);

/* Set up <ws>, a worker's state for <be>. Returns 0 or -ENOMEM. */
int backend_wstate_init(struct backend_wstate *ws, const struct backend *be);

/* Release what <ws> owns. */
void backend_wstate_release(struct backend_wstate *ws);

/* Hash <len> bytes of <key> for a hashing pool (ketama's own hash for ketama, a 64-bit
 * mix for Maglev); 0 for other selections. */
uint64_t backend_hash(const struct backend *be, const void *key, size_t len);

/* Pick a server of <be> for a request whose key hash is <hash> (ignored unless the pool
 * hashes), skipping servers marked down and those whose bit (index % 64) is set in
 * <tried>; when every untried server is marked down, picks among those (fail open).
 * Counts the request as in flight on the result (release with backend_done()).
 * Returns the server index, or -ENOENT when every server has been tried. */
int backend_select(
	const struct backend *be, struct backend_wstate *ws, uint64_t hash, uint64_t tried);

/* The request on server <srv> finished (or its attempt failed). */
void backend_done(struct backend_wstate *ws, int srv);

/* Count a new request against the retry budget at <now_ms> (monotonic). */
void backend_note_request(struct backend_wstate *ws, uint64_t now_ms);

/* Whether pool <be> may spend a retry now, and if so count it. */
bool backend_retry_take(const struct backend *be, struct backend_wstate *ws, uint64_t now_ms);

/* Find cookie <name> in a Cookie header value <hdr> (<len> bytes). On success points
 * *<val> at the value inside <hdr>, sets *<val_len> and returns true. */
bool backend_cookie_value(
	const char *hdr, size_t len, const char *name, const char **val, size_t *val_len);

#endif /* USERSPACE_UPSTREAM_BACKEND_H */
