/* SPDX-License-Identifier: GPL-2.0 */
/* How a target is health-checked, for upstream servers (upstreams[].health) and L4 backends
 * (l4.health) alike: one parameter struct with its defaults and bounds. */
#ifndef USERSPACE_CFG_HEALTH_PARAMS_T_H
#define USERSPACE_CFG_HEALTH_PARAMS_T_H

#include <stdbool.h>

/* Defaults of struct health_params (and of the proposed config keys). */
#define HEALTH_DEF_INTERVAL_MS 2000u
#define HEALTH_DEF_TIMEOUT_MS  1000u
#define HEALTH_DEF_RISE	       2u
#define HEALTH_DEF_FALL	       3u
#define HEALTH_DEF_JITTER_PCT  10u
#define HEALTH_DEF_STATUS_MIN  200u
#define HEALTH_DEF_STATUS_MAX  399u
#define HEALTH_MAX_COUNT       1000u /* rise and fall bound */

enum health_kind {
	HEALTH_TCP = 0, /* success = the TCP handshake completes */
	HEALTH_HTTP,	/* success = a response status within [status_min, status_max] */
	HEALTH_KIND_MAX /* must stay last */
};

/* How one target is probed. Strings are copied by health_add(). */
struct health_params {
	enum health_kind kind;
	unsigned int interval_ms; /* between probe starts, before jitter; >= 1 */
	unsigned int timeout_ms;  /* whole probe (connect + exchange); 1..interval_ms */
	unsigned int rise;	  /* consecutive successes that bring a down target up; >= 1 */
	unsigned int fall;	  /* consecutive failures that take an up target down; >= 1 */
	unsigned int jitter_pct;  /* each interval is spread by +-jitter_pct %, 0..50 */
	bool start_down;	  /* a new target starts down and needs <rise> successes */
	const char *method;	  /* HTTP: request method token; NULL = "GET" */
	const char *path;	  /* HTTP: request-target, origin-form; NULL = "/" */
	const char *host;	  /* HTTP: Host header; NULL = the target address */
	unsigned int status_min;  /* HTTP: lowest accepted status, 100..599 */
	unsigned int status_max;  /* HTTP: highest accepted status, status_min..599 */
};

#endif /* USERSPACE_CFG_HEALTH_PARAMS_T_H */
