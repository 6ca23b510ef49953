#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo-multinode: three pingx nodes behind a router that spreads flows over them with
# ECMP, each node announcing the VIP with BIRD while pingd finds it ready (scripts/
# scaleout-topo.sh). Sends a stream of new connections and keeps long-lived ones open, kills
# one node mid-run (its pingd and BIRD by pid, its link down) and prints what happened: how
# fast the router dropped it, whether every connection was answered, and whether the
# long-lived ones kept their backends through another node. Removes everything at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
SECONDS_RUN=${SECONDS_RUN:-12}
LONG=${LONG:-12}
BPF_DIR_MNT=${BPF_DIR_MNT:-/sys/fs/bpf}

# Its own namespaces and pin directory, beside any other pingx (DEMO_NS and DEMO_PINS choose
# others, as the tests do).
SO=${DEMO_NS:-pingx-mn}
SO_PINS=${DEMO_PINS:-$BPF_DIR_MNT/pingx-mn}
SO_SERVE_SECONDS=600
source scripts/scaleout-topo.sh

die() {
	echo "demo-multinode: $*" >&2
	exit 1
}
section() { printf '\n== %s\n' "$*"; }
now_ms() { date +%s%3N; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces and XDP): sudo make demo-multinode"
for t in ip nsenter curl ethtool python3 bird birdc; do
	command -v $t >/dev/null || die "missing $t: run 'make deps'"
done
[ -x "$O/pingctl" ] && [ -x "$O/pingd" ] || die "$O/pingctl and $O/pingd are not built: run 'make'"
[ -z "$(so_namespaces)" ] || die "namespaces $SO-* exist: another demo-multinode runs"

SO_DIR=$(mktemp -d /tmp/pingx-mn.XXXXXX)
poller=
cleanup() {
	[ -n "$poller" ] && kill "$poller" 2>/dev/null
	so_down
	rm -rf "$SO_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

section "topology: router (BIRD, ECMP, BFD), 3 pingx nodes (XDP + pingd + BIRD), 3 backends, a client"
so_up 3 || die "setting up the namespaces failed"
for k in 1 2 3; do so_node_start "$k" || die "starting node $k failed"; done
so_wait_nexthops "10.210.0.11 10.210.0.12 10.210.0.13" ||
	die "the router did not learn the VIP from the three nodes: $(so_nexthops)"
echo "router# ip route show $SO_VIP"
ip -n "$SO-r" route show "$SO_VIP" | sed 's/^/  /'
echo "router# birdc show route $SO_VIP/32"
so_birdc r show route "$SO_VIP/32" | sed 's/^/  /'
echo "node1# ip route show table $SO_TABLE   (what pingd announces; BIRD exports it)"
ip -n "$SO-n1" route show table "$SO_TABLE" | sed 's/^/  /'

section "the same table on every node (pingctl table digest)"
for k in 1 2 3; do echo "node$k: $(so_ctl "$k" table digest)"; done

section "traffic: $LONG long-lived connections, and new connections for ${SECONDS_RUN}s"
coproc CL { so_nsx "$SO-c" python3 tests/integration/so_client.py "$SO_VIP" 80 30000 "$LONG" 2>&1; }
read -r -t 30 line <&"${CL[0]}" && [ "$line" = READY ] || die "long-lived connections: $line"
long_round() {
	local l
	echo go >&"${CL[1]}"
	while read -r -t 60 l <&"${CL[0]}"; do
		[ "$l" = END ] && return 0
		echo "$l"
	done
	return 1
}
via() {
	ip -n "$SO-r" route get "$SO_VIP" from 10.210.9.2 iif veth-c ipproto tcp sport "$1" dport 80 |
		awk '{for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1)}'
}
# Not in a pipeline: a subshell does not get the coprocess's descriptors.
long_round >"$SO_DIR/before" || die "long-lived connections did not answer"
sort -o "$SO_DIR/before" "$SO_DIR/before"
for p in $(awk '{print $1}' "$SO_DIR/before"); do echo "$p $(via "$p")"; done >"$SO_DIR/via.before"

# One new connection from local port $1: "PORT NAME", or "PORT FAIL T_MS curl's error" with
# the time it ended, so a failure can be set against the moment the node died.
new_conn() {
	local out rc
	out=$(so_nsx "$SO-c" curl -sS -m 10 -H 'Connection: close' --local-port "$1" \
		"http://$SO_VIP/" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "$1 $out"
	else
		echo "$1 FAIL $(now_ms) curl exit $rc: $(echo "$out" | tr '\n' ' ')"
	fi
}

# The router's next hops for the VIP, polled every 100 ms: "T_MS NEXT_HOPS" at each change.
(
	last=x
	while :; do
		cur=$(so_nexthops)
		[ "$cur" != "$last" ] && echo "$(now_ms) ${cur:-none}" && last=$cur
		sleep 0.1
	done
) >"$SO_DIR/nexthops" 2>/dev/null &
poller=$!

# New connections, one after another (8 at a time), each from a fresh port: "PORT NAME".
(
	end=$(($(date +%s) + SECONDS_RUN))
	port=40000
	while [ "$(date +%s)" -lt "$end" ]; do
		for _ in 1 2 3 4 5 6 7 8; do
			new_conn "$port" &
			port=$((port + 1))
		done
		wait
	done
) >"$SO_DIR/new" 2>/dev/null &
traffic=$!

sleep $((SECONDS_RUN / 3))
victim=$(sort -k2 "$SO_DIR/via.before" | awk '{print $2}' | uniq -c | sort -rn | awk 'NR == 1 {print $2}')
victim=${victim#10.210.0.1}
section "node $victim dies: its pingd and BIRD killed, its link down (mid-run)"
t0=$(now_ms)
pids="$(cat "$SO_DIR/pingd-n$victim.pid") $(cat "$SO_DIR/bird-n$victim.pid")"
kill -9 $pids 2>/dev/null
wait $pids 2>/dev/null
rm -f "$SO_DIR/pingd-n$victim.pid" "$SO_DIR/bird-n$victim.pid"
ip -n "$SO-r" link set "n$victim-br" down
case $victim in 1) rest="10.210.0.12 10.210.0.13" ;; 2) rest="10.210.0.11 10.210.0.13" ;;
*) rest="10.210.0.11 10.210.0.12" ;; esac
if so_wait_nexthops "$rest" 600; then
	echo "router: node $victim's next hop gone $(($(now_ms) - t0)) ms later (BFD, polled every 100 ms); VIP via $(so_nexthops)"
