#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The XDP balancer's cost per packet against an empty XDP_TX floor (BPF_PROG_TEST_RUN, input
# restored on every pass by a harness program), with the flow guard on (the default) and off.
# Needs root. ROUNDS and REPEAT override; BENCH_ONLY=CASE measures one case; BENCH_MIN=1
# prints each program's fastest round instead of the median (on a shared machine, the least
# disturbed one); BENCH_TARGETS=NAME,NAME measures only those programs (pingx, pingx_noguard,
# pingx_deny1, pingx_deny8, katran, katran_noguard) besides the floor, the others print as -.
# BENCH_PROG_PIN=FILE pins lb_xdp as the harness loaded it (bpftool prog dump xlated pinned FILE).
#
# A peer balancer measured beside it in the same run: KATRAN_OBJ (and KATRAN_NOGUARD_OBJ) name
# objects built from a Katran checkout you provide (its katran/lib/bpf/balancer.bpf.c); the
# harness loads them, fills their maps for the same VIP and backends as Katran's userspace
# would (per-CPU flow tables of the same total size) and tail-calls them. From the checkout's
# top directory, with Katran's own flags (its katran/lib/Makefile-bpf):
#   mkdir -p include && cp katran/lib/linux_includes/* include/
#   clang -I. -Iinclude -DDEBUG -D__KERNEL__ -Wno-unused-value -Wno-pointer-sign \
#     -Wno-compare-distinct-pointer-types -O2 -emit-llvm -c -g \
#     katran/lib/bpf/balancer.bpf.c -o - | llc -march=bpf -filetype=obj -o /tmp/katran.o
# and again with -DMAX_CONN_RATE=0xffffffffffffffffULL into /tmp/katran-noguard.o (its flood
# guard off), then:
#   KATRAN_OBJ=/tmp/katran.o KATRAN_NOGUARD_OBJ=/tmp/katran-noguard.o bash bench/bpf-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "bpf-bench: needs root" >&2
	exit 1
fi
source scripts/topo.sh # topo_bpffs: bpffs on /sys/fs/bpf, where the maps are pinned
topo_bpffs
peers=()
if [ -n "${KATRAN_OBJ:-}" ]; then peers+=(--peer "katran=$KATRAN_OBJ"); fi
if [ -n "${KATRAN_NOGUARD_OBJ:-}" ]; then peers+=(--peer "katran_noguard=$KATRAN_NOGUARD_OBJ"); fi
"$O/bench/pingx-bpf-bench" "${peers[@]}" "${ROUNDS:-9}" "${REPEAT:-2000000}"
