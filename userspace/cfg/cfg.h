/* SPDX-License-Identifier: GPL-2.0 */
/* Loading, validating and printing pingd's YAML configuration. Every key is one row of a
 * table (name, type, offset, default, bounds, help) that drives parsing, validation,
 * --dump-config and the reference in docs/config.md. */
#ifndef USERSPACE_CFG_CFG_H
#define USERSPACE_CFG_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "userspace/cfg/cfg-t.h"
#include "userspace/cfg/scalar.h"


/* Free the text of <m> and reset it; <m> itself is the caller's. */
void cfg_msgs_free(struct cfg_msgs *m);

/* Parse and validate the YAML file at <path>. Problems are appended to <msgs> (may be NULL).
 * Returns a new config owned by the caller (free with cfg_free()), or NULL with errno:
 * EINVAL when the file has errors (see <msgs>), or the errno of opening/reading it. */
struct cfg *cfg_load_file(const char *path, struct cfg_msgs *msgs);

/* As cfg_load_file(), from <len> bytes of YAML at <text>; <name> stands for the file name in
 * messages. */
struct cfg *cfg_load_string(const char *name, const char *text, size_t len, struct cfg_msgs *msgs);

/* The config of the one-line mode: listen on <listen> ("ADDR:PORT") and balance round robin
 * over the comma-separated <upstreams>, with <workers> workers (0 = one per CPU); with
 * <n_tls> certificate and key file pairs in <tls> (cert, key, cert, key, ...) the listener
 * terminates TLS, the first the default. Goes through the same parser and validation as a
 * file, so errors read the same way. */
struct cfg *cfg_oneline(const char *listen, const char *upstreams, unsigned int workers,
	const char *const *tls, size_t n_tls, struct cfg_msgs *msgs);

/* As cfg_oneline(), with <limit_rate> ("RATE[:BURST]", e.g. "100/s:20"; NULL: none) as a
 * rate limit per client address on every request (pingd --limit-rate), and an HTTP cache of
 * <cache_size> (a size, "256m"; NULL or "" = none) on its route, with the cache's other
 * defaults (pingd --cache). */
struct cfg *cfg_oneline_ext(const char *listen, const char *upstreams, unsigned int workers,
	const char *const *tls, size_t n_tls, const char *limit_rate, const char *cache_size,
	struct cfg_msgs *msgs);

/* Release <c> and everything it owns; NULL is accepted. */
void cfg_free(struct cfg *c);

struct health_params;
/* Fill <out> from health config <h>, of a pool or of an l4_health item (strings point into
 * <h>). Returns false when <h> turns active checks off (check: off). */
bool cfg_health_params(const struct cfg_health *h, struct health_params *out);

/* Print <c> as YAML that cfg_load_*() reads back to the same values. */
void cfg_dump(FILE *f, const struct cfg *c);

/* Print the key reference as a Markdown table (what docs/config.md holds). */
void cfg_doc(FILE *f);

/* One key of the table, for tools and tests. */
struct cfg_key_info {
	const char *name; /* full dotted name, e.g. "timeouts.connect", "upstreams[].name" */
	const char *type; /* human name of its type */
	const char *def;  /* default as written in YAML, or NULL when required/none */
	const char *help;
};

/* The number of keys; cfg_key_info_at() reads them by index. */
size_t cfg_key_count(void);

/* Fill <out> with key <i> (< cfg_key_count()). Returns 0 or -ERANGE. */
int cfg_key_info_at(size_t i, struct cfg_key_info *out);

/* Sort the <n> addresses at <a> (IPv4 before IPv6, then by address and port) and drop
 * repeats, in place. Returns how many are left at the front of <a>. */
size_t cfg_addrs_sort_unique(struct cfg_addr *a, size_t n);

struct addrinfo;
typedef int (*cfg_getaddrinfo_fn)(
	const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);
typedef void (*cfg_freeaddrinfo_fn)(struct addrinfo *res);

/* Resolve upstream server names with <getaddrinfo_fn> and release its results with
 * <freeaddrinfo_fn> from now on; NULLs restore getaddrinfo(3) and freeaddrinfo(3). For tests:
 * a fake resolver answers in any order, with repeats, without DNS. Not thread-safe: call it
 * while no config is loading. */
void cfg_set_resolver(cfg_getaddrinfo_fn getaddrinfo_fn, cfg_freeaddrinfo_fn freeaddrinfo_fn);

#endif /* USERSPACE_CFG_CFG_H */
