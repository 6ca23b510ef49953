// SPDX-License-Identifier: GPL-2.0
/* Backend-side decapsulation for hosts without tunnel devices: strips the outer header of
 * IPIP, IP6IP6, IPv4-in-IPv6 and GUE (UDP to decap_gue_port) packets and passes the inner
 * packet, addressed to the VIP on lo, to the stack. Everything else passes untouched. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define LB_MAPS_DECAP
#include "bpf/lb_maps.h"
#include "bpf/parse.h"

/* GUE destination port, network order; set through the skeleton's rodata before load. */
const volatile __be16 decap_gue_port = bpf_htons(LB_DEFAULT_GUE_PORT);

enum decap_kind {
	DECAP_NONE = 0,
	DECAP_IPIP,
	DECAP_IP6IP6,
	DECAP_GUE,
	DECAP_KIND_MAX /* must stay last */
};

static __always_inline void decap_count(enum decap_kind kind, bool error)
{
	struct lb_decap_stats *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&lb_decap_stats, &zero);
	if (!st)
		return;
	/* Per-CPU value in softirq: plain increments. */
	if (error)
		st->errors++;
	else if (kind == DECAP_IPIP)
		st->ipip++;
	else if (kind == DECAP_IP6IP6)
		st->ip6ip6++;
	else if (kind == DECAP_GUE)
		st->gue++;
	else
		st->passed++;
}

/* Remove <strip> bytes after the L2 header of <l2_len> bytes and set its payload type to the
 * inner packet's <inner_proto> (network order). */
static __always_inline int decap_strip(
	struct xdp_md *ctx, __u32 l2_len, __u32 strip, __be16 inner_proto, enum decap_kind kind)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 l2[22];

	/* A constant-size copy: the verifier refuses variable lengths. Bytes copied past a
	 * shorter L2 header land in the stripped region or are rewritten below. */
	if (data + sizeof(l2) > end || l2_len > sizeof(l2) || l2_len < sizeof(struct ethhdr))
		goto err;
	__builtin_memcpy(l2, data, sizeof(l2));
	if (bpf_xdp_adjust_head(ctx, (int)strip))
		goto err;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + l2_len > end || data + sizeof(l2) > end)
		goto err;
	/* Copy only the L2 header back: the inner packet starts at l2_len. */
	if (l2_len == 14) {
		__builtin_memcpy(data, l2, 14);
	} else if (l2_len == 18) {
		__builtin_memcpy(data, l2, 18);
	} else {
		__builtin_memcpy(data, l2, 22);
	}
	/* Constant offsets: the verifier refuses a negative fixed offset from a variable one. */
	if (l2_len == 14)
		*(__be16 *)(data + 12) = inner_proto;
	else if (l2_len == 18)
		*(__be16 *)(data + 16) = inner_proto;
	else
		*(__be16 *)(data + 20) = inner_proto;
	decap_count(kind, false);
	return XDP_PASS;
err:
	decap_count(kind, true);
	return XDP_DROP;
}

/* The ethertype of the IP packet at <pos>, from its version nibble, or 0. */
static __always_inline __be16 decap_inner_proto(void *pos, void *end)
{
	__u8 *v = pos;

	if ((void *)(v + 1) > end)
		return 0;
	if ((*v >> 4) == 4)
		return bpf_htons(ETH_P_IP);
	if ((*v >> 4) == 6)
		return bpf_htons(ETH_P_IPV6);
	return 0;
}

SEC("xdp")
int lb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct parse_cursor c = {.pos = data, .end = end};
	struct parse_pkt p = {};
	struct ipv6hdr *ip6;
	struct udphdr *uh;
	struct iphdr *iph;
	__u32 hlen, l2_len;
	__be16 proto, inner;
	__u8 next;

	if (parse_eth(&c, &p, &proto) != LB_CONTINUE)
		goto pass;
	l2_len = p.l2_len;
	if (proto == bpf_htons(ETH_P_IP)) {
		iph = c.pos;
		if ((void *)(iph + 1) > end)
			goto pass;
		hlen = iph->ihl * 4;
		if (iph->version != 4 || hlen < sizeof(*iph))
			goto pass;
		/* A fragmented tunnel packet needs reassembly first: leave it to the stack. */
		if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
			goto pass;
		next = iph->protocol;
		c.pos += hlen;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = c.pos;
		if ((void *)(ip6 + 1) > end)
			goto pass;
		hlen = sizeof(*ip6);
		next = ip6->nexthdr;
		c.pos = ip6 + 1;
	} else {
		goto pass;
	}
	if (next == IPPROTO_IPIP || next == IPPROTO_IPV6) {
		inner = decap_inner_proto(c.pos, end);
		if (!inner || (next == IPPROTO_IPIP) != (inner == bpf_htons(ETH_P_IP))) {
			decap_count(DECAP_IPIP, true);
			return XDP_DROP;
		}
		return decap_strip(
			ctx, l2_len, hlen, inner, next == IPPROTO_IPIP ? DECAP_IPIP : DECAP_IP6IP6);
	}
	if (next != IPPROTO_UDP)
		goto pass;
	uh = c.pos;
	if ((void *)(uh + 1) > end || uh->dest != decap_gue_port)
		goto pass;
	inner = decap_inner_proto(uh + 1, end);
	if (!inner) {
		decap_count(DECAP_GUE, true);
		return XDP_DROP;
	}
	return decap_strip(ctx, l2_len, hlen + sizeof(*uh), inner, DECAP_GUE);
pass:
	decap_count(DECAP_NONE, false);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
