#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The XDP data plane end to end: a client, the load balancer and four backends on one L2
# segment (a bridge in the balancer's namespace; the balancer answers with XDP_TX out of its
# one interface), each backend decapsulating with pingx's own program and serving HTTP with
# its name. For each forwarding mode: 300 connections spread evenly, a long-lived
# connection keeps its backend while backends come and go, and removing a backend moves only
# its own flows. Then a routed layout, where the balancer redirects to the backends'
# interfaces through its DEVMAP, next hops from the kernel's FIB.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_l4_ipip test_l4_gue test_l4_l2_dsr test_l4_ipv6 test_l4_routed_redirect"

PX=px-l4-$$
NS_C=$PX-c
NS_LB=$PX-lb
PINS=/sys/fs/bpf/$PX
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
VIP4=10.201.100.1 # as scripts/topo.sh
VIP6=fd00:201:100::1
TOPO=$PX TOPO_PINS=$PINS TOPO_LB_PIN=$PINS/lb TOPO_SERVE_SECONDS=300
source "$HERE/../../scripts/topo.sh"

lbctl() { nsx "$NS_LB" "$O/pingctl" --bpffs "$PINS/lb" "$@"; }
mac_of() { ip -n "$1" -j link show dev "$2" | $PY -c 'import json,sys;print(json.load(sys.stdin)[0]["address"])'; }

# The topology (scripts/topo.sh, shared with make demo): namespaces, programs, servers.
setup_topo() {
	need_root || return
	for t in ethtool curl nsenter; do
		command -v $t >/dev/null || { echo "   missing $t" >&2; return $SKIP; }
	done
	[ -x "$O/pingctl" ] || { echo "   $O/pingctl not built" >&2; return 1; }
	on_exit topo_down
	topo_up 4
}

# add_backends VIP_SVC FAMILY FWD N...: add backends N (1..4) to the service.
add_backend() {
	local svc=$1 family=$2 i=$3 addr mac
	if [ "$family" = 6 ]; then addr=fd00:201::1$i; else addr=10.201.0.1$i; fi
	mac=$(mac_of "$PX-b$i" eth0)
	lbctl backend add "$svc" "$addr" --mac "$mac"
}
del_backend() {
	local svc=$1 family=$2 i=$3
	if [ "$family" = 6 ]; then lbctl backend del "$svc" fd00:201::1$i; else
		lbctl backend del "$svc" 10.201.0.1$i; fi
}

# curl_ports URL FIRST COUNT > out: one connection per client port, "PORT NAME" lines.
curl_ports() {
	local url=$1 first=$2 count=$3
	seq "$first" $((first + count - 1)) | xargs -P 8 -I{} sh -c \
		"echo {} \$(ip netns exec $NS_C curl -gs -m 10 -H 'Connection: close' --local-port {} $url || echo FAIL \$?)"
}

scenario() {
	local fwd=$1 family=$2 vip svc url out i n first want moved kept total
	setup_topo || return
	if [ "$family" = 6 ]; then vip=$VIP6; svc="[$VIP6]:80"; url="http://[$VIP6]/"; else
		vip=$VIP4; svc="$VIP4:80"; url="http://$VIP4/"; fi
	lbctl service add "$svc" --fwd "$fwd" || return 1
	for i in 1 2 3; do add_backend "$svc" "$family" $i || return 1; done
	out=$(mktemp) && on_exit "rm -f $out"

	# 0. One request first, to fail fast with the counters when nothing gets through.
	if ! ip netns exec "$NS_C" curl -gs -m 3 "$url" | grep -q '^b[1-3]$'; then
		fail "no answer from $url"
		lbctl stats | grep -E 'service|backend|[a-z_]+ +[1-9]' | sed 's/^/   /'
		return 1
	fi

	# 1. 300 connections from distinct ports: all answered, each backend 100 +- 25.
	curl_ports "$url" 20000 300 >"$out"
	n=$(grep -c ' b[1-3]$' "$out")
	[ "$n" -eq 300 ] || { fail "$((300 - n)) of 300 requests failed (port, curl exit code):"; grep -v ' b[1-3]$' "$out" | head -5 | sed 's/^/   /'; lbctl stats; return 1; }
	for i in 1 2 3; do
		n=$(grep -c " b$i\$" "$out")
		log "b$i: $n of 300"
		[ "$n" -ge 75 ] && [ "$n" -le 125 ] || { fail "b$i got $n, not 100 +- 25"; return 1; }
	done

	# 2. A long-lived connection keeps its backend while b4 joins and another leaves.
	local ka=$out.ka
	on_exit "rm -f $ka"
	spawn ip netns exec "$NS_C" $PY "$HERE/l4_client.py" "$vip" 80 30 0.2 >"$ka"
	local kpid=$SPAWNED_PID tries=50
	while [ ! -s "$ka" ] && [ $tries -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	first=$(head -1 "$ka")
	[ -n "$first" ] || { fail "the long-lived connection got no answer"; return 1; }
	add_backend "$svc" "$family" 4 || return 1
	sleep 1
	for i in 1 2 3; do [ "b$i" != "$first" ] && break; done
	del_backend "$svc" "$family" $i || return 1
	wait "$kpid" || { fail "the long-lived connection failed"; cat "$ka"; return 1; }
	n=$(grep -c "^$first\$" "$ka")
	[ "$n" -eq 30 ] || { fail "the long-lived connection moved: $(sort "$ka" | uniq -c | tr '\n' ' ')"; return 1; }
	log "long-lived connection stayed on $first for 30 requests (b4 added, b$i removed)"

	# 3. Removing a backend moves only its own flows. Backends now: the three others.
	# Same client ports twice; each connection ends with a reset (no TIME_WAIT to reuse).
	ip netns exec "$NS_C" $PY "$HERE/l4_ports.py" "$vip" 80 21000 150 >"$out.before"
	on_exit "rm -f $out.before $out.after"
	for want in 1 2 3 4; do [ "b$want" != "b$i" ] && [ "b$want" != "$first" ] && break; done
	del_backend "$svc" "$family" "$want" || return 1
	ip netns exec "$NS_C" $PY "$HERE/l4_ports.py" "$vip" 80 21000 150 >"$out.after"
	total=0 kept=0 moved=0
	while read -r port name; do
		local now
		now=$(awk -v p="$port" '$1 == p {print $2}' "$out.after")
		case "$now" in b[1-4]) ;; *) fail "port $port failed after the removal ($now)"; head -5 "$out.before" "$out.after"; lbctl stats | grep -E ' [1-9]'; return 1 ;; esac
		[ "$now" = "b$want" ] && { fail "port $port still reaches the removed b$want"; return 1; }
		if [ "$name" = "b$want" ]; then
			moved=$((moved + 1))
		else
			total=$((total + 1))
			[ "$now" = "$name" ] && kept=$((kept + 1))
		fi
	done <"$out.before"
	log "removed b$want: its $moved flows moved; $kept of the other $total kept their backend"
	[ "$moved" -gt 0 ] && [ $((kept * 100)) -ge $((total * 97)) ] ||
		{ fail "removing b$want disturbed other flows"; return 1; }
	lbctl stats | grep -E 'service|drop_[a-z_]+ +[1-9]' | sed 's/^/   /'
	return 0
}

