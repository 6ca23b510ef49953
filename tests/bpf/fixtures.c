// SPDX-License-Identifier: GPL-2.0
/* The BPF fixtures: one function per data-plane path, each with its map setup, input packet,
 * expected verdict, expected output bytes and counters. */
#include "tests/bpf/env.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "bpf/hash.h"

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

	svc_add(family, family == 4 ? VIP4 : VIP6, 80, IPPROTO_TCP, 0, LB_MODE_L4, LB_ALGO_MAGLEV,
		fwd, flags);
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
/* The outer source expect_fwd_key() expects; NULL: the node's fixed LBSRC4 / LBSRC6. */
static const char *outer_src;

static void expect_fwd_key(const struct pkt_spec *s, int be_family, uint32_t be, uint8_t fwd,
	const struct lb_flow_key *hkey)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	size_t len, out_len, want_len, l2 = l2_len_of(s);
	struct lb_flow_key key;
	const char *bad;
	uint32_t h;
	int v;

	len = pkt_build(s, in);
	flow_of(s, &key);
	/* The GUE source port and the IPv6 flow label come from the flow-table hash. */
	h = hash_ct(hkey ? hkey : &key, ct_seed());
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
			.src = outer_src ? outer_src : be_family == 4 ? LBSRC4 : LBSRC6,
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

static void expect_fwd(const struct pkt_spec *s, int be_family, uint32_t be, uint8_t fwd)
{
	expect_fwd_key(s, be_family, be, fwd, NULL);
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
	expect_fwd(&s, 4, be, LB_FWD_IPIP);
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
	expect_fwd(&s, 6, be, LB_FWD_IPIP);
}

static void fx_ipv4_in_ipv6(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 40002);
	struct lb_flow_key key;

	setup(4, 6, LB_FWD_IPIP, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 6, mg_expect(&key, IDS, 3, false), LB_FWD_IPIP);
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

/* Build <s>, run it, and return the verdict; the output lands in <out>. */
static int run_spec(const struct pkt_spec *s, uint8_t *out, size_t *out_len)
{
	uint8_t in[PKT_MAX];

	return run(E.prog, in, pkt_build(s, in), out, out_len);
}

/* The index of the backend whose address is the outer destination of <out>, or -1. */
static int out_backend(const uint8_t *out, size_t len, size_t l2, int be_family)
{
	union {
		uint8_t b[16];
	} a;
	int i;

	for (i = 0; i < 3; i++) {
		inet_pton(
			be_family == 4 ? AF_INET : AF_INET6, be_family == 4 ? BE4[i] : BE6[i], a.b);
		if (be_family == 4 && len >= l2 + 20 && !memcmp(out + l2 + 16, a.b, 4))
			return i;
		if (be_family == 6 && len >= l2 + 40 && !memcmp(out + l2 + 24, a.b, 16))
			return i;
	}
	return -1;
}

/* Send <s> and return the backend it went to (-1 when not forwarded). */
static int send_to(const struct pkt_spec *s)
{
	uint8_t out[PKT_MAX];
	size_t out_len;
	int v = run_spec(s, out, &out_len);

	if (v != XDP_TX)
		return -1;
	return out_backend(out, out_len, 14 + 4 * (size_t)s->nvlan, 4);
}

/* Expect <s> to leave with <verdict>, unchanged, counted under <reason>. */
static void expect_verdict(const struct pkt_spec *s, int verdict, enum lb_reason reason)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;
	uint64_t before = reason_count(reason);
	int v;

	len = pkt_build(s, in);
	v = run(E.prog, in, len, out, &out_len);
	CHECK(v == verdict, "verdict %d, want %d", v, verdict);
	if (verdict == XDP_PASS)
		same_bytes(out, out_len, in, len);
	CHECK(reason_count(reason) == before + 1, "reason %d not counted", reason);
}

static void fx_conntrack_across_table_change(void)
{
	struct pkt_spec syn = tcp_spec(4, 0x02, 41000), ack = tcp_spec(4, 0x10, 41000);
	struct lb_flow_key key;
	uint32_t x, others[1];
	int got;

	setup(4, 4, LB_FWD_IPIP, 0);
	flow_of(&syn, &key);
	x = mg_expect(&key, IDS, 3, false);
	CHECK(send_to(&syn) == (int)x, "SYN went elsewhere");
	/* Every slot now names another backend: only conntrack can keep x. */
	others[0] = (x + 1) % 3;
	mg_publish(0, others, 1);
	got = send_to(&ack);
	CHECK(got == (int)x, "established flow moved to %d, want %u", got, x);
	CHECK(svc_stats(0).new_flows == 1, "the ACK counted as a new flow");
	/* A new connection follows the new table. */
	syn.sport = 41001;
	got = send_to(&syn);
	CHECK(got == (int)others[0], "new flow went to %d, want %u", got, others[0]);
	/* A SYN reusing the old 4-tuple is a new connection: it takes the table's choice. */
	syn.sport = 41000;
	got = send_to(&syn);
	CHECK(got == (int)others[0], "reused 4-tuple SYN went to %d", got);
}

/* Send <s> to a service whose backends are of the packet's own family: the backend it went
 * to, or -1. */
static int send_same_family(const struct pkt_spec *s)
{
	uint8_t out[PKT_MAX];
	size_t out_len;

	if (run_spec(s, out, &out_len) != XDP_TX)
		return -1;
	return out_backend(out, out_len, 14 + 4 * (size_t)s->nvlan, s->family);
}

/* A tracked flow finds its service in its backend's copy (lb_backend.vip, no lb_services
 * lookup) in both families; a copy naming another destination is not trusted (the packet
 * looks up lb_services and keeps its backend), and a deleted service's flows pass. */
static void fx_established_service_by_backend(void)
{
	for (int family = 4; family <= 6; family += 2) {
		struct pkt_spec syn = tcp_spec(family, 0x02, 41200),
				ack = tcp_spec(family, 0x10, 41200);
		struct lb_svc_ent e;
		struct lb_backend b;
		struct lb_flow_key key;
		uint32_t x, zero = 0;

		setup(family, family, LB_FWD_IPIP, 0);
		flow_of(&syn, &key);
		x = mg_expect(&key, IDS, 3, false);
		int got = send_same_family(&syn);

		CHECK(got == (int)x, "IPv%d: SYN went to %d, want %u", family, got, x);
		CHECK(send_same_family(&ack) == (int)x, "IPv%d: ACK by its backend's service", family);
		CHECK(!bpf_map_lookup_elem(E.svc_by_id, &zero, &e) && e.svc.id == 0 &&
			      e.key.port == htons(80),
			"IPv%d: lb_svc_by_id entry", family);
		CHECK(!bpf_map_lookup_elem(E.backends, &x, &b) && !memcmp(&b.vip, &e, sizeof(e)),
			"IPv%d: the backend's copy of the service", family);
		/* The copy is what a tracked flow reads: an l7 mode there passes it. */
		b.vip.svc.mode = LB_MODE_L7;
		CHECK(!bpf_map_update_elem(E.backends, &x, &b, BPF_ANY), "lb_backends");
		expect_verdict(&ack, XDP_PASS, LB_PASS_L7);
		/* Under another destination it is not trusted: lb_services says l4. */
		b.vip.svc.mode = LB_MODE_L4;
		b.vip.key.addr.bytes[15] ^= 1;
		CHECK(!bpf_map_update_elem(E.backends, &x, &b, BPF_ANY), "lb_backends");
		CHECK(send_same_family(&ack) == (int)x, "IPv%d: ACK through lb_services", family);
		CHECK(svc_stats(0).packets == 3, "IPv%d: %llu packets counted", family,
			(unsigned long long)svc_stats(0).packets);
		CHECK(!svc_del(family, family == 4 ? VIP4 : VIP6, 80, IPPROTO_TCP), "delete");
		expect_verdict(&ack, XDP_PASS, LB_PASS_NO_SERVICE);
		env_reset();
	}
}

/* A SYN on a tracked 4-tuple rewrites its entry: the new backend, no FIN mark, no new entry;
 * the flow's later packets follow it. */
static void fx_syn_rewrites_tracked_flow(void)
{
	struct pkt_spec syn = tcp_spec(4, 0x02, 41500), fin = tcp_spec(4, 0x11, 41500),
			ack = tcp_spec(4, 0x10, 41500);
	struct lb_flow_key key;
	struct lb_flow f;
	uint32_t x, others[1];

	setup(4, 4, LB_FWD_IPIP, 0);
	flow_of(&syn, &key);
	x = mg_expect(&key, IDS, 3, false);
	CHECK(send_to(&syn) == (int)x, "SYN");
	CHECK(send_to(&syn) == (int)x, "repeated SYN");
	CHECK(ct_count() == 1 && ct_get(&key, &f) && f.backend == x && !(f.flags & LB_FLOW_F_FIN),
		"repeated SYN: %d entries", ct_count());
	CHECK(send_to(&fin) == (int)x, "FIN");
	CHECK(ct_get(&key, &f) && (f.flags & LB_FLOW_F_FIN) && f.last_seen, "FIN not recorded");
	others[0] = (x + 1) % 3;
	mg_publish(0, others, 1);
	CHECK(send_to(&syn) == (int)others[0], "SYN after FIN kept the old backend");
	CHECK(ct_count() == 1, "%d entries", ct_count());
	CHECK(ct_get(&key, &f) && f.backend == others[0] && !(f.flags & LB_FLOW_F_FIN),
		"entry not rewritten: backend %u flags %u", f.backend, f.flags);
	mg_publish(0, IDS, 3);
	CHECK(send_to(&ack) == (int)others[0], "the new connection lost its backend");
	CHECK(svc_stats(0).new_flows == 3, "new flows %llu",
		(unsigned long long)svc_stats(0).new_flows);
}

