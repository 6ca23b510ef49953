/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only: packet parsing with a bounds-checked cursor. Ethernet with up to LB_MAX_VLAN_DEPTH
 * tags, IPv4 with options, IPv6 without extension headers, TCP, UDP, and the packet quoted by an
 * ICMP "fragmentation needed" / ICMPv6 "packet too big" error. Every parse_* helper returns
 * LB_CONTINUE or a counted XDP verdict. */
#ifndef BPF_PARSE_H
#define BPF_PARSE_H

#include "bpf/stats.h"

/* Returned by helpers when the flow goes on; distinct from every XDP verdict. */
#define LB_CONTINUE (-1)

/* Two tags cover 802.1Q and QinQ (802.1ad outer + 802.1Q inner); deeper stacks go to the
 * stack. The constant bound lets the verifier unroll the loop. */
#ifndef LB_MAX_VLAN_DEPTH
#define LB_MAX_VLAN_DEPTH 2
#endif

/* Not in vmlinux.h, which has no macros. */
#define ETH_P_IP	  0x0800
#define ETH_P_IPV6	  0x86DD
#define ETH_P_8021Q	  0x8100
#define ETH_P_8021AD	  0x88A8
#define ETH_ALEN	  6
#define IP_MF		  0x2000
#define IP_OFFSET	  0x1fff
#define IP_DF		  0x4000
#define NEXTHDR_HOP	  0
#define NEXTHDR_ROUTING	  43
#define NEXTHDR_FRAG	  44
#define NEXTHDR_DEST	  60
#define IPPROTO_ICMPV6	  58
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED  4
#define ICMPV6_PKT_TOOBIG 2
#define TCP_F_FIN	  0x01
#define TCP_F_SYN	  0x02
#define TCP_F_RST	  0x04
#define TCP_F_ACK	  0x10

/* Read position and end of the packet. Every access checks pos + size <= end first. */
struct parse_cursor {
	void *pos;
	void *end;
};

/* What the flow needs from a packet. */
struct parse_pkt {
	struct lb_flow_key flow; /* the client's 5-tuple; for an ICMP error, the quoted flow
				  * turned around. Network order, as in the packet. */
	__u32 l2_len;		 /* Ethernet + VLAN header bytes: 14, 18 or 22 */
	__u32 ip_len;		 /* the IP packet's length from its header (IPv4 tot_len,
				  * IPv6 40 + payload_len), bytes */
	__u8 tcp_flags;		 /* TCP_F_*; 0 for UDP and ICMP */
	__u8 icmp_err;		 /* 1: the flow was taken from an ICMP error's quote */
	__u8 tos;		 /* IPv4 TOS or IPv6 traffic class, copied to outer headers */
	__u8 df;		 /* 1: must not be fragmented (IPv4 DF, or IPv6) */
};

/* Parse Ethernet and up to LB_MAX_VLAN_DEPTH VLAN tags at <c>. Stores the ethertype of the
 * payload in *<proto> (network order) and the header length in <p>->l2_len. */
