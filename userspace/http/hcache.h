/* SPDX-License-Identifier: GPL-2.0 */
/* HTTP caching rules of a shared cache (RFC 9111), pure: Cache-Control parsing, HTTP-dates,
 * what may be stored, freshness lifetime and age, Vary's secondary keys, conditional requests
 * and single ranges against a stored response, and the stored object's byte layout. The clock
 * is passed in; nothing here does I/O or keeps state. */
#ifndef USERSPACE_HTTP_HCACHE_H
#define USERSPACE_HTTP_HCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "userspace/http/h1-t.h"
#include "userspace/http/hcache-t.h"

/* Parse an HTTP-date (<len> bytes at <p>): IMF-fixdate, RFC 850 or asctime form (RFC 9110
 * §5.6.7). Stores seconds since the epoch in <*t>. Returns 0 or -EINVAL. */
int hc_date_parse(const char *p, size_t len, int64_t *t);

/* Write <t> as an IMF-fixdate into <buf> (at least 30 bytes, NUL-terminated); returns 29. */
size_t hc_date_format(int64_t t, char *buf);

/* Every Cache-Control field of <h> into <cc> (directive names are case-insensitive; names
 * inside quoted strings are not directives). */
void hc_cc_parse(const struct h1_hdrs *h, struct hc_cc *cc);

/* Status codes a cache may give heuristic freshness (RFC 9110 §15.1). */
bool hc_status_heuristic(int status);

/* Status codes this cache understands (for must-understand). */
bool hc_status_understood(int status);

/* Whether a shared cache may store the response (<status>, fields <resp>, directives <rs>) to
 * request <method> with fields <req> and directives <rq> (RFC 9111 §3, §3.5). <default_ttl>
 * (seconds, 0 = none) is the freshness given to heuristically cacheable responses without any.
 * Returns NULL when storable, else a static reason for logs. */
const char *hc_storable(enum h1_method method, const struct h1_hdrs *req, const struct hc_cc *rq,
	int status, const struct h1_hdrs *resp, const struct hc_cc *rs, int64_t default_ttl);

/* Freshness lifetime in seconds (RFC 9111 §4.2.1) of a response with <status>, fields
 * <resp> and directives <rs> that arrived at <response_time>: s-maxage, max-age, Expires minus
 * Date, then 10% of Date minus Last-Modified (at most a day) where heuristics are allowed, then
 * <default_ttl>. 0 when none applies. */
int64_t hc_lifetime(int status, const struct h1_hdrs *resp, const struct hc_cc *rs,
	int64_t response_time, int64_t default_ttl);

/* Corrected initial age (RFC 9111 §4.2.3) of <resp> requested at <request_time> and received
 * at <response_time>; HC_AGE_INVALID when its Age is not exactly one non-negative integer. */
int64_t hc_initial_age(const struct h1_hdrs *resp, int64_t request_time, int64_t response_time);

/* Current age of stored <m> at <now>, capped at HC_DELTA_MAX; HC_AGE_INVALID stays so. */
int64_t hc_current_age(const struct hc_meta *m, int64_t now);

/* Whether stored <m> may be served without validation at <now> to a request with directives
 * <rq> (its max-age and min-fresh) (RFC 9111 §4.2). A response with no-cache never is. */
bool hc_fresh(const struct hc_meta *m, const struct hc_cc *rq, int64_t now);

/* Whether stale <m> may be served at <now> to a request with <rq>: within the request's
 * max-stale, or the response's stale-while-revalidate (<revalidating>) or stale-if-error
 * (<error>, also the request's). Never with must-revalidate, proxy-revalidate, s-maxage or
 * no-cache (RFC 9111 §4.2.4, RFC 5861). */
bool hc_stale_ok(const struct hc_meta *m, const struct hc_cc *rq, int64_t now, bool revalidating,
	bool error);

/* The field names of <resp>'s Vary, lower-cased, sorted and comma-separated into <buf> of
 * <size> bytes. Returns the length (0: no Vary), -1 for "*" (never matches), -ENOSPC. */
int hc_vary_names(const struct h1_hdrs *resp, char *buf, size_t size);

/* Append to <out> the secondary key of request fields <req> for Vary names <names> (as
 * hc_vary_names() wrote them): each field's values, combined and with whitespace after commas
 * removed, an absent field told apart from an empty one. Returns 0 or -ENOSPC/-ENOMEM. */
int hc_vary_key(const struct h1_hdrs *req, const char *names, struct h1_buf *out);

/* Whether field <name> (<len> bytes) of a response is kept when storing it: not hop-by-hop,
 * not Age (recomputed), not Content-Length (re-framed), not Proxy-Authenticate and kin. */
bool hc_field_stored(const char *name, size_t len);

/* Whether a 304 may replace stored field <name> (RFC 9111 §3.2): not Content-Length,
 * Content-Encoding, Content-Range, Content-MD5 or ETag, and only fields that are stored. */
bool hc_field_updatable(const char *name, size_t len);

/* Append to <b> a stored object: <m> (its n_fields, fields_len, reason_len and body_len are
 * set here, body_len from <body_len>), the fields of <base> that are stored and not replaced by
 * a field of the same name in <update> (NULL: none), then the updatable fields of <update>,
 * skipping in each list the fields its own Connection names, then <reason>. The caller
 * appends <body_len> body bytes. Returns 0 or -ENOSPC/-ENOMEM. */
int hc_obj_encode(struct h1_buf *b, const struct hc_meta *m, const struct h1_hdrs *base,
	const struct h1_hdrs *update, const struct h1_str *reason, uint64_t body_len);

/* Read stored object <v> (<len> bytes) into <o>. Returns 0, or -EINVAL when it is not a
 * complete object of this layout. */
int hc_obj_parse(const void *v, size_t len, struct hc_obj *o);

/* Add the fields of <o> to <h>. Returns 0 or the h1_hdrs_add() error. */
int hc_obj_fields(const struct hc_obj *o, struct h1_hdrs *h);

/* The value of the first field <name> of <o> (NUL-terminated), or NULL. */
const char *hc_obj_field(const struct hc_obj *o, const char *name);

/* Evaluate the preconditions of request <method> with fields <req> against stored <o>
 * (RFC 9110 §13.2.2): If-Match, If-Unmodified-Since, then If-None-Match (weak comparison) or,
 * without it, If-Modified-Since for GET and HEAD. */
enum hc_cond hc_cond_eval(enum h1_method method, const struct h1_hdrs *req, const struct hc_obj *o);

/* Evaluate request fields <req> (Range, If-Range) against a stored full response <o> of
 * <len> body bytes: one "bytes=" range (first-last, first-, -suffix) gives HC_RANGE_OK with
 * [*first, *last]; several ranges or another unit give HC_RANGE_NONE (answered in full). */
enum hc_range hc_range_eval(
	const struct h1_hdrs *req, const struct hc_obj *o, uint64_t len, uint64_t *first, uint64_t *last);

#endif /* USERSPACE_HTTP_HCACHE_H */