/* With a source prefix, the outer source's host bits come from the flow's hash in the flow
 * tables (hash_ct() under the node's ct_seed; IPv4: the bits past the prefix; IPv6: at most
 * the last 32), and the GUE source port too: different flows reach a backend from different
 * addresses and ports, which its NIC's RSS spreads. */
static void fx_outer_src_from_flow(void)
{
	static const uint8_t fwds[2] = {LB_FWD_IPIP, LB_FWD_GUE};
	char want[INET6_ADDRSTRLEN];
	uint32_t srcs[4], sports[4];
	struct lb_node n;
	int fam, f, i;

	for (fam = 4; fam <= 6; fam += 2) {
		for (f = 0; f < 2; f++) {
			env_reset();
			node_default(&n);
			n.src4_plen = 24;
			n.src6_plen = 64;
			node_set(&n);
			setup(fam, fam, fwds[f], 0);
			for (i = 0; i < 4; i++) {
				struct pkt_spec s = tcp_spec(fam, 0x02, (uint16_t)(43000 + i));
				struct lb_flow_key key;
				union lb_addr a = fam == 4 ? n.src4 : n.src6;
				uint32_t h;

				flow_of(&s, &key);
				h = hash_ct(&key, ct_seed());
				if (fam == 4)
					a.v4 = (a.v4 & htonl(0xffffff00)) | htonl(h & 0xff);
				else
					a.v6[3] = htonl(h); /* /64: the last 32 bits vary */
				inet_ntop(fam == 4 ? AF_INET : AF_INET6, a.bytes, want, sizeof(want));
				outer_src = want;
				expect_fwd(&s, fam, mg_expect(&key, IDS, 3, false), fwds[f]);
				/* The same from conntrack, which skips the table's hashing. */
				s.tcp_flags = 0x10;
				expect_fwd(&s, fam, mg_expect(&key, IDS, 3, false), fwds[f]);
				outer_src = NULL;
				srcs[i] = fam == 4 ? a.v4 : a.v6[3];
				sports[i] = 0xc000 | (h & 0x3fff);
			}
			/* Four flows, more than one source and (GUE) source port. */
			CHECK(srcs[0] != srcs[1] || srcs[0] != srcs[2] || srcs[0] != srcs[3],
				"IPv%d: every flow got the same outer source", fam);
			CHECK(sports[0] != sports[1] || sports[0] != sports[2],
				"IPv%d: every flow got the same GUE source port", fam);
		}
	}
	/* Prefix lengths of 32 / 128 (or 0) keep the configured address itself. */
	env_reset();
	node_default(&n);
	n.src4_plen = 32;
	node_set(&n);
	setup(4, 4, LB_FWD_IPIP, 0);
	{
		struct pkt_spec s = tcp_spec(4, 0x02, 43100);
		struct lb_flow_key key;

		flow_of(&s, &key);
		expect_fwd(&s, 4, mg_expect(&key, IDS, 3, false), LB_FWD_IPIP);
	}
}

/* The flow guard: past the node's flow_rate new entries in a window, new flows (SYNs or not)
 * are forwarded by their hash without an entry, counted in lb_guard; established flows keep
 * their entries and backends, and nothing is evicted. flow_rate off lifts the limit. */
static void fx_flow_guard(void)
{
	struct pkt_spec est = tcp_spec(4, 0x10, 44000), syn = tcp_spec(4, 0x02, 44001);
	struct lb_flow_key key, ekey;
	struct lb_flow f, ef;
	struct lb_node n;
	uint32_t x, others[1];
	int i;

	node_default(&n);
	n.flow_rate = 2;
	node_set(&n);
	setup(4, 4, LB_FWD_IPIP, 0);
	guard_freeze();
	flow_of(&est, &ekey);
	x = mg_expect(&ekey, IDS, 3, false);
	CHECK(send_to(&est) == (int)x, "established flow");	/* entry 1 */
	CHECK(send_to(&syn) >= 0, "first SYN");			/* entry 2 */
	CHECK(ct_get(&ekey, &ef) && ef.backend == x, "established flow not tracked");
	/* The flood: every SYN is forwarded to its table backend, none recorded. */
	for (i = 0; i < 20; i++) {
		struct pkt_spec s = tcp_spec(4, 0x02, (uint16_t)(45000 + i));

		flow_of(&s, &key);
		CHECK(send_to(&s) == (int)mg_expect(&key, IDS, 3, false), "SYN %d", i);
		CHECK(!ct_get(&key, &f), "SYN %d recorded past the guard", i);
	}
	/* A non-SYN packet of an unknown flow meets the same limit. */
	est.sport = 44002;
	flow_of(&est, &key);
	CHECK(send_to(&est) >= 0 && !ct_get(&key, &f), "untracked ACK recorded");
	CHECK(guard_refused() == 21, "refused %llu, want 21", (unsigned long long)guard_refused());
	CHECK(ct_count() == 2, "%d entries", ct_count());
	CHECK(reason_count(LB_FWD_TX) == 23, "forwarded %llu",
		(unsigned long long)reason_count(LB_FWD_TX));
	/* The established flow is untouched and keeps its backend across a table change. */
	others[0] = (x + 1) % 3;
	mg_publish(0, others, 1);
	est.sport = 44000;
	CHECK(send_to(&est) == (int)x, "established flow moved during the flood");
	CHECK(ct_get(&ekey, &f) && f.backend == ef.backend && f.last_seen == ef.last_seen &&
		      (f.flags & LB_FLOW_F_REF),
		"established entry changed");
	/* Off: the next new flow is recorded again. */
	n.flow_rate = LB_FLOW_RATE_OFF;
	node_set(&n);
	syn.sport = 44003;
	flow_of(&syn, &key);
	CHECK(send_to(&syn) == (int)others[0] && ct_get(&key, &f), "guard off: not recorded");
	CHECK(guard_refused() == 21, "guard off still counts");
}

/* Past the flow guard's rate a window that has ended restarts lazily: the clock is read by one
 * refused flow in 64 (SCHED_GUARD_CLOCK_EVERY), so a flood pays for no clock read per SYN. */
static void fx_flow_guard_window(void)
{
	struct pkt_spec a = tcp_spec(4, 0x02, 44100), b = tcp_spec(4, 0x02, 44101);
	struct lb_flow_key key;
	struct lb_flow f;
	struct lb_node n;

	node_default(&n);
	n.flow_rate = 2;
	node_set(&n);
	setup(4, 4, LB_FWD_IPIP, 0);
	/* At the rate, the window over since boot, 1 flow refused: no clock read, refused. */
	guard_set(1, 2, 1);
	flow_of(&a, &key);
	CHECK(send_to(&a) >= 0 && !ct_get(&key, &f), "SYN recorded before the clock was read");
	CHECK(guard_refused() == (uint64_t)E.ncpu + 1, "refused %llu",
		(unsigned long long)guard_refused());
	/* 64 refused: this one reads the clock, finds the window over, and starts another. */
	guard_set(1, 2, 64);
	flow_of(&b, &key);
	CHECK(send_to(&b) >= 0 && ct_get(&key, &f), "SYN not recorded in the new window");
	CHECK(guard_refused() == 64 * (uint64_t)E.ncpu, "refused %llu",
		(unsigned long long)guard_refused());
}

/* <n> clients of <family> whose flows to the VIP's port 80 share one flow-table set: their
 * source addresses into <addrs> (text, INET6_ADDRSTRLEN each). */
static void same_set_clients(int family, int n, char (*addrs)[INET6_ADDRSTRLEN])
{
	struct pkt_spec spec = tcp_spec(family, 0x10, 47000);
	struct lb_flow_key key;
	uint32_t want = 0, i, found = 0;

	flow_of(&spec, &key);
	for (i = 0; found < (uint32_t)n && i < (1u << 24); i++) {
		if (family == 4)
			key.src.v4 = htonl(0x0a000000u | i); /* 10.0.0.0/8 */
		else
			key.src.v6[3] = htonl(i);
		if (!found)
			want = hash_ct_set(hash_ct(&key, ct_seed()));
		else if (hash_ct_set(hash_ct(&key, ct_seed())) != want)
			continue;
		inet_ntop(family == 4 ? AF_INET : AF_INET6, &key.src, addrs[found], INET6_ADDRSTRLEN);
		found++;
	}
	CHECK(found == (uint32_t)n, "only %u clients share a set", found);
}

