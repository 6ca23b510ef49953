#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo (scripts/demo.sh): it balances real connections over its three backends, prints
# the spread and the counters, and leaves nothing behind (namespaces, pins); with KEEP=1 it
# stays up until `demo.sh down`, and a second demo refuses to start over a kept one.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_demo test_demo_keep"

DEMO="$PINGX_TOP/scripts/demo.sh"
PIN=/sys/fs/bpf/pingx
PY=/usr/bin/python3

# The demo owns the default pin directory and the pingx-demo-* namespaces.
demo_setup() {
	need_root || return
	[ -x "$O/pingctl" ] || { echo "   $O/pingctl not built" >&2; return 1; }
	if [ -e "$PIN" ] || [ -e /sys/fs/bpf/pingx-demo ] || ip netns list | grep -q '^pingx-demo-'; then
		fail "$PIN or a demo is in use on this machine; the demo test needs them free"
		return 1
	fi
	on_exit "O=$O bash $DEMO down"
}

# Nothing of the demo is left.
demo_gone() {
	local ns
	ns=$(ip netns list | grep '^pingx-demo-')
	[ -z "$ns" ] || { fail "namespaces left: $ns"; return 1; }
	[ ! -e "$PIN" ] || { fail "$PIN left"; return 1; }
	[ ! -e /sys/fs/bpf/pingx-demo ] || { fail "/sys/fs/bpf/pingx-demo left"; return 1; }
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
	"$O/pingctl" -j status | $PY -c '
import json, sys
s = json.load(sys.stdin)
assert s["services"] == 1 and s["backends"] == 3, s
assert [a["interface"] for a in s["attached"]] == ["lb0"], s' ||
		{ fail "pingctl status on the kept demo"; return 1; }
	bpftool map dump pinned $PIN/lb_backends | grep -q '"state": 1' ||
		{ fail "bpftool map dump on the kept demo"; return 1; }
	ip netns exec pingx-demo-c curl -s -m 3 http://10.201.100.1/ | grep -q '^b[1-3]$' ||
		{ fail "the kept demo does not answer"; return 1; }
	# A second demo refuses to start over it, and leaves it alone.
	out=$(O=$O bash "$DEMO" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q 'already up' || { fail "second demo: $out"; return 1; }
	[ -e "$PIN/lb_services" ] || { fail "the second demo removed the first"; return 1; }
	O=$O bash "$DEMO" down | grep -q removed || { fail "demo down"; return 1; }
	demo_gone
}

run_tests "$@"
