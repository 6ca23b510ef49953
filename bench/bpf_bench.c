// SPDX-License-Identifier: GPL-2.0
/* pingx-bpf-bench: nanoseconds per packet of the XDP balancer through BPF_PROG_TEST_RUN, for a
 * TCP SYN (of a tracked 4-tuple, and of a new flow every pass), an established flow (conntrack
 * hit) and a packet to a non-VIP address over IPv4, the last three over IPv6 too, each against
 * the floor (the same harness tail-calling an empty XDP_TX program, restoring the same packet)
 * measured in the same run. Every pass restores the input first
 * (bench.bpf.c). lb_xdp runs with the flow guard on (the default) and off; --peer loads another
 * balancer object with Katran's map layout (bpf-bench.sh says how to build one) and measures it
 * in the same rounds, the programs' order reversed every other round. Prints medians of ROUNDS,
 * in ns above the floor, and pingx's ratios to each peer.
 * With --veth, packets per second through a veth pair instead: a live-frames generator in
 * namespace NS_A sends out of IF_A; IF_B in NS_B runs the floor (XDP_TX) or the balancer
 * (encapsulate, XDP_TX), and IF_A counts what comes back; a --peer balancer is attached to
 * IF_B in the same rounds, with the same VIP, backends and next hop.
 * Usage: pingx-bpf-bench [--peer NAME=OBJECT]... [ROUNDS [REPEAT]]
 *        pingx-bpf-bench --veth [--peer NAME=OBJECT] NS_A IF_A NS_B IF_B [ROUNDS [FRAMES]] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/bench.skel.h"
#include "bpf/lb.skel.h"
#include "tests/bpf/pkt.h"
#include "userspace/ctrl/ctrl.h"

#define NCASE	    7
#define BENCH_COPY  60 /* bytes the harness restores, as in bench.bpf.c */
#define BENCH_COPY6 80 /* ... of an input this long or longer */
#define MAX_TARGETS 10
#define NBASE	    5    /* floor, pingx, pingx_noguard, pingx_deny1, pingx_deny8 */
#define DENY_FILL   4096 /* lb_deny entries at each of the lengths, none matching */
#define MAX_CPUS    256