/* A set holds LB_FLOW_WAYS flows. When it is full a new flow takes the slot of one not seen
 * again since it was stored (a lone SYN, a flood's), never that of a flow with later packets;
 * when every flow has had later packets, the marks are cleared and one slot is given up. In
 * both families. */
static void fx_conntrack_set_keeps_active_flows(void)
{
	char addrs[7][INET6_ADDRSTRLEN];
	struct lb_flow_key keys[7];
	struct pkt_spec sp[7];
	struct lb_flow f;
	int family, i, kept;

	for (family = 4; family <= 6; family += 2) {
		setup(family, family, LB_FWD_IPIP, 0);
		same_set_clients(family, 7, addrs);
		for (i = 0; i < 7; i++) {
			sp[i] = tcp_spec(family, 0x10, 47000);
			sp[i].src = addrs[i];
			flow_of(&sp[i], &keys[i]);
		}
		/* A, B, C, D fill the set; A, B and C are seen again, D is not. */
		for (i = 0; i < 4; i++)
			CHECK(send_same_family(&sp[i]) >= 0, "IPv%d: flow %d", family, i);
		for (i = 0; i < 3; i++)
			CHECK(send_same_family(&sp[i]) >= 0, "IPv%d: flow %d again", family, i);
		CHECK(ct_count() == 4, "IPv%d: %d entries", family, ct_count());
		/* E takes D's slot. */
		CHECK(send_same_family(&sp[4]) >= 0, "IPv%d: flow E", family);
		CHECK(!ct_get(&keys[3], &f), "IPv%d: D, never seen again, kept its slot", family);
		for (i = 0; i < 3; i++)
			CHECK(ct_get(&keys[i], &f) && (f.flags & LB_FLOW_F_REF),
				"IPv%d: active flow %d evicted", family, i);
		CHECK(ct_get(&keys[4], &f) && !(f.flags & LB_FLOW_F_REF), "IPv%d: E", family);
		/* F takes E's slot: still the only one not seen again. */
		CHECK(send_same_family(&sp[5]) >= 0, "IPv%d: flow F", family);
		CHECK(!ct_get(&keys[4], &f) && ct_get(&keys[5], &f), "IPv%d: F replaces E", family);
		/* All four active: G clears the marks and takes one slot; three stay. */
		CHECK(send_same_family(&sp[5]) >= 0, "IPv%d: flow F again", family);
		CHECK(send_same_family(&sp[6]) >= 0, "IPv%d: flow G", family);
		CHECK(ct_get(&keys[6], &f), "IPv%d: G not stored", family);
		for (i = 0, kept = 0; i < 6; i++)
			kept += ct_get(&keys[i], &f) && !(f.flags & LB_FLOW_F_REF);
		CHECK(kept == 3 && ct_count() == 4, "IPv%d: %d kept, %d entries", family, kept,
			ct_count());
		env_reset();
	}
}

/* A slot whose check does not match its key and backend (torn by two CPUs writing it at once)
 * is no entry: the packet takes the table's backend, and the slot is rewritten whole. */
static void fx_conntrack_torn_slot_is_a_miss(void)
{
	struct pkt_spec ack = tcp_spec(4, 0x10, 47100);
	struct lb_flow_key key;
	struct lb_flow4_set set;
	struct lb_flow f;
	uint32_t x, other, idx;
	int w;

	setup(4, 4, LB_FWD_IPIP, 0);
	flow_of(&ack, &key);
	x = mg_expect(&key, IDS, 3, false);
	other = (x + 1) % 3;
	CHECK(!ct_put(&key, &(struct lb_flow){.backend = other}, BPF_ANY), "put");
	CHECK(send_to(&ack) == (int)other, "a valid slot is followed");
	idx = hash_ct_set(hash_ct(&key, ct_seed()));
	CHECK(!bpf_map_lookup_elem(E.ct4, &idx, &set), "read the set");
	for (w = 0; w < LB_FLOW_WAYS && !set.way[w].key.proto; w++)
		;
	CHECK(w < LB_FLOW_WAYS, "no slot");
	if (w >= LB_FLOW_WAYS)
		return;
	set.way[w].flow.check ^= 1;
	CHECK(!bpf_map_update_elem(E.ct4, &idx, &set, BPF_ANY), "tear the slot");
	CHECK(!ct_get(&key, &f), "a torn slot reads as an entry");
	CHECK(send_to(&ack) == (int)x, "a torn slot was followed");
	CHECK(ct_get(&key, &f) && f.backend == x, "the slot was not rewritten");
	CHECK(ct_count() == 1, "%d entries", ct_count());
}

/* The program hashes a flow under the node's ct_seed, as userspace does: a flow stored under
 * the seed is followed, and once the seed changes the program looks in another set and misses
 * it. Two seeds put most flows in different sets (a sender who does not know the seed cannot
 * aim flows at one set). */
static void fx_conntrack_seed_places_flows(void)
{
	struct lb_flow_key key;
	struct lb_node n;
	uint32_t x, other, moved = 0, i;
	__u32 zero = 0;
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		struct pkt_spec ack = tcp_spec(fam, 0x10, 47200);

		env_reset();
		setup(fam, fam, LB_FWD_IPIP, 0);
		CHECK(ct_seed() == CT_SEED, "node seed %llx", (unsigned long long)ct_seed());
		flow_of(&ack, &key);
		x = mg_expect(&key, IDS, 3, false);
		other = (x + 1) % 3;
		CHECK(!ct_put(&key, &(struct lb_flow){.backend = other}, BPF_ANY), "put");
		CHECK(send_same_family(&ack) == (int)other, "IPv%d: the stored flow was not followed",
			fam);
		CHECK(!bpf_map_lookup_elem(E.node, &zero, &n), "read lb_node");
		n.ct_seed = ~CT_SEED;
		node_set(&n);
		CHECK(send_same_family(&ack) == (int)x, "IPv%d: found under another seed", fam);
		CHECK(ct_get(&key, &(struct lb_flow){}), "IPv%d: not recorded under the new seed",
			fam);
	}
	for (i = 0; i < 256; i++) {
		key.src.v6[3] = htonl(i);
		moved += hash_ct_set(hash_ct(&key, CT_SEED)) != hash_ct_set(hash_ct(&key, ~CT_SEED));
	}
	CHECK(moved >= 250, "only %u of 256 flows change sets with the seed", moved);
}

/* The flow table is one array of sets that every CPU uses: a flow recorded on one CPU keeps
 * its backend when its packets arrive on another, and across republished tables. */
static void fx_conntrack_shared_survives_republish(void)
{
	struct pkt_spec syn = tcp_spec(4, 0x02, 46000), ack = tcp_spec(4, 0x10, 46000);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct lb_flow_key key;
	uint32_t x, others[1];
	cpu_set_t all, one;
	int cpu, round;

	CHECK(!bpf_obj_get_info_by_fd(E.ct4, &info, &len) && info.type == BPF_MAP_TYPE_ARRAY &&
		      info.max_entries == LB_FLOW_SETS &&
		      info.value_size == sizeof(struct lb_flow4_set),
		"lb_conntrack4: type %u entries %u", info.type, info.max_entries);
	setup(4, 4, LB_FWD_IPIP, 0);
	flow_of(&syn, &key);
	x = mg_expect(&key, IDS, 3, false);
	CHECK(!sched_getaffinity(0, sizeof(all), &all), "affinity: %s", strerror(errno));
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	(void)sched_setaffinity(0, sizeof(one), &one); /* best effort: a SYN on CPU 0 */
	CHECK(send_to(&syn) == (int)x, "SYN");
	for (round = 0; round < 3; round++) {
		others[0] = (x + 1 + (uint32_t)round % 2) % 3;
		mg_publish(0, others, 1);
		for (cpu = 0; cpu < CPU_SETSIZE && cpu < E.ncpu; cpu++) {
			if (!CPU_ISSET(cpu, &all))
				continue;
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			(void)sched_setaffinity(0, sizeof(one), &one); /* offline CPUs refuse */
			CHECK(send_to(&ack) == (int)x, "republish %d, CPU %d: flow moved", round,
				cpu);
		}
	}
	(void)sched_setaffinity(0, sizeof(all), &all);
	CHECK(ct_count() == 1, "%d entries", ct_count());
}

/* lb_vip_filter: an address with its bit set is looked up (another port of the VIP is not a
 * service); with the bit cleared, even the VIP's own service is taken for a stranger, which
 * shows the filter is what the program reads first. */
static void fx_vip_filter(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 47000);
	union lb_addr vip = {};

	setup(4, 4, LB_FWD_IPIP, 0);
	CHECK(send_to(&s) >= 0, "the service is not forwarded");
	s.dport = 81;
	expect_verdict(&s, XDP_PASS, LB_PASS_NO_SERVICE);
	inet_pton(AF_INET, VIP4, vip.bytes);
	CHECK(!vip_bit_set(&vip, false), "lb_vip_filter: %s", strerror(errno));
	s.dport = 80;
	expect_verdict(&s, XDP_PASS, LB_PASS_NO_SERVICE);
}

static void fx_gue_ipv4(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 42000);
	struct lb_flow_key key;

	setup(4, 4, LB_FWD_GUE, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 4, mg_expect(&key, IDS, 3, false), LB_FWD_GUE);
}

