// SPDX-License-Identifier: GPL-2.0
/* Health-check parameters (see health_params.h). */
#include "userspace/cfg/health_params.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "userspace/http/h1.h"

void health_params_default(struct health_params *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = HEALTH_TCP;
	p->interval_ms = HEALTH_DEF_INTERVAL_MS;
	p->timeout_ms = HEALTH_DEF_TIMEOUT_MS;
	p->rise = HEALTH_DEF_RISE;
	p->fall = HEALTH_DEF_FALL;
	p->jitter_pct = HEALTH_DEF_JITTER_PCT;
	p->status_min = HEALTH_DEF_STATUS_MIN;
	p->status_max = HEALTH_DEF_STATUS_MAX;
}

/* Printable ASCII without spaces: what a path or Host may hold in a probe. */
static bool is_visible(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int health_params_check(const struct health_params *p, char *err, size_t errlen)
{
	const char *why = NULL;

	if (p->kind >= HEALTH_KIND_MAX)
		why = "unknown check kind";
	else if (p->interval_ms < 1)
		why = "interval must be at least 1ms";
	else if (p->timeout_ms < 1 || p->timeout_ms > p->interval_ms)
		why = "timeout must be between 1ms and the interval";
	else if (p->rise < 1 || p->rise > HEALTH_MAX_COUNT)
		why = "rise must be between 1 and 1000";
	else if (p->fall < 1 || p->fall > HEALTH_MAX_COUNT)
		why = "fall must be between 1 and 1000";
	else if (p->jitter_pct > 50)
		why = "jitter must be between 0 and 50 percent";
	else if (p->kind == HEALTH_HTTP) {
		if (p->method && !h1_is_token(p->method))
			why = "method must be an HTTP token";
		else if (p->path && (p->path[0] != '/' || !is_visible(p->path)))
			why = "path must start with '/' and hold no spaces or control bytes";
		else if (p->host && !is_visible(p->host))
			why = "host must hold no spaces or control bytes";
		else if (p->status_min < 100 || p->status_min > 599 ||
			 p->status_max < p->status_min || p->status_max > 599)
			why = "expected status range must lie within 100-599, low <= high";
	}
	if (!why)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return -EINVAL;
}
