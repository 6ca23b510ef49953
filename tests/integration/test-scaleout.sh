#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Scale-out end to end (scripts/scaleout-topo.sh): a router running BIRD with ECMP and BFD,
# three pingx nodes each announcing the VIP through pingd and BIRD, three backends, a client.
# The router has one next hop per ready node; a node whose backends fail their health checks
# announces nothing, and joining later moves no established flow to another backend; new
# connections spread over the nodes and are all answered; every node's table has the same
# digest (pingctl and /metrics); long-lived connections keep their backends when their node's
# link goes down; a drained node's route disappears, it takes no new flows and its established
# connections finish through the others; ready brings it back.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_scaleout_cluster test_scaleout_ipv6 test_scaleout_digest test_scaleout_bad_input \
	test_demo_multinode"

PX=pxso-$$
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
SO=$PX SO_PINS=/sys/fs/bpf/$PX SO_SERVE_SECONDS=600
source "$HERE/../../scripts/scaleout-topo.sh"

# Missing tools fail under CI=true and skip elsewhere.
need_tools() {
	local t
	for t in bird birdc curl ethtool nsenter; do
		if ! command -v $t >/dev/null; then
			echo "   missing $t (scripts/deps.sh installs it)" >&2
			[ "${CI:-}" = true ] && return 1
			return $SKIP
		fi
	done
	[ -x "$O/pingctl" ] && [ -x "$O/pingd" ] || { echo "   pingctl/pingd not built" >&2; return 1; }
}

need_root_ci() {
	need_root && return 0
	[ "${CI:-}" = true ] && return 1
	return $SKIP
}

# new_flows K: the flows node K's data plane scheduled for the VIP service so far.
new_flows() {
	so_ctl "$1" -j stats | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(sum(s["new_flows"] for s in d["services"]))'
}

# new_conns FIRST COUNT URL > out: COUNT new connections to URL from client ports FIRST..,
# 8 at a time, "PORT NAME" lines (NAME is the backend, or "FAIL CURL_EXIT").
new_conns() {
	seq "$1" $(($1 + $2 - 1)) | xargs -P 8 -I{} sh -c \
		"echo {} \$(nsenter --net=/run/netns/$SO-c curl -g -s -m 10 -H 'Connection: close' --local-port {} '$3' || echo FAIL \$?)"
}

# ct_ports K: the client ports of the flows node K tracks, one per line.
ct_ports() {
	so_ctl "$1" -j conntrack list | $PY -c '
import json, sys
for f in json.load(sys.stdin):
    print(f["client_port"])'
}

# via PORT: the node the router sends the long-lived connection from client port PORT to.
via() {
	ip -n "$SO-r" route get $SO_VIP from 10.210.9.2 iif veth-c ipproto tcp sport "$1" dport 80 |
		awk '{for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1)}'
}

# round > out: one request on every long-lived connection, "PORT NAME" lines.
round() {
	local line
	echo go >&"${CL[1]}"
	while read -r -t 60 line <&"${CL[0]}"; do
		[ "$line" = END ] && return 0
		echo "$line"
	done
	return 1
}

# same_backends A B: every connection answered in both rounds, by the same backend.
same_backends() {
	local a=$1 b=$2 bad
	bad=$(join "$a" "$b" | awk '$2 !~ /^b[1-3]$/ || $2 != $3')
	[ "$(wc -l <"$a")" -eq "$(wc -l <"$b")" ] && [ -z "$bad" ] && return 0
	echo "$bad" | head -5 | sed 's/^/   /'
	return 1
}

dump_state() {
	local k
	echo "   router: $(so_nexthops)"
	so_birdc r show protocols 2>&1 | sed 's/^/   r| /'
	for k in 1 2 3; do
		so_ctl "$k" node vips 2>&1 | sed "s/^/   n$k| /"
		tail -5 "$SO_DIR/pingd-n$k.log" 2>/dev/null | sed "s/^/   n$k log| /"
	done
}

