#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The per-source new-flow guard of an L4 service (pingctl service --syn-rate) end to end: a
# SYN flood from one source (a raw socket in the client's namespace) is dropped in XDP and
# counted as drop_src_rate, while a second source connects and the flooding source's own
# established connection goes on answering.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_syn_flood_one_source"

PX=px-syn-$$
NS_C=$PX-c
NS_LB=$PX-lb
PINS=/sys/fs/bpf/$PX
HERE=$(cd "$(dirname "$0")" && pwd)
VIP4=10.201.100.1 # as scripts/topo.sh
TOPO=$PX TOPO_PINS=$PINS TOPO_LB_PIN=$PINS/lb TOPO_SERVE_SECONDS=120
source "$HERE/../../scripts/topo.sh"

lbctl() { nsx "$NS_LB" "$O/pingctl" --bpffs "$PINS/lb" "$@"; }

# A reason's counter from pingctl -j stats: reason NAME
reason() {
	lbctl -j stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["reasons"][sys.argv[1]])' "$1"
}

test_syn_flood_one_source() {
	local out drops held
	need_root || return
	for t in curl nsenter python3; do
		command -v $t >/dev/null || { echo "   missing $t" >&2; return $SKIP; }
	done
	[ -x "$O/pingctl" ] || { echo "   $O/pingctl not built" >&2; return 1; }
	TMP=$(mktemp -d) && on_exit "rm -rf $TMP"
	on_exit topo_down
	topo_up 1 || return 1
	ip -n "$NS_C" addr add 10.201.0.3/24 dev eth0 || return 1
	lbctl service add $VIP4:80 --syn-rate 20:10 || return 1
	lbctl backend add $VIP4:80 10.201.0.11 || return 1
	out=$(lbctl -j service show $VIP4:80)
	log "service: $out"
	case "$out" in *'"syn_rate":20,"syn_burst":10'*) ;; *) fail "--syn-rate not shown"; return 1 ;; esac
	# An established connection of the source that will flood.
	nsx "$NS_C" python3 "$HERE/syn_flood.py" hold 10.201.0.2 $VIP4 80 "$TMP/go" >"$TMP/held" &
	held=$!
	on_exit "kill $held 2>/dev/null"
	for i in $(seq 100); do grep -q ready "$TMP/held" && break; sleep 0.1; done
	grep -q ready "$TMP/held" || { cat "$TMP/held"; fail "no connection before the flood"; return 1; }
	nsx "$NS_C" python3 "$HERE/syn_flood.py" flood 10.201.0.2 $VIP4 80 3000 || return 1
	drops=$(reason drop_src_rate)
	log "drop_src_rate after 3000 SYNs: $drops"
	[ "$drops" -ge 1500 ] || { fail "the flood was not dropped"; return 1; }
	out=$(nsx "$NS_C" curl -s -m 5 --interface 10.201.0.3 http://$VIP4/)
	[ "$out" = b1 ] || { fail "the second source was not served: '$out'"; return 1; }
	touch "$TMP/go"
	wait $held
	out=$(cat "$TMP/held")
	log "established connection: $out"
	[ "$out" = "ready
b1 b1" ] || { fail "the flooding source's established connection broke"; return 1; }
	# Off again: the source connects at once.
	lbctl service set $VIP4:80 --syn-rate off || return 1
	out=$(nsx "$NS_C" curl -s -m 5 --interface 10.201.0.2 http://$VIP4/)
	[ "$out" = b1 ] || { fail "the guard off, the source was not served: '$out'"; return 1; }
	# Bad values exit 2.
	for bad in 0 -1 abc 20:x 10000001 20:1000001; do
		lbctl service set $VIP4:80 --syn-rate "$bad" 2>/dev/null
		[ $? -eq 2 ] || { fail "--syn-rate '$bad' did not exit 2"; return 1; }
	done
}

run_tests "$@"
