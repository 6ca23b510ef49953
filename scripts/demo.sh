#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: pingx balancing real TCP connections in XDP. Builds a client, a load balancer and
# three backends in network namespaces (scripts/topo.sh), attaches pingx to the balancer's
# interface, adds a service with three backends, sends traffic from the client, and prints the
# spread and the counters. Then removes everything, or with KEEP=1 leaves it up for
# exploring; `demo.sh down` (make demo-down) removes a kept demo.
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
KEEP=${KEEP:-}
REQUESTS=${REQUESTS:-300}
BPF_DIR_MNT=${BPF_DIR_MNT:-/sys/fs/bpf}

# The demo keeps to its own namespaces and pin directory, so that it never touches an
# operator's pingx (the default pin directory) and runs beside one. DEMO_NS and DEMO_PINS
# choose others (the tests run the demo under names of their own).
TOPO=${DEMO_NS:-pingx-demo}
TOPO_PINS=${DEMO_PINS:-$BPF_DIR_MNT/pingx-demo}
TOPO_LB_PIN=$TOPO_PINS/lb
source scripts/topo.sh
VIP=$TOPO_VIP4

die() {
	echo "demo: $*" >&2
	exit 1
}
section() { printf '\n== %s\n' "$*"; }
# Show a pingctl command on the balancer, then run it.
run() {
	echo "lb# pingctl $*"
	topo_lbctl "$@"
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces and XDP): sudo make demo"
for t in ip nsenter curl ethtool python3 bpftool; do
	command -v $t >/dev/null || die "missing $t: run 'make deps'"
done
[ -x "$O/pingctl" ] || die "$O/pingctl is not built: run 'make'"

if [ "${1:-}" = down ]; then
	topo_down
	echo "demo: removed the namespaces $TOPO-* and $TOPO_PINS"
	exit 0
fi

if [ -n "$(topo_namespaces)" ]; then
	die "a demo is already up: 'make demo-down' removes it"
fi
# Pins without the demo's namespaces are either left by a demo that was killed (stale: their
# links are severed, or there are only maps) or in use by a program that is attached.
if [ -e "$TOPO_PINS" ]; then
	live=0
	for d in $(find "$TOPO_PINS" -maxdepth 1 -type d); do
		n=$("$O/pingctl" -j --bpffs "$d" status 2>/dev/null | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
except ValueError:
    s = {}
print(sum(1 for a in s.get("attached", []) if a.get("state") == "attached"))')
		live=$((live + ${n:-0}))
	done
	if [ "${live:-0}" -gt 0 ]; then
		die "$TOPO_PINS holds $live attached program(s); 'pingctl --bpffs DIR status' shows them, 'pingctl --bpffs $TOPO_PINS unload' removes them"
	fi
	echo "demo: removing stale pins in $TOPO_PINS (left by an earlier demo; nothing attached)"
	"$O/pingctl" --bpffs "$TOPO_PINS" unload >/dev/null || die "cannot remove $TOPO_PINS"
fi

kept=
cleanup() {
	[ -n "$kept" ] && return
	topo_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section "Topology: client, balancer, backends b1 b2 b3 in namespaces $TOPO-*"
cat <<EOF
   client 10.201.0.2 --+
   balancer lb0 10.201.0.1 (XDP) --+-- br0 (one L2 segment)
   b1 10.201.0.11, b2 10.201.0.12, b3 10.201.0.13 --+   each holds VIP $VIP on lo
   The client routes $VIP to the balancer, which picks a backend per connection and
   sends the packet there in IPIP; the backend decapsulates (pingx's decap program) and
   answers the client directly (direct server return).
EOF
topo_up 3 || die "setting up the topology failed"

section "The balancer"
run attach lb0 --mode native || die "attach failed"
run service add $VIP:80 --fwd ipip || die "service add failed"
for i in 1 2 3; do
	run backend add $VIP:80 "$(topo_be_addr $i)" || die "backend add failed"
done
run service list
run backend list

section "$REQUESTS HTTP requests from the client (curl), one connection each"
out=$(mktemp)
trap 'rm -f "$out"; cleanup' EXIT
seq 20000 $((20000 + REQUESTS - 1)) | xargs -P 8 -I{} \
	nsenter --net=/run/netns/$TOPO-c curl -s -m 3 -H 'Connection: close' --local-port {} \
	"http://$VIP/" >"$out" 2>/dev/null
ok=$(grep -c '^b[1-3]$' "$out")
echo "   answered: $ok of $REQUESTS"
for i in 1 2 3; do
	n=$(grep -c "^b$i\$" "$out")
	printf '   %-3s %-12s %4d  %s\n' b$i "$(topo_be_addr $i)" "$n" \
		"$(head -c $((n / 5)) /dev/zero | tr '\0' '#')"
done

section "Counters"
run stats

section "Where would a key go? (offline hashing, as the L7 tier does)"
echo "\$ pingctl hash --algo maglev --backends 10.0.0.1:80,10.0.0.2:80,10.0.0.3:80=2 /index.html /api"
"$O/pingctl" hash --algo maglev --backends 10.0.0.1:80,10.0.0.2:80,10.0.0.3:80=2 /index.html /api

[ "$ok" -eq "$REQUESTS" ] || die "$((REQUESTS - ok)) requests failed"

if [ -n "$KEEP" ]; then
	kept=1
	lbshell="nsenter --net=/run/netns/$TOPO-lb"
	cshell="nsenter --net=/run/netns/$TOPO-c"
	pc="$O/pingctl --bpffs $TOPO_LB_PIN"
	cat <<EOF

== The demo stays up. Explore it (as root):
   $pc status
   $pc backend set $VIP:80 $(topo_be_addr 2) --drain
   $cshell curl -s http://$VIP/
   $pc conntrack count
   bpftool map dump pinned $TOPO_LB_PIN/lb_services
   bpftool map dump pinned $TOPO_LB_PIN/lb_backends
   bpftool map dump pinned $TOPO_LB_PIN/lb_reasons
   $lbshell bash        # a shell on the balancer
   make demo-down       # remove everything
EOF
else
	section "Tearing down"
	topo_down
	kept=1
	echo "   removed the namespaces $TOPO-* and $TOPO_PINS (make demo KEEP=1 keeps them)"
fi
