// SPDX-License-Identifier: GPL-2.0
/* A small packet builder for the BPF fixtures, with its own checksum code: the expected bytes
 * never come from the program under test. */
#include "tests/bpf/pkt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

uint32_t pkt_sum(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

uint16_t pkt_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Pseudo-header sum for an L4 segment of <len> bytes. */
static uint32_t pseudo_sum(
	int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = 0;

	sum = pkt_sum(src, alen, sum);
	sum = pkt_sum(dst, alen, sum);
	return sum + proto + (uint32_t)len;
}

static void addr(int family, const char *text, uint8_t *out)
{
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, text, out) != 1) {
		fprintf(stderr, "pkt: bad address %s\n", text);
		memset(out, 0, 16);
	}
}

/* The L4 part of <s> at <p>; returns its length. <src>/<dst> feed the pseudo-header. */
static size_t build_l4(const struct pkt_spec *s, const uint8_t *src, const uint8_t *dst, uint8_t *p)
{
	size_t len, i;
	uint8_t *pl;
	uint32_t sum;

	switch (s->proto) {
	case IPPROTO_TCP:
		memset(p, 0, 20);
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, 0x01020304);
		put32(p + 8, (s->tcp_flags & 0x10) ? 0x0a0b0c0d : 0);
		p[12] = 5 << 4;
		p[13] = s->tcp_flags;
		put16(p + 14, 65535);
		len = 20;
		break;
	case IPPROTO_UDP:
		put16(p, s->sport);
		put16(p + 2, s->dport);
		p[6] = p[7] = 0;
		len = 8;
		break;
	default: /* ICMP / ICMPv6 error with a quote */
		memset(p, 0, 8);
		if (s->proto == IPPROTO_ICMP) {
			p[0] = 3; /* destination unreachable */
			p[1] = 4; /* fragmentation needed */
			put16(p + 6, 1400);
		} else {
			p[0] = 2; /* packet too big */
			put32(p + 4, 1400);
		}
		len = 8;
		if (s->quote)
			len += pkt_build_ip(s->quote, p + 8);
		break;
	}
	pl = p + len;
	for (i = 0; i < s->payload; i++)
		pl[i] = (uint8_t)i;
	len += s->payload;
	if (s->proto == IPPROTO_UDP)
		put16(p + 4, (uint16_t)len);
	if (s->proto == IPPROTO_ICMP)
		sum = 0;
	else
		sum = pseudo_sum(s->family, src, dst, s->proto, len);
	sum = pkt_sum(p, len, sum);
	switch (s->proto) {
	case IPPROTO_TCP:
		put16(p + 16, pkt_fold(sum));
		break;
	case IPPROTO_UDP:
		put16(p + 6, pkt_fold(sum) ? pkt_fold(sum) : 0xffff);
		break;
	default:
		put16(p + 2, pkt_fold(sum));
		break;
	}
	return len;
}

size_t pkt_build_ip(const struct pkt_spec *s, uint8_t *buf)
{
	uint8_t src[16], dst[16];
	size_t hlen, l4;
	int i;

	addr(s->family, s->src, src);
	addr(s->family, s->dst, dst);
	if (s->family == 4) {
		hlen = 20 + (size_t)s->ip_opts;
		memset(buf, 0, hlen);
		buf[0] = 0x40 | (uint8_t)(hlen / 4);
		buf[1] = s->tos;
		put16(buf + 4, 0x1234);
		put16(buf + 6, s->frag);
		buf[8] = 64;
		buf[9] = s->proto;
		memcpy(buf + 12, src, 4);
		memcpy(buf + 16, dst, 4);
		for (i = 0; i < s->ip_opts; i++)
			buf[20 + i] = i + 1 < s->ip_opts ? 1 : 0; /* NOPs, then end of list */
		l4 = build_l4(s, src, dst, buf + hlen);
		put16(buf + 2, (uint16_t)(hlen + l4));
		put16(buf + 10, pkt_fold(pkt_sum(buf, hlen, 0)));
		return hlen + l4;
	}
	hlen = 40 + (s->frag ? 8 : 0);
	memset(buf, 0, hlen);
	put32(buf, 6u << 28 | (uint32_t)s->tos << 20 | 0x12345);
	buf[6] = s->frag ? 44 : s->proto;
	buf[7] = 64;
	memcpy(buf + 8, src, 16);
	memcpy(buf + 24, dst, 16);
	if (s->frag) {
		buf[40] = s->proto;
		put16(buf + 42, 1); /* offset 0, more fragments */
		put32(buf + 44, 0xabcd);
	}
	l4 = build_l4(s, src, dst, buf + hlen);
	put16(buf + 4, (uint16_t)(hlen - 40 + l4));
	return hlen + l4;
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf)
{
	size_t off = 12;
	int i;

	memcpy(buf, s->dmac, 6);
	memcpy(buf + 6, s->smac, 6);
	for (i = 0; i < s->nvlan; i++) {
		put16(buf + off, (s->nvlan > 1 && i == 0) ? 0x88a8 : 0x8100);
		put16(buf + off + 2, s->vlan[i]);
		off += 4;
	}
	put16(buf + off, s->family == 4 ? 0x0800 : 0x86dd);
	off += 2;
	return off + pkt_build_ip(s, buf + off);
}

