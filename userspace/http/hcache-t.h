/* SPDX-License-Identifier: GPL-2.0 */
/* Types of the HTTP caching rules (RFC 9111, shared cache): parsed Cache-Control directives,
 * a stored response's metadata, conditional-request and Range outcomes. */
#ifndef USERSPACE_HTTP_HCACHE_T_H
#define USERSPACE_HTTP_HCACHE_T_H

#include <stddef.h>
#include <stdint.h>

#include "userspace/http/h1-t.h"

/* hc_cc.flags: the directives without a value (or whose value is not kept). */
enum hc_cc_flags {
	HC_CC_NO_STORE = 1u << 0,
	HC_CC_NO_CACHE = 1u << 1, /* also no-cache="field" (treated as unqualified) */
	HC_CC_PRIVATE = 1u << 2,  /* also private="field" (a shared cache stores neither) */
	HC_CC_PUBLIC = 1u << 3,
	HC_CC_MUST_REVALIDATE = 1u << 4,
	HC_CC_PROXY_REVALIDATE = 1u << 5,
	HC_CC_IMMUTABLE = 1u << 6,
	HC_CC_MUST_UNDERSTAND = 1u << 7,
	HC_CC_ONLY_IF_CACHED = 1u << 8,
	HC_CC_NO_TRANSFORM = 1u << 9,
	HC_CC_MAX_STALE_ANY = 1u << 10, /* request: max-stale without a value */
	HC_CC_S_MAXAGE = 1u << 11,	/* s-maxage was present (even unreadable) */
};

#define HC_UNSET (-1) /* a directive's value that was not given */

/* Cache-Control of a request or a response (RFC 9111 §5.2). Delta-seconds are capped at
 * HC_DELTA_MAX; a value that is not a plain non-negative integer (negative, quoted with single
 * quotes, fractional) or that a repeated directive contradicts becomes 0, so that a response
 * with a broken max-age is stale rather than fresh for long. */
struct hc_cc {
	unsigned int flags; /* enum hc_cc_flags */
	int64_t max_age;    /* seconds, or HC_UNSET */
	int64_t s_maxage;
	int64_t max_stale; /* request */
	int64_t min_fresh; /* request */
	int64_t swr;	   /* response: stale-while-revalidate */
	int64_t sie;	   /* stale-if-error (request or response) */
};

#define HC_DELTA_MAX 2147483648LL /* RFC 9111 §1.2.2: the largest delta-seconds kept */
#define HC_AGE_INVALID INT64_MAX   /* an Age that cannot be read: the response is stale */

/* hc_meta.kind */
enum hc_kind {
	HC_KIND_RESPONSE = 0, /* a stored response */
	HC_KIND_VARY = 1,     /* a primary key's pointer to variants: the Vary field names */
	HC_KIND_MAX	      /* must stay last */
};

#define HC_META_MAGIC 0x70786863u /* "chxp": a stored object of this layout */

/* The fixed header of a stored object (the cache store's value), followed by n_fields
 * NUL-terminated name and value pairs (fields_len bytes), the reason phrase (reason_len bytes)
 * and the body (body_len bytes). Times are wall-clock seconds. */
struct hc_meta {
	uint32_t magic;	      /* HC_META_MAGIC */
	uint16_t kind;	      /* enum hc_kind */
	uint16_t status;      /* response status */
	uint32_t n_fields;    /* header fields kept */
	uint32_t fields_len;  /* bytes of the encoded fields */
	uint32_t reason_len;  /* bytes of the reason phrase */
	uint32_t cc_flags;    /* the response's enum hc_cc_flags */
	int64_t request_time; /* when the request that fetched it was sent */
	int64_t response_time; /* when its head arrived */
	int64_t initial_age;   /* corrected initial age (RFC 9111 §4.2.3), or HC_AGE_INVALID */
	int64_t lifetime;      /* freshness lifetime, seconds */
	int64_t swr;	       /* stale-while-revalidate seconds, or HC_UNSET */
	int64_t sie;	       /* stale-if-error seconds, or HC_UNSET */
	uint64_t body_len;     /* bytes of the body */
};

/* A stored object read back by hc_obj_parse(): a copy of its header (the bytes need not be
 * aligned) and pointers into the object's bytes. */
struct hc_obj {
	struct hc_meta meta;
	const char *fields; /* n_fields pairs "name\0value\0" */
	const char *reason;
	const char *body;
};

/* Outcome of evaluating a request's preconditions against a stored response. */
enum hc_cond {
	HC_COND_NONE = 0,	  /* no precondition, or they pass: answer in full */
	HC_COND_NOT_MODIFIED = 1, /* If-None-Match / If-Modified-Since matched: 304 */
	HC_COND_FAILED = 2,	  /* If-Match / If-Unmodified-Since failed: 412 */
	HC_COND_MAX		  /* must stay last */
};

/* Outcome of a Range header against a stored body. */
enum hc_range {
	HC_RANGE_NONE = 0,	    /* no usable Range (absent, several ranges, another unit) */
	HC_RANGE_OK = 1,	    /* one satisfiable range: 206 */
	HC_RANGE_UNSATISFIABLE = 2, /* 416 */
	HC_RANGE_MAX		    /* must stay last */
};

#endif /* USERSPACE_HTTP_HCACHE_T_H */
