// SPDX-License-Identifier: GPL-2.0
/* pingx-bpf-bench: nanoseconds per packet of the XDP balancer through BPF_PROG_TEST_RUN, for a
 * new TCP flow (SYN), an established flow (conntrack hit) and a packet to a non-VIP address,
 * each against the floor (the same harness tail-calling an empty XDP_TX program) measured in
 * the same run. Every pass restores the input first (bench.bpf.c). Prints medians of ROUNDS.
 * With --veth, packets per second through a veth pair instead: a live-frames generator in
 * namespace NS_A sends out of IF_A; IF_B in NS_B runs the floor (XDP_TX) or the balancer
 * (encapsulate, XDP_TX), and IF_A counts what comes back.
 * Usage: pingx-bpf-bench [ROUNDS [REPEAT]]
 *        pingx-bpf-bench --veth NS_A IF_A NS_B IF_B [ROUNDS [FRAMES]] */
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

#define NCASE 4

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

/* ns per pass of <prog> on <pkt>, restored every pass; -1 on error. */
static double measure(int prog, int input_map, const uint8_t *pkt, size_t len, int repeat, int want,
	__u32 vary_off)
{
	static uint8_t out[PKT_MAX];
	struct {
		__u32 len;
		__u32 vary_off;
		__u8 data[64];
	} in = {.len = (__u32)len, .vary_off = vary_off};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		.data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
	__u32 zero = 0;

	memcpy(in.data, pkt, sizeof(in.data));
	if (bpf_map_update_elem(input_map, &zero, &in, BPF_ANY))
		return -1;
	if (bpf_prog_test_run_opts(prog, &o) || (int)o.retval != want) {
		fprintf(stderr, "bench: test run failed: %s, verdict %u (want %d)\n",
			strerror(errno), o.retval, want);
		return -1;
	}
	return o.duration;
}

static int veth_main(int argc, char **argv);

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--veth"))
		return veth_main(argc - 1, argv + 1);
	int rounds = argc > 1 ? atoi(argv[1]) : 9, repeat = argc > 2 ? atoi(argv[2]) : 2000000;
	char pin[96];
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin);
	struct lb_svc conf = {.table_size = 65537};
	struct pkt_spec s = {.family = 4,
		.src = "203.0.113.7",
		.dst = "192.0.2.100",
		.proto = IPPROTO_TCP,
		.sport = 40000,
		.dport = 80,
		.payload = 20};
	/* syn repeats one SYN (a replaced conntrack entry); syn_new changes the source address
	 * on every pass (a new entry each time, evicting once the LRU is full). */
	static const char *const names[NCASE] = {"syn", "syn_new", "established", "non_vip"};
	static const int verdicts[NCASE] = {XDP_TX, XDP_TX, XDP_TX, XDP_PASS};
	static const __u32 vary[NCASE] = {0, 14 + 12, 0, 0};
	uint8_t pkts[NCASE][PKT_MAX];
	size_t lens[NCASE];
	struct bench_bpf *bb = NULL;
	struct lb_bpf *lb = NULL;
	struct ctrl *c = NULL;
	struct lb_svc_key k = {.family = LB_AF_INET, .proto = IPPROTO_TCP};
	struct lb_node node = {.flags = LB_NODE_F_GW_MAC, .gw_mac = {2, 0, 0, 0, 0, 0xfe}};
	int err = 1, i, r, lb_fd, tx_fd, target, input;
	__u32 zero = 0;

	if (rounds < 1 || repeat < 1) {
		fprintf(stderr, "usage: %s [ROUNDS [REPEAT]]\n", argv[0]);
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
	inet_pton(AF_INET, "192.0.2.100", k.addr.bytes);
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
	}
	s.tcp_flags = 0x02;
	lens[0] = pkt_build(&s, pkts[0]);
	lens[1] = pkt_build(&s, pkts[1]);
	s.tcp_flags = 0x10;
	lens[2] = pkt_build(&s, pkts[2]);
	s.dst = "192.0.2.200";
	lens[3] = pkt_build(&s, pkts[3]);

	lb_fd = bpf_program__fd(lb->progs.lb_xdp);
	tx_fd = bpf_program__fd(bb->progs.bench_tx);
	target = bpf_map__fd(bb->maps.bench_target);
	input = bpf_map__fd(bb->maps.bench_input);
	{
		double floor_ns[NCASE][64], lb_ns[NCASE][64];

		if (rounds > 64)
			rounds = 64;
		/* Interleave floor and balancer in every round: both see the same machine load. */
		for (r = 0; r < rounds; r++) {
			for (i = 0; i < NCASE; i++) {
				bpf_map_update_elem(target, &zero, &tx_fd, BPF_ANY);
				floor_ns[i][r] = measure(bpf_program__fd(bb->progs.bench_restore),
					input, pkts[i], lens[i], repeat, XDP_TX, vary[i]);
				bpf_map_update_elem(target, &zero, &lb_fd, BPF_ANY);
				lb_ns[i][r] = measure(bpf_program__fd(bb->progs.bench_restore),
					input, pkts[i], lens[i], repeat, verdicts[i], vary[i]);
				if (floor_ns[i][r] < 0 || lb_ns[i][r] < 0)
					goto out;
			}
		}
		printf("pingx XDP balancer, BPF_PROG_TEST_RUN, input restored every pass, %d rounds "
		       "x %d passes, medians\n",
			rounds, repeat);
		printf("%-12s %10s %10s %12s %8s\n", "case", "floor_ns", "lb_ns", "above_floor",
			"ratio");
		for (i = 0; i < NCASE; i++) {
			double f, l;

			qsort(floor_ns[i], (size_t)rounds, sizeof(double), cmp_double);
			qsort(lb_ns[i], (size_t)rounds, sizeof(double), cmp_double);
			f = floor_ns[i][rounds / 2];
			l = lb_ns[i][rounds / 2];
			printf("%-12s %10.1f %10.1f %12.1f %8.2f\n", names[i], f, l, l - f, l / f);
		}
	}
	err = 0;
out:
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
	double floor_pps[64], lb_pps[64];
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

	if (argc < 5) {
		fprintf(stderr,
			"usage: pingx-bpf-bench --veth NS_A IF_A NS_B IF_B [ROUNDS [FRAMES]]\n");
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
	}
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
	{
		struct {
			__u32 len;
			__u32 vary_off;
			__u8 data[64];
		} in = {.len = (__u32)len};

		memcpy(in.data, pkt, sizeof(in.data));
		if (bpf_map_update_elem(bpf_map__fd(bb->maps.bench_input), &zero, &in, BPF_ANY))
			goto out;
	}
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
	}
	qsort(floor_pps, (size_t)rounds, sizeof(double), cmp_double);
	qsort(lb_pps, (size_t)rounds, sizeof(double), cmp_double);
	printf("veth pair, native XDP, %d rounds x %d frames of %zu bytes, medians\n", rounds,
		frames, len);
	printf("%-26s %8.2f Mpps\n%-26s %8.2f Mpps   (%.2f of the floor)\n", "floor (XDP_TX)",
		floor_pps[rounds / 2] / 1e6, "balancer (established)", lb_pps[rounds / 2] / 1e6,
		lb_pps[rounds / 2] / floor_pps[rounds / 2]);
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
	ctrl_close(c);
	if (ctrl_destroy(pin))
		fprintf(stderr, "bench: could not remove %s\n", pin);
	return err;
}