__attribute__((format(printf, 2, 0))) static int quiet(
	enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Give the harness (bench.bpf.c's bench_input) the packet <pkt> of <len> bytes to restore on
 * every pass, with <vary_off> as there. */
static int input_set(int input_map, const uint8_t *pkt, size_t len, __u32 vary_off)
{
	struct {
		__u32 len;
		__u32 vary_off;
		__u8 data[BENCH_COPY6];
	} in = {.len = (__u32)len, .vary_off = vary_off};
	__u32 zero = 0;

	memcpy(in.data, pkt, len < BENCH_COPY6 ? BENCH_COPY : BENCH_COPY6);
	return bpf_map_update_elem(input_map, &zero, &in, BPF_ANY);
}

/* ns per pass of <prog> on <pkt>, restored every pass; -1 on error. */
static double measure(int prog, int input_map, const uint8_t *pkt, size_t len, int repeat, int want,
	__u32 vary_off)
{
	static uint8_t out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		.data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (input_set(input_map, pkt, len, vary_off))
		return -1;
	if (bpf_prog_test_run_opts(prog, &o) || (int)o.retval != want) {
		fprintf(stderr, "bench: test run failed: %s, verdict %u (want %d)\n",
			strerror(errno), o.retval, want);
		return -1;
	}
	return o.duration;
}

/* A program measured beside the floor: pingx's lb_xdp (under a node flow-guard setting), or a
 * peer balancer loaded from an object file. */
struct target {
	char name[32];
	int prog;	  /* fd of the program the harness tail-calls */
	bool pingx;	  /* lb_xdp: set flow_rate in lb_node before measuring */
	__u32 flow_rate;  /* lb_node.flow_rate while measured */
	int deny_lens;	  /* lb_deny_plens: prefix lengths in use per family (none match) */
	const char *path;	/* a peer's object file */
	struct bpf_object *obj; /* a peer's object once opened, else NULL */
	int lru[MAX_CPUS]; /* a peer's per-CPU flow tables, -1 when unused */
	int ncpu;
	bool skip; /* left out by BENCH_TARGETS */
};

/* The flow and VIP layouts of a Katran-style balancer object (its balancer_structs.h): the
 * harness writes them the way that balancer's userspace would. */
struct peer_flow_key {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};
struct peer_lru_val {
	__u32 pos;
	__u32 pad;
	__u64 atime;
};
struct peer_vip_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto;
	__u8 pad;
};
struct peer_vip_meta {
	__u32 flags;
	__u32 vip_num;
};
struct peer_real {
	__be32 addr[4];
	__u8 flags;
	__u8 pad[3];
};
struct peer_ctl {
	__u8 mac[8];
};
#define PEER_F_IPV6 1 /* a real's flags: an IPv6 address (Katran's F_IPV6) */

/* A VIP as a peer is given it: its address (the first word only for IPv4) and three reals. */
struct peer_vip {
	bool v6;
	__be32 addr[4];
	__be32 reals[3][4];
};

/* Katran's ring size and its userspace's table split: RING_SIZE slots per VIP, the flow table
 * size divided among the forwarding CPUs (KatranLb::initLrus). */
#define PEER_RING_SIZE 65537

static int peer_fd(struct bpf_object *obj, const char *map)
{
	int fd = bpf_object__find_map_fd_by_name(obj, map);

	if (fd < 0)
		fprintf(stderr, "bench: peer object has no map %s\n", map);
	return fd;
}

/* Load the balancer object at <path> as target <t>: the <nvip> TCP VIPs <vips> on port <port>
 * (VIP n: number n, reals 3n + 1 .. 3n + 3 spread over its ring), next hop <gw_mac>, and
 * per-CPU flow tables of LB_MAX_FLOWS entries in all. Returns 0 or -1 (with a message). */
static int peer_load(struct target *t, const char *path, const struct peer_vip *vips, int nvip,
	__be16 port, const uint8_t *gw_mac)
{
	struct peer_ctl ctl = {};
	struct bpf_program *prog;
	int vip_map, real_map, ring_map, ctl_map, lru_map, i, v;
	__u32 k, *keys = NULL, *vals = NULL, count;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	t->obj = bpf_object__open_file(path, NULL);
	if (!t->obj || bpf_object__load(t->obj)) {
		fprintf(stderr, "bench: cannot load %s\n", path);
		return -1;
	}
	prog = bpf_object__find_program_by_name(t->obj, "balancer_ingress");
	if (!prog) {
		fprintf(stderr, "bench: %s has no program balancer_ingress\n", path);
		return -1;
	}
	t->prog = bpf_program__fd(prog);
	vip_map = peer_fd(t->obj, "vip_map");
	real_map = peer_fd(t->obj, "reals");
	ring_map = peer_fd(t->obj, "ch_rings");
	ctl_map = peer_fd(t->obj, "ctl_array");
	lru_map = peer_fd(t->obj, "lru_mapping");
	if (vip_map < 0 || real_map < 0 || ring_map < 0 || ctl_map < 0 || lru_map < 0)
		return -1;
	memcpy(ctl.mac, gw_mac, 6);
	k = 0;
	if (bpf_map_update_elem(ctl_map, &k, &ctl, BPF_ANY))
		goto fail;
	keys = calloc(PEER_RING_SIZE, sizeof(*keys));
	vals = calloc(PEER_RING_SIZE, sizeof(*vals));
	if (!keys || !vals)
		goto fail;
	for (v = 0; v < nvip; v++) {
		const struct peer_vip *pv = &vips[v];
		struct peer_vip_key vk = {.port = port, .proto = IPPROTO_TCP};
		struct peer_vip_meta vm = {.flags = 0, .vip_num = (__u32)v};

		memcpy(vk.addr, pv->addr, pv->v6 ? 16 : 4);
		if (bpf_map_update_elem(vip_map, &vk, &vm, BPF_ANY))
			goto fail;
		for (i = 0; i < 3; i++) {
			struct peer_real r = {.flags = pv->v6 ? PEER_F_IPV6 : 0};

			memcpy(r.addr, pv->reals[i], pv->v6 ? 16 : 4);
			k = (__u32)(3 * v + i) + 1; /* real ids start at 1 */
			if (bpf_map_update_elem(real_map, &k, &r, BPF_ANY))
				goto fail;
		}
		for (k = 0; k < PEER_RING_SIZE; k++) {
			keys[k] = (__u32)v * PEER_RING_SIZE + k;
			vals[k] = (__u32)(3 * v) + 1 + k % 3;
		}
		count = PEER_RING_SIZE;
		if (bpf_map_update_batch(ring_map, keys, vals, &count, &bo))
			goto fail;
	}
	t->ncpu = libbpf_num_possible_cpus();
	if (t->ncpu > MAX_CPUS)
		t->ncpu = MAX_CPUS;
	for (i = 0; i < t->ncpu; i++) {
		__u32 cpu = (__u32)i;

		t->lru[i] = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "peer_lru",
			sizeof(struct peer_flow_key), sizeof(struct peer_lru_val),
			LB_MAX_FLOWS / (__u32)t->ncpu, NULL);
		if (t->lru[i] < 0 || bpf_map_update_elem(lru_map, &cpu, &t->lru[i], BPF_ANY))
			goto fail;
	}
	free(keys);
	free(vals);
	return 0;
fail:
	fprintf(stderr, "bench: filling the maps of %s: %s\n", path, strerror(errno));
	free(keys);
	free(vals);
	return -1;
}

/* Record the flow <flow> in every flow table of <t> (pingx: its family's, the backend
 * through <c> with service <k>), so that an established case measures a flow-table hit
 * whatever earlier cases evicted or a flow guard refused. */
static int prime_flow(struct target *t, struct ctrl *c, const struct lb_svc_key *k,
	const struct lb_flow_key *flow)
{
	int i;

	if (t->pingx) {
		struct lb_flow f = {};
		bool from_ct;

		if (ctrl_flow_backend(c, k, flow, false, &f.backend, &from_ct))
			return -1;
		return ctrl_ct_put(c, flow, &f);
	}
	if (!t->obj)
		return 0;
	for (i = 0; i < t->ncpu; i++) {
		struct peer_flow_key pk = {.sport = flow->sport, .dport = flow->dport,
			.proto = flow->proto};
		struct peer_lru_val v = {.pos = 1};

		memcpy(pk.src, flow->src.bytes, flow->family == LB_AF_INET6 ? 16 : 4);
		memcpy(pk.dst, flow->dst.bytes, flow->family == LB_AF_INET6 ? 16 : 4);
		if (bpf_map_update_elem(t->lru[i], &pk, &v, BPF_ANY))
			return -1;
	}
	return 0;
}

