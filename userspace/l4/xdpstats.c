// SPDX-License-Identifier: GPL-2.0
/* XDP counters for the admin listener: services, backends and reasons, summed over CPUs by the
 * control plane. The maps are opened at each scrape, so a data plane set up after pingd started
 * (or re-created) is seen without a reload. */
#include "userspace/l4/xdpstats.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/ctrl/announce.h"
#include "userspace/ctrl/ctrl.h"

/* Names are kept in fixed slots so that the snapshot's pointers stay valid until the next
 * scrape, as stats_xdp_fn requires. */
struct xdpstats {
	char *pin_dir;
	struct stats_xdp_service *svcs;
	struct stats_xdp_backend *bes;
	char (*svc_names)[CTRL_ADDRSTRLEN + 8];
	char (*be_names)[CTRL_ADDRSTRLEN];
	char (*digests)[CTRL_DIGEST_LEN];
	struct stats_xdp_vip *vips;
	char (*vip_names)[CTRL_ADDRSTRLEN];
	struct stats_xdp_reason reasons[LB_REASON_MAX];
};

struct xdpstats *xdpstats_new(const char *pin_dir)
{
	struct xdpstats *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->pin_dir = strdup(pin_dir);
	if (!x->pin_dir) {
		free(x);
		return NULL;
	}
	return x;
}

/* Drop the previous scrape's arrays. */
static void reset(struct xdpstats *x)
{
	free(x->svcs);
	free(x->bes);
	free(x->svc_names);
	free(x->be_names);
	free(x->digests);
	free(x->vips);
	free(x->vip_names);
	x->svcs = NULL;
	x->bes = NULL;
	x->svc_names = NULL;
	x->be_names = NULL;
	x->digests = NULL;
	x->vips = NULL;
	x->vip_names = NULL;
}

/* The node's VIPs and their readiness into <x>; the count in *<nv>. */
static int add_vips(struct ctrl *c, struct xdpstats *x, unsigned int *nv)
{
	struct ctrl_vip *v = NULL;
	size_t n = 0;
	int err;

	*nv = 0;
	err = ctrl_vip_list(c, &v, &n);
	if (err || !n)
		goto out;
	x->vips = calloc(n, sizeof(*x->vips));
	x->vip_names = calloc(n, sizeof(*x->vip_names));
	if (!x->vips || !x->vip_names) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		ctrl_format_addr(
			v[i].family, &v[i].addr, 0, x->vip_names[i], sizeof(x->vip_names[i]));
		x->vips[i] =
			(struct stats_xdp_vip){x->vip_names[i], ctrl_vip_state_name(v[i].state)};
	}
	*nv = (unsigned int)n;
out:
	free(v);
	return err;
}

void xdpstats_free(struct xdpstats *x)
{
	if (!x)
		return;
	reset(x);
	free(x->pin_dir);
	free(x);
}

/* Append the backends of service <s> (named <sname>) to <x>'s arrays at *<nb>. */
static int add_backends(struct ctrl *c, struct xdpstats *x, const struct ctrl_service *s,
	const char *sname, unsigned int *nb)
{
	struct ctrl_backend *list = NULL;
	size_t n = 0;
	void *p, *q;
	int err;

	err = ctrl_be_list(c, &s->key, &list, &n);
	if (err || !n)
		goto out;
	p = realloc(x->bes, (*nb + n) * sizeof(*x->bes));
	if (p)
		x->bes = p;
	q = realloc(x->be_names, (*nb + n) * sizeof(*x->be_names));
	if (q)
		x->be_names = q;
	if (!p || !q) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct stats_xdp_backend *b = &x->bes[*nb];
		struct lb_stats st = {0};

		(void)ctrl_stats_be(c, list[i].id, &st); /* a missing entry counts as zero */
		ctrl_format_addr(list[i].be.family, &list[i].be.addr, 0, x->be_names[*nb],
			sizeof(x->be_names[*nb]));
		*b = (struct stats_xdp_backend){
			.service = sname,
			.backend = x->be_names[*nb],
			.packets = st.packets,
			.bytes = st.bytes,
			.new_flows = st.new_flows,
			.up = list[i].be.state == LB_BE_DOWN ? 0 : 1,
		};
		(*nb)++;
	}
out:
	free(list);
	return err;
}

int xdpstats_read(struct stats_xdp_snapshot *snap, void *arg)
{
	struct xdpstats *x = arg;
	struct ctrl_service *svcs = NULL;
	__u64 reasons[LB_REASON_MAX] = {0};
	unsigned int nb = 0, nv = 0;
	bool draining = false, deny_full = false;
	size_t n = 0, deny = 0;
	struct ctrl *c;
	int err;

	reset(x);
	c = ctrl_open(x->pin_dir, 0);
	if (!c)
		return -errno;
	err = ctrl_svc_list(c, &svcs, &n);
	if (!err && n) {
		x->svcs = calloc(n, sizeof(*x->svcs));
		x->svc_names = calloc(n, sizeof(*x->svc_names));
		x->digests = calloc(n, sizeof(*x->digests));
		if (!x->svcs || !x->svc_names || !x->digests)
			err = -ENOMEM;
	}
	for (size_t i = 0; !err && i < n; i++) {
		const struct lb_svc_key *k = &svcs[i].key;
		char a[CTRL_ADDRSTRLEN];
		struct lb_stats st = {0};

		(void)ctrl_stats_svc(c, svcs[i].val.id, &st); /* a missing entry counts as zero */
		snprintf(x->svc_names[i], sizeof(x->svc_names[i]), "%s/%s",
			ctrl_format_addr(k->family, &k->addr, ntohs(k->port), a, sizeof(a)),
			k->proto == IPPROTO_UDP ? "udp" : "tcp");
		x->svcs[i] = (struct stats_xdp_service){
			.service = x->svc_names[i],
			.packets = st.packets,
			.bytes = st.bytes,
			.new_flows = st.new_flows,
			/* A table replaced meanwhile: no digest at this scrape. */
			.digest = ctrl_table_digest(c, k, x->digests[i]) ? NULL : x->digests[i],
		};
		err = add_backends(c, x, &svcs[i], x->svc_names[i], &nb);
	}
	if (!err)
		err = ctrl_stats_reasons(c, reasons);
	if (!err)
		err = add_vips(c, x, &nv);
	if (!err)
		err = ctrl_node_draining(c, &draining);
	if (!err)
		err = ctrl_deny_count(c, &deny, &deny_full);
	ctrl_close(c);
	free(svcs);
	if (err) {
		reset(x);
		return err;
	}
	for (unsigned int r = 0; r < LB_REASON_MAX; r++)
		x->reasons[r] = (struct stats_xdp_reason){ctrl_reason_name(r), reasons[r]};
	*snap = (struct stats_xdp_snapshot){
		.services = x->svcs,
		.n_services = (unsigned int)n,
		.backends = x->bes,
		.n_backends = nb,
		.reasons = x->reasons,
		.n_reasons = LB_REASON_MAX,
		.vips = x->vips,
		.n_vips = nv,
		.draining = draining,
		.deny_entries = deny,
		.deny_capacity = LB_MAX_DENY,
		.deny_full = deny_full,
	};
	return 0;
}