static void fx_gue_ipv6(void)
{
	struct pkt_spec s = tcp_spec(6, 0x02, 42001);
	struct lb_flow_key key;

	setup(6, 6, LB_FWD_GUE, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 6, mg_expect(&key, IDS, 3, false), LB_FWD_GUE);
}

static void fx_gue_ipv4_in_ipv6(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 42002);
	struct lb_flow_key key;

	setup(4, 6, LB_FWD_GUE, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 6, mg_expect(&key, IDS, 3, false), LB_FWD_GUE);
	/* UDP payloads too: the outer checksum is derived from the inner one. */
	s.proto = IPPROTO_UDP;
	svc_add(4, VIP4, 80, IPPROTO_UDP, 0, LB_MODE_L4, LB_ALGO_MAGLEV, LB_FWD_GUE, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 6, mg_expect(&key, IDS, 3, false), LB_FWD_GUE);
}

static void fx_gue_port_configured(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 42003);
	uint8_t out[PKT_MAX];
	struct lb_node n;
	size_t out_len;

	setup(4, 4, LB_FWD_GUE, 0);
	node_default(&n);
	n.gue_port = htons(9999);
	node_set(&n);
	CHECK(run_spec(&s, out, &out_len) == XDP_TX, "not forwarded");
	CHECK(out_len > 14 + 24 && out[14 + 22] == 9999 >> 8 && out[14 + 23] == (9999 & 0xff),
		"GUE destination port is not 9999");
}

static void fx_l2_dsr(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 43000);
	struct lb_flow_key key;

	setup(4, 4, LB_FWD_L2, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 4, mg_expect(&key, IDS, 3, false), LB_FWD_L2);
	s = tcp_spec(6, 0x02, 43001);
	setup(6, 6, LB_FWD_L2, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 6, mg_expect(&key, IDS, 3, false), LB_FWD_L2);
}

static void fx_vlan_one_tag(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 44000);
	struct lb_flow_key key;

	s.nvlan = 1;
	s.vlan[0] = 100;
	setup(4, 6, LB_FWD_IPIP, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 6, mg_expect(&key, IDS, 3, false), LB_FWD_IPIP);
}

static void fx_vlan_qinq(void)
{
	struct pkt_spec s = tcp_spec(6, 0x02, 44001);
	struct lb_flow_key key;

	s.nvlan = 2;
	s.vlan[0] = 10;
	s.vlan[1] = 20;
	setup(6, 6, LB_FWD_GUE, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 6, mg_expect(&key, IDS, 3, false), LB_FWD_GUE);
}

static void fx_vlan_three_tags_pass(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 44002);

	s.nvlan = 3;
	s.vlan[0] = 1;
	s.vlan[1] = 2;
	s.vlan[2] = 3;
	setup(4, 4, LB_FWD_IPIP, 0);
	expect_verdict(&s, XDP_PASS, LB_PASS_VLAN_DEPTH);
}

static void fx_ipv4_options(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 45000);
	struct lb_flow_key key;

	s.ip_opts = 12;
	s.tos = 0x28;
	setup(4, 4, LB_FWD_IPIP, 0);
	flow_of(&s, &key);
	expect_fwd(&s, 4, mg_expect(&key, IDS, 3, false), LB_FWD_IPIP);
	s.ip_opts = 40; /* the longest: 60-byte header */
	flow_of(&s, &key);
	expect_fwd(&s, 4, mg_expect(&key, IDS, 3, false), LB_FWD_IPIP);
}

static void fx_fragments_pass(void)
{
	struct pkt_spec s = tcp_spec(4, 0x10, 46000);

	setup(4, 4, LB_FWD_IPIP, 0);
	s.frag = 0x2000; /* first fragment: more fragments */
	expect_verdict(&s, XDP_PASS, LB_PASS_FRAGMENT);
	s.frag = 0x0010; /* a later fragment */
	expect_verdict(&s, XDP_PASS, LB_PASS_FRAGMENT);
	s = tcp_spec(6, 0x10, 46001);
	s.frag = 1;
	setup(6, 6, LB_FWD_IPIP, 0);
	expect_verdict(&s, XDP_PASS, LB_PASS_FRAGMENT);
	CHECK(ct_count() == 0, "a fragment created a flow");
}

/* Every truncation of a valid packet is dropped as truncated, never forwarded or changed. */
static void truncations(const struct pkt_spec *s)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len, cut, out_len;
	uint64_t before = reason_count(LB_DROP_TRUNCATED), runs = 0;
	int v;

	len = pkt_build(s, in);
	/* BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header. */
	for (cut = 14; cut < len; cut++) {
		v = run(E.prog, in, cut, out, &out_len);
		runs++;
		CHECK(v == XDP_DROP, "length %zu: verdict %d, want XDP_DROP", cut, v);
		CHECK(out_len == cut && !memcmp(out, in, cut), "length %zu: packet changed", cut);
		if (v != XDP_DROP)
			break;
	}
	CHECK(reason_count(LB_DROP_TRUNCATED) == before + runs, "truncations not all counted");
	CHECK(ct_count() == 0, "a truncated packet created a flow");
}

static void fx_truncations(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 47000);

	setup(4, 4, LB_FWD_IPIP, 0);
	s.ip_opts = 8;
	s.nvlan = 2;
	truncations(&s);
	s = tcp_spec(6, 0x02, 47001);
	setup(6, 6, LB_FWD_IPIP, 0);
	truncations(&s);
	s = tcp_spec(4, 0, 47002);
	s.proto = IPPROTO_UDP;
	s.nvlan = 1;
	truncations(&s);
}

static void fx_malformed_drop(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 48000);
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;
	uint64_t before;
	int v;

	setup(4, 4, LB_FWD_IPIP, 0);
	len = pkt_build(&s, in);
	struct {
		size_t off;
		uint8_t val;
		const char *what;
	} cases[] = {
		{14, 0x44, "IHL 4"},
		{14, 0x55, "version 5"},
		{14 + 2, 0, "total length < header"},
		{14 + 20 + 12, 0x40, "TCP data offset 4"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t bad[PKT_MAX];

		memcpy(bad, in, len);
		bad[cases[i].off] = cases[i].val;
		if (cases[i].off == 16)
			bad[17] = 10;
		before = reason_count(LB_DROP_MALFORMED);
		v = run(E.prog, bad, len, out, &out_len);
		CHECK(v == XDP_DROP, "%s: verdict %d", cases[i].what, v);
		CHECK(reason_count(LB_DROP_MALFORMED) == before + 1, "%s: not counted",
			cases[i].what);
	}
	/* IPv6 with a wrong version nibble. */
	s = tcp_spec(6, 0x02, 48001);
	len = pkt_build(&s, in);
	in[14] = 0x45;
	before = reason_count(LB_DROP_MALFORMED);
	v = run(E.prog, in, len, out, &out_len);
	CHECK(v == XDP_DROP && reason_count(LB_DROP_MALFORMED) == before + 1, "IPv6 version");
}

static void fx_other_traffic_passes(void)
{
	struct pkt_spec s = tcp_spec(4, 0, 0);
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;
	int v;

	setup(4, 4, LB_FWD_IPIP, 0);
	/* ARP */
	len = pkt_build(&s, in);
	in[12] = 0x08;
	in[13] = 0x06;
	v = run(E.prog, in, len, out, &out_len);
	CHECK(v == XDP_PASS && reason_count(LB_PASS_NOT_IP) == 1, "ARP");
	/* GRE to the VIP */
	len = pkt_build(&s, in);
	in[14 + 9] = 47;
	v = run(E.prog, in, len, out, &out_len);
	CHECK(v == XDP_PASS && reason_count(LB_PASS_NOT_L4) == 1, "GRE");
	/* ICMP echo to the VIP */
	s.proto = IPPROTO_ICMP;
	len = pkt_build(&s, in);
	in[14 + 20] = 8;
	in[14 + 21] = 0;
	v = run(E.prog, in, len, out, &out_len);
	CHECK(v == XDP_PASS && reason_count(LB_PASS_ICMP) == 1, "ICMP echo");
	/* IPv6 with a hop-by-hop header */
	s = tcp_spec(6, 0x02, 1000);
	len = pkt_build(&s, in);
	in[14 + 6] = 0;
	v = run(E.prog, in, len, out, &out_len);
	CHECK(v == XDP_PASS && reason_count(LB_PASS_IPV6_EXT) == 1, "IPv6 extension header");
	/* UDP to a TCP-only service */
	s = tcp_spec(4, 0, 1001);
	s.proto = IPPROTO_UDP;
	expect_verdict(&s, XDP_PASS, LB_PASS_NO_SERVICE);
}

/* An ICMP error quoting the VIP's reply of <flow_spec>'s flow, sent by a router. */
static struct pkt_spec icmp_about(const struct pkt_spec *flow_spec, struct pkt_spec *quote)
{
	struct pkt_spec s = *flow_spec;

