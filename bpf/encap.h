/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: encapsulation toward a backend. IPv4-in-IPv4, IPv6-in-IPv6 and IPv4-in-IPv6
 * (IPIP), the same inside UDP (GUE variant 1: the inner IP header follows the UDP header
 * directly), keeping the received Ethernet and VLAN headers in front. */
#ifndef BPF_ENCAP_H
#define BPF_ENCAP_H

#include "bpf/csum.h"
#include "bpf/fwd.h"

/* The longest L2 header parse_eth() accepts: Ethernet + two VLAN tags. */
#define ENCAP_MAX_L2 22
#define ENCAP_TTL    64
/* GUE source ports spread over 49152..65535 by flow hash, for ECMP between LB and backend. */
#define ENCAP_SPORT(hash) (0xc000 | ((hash)&0x3fff))

/* The outer IPv4 source for a flow of <hash>: lb_node.src4 with its host bits (past
 * src4_plen) taken from the hash, so that a backend's NIC spreads the tunnels of different
 * flows over its receive queues (RSS hashes the outer header). Network order. */
static __always_inline __be32 encap_src4(const struct lb_node *node, __u32 hash)
{
	__u32 plen = node->src4_plen, host;

	if (!plen || plen >= 32)
		return node->src4.v4;
	host = 0xffffffffu >> plen;
	return (node->src4.v4 & ~bpf_htonl(host)) | bpf_htonl(hash & host);
}

/* The outer IPv6 source for a flow of <hash> into *<out>: lb_node.src6 with the host bits
 * past src6_plen, at most its last 32, taken from the hash. */
static __always_inline void encap_src6(const struct lb_node *node, __u32 hash, union lb_addr *out)
{
	__u32 plen = node->src6_plen, host;

	*out = node->src6;
	if (!plen || plen >= 128)
		return;
	host = plen <= 96 ? 0xffffffffu : 0xffffffffu >> (plen - 96);
	out->v6[3] = (out->v6[3] & ~bpf_htonl(host)) | bpf_htonl(hash & host);
}

/* Returned by encap_ip() for a packet that would exceed the MTU: the caller answers it. */
#define ENCAP_TOO_BIG (-2)

/* Bytes the encapsulation adds for a backend of <family>, with a UDP header for <gue>. */
static __always_inline __u32 encap_len(__u8 family, bool gue)
{
	return (family == LB_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) +
	       (gue ? sizeof(struct udphdr) : 0);
}

/* Grow the head of the packet by <grow> bytes and write the new L2 header at the front: the
 * MACs of <hop> (its source defaults to the received destination MAC, read here), the
 * received VLAN tags of an <l2_len>-byte header, and the payload type is left to
 * encap_set_l2_proto(). Only those bytes move, not the whole received header. */
static __always_inline int encap_push(
	struct xdp_md *ctx, __u32 grow, __u32 l2_len, struct fwd_hop *hop)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 tags = 0;

	if (data + ENCAP_MAX_L2 > end)
		return stats_drop(LB_DROP_TRUNCATED);
	if (!hop->smac_set) {
		fwd_copy_mac(hop->smac, data);
		hop->smac_set = 1;
	}
	/* One or two tags: the 8 bytes after the MACs (with one tag, its type field and 2
	 * bytes of the IP header come along; both are rewritten below and by the caller). */
	if (l2_len > sizeof(struct ethhdr))
		tags = *(__u64 *)(data + 2 * ETH_ALEN);
	if (bpf_xdp_adjust_head(ctx, -(int)grow))
		return stats_drop(LB_DROP_ADJUST);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + ENCAP_MAX_L2 > end)
		return stats_drop(LB_DROP_INTERNAL);
	fwd_write_macs(data, hop);
	if (l2_len > sizeof(struct ethhdr))
		*(__u64 *)(data + 2 * ETH_ALEN) = tags;
	return LB_CONTINUE;
}

/* Set the payload type, the last field of the L2 header of <l2_len> bytes at <data>, to
 * <proto> (network order). Constant offsets per case: the verifier refuses a negative fixed
 * offset from a variable one. Returns 0, or -1 when the header is not there. */
static __always_inline int encap_set_l2_proto(void *data, void *end, __u32 l2_len, __be16 proto)
{
	if (data + ENCAP_MAX_L2 > end)
		return -1;
	if (l2_len == 14)
		*(__be16 *)(data + 12) = proto;
	else if (l2_len == 18)
		*(__be16 *)(data + 16) = proto;
	else if (l2_len == 22)
		*(__be16 *)(data + 20) = proto;
	else
		return -1;
	return 0;
}