test_scaleout_cluster() {
	local out k n t total moved dead other first
	need_root_ci || return
	need_tools || return
	SO_DIR=$(mktemp -d /tmp/pxso.XXXXXX)
	on_exit "rm -rf $SO_DIR"
	on_exit so_down
	so_up 3 || return 1
	out=$SO_DIR/out

	# 1. Nodes 1 and 2 are ready; node 3's health checks probe a dead port, so its backends
	# are down and it announces nothing.
	so_node_start 1 && so_node_start 2 && so_node_start 3 81 || return 1
	so_wait_nexthops "10.210.0.11 10.210.0.12" ||
		{ fail "the router does not route the VIP over nodes 1 and 2"; dump_state; return 1; }
	log "router: VIP via $(so_nexthops)"
	ip -n "$SO-n1" route show table $SO_TABLE | grep -q "^blackhole $SO_VIP proto 176" ||
		{ fail "node 1's announcement table: $(ip -n "$SO-n1" route show table $SO_TABLE)"; return 1; }
	for t in $(seq 1 100); do
		so_ctl 3 -j node vips | grep -q '"state":"no_backend"' && break
		sleep 0.1
	done
	so_ctl 3 -j node vips | grep -q '"state":"no_backend","services":1,"serving":0,"announced":false' ||
		{ fail "node 3 with failed health checks: $(so_ctl 3 -j node vips)"; return 1; }
	[ -z "$(ip -n "$SO-n3" route show table $SO_TABLE 2>/dev/null)" ] || { fail "node 3 announces"; return 1; }
	[ "$(so_ctl 3 table digest | awk '{print $3}')" = none ] || { fail "node 3 has a table"; return 1; }
	log "node 3: backends down by health checks, VIP not announced"

	# 2. Long-lived connections through nodes 1 and 2.
	coproc CL { so_nsx "$SO-c" $PY "$HERE/so_client.py" $SO_VIP 80 30000 24 2>&1; }
	on_exit "kill $CL_PID 2>/dev/null"
	read -r -t 30 first <&"${CL[0]}"
	[ "$first" = READY ] || { fail "long-lived connections: $first"; return 1; }
	round >"$out.r1" || { fail "round 1 did not end"; return 1; }
	grep -c ' b[1-3]$' "$out.r1" | grep -qx 24 || { fail "round 1: $(grep -v ' b[1-3]$' "$out.r1" | head -3)"; return 1; }
	sort -o "$out.r1" "$out.r1"

	# 3. Node 3 joins (its health checks now pass): the router adds it, and the flows ECMP
	# moves to it keep their backends (node 3 tracked none of them).
	so_node_reconfigure 3 80
	so_wait_nexthops "10.210.0.11 10.210.0.12 10.210.0.13" ||
		{ fail "node 3 did not join"; dump_state; return 1; }
	round >"$out.r2" || { fail "round 2 did not end"; return 1; }
	sort -o "$out.r2" "$out.r2"
	same_backends "$out.r1" "$out.r2" || { fail "a flow changed backend when node 3 joined"; return 1; }
	moved=$(ct_ports 3 | awk '$1 >= 30000 && $1 < 30024' | wc -l)
	log "node 3 joined: $moved of 24 long-lived flows now pass through it, all on their backends"
	[ "$moved" -gt 0 ] || { fail "no flow moved to node 3: the check proves nothing"; return 1; }

	# 4. The same table on every node, whatever order each added the backends in.
	for k in 1 2 3; do so_ctl "$k" table digest >"$out.d$k" || return 1; done
	cmp -s "$out.d1" "$out.d2" && cmp -s "$out.d1" "$out.d3" ||
		{ fail "digests differ: $(cat "$out.d1" "$out.d2" "$out.d3")"; return 1; }
	grep -Eq "^$SO_VIP:80/tcp +maglev +[0-9a-f]{16}\$" "$out.d1" || { fail "digest: $(cat "$out.d1")"; return 1; }
	t=$(awk '{print $3}' "$out.d1")
	so_ctl 2 -j table digest "$SO_VIP:80" | $PY -c '
import json, sys
d = json.load(sys.stdin)
assert d == [{"service": sys.argv[1], "algo": "maglev", "digest": sys.argv[2]}], d' "$SO_VIP:80/tcp" "$t" ||
		{ fail "table digest -j"; return 1; }
	for k in 1 3; do
		so_nsx "$SO-n$k" curl -s http://127.0.0.1:18482/metrics >"$out.m$k"
		grep -qx "pingx_xdp_table_digest{service=\"$SO_VIP:80/tcp\",digest=\"$t\"} 1" "$out.m$k" ||
			{ fail "node $k /metrics: $(grep -E 'digest|vip_ready' "$out.m$k")"; return 1; }
		grep -qx "pingx_vip_ready{vip=\"$SO_VIP\",state=\"ready\"} 1" "$out.m$k" ||
			{ fail "node $k /metrics: $(grep vip_ready "$out.m$k")"; return 1; }
	done
	log "table digest $t on every node, in pingctl and /metrics"

	# 5. 200 new connections: all answered, spread over the three nodes.
	for k in 1 2 3; do eval "nf$k=$(new_flows $k)"; done
	new_conns 40000 200 "http://$SO_VIP/" >"$out.new"
	n=$(grep -c ' b[1-3]$' "$out.new")
	[ "$n" -eq 200 ] || { fail "$((200 - n)) of 200 new connections failed: $(grep -v ' b[1-3]$' "$out.new" | head -3)"; dump_state; return 1; }
	for k in 1 2 3; do
		eval "t=\$((\$(new_flows $k) - nf$k))"
		log "node $k scheduled $t of the 200 new connections"
		[ "$t" -gt 0 ] || { fail "node $k took no new connection"; return 1; }
	done

	# 6. The node with the most long-lived flows loses its link abruptly: BFD tells the
	# router, which moves its flows to the others; each keeps its backend.
	for t in $(seq 30000 30023); do via "$t"; done | sort | uniq -c | sort -rn >"$out.via"
	read -r n dead <"$out.via"
	dead=${dead#10.210.0.1}
	ip -n "$SO-r" link set "n$dead-br" down
	case $dead in 1) want="10.210.0.12 10.210.0.13" ;; 2) want="10.210.0.11 10.210.0.13" ;;
	*) want="10.210.0.11 10.210.0.12" ;; esac
	so_wait_nexthops "$want" || { fail "the router still routes over node $dead"; dump_state; return 1; }
	round >"$out.r3" || { fail "round 3 did not end"; return 1; }
	sort -o "$out.r3" "$out.r3"
	same_backends "$out.r1" "$out.r3" || { fail "flows of the lost node $dead changed backend"; return 1; }
	log "node $dead's link down: the $n long-lived flows it carried moved to the others, same backends"

	# 7. Drain another node: its route goes, it takes no new flows, and the established
	# connections it carried finish through the last node.
	for other in 1 2 3; do [ "$other" != "$dead" ] && break; done
	so_ctl "$other" node drain >/dev/null || return 1
	case "$want" in "10.210.0.1$other "*) want=${want#* } ;; *) want=${want% *} ;; esac
	so_wait_nexthops "$want" || { fail "node $other's route stays after drain"; dump_state; return 1; }
	so_ctl "$other" -j node vips | grep -q '"draining":true.*"state":"draining".*"announced":false' ||
		{ fail "node vips after drain: $(so_ctl "$other" -j node vips)"; return 1; }
	[ -z "$(ip -n "$SO-n$other" route show table $SO_TABLE 2>/dev/null)" ] || { fail "drained node announces"; return 1; }
	t=$(new_flows "$other")
	new_conns 41000 50 "http://$SO_VIP/" >"$out.drain"
	n=$(grep -c ' b[1-3]$' "$out.drain")
	[ "$n" -eq 50 ] || { fail "$((50 - n)) of 50 connections failed after the drain"; return 1; }
	[ "$(new_flows "$other")" -eq "$t" ] || { fail "the drained node took new flows"; return 1; }
	round >"$out.r4" || { fail "round 4 did not end"; return 1; }
	sort -o "$out.r4" "$out.r4"
	same_backends "$out.r1" "$out.r4" || { fail "flows changed backend after the drain"; return 1; }
	exec {CL[1]}>&-
	wait "$CL_PID" || { fail "the long-lived connections did not finish cleanly"; return 1; }
	log "node $other drained: route withdrawn, no new flows, 24 connections finished cleanly"

	# 8. Ready again: announced again.
	so_ctl "$other" node ready >/dev/null || return 1
	want=$(echo "$want 10.210.0.1$other" | tr ' ' '\n' | sort | tr '\n' ' ')
	so_wait_nexthops "${want% }" || { fail "node $other not back after ready"; dump_state; return 1; }
	grep -q "announce: $SO_VIP withdrawn (draining" "$SO_DIR/pingd-n$other.log" ||
		{ fail "pingd did not log the withdrawal"; return 1; }
	log "node $other ready: the router routes over $(so_nexthops)"

	# 9. A moment when no node announces the VIP (both drained here; BFD timing out every
	# session at once does the same): the router's blackhole for the VIP range drops a new
	# connection's SYN instead of answering "unreachable", so the client is still trying
	# when the nodes come back, and is answered.
	for k in $want; do so_ctl "${k#10.210.0.1}" node drain >/dev/null || return 1; done
	so_wait_nexthops "" || { fail "routes left with every node drained"; dump_state; return 1; }
	so_nsx "$SO-c" curl -s -m 30 -H 'Connection: close' http://$SO_VIP/ >"$out.gap" 2>&1 &
	t=$!
	sleep 1.5
	kill -0 "$t" 2>/dev/null || { fail "the connection failed at once with no route: $(cat "$out.gap")"; return 1; }
	for k in $want; do so_ctl "${k#10.210.0.1}" node ready >/dev/null || return 1; done
	wait "$t" || { fail "the connection made during the gap failed: $(cat "$out.gap")"; return 1; }
	grep -qx 'b[1-3]' "$out.gap" || { fail "answer after the gap: $(cat "$out.gap")"; return 1; }
	log "no route for a moment: the connection waited (SYN retried) and was answered by $(cat "$out.gap")"
}

