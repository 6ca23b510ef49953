// SPDX-License-Identifier: GPL-2.0
/* Control-plane library: the per-source new-flow guard of each service (lb_src_rate). */
#include "userspace/ctrl/ctrl-int.h"

#include <errno.h>

#include <bpf/bpf.h>

int ctrl_src_rate_set(struct ctrl *c, const struct lb_svc_key *key, const struct lb_src_rate *r)
{
	struct lb_svc v;
	int err;

	if (!r || r->rate > LB_SRC_RATE_MAX || r->burst > LB_SRC_BURST_MAX ||
		(!r->rate && r->burst))
		return -EINVAL;
	err = ctrl_lock(c);
	if (err)
		return err;
	err = ctrl_svc_get(c, key, &v);
	if (!err && bpf_map_update_elem(c->fds[CM_SRC_RATE], &v.id, r, BPF_ANY))
		err = -errno;
	ctrl_unlock(c);
	return err;
}

int ctrl_src_rate_get(struct ctrl *c, const struct lb_svc_key *key, struct lb_src_rate *r)
{
	struct lb_svc v;
	int err = ctrl_svc_get(c, key, &v);

	if (err)
		return err;
	return bpf_map_lookup_elem(c->fds[CM_SRC_RATE], &v.id, r) ? -errno : 0;
}

int ctrl_src_rate_clear(struct ctrl *c, __u32 id)
{
	struct lb_src_rate none = {};

	return bpf_map_update_elem(c->fds[CM_SRC_RATE], &id, &none, BPF_ANY) ? -errno : 0;
}