/* Encapsulate the packet described by <p> toward backend <be>, inside UDP when <gue>, with
 * the sources of <node> and the MACs of <hop> (written here: fwd_xmit() need not). <hash>
 * is the flow hash (outer source host bits, GUE source port, IPv6 flow label). The caller
 * checked that <be>'s family can carry <p>'s. Returns LB_CONTINUE, a counted verdict, or
 * ENCAP_TOO_BIG with the packet untouched. */
static __always_inline int encap_ip(struct xdp_md *ctx, const struct parse_pkt *p,
	const struct lb_backend *be, const struct lb_node *node, __u32 hash, bool gue,
	struct fwd_hop *hop)
{
	__u8 inner_proto = p->flow.family == LB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	__u32 l2_len = p->l2_len, grow = encap_len(be->family, gue);
	__u32 mtu = node->mtu ? node->mtu : LB_DEFAULT_MTU;
	__be16 gue_port = node->gue_port ? node->gue_port : bpf_htons(LB_DEFAULT_GUE_PORT);
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	union lb_addr src6;
	__u64 inner_sum = 0;
	bool sum_ok = false;
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	struct udphdr *uh;
	int ret;

	if (p->ip_len + grow > mtu)
		return ENCAP_TOO_BIG;
	/* Re-bound the value loaded from the stack for the packet pointer arithmetic. */
	if (l2_len > ENCAP_MAX_L2)
		return stats_drop(LB_DROP_INTERNAL);
	if (gue && be->family == LB_AF_INET6)
		sum_ok = csum_lco_inner(data + l2_len, end, p, &inner_sum);
	ret = encap_push(ctx, grow, l2_len, hop);
	if (ret != LB_CONTINUE)
		return ret;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (encap_set_l2_proto(
		    data, end, l2_len, bpf_htons(be->family == LB_AF_INET ? ETH_P_IP : ETH_P_IPV6)))
		return stats_drop(LB_DROP_INTERNAL);

	if (be->family == LB_AF_INET) {
		__be16 tot_len = bpf_htons(p->ip_len + grow);
		__u8 proto = gue ? IPPROTO_UDP : inner_proto;
		__be32 saddr = encap_src4(node, hash), daddr = be->addr.v4;

		iph = data + l2_len;
		uh = (void *)(iph + 1);
		if ((void *)(uh + 1) > end)
			return stats_drop(LB_DROP_INTERNAL);
		*(__u8 *)iph = 0x45; /* version 4, 5 words */
		iph->tos = p->tos;
		iph->tot_len = tot_len;
		iph->id = 0;
		iph->frag_off = bpf_htons(IP_DF);
		iph->ttl = ENCAP_TTL;
		iph->protocol = proto;
		iph->saddr = saddr;
		iph->daddr = daddr;
		/* Summed from the values written (id and check are 0), not read back from the
		 * packet: the 16-bit words in network order, as they lie in the header. */
		iph->check = csum_fold((__u64)saddr + daddr + tot_len + bpf_htons(0x4500 | p->tos) +
				       bpf_htons(IP_DF) + bpf_htons((ENCAP_TTL << 8) | proto));
		if (gue) {
			uh->source = bpf_htons(ENCAP_SPORT(hash));
			uh->dest = gue_port;
			uh->len = bpf_htons(p->ip_len + sizeof(*uh));
			uh->check = 0; /* optional over IPv4 */
		}
		return LB_CONTINUE;
	}
	encap_src6(node, hash, &src6);
	ip6 = data + l2_len;
	uh = (void *)(ip6 + 1);
	if ((void *)(uh + 1) > end)
		return stats_drop(LB_DROP_INTERNAL);
	*(__be32 *)ip6 = bpf_htonl((6u << 28) | ((__u32)p->tos << 20) | (hash & 0xfffff));
	ip6->payload_len = bpf_htons(p->ip_len + grow - sizeof(*ip6));
	ip6->nexthdr = gue ? IPPROTO_UDP : inner_proto;
	ip6->hop_limit = ENCAP_TTL;
	__builtin_memcpy(&ip6->saddr, src6.bytes, 16);
	__builtin_memcpy(&ip6->daddr, be->addr.bytes, 16);
	if (gue) {
		uh->source = bpf_htons(ENCAP_SPORT(hash));
		uh->dest = gue_port;
		uh->len = bpf_htons(p->ip_len + sizeof(*uh));
		uh->check = 0;
		/* Mandatory over IPv6 (RFC 8200); zero only when the inner sum is unknown. */
		if (sum_ok) {
			__u16 ck = csum_fold(csum_addr6(&src6) + csum_addr6(&be->addr) +
					     bpf_htonl(p->ip_len + sizeof(*uh)) +
					     bpf_htonl(IPPROTO_UDP) + uh->source + uh->dest +
					     uh->len + inner_sum);
			uh->check = ck ? ck : 0xffff;
		}
	}
	return LB_CONTINUE;
}

#endif /* BPF_ENCAP_H */
