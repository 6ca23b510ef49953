/* SPDX-License-Identifier: GPL-2.0 */
/* A small packet builder for the BPF fixtures: Ethernet with VLAN tags, IPv4 with options or
 * IPv6, TCP/UDP/ICMP with valid checksums, and the outer headers the data plane should add. */
#ifndef TESTS_BPF_PKT_H
#define TESTS_BPF_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

/* What to build. Addresses are text (inet_pton); ports in host order. */
struct pkt_spec {
	int family;	   /* 4 or 6 */
	uint8_t smac[6];   /* Ethernet source */
	uint8_t dmac[6];   /* Ethernet destination */
	int nvlan;	   /* 0..3 tags; the first is 802.1ad when there are two or more */
	uint16_t vlan[3];  /* tag ids */
	const char *src;   /* IP source */
	const char *dst;   /* IP destination */
	uint8_t proto;	   /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP or IPPROTO_ICMPV6 */
	uint16_t sport;	   /* TCP/UDP */
	uint16_t dport;	   /* TCP/UDP */
	uint8_t tcp_flags; /* TCP flags byte */
	uint8_t tos;	   /* IPv4 TOS / IPv6 traffic class */
	int ip_opts;	   /* IPv4 option bytes (multiple of 4) */
	uint16_t frag;	   /* IPv4 frag_off field (host order), or 1: IPv6 fragment header */
	size_t payload;	   /* payload bytes after the L4 header (a counting pattern) */
	/* ICMP errors: the quoted packet (built from this spec) follows an 8-byte ICMP header. */
	const struct pkt_spec *quote;
};

/* Build <s> into <buf> (PKT_MAX bytes). Returns the length. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf);

/* Build only the IP packet of <s> (no L2) into <buf>. Returns the length. */
size_t pkt_build_ip(const struct pkt_spec *s, uint8_t *buf);

/* Outer headers to expect. */
struct pkt_outer {
	int family;	     /* 4 or 6 */
	const char *src;     /* outer source */
	const char *dst;     /* outer destination (the backend) */
	bool gue;	     /* add UDP to gue_port from sport */
	uint16_t gue_port;   /* host order */
	uint16_t gue_sport;  /* host order */
	uint32_t flow_label; /* IPv6 outer */
	uint8_t tos;	     /* copied from the inner packet */
};

/* Expected encapsulation of <in> (<in_len> bytes, L2 of <l2_len> bytes): new MACs, the L2
 * tags kept, outer headers <o> with valid checksums, then the inner IP packet of <ip_len>
 * bytes. Returns the length written to <out>. */
size_t pkt_encap(const uint8_t *in, size_t l2_len, size_t ip_len, const uint8_t *dmac,
	const uint8_t *smac, const struct pkt_outer *o, uint8_t *out);

/* Check every checksum of the frame <buf> of <len> bytes with an <l2_len>-byte L2 header:
 * IPv4 headers, and TCP/UDP of the outermost and (if tunnelled) inner packet. Returns NULL when
 * all are valid, else a description of the first bad one. */
const char *pkt_check_csums(const uint8_t *buf, size_t len, size_t l2_len);

/* Ones' complement sum helpers (network order bytes). */
uint32_t pkt_sum(const void *p, size_t len, uint32_t sum);
uint16_t pkt_fold(uint32_t sum);

#endif /* TESTS_BPF_PKT_H */