test_l4_ipip() { scenario ipip 4; }
test_l4_gue() { scenario gue 4; }
test_l4_l2_dsr() { scenario l2 4; }
test_l4_ipv6() { scenario ipip 6; }

# Routed: client -- veth-c [lb] veth-b1..3 -- backends, one link each. The balancer finds each
# backend's interface with bpf_fib_lookup() and redirects there through lb_tx_ports; the
# backends' replies return through the balancer's kernel forwarding.
test_l4_routed_redirect() {
	local i ns out n
	need_root || return
	[ -x "$O/pingctl" ] || { echo "   $O/pingctl not built" >&2; return 1; }
	mkdir -p "$PINS" && on_exit "rm -rf $PINS"
	netns_add "$NS_C" && netns_add "$NS_LB" || return 1
	ip netns exec "$NS_LB" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
	ip -n "$NS_LB" link add veth-c type veth peer name eth0 netns "$NS_C"
	ip -n "$NS_LB" addr add 10.202.1.1/24 dev veth-c
	ip -n "$NS_LB" link set veth-c up
	ip -n "$NS_C" addr add 10.202.1.2/24 dev eth0
	ip -n "$NS_C" link set eth0 up
	ip -n "$NS_C" route add default via 10.202.1.1
	ip netns exec "$NS_C" ethtool -K eth0 tx off >/dev/null
	for i in 1 2 3; do
		ns=$PX-b$i
		netns_add "$ns" || return 1
		ip -n "$NS_LB" link add veth-b$i type veth peer name eth0 netns "$ns"
		ip -n "$NS_LB" addr add 10.202.1$i.1/24 dev veth-b$i
		ip -n "$NS_LB" link set veth-b$i mtu 1600 up
		ip -n "$ns" addr add 10.202.1$i.2/24 dev eth0
		ip -n "$ns" link set eth0 mtu 1600 up
		ip -n "$ns" route add default via 10.202.1$i.1
		ip -n "$ns" addr add $VIP4/32 dev lo
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2
		# Its XDP program also gives the backend's veth the NAPI a native redirect needs.
		nsx "$ns" "$O/pingctl" --bpffs "$PINS/b$i" decap attach eth0 --mode native ||
			return 1
		spawn ip netns exec "$ns" $PY "$HERE/l4_server.py" b$i 80 300
		ip -n "$NS_LB" neigh replace 10.202.1$i.2 lladdr "$(mac_of "$ns" eth0)" \
			dev veth-b$i nud permanent
	done
	lbctl node set --src4 10.202.1.1 --mtu 1600 || return 1
	lbctl attach veth-c --mode native --egress veth-b1 --egress veth-b2 --egress veth-b3 ||
		return 1
	lbctl service add $VIP4:80 --fwd ipip || return 1
	for i in 1 2 3; do lbctl backend add $VIP4:80 10.202.1$i.2 || return 1; done
	for i in 1 2 3; do
		wait_port 10.202.1$i.2 80 "$NS_C" 100 || { fail "backend $i not listening"; return 1; }
	done
	out=$(mktemp) && on_exit "rm -f $out"
	curl_ports "http://$VIP4/" 20000 300 >"$out"
	n=$(grep -c ' b[1-3]$' "$out")
	[ "$n" -eq 300 ] || { fail "$((300 - n)) of 300 requests failed"; lbctl stats | grep -E ' [1-9]'; return 1; }
	for i in 1 2 3; do
		n=$(grep -c " b$i\$" "$out")
		log "b$i: $n of 300"
		[ "$n" -ge 75 ] && [ "$n" -le 125 ] || { fail "b$i got $n, not 100 +- 25"; return 1; }
	done
	n=$(lbctl -j stats | $PY -c 'import json,sys; print(json.load(sys.stdin)["reasons"]["fwd_redirect"])')
	log "fwd_redirect: $n"
	[ "$n" -ge 900 ] || { fail "only $n packets redirected"; return 1; }
	lbctl detach veth-c || return 1
	! ls "$PINS/lb" | grep -q '^link_xdp_veth-c' || { fail "link pin left after detach"; return 1; }
}

run_tests "$@"
