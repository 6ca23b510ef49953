/* SPDX-License-Identifier: GPL-2.0 */
/* pingd's metric families: the records the data-plane source (XDP maps, read through the ctrl
 * layer) hands to the exposition, kept free of BPF types. */
#ifndef USERSPACE_OPS_STATS_T_H
#define USERSPACE_OPS_STATS_T_H

#include <stdint.h>

/* Latency histogram bounds, seconds. */
#define STATS_LATENCY_BUCKETS \
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10

/* Registry value slots kept beyond what the first config needs (8 bytes each per shard), for
 * routes and servers added by reloads and for families other modules add. */
#define STATS_SPARE_SLOTS 16384u

/* One L4 service's data-plane counters (lb_svc_stats summed over CPUs). */
struct stats_xdp_service {
	const char *service; /* "10.0.0.1:80/tcp" */
	uint64_t packets;
	uint64_t bytes;
	uint64_t new_flows;
	const char *digest; /* of its published table (pingctl table digest); NULL unknown */
};

/* One service address and whether the node is ready to serve it (announced). */
struct stats_xdp_vip {
	const char *vip;   /* "10.0.0.1" */
	const char *state; /* "ready", "draining", "detached", "no_backend" */
};

/* One L4 backend's data-plane counters (lb_be_stats) and health state. */
struct stats_xdp_backend {
	const char *service; /* as in struct stats_xdp_service */
	const char *backend; /* "10.0.1.2:80" */
	uint64_t packets;
	uint64_t bytes;
	uint64_t new_flows;
	int up; /* 1 up, 0 down (health checks or operator), -1 unknown */
};

/* One drop/pass reason counter (lb_reasons). */
struct stats_xdp_reason {
	const char *reason; /* "no_service", ... */
	uint64_t packets;
};

/* What the data-plane source sees at one scrape. The source owns the arrays until it returns
 * from the next call. */
struct stats_xdp_snapshot {
	const struct stats_xdp_service *services;
	unsigned int n_services;
	const struct stats_xdp_backend *backends;
	unsigned int n_backends;
	const struct stats_xdp_reason *reasons;
	unsigned int n_reasons;
	const struct stats_xdp_vip *vips;
	unsigned int n_vips;
	int draining; /* 1 when the node is drained (pingctl node drain) */
	unsigned long long deny_entries;  /* entries lb_deny holds */
	unsigned long long deny_capacity; /* its size (LB_MAX_DENY) */
	int deny_full;			  /* 1 when new entries evict old ones */
};

/* Fill <snap> from the maps; called at each scrape on the scraping thread. Returns 0, or a
 * negative errno (the XDP families are then left out and pingx_xdp_up reports 0). */
typedef int (*stats_xdp_fn)(struct stats_xdp_snapshot *snap, void *arg);

#endif /* USERSPACE_OPS_STATS_T_H */
