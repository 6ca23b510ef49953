/* SPDX-License-Identifier: GPL-2.0 */
/* Internals shared by the files of the control-plane library. */
#ifndef USERSPACE_CTRL_CTRL_INT_H
#define USERSPACE_CTRL_CTRL_INT_H

#include "userspace/ctrl/ctrl.h"

struct lb_bpf;

/* Indexes of ctrl->fds, in the order of ctrl_map_names[]. */
enum ctrl_map {
	CM_META = 0,
	CM_NODE,
	CM_SERVICES,
	CM_BACKENDS,
	CM_MAGLEV,
	CM_RING,
	CM_CONNTRACK,
	CM_CONNTRACK4,
	CM_SVC_BY_ID,
	CM_SVC_STATS,
	CM_BE_STATS,
	CM_REASONS,
	CM_TX_PORTS,
	CM_GUARD,
	CM_VIP_FILTER,
	CM_DENY,
	CM_DENY_PLENS,
	CM_DENY_FILTER,
	CM_DENY_LAST,
	CM_SRC_RATE,
	CM_SRC_BUCKET,
	CM_MAX /* must stay last */
};

extern const char *const ctrl_map_names[CM_MAX];

/* lb_svc_by_id: write service <key> with value <v> at its id, or free the id <id> (a zeroed
 * entry). The caller holds the lock. */
int ctrl_svc_by_id_set(struct ctrl *c, const struct lb_svc_key *key, const struct lb_svc *v);
int ctrl_svc_by_id_clear(struct ctrl *c, __u32 id);

/* lb_vip_filter: set the bit of service address <a> (before the service is added), or
 * recompute every word from lb_services (after one is deleted). The caller holds the lock. */
int ctrl_vip_filter_add(struct ctrl *c, const union lb_addr *a);
int ctrl_vip_filter_sync(struct ctrl *c);

/* lb_src_rate: clear service id <id>'s guard (the service is being deleted). */
int ctrl_src_rate_clear(struct ctrl *c, __u32 id);

struct maglev;

struct ctrl {
	char *pin_dir;	   /* owned */
	int dir_fd;	   /* the pin directory, for flock() */
	int lock_depth;	   /* nesting of ctrl_lock() */
	int fds[CM_MAX];   /* pinned maps */
	int ncpu;	   /* libbpf_num_possible_cpus() */
	__u32 abi;	   /* lb_meta's version */
	struct maglev *mg; /* builder, reused while the table size stays */
	int btf_fd;	   /* BTF of the object that created the maps, or -1 */
	__u32 btf_u32;	   /* type ids in it: __u32, struct lb_mg_slot, lb_ring_point */
	__u32 btf_mg_slot;
	__u32 btf_ring_point;
};

/* Open the balancer object with its maps pinned in <pin_dir>, loading the program too when
 * <with_prog>. Works around pinned DEVMAPs that libbpf cannot reuse. NULL + errno. */
struct lb_bpf *ctrl_load_lb(const char *pin_dir, bool with_prog);

/* Make lb_tx_ports map <m> of an object not yet loaded (the balancer's, or another that
 * shares its maps) reuse the DEVMAP pinned in <pin_dir>, which libbpf 1.1 cannot reuse by
 * itself. Returns 0 (also when there is none) or a negative errno. */
struct bpf_map;
int ctrl_reuse_devmap(struct bpf_map *m, const char *pin_dir);

/* Make <ifname> the node's egress (gateway-MAC and l2 forwarding). The caller holds the
 * lock. */
int ctrl_egress_set(struct ctrl *c, const char *ifname);

/* mkdir -p <dir> (mode 0700). Returns 0 or a negative errno. */
int ctrl_mkdir_p(const char *dir);

/* Sum the per-CPU values of <key> in <map> (<words> u64 per CPU) into <out>. */
int ctrl_percpu_sum(struct ctrl *c, int map, __u32 key, size_t words, __u64 *out);

/* Write zeros to every CPU's value of <key> in per-CPU array <map>. */
int ctrl_percpu_zero(struct ctrl *c, int map, __u32 key, size_t value_size);
/* Before backend <be_id> of service <svc_id> is freed: add its counters to the service's
 * lb_svc_stats and its packets to lb_reasons[LB_FWD_TX], then zero them, so that the totals
 * derived from lb_be_stats keep what it forwarded. */
int ctrl_be_stats_retire(struct ctrl *c, __u32 be_id, __u32 svc_id);

/* Set or clear LB_NODE_F_ALL_PORTS in lb_node by whether a service has port 0. Call with the
 * lock held, after adding or deleting a service. Returns 0 or a negative errno. */
int ctrl_all_ports_sync(struct ctrl *c);

/* Rebuild service <svc_id> as if backend <ovr_id> were <ovr> (when <ovr> is not NULL). */
int ctrl_rebuild_with(struct ctrl *c, __u32 svc_id, __u32 ovr_id, const struct lb_backend *ovr);

#endif /* USERSPACE_CTRL_CTRL_INT_H */
