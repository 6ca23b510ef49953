#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo (scripts/demo.sh): it balances real connections over its three backends, prints
# the spread and the counters, and leaves nothing behind (namespaces, pins); with KEEP=1 it
# stays up until `demo.sh down`, and a second demo refuses to start over a kept one. Pins left
# by a demo that was killed do not stop the next one; an attached program in its pin
# directory does. Each test runs the demo under namespace and pin names of its own.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_demo test_demo_keep test_demo_stale_pins test_demo_live_pins"

DEMO="$PINGX_TOP/scripts/demo.sh"
PY=/usr/bin/python3

# Names of this test's demo: DEMO_NS, DEMO_PINS (exported for demo.sh).
demo_setup() {
	need_root || return
	[ -x "$O/pingctl" ] || { echo "   $O/pingctl not built" >&2; return 1; }
	export DEMO_NS=pxdemo-$$-$RANDOM
	export DEMO_PINS=/sys/fs/bpf/$DEMO_NS
	on_exit "O=$O bash $DEMO down"
}

# Nothing of the demo is left.
demo_gone() {
	local ns
	ns=$(ip netns list | grep "^$DEMO_NS-")
	[ -z "$ns" ] || { fail "namespaces left: $ns"; return 1; }
	[ ! -e "$DEMO_PINS" ] || { fail "$DEMO_PINS left"; return 1; }
}

test_demo() {
	local out i n
	demo_setup || return
	out=$(REQUESTS=90 O=$O bash "$DEMO" 2>&1)
	[ $? = 0 ] || { fail "demo failed"; echo "$out"; return 1; }
	echo "$out" | grep -q '^   answered: 90 of 90$' || { fail "not all answered"; echo "$out"; return 1; }
	for i in 1 2 3; do
		n=$(echo "$out" | grep -E "^   b$i +10\.201\.0\.1$i +[0-9]+ " | awk '{print $3}')
		log "b$i: $n of 90"
		[ -n "$n" ] && [ "$n" -ge 15 ] || { fail "b$i got '$n' of 90"; echo "$out"; return 1; }
	done
	# pingctl stats: the service forwarded the traffic, 90 new flows.
	echo "$out" | grep -Eq '^service +10\.201\.100\.1:80 +[0-9]+ +[0-9]+ +90( |$)' ||
		{ fail "stats missing"; echo "$out"; return 1; }
	echo "$out" | grep -q '^fwd_tx ' || { fail "reasons missing"; echo "$out"; return 1; }
	demo_gone
}

test_demo_keep() {
	local out
	demo_setup || return
	out=$(REQUESTS=30 KEEP=1 O=$O bash "$DEMO" 2>&1)
	[ $? = 0 ] || { fail "demo KEEP=1 failed"; echo "$out"; return 1; }
	echo "$out" | grep -q 'make demo-down' || { fail "no hint to make demo-down"; return 1; }
	# Up: the explore commands it prints work.
	echo "$out" | grep -q "pingctl --bpffs $DEMO_PINS/lb status" ||
		{ fail "no status command for the demo's pin directory"; echo "$out"; return 1; }
	"$O/pingctl" --bpffs "$DEMO_PINS/lb" -j status | $PY -c '
import json, sys
s = json.load(sys.stdin)
assert s["services"] == 1 and s["backends"] == 3, s
assert [(a["interface"], a["netns"], a["state"]) for a in s["attached"]] == \
    [("lb0", sys.argv[1], "attached")], s' "$DEMO_NS-lb" ||
		{ fail "pingctl status on the kept demo"; return 1; }
	bpftool map dump pinned "$DEMO_PINS/lb/lb_backends" | grep -q '"state": 1' ||
		{ fail "bpftool map dump on the kept demo"; return 1; }
	nsx "$DEMO_NS-c" curl -s -m 3 http://10.201.100.1/ | grep -q '^b[1-3]$' ||
		{ fail "the kept demo does not answer"; return 1; }
	# A second demo refuses to start over it, and leaves it alone.
	out=$(O=$O bash "$DEMO" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q 'already up' || { fail "second demo: $out"; return 1; }
	[ -e "$DEMO_PINS/lb/lb_services" ] || { fail "the second demo removed the first"; return 1; }
	O=$O bash "$DEMO" down | grep -q removed || { fail "demo down"; return 1; }
	demo_gone
}

# A demo killed before its teardown leaves pins whose namespaces are gone (severed links,
# maps): the next demo says so, removes them and runs.
test_demo_stale_pins() {
	local out ns i
	demo_setup || return
	out=$(REQUESTS=10 KEEP=1 O=$O bash "$DEMO" 2>&1) || { fail "demo: $out"; return 1; }
	for ns in $(ip netns list | awk -v p="$DEMO_NS-" 'index($1, p) == 1 {print $1}'); do
		ip netns pids "$ns" | xargs -r kill
		ip netns del "$ns"
	done
	[ -e "$DEMO_PINS/lb/lb_meta" ] || { fail "no pins left to test with"; return 1; }
	# The kernel tears a deleted namespace's devices down in the background: wait for it.
	for i in $(seq 1 100); do
		"$O/pingctl" --bpffs "$DEMO_PINS/lb" status | grep -Eq '^lb0 .* severed +balancer$' && break
		sleep 0.1
	done
	"$O/pingctl" --bpffs "$DEMO_PINS/lb" status | grep -Eq '^lb0 .* severed +balancer$' ||
		{ fail "status does not show the severed link: $("$O/pingctl" --bpffs "$DEMO_PINS/lb" status)"; return 1; }
	out=$(REQUESTS=30 O=$O bash "$DEMO" 2>&1)
	[ $? = 0 ] || { fail "demo over stale pins failed"; echo "$out"; return 1; }
	echo "$out" | grep -q "removing stale pins in $DEMO_PINS" || { fail "no word on the stale pins"; echo "$out"; return 1; }
	echo "$out" | grep -q '^   answered: 30 of 30$' || { fail "not all answered"; echo "$out"; return 1; }
	demo_gone
}

# An attached program in the demo's pin directory is someone's live data plane: the demo
# refuses, names it and the command that removes it, and touches nothing.
test_demo_live_pins() {
	local out ns=pxdl-$$
	demo_setup || return
	netns_add $ns || return 1
	ip -n $ns link add eth0 type veth peer name eth1 || return 1
	ip -n $ns link set eth0 up && ip -n $ns link set eth1 up
	nsx $ns "$O/pingctl" --bpffs "$DEMO_PINS/lb" attach eth0 --mode generic ||
		{ fail "attach"; return 1; }
	on_exit "$O/pingctl --bpffs $DEMO_PINS unload"
	out=$(O=$O bash "$DEMO" 2>&1)
	[ $? = 1 ] || { fail "the demo ran over an attached program"; echo "$out"; return 1; }
	echo "$out" | grep -q "holds 1 attached program.*unload" || { fail "message: $out"; return 1; }
	nsx $ns "$O/pingctl" --bpffs "$DEMO_PINS/lb" -j status | $PY -c '
import json, sys
s = json.load(sys.stdin)
assert [(a["interface"], a["state"], a["here"]) for a in s["attached"]] == [("eth0", "attached", True)], s' ||
		{ fail "the attached program was touched"; return 1; }
	log "$out"
}

run_tests "$@"