static __always_inline int parse_eth(struct parse_cursor *c, struct parse_pkt *p, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vh;
	__be16 type;
	int i;

	if ((void *)(eth + 1) > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	type = eth->h_proto;
	c->pos = eth + 1;
#pragma unroll
	for (i = 0; i < LB_MAX_VLAN_DEPTH; i++) {
		if (type != bpf_htons(ETH_P_8021Q) && type != bpf_htons(ETH_P_8021AD))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return stats_drop(LB_DROP_TRUNCATED);
		type = vh->h_vlan_encapsulated_proto;
		c->pos = vh + 1;
	}
	if (type == bpf_htons(ETH_P_8021Q) || type == bpf_htons(ETH_P_8021AD))
		return stats_pass(LB_PASS_VLAN_DEPTH);
	*proto = type;
	p->l2_len = sizeof(*eth) + i * sizeof(*vh);
	return LB_CONTINUE;
}

/* Parse the 8 bytes of TCP or UDP ports at <c> into <flow>, <quoted> when they belong to a
 * packet quoted by an ICMP error (only the first 8 bytes are guaranteed there). */
static __always_inline int parse_ports(
	struct parse_cursor *c, struct parse_pkt *p, __u8 proto, bool quoted)
{
	struct tcphdr *th = c->pos;
	struct udphdr *uh = c->pos;

	if (proto == IPPROTO_TCP && !quoted) {
		if ((void *)(th + 1) > c->end)
			return stats_drop(LB_DROP_TRUNCATED);
		if (th->doff < 5)
			return stats_drop(LB_DROP_MALFORMED);
		if (c->pos + th->doff * 4 > c->end)
			return stats_drop(LB_DROP_TRUNCATED);
		p->flow.sport = th->source;
		p->flow.dport = th->dest;
		/* Byte 13 of the TCP header holds CWR..FIN. */
		p->tcp_flags = ((__u8 *)th)[13];
		return LB_CONTINUE;
	}
	if ((void *)(uh + 1) > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	if (quoted) {
		/* The quote was sent by the VIP: turn it around into the client's flow. */
		p->flow.sport = uh->dest;
		p->flow.dport = uh->source;
	} else {
		p->flow.sport = uh->source;
		p->flow.dport = uh->dest;
	}
	return LB_CONTINUE;
}

/* Parse the IPv4 header quoted by an ICMP "fragmentation needed" at <c>, then its ports, into
 * <p>->flow turned around (the quote went from the VIP to the client). */
static __always_inline int parse_icmp4_quote(struct parse_cursor *c, struct parse_pkt *p)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;

	if ((void *)(iph + 1) > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < sizeof(*iph))
		return stats_drop(LB_DROP_MALFORMED);
	if (c->pos + hlen > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return stats_pass(LB_PASS_ICMP);
	p->flow.src.v4 = iph->daddr;
	p->flow.dst.v4 = iph->saddr;
	p->flow.proto = iph->protocol;
	c->pos += hlen;
	p->icmp_err = 1;
	return parse_ports(c, p, p->flow.proto, true);
}

/* Parse an IPv4 header with its options at <c>. Fragments are passed; TCP, UDP and ICMP
 * errors fill <p>; other protocols are passed. */
static __always_inline int parse_ipv4(struct parse_cursor *c, struct parse_pkt *p)
{
	struct iphdr *iph = c->pos;
	struct icmphdr *icmp;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (iph->version != 4 || hlen < sizeof(*iph) || tot < hlen)
		return stats_drop(LB_DROP_MALFORMED);
	/* hlen is at most 60: a bounded variable offset the verifier accepts. */
	if (c->pos + hlen > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	if (c->pos + tot > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return stats_pass(LB_PASS_FRAGMENT);
	p->ip_len = tot;
	p->tos = iph->tos;
	p->df = !!(iph->frag_off & bpf_htons(IP_DF));
	p->flow.family = LB_AF_INET;
	c->pos += hlen;
	switch (iph->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		p->flow.src.v4 = iph->saddr;
		p->flow.dst.v4 = iph->daddr;
		p->flow.proto = iph->protocol;
		return parse_ports(c, p, iph->protocol, false);
	case IPPROTO_ICMP:
		icmp = c->pos;
		if ((void *)(icmp + 1) > c->end)
			return stats_drop(LB_DROP_TRUNCATED);
		if (icmp->type != ICMP_DEST_UNREACH || icmp->code != ICMP_FRAG_NEEDED)
			return stats_pass(LB_PASS_ICMP);
		c->pos = icmp + 1;
		return parse_icmp4_quote(c, p);
	default:
		return stats_pass(LB_PASS_NOT_L4);
	}
}

/* Copy a 16-byte IPv6 address; the verifier wants fixed-size copies from packet memory. */
static __always_inline void parse_copy6(union lb_addr *dst, const struct in6_addr *src)
{
	__builtin_memcpy(dst->bytes, src, 16);
}

/* Parse the IPv6 header quoted by an ICMPv6 "packet too big" at <c>, then its ports. */
static __always_inline int parse_icmp6_quote(struct parse_cursor *c, struct parse_pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;

	if ((void *)(ip6 + 1) > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	if (ip6->version != 6)
		return stats_drop(LB_DROP_MALFORMED);
	if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP)
		return stats_pass(LB_PASS_ICMP);
	parse_copy6(&p->flow.src, &ip6->daddr);
	parse_copy6(&p->flow.dst, &ip6->saddr);
	p->flow.proto = ip6->nexthdr;
	c->pos = ip6 + 1;
	p->icmp_err = 1;
	return parse_ports(c, p, p->flow.proto, true);
}

/* Parse an IPv6 header at <c>. Extension headers (fragments included) go to the stack. */
static __always_inline int parse_ipv6(struct parse_cursor *c, struct parse_pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	struct icmp6hdr *icmp6;
	__u32 plen;

	if ((void *)(ip6 + 1) > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	plen = bpf_ntohs(ip6->payload_len);
	/* A zero payload length means a jumbogram, which needs a hop-by-hop header. */
	if (ip6->version != 6 || (plen == 0 && ip6->nexthdr != NEXTHDR_HOP))
		return stats_drop(LB_DROP_MALFORMED);
	if (c->pos + sizeof(*ip6) + plen > c->end)
		return stats_drop(LB_DROP_TRUNCATED);
	p->ip_len = sizeof(*ip6) + plen;
	p->df = 1;
	p->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	p->flow.family = LB_AF_INET6;
	c->pos = ip6 + 1;
	switch (ip6->nexthdr) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		parse_copy6(&p->flow.src, &ip6->saddr);
		parse_copy6(&p->flow.dst, &ip6->daddr);
		p->flow.proto = ip6->nexthdr;
		return parse_ports(c, p, ip6->nexthdr, false);
	case IPPROTO_ICMPV6:
		icmp6 = c->pos;
		if ((void *)(icmp6 + 1) > c->end)
			return stats_drop(LB_DROP_TRUNCATED);
		if (icmp6->icmp6_type != ICMPV6_PKT_TOOBIG)
			return stats_pass(LB_PASS_ICMP);
		c->pos = icmp6 + 1;
		return parse_icmp6_quote(c, p);
	case NEXTHDR_FRAG:
		return stats_pass(LB_PASS_FRAGMENT);
	case NEXTHDR_HOP:
	case NEXTHDR_ROUTING:
	case NEXTHDR_DEST:
		return stats_pass(LB_PASS_IPV6_EXT);
	default:
		return stats_pass(LB_PASS_NOT_L4);
	}
}

#endif /* BPF_PARSE_H */