/* Name target <t> and its object's path from "NAME=OBJECT" <arg>; -1 when malformed. */
static int peer_arg(struct target *t, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(t->name))
		return -1;
	snprintf(t->name, sizeof(t->name), "%.*s", (int)(eq - arg), arg);
	t->path = eq + 1;
	return 0;
}

static int veth_main(int argc, char **argv);

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--veth"))
		return veth_main(argc - 1, argv + 1);
	struct target tg[MAX_TARGETS] = {};
	int ntg = 0, rounds = 9, repeat = 2000000, argi = 1, t, j;
	const char *only;
	bool use_min;
	char pin[96];
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin);
	struct lb_svc conf = {.table_size = 65537};
	/* 60 bytes: Ethernet, IPv4, TCP and 6 bytes of payload; 80 with IPv6. */
	struct pkt_spec s = {.family = 4,
		.src = "203.0.113.7",
		.dst = "192.0.2.100",
		.proto = IPPROTO_TCP,
		.sport = 40000,
		.dport = 80,
		.payload = 6};
	struct pkt_spec s6 = s;
	/* syn_tracked repeats one SYN: after the first pass the flow table holds its 4-tuple
	 * (a retransmitted SYN, a reused port), and the SYN only rechecks the table. syn_new
	 * changes the source address on every pass: a new flow each time, which evicts the
	 * least recently used one once the table is full (the steady state of a busy node) or
	 * meets the flow guard. established finds its flow in the table (primed before it).
	 * The last three are the same over IPv6 (IP6IP6 to IPv6 backends; syn_new6 changes the
	 * source's last 4 bytes). */
	static const char *const names[NCASE] = {"syn_tracked", "syn_new", "established", "non_vip",
		"syn_new6", "established6", "non_vip6"};
	static const int verdicts[NCASE] = {
		XDP_TX, XDP_TX, XDP_TX, XDP_PASS, XDP_TX, XDP_TX, XDP_PASS};
	static const __u32 vary[NCASE] = {0, 14 + 12, 0, 0, 14 + 8 + 12, 0, 0};
	static double ns[NCASE][MAX_TARGETS][64];
	uint8_t pkts[NCASE][PKT_MAX];
	size_t lens[NCASE];
	struct bench_bpf *bb = NULL;
	struct lb_bpf *lb = NULL;
	struct ctrl *c = NULL;
	struct lb_svc_key k = {.family = LB_AF_INET, .proto = IPPROTO_TCP};
	struct lb_svc_key k6 = {.family = LB_AF_INET6, .proto = IPPROTO_TCP};
	struct lb_node node = {.flags = LB_NODE_F_GW_MAC, .gw_mac = {2, 0, 0, 0, 0, 0xfe}};
	struct lb_flow_key est = {.family = LB_AF_INET, .proto = IPPROTO_TCP};
	struct lb_flow_key est6 = {.family = LB_AF_INET6, .proto = IPPROTO_TCP};
	struct peer_vip vips[2] = {{.v6 = false}, {.v6 = true}};
	int err = 1, i, r, target, input, restore, deny_plens = -1;
	struct lb_deny_plens plens_full = {};
	__u32 zero = 0;

	for (t = 0; t < MAX_TARGETS; t++)
		for (i = 0; i < MAX_CPUS; i++)
			tg[t].lru[i] = -1;
	/* Peers come first on the command line: --peer NAME=OBJECT, repeatable. */
	ntg = NBASE;
	while (argi + 1 < argc && !strcmp(argv[argi], "--peer")) {
		if (ntg == MAX_TARGETS || peer_arg(&tg[ntg], argv[argi + 1])) {
			fprintf(stderr, "bench: --peer NAME=OBJECT (at most %d)\n", MAX_TARGETS - NBASE);
			return 2;
		}
		ntg++;
		argi += 2;
	}
	/* BENCH_ONLY=CASE measures one case only (for profiling with perf). */
	only = getenv("BENCH_ONLY");
	/* BENCH_MIN=1 prints each program's fastest round instead of the median: on a machine
	 * shared with other work, the least disturbed round. */
	use_min = getenv("BENCH_MIN") && !strcmp(getenv("BENCH_MIN"), "1");
	if (argi < argc)
		rounds = atoi(argv[argi++]);
	if (argi < argc)
		repeat = atoi(argv[argi++]);
	if (rounds < 1 || rounds > 64 || repeat < 1 || argi < argc) {
		fprintf(stderr, "usage: %s [--peer NAME=OBJECT]... [ROUNDS [REPEAT]]\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench: needs root\n");
		return 1;
	}
	libbpf_set_print(quiet);
	snprintf(pin, sizeof(pin), "%s/pingx-bench-%d", PINGX_BPF_DIR_MNT, (int)getpid());
	/* The program's load creates and pins the maps (libbpf 1.1 cannot reuse a pinned
	 * DEVMAP), then the control plane opens them. */
	if (mkdir(pin, 0700) && errno != EEXIST) {
		fprintf(stderr, "bench: mkdir %s: %s\n", pin, strerror(errno));
		return 1;
	}
	lb = lb_bpf__open_opts(&oo);
	bb = bench_bpf__open_and_load();
	if (!lb || !bb || lb_bpf__load(lb)) {
		fprintf(stderr, "bench: loading the programs failed\n");
		goto out;
	}
	c = ctrl_open(pin, CTRL_F_CREATE);
	if (!c) {
		fprintf(stderr, "bench: maps in %s: %s\n", pin, strerror(errno));
		goto out;
	}
	inet_pton(AF_INET, "192.0.2.1", node.src4.bytes);
	inet_pton(AF_INET6, "2001:db8::1", node.src6.bytes);
	inet_pton(AF_INET, "192.0.2.100", k.addr.bytes);
	inet_pton(AF_INET6, "2001:db8::100", k6.addr.bytes);
	k.port = k6.port = htons(80);
	if (ctrl_node_set(c, &node) || ctrl_svc_add(c, &k, &conf, NULL) ||
		ctrl_svc_add(c, &k6, &conf, NULL))
		goto out;
	memcpy(vips[0].addr, k.addr.bytes, 4);
	memcpy(vips[1].addr, k6.addr.bytes, 16);
	for (i = 0; i < 3; i++) {
		struct lb_backend b = {.family = LB_AF_INET, .weight = 1};
		struct lb_backend b6 = {.family = LB_AF_INET6, .weight = 1};
		char a[32];

		snprintf(a, sizeof(a), "198.51.100.%d", 10 + i);
		inet_pton(AF_INET, a, b.addr.bytes);
		snprintf(a, sizeof(a), "2001:db8:1::%d", 10 + i);
		inet_pton(AF_INET6, a, b6.addr.bytes);
		memcpy(vips[0].reals[i], b.addr.bytes, 4);
		memcpy(vips[1].reals[i], b6.addr.bytes, 16);
		if (ctrl_be_add(c, &k, &b, NULL) || ctrl_be_add(c, &k6, &b6, NULL))
			goto out;
	}
	snprintf(tg[0].name, sizeof(tg[0].name), "floor");
	tg[0].prog = bpf_program__fd(bb->progs.bench_tx);
	snprintf(tg[1].name, sizeof(tg[1].name), "pingx");
	tg[1].prog = bpf_program__fd(lb->progs.lb_xdp);
	tg[1].pingx = true;
	tg[1].flow_rate = 0; /* the default guard */
	/* BENCH_PROG_PIN=FILE (on a bpffs) pins lb_xdp as loaded here, for `bpftool prog dump
	 * xlated pinned FILE`; remove FILE afterwards. */
	if (getenv("BENCH_PROG_PIN") && bpf_obj_pin(tg[1].prog, getenv("BENCH_PROG_PIN")))
		fprintf(stderr, "bench: pin %s: %s\n", getenv("BENCH_PROG_PIN"), strerror(errno));
	snprintf(tg[2].name, sizeof(tg[2].name), "pingx_noguard");
	tg[2].prog = tg[1].prog;
	tg[2].pingx = true;
	tg[2].flow_rate = LB_FLOW_RATE_OFF;
	/* The deny check on the path of packets it does not drop: lb_deny holding 8 x DENY_FILL
	 * prefixes of 10.0.0.0/8 and 8 x DENY_FILL / 2 of 2001:db8:dead::/48 (none matches a
	 * client), with one length in use in each family and with eight (the most a family may
	 * have: each costs a hash lookup). */
	for (t = 3; t < 5; t++) {
		snprintf(tg[t].name, sizeof(tg[t].name), "pingx_deny%d", t == 3 ? 1 : 8);
		tg[t].prog = tg[1].prog;
		tg[t].pingx = true;
		tg[t].deny_lens = t == 3 ? 1 : 8;
	}
	for (i = 0; i < DENY_FILL; i++) {
		for (int l = 0; l < 8; l++) {
			struct lb_deny_key dk = {.family = LB_AF_INET, .plen = (__u8)(32 - l)};

			/* 10.I.I.128/(32 - l): the last octet's top bit stays set, and the
			 * syn_new case's sources (a counter, low byte first) never reach it. */
			dk.addr.v4 = htonl((10u << 24) | ((__u32)i << 8) | 128u) & htonl(~0u << l);
			if (ctrl_deny_add(c, &dk, 0, LB_DENY_ADMIN))
				goto out;
			/* 2001:db8:dead:I::/(128 - l), far from the IPv6 cases' sources; half as
			 * many (lb_deny is an LRU hash of LB_MAX_DENY: kept well short of full). */
			if (i >= DENY_FILL / 2)
				continue;
			memset(&dk, 0, sizeof(dk));
			dk.family = LB_AF_INET6;
			dk.plen = (__u8)(128 - l);
			inet_pton(AF_INET6, "2001:db8:dead::", dk.addr.bytes);
			dk.addr.bytes[6] = (__u8)(i >> 8);
			dk.addr.bytes[7] = (__u8)i;
			if (ctrl_deny_add(c, &dk, 0, LB_DENY_ADMIN))
				goto out;
		}
	}
	/* BENCH_TARGETS=NAME,NAME measures those programs only, besides the floor (fewer
	 * programs per round: a quicker A/B comparison of one of them against a peer). */
	if (getenv("BENCH_TARGETS")) {
		const char *list = getenv("BENCH_TARGETS"), *m;
		size_t n;

		for (t = 1; t < ntg; t++) {
			tg[t].skip = true;
			for (m = list; *m; m += n + (m[n] == ',')) {
				n = strcspn(m, ",");
				if (n == strlen(tg[t].name) && !strncmp(m, tg[t].name, n))
					tg[t].skip = false;
			}
		}
	}
	deny_plens = ctrl_map_fd(c, "lb_deny_plens");
	if (ctrl_deny_plens(c, &plens_full) || deny_plens < 0)
		goto out;
	for (t = NBASE; t < ntg; t++)
		if (peer_load(&tg[t], tg[t].path, vips, 2, k.port, node.gw_mac))
			goto out;
	s6.family = 6;
	s6.src = "2001:db8:ff::7";
	s6.dst = "2001:db8::100";
	s.tcp_flags = s6.tcp_flags = 0x02;
	lens[0] = pkt_build(&s, pkts[0]);
	lens[1] = pkt_build(&s, pkts[1]);
	lens[4] = pkt_build(&s6, pkts[4]);
	s.tcp_flags = s6.tcp_flags = 0x10;
	lens[2] = pkt_build(&s, pkts[2]);
	lens[5] = pkt_build(&s6, pkts[5]);
	s.dst = "192.0.2.200";
	s6.dst = "2001:db8::200";
	lens[3] = pkt_build(&s, pkts[3]);
	lens[6] = pkt_build(&s6, pkts[6]);
	est.src.v4 = inet_addr("203.0.113.7");
	est.dst.v4 = k.addr.v4;
	inet_pton(AF_INET6, "2001:db8:ff::7", est6.src.bytes);
	est6.dst = k6.addr;
	est.sport = est6.sport = htons(40000);
	est.dport = est6.dport = htons(80);

	target = bpf_map__fd(bb->maps.bench_target);
	input = bpf_map__fd(bb->maps.bench_input);
	restore = bpf_program__fd(bb->progs.bench_restore);
	/* Every program in every round, in an order reversed every other round, so that all see
	 * the same machine load and none always runs right after another. */
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NCASE; i++) {
			if (only && strcmp(only, names[i]))
				continue;
			for (j = 0; j < ntg; j++) {
				struct target *x = &tg[r % 2 ? ntg - 1 - j : j];
				int want = x == &tg[0] ? XDP_TX : verdicts[i];

				if (x->skip)
					continue;
				if (x->pingx) {
					struct lb_deny_plens pl = plens_full;

					node.flow_rate = x->flow_rate;
					if (ctrl_node_set(c, &node))
						goto out;
					pl.n4 = pl.n6 = (__u8)x->deny_lens;
					if (bpf_map_update_elem(deny_plens, &zero, &pl, BPF_ANY))
						goto out;
				}
				if ((i == 2 && prime_flow(x, c, &k, &est)) ||
					(i == 5 && prime_flow(x, c, &k6, &est6))) {
					fprintf(stderr, "bench: priming %s: %s\n", x->name,
						strerror(errno));
					goto out;
				}
				bpf_map_update_elem(target, &zero, &x->prog, BPF_ANY);
				ns[i][x - tg][r] = measure(
					restore, input, pkts[i], lens[i], repeat, want, vary[i]);
				if (ns[i][x - tg][r] < 0)
					goto out;
			}
		}
	}
	printf("XDP balancers, BPF_PROG_TEST_RUN, %zu-byte IPv4 and %zu-byte IPv6 packets restored "
	       "every pass, %d rounds x %d passes, %s, ns per packet above the floor\n",
		lens[0], lens[4], rounds, repeat, use_min ? "minima" : "medians");
	printf("%-12s %8s", "case", "floor");
	for (t = 1; t < ntg; t++)
		printf(" %14s", tg[t].name);
	printf("\n");
	{
		double med[NCASE][MAX_TARGETS];

		for (i = 0; i < NCASE; i++) {
			for (t = 0; t < ntg; t++) {
				qsort(ns[i][t], (size_t)rounds, sizeof(double), cmp_double);
				med[i][t] = ns[i][t][use_min ? 0 : rounds / 2];
			}
			if (only && strcmp(only, names[i]))
				continue;
			printf("%-12s %8.1f", names[i], med[i][0]);
			for (t = 1; t < ntg; t++) {
				if (tg[t].skip)
					printf(" %14s", "-");
				else
					printf(" %14.1f", med[i][t] - med[i][0]);
			}
			printf("\n");
		}
		/* The deny check's cost where it drops nothing: what one length in use, and eight,
		 * add to pingx with lb_deny empty (which reads one array entry). */
		/* A figure that needs a program BENCH_TARGETS left out prints as -. */
		printf("\n%-12s %18s %18s\n", "case", "deny1 - pingx", "deny8 - pingx");
		for (i = 0; i < NCASE; i++) {
			if (only && strcmp(only, names[i]))
				continue;
			printf("%-12s", names[i]);
			for (t = 3; t < 5; t++) {
				if (tg[1].skip || tg[t].skip)
					printf(" %18s", "-");
				else
					printf(" %18.1f", med[i][t] - med[i][1]);
			}
			printf("\n");
		}
		/* Ratios above the floor: pingx (guard on, and off) against every peer. */
		for (t = NBASE; t < ntg; t++) {
			if (tg[t].skip)
				continue;
			printf("\n%-12s %18s %24s\n", "case", "pingx / ", "pingx_noguard / ");
			for (i = 0; i < NCASE; i++) {
				if (only && strcmp(only, names[i]))
					continue;
				printf("%-12s", names[i]);
				for (j = 1; j < 3; j++) {
					if (tg[j].skip)
						printf(" %*s %8s", j == 1 ? 9 : 15, tg[t].name, "-");
					else
						printf(" %*s %8.2f", j == 1 ? 9 : 15, tg[t].name,
							(med[i][j] - med[i][0]) /
								(med[i][t] - med[i][0]));
				}
				printf("\n");
			}
		}
	}
	err = 0;
