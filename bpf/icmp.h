/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: answering a packet that would be too big once encapsulated with an ICMP
 * "fragmentation needed" (IPv4) or ICMPv6 "packet too big", sent back out of the receiving
 * interface, so that the client lowers its path MTU instead of seeing its packets vanish. */
#ifndef BPF_ICMP_H
#define BPF_ICMP_H

#include "bpf/encap.h"

/* What the error quotes: the client's IP header and the first 8 bytes of its payload (the
 * ports). IPv4 packets with options are not answered (their header is longer). */
#define ICMP_QUOTE4 (sizeof(struct iphdr) + 8)
#define ICMP_QUOTE6 (sizeof(struct ipv6hdr) + 8)
#define ICMP_TTL    64

/* Ones' complement sum of <n16> 16-bit words at <p>; the caller checked the bounds. */
static __always_inline __u64 icmp_sum(const void *p, const int n16)
{
	const __u16 *w = p;
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < n16; i++)
		sum += w[i];
	return sum;
}

/* Fill in the error at the front of the packet: L2 header of <l2_len> bytes (a constant at
 * each call, so that every packet offset below is constant for the verifier), then the new IP
 * and ICMP headers, then the quote already in place. Returns a counted verdict. */
static __always_inline int icmp_fill(struct xdp_md *ctx, const __u32 l2_len, bool v4, __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 mac[ETH_ALEN];

	if (data + l2_len + (v4 ? 28 + ICMP_QUOTE4 : 48 + ICMP_QUOTE6) > end)
		return stats_drop(LB_DROP_INTERNAL);
	/* Back to where it came from. */
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	if (v4) {
		struct iphdr *iph = data + l2_len;
		struct icmphdr *icmp = (void *)(iph + 1);
		struct iphdr *orig = (void *)(icmp + 1);

		*(__u8 *)iph = 0x45;
		iph->tos = 0;
		iph->tot_len = bpf_htons(sizeof(*iph) + sizeof(*icmp) + ICMP_QUOTE4);
		iph->id = 0;
		iph->frag_off = 0;
		iph->ttl = ICMP_TTL;
		iph->protocol = IPPROTO_ICMP;
		iph->check = 0;
		iph->saddr = orig->daddr; /* the VIP answers */
		iph->daddr = orig->saddr;
		iph->check = csum_ipv4_hdr(iph);
		icmp->type = ICMP_DEST_UNREACH;
		icmp->code = ICMP_FRAG_NEEDED;
		icmp->checksum = 0;
		icmp->un.frag.__unused = 0;
		icmp->un.frag.mtu = bpf_htons(mtu);
		icmp->checksum = csum_fold(icmp_sum(icmp, (sizeof(*icmp) + ICMP_QUOTE4) / 2));
	} else {
		struct ipv6hdr *ip6 = data + l2_len;
		struct icmp6hdr *icmp6 = (void *)(ip6 + 1);
		struct ipv6hdr *orig = (void *)(icmp6 + 1);
		__u64 sum;

		*(__be32 *)ip6 = bpf_htonl(6u << 28);
		ip6->payload_len = bpf_htons(sizeof(*icmp6) + ICMP_QUOTE6);
		ip6->nexthdr = IPPROTO_ICMPV6;
		ip6->hop_limit = ICMP_TTL;
		ip6->saddr = orig->daddr;
		ip6->daddr = orig->saddr;
		icmp6->icmp6_type = ICMPV6_PKT_TOOBIG;
		icmp6->icmp6_code = 0;
		icmp6->icmp6_cksum = 0;
		icmp6->icmp6_dataun.un_data32[0] = bpf_htonl(mtu);
		sum = icmp_sum(&ip6->saddr, 16) + bpf_htonl(sizeof(*icmp6) + ICMP_QUOTE6) +
		      bpf_htonl(IPPROTO_ICMPV6) +
		      icmp_sum(icmp6, (sizeof(*icmp6) + ICMP_QUOTE6) / 2);
		icmp6->icmp6_cksum = csum_fold(sum);
	}
	return stats_reason(LB_REPLY_TOO_BIG, XDP_TX);
}

/* Turn the packet <p> into an ICMP error telling its sender to use <mtu> at most, and send it
 * back. Returns a counted verdict. */
static __always_inline int icmp_too_big(struct xdp_md *ctx, const struct parse_pkt *p, __u32 mtu)
{
	bool v4 = p->flow.family == LB_AF_INET;
	__u32 l2_len = p->l2_len, hdr = v4 ? sizeof(struct iphdr) + 8 : sizeof(struct ipv6hdr) + 8;
	__u32 quote = v4 ? ICMP_QUOTE4 : ICMP_QUOTE6;
	struct fwd_hop hop = {};
	void *data, *end;
	int len, ret;

	/* Never an error about an error; IPv4 without DF may be fragmented, not answered. */
	if (p->icmp_err || !p->df || p->ip_len < quote || l2_len > ENCAP_MAX_L2)
		return stats_drop(LB_DROP_TOO_BIG);
	if (v4) {
		__u8 *vihl;

		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		vihl = data + l2_len;
		if ((void *)(vihl + 1) > end || *vihl != 0x45) /* options: not quoted */
			return stats_drop(LB_DROP_TOO_BIG);
	}
	/* The received MACs as they were: icmp_fill() swaps them. */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > end)
		return stats_drop(LB_DROP_TRUNCATED);
	__builtin_memcpy(hop.dmac, data, ETH_ALEN);
	__builtin_memcpy(hop.smac, data + ETH_ALEN, ETH_ALEN);
	hop.smac_set = 1;
	ret = encap_push(ctx, hdr, l2_len, &hop);
	if (ret != LB_CONTINUE)
		return ret;
	/* Keep L2 + new IP + ICMP + the quote; drop the rest of the payload. */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (encap_set_l2_proto(data, end, l2_len, bpf_htons(v4 ? ETH_P_IP : ETH_P_IPV6)))
		return stats_drop(LB_DROP_INTERNAL);
	len = (int)(end - data);
	/* Keep clang from folding the subtraction into pointer arithmetic on data_end, which
	 * the verifier refuses. */
	asm volatile("" : "+r"(len));
	if (bpf_xdp_adjust_tail(ctx, (int)(l2_len + hdr + quote) - len))
		return stats_drop(LB_DROP_ADJUST);
	if (l2_len == 14)
		return icmp_fill(ctx, 14, v4, mtu);
	if (l2_len == 18)
		return icmp_fill(ctx, 18, v4, mtu);
	return icmp_fill(ctx, 22, v4, mtu);
}

#endif /* BPF_ICMP_H */
