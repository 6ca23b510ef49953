/* SPDX-License-Identifier: GPL-2.0 */
/* Pushing clients into the data plane's deny map for pingd's rate limits: a limits_deny_fn
 * over the control-plane library, safe from every worker thread. */
#ifndef USERSPACE_L4_DENY_H
#define USERSPACE_L4_DENY_H

#include <stdint.h>

struct l4deny;

/* A pusher into the maps pinned in <pin_dir> (copied); the maps are opened at the first push
 * and again after a failure, at most every few seconds, so pingd may start before the data
 * plane. NULL with errno ENOMEM. */
struct l4deny *l4deny_new(const char *pin_dir);

/* Release <d>; NULL is accepted. No push may run any more. */
void l4deny_free(struct l4deny *d);

/* The limits_deny_fn (userspace/proxy/limits.h): <arg> is a struct l4deny. Writes
 * <addr>/<plen> of <af> with reason LB_DENY_LIMIT for <ttl_ms>. Returns 0 or a negative
 * errno (-ENOENT: no data plane in the pin directory). */
int l4deny_push(void *arg, int af, const void *addr, unsigned int plen, uint64_t ttl_ms,
	const char *name);

#endif /* USERSPACE_L4_DENY_H */
