/* SPDX-License-Identifier: GPL-2.0 */
/* The limits phase of a stream: the rate_limits a request's virtual host and route name,
 * decided between request_filter and upstream_peer: pass, hold for a while (delay mode) or
 * answer with the limit's status and Retry-After. Also the in-flight bounds (released when
 * the exchange ends), per-limit metrics, the crossing log and pushes into the XDP deny map. */
#ifndef USERSPACE_PROXY_LIMITS_H
#define USERSPACE_PROXY_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "userspace/cfg/cfg-t.h"

struct limits_rt;
struct metrics;
struct session;
struct stream;

/* What the phase decided. */
enum limits_verdict {
	LIMITS_PASS = 0,   /* go on */
	LIMITS_DELAY,	   /* go on after *wait_ms */
	LIMITS_REJECT,	   /* answer limits_answer() */
	LIMITS_VERDICT_MAX /* must stay last */
};

/* Push <af> (AF_INET/AF_INET6) prefix <addr>/<plen> into the deny map for <ttl_ms>, because
 * of limit <name>. Called from worker threads; returns 0 or a negative errno. */
typedef int (*limits_deny_fn)(void *arg, int af, const void *addr, unsigned int plen,
	uint64_t ttl_ms, const char *name);

/* The limiters of <c>'s rate_limits (c must outlive the result), with a random key seed.
 * Returns NULL with errno (ENOMEM, or EINVAL for a config that did not pass validation);
 * a config without rate_limits gives an empty, valid object. */
struct limits_rt *limits_rt_new(const struct cfg *c);

/* Free <l>; NULL is accepted. No stream may use it any more. */
void limits_rt_free(struct limits_rt *l);

/* Share the key state of the limits of <prev> with the same name and settings (a reload
 * keeps clients' buckets, rates and deny history; in-flight counts stay per generation).
 * Call before the workers of <l> start; either may be freed first. */
void limits_rt_inherit(struct limits_rt *l, struct limits_rt *prev);

/* Show <l>'s counters on <m>'s /metrics from now on (the collector is added to <m> once; a
 * later call, e.g. after a reload, points it at the new object). Control thread only. */
int limits_rt_publish(struct limits_rt *l, struct metrics *m);

/* Let <l> push persistent offenders with <fn>(<arg>, ...); NULL turns pushing off. */
void limits_rt_set_deny(struct limits_rt *l, limits_deny_fn fn, void *arg);

/* Decide on the request of <s> (its route chosen). With LIMITS_DELAY, *<wait_ms> is the
 * hold; with LIMITS_REJECT, *<status> and *<retry_s> (seconds) make the answer. */
enum limits_verdict limits_check(
	struct session *s, uint64_t *wait_ms, int *status, uint64_t *retry_s);

/* Release the in-flight slots the exchange <x> holds (harmless when it holds none). */
void limits_release(struct stream *x);

/* Answer the rejected request of <s>: <status> with Retry-After <retry_s> (seconds), as a
 * local answer (response_filter runs, logged), keeping an HTTP/1.1 connection open when the
 * request has no body left to read, as nginx's limit_req does; then the next request. */
void limits_answer(struct session *s, int status, uint64_t retry_s);

#endif /* USERSPACE_PROXY_LIMITS_H */