# An IPv6 VIP through the same topology (SO_V6=1: IPv6 on every link, BGP's ipv6 channel, the
# router's IPv6 multipath route, IPv6 in IPv6 to the backends): every node announces it, new
# connections are all answered and spread over the nodes, a drained node's IPv6 route goes.
test_scaleout_ipv6() {
	local out k n t want
	need_root_ci || return
	need_tools || return
	SO_DIR=$(mktemp -d /tmp/pxso.XXXXXX)
	on_exit "rm -rf $SO_DIR"
	on_exit so_down
	SO_V6=1
	so_up 3 || return 1
	out=$SO_DIR/out
	for k in 1 2 3; do so_node_start "$k" || return 1; done
	want="fd00:210::11 fd00:210::12 fd00:210::13"
	so_wait_nexthops "$want" 300 so_nexthops6 ||
		{ fail "the router's IPv6 route: '$(so_nexthops6)'"; ip -n "$SO-r" -6 route | sed 's/^/   r| /'; dump_state; return 1; }
	log "router: $SO_VIP6 via $(so_nexthops6)"
	ip -n "$SO-n1" -6 route show table $SO_TABLE | grep -q "^blackhole $SO_VIP6 .*proto 176" ||
		{ fail "node 1's IPv6 announcement: $(ip -n "$SO-n1" -6 route show table $SO_TABLE)"; return 1; }
	for k in 1 2 3; do eval "nf$k=$(new_flows $k)"; done
	new_conns 42000 120 "http://[$SO_VIP6]/" >"$out.new"
	n=$(grep -c ' b[1-3]$' "$out.new")
	[ "$n" -eq 120 ] || { fail "$((120 - n)) of 120 IPv6 connections failed: $(grep -v ' b[1-3]$' "$out.new" | head -3)"; dump_state; return 1; }
	for k in 1 2 3; do
		eval "t=\$((\$(new_flows $k) - nf$k))"
		log "node $k scheduled $t of the 120 IPv6 connections"
		[ "$t" -gt 0 ] || { fail "node $k took no IPv6 connection"; return 1; }
	done
	so_ctl 2 node drain >/dev/null || return 1
	so_wait_nexthops "fd00:210::11 fd00:210::13" 300 so_nexthops6 ||
		{ fail "node 2's IPv6 route stays after drain: $(so_nexthops6)"; return 1; }
	new_conns 42200 40 "http://[$SO_VIP6]/" >"$out.drain"
	n=$(grep -c ' b[1-3]$' "$out.drain")
	[ "$n" -eq 40 ] || { fail "$((40 - n)) of 40 IPv6 connections failed after the drain"; return 1; }
	log "node 2 drained: the router routes $SO_VIP6 over $(so_nexthops6), 40 of 40 answered"
}