	*quote = *flow_spec;
	quote->src = flow_spec->dst;
	quote->dst = flow_spec->src;
	quote->sport = flow_spec->dport;
	quote->dport = flow_spec->sport;
	quote->tcp_flags = 0x10;
	quote->payload = 0;
	s.src = flow_spec->family == 4 ? "203.0.113.254" : "2001:db8:cafe::fe";
	s.proto = flow_spec->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	s.quote = quote;
	s.payload = 0;
	return s;
}

static void icmp_case(int family)
{
	struct pkt_spec syn = tcp_spec(family, 0x02, 49000), quote, err;
	struct lb_flow_key key;
	uint32_t x, others[1];

	setup(family, family, LB_FWD_IPIP, 0);
	flow_of(&syn, &key);
	x = mg_expect(&key, IDS, 3, false);
	expect_fwd(&syn, family, x, LB_FWD_IPIP);
	others[0] = (x + 1) % 3;
	mg_publish(0, others, 1);
	err = icmp_about(&syn, &quote);
	/* Conntrack holds the flow: the error goes to x although the table says otherwise. */
	expect_fwd_key(&err, family, x, LB_FWD_IPIP, &key);
	/* Without conntrack it follows the flow's hash in the current table. */
	ct_del(&key);
	expect_fwd_key(&err, family, others[0], LB_FWD_IPIP, &key);
	CHECK(ct_count() == 0, "an ICMP error created a flow");
	CHECK(svc_stats(0).new_flows == 1, "an ICMP error counted as a new flow");
}

static void fx_icmp_frag_needed_follows_flow(void)
{
	icmp_case(4);
}

static void fx_icmp6_too_big_follows_flow(void)
{
	icmp_case(6);
}

static void fx_icmp_error_not_about_vip_passes(void)
{
	struct pkt_spec syn = tcp_spec(4, 0x02, 49100), quote, err;

	setup(4, 4, LB_FWD_IPIP, 0);
	syn.dst = "192.0.2.201";
	err = icmp_about(&syn, &quote);
	err.dst = VIP4;
	expect_verdict(&err, XDP_PASS, LB_PASS_ICMP);
}

/* Backend ids 0..2 without <x>. */
static size_t without(uint32_t x, uint32_t *ids)
{
	size_t n = 0;

	for (uint32_t i = 0; i < 3; i++)
		if (i != x)
			ids[n++] = i;
	return n;
}

static void fx_drained_backend_keeps_flows(void)
{
	struct pkt_spec syn = tcp_spec(4, 0x02, 50000), ack = tcp_spec(4, 0x10, 50000);
	struct lb_flow_key key;
	uint32_t x, rest[3];
	size_t n;
	int i, got;

	setup(4, 4, LB_FWD_IPIP, 0);
	flow_of(&syn, &key);
	x = mg_expect(&key, IDS, 3, false);
	CHECK(send_to(&syn) == (int)x, "SYN");
	n = without(x, rest);
	mg_publish(0, rest, n);
	be_set(x, 4, BE4[x], 0, LB_BE_DRAIN, 1);
	CHECK(send_to(&ack) == (int)x, "a drained backend lost its flow");
	for (i = 0; i < 30; i++) {
		syn.sport = (uint16_t)(50100 + i);
		flow_of(&syn, &key);
		got = send_to(&syn);
		CHECK(got != (int)x && got == (int)mg_expect(&key, rest, n, false),
			"new flow %d went to %d", i, got);
	}
}

static void fx_down_backend_loses_flows(void)
{
	struct pkt_spec syn = tcp_spec(4, 0x02, 51000), ack = tcp_spec(4, 0x10, 51000);
	struct lb_flow_key key;
	struct lb_flow f;
	uint32_t x, rest[3];
	size_t n;
	int got;

	setup(4, 4, LB_FWD_IPIP, 0);
	flow_of(&syn, &key);
	x = mg_expect(&key, IDS, 3, false);
	CHECK(send_to(&syn) == (int)x, "SYN");
	n = without(x, rest);
	mg_publish(0, rest, n);
	be_set(x, 4, BE4[x], 0, LB_BE_DOWN, 1);
	got = send_to(&ack);
	CHECK(got == (int)mg_expect(&key, rest, n, false), "flow went to %d", got);
	CHECK(ct_get(&key, &f) && f.backend == (uint32_t)got, "conntrack not updated");
	/* A deleted backend (slot freed) loses its flows the same way. */
	be_set(x, 4, BE4[x], 0, LB_BE_UP, 1);
	ct_put(&key, &(struct lb_flow){.backend = x}, BPF_ANY);
	bpf_map_update_elem(E.backends, &x, &(struct lb_backend){}, BPF_ANY);
	got = send_to(&ack);
	CHECK(got == (int)mg_expect(&key, rest, n, false), "flow of a deleted backend: %d", got);
}

static void fx_stats_counted(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 52000);
	uint8_t in[PKT_MAX];
	uint64_t bytes = 0, pkts = 0, be_pkts = 0;
	int i;

	setup(4, 4, LB_FWD_IPIP, 0);
	for (i = 0; i < 10; i++) {
		s.sport = (uint16_t)(52000 + i);
		s.tcp_flags = 0x02;
		bytes += pkt_build(&s, in);
		CHECK(send_to(&s) >= 0, "SYN %d", i);
		s.tcp_flags = 0x10;
		bytes += pkt_build(&s, in);
		CHECK(send_to(&s) >= 0, "ACK %d", i);
		pkts += 2;
	}
	CHECK(svc_stats(0).packets == pkts, "service packets %llu",
		(unsigned long long)svc_stats(0).packets);
	CHECK(svc_stats(0).bytes == bytes, "service bytes");
	CHECK(svc_stats(0).new_flows == 10, "service new flows");
	for (i = 0; i < 3; i++)
		be_pkts += be_stats(i).packets;
	CHECK(be_pkts == pkts, "backend packets add up to %llu", (unsigned long long)be_pkts);
	CHECK(reason_count(LB_FWD_TX) == pkts, "LB_FWD_TX");
	CHECK(ct_count() == 10, "conntrack holds %d flows", ct_count());
}

static void fx_l7_service_passes(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 53000);

	svc_add(4, VIP4, 80, IPPROTO_TCP, 0, LB_MODE_L7, LB_ALGO_MAGLEV, LB_FWD_IPIP, 0);
	expect_verdict(&s, XDP_PASS, LB_PASS_L7);
	CHECK(ct_count() == 0, "an l7 packet created a flow");
}

static void fx_all_ports_service(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 54000);
	struct lb_flow_key key;
	struct lb_node n;
	__u32 zero = 0;
	int i;

	svc_add(4, VIP4, 0, IPPROTO_TCP, 0, LB_MODE_L4, LB_ALGO_MAGLEV, LB_FWD_IPIP, 0);
	for (i = 0; i < 3; i++)
		be_set(i, 4, BE4[i], 0, LB_BE_UP, 1);
	mg_publish(0, IDS, 3);
	s.dport = 8443;
	flow_of(&s, &key);
	expect_fwd(&s, 4, mg_expect(&key, IDS, 3, false), LB_FWD_IPIP);
	/* An exact port wins over the all-ports service. */
	svc_add(4, VIP4, 8443, IPPROTO_TCP, 1, LB_MODE_L7, LB_ALGO_MAGLEV, LB_FWD_IPIP, 0);
	expect_verdict(&s, XDP_PASS, LB_PASS_L7);
	/* The program looks for an all-ports service only when the node's flag says one
	 * exists (the control plane keeps it): without it, another port is no service. */
	s.dport = 9000;
	CHECK(bpf_map_lookup_elem(E.node, &zero, &n) == 0 && (n.flags & LB_NODE_F_ALL_PORTS),
		"all-ports flag not set");
	n.flags &= (__u8)~LB_NODE_F_ALL_PORTS;
	bpf_map_update_elem(E.node, &zero, &n, BPF_ANY);
	expect_verdict(&s, XDP_PASS, LB_PASS_NO_SERVICE);
	CHECK(ct_count() == 1, "a packet to no service created a flow");
	node_set(&n);
	flow_of(&s, &key);
	expect_fwd(&s, 4, mg_expect(&key, IDS, 3, false), LB_FWD_IPIP);
	/* Deleting the last all-ports service clears the flag. */
	svc_del(4, VIP4, 0, IPPROTO_TCP);
	CHECK(bpf_map_lookup_elem(E.node, &zero, &n) == 0 && !(n.flags & LB_NODE_F_ALL_PORTS),
		"all-ports flag left set");
}

