/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: Internet checksums for the outer headers the data plane writes. Sums run over raw
 * network-order words; the folded result is stored back as is, so byte order never flips. */
#ifndef BPF_CSUM_H
#define BPF_CSUM_H

#include "bpf/parse.h"

/* Fold a 64-bit ones' complement sum to 16 bits and invert it: the checksum field value. */
static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Sum of the 16-byte address <a>. */
static __always_inline __u64 csum_addr6(const union lb_addr *a)
{
	return (__u64)a->v6[0] + a->v6[1] + a->v6[2] + a->v6[3];
}

/* Checksum of the 20-byte IPv4 header <iph> (its check field must be 0). */
static __always_inline __u16 csum_ipv4_hdr(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	return csum_fold(sum);
}

/* Ones' complement sum of the whole inner IP packet at <ip> (up to <end>), derived from its
 * valid L4 checksum instead of reading the payload (local checksum offload, RFC 7605 / the
 * kernel's lco_csum): a valid segment sums to minus its pseudo-header. Returns false when the
 * sum cannot be derived (IPv4 UDP without a checksum), and the caller sends a zero checksum. */
static __always_inline bool csum_lco_inner(
	void *ip, void *end, const struct parse_pkt *p, __u64 *sum)
{
	struct iphdr *iph = ip;
	struct ipv6hdr *ip6 = ip;
	struct udphdr *uh;
	__u64 pseudo;
	__u32 hlen, i;

	if (p->flow.family == LB_AF_INET) {
		if ((void *)(iph + 1) > end)
			return false;
		/* The header sums to -0 with its valid checksum: only the L4 part counts. */
		if (iph->protocol == IPPROTO_ICMP) {
			*sum = 0;
			return true;
		}
		hlen = iph->ihl * 4;
		if (hlen < sizeof(*iph) || hlen > 60)
			return false;
		uh = ip + hlen;
		if ((void *)(uh + 1) > end)
			return false;
		if (iph->protocol == IPPROTO_UDP && !uh->check)
			return false;
		pseudo = (__u64)iph->saddr + iph->daddr + bpf_htons(iph->protocol) +
			 bpf_htons(p->ip_len - hlen);
		*sum = csum_fold(pseudo);
		return true;
	}
	if ((void *)(ip6 + 1) > end)
		return false;
	/* The IPv6 header has no checksum: add it, minus the pseudo-header of its payload. */
	pseudo = 0;
#pragma unroll
	for (i = 0; i < sizeof(*ip6) / 4; i++)
		pseudo += ((__u32 *)ip6)[i];
	*sum = pseudo +
	       csum_fold((__u64)bpf_htonl(p->ip_len - sizeof(*ip6)) + bpf_htonl(ip6->nexthdr) +
			 csum_addr6((void *)&ip6->saddr) + csum_addr6((void *)&ip6->daddr));
	return true;
}

#endif /* BPF_CSUM_H */