# Digests: equal for the same backends added in any order (Maglev and ketama), different when
# the backend set, a weight or the hash seed differs, "none" without a usable backend.
test_scaleout_digest() {
	local a=/sys/fs/bpf/$PX-da b=/sys/fs/bpf/$PX-db d1 d2 s
	need_root_ci || return
	[ -x "$O/pingctl" ] || { echo "   pingctl not built" >&2; return 1; }
	on_exit "'$O/pingctl' --bpffs $a unload; '$O/pingctl' --bpffs $b unload; rm -rf $a $b"
	pa() { "$O/pingctl" --bpffs "$a" "$@"; }
	pb() { "$O/pingctl" --bpffs "$b" "$@"; }
	for s in 192.0.2.1:80 "192.0.2.2:53/udp --algo ketama"; do
		pa service add $s --table-size 251 >/dev/null 2>&1 || pa service add $s || return 1
		pb service add $s --table-size 251 >/dev/null 2>&1 || pb service add $s || return 1
	done
	pa service list >/dev/null || return 1
	[ "$(pa table digest 192.0.2.1:80 | awk '{print $3}')" = none ] || { fail "empty table: $(pa table digest)"; return 1; }
	for s in 192.0.2.1:80 192.0.2.2:53/udp; do
		for i in 1 2 3 4; do pa backend add $s 198.51.100.$i || return 1; done
		for i in 4 2 3 1; do pb backend add $s 198.51.100.$i || return 1; done
	done
	# Ids differ between the two: each added the backends in its own order.
	d1=$(pa table digest) && d2=$(pb table digest) || return 1
	[ "$d1" = "$d2" ] || { fail "same backends, other order: $d1 / $d2"; return 1; }
	[ "$(echo "$d1" | grep -Ec ' (maglev|ketama) +[0-9a-f]{16}$')" = 2 ] || { fail "digest: $d1"; return 1; }
	pb backend set 192.0.2.1:80 198.51.100.3 --weight 2 || return 1
	[ "$(pb table digest 192.0.2.1:80)" != "$(pa table digest 192.0.2.1:80)" ] || { fail "a weight change left the digest"; return 1; }
	[ "$(pb table digest 192.0.2.2:53/udp)" = "$(pa table digest 192.0.2.2:53/udp)" ] || { fail "another service's digest moved"; return 1; }
	pb backend set 192.0.2.1:80 198.51.100.3 --weight 1 || return 1
	[ "$(pb table digest)" = "$d1" ] || { fail "the weight back did not restore the digest"; return 1; }
	pb backend set 192.0.2.2:53/udp 198.51.100.2 --down || return 1
	[ "$(pb table digest 192.0.2.2:53/udp)" != "$(pa table digest 192.0.2.2:53/udp)" ] || { fail "a down backend left the ring's digest"; return 1; }
	pb backend set 192.0.2.2:53/udp 198.51.100.2 --up || return 1
	pb node set --seed 7 || return 1
	[ "$(pb table digest 192.0.2.1:80)" != "$(pa table digest 192.0.2.1:80)" ] || { fail "another seed, same digest"; return 1; }
	log "$d1"
}

