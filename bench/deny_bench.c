// SPDX-License-Identifier: GPL-2.0
/* Where the deny check belongs: inline in lb_xdp (as built), or a program of its own in front
 * of the balancer (bench/deny_bench.bpf.c, the same parse and deny_check(), then a tail call
 * to lb_xdp, whose own deny maps are empty), all measured in one run with
 * BPF_PROG_TEST_RUN (repeat R, the kernel's average per run). The packet is a TCP SYN to an
 * address that is no service, so the balancer passes it unchanged and a repeated run sees the
 * same input; the deny check runs before the service lookup either way.
 *
 *   pingx-deny-bench PIN_DIR ROUNDS REPEAT
 *
 * PIN_DIR: a private directory on the bpffs, removed at the end (two pin directories below
 * it: "empty", whose lb_deny stays empty, and "full", with 8 x 4096 prefixes of 10.0.0.0/8
 * that the packet's source never matches, as bench/bpf_bench.c uses). Prints the median ns of
 * each case over ROUNDS rounds, the cases interleaved in every round. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/deny_bench.skel.h"
#include "bpf/lb.skel.h"
#include "tests/bpf/pkt.h"
#include "userspace/ctrl/ctrl-int.h"

#define FILL 4096

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static struct lb_bpf *load_lb(const char *dir)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = dir);
	struct lb_bpf *s = lb_bpf__open_opts(&oo);

	if (s && (ctrl_reuse_devmap(s->maps.lb_tx_ports, dir) || lb_bpf__load(s))) {
		lb_bpf__destroy(s);
		s = NULL;
	}
	return s;
}

/* The front program on the deny maps of <dir>, tail-calling <next>. */
static struct deny_bench_bpf *load_front(const char *dir, int next)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = dir);
	struct deny_bench_bpf *s = deny_bench_bpf__open_opts(&oo);
	__u32 zero = 0;

	if (s && (ctrl_reuse_devmap(s->maps.lb_tx_ports, dir) || deny_bench_bpf__load(s) ||
			 bpf_map_update_elem(
				 bpf_map__fd(s->maps.deny_bench_next), &zero, &next, BPF_ANY))) {
		deny_bench_bpf__destroy(s);
		s = NULL;
	}
	return s;
}