size_t pkt_encap(const uint8_t *in, size_t l2_len, size_t ip_len, const uint8_t *dmac,
	const uint8_t *smac, const struct pkt_outer *o, uint8_t *out)
{
	uint8_t src[16], dst[16], *ip = out + l2_len, *udp;
	uint8_t inner_v = in[l2_len] >> 4;
	size_t hlen = o->family == 4 ? 20 : 40, ulen = ip_len + (o->gue ? 8 : 0);

	memcpy(out, dmac, 6);
	memcpy(out + 6, smac, 6);
	memcpy(out + 12, in + 12, l2_len - 12);
	put16(out + l2_len - 2, o->family == 4 ? 0x0800 : 0x86dd);
	addr(o->family, o->src, src);
	addr(o->family, o->dst, dst);
	if (o->family == 4) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[1] = o->tos;
		put16(ip + 2, (uint16_t)(20 + ulen));
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = o->gue ? IPPROTO_UDP : (inner_v == 4 ? IPPROTO_IPIP : IPPROTO_IPV6);
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, pkt_fold(pkt_sum(ip, 20, 0)));
	} else {
		put32(ip, 6u << 28 | (uint32_t)o->tos << 20 | (o->flow_label & 0xfffff));
		put16(ip + 4, (uint16_t)ulen);
		ip[6] = o->gue ? IPPROTO_UDP : (inner_v == 4 ? IPPROTO_IPIP : IPPROTO_IPV6);
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	}
	udp = ip + hlen;
	memcpy(udp + (o->gue ? 8 : 0), in + l2_len, ip_len);
	if (o->gue) {
		put16(udp, o->gue_sport);
		put16(udp + 2, o->gue_port);
		put16(udp + 4, (uint16_t)ulen);
		put16(udp + 6, 0);
		if (o->family == 6) {
			uint16_t ck = pkt_fold(
				pkt_sum(udp, ulen, pseudo_sum(6, src, dst, IPPROTO_UDP, ulen)));
			put16(udp + 6, ck ? ck : 0xffff);
		}
	}
	return l2_len + hlen + ulen;
}

static char csum_err[128];

/* Check the IP packet at <ip> (<len> bytes available) and what it carries. */
static const char *check_ip(const uint8_t *ip, size_t len, int depth)
{
	size_t hlen, tot, l4len;
	const uint8_t *l4, *src, *dst;
	uint8_t proto;
	int family;

	if (len < 20)
		return "short IP packet";
	if (ip[0] >> 4 == 4) {
		family = 4;
		hlen = (size_t)(ip[0] & 15) * 4;
		tot = (size_t)(ip[2] << 8 | ip[3]);
		if (pkt_fold(pkt_sum(ip, hlen, 0)) != 0) {
			snprintf(csum_err, sizeof(csum_err), "bad IPv4 header checksum (depth %d)",
				depth);
			return csum_err;
		}
		proto = ip[9];
		src = ip + 12;
		dst = ip + 16;
		if (ip[6] & 0x3f || ip[7])
			return NULL; /* a fragment: the L4 sum spans fragments */
	} else {
		family = 6;
		hlen = 40;
		tot = 40 + (size_t)(ip[4] << 8 | ip[5]);
		proto = ip[6];
		src = ip + 8;
		dst = ip + 24;
		if (proto == 44)
			return NULL;
	}
	if (tot > len)
		return "IP length past the frame";
	l4 = ip + hlen;
	l4len = tot - hlen;
	if (proto == IPPROTO_IPIP || proto == IPPROTO_IPV6)
		return check_ip(l4, l4len, depth + 1);
	if (proto == IPPROTO_UDP && family == 4 && !(l4[6] | l4[7]))
		goto gue; /* no checksum over IPv4 */
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMPV6 ||
		proto == IPPROTO_ICMP) {
		uint32_t sum =
			proto == IPPROTO_ICMP ? 0 : pseudo_sum(family, src, dst, proto, l4len);

		if (pkt_fold(pkt_sum(l4, l4len, sum)) != 0) {
			snprintf(csum_err, sizeof(csum_err), "bad L4 checksum, proto %u (depth %d)",
				proto, depth);
			return csum_err;
		}
	}
gue:
	if (proto == IPPROTO_UDP && depth == 0 && l4len > 8 && (l4[8] >> 4 == 4 || l4[8] >> 4 == 6))
		return check_ip(l4 + 8, l4len - 8, depth + 1);
	return NULL;
}

const char *pkt_check_csums(const uint8_t *buf, size_t len, size_t l2_len)
{
	if (len < l2_len + 20)
		return "frame too short";
	return check_ip(buf + l2_len, len - l2_len, 0);
}