out:
	for (t = NBASE; t < ntg; t++) {
		for (i = 0; i < MAX_CPUS; i++)
			if (tg[t].lru[i] >= 0)
				close(tg[t].lru[i]);
		bpf_object__close(tg[t].obj);
	}
	bench_bpf__destroy(bb);
	lb_bpf__destroy(lb);
	ctrl_close(c);
	if (ctrl_destroy(pin))
		fprintf(stderr, "bench: could not remove %s\n", pin);
	return err;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int enter_ns(const char *name)
{
	char path[128];
	int fd, err;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return err;
}

static int mac_of(const char *ifname, uint8_t *mac)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : 0;
	if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static __u64 rx_count(int map, int ncpu)
{
	__u64 v[256] = {0}, sum = 0;
	__u32 zero = 0;
	int i;

	if (ncpu > 256 || bpf_map_lookup_elem(map, &zero, v))
		return 0;
	for (i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

/* The per-CPU counter the drop phase reads: bench_rx (the floor) or lb_reasons[reason]. */
struct drop_ctr {
	int map;
	__u32 key;
};

static __u64 ctr_read(const struct drop_ctr *d, int ncpu)
{
	__u64 v[256] = {0}, sum = 0;

	if (ncpu > 256 || bpf_map_lookup_elem(d->map, &d->key, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

/* Send <frames> copies of <pkt> from <ifindex_a> (current namespace) and return the frames
 * per second that side B dropped, counted by <d>. */
static double veth_drop_run(struct bench_bpf *bb, int ifindex_a, const uint8_t *pkt, size_t len,
	int frames, const struct drop_ctr *d)
{
	struct xdp_md ctx = {.data_end = (__u32)len, .ingress_ifindex = (__u32)ifindex_a};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = frames,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	int ncpu = libbpf_num_possible_cpus();
	__u64 before = ctr_read(d, ncpu), after;
	double t0, t1;

	t0 = now_s();
	if (bpf_prog_test_run_opts(bpf_program__fd(bb->progs.bench_restore), &o)) {
		fprintf(stderr, "bench: live frames: %s\n", strerror(errno));
		return -1;
	}
	usleep(100000); /* frames still queued in the peer's ring */
	t1 = now_s() - 0.1;
	after = ctr_read(d, ncpu);
	return (double)(after - before) / (t1 - t0);
}

/* Send <frames> copies of <pkt> from <ifindex_a> (current namespace) and return the frames
 * per second that came back, counted by bench_count. */
static double veth_run(
	struct bench_bpf *bb, int ifindex_a, const uint8_t *pkt, size_t len, int frames)
{
	struct xdp_md ctx = {.data_end = (__u32)len, .ingress_ifindex = (__u32)ifindex_a};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = frames,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	int ncpu = libbpf_num_possible_cpus(), rx = bpf_map__fd(bb->maps.bench_rx);
	__u64 before = rx_count(rx, ncpu), after;
	double t0, t1;

	t0 = now_s();
	if (bpf_prog_test_run_opts(bpf_program__fd(bb->progs.bench_restore), &o)) {
		fprintf(stderr, "bench: live frames: %s\n", strerror(errno));
		return -1;
	}
	usleep(100000); /* frames still queued in the peers' rings */
	t1 = now_s() - 0.1;
	after = rx_count(rx, ncpu);
	return (double)(after - before) / (t1 - t0);
}

static int veth_main(int argc, char **argv)
{
	const char *ns_a, *if_a, *ns_b, *if_b;
	int rounds, frames, err = 1, r, ifa, ifb, self, link_cnt = -1, link_tx = -1;
	double floor_pps[64], lb_pps[64], drop_pps[64], deny_pps[64], peer_pps[64];
	double peer_ratio[64], lb_ratio[64];
	struct target peer = {.prog = -1};
	struct peer_vip vip = {.v6 = false};
	struct drop_ctr dc_floor, dc_deny;
	struct lb_deny_key dk = {.family = LB_AF_INET, .plen = 32};
	char pin[96];
	struct pkt_spec s = {.family = 4,
		.src = "203.0.113.7",
		.dst = "192.0.2.100",
		.proto = IPPROTO_TCP,
		.sport = 40000,
		.dport = 80,
		.tcp_flags = 0x10,
		.payload = 10};
	struct lb_svc_key k = {.family = LB_AF_INET, .proto = IPPROTO_TCP};
	struct lb_node node = {.flags = LB_NODE_F_GW_MAC};
	struct lb_svc conf = {.table_size = 65537};
	struct bench_bpf *bb = NULL;
	struct ctrl *c = NULL;
	uint8_t pkt[PKT_MAX];
	size_t len;
	__u32 zero = 0;
	int i, tx_fd;

	for (i = 0; i < MAX_CPUS; i++)
		peer.lru[i] = -1;
	if (argc > 2 && !strcmp(argv[1], "--peer")) {
		if (peer_arg(&peer, argv[2])) {
			fprintf(stderr, "bench: --peer NAME=OBJECT\n");
			return 2;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: pingx-bpf-bench --veth [--peer NAME=OBJECT] NS_A IF_A NS_B "
				"IF_B [ROUNDS [FRAMES]]\n");
		return 2;
	}
	ns_a = argv[1];
	if_a = argv[2];
	ns_b = argv[3];
	if_b = argv[4];
	rounds = argc > 5 ? atoi(argv[5]) : 5;
	frames = argc > 6 ? atoi(argv[6]) : 2000000;
	if (rounds < 1 || rounds > 64 || frames < 1)
		return 2;
	libbpf_set_print(quiet);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(pin, sizeof(pin), "%s/pingx-vbench-%d", PINGX_BPF_DIR_MNT, (int)getpid());
	bb = bench_bpf__open_and_load();
	if (!bb || self < 0) {
		fprintf(stderr, "bench: loading the harness failed\n");
		goto out;
	}
	/* Side B: the maps and the service; the balancer or the floor is attached per round. */
	if (enter_ns(ns_a) || mac_of(if_a, node.gw_mac) || enter_ns(ns_b)) {
		fprintf(stderr, "bench: namespaces %s/%s: %s\n", ns_a, ns_b, strerror(errno));
		goto out;
	}
	ifb = (int)if_nametoindex(if_b);
	c = ctrl_open(pin, CTRL_F_CREATE);
	if (!c || !ifb) {
		fprintf(stderr, "bench: %s: %s\n", c ? if_b : pin, strerror(errno));
		goto out;
	}
	inet_pton(AF_INET, "192.0.2.1", node.src4.bytes);
	inet_pton(AF_INET, "192.0.2.100", k.addr.bytes);
	memcpy(vip.addr, k.addr.bytes, 4);
	k.port = htons(80);
	if (ctrl_node_set(c, &node) || ctrl_svc_add(c, &k, &conf, NULL))
		goto out;
	for (i = 0; i < 3; i++) {
		struct lb_backend b = {.family = LB_AF_INET, .weight = 1};
		char a[32];

		snprintf(a, sizeof(a), "198.51.100.%d", 10 + i);
		inet_pton(AF_INET, a, b.addr.bytes);
		if (ctrl_be_add(c, &k, &b, NULL))
			goto out;
		memcpy(vip.reals[i], b.addr.bytes, 4);
	}
	if (peer.path && peer_load(&peer, peer.path, &vip, 1, k.port, node.gw_mac))
		goto out;
	/* Side A: count what comes back; the generator's own frames go out of IF_A. */
	if (enter_ns(ns_a))
		goto out;
	ifa = (int)if_nametoindex(if_a);
	link_cnt = bpf_link_create(bpf_program__fd(bb->progs.bench_count), ifa, BPF_XDP,
		&(struct bpf_link_create_opts){
			.sz = sizeof(struct bpf_link_create_opts), .flags = XDP_FLAGS_DRV_MODE});
	if (link_cnt < 0) {
		fprintf(stderr, "bench: attach on %s: %s\n", if_a, strerror(errno));
		goto out;
	}
	memcpy(s.dmac, node.gw_mac, 6); /* any MAC: veth XDP does not filter */
	len = pkt_build(&s, pkt);
	if (input_set(bpf_map__fd(bb->maps.bench_input), pkt, len, 0))
		goto out;
	tx_fd = bpf_program__fd(bb->progs.bench_tx);
	bpf_map_update_elem(bpf_map__fd(bb->maps.bench_target), &zero, &tx_fd, BPF_ANY);
	for (r = 0; r < rounds; r++) {
		/* Floor: XDP_TX without looking at the frame. */
		if (enter_ns(ns_b))
			goto out;
		link_tx = bpf_link_create(tx_fd, ifb, BPF_XDP,
			&(struct bpf_link_create_opts){.sz = sizeof(struct bpf_link_create_opts),
				.flags = XDP_FLAGS_DRV_MODE});
		if (link_tx < 0 || enter_ns(ns_a))
			goto out;
		floor_pps[r] = veth_run(bb, ifa, pkt, len, frames);
		close(link_tx); /* detaches */
		link_tx = -1;
		/* The balancer, established flow: conntrack hit, IPIP, XDP_TX. */
		if (enter_ns(ns_b) || ctrl_attach(c, if_b, CTRL_XDP_NATIVE, NULL) || enter_ns(ns_a))
			goto out;
		lb_pps[r] = veth_run(bb, ifa, pkt, len, frames);
		if (enter_ns(ns_b) || ctrl_detach(c, if_b) || enter_ns(ns_a))
			goto out;
		if (floor_pps[r] < 0 || lb_pps[r] < 0)
			goto out;
		lb_ratio[r] = lb_pps[r] / floor_pps[r];
		/* The peer, the same flow: its flow-table hit after the first frame, IPIP,
		 * XDP_TX. */
		if (peer.path) {
			if (enter_ns(ns_b))
				goto out;
			link_tx = bpf_link_create(peer.prog, ifb, BPF_XDP,
				&(struct bpf_link_create_opts){
					.sz = sizeof(struct bpf_link_create_opts),
					.flags = XDP_FLAGS_DRV_MODE});
			if (link_tx < 0 || enter_ns(ns_a))
				goto out;
			peer_pps[r] = veth_run(bb, ifa, pkt, len, frames);
			close(link_tx);
			link_tx = -1;
			if (peer_pps[r] <= 0)
				goto out;
			peer_ratio[r] = peer_pps[r] / floor_pps[r];
		}
		/* Drops: an XDP_DROP program counting per CPU (bench_count), then the balancer
		 * with the generator's source in lb_deny (one length in use), counted by its
		 * drop_deny_admin reason. Both count once and drop. */
		if (enter_ns(ns_b))
			goto out;
		link_tx = bpf_link_create(bpf_program__fd(bb->progs.bench_count), ifb, BPF_XDP,
			&(struct bpf_link_create_opts){.sz = sizeof(struct bpf_link_create_opts),
				.flags = XDP_FLAGS_DRV_MODE});
		if (link_tx < 0 || enter_ns(ns_a))
			goto out;
		dc_floor.map = bpf_map__fd(bb->maps.bench_rx);
		dc_floor.key = 0;
		drop_pps[r] = veth_drop_run(bb, ifa, pkt, len, frames, &dc_floor);
		close(link_tx);
		link_tx = -1;
		dk.addr.v4 = inet_addr("203.0.113.7");
		dc_deny.map = ctrl_map_fd(c, "lb_reasons");
		dc_deny.key = LB_DROP_DENY_ADMIN;
		if (enter_ns(ns_b) || ctrl_deny_add(c, &dk, 0, LB_DENY_ADMIN) ||
			ctrl_attach(c, if_b, CTRL_XDP_NATIVE, NULL) || enter_ns(ns_a))
			goto out;
		deny_pps[r] = veth_drop_run(bb, ifa, pkt, len, frames, &dc_deny);
		if (enter_ns(ns_b) || ctrl_detach(c, if_b) || ctrl_deny_del(c, &dk) ||
			enter_ns(ns_a))
			goto out;
		if (drop_pps[r] < 0 || deny_pps[r] < 0)
			goto out;
	}
	qsort(floor_pps, (size_t)rounds, sizeof(double), cmp_double);
	qsort(lb_pps, (size_t)rounds, sizeof(double), cmp_double);
	qsort(lb_ratio, (size_t)rounds, sizeof(double), cmp_double);
	qsort(drop_pps, (size_t)rounds, sizeof(double), cmp_double);
	qsort(deny_pps, (size_t)rounds, sizeof(double), cmp_double);
	printf("veth pair, native XDP, %d rounds x %d frames of %zu bytes, medians\n", rounds,
		frames, len);
	/* The ratios are the medians of each round's, a round's floor and balancers measured
	 * back to back. */
	printf("%-26s %8.2f Mpps\n%-26s %8.2f Mpps   (%.2f of the floor)\n", "floor (XDP_TX)",
		floor_pps[rounds / 2] / 1e6, "balancer (established)", lb_pps[rounds / 2] / 1e6,
		lb_ratio[rounds / 2]);
	if (peer.path) {
		qsort(peer_pps, (size_t)rounds, sizeof(double), cmp_double);
		qsort(peer_ratio, (size_t)rounds, sizeof(double), cmp_double);
		printf("%-26s %8.2f Mpps   (%.2f of the floor; pingx / %s %.2f)\n",
			peer.name, peer_pps[rounds / 2] / 1e6, peer_ratio[rounds / 2], peer.name,
			lb_ratio[rounds / 2] / peer_ratio[rounds / 2]);
	}
	printf("%-26s %8.2f Mpps\n%-26s %8.2f Mpps   (%.2f of the drop floor)\n",
		"floor (XDP_DROP, counted)", drop_pps[rounds / 2] / 1e6, "balancer (denied source)",
		deny_pps[rounds / 2] / 1e6, deny_pps[rounds / 2] / drop_pps[rounds / 2]);
	err = 0;
out:
	if (link_tx >= 0)
		close(link_tx);
	if (link_cnt >= 0)
		close(link_cnt);
	if (self >= 0) {
		if (setns(self, CLONE_NEWNET))
			fprintf(stderr, "bench: back to the first namespace: %s\n",
				strerror(errno));
		close(self);
	}
	bench_bpf__destroy(bb);
	for (i = 0; i < MAX_CPUS; i++)
		if (peer.lru[i] >= 0)
			close(peer.lru[i]);
	bpf_object__close(peer.obj);
	ctrl_close(c);
	if (ctrl_destroy(pin))
		fprintf(stderr, "bench: could not remove %s\n", pin);
	return err;
}