static void fx_tcp_rst_and_fin(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 55000);
	struct lb_flow_key key;
	struct lb_flow f;

	setup(4, 4, LB_FWD_IPIP, 0);
	flow_of(&s, &key);
	CHECK(send_to(&s) >= 0, "SYN");
	s.tcp_flags = 0x11; /* FIN+ACK */
	CHECK(send_to(&s) >= 0, "FIN");
	CHECK(ct_get(&key, &f) && (f.flags & LB_FLOW_F_FIN), "FIN not recorded");
	s.tcp_flags = 0x14; /* RST+ACK */
	CHECK(send_to(&s) >= 0, "RST not forwarded");
	CHECK(!ct_get(&key, &f), "RST left the flow in conntrack");
	/* A RST of an unknown flow is forwarded and creates nothing. */
	s.sport = 55001;
	CHECK(send_to(&s) >= 0, "RST of unknown flow");
	CHECK(ct_count() == 0, "RST created a flow");
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fx_udp_flow_timeout(void)
{
	struct pkt_spec s = tcp_spec(4, 0, 56000);
	struct lb_flow_key key;
	struct lb_flow f;
	uint32_t x, other[1];

	s.proto = IPPROTO_UDP;
	svc_add(4, VIP4, 80, IPPROTO_UDP, 0, LB_MODE_L4, LB_ALGO_MAGLEV, LB_FWD_IPIP, 0);
	for (int i = 0; i < 3; i++)
		be_set(i, 4, BE4[i], 0, LB_BE_UP, 1);
	mg_publish(0, IDS, 3);
	flow_of(&s, &key);
	x = mg_expect(&key, IDS, 3, false);
	CHECK(send_to(&s) == (int)x, "first datagram");
	other[0] = (x + 1) % 3;
	mg_publish(0, other, 1);
	CHECK(send_to(&s) == (int)x, "a live UDP flow moved");
	/* Idle for longer than the timeout: the next datagram is a new flow. */
	CHECK(ct_get(&key, &f), "no UDP flow");
	f.last_seen = mono_ns() - (LB_DEFAULT_UDP_TIMEOUT + 5) * 1000000000ull;
	ct_put(&key, &f, BPF_EXIST);
	CHECK(send_to(&s) == (int)other[0], "an idle UDP flow kept its backend");
	CHECK(ct_count() == 1 && ct_get(&key, &f) && f.backend == other[0] &&
			f.last_seen > mono_ns() - 5000000000ull,
		"idle UDP entry not renewed");
	CHECK(svc_stats(0).new_flows == 2, "new flows %llu",
		(unsigned long long)svc_stats(0).new_flows);
}

static void fx_ketama_ring(void)
{
	struct lb_ring_point pts[12];
	struct pkt_spec s = tcp_spec(4, 0x02, 57000);
	struct lb_flow_key key;
	uint32_t h, want;
	int i, j;

	svc_add(4, VIP4, 80, IPPROTO_TCP, 0, LB_MODE_L4, LB_ALGO_KETAMA, LB_FWD_IPIP, 0);
	for (i = 0; i < 3; i++)
		be_set(i, 4, BE4[i], 0, LB_BE_UP, 1);
	for (i = 0; i < 12; i++) {
		pts[i].hash = (uint32_t)(i + 1) * 0x13000000u;
		pts[i].backend = (uint32_t)(i * 7) % 3;
	}
	ring_publish(0, pts, 12);
	for (i = 0; i < 40; i++) {
		s.sport = (uint16_t)(57000 + i * 13);
		flow_of(&s, &key);
		h = flow_hash(&key, false);
		want = pts[0].backend; /* wrap-around */
		for (j = 0; j < 12; j++) {
			if (pts[j].hash >= h) {
				want = pts[j].backend;
				break;
			}
		}
		CHECK(send_to(&s) == (int)want, "flow %d (hash %08x) not on its point", i, h);
	}
	/* A one-point ring sends everything to that point. */
	pts[0].backend = 2;
	ring_publish(0, pts, 1);
	s.sport = 58000;
	CHECK(send_to(&s) == 2, "one-point ring");
}

static void fx_source_hash_affinity(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 59000);
	struct lb_flow_key key;
	uint32_t want;
	int i;

	setup(4, 4, LB_FWD_IPIP, LB_SVC_F_HASH_SRC);
	flow_of(&s, &key);
	want = mg_expect(&key, IDS, 3, true);
	for (i = 0; i < 20; i++) {
		s.sport = (uint16_t)(59000 + i * 101);
		CHECK(send_to(&s) == (int)want, "port %u left the client's backend", s.sport);
	}
	expect_fwd(&s, 4, want, LB_FWD_IPIP);
}

static void fx_too_big_dropped(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 60000);
	struct lb_node n;

	setup(4, 4, LB_FWD_IPIP, 0);
	node_default(&n);
	n.mtu = 14 + 20 + 20 + 32; /* fits the inner packet, not the outer header */
	n.mtu = 20 + 20 + 32 + 19;
	node_set(&n);
	expect_verdict(&s, XDP_DROP, LB_DROP_TOO_BIG);
	n.mtu = 20 + 20 + 32 + 20; /* exactly fits */
	node_set(&n);
	CHECK(send_to(&s) >= 0, "a packet that fits was dropped");
}

/* The ICMP error the balancer should answer <in> (<l2> bytes of L2) with: MACs swapped, the
 * VIP to the client, "fragmentation needed" / "packet too big" for <mtu>, quoting the first
 * bytes of the client's packet. Returns its length. */
static size_t icmp_expect(const uint8_t *in, size_t l2, int family, uint16_t mtu, uint8_t *out)
{
	const uint8_t *ip = in + l2;
	uint8_t *o = out + l2;
	size_t quote = family == 4 ? 28 : 48, len;
	uint32_t sum;

	memcpy(out, in + 6, 6);
	memcpy(out + 6, in, 6);
	memcpy(out + 12, in + 12, l2 - 12);
	if (family == 4) {
		memset(o, 0, 28);
		o[0] = 0x45;
		o[3] = 20 + 8 + 28;
		o[8] = 64;
		o[9] = IPPROTO_ICMP;
		memcpy(o + 12, ip + 16, 4);
		memcpy(o + 16, ip + 12, 4);
		sum = pkt_fold(pkt_sum(o, 20, 0));
		o[10] = sum >> 8;
		o[11] = sum & 0xff;
		o[20] = 3;
		o[21] = 4;
		o[26] = mtu >> 8;
		o[27] = mtu & 0xff;
		memcpy(o + 28, ip, quote);
		sum = pkt_fold(pkt_sum(o + 20, 8 + quote, 0));
		o[22] = sum >> 8;
		o[23] = sum & 0xff;
		len = l2 + 28 + quote;
	} else {
		memset(o, 0, 48);
		o[0] = 0x60;
		o[5] = 8 + 48;
		o[6] = IPPROTO_ICMPV6;
		o[7] = 64;
		memcpy(o + 8, ip + 24, 16);
		memcpy(o + 24, ip + 8, 16);
		o[40] = 2;
		o[46] = mtu >> 8;
		o[47] = mtu & 0xff;
		memcpy(o + 48, ip, quote);
		sum = pkt_sum(o + 8, 32, 0) + 56 + IPPROTO_ICMPV6;
		sum = pkt_fold(pkt_sum(o + 40, 8 + quote, sum));
		o[42] = sum >> 8;
		o[43] = sum & 0xff;
		len = l2 + 48 + quote;
	}
	return len;
}

static void fx_too_big_answered_with_icmp(void)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	struct pkt_spec s = tcp_spec(4, 0x10, 60100);
	size_t len, out_len, want_len;
	struct lb_node n;
	const char *bad;
	int v, family;

	for (family = 4; family <= 6; family += 2) {
		s = tcp_spec(family, 0x10, 60100);
		s.payload = 600;
		s.nvlan = family == 4 ? 1 : 0;
		s.vlan[0] = 5;
		s.frag = family == 4 ? 0x4000 : 0; /* DF */
		setup(family, family, LB_FWD_GUE, 0);
		node_default(&n);
		n.mtu = 600; /* less than the packet: it cannot be encapsulated */
		node_set(&n);
		len = pkt_build(&s, in);
		v = run(E.prog, in, len, out, &out_len);
		CHECK(v == XDP_TX, "IPv%d: verdict %d, want XDP_TX", family, v);
		want_len = icmp_expect(in, 14 + 4 * (size_t)s.nvlan, family,
			(uint16_t)(600 - (family == 4 ? 28 : 48)), want);
		same_bytes(out, out_len, want, want_len);
		bad = pkt_check_csums(out, out_len, 14 + 4 * (size_t)s.nvlan);
		CHECK(!bad, "IPv%d: %s", family, bad);
		CHECK(reason_count(LB_REPLY_TOO_BIG) == (family == 4 ? 1u : 2u),
			"IPv%d: not counted", family);
		CHECK(ct_count() == (family == 4 ? 1 : 2), "the flow should still be tracked");
	}
	/* IPv4 with options: dropped, counted (the quote would need the whole header). */
	s = tcp_spec(4, 0x10, 60101);
	s.payload = 600;
	s.frag = 0x4000;
	s.ip_opts = 4;
	setup(4, 4, LB_FWD_IPIP, 0);
	node_set(&n);
	expect_verdict(&s, XDP_DROP, LB_DROP_TOO_BIG);
	/* An ICMP error is never answered with one. */
	{
		struct pkt_spec syn = tcp_spec(4, 0x02, 60102), quote, err;

		err = icmp_about(&syn, &quote);
		err.payload = 700;
		expect_verdict(&err, XDP_DROP, LB_DROP_TOO_BIG);
	}
}

