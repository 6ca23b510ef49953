/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: the next hop (configured gateway MAC or bpf_fib_lookup) and the way out (XDP_TX
 * on the receiving interface, or a redirect through lb_tx_ports). */
#ifndef BPF_FWD_H
#define BPF_FWD_H

#include "bpf/parse.h"

#define AF_INET	 LB_AF_INET
#define AF_INET6 LB_AF_INET6

/* Where a packet goes: MACs and egress interface. */
struct fwd_hop {
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN]; /* used when smac_set; else the received destination MAC */
	__u8 smac_set;
	__u8 pad[3];
	__u32 ifindex; /* 0: the receiving interface */
};
_Static_assert(
	__builtin_offsetof(struct fwd_hop, smac) == ETH_ALEN && _Alignof(struct fwd_hop) >= 4,
	"fwd_hop: the two MACs are 12 bytes at a 4-byte aligned start (fwd_write_macs())");

/* The packet's MACs are copied with 16- and 32-bit accesses: through a void pointer,
 * __builtin_memcpy() moves them a byte at a time (about 40 instructions for the two of an
 * encapsulated packet). Like encap_push()'s 8-byte read of the VLAN tags, this counts on the
 * verifier not asking packet accesses to be aligned, which it does only where unaligned
 * access is slow. */

/* Copy the 6-byte MAC at <src> (the packet, or a 2-byte aligned field) to <dst> (the same). */
static __always_inline void fwd_copy_mac(void *dst, const void *src)
{
	__u16 *d = dst;
	const __u16 *s = src;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
}

/* Write <hop>'s destination and source MACs, the first 12 bytes of an Ethernet header, at the
 * packet's head <data>. */
static __always_inline void fwd_write_macs(void *data, const struct fwd_hop *hop)
{
	const __u32 *m = (const __u32 *)hop->dmac;
	__u32 *d = data;

	d[0] = m[0];
	d[1] = m[1];
	d[2] = m[2];
}

/* Whether the MAC at <m>, 2-byte aligned (lb_node's src_mac is), is all zeros: three 16-bit
 * loads instead of six byte loads. */
static __always_inline bool fwd_mac_zero(const __u8 *m)
{
	const __u16 *w = (const __u16 *)m;

	return !(w[0] | w[1] | w[2]);
}
_Static_assert(__builtin_offsetof(struct lb_node, src_mac) % 2 == 0, "lb_node src_mac alignment");

/* The next hop toward <dst> (of <family>, sent from <src>) from the kernel's FIB and neighbour
 * tables: a packet whose next hop is configured (LB_NODE_F_GW_MAC) neither builds nor zeroes
 * the request. */
static __always_inline int fwd_fib(struct xdp_md *ctx, __u8 family, const union lb_addr *src,
	const union lb_addr *dst, struct fwd_hop *hop)
{
	struct bpf_fib_lookup fib = {};
	long rc;

	fib.ifindex = ctx->ingress_ifindex;
	if (family == LB_AF_INET) {
		fib.family = AF_INET;
		fib.ipv4_src = src->v4;
		fib.ipv4_dst = dst->v4;
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_src, src->bytes, 16);
		__builtin_memcpy(fib.ipv6_dst, dst->bytes, 16);
	}
	/* An ingress lookup (as if forwarding the packet): an egress one would only consider
	 * routes out of the receiving interface. It needs forwarding enabled on that interface. */
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return stats_drop(LB_DROP_NO_ROUTE);
	__builtin_memcpy(hop->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(hop->smac, fib.smac, ETH_ALEN);
	hop->smac_set = 1;
	hop->ifindex = fib.ifindex;
	return LB_CONTINUE;
}

/* The next hop toward <dst> (of <family>, sent from <src>) for an encapsulated packet: the
 * configured gateway MAC, or the kernel's FIB and neighbour tables. */
static __always_inline int fwd_resolve(struct xdp_md *ctx, const struct lb_node *node, __u8 family,
	const union lb_addr *src, const union lb_addr *dst, struct fwd_hop *hop)
{
	if (node->flags & LB_NODE_F_GW_MAC) {
		__builtin_memcpy(hop->dmac, node->gw_mac, ETH_ALEN);
		if (!fwd_mac_zero(node->src_mac)) {
			__builtin_memcpy(hop->smac, node->src_mac, ETH_ALEN);
			hop->smac_set = 1;
		}
		hop->ifindex = node->egress_ifindex;
		return LB_CONTINUE;
	}
	return fwd_fib(ctx, family, src, dst, hop);
}

/* Write <hop>'s MACs into the Ethernet header (unless <macs_written>) and send the packet
 * out. */
static __always_inline int fwd_xmit(
	struct xdp_md *ctx, const struct fwd_hop *hop, bool macs_written)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	long ret;

	if (macs_written) {
		/* nothing to write */
	} else if ((void *)(eth + 1) > end) {
		return stats_drop(LB_DROP_INTERNAL);
	} else {
		if (hop->smac_set)
			__builtin_memcpy(eth->h_source, hop->smac, ETH_ALEN);
		else
			__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, hop->dmac, ETH_ALEN);
	}
	/* Counted by the caller in lb_be_stats, from which the control plane derives the
	 * fwd_tx reason. */
	if (!hop->ifindex || hop->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	/* The low bits of the flags are the verdict when the interface is not in the map. */
	ret = bpf_redirect_map(&lb_tx_ports, hop->ifindex, XDP_PASS);
	if (ret != XDP_REDIRECT)
		return stats_drop(LB_DROP_NO_TX_PORT);
	return stats_reason(LB_FWD_REDIRECT, XDP_REDIRECT);
}

#endif /* BPF_FWD_H */
