// SPDX-License-Identifier: GPL-2.0
/* Benchmark harness for BPF_PROG_TEST_RUN with repeat > 1: every pass first restores the
 * input packet (the program under test rewrote it on the previous pass), then tail-calls
 * the program under test: the balancer, or an empty XDP_TX program for the floor. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

/* Restored bytes: every header the balancer writes to a TCP packet without VLAN tags lies in
 * the first 60 bytes for IPv4 (the shortest packet measured), 80 for IPv6: an input of 80
 * bytes or more has 80 restored, a shorter one 60. bpf_bench.c uses the same. */
#define BENCH_COPY  60
#define BENCH_COPY6 80

struct bench_input {
	__u32 len;		/* length of the original packet */
	__u32 vary_off;		/* if not 0: offset of 4 bytes rewritten with a new value on
				 * every pass (the source address's last 4 bytes: a new flow
				 * each time) */
	__u8 data[BENCH_COPY6]; /* its first BENCH_COPY or BENCH_COPY6 bytes */
};

__u32 bench_seq; /* the value written at vary_off */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_input);
} bench_input SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_target SEC(".maps");

SEC("xdp")
int bench_restore(struct xdp_md *ctx)
{
	struct bench_input *in;
	__u32 zero = 0;
	void *data, *end;
	__u32 copied;
	int delta;

	in = bpf_map_lookup_elem(&bench_input, &zero);
	if (!in)
		return XDP_ABORTED;
	/* Undo an encapsulation: move the start back to where the input began. The lengths
	 * are read straight from ctx so that clang keeps no packet pointer across the call. */
	delta = (int)(ctx->data_end - ctx->data) - (int)in->len;
	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return XDP_ABORTED;
	asm volatile("" ::: "memory");
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (in->len >= BENCH_COPY6) {
		if (data + BENCH_COPY6 > end)
			return XDP_ABORTED;
		__builtin_memcpy(data, in->data, BENCH_COPY6);
		copied = BENCH_COPY6;
	} else {
		if (data + BENCH_COPY > end)
			return XDP_ABORTED;
		__builtin_memcpy(data, in->data, BENCH_COPY);
		copied = BENCH_COPY;
	}
	if (in->vary_off) {
		__u32 off = in->vary_off;

		if (off > copied - 4 || off > BENCH_COPY6 - 4 || data + off + 4 > end)
			return XDP_ABORTED;
		*(__u32 *)(data + off) = ++bench_seq;
	}
	bpf_tail_call(ctx, &bench_target, 0);
	return XDP_ABORTED;
}

/* Frames received back by the generator's interface in the veth benchmark. */
struct bench_rx_ctr {
	__u64 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_rx_ctr);
} bench_rx SEC(".maps");

SEC("xdp")
int bench_count(struct xdp_md *ctx)
{
	struct bench_rx_ctr *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&bench_rx, &zero);
	if (c)
		c->packets++; /* per-CPU, softirq */
	return XDP_DROP;
}

/* The floor: what any XDP program that sends the packet back costs. */
SEC("xdp")
int bench_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
