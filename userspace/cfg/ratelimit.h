/* SPDX-License-Identifier: GPL-2.0 */
/* The rate_limits: section: its scalar forms (rates, key parts, delay) and its checks, shared
 * by the loader and the proxy's limits phase, which reads the same forms. */
#ifndef USERSPACE_CFG_RATELIMIT_H
#define USERSPACE_CFG_RATELIMIT_H

#include <stdint.h>

#include "userspace/cfg/cfg-t.h"

/* Parse a rate "N/s", "N/m", "Nr/s" or "Nr/m" (N a positive decimal) into *<rps>, requests per
 * second. Returns 0, -EINVAL (bad form) or -ERANGE (0, negative, or not finite). */
int cfg_parse_rate(const char *s, double *rps);

/* Parse key part <s> ("client_addr", "header:NAME", "route", "host", "hook") into *<src> and,
 * for a header, *<name> (pointing into <s>). Returns 0 or -EINVAL. */
int cfg_parse_limit_key(const char *s, enum cfg_limit_src *src, const char **name);

/* Parse a delay ("off", "on" or a count) into *<delay_after> (limit_req_conf.delay_after).
 * Returns 0 or -EINVAL. */
int cfg_parse_limit_delay(const char *s, uint32_t *delay_after);

/* The index of the rate limit named <name> in <c>, or -1. */
int cfg_rate_limit_find(const struct cfg *c, const char *name);

#endif /* USERSPACE_CFG_RATELIMIT_H */
