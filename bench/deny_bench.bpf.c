// SPDX-License-Identifier: GPL-2.0
/* The deny check as a program of its own in front of the balancer: lb_xdp's parse and
 * deny_check() (bpf/deny.h) on the deny maps of its pin directory, then a tail call to the
 * balancer (deny_bench_next[0]). bench/deny_bench.c measures it against the check inline in
 * lb_xdp. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/deny.h"
#include "bpf/parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} deny_bench_next SEC(".maps");

SEC("xdp")
int deny_front(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct parse_cursor c = {.pos = data, .end = end};
	struct parse_pkt p = {};
	__be16 proto;
	int ret;

	/* Never true: as in bpf/sched.h, it keeps the full types of the table maps' values in
	 * the BTF, which libbpf needs to create every map of lb_maps.h (shared with lb_xdp by
	 * pin name). */
	if (!bpf_core_type_id_local(struct lb_mg_slot) ||
		!bpf_core_type_id_local(struct lb_ring_point))
		return XDP_ABORTED;
	ret = parse_eth(&c, &p, &proto);
	if (ret != LB_CONTINUE)
		return ret;
	if (proto == bpf_htons(ETH_P_IP))
		ret = parse_ipv4(&c, &p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = parse_ipv6(&c, &p);
	else
		ret = LB_CONTINUE;
	if (ret != LB_CONTINUE)
		return ret;
	ret = deny_check(&p);
	if (ret != LB_CONTINUE)
		return ret;
	bpf_tail_call(ctx, &deny_bench_next, 0);
	return XDP_ABORTED; /* no balancer in the array */
}

char LICENSE[] SEC("license") = "GPL";