# Bad arguments get one line, exit status 2, and change nothing.
test_scaleout_bad_input() {
	local pin=/sys/fs/bpf/$PX-bad ns=$PX-bad before rc a
	need_root_ci || return
	[ -x "$O/pingctl" ] && [ -x "$O/pingd" ] || { echo "   pingctl/pingd not built" >&2; return 1; }
	SO_DIR=$(mktemp -d /tmp/pxso.XXXXXX)
	on_exit "rm -rf $SO_DIR"
	netns_add "$ns" || return 1
	on_exit "'$O/pingctl' --bpffs $pin unload; rm -rf $pin"
	pc() { nsx "$ns" "$O/pingctl" --bpffs "$pin" "$@"; }
	pc service add 192.0.2.1:80 || return 1
	pc backend add 192.0.2.1:80 198.51.100.1 || return 1
	before=$(pc -j node show)
	for a in "node drain --table" "node drain --table 0" "node drain --table 254" \
		"node drain --table x" "node ready --tabel 5" "node vips extra" \
		"table digest 192.0.2.1:80 extra" "table digest nope:80" \
		"table frob"; do
		pc $a >/dev/null 2>"$SO_DIR.err"
		rc=$?
		[ "$rc" -eq 2 ] || { fail "pingctl $a: exit $rc"; cat "$SO_DIR.err"; return 1; }
		[ "$(wc -l <"$SO_DIR.err")" -le 2 ] || { fail "pingctl $a: $(cat "$SO_DIR.err")"; return 1; }
	done
	rm -f "$SO_DIR.err"
	[ "$(pc -j node show)" = "$before" ] || { fail "a refused command changed the node"; return 1; }
	pc table digest 192.0.2.99:80 2>/dev/null
	[ $? -eq 1 ] || { fail "digest of a missing service"; return 1; }
	pc -j node vips | grep -q '"state":"detached"' || { fail "unattached node: $(pc -j node vips)"; return 1; }
	# pingd refuses a kernel table that is not its own, and pingd -t says so too.
	cat >"$SO_DIR/bad.yaml" <<EOF
listeners: [{address: 127.0.0.1:18480}]
upstreams: [{name: none, servers: [{address: 127.0.0.1:18481}]}]
virtual_hosts: [{name: main, hosts: '*', routes: [{path: /, upstream: none}]}]
l4_pin_dir: $pin
l4_announce: true
l4_announce_table: 254
EOF
	timeout 20 nsenter --net=/run/netns/"$ns" "$O/pingd" -c "$SO_DIR/bad.yaml" >"$SO_DIR/log" 2>&1
	rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "'l4_announce_table': 254 is the kernel's 'main' table" "$SO_DIR/log" ||
		{ fail "pingd with table 254: exit $rc: $(cat "$SO_DIR/log")"; return 1; }
	"$O/pingd" -t -c "$SO_DIR/bad.yaml" >"$SO_DIR/log" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] && grep -q "'l4_announce_table': 254 is the kernel's 'main' table" "$SO_DIR/log" ||
		{ fail "pingd -t with table 254: exit $rc: $(cat "$SO_DIR/log")"; return 1; }
}

