/* SPDX-License-Identifier: GPL-2.0 */
/* pingd's monitor, on the control thread: health checks of the upstream servers written
 * into the pools' down flags, the metric families, the admin listener and the systemd
 * notifications, built from one runtime config and carried over reloads. */
#ifndef USERSPACE_PINGD_MONITOR_H
#define USERSPACE_PINGD_MONITOR_H

#include <stdbool.h>

#include "userspace/proxy/worker-t.h"
#include "userspace/upstream/health-t.h"

struct event_base;
struct monitor;
struct stats;

/* What the config says about operations (the caller maps its config keys to this). */
struct monitor_params {
	const char *admin_address; /* "IPv4:PORT" or "[IPv6]:PORT"; NULL or "": off */
	const struct health_params *const *health; /* one per rt->backends entry (NULL entry:
						    * no probes for that pool); NULL: none */
	/* The admin's /cache/ handler (struct admin_handlers.cache, called with NULL); NULL:
	 * none. */
	int (*cache)(void *arg, bool purge, const char *query, size_t qlen, char **body,
		size_t *len);
};

/* Set up operations for runtime <rt> (which must outlive the result) on the control thread's
 * <base>, with <n_workers> worker shards for metrics. On a reload, <prev> is the running
 * config's ops: the metrics registry is shared (counters continue), each server that exists
 * in both keeps its health state (written into <rt>'s down flags at once), and the admin
 * listener is handed over when its address is unchanged. The caller frees <prev> after the
 * workers switched to <rt>. Returns NULL with errno; the failing step is logged. */
struct monitor *monitor_new(struct event_base *base, const struct pingd_rt *rt, unsigned int n_workers,
	const struct monitor_params *p, struct monitor *prev);

/* Stop probing, close the admin listener (unless handed over) and free <o>; NULL is accepted. */
void monitor_free(struct monitor *o);

/* The metrics that workers update (stats_request() and friends, shard = worker id). */
struct stats *monitor_stats(struct monitor *o);

/* Start-up (or a reload) finished: READY=1 to systemd. */
void monitor_ready(struct monitor *o);

/* A reload (SIGHUP) began: RELOADING=1 to systemd. */
void monitor_reloading(struct monitor *o);

/* Shutdown began: /healthz answers 503 "draining" from now on; STOPPING=1 to systemd. */
void monitor_draining(struct monitor *o);

/* Port of the admin listener (host order), 0 when there is none. */
unsigned int monitor_admin_port(const struct monitor *o);

#endif /* USERSPACE_PINGD_MONITOR_H */
