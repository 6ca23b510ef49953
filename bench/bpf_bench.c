// SPDX-License-Identifier: GPL-2.0
/* pingx-bpf-bench: nanoseconds per packet of the XDP balancer through BPF_PROG_TEST_RUN, for a
 * new TCP flow (SYN), an established flow (conntrack hit) and a packet to a non-VIP address,
 * each against the floor (the same harness tail-calling an empty XDP_TX program) measured in
 * the same run. Every pass restores the input first (bench.bpf.c). Prints medians of ROUNDS.
 * Usage: pingx-bpf-bench [ROUNDS [REPEAT]] */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/bench.skel.h"
#include "bpf/lb.skel.h"
#include "tests/bpf/pkt.h"
#include "userspace/ctrl/ctrl.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ns per pass of <prog> on <pkt>, restored every pass; -1 on error. */
static double measure(int prog, int input_map, const uint8_t *pkt, size_t len, int repeat,
		      int want)
{
	static uint8_t out[PKT_MAX];
	struct {
		__u32 len;
		__u8 data[64];
	} in = {.len = (__u32)len};
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

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 9, repeat = argc > 2 ? atoi(argv[2]) : 2000000;
	char pin[96];
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin);
	struct lb_svc conf = {.table_size = 65537};
	struct pkt_spec s = {.family = 4, .src = "203.0.113.7", .dst = "192.0.2.100",
			     .proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .payload = 20};
	static const char *const names[3] = {"syn", "established", "non_vip"};
	static const int verdicts[3] = {XDP_TX, XDP_TX, XDP_PASS};
	uint8_t pkts[3][PKT_MAX];
	size_t lens[3];
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
	s.tcp_flags = 0x10;
	lens[1] = pkt_build(&s, pkts[1]);
	s.dst = "192.0.2.200";
	lens[2] = pkt_build(&s, pkts[2]);

	lb_fd = bpf_program__fd(lb->progs.lb_xdp);
	tx_fd = bpf_program__fd(bb->progs.bench_tx);
	target = bpf_map__fd(bb->maps.bench_target);
	input = bpf_map__fd(bb->maps.bench_input);
	{
		double floor_ns[3][64], lb_ns[3][64];

		if (rounds > 64)
			rounds = 64;
		/* Interleave floor and balancer in every round: both see the same machine load. */
		for (r = 0; r < rounds; r++) {
			for (i = 0; i < 3; i++) {
				bpf_map_update_elem(target, &zero, &tx_fd, BPF_ANY);
				floor_ns[i][r] = measure(bpf_program__fd(bb->progs.bench_restore),
							 input, pkts[i], lens[i], repeat, XDP_TX);
				bpf_map_update_elem(target, &zero, &lb_fd, BPF_ANY);
				lb_ns[i][r] = measure(bpf_program__fd(bb->progs.bench_restore), input,
						      pkts[i], lens[i], repeat, verdicts[i]);
				if (floor_ns[i][r] < 0 || lb_ns[i][r] < 0)
					goto out;
			}
		}
		printf("pingx XDP balancer, BPF_PROG_TEST_RUN, input restored every pass, %d rounds "
		       "x %d passes, medians\n",
		       rounds, repeat);
		printf("%-12s %10s %10s %12s %8s\n", "case", "floor_ns", "lb_ns", "above_floor", "ratio");
		for (i = 0; i < 3; i++) {
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
