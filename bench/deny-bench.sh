#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The deny check inline in lb_xdp against a program of its own in front of it, tail-calling the
# balancer (bench/deny_bench.c), in one run through BPF_PROG_TEST_RUN. Needs root. ROUNDS and
# REPEAT override; RUNS invocations are made (the machine is shared: compare within one).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "deny-bench: needs root" >&2
	exit 1
fi
source scripts/topo.sh # topo_bpffs: bpffs on /sys/fs/bpf, where the maps are pinned
topo_bpffs
pins=/sys/fs/bpf/pingx-deny-bench-$$
cleanup() {
	for d in "$pins/empty" "$pins/full"; do "$O/pingctl" --bpffs "$d" unload >/dev/null 2>&1 || true; done
	rm -rf "$pins"
}
trap cleanup EXIT
for i in $(seq 1 "${RUNS:-1}"); do
	"$O/bench/pingx-deny-bench" "$pins" "${ROUNDS:-9}" "${REPEAT:-1000000}"
	cleanup
done