static int run(int prog, const void *pkt, size_t len, int repeat, int want, double *ns)
{
	LIBBPF_OPTS(
		bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len, .repeat = repeat);

	if (bpf_prog_test_run_opts(prog, &o) || (int)o.retval != want) {
		fprintf(stderr, "deny-bench: test run: %s, verdict %u (want %d)\n", strerror(errno),
			o.retval, want);
		return -1;
	}
	*ns = o.duration;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

enum { C_INLINE_EMPTY, C_INLINE, C_FRONT_EMPTY, C_FRONT, C_INLINE_DROP, C_FRONT_DROP, C_MAX };

static const char *const names[C_MAX] = {
	[C_INLINE_EMPTY] = "inline, lb_deny empty",
	[C_INLINE] = "inline, lb_deny full",
	[C_FRONT_EMPTY] = "front + tail call, lb_deny empty",
	[C_FRONT] = "front + tail call, lb_deny full",
	[C_INLINE_DROP] = "inline, source denied (drop)",
	[C_FRONT_DROP] = "front, source denied (drop)",
};

int main(int argc, char **argv)
{
	struct pkt_spec sp = {.family = 4,
		.src = "10.1.2.3",
		.dst = "192.0.2.200",
		.proto = IPPROTO_TCP,
		.sport = 40000,
		.dport = 80,
		.tcp_flags = 0x02,
		.smac = {2, 0, 0, 0, 0, 1},
		.dmac = {2, 0, 0, 0, 0, 2}};
	char empty[PATH_MAX], full[PATH_MAX];
	struct ctrl *ce = NULL, *cf = NULL;
	struct lb_bpf *lb_e = NULL, *lb_f = NULL;
	struct deny_bench_bpf *fr_e = NULL, *fr_f = NULL;
	struct lb_deny_plens pl, pl_full;
	struct lb_deny_key dk;
	double *t[C_MAX] = {NULL}, med[2][C_MAX];
	int prog[C_MAX], rounds, repeat, err = 1, i, r, k, lens, pfd;
	uint8_t pkt[PKT_MAX];
	__u32 zero = 0;
	size_t len;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PIN_DIR ROUNDS REPEAT\n", argv[0]);
		return 2;
	}
	rounds = atoi(argv[2]);
	repeat = atoi(argv[3]);
	if (rounds < 1 || rounds > 99 || repeat < 1) {
		fprintf(stderr, "deny-bench: ROUNDS 1..99 and REPEAT >= 1\n");
		return 2;
	}
	libbpf_set_print(quiet);
	snprintf(empty, sizeof(empty), "%s/empty", argv[1]);
	snprintf(full, sizeof(full), "%s/full", argv[1]);
	ce = ctrl_open(empty, CTRL_F_CREATE);
	cf = ctrl_open(full, CTRL_F_CREATE);
	if (!ce || !cf) {
		fprintf(stderr, "deny-bench: %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	for (i = 0; i < FILL; i++) {
		for (int l = 0; l < 8; l++) {
			memset(&dk, 0, sizeof(dk));
			dk.family = LB_AF_INET;
			dk.plen = (__u8)(32 - l);
			/* 10.I.I.128/(32 - l): never 10.1.2.3. */
			dk.addr.v4 = htonl((10u << 24) | ((__u32)i << 8) | 128u) & htonl(~0u << l);
			if (ctrl_deny_add(cf, &dk, 0, LB_DENY_ADMIN))
				goto out;
		}
	}
	lb_e = load_lb(empty);
	lb_f = load_lb(full);
	if (!lb_e || !lb_f)
		goto fail;
	fr_e = load_front(empty, bpf_program__fd(lb_e->progs.lb_xdp));
	fr_f = load_front(full, bpf_program__fd(lb_e->progs.lb_xdp));
	if (!fr_e || !fr_f)
		goto fail;
	prog[C_INLINE_EMPTY] = bpf_program__fd(lb_e->progs.lb_xdp);
	prog[C_INLINE] = prog[C_INLINE_DROP] = bpf_program__fd(lb_f->progs.lb_xdp);
	prog[C_FRONT_EMPTY] = bpf_program__fd(fr_e->progs.deny_front);
	prog[C_FRONT] = prog[C_FRONT_DROP] = bpf_program__fd(fr_f->progs.deny_front);
	len = pkt_build(&sp, pkt);
	pfd = ctrl_map_fd(cf, "lb_deny_plens");
	if (pfd < 0 || ctrl_deny_plens(cf, &pl_full))
		goto fail;
	for (k = 0; k < C_MAX; k++) {
		t[k] = calloc((size_t)rounds, sizeof(double));
		if (!t[k])
			goto out;
	}
	printf("deny-bench: %d rounds x %d runs, TCP SYN 10.1.2.3 -> 192.0.2.200:80 (no service), "
	       "lb_deny full: %d prefixes (8 lengths x %d)\n",
		rounds, repeat, 8 * FILL, FILL);
	for (lens = 1; lens <= 8; lens += 7) {
		/* The lengths in use: 1 (/32 only) or all 8; the entries stay. */
		pl = pl_full;
		pl.n4 = (__u8)lens;
		if (bpf_map_update_elem(pfd, &zero, &pl, BPF_ANY))
			goto fail;
		for (r = 0; r < rounds; r++) {
			for (k = C_INLINE_EMPTY; k <= C_FRONT; k++)
				if (run(prog[k], pkt, len, repeat, XDP_PASS, &t[k][r]))
					goto out;
		}
		for (k = C_INLINE_EMPTY; k <= C_FRONT; k++) {
			qsort(t[k], (size_t)rounds, sizeof(double), cmp_double);
			med[lens == 8][k] = t[k][rounds / 2];
		}
	}
	/* The packet's source denied: both drop it, the front before any tail call. */
	memset(&dk, 0, sizeof(dk));
	dk.family = LB_AF_INET;
	dk.plen = 32;
	dk.addr.v4 = htonl(0x0a010203);
	if (ctrl_deny_add(cf, &dk, 0, LB_DENY_ADMIN))
		goto fail;
	for (r = 0; r < rounds; r++) {
		for (k = C_INLINE_DROP; k <= C_FRONT_DROP; k++)
			if (run(prog[k], pkt, len, repeat, XDP_DROP, &t[k][r]))
				goto out;
	}
	for (k = C_INLINE_DROP; k <= C_FRONT_DROP; k++) {
		qsort(t[k], (size_t)rounds, sizeof(double), cmp_double);
		med[0][k] = med[1][k] = t[k][rounds / 2];
	}
	printf("\n%-36s %14s %14s\n", "case (median ns per packet)", "1 length", "8 lengths");
	for (k = 0; k < C_MAX; k++)
		printf("%-36s %14.1f %14.1f\n", names[k], med[0][k], med[1][k]);
	printf("\n%-36s %14.1f %14.1f\n", "deny check inline (full - empty)",
		med[0][C_INLINE] - med[0][C_INLINE_EMPTY],
		med[1][C_INLINE] - med[1][C_INLINE_EMPTY]);
	printf("%-36s %14.1f %14.1f\n", "front (front full - inline empty)",
		med[0][C_FRONT] - med[0][C_INLINE_EMPTY], med[1][C_FRONT] - med[1][C_INLINE_EMPTY]);
	printf("%-36s %14.1f %14.1f\n", "of which the second program",
		med[0][C_FRONT_EMPTY] - med[0][C_INLINE_EMPTY],
		med[1][C_FRONT_EMPTY] - med[1][C_INLINE_EMPTY]);
	err = 0;
	goto out;
fail:
	fprintf(stderr, "deny-bench: setup failed: %s\n", strerror(errno));
out:
	deny_bench_bpf__destroy(fr_e);
	deny_bench_bpf__destroy(fr_f);
	lb_bpf__destroy(lb_e);
	lb_bpf__destroy(lb_f);
	if (ce)
		ctrl_close(ce);
	if (cf)
		ctrl_close(cf);
	for (k = 0; k < C_MAX; k++)
		free(t[k]);
	return err;
}