static void fx_config_errors_drop(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 61000);
	struct lb_node n;

	/* A service without a table. */
	svc_add(4, VIP4, 80, IPPROTO_TCP, 0, LB_MODE_L4, LB_ALGO_MAGLEV, LB_FWD_IPIP, 0);
	expect_verdict(&s, XDP_DROP, LB_DROP_NO_BACKEND);
	/* A table slot naming a free backend slot. */
	mg_publish(0, IDS, 3);
	expect_verdict(&s, XDP_DROP, LB_DROP_NO_BACKEND);
	/* An IPv6 service cannot reach an IPv4 backend. */
	s = tcp_spec(6, 0x02, 61001);
	setup(6, 4, LB_FWD_IPIP, 0);
	expect_verdict(&s, XDP_DROP, LB_DROP_FAMILY);
	/* No outer source address configured. */
	s = tcp_spec(4, 0x02, 61002);
	setup(4, 4, LB_FWD_IPIP, 0);
	node_default(&n);
	memset(&n.src4, 0, sizeof(n.src4));
	node_set(&n);
	expect_verdict(&s, XDP_DROP, LB_DROP_NO_CONFIG);
	/* No gateway MAC and no route (no ingress interface in a test run). */
	node_default(&n);
	n.flags = 0;
	node_set(&n);
	s.sport = 61003;
	expect_verdict(&s, XDP_DROP, LB_DROP_NO_ROUTE);
}

static void fx_redirect_via_tx_ports(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 62000);
	uint8_t out[PKT_MAX];
	struct lb_node n;
	struct lb_tx_port port;
	__u32 ifindex = if_nametoindex("pxt0");
	size_t out_len;
	int v;

	CHECK(ifindex > 0, "no test interface pxt0");
	setup(4, 4, LB_FWD_IPIP, 0);
	node_default(&n);
	n.egress_ifindex = ifindex;
	n.src_mac[0] = 0x02;
	n.src_mac[5] = 0x77;
	node_set(&n);
	/* Not in lb_tx_ports yet. */
	expect_verdict(&s, XDP_DROP, LB_DROP_NO_TX_PORT);
	port.ifindex = ifindex;
	CHECK(!bpf_map_update_elem(E.tx, &ifindex, &port, BPF_ANY), "lb_tx_ports update: %s",
		strerror(errno));
	s.sport = 62001;
	v = run_spec(&s, out, &out_len);
	CHECK(v == XDP_REDIRECT, "verdict %d, want XDP_REDIRECT", v);
	CHECK(out[6] == 0x02 && out[11] == 0x77, "configured source MAC not used");
	CHECK(reason_count(LB_FWD_REDIRECT) == 1, "LB_FWD_REDIRECT");
	/* Egress on the receiving interface (lo in a test run) is XDP_TX. */
	n.egress_ifindex = 1;
	node_set(&n);
	s.sport = 62002;
	CHECK(run_spec(&s, out, &out_len) == XDP_TX, "egress = ingress is not XDP_TX");
}

/* Encapsulate with the balancer, decapsulate with lb_decap: the original frame comes back
 * with the outer MACs. */
static void decap_roundtrip(const struct pkt_spec *s, int be_family, uint8_t fwd)
{
	uint8_t in[PKT_MAX], mid[PKT_MAX], out[PKT_MAX];
	size_t len, mid_len, out_len;
	int v;

	setup(s->family, be_family, fwd, 0);
	len = pkt_build(s, in);
	v = run(E.prog, in, len, mid, &mid_len);
	CHECK(v == XDP_TX, "balancer verdict %d", v);
	v = run(E.decap_prog, mid, mid_len, out, &out_len);
	CHECK(v == XDP_PASS, "decap verdict %d", v);
	memcpy(in, mid, 12);
	same_bytes(out, out_len, in, len);
}

static void fx_decap(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 63000);
	uint64_t st[5 * 64] = {0}, sum[5] = {0};
	__u32 zero = 0;
	int c, k;

	decap_roundtrip(&s, 4, LB_FWD_IPIP);
	decap_roundtrip(&s, 6, LB_FWD_IPIP);
	decap_roundtrip(&s, 4, LB_FWD_GUE);
	decap_roundtrip(&s, 6, LB_FWD_GUE);
	s.nvlan = 1;
	s.vlan[0] = 7;
	decap_roundtrip(&s, 4, LB_FWD_IPIP);
	s = tcp_spec(6, 0x02, 63001);
	decap_roundtrip(&s, 6, LB_FWD_IPIP);
	decap_roundtrip(&s, 6, LB_FWD_GUE);
	/* Plain traffic passes untouched. */
	{
		uint8_t in[PKT_MAX], out[PKT_MAX];
		size_t len = pkt_build(&s, in), out_len;

		CHECK(run(E.decap_prog, in, len, out, &out_len) == XDP_PASS, "plain packet");
		same_bytes(out, out_len, in, len);
		/* IPIP with nothing inside is dropped and counted. */
		s = tcp_spec(4, 0x02, 1);
		len = pkt_build(&s, in);
		in[14 + 9] = IPPROTO_IPIP;
		in[14 + 20] = 0x00;
		CHECK(run(E.decap_prog, in, len, out, &out_len) == XDP_DROP, "empty IPIP");
	}
	if (E.ncpu <= 64 && !bpf_map_lookup_elem(E.decap_stats, &zero, st)) {
		for (c = 0; c < E.ncpu; c++)
			for (k = 0; k < 5; k++)
				sum[k] += st[c * 5 + k];
		CHECK(sum[0] == 3 && sum[1] == 1 && sum[2] == 3 && sum[4] == 1,
			"decap counters ipip %llu ip6ip6 %llu gue %llu errors %llu",
			(unsigned long long)sum[0], (unsigned long long)sum[1],
			(unsigned long long)sum[2], (unsigned long long)sum[4]);
	}
}

/* Drops counted in the CPUs' lb_deny_last caches. */
static uint64_t deny_cached(void)
{
	struct lb_deny_last last[256];
	uint64_t sum = 0;
	uint32_t zero = 0;

	if (E.ncpu > 256 || bpf_map_lookup_elem(E.deny_last, &zero, last))
		return 0;
	for (int i = 0; i < E.ncpu; i++)
		sum += last[i].packets;
	return sum;
}

/* What the control plane does with every change of lb_deny: a new generation. */
static void deny_gen_bump(void)
{
	struct lb_deny_plens pl = {};
	uint32_t zero = 0;

	bpf_map_lookup_elem(E.deny_plens, &zero, &pl);
	pl.gen++;
	CHECK(!bpf_map_update_elem(E.deny_plens, &zero, &pl, BPF_ANY), "lb_deny_plens gen");
}

/* Zero the <n> 8-byte values of array <fd>. */
static void zero_array_fd(int fd, uint32_t n)
{
	uint64_t z = 0;

	for (uint32_t i = 0; i < n; i++)
		bpf_map_update_elem(fd, &i, &z, BPF_ANY);
}

/* A denied source's packets are dropped before the service lookup, counted under the entry's
 * reason and on the entry; another source is balanced as before. */
static void fx_deny_drops_source(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 56000), other = tcp_spec(4, 0x02, 56001);
	struct lb_deny d;

	setup(4, 4, LB_FWD_IPIP, 0);
	deny_set(4, CLIENT4, 32, 0, LB_DENY_ADMIN, false);
	expect_verdict(&s, XDP_DROP, LB_DROP_DENY_ADMIN);
	s.tcp_flags = 0x10;
	expect_verdict(&s, XDP_DROP, LB_DROP_DENY_ADMIN);
	CHECK(ct_count() == 0, "a denied SYN created a flow");
	CHECK(deny_get(4, CLIENT4, 32, &d) && d.packets + deny_cached() == 2,
		"entry packets %llu, cached %llu", (unsigned long long)d.packets,
		(unsigned long long)deny_cached());
	other.src = "203.0.113.8";
	CHECK(send_to(&other) >= 0, "another source was not forwarded");
	CHECK(reason_count(LB_DROP_DENY_LIMIT) == 0, "counted under the wrong reason");
}

/* A prefix entry pushed by pingd (reason limit) covers its whole IPv6 /64, for traffic to a
 * service and to anything else (the host's own ports too); the next /64 is not denied. */
static void fx_deny_prefix_v6(void)
{
	struct pkt_spec s = tcp_spec(6, 0x02, 56100);

	setup(6, 6, LB_FWD_IPIP, 0);
	deny_set(6, "2001:db8:cafe::", 64, 0, LB_DENY_LIMIT, false);
	s.src = "2001:db8:cafe::99";
	expect_verdict(&s, XDP_DROP, LB_DROP_DENY_LIMIT);
	s.dst = "2001:db8:200::1";
	expect_verdict(&s, XDP_DROP, LB_DROP_DENY_LIMIT);
	s = tcp_spec(6, 0x02, 56101);
	s.src = "2001:db8:caff::7";
	expect_verdict(&s, XDP_TX, LB_FWD_TX);
}

/* An expired entry denies nothing and the program removes it; an entry whose length is not
 * listed in lb_deny_plens is not looked for; with several lengths listed, each is tried. */
