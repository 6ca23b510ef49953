// SPDX-License-Identifier: GPL-2.0
/* The BPF fixtures: one function per data-plane path, each with its map setup, input packet,
 * expected verdict, expected output bytes and counters. */
#include "tests/bpf/env.h"

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

static const uint32_t IDS[3] = {0, 1, 2};

/* A TCP packet from the client to <vip>:80 of <family>. */
static struct pkt_spec tcp_spec(int family, uint8_t flags, uint16_t sport)
{
	struct pkt_spec s = {
		.family = family,
		.src = family == 4 ? CLIENT4 : CLIENT6,
		.dst = family == 4 ? VIP4 : VIP6,
		.proto = IPPROTO_TCP,
		.sport = sport,
		.dport = 80,
		.tcp_flags = flags,
		.payload = 32,
	};

	memcpy(s.smac, MAC_CLIENT, 6);
	memcpy(s.dmac, MAC_LB, 6);
	return s;
}

/* A service on <family>'s VIP port 80 (id 0) with backends 0..2 of <be_family>. */
static void setup(int family, int be_family, uint8_t fwd, uint8_t flags)
{
	int i;

	svc_add(family, family == 4 ? VIP4 : VIP6, 80, IPPROTO_TCP, 0, LB_MODE_L4,
		LB_ALGO_MAGLEV, fwd, flags);
	for (i = 0; i < 3; i++)
		be_set(i, be_family, be_family == 4 ? BE4[i] : BE6[i], 0, LB_BE_UP, 1);
	mg_publish(0, IDS, 3);
}

static size_t l2_len_of(const struct pkt_spec *s)
{
	return 14 + 4 * (size_t)s->nvlan;
}

/* Run <s> and expect it encapsulated (or, for L2, MAC-rewritten) toward backend <be> of
 * <be_family>. Returns the backend id the output went to, checked against <be>. */
static void expect_fwd(const struct pkt_spec *s, int be_family, uint32_t be, uint8_t fwd,
		       bool src_only)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	size_t len, out_len, want_len, l2 = l2_len_of(s);
	struct lb_flow_key key;
	const char *bad;
	uint32_t h;
	int v;

	len = pkt_build(s, in);
	flow_of(s, &key);
	h = flow_hash(&key, src_only);
	v = run(E.prog, in, len, out, &out_len);
	CHECK(v == XDP_TX, "verdict %d, want XDP_TX", v);
	if (fwd == LB_FWD_L2) {
		uint8_t mac[6] = {0x02, 0, 0, 0, 0xbe, (uint8_t)be};

		memcpy(want, in, len);
		memcpy(want, mac, 6);
		memcpy(want + 6, MAC_LB, 6);
		want_len = len;
	} else {
		struct pkt_outer o = {
			.family = be_family,
			.src = be_family == 4 ? LBSRC4 : LBSRC6,
			.dst = be_family == 4 ? BE4[be] : BE6[be],
			.gue = fwd == LB_FWD_GUE,
			.gue_port = LB_DEFAULT_GUE_PORT,
			.gue_sport = 0xc000 | (h & 0x3fff),
			.flow_label = h & 0xfffff,
			.tos = s->tos,
		};

		want_len = pkt_encap(in, l2, len - l2, MAC_GW, MAC_LB, &o, want);
	}
	same_bytes(out, out_len, want, want_len);
	bad = pkt_check_csums(out, out_len, l2);
	CHECK(!bad, "%s", bad);
}

static void fx_ipv4_syn_ipip(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 40000);
	struct lb_flow_key key;
	struct lb_flow f;
	uint32_t be;

	setup(4, 4, LB_FWD_IPIP, 0);
	flow_of(&s, &key);
	be = mg_expect(&key, IDS, 3, false);
	expect_fwd(&s, 4, be, LB_FWD_IPIP, false);
	CHECK(ct_get(&key, &f) && f.backend == be, "conntrack entry missing or wrong");
	CHECK(svc_stats(0).new_flows == 1 && svc_stats(0).packets == 1, "service stats");
	CHECK(be_stats(be).packets == 1, "backend stats");
	CHECK(reason_count(LB_FWD_TX) == 1, "LB_FWD_TX count");
}

static void fx_ipv6_syn_ip6ip6(void)
{
	struct pkt_spec s = tcp_spec(6, 0x02, 40001);
	struct lb_flow_key key;
	uint32_t be;

	setup(6, 6, LB_FWD_IPIP, 0);
	flow_of(&s, &key);
	be = mg_expect(&key, IDS, 3, false);
	expect_fwd(&s, 6, be, LB_FWD_IPIP, false);
}

static void fx_ipv4_in_ipv6(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 40002);
	struct lb_flow_key key;

	setup(4, 6, LB_FWD_IPIP, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 6, mg_expect(&key, IDS, 3, false), LB_FWD_IPIP, false);
}

static void fx_non_vip_passes(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 40003);
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;
	int v;

	setup(4, 4, LB_FWD_IPIP, 0);
	s.dst = "192.0.2.200";
	len = pkt_build(&s, in);
	v = run(E.prog, in, len, out, &out_len);
	CHECK(v == XDP_PASS, "verdict %d, want XDP_PASS", v);
	same_bytes(out, out_len, in, len);
	CHECK(reason_count(LB_PASS_NO_SERVICE) == 1, "LB_PASS_NO_SERVICE count");
	CHECK(ct_count() == 0, "conntrack should stay empty");
}

const struct fixture fixtures[] = {
	{"ipv4_syn_ipip", fx_ipv4_syn_ipip},
	{"ipv6_syn_ip6ip6", fx_ipv6_syn_ip6ip6},
	{"ipv4_in_ipv6", fx_ipv4_in_ipv6},
	{"non_vip_passes", fx_non_vip_passes},
	{NULL, NULL},
};