else
	echo "router: still routes over node $victim after 60 s"
fi
wait "$traffic"
kill "$poller" 2>/dev/null
wait "$poller" 2>/dev/null

section "what happened"
long_round >"$SO_DIR/after" || echo "long-lived connections: a round did not end"
sort -o "$SO_DIR/after" "$SO_DIR/after"
moved=0 kept=0 total=0
printf '  %-6s %-13s %-8s %-13s %-8s\n' PORT "VIA BEFORE" BACKEND "VIA AFTER" BACKEND
while read -r p b1; do
	b2=$(awk -v p="$p" '$1 == p {print $2}' "$SO_DIR/after")
	v1=$(awk -v p="$p" '$1 == p {print $2}' "$SO_DIR/via.before")
	v2=$(via "$p")
	total=$((total + 1))
	[ "$b1" = "$b2" ] && kept=$((kept + 1))
	[ "$v1" != "$v2" ] && moved=$((moved + 1))
	printf '  %-6s %-13s %-8s %-13s %-8s\n' "$p" "$v1" "$b1" "$v2" "$b2"
done <"$SO_DIR/before"
echo "  long-lived: $moved of $total moved to another node; $kept of $total kept their backend"
n=$(wc -l <"$SO_DIR/new")
ok=$(grep -c ' b[1-3]$' "$SO_DIR/new")
echo "  new connections: answered: $ok of $n"
grep ' FAIL ' "$SO_DIR/new" | while read -r p _ t rest; do
	echo "    failed: port $p, $((t - t0)) ms after the kill: $rest"
done
# Every change of the router's next hops during the traffic: the victim's withdrawal, and any
# session of another node that went down and up (a BFD timeout on a starved machine).
echo "  router's next hops for the VIP during the run (ms from the kill):"
while read -r t hops; do echo "    $((t - t0)) ms: $hops"; done <"$SO_DIR/nexthops"
for b in 1 2 3; do echo "    b$b: $(grep -c " b$b\$" "$SO_DIR/new")"; done
for k in 1 2 3; do
	[ "$k" = "$victim" ] && continue
	echo "  node $k: $(so_ctl "$k" stats | awk '$1 == "service" {print $NF " new flows scheduled"}')"
done
echo "  node $victim's log:"
grep -E 'announce|health' "$SO_DIR/pingd-n$victim.log" | tail -3 | sed 's/^/    /'
exec {CL[1]}>&-
wait "$CL_PID"
[ "$kept" -eq "$total" ] && [ "$ok" -eq "$n" ]