static void fx_deny_expiry_and_lengths(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 56200);
	struct timespec ts;
	struct lb_deny d;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	setup(4, 4, LB_FWD_IPIP, 0);
	/* A second ago: the program reads the coarse clock, up to a tick behind. */
	deny_set(4, CLIENT4, 32, now - 1000000000ull, LB_DENY_LIMIT, false);
	expect_verdict(&s, XDP_TX, LB_FWD_TX);
	CHECK(!deny_get(4, CLIENT4, 32, &d), "the expired entry is still there");
	deny_set(4, CLIENT4, 24, 0, LB_DENY_ADMIN, true);
	s.sport++;
	expect_verdict(&s, XDP_TX, LB_FWD_TX);
	/* /32 and /16 listed, the entry at /16: the second length finds it. */
	deny_set(4, CLIENT4, 16, now + 3600000000000ull, LB_DENY_ADMIN, false);
	s.sport++;
	expect_verdict(&s, XDP_DROP, LB_DROP_DENY_ADMIN);
	CHECK(reason_count(LB_DROP_DENY_LIMIT) == 0, "expired entry counted a drop");
	/* lb_deny_filter is a prefilter: its bit clear, the entry is not looked for (the
	 * control plane sets the bit before it writes the entry). */
	zero_array_fd(E.deny_filter, LB_DENY_FILTER_WORDS);
	deny_gen_bump();
	s.sport++;
	expect_verdict(&s, XDP_TX, LB_FWD_TX);
}

/* lb_deny_last: a CPU's last match drops the next packets of its prefix without the hash
 * lookup, and only while its generation is current: an entry deleted (a new generation)
 * denies nothing more. */
static void fx_deny_last_cache(void)
{
	struct pkt_spec s = tcp_spec(4, 0x02, 56300);
	struct lb_deny d;
	struct lb_deny_key k = {.family = LB_AF_INET, .plen = 24};

	setup(4, 4, LB_FWD_IPIP, 0);
	deny_set(4, CLIENT4, 24, 0, LB_DENY_LIMIT, false);
	expect_verdict(&s, XDP_DROP, LB_DROP_DENY_LIMIT);
	/* The entry goes without a new generation: the cache alone still drops. */
	inet_pton(AF_INET, CLIENT4, k.addr.bytes);
	k.addr.bytes[3] = 0;
	CHECK(!bpf_map_delete_elem(E.deny, &k), "delete the entry");
	s.sport++;
	expect_verdict(&s, XDP_DROP, LB_DROP_DENY_LIMIT);
	CHECK(deny_cached() == 1, "cached drops %llu", (unsigned long long)deny_cached());
	/* ... and a new generation ends that. */
	deny_gen_bump();
	s.sport++;
	expect_verdict(&s, XDP_TX, LB_FWD_TX);
	CHECK(!deny_get(4, CLIENT4, 24, &d), "the deleted entry came back");
}

/* The per-source new-flow guard: at 2/s with a burst of 1, a source's third SYN at once is
 * dropped (drop_src_rate) while another source and the established flows of the first go on;
 * new UDP flows are metered as SYNs are, packets of a tracked UDP flow are not; a refilled
 * bucket lets the source in again. */
static void fx_src_guard(void)
{
	struct lb_src_rate r = {.rate = 2, .burst = 1};
	struct pkt_spec s = tcp_spec(4, 0x02, 57000), ack = tcp_spec(4, 0x10, 57000);
	struct pkt_spec other = tcp_spec(4, 0x02, 57100);
	struct lb_src_bucket b = {0};
	struct lb_src_key k = {.svc = 0, .family = LB_AF_INET};
	uint32_t id = 0;
	int i;

	setup(4, 4, LB_FWD_IPIP, 0);
	CHECK(!bpf_map_update_elem(E.src_rate, &id, &r, BPF_ANY), "lb_src_rate update");
	for (i = 0; i < 2; i++) {
		s.sport = (uint16_t)(57000 + i);
		CHECK(send_to(&s) >= 0, "SYN %d within the burst was not forwarded", i);
	}
	s.sport = 57002;
	expect_verdict(&s, XDP_DROP, LB_DROP_SRC_RATE);
	CHECK(send_to(&ack) >= 0, "an established flow of the limited source was dropped");
	other.src = "203.0.113.9";
	CHECK(send_to(&other) >= 0, "another source was limited");
	CHECK(reason_count(LB_DROP_SRC_RATE) == 1, "drop_src_rate %llu",
		(unsigned long long)reason_count(LB_DROP_SRC_RATE));
	/* The bucket refilled (its time moved back): the source may open a flow again. */
	inet_pton(AF_INET, CLIENT4, k.addr.bytes);
	CHECK(!bpf_map_update_elem(E.src_bucket, &k, &b, BPF_ANY), "bucket reset");
	CHECK(send_to(&s) >= 0, "a refilled source was not forwarded");

	/* UDP: the first packets of new flows take tokens, a tracked flow's packets do not. */
	svc_add(4, VIP4, 53, IPPROTO_UDP, 1, LB_MODE_L4, LB_ALGO_MAGLEV, LB_FWD_IPIP, 0);
	mg_publish(1, IDS, 3);
	id = 1;
	CHECK(!bpf_map_update_elem(E.src_rate, &id, &r, BPF_ANY), "lb_src_rate update");
	s = tcp_spec(4, 0, 58000);
	s.proto = IPPROTO_UDP;
	s.dport = 53;
	for (i = 0; i < 5; i++)
		CHECK(send_to(&s) >= 0, "packet %d of one UDP flow was dropped", i);
	s.sport = 58001;
	CHECK(send_to(&s) >= 0, "a second UDP flow within the burst was dropped");
	s.sport = 58002;
	expect_verdict(&s, XDP_DROP, LB_DROP_SRC_RATE);
}

const struct fixture fixtures[] = {
	{"ipv4_syn_ipip", fx_ipv4_syn_ipip},
	{"ipv6_syn_ip6ip6", fx_ipv6_syn_ip6ip6},
	{"ipv4_in_ipv6", fx_ipv4_in_ipv6},
	{"non_vip_passes", fx_non_vip_passes},
	{"conntrack_across_table_change", fx_conntrack_across_table_change},
	{"established_service_by_backend", fx_established_service_by_backend},
	{"syn_rewrites_tracked_flow", fx_syn_rewrites_tracked_flow},
	{"outer_src_from_flow", fx_outer_src_from_flow},
	{"flow_guard", fx_flow_guard},
	{"vip_filter", fx_vip_filter},
	{"flow_guard_window", fx_flow_guard_window},
	{"conntrack_shared_survives_republish", fx_conntrack_shared_survives_republish},
	{"conntrack_set_keeps_active_flows", fx_conntrack_set_keeps_active_flows},
	{"conntrack_torn_slot_is_a_miss", fx_conntrack_torn_slot_is_a_miss},
	{"conntrack_seed_places_flows", fx_conntrack_seed_places_flows},
	{"gue_ipv4", fx_gue_ipv4},
	{"gue_ipv6", fx_gue_ipv6},
	{"gue_ipv4_in_ipv6", fx_gue_ipv4_in_ipv6},
	{"gue_port_configured", fx_gue_port_configured},
	{"l2_dsr", fx_l2_dsr},
	{"vlan_one_tag", fx_vlan_one_tag},
	{"vlan_qinq", fx_vlan_qinq},
	{"vlan_three_tags_pass", fx_vlan_three_tags_pass},
	{"ipv4_options", fx_ipv4_options},
	{"fragments_pass", fx_fragments_pass},
	{"truncations", fx_truncations},
	{"malformed_drop", fx_malformed_drop},
	{"other_traffic_passes", fx_other_traffic_passes},
	{"icmp_frag_needed_follows_flow", fx_icmp_frag_needed_follows_flow},
	{"icmp6_too_big_follows_flow", fx_icmp6_too_big_follows_flow},
	{"icmp_error_not_about_vip_passes", fx_icmp_error_not_about_vip_passes},
	{"drained_backend_keeps_flows", fx_drained_backend_keeps_flows},
	{"down_backend_loses_flows", fx_down_backend_loses_flows},
	{"stats_counted", fx_stats_counted},
	{"l7_service_passes", fx_l7_service_passes},
	{"all_ports_service", fx_all_ports_service},
	{"tcp_rst_and_fin", fx_tcp_rst_and_fin},
	{"udp_flow_timeout", fx_udp_flow_timeout},
	{"ketama_ring", fx_ketama_ring},
	{"source_hash_affinity", fx_source_hash_affinity},
	{"too_big_dropped", fx_too_big_dropped},
	{"too_big_answered_with_icmp", fx_too_big_answered_with_icmp},
	{"config_errors_drop", fx_config_errors_drop},
	{"redirect_via_tx_ports", fx_redirect_via_tx_ports},
	{"decap", fx_decap},
	{"deny_drops_source", fx_deny_drops_source},
	{"deny_prefix_v6", fx_deny_prefix_v6},
	{"deny_expiry_and_lengths", fx_deny_expiry_and_lengths},
	{"deny_last_cache", fx_deny_last_cache},
	{"src_guard", fx_src_guard},
	{NULL, NULL},
};
