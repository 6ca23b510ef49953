#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Packets per second through a veth pair: a live-frames generator in one namespace, the
# balancer (or an XDP_TX floor) on the peer in another; then the balancer dropping a denied
# source beside an XDP_DROP floor. Needs root. Namespaces px-vb-* are
# created here and removed on exit. ROUNDS and FRAMES override. KATRAN_OBJ (a Katran balancer
# object, built as bench/bpf-bench.sh says) is measured beside the balancer in the same rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "veth-bench: needs root" >&2
	exit 1
fi
source scripts/topo.sh # topo_bpffs: bpffs on /sys/fs/bpf, where the maps are pinned
topo_bpffs
A=px-vb-a-$$
B=px-vb-b-$$
cleanup() { ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add a0 type veth peer name b0 netns "$B"
ip -n "$A" link set a0 mtu 1600 up
ip -n "$B" link set b0 mtu 1600 up
peer=()
if [ -n "${KATRAN_OBJ:-}" ]; then peer=(--peer "katran=$KATRAN_OBJ"); fi
"$O/bench/pingx-bpf-bench" --veth "${peer[@]}" "$A" a0 "$B" b0 "${ROUNDS:-5}" "${FRAMES:-2000000}"