# make demo-multinode: a node dies mid-run; every connection is answered, the long-lived
# ones keep their backends, and nothing is left behind.
test_demo_multinode() {
	local out ns
	need_root_ci || return
	need_tools || return
	export DEMO_NS=pxmn-$$ DEMO_PINS=/sys/fs/bpf/pxmn-$$
	on_exit "SO=$DEMO_NS SO_PINS=$DEMO_PINS so_down"
	out=$(SECONDS_RUN=6 LONG=8 O=$O bash "$PINGX_TOP/scripts/demo-multinode.sh" 2>&1)
	[ $? = 0 ] || { fail "demo-multinode failed"; echo "$out" | tail -30; return 1; }
	echo "$out" | grep -Eq "^router: node [1-3]'s next hop gone " || { fail "no failover"; echo "$out"; return 1; }
	echo "$out" | grep -q '^  long-lived: [0-9]* of 8 moved to another node; 8 of 8 kept their backend$' ||
		{ fail "long-lived connections"; echo "$out"; return 1; }
	echo "$out" | grep -Eq '^  new connections: answered: ([1-9][0-9]*) of \1$' ||
		{ fail "new connections"; echo "$out"; return 1; }
	echo "$out" | grep -E 'gone|long-lived:|answered' | sed 's/^ */   /'
	ns=$(ip netns list | grep "^$DEMO_NS-")
	[ -z "$ns" ] && [ ! -e "$DEMO_PINS" ] || { fail "left behind: $ns $DEMO_PINS"; return 1; }
}

run_tests "$@"
