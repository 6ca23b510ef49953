/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: per-CPU counters. Every pass, drop and forward goes through stats_reason() so that
 * no verdict leaves the program uncounted. */
#ifndef BPF_STATS_H
#define BPF_STATS_H

#include "bpf/lb_maps.h"

/* Count one packet under <reason> and return <verdict>. A failed lookup (impossible for an
 * index below LB_REASON_MAX) loses the count, never the packet. */
static __always_inline int stats_reason(__u32 reason, int verdict)
{
#ifdef LB_MAPS_DECAP
	/* The decapsulation program keeps its own counters (lb_decap_stats). */
	return verdict;
#else
	struct lb_reason_ctr *ctr = bpf_map_lookup_elem(&lb_reasons, &reason);

	/* Per-CPU value and XDP runs in softirq: nothing else writes it meanwhile. */
	if (ctr)
		ctr->packets++;
	return verdict;
#endif
}

#define stats_pass(reason) stats_reason(reason, XDP_PASS)
#define stats_drop(reason) stats_reason(reason, XDP_DROP)

#ifndef LB_MAPS_DECAP
/* Count a forwarded packet of <bytes> for backend <be>; <new_flow> when the backend came from
 * the table rather than conntrack. The backend's counters are the only ones a forwarded packet
 * writes: the control plane derives its service's totals and the fwd_tx reason from them
 * (lb_svc_stats and lb_reasons[LB_FWD_TX] hold only what deleted backends had counted). */
static __always_inline void stats_fwd(__u32 be, __u64 bytes, bool new_flow)
{
	struct lb_stats *s;

	/* Per-CPU value, softirq context: plain increments are exact. */
	s = bpf_map_lookup_elem(&lb_be_stats, &be);
	if (s) {
		s->packets++;
		s->bytes += bytes;
		if (new_flow)
			s->new_flows++;
	}
}
#endif /* LB_MAPS_DECAP */

#endif /* BPF_STATS_H */
