/* SPDX-License-Identifier: GPL-2.0 */
/* The flow tables as userspace reads and writes them: lb_conntrack4 (IPv4 flows) and
 * lb_conntrack (IPv6 flows), each LB_FLOW_SETS sets of LB_FLOW_WAYS slots, a flow in the set
 * of its hash_ct() under the node's ct_seed. A slot holds a flow when its key's proto is set
 * and its check matches (see bpf/lb_maps.h). The data plane writes the tables meanwhile: an
 * answer may be outdated by the time it is used. Each returns 0 or a negative errno. */
#ifndef USERSPACE_CTRL_FLOWTAB_H
#define USERSPACE_CTRL_FLOWTAB_H

#include <stdbool.h>

#include "userspace/ctrl/ctrl-t.h"

/* The two tables and the seed their flows are hashed under. */
struct flowtab {
	int fd4;    /* lb_conntrack4 */
	int fd6;    /* lb_conntrack */
	__u64 seed; /* lb_node's ct_seed */
};

/* The state of flow <k>, into *<val>; -ENOENT when no slot holds it. */
int flowtab_get(const struct flowtab *t, const struct lb_flow_key *k, struct lb_flow *val);

/* Store flow <k> with state <val> (its check is computed here): in the slot that holds it,
 * else a free one; with <evict>, a full set gives up its first slot, else -ENOSPC. */
int flowtab_put(
	const struct flowtab *t, const struct lb_flow_key *k, const struct lb_flow *val, bool evict);

/* Free the slot of flow <k>: -ENOENT when none holds it. */
int flowtab_del(const struct flowtab *t, const struct lb_flow_key *k);

/* Call <fn> for each tracked flow, IPv4 first, in set order, until it returns non-zero (which
 * is returned). */
int flowtab_walk(const struct flowtab *t,
	int (*fn)(const struct lb_flow_key *k, const struct lb_flow *val, void *arg), void *arg);

/* Free every slot. */
int flowtab_clear(const struct flowtab *t);

#endif /* USERSPACE_CTRL_FLOWTAB_H */
