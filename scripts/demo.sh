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
PIN_DIR=${PIN_DIR:-/sys/fs/bpf/pingx}

TOPO=pingx-demo
TOPO_PINS=/sys/fs/bpf/pingx-demo
TOPO_LB_PIN=$PIN_DIR
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
	echo "demo: removed the namespaces $TOPO-*, $TOPO_LB_PIN and $TOPO_PINS"
	exit 0
fi

if [ -n "$(topo_namespaces)" ] || [ -e "$TOPO_PINS" ]; then
	die "a demo is already up: 'make demo-down' removes it"
fi
if [ -e "$TOPO_LB_PIN" ]; then
	die "$TOPO_LB_PIN is in use by a running pingx: the demo needs it"
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
	cat <<EOF

== The demo stays up. Explore it (as root):
   $O/pingctl status
   $O/pingctl backend set $VIP:80 $(topo_be_addr 2) --drain
   $cshell curl -s http://$VIP/
   $O/pingctl conntrack count
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
	echo "   removed the namespaces $TOPO-* and $TOPO_LB_PIN (make demo KEEP=1 keeps them)"
fi
