/* SPDX-License-Identifier: GPL-2.0 */
/* The stream's cache phase: the HTTP cache (RFC 9111, shared) of the routes that name one.
 * Lookup with a stampede lock (one fetch per key; the others wait or get stale), hits served
 * from the store with Age and Cache-Status (RFC 9211), conditional and range requests answered
 * from it, revalidation, stale-while-revalidate and stale-if-error, storing as the body streams
 * to the client, invalidation by unsafe methods, PURGE. The store is userspace/cache/, the
 * rules userspace/http/hcache.c; caches live in a process-wide registry, so a reload that keeps
 * a cache's name and size keeps its contents. */
#ifndef USERSPACE_PROXY_CACHEPHASE_H
#define USERSPACE_PROXY_CACHEPHASE_H

#include <stdbool.h>
#include <stddef.h>

#include "userspace/http/h1-t.h"
#include "userspace/proxy/session-t.h"
#include "userspace/proxy/worker-t.h"

struct metrics_writer;

/* Give <rt> its caches (rt->caches, one per rt->cfg->caches), taken from the registry when one
 * of the same name, size, object size and shard count exists. Returns 0 or -ENOMEM/-EINVAL
 * (logged). */
int cachephase_rt_init(struct pingd_rt *rt);

/* Drop <rt>'s references to its caches; the last one frees a cache. */
void cachephase_rt_free(struct pingd_rt *rt);

/* After request_filter: for a route with a cache, look the request up. Returns 0 to go on to
 * the upstream, 1 when the request is answered (a hit, a PURGE, an error) or waits for another
 * request's fetch of the same key (cachephase_poll() carries on). */
int cachephase_begin(struct session *s);

/* Whether the exchange of <s> waits for another request's fetch. */
bool cachephase_waiting(const struct session *s);

/* The session timer of a waiting exchange: look again once the fetch is over (or go to the
 * upstream when the wait timed out). */
void cachephase_poll(struct session *s);

/* The upstream's final response head <m>, before response_filter: invalidation, revalidation
 * (a 304 refreshes the stored response, which is then served), stale-if-error, and whether the
 * response is stored. Returns 0 to forward <m>, 1 when the client was answered from the cache
 * (the exchange is over), -1 on error. */
int cachephase_response(struct session *s, struct h1_msg *m);

/* <len> body bytes at <p> of the response being forwarded, for the copy being stored. */
void cachephase_body(struct session *s, const char *p, size_t len);

/* The forwarded response is complete: store it. */
void cachephase_done(struct session *s);

/* The upstream failed before a response: answer with the stored response if stale-if-error
 * allows. Returns true when the client was answered. */
bool cachephase_on_error(struct session *s);

/* The exchange is over: release the stored entry, the lock, the copy being stored. */
void cachephase_end(struct session *s);

/* Purge from every cache (or the one named <cache>) the URL <url> ("http://host/path"), or
 * with <prefix> every key starting with it. Returns the number of objects purged. */
size_t cachephase_purge(const char *cache, const char *url, bool prefix);

/* The caches' statistics as JSON into a malloc()ed <*out> of <*len> bytes. Returns 0 or
 * -ENOMEM. */
int cachephase_stats_json(char **out, size_t *len);

/* A metrics collector (metrics_collector()) of every cache's counters; <arg> unused. */
int cachephase_collect(struct metrics_writer *w, void *arg);

#endif /* USERSPACE_PROXY_CACHEPHASE_H */
