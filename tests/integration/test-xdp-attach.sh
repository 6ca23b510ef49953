#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# How pingctl attach puts the balancer on an interface: through libxdp's dispatcher where it
# loads, else a pinned bpf_link, said in one line with the reason, and the mode in another;
# traffic is balanced either way, and detach leaves the interface clean. Beside xdp-filter on
# one interface (the dispatcher is needed for that): a source xdp-filter denies is dropped,
# the others are balanced by pingx, and detaching either program leaves the other running.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_attach_probe test_attach_fallback test_attach_beside_xdp_filter"

PX=px-xa-$$
NS_C=$PX-c
NS_LB=$PX-lb
PINS=/sys/fs/bpf/$PX
HERE=$(cd "$(dirname "$0")" && pwd)
VIP4=10.201.100.1 # as scripts/topo.sh
TOPO=$PX TOPO_PINS=$PINS TOPO_LB_PIN=$PINS/lb TOPO_SERVE_SECONDS=300
source "$HERE/../../scripts/topo.sh"

lbctl() { nsx "$NS_LB" "$O/pingctl" --bpffs "$PINS/lb" "$@"; }
mac_of() { ip -n "$1" -j link show dev "$2" | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["address"])'; }

# "yes", or "no: REASON" (pingctl attach --probe).
probe() {
	"$O/pingctl" -j attach --probe | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("yes" if d["dispatcher"] else "no: " + d["reason"])'
}

setup_topo() {
	need_root || return
	for t in ethtool curl nsenter python3; do
		command -v $t >/dev/null || { echo "   missing $t" >&2; return $SKIP; }
	done
	[ -x "$O/pingctl" ] || { echo "   $O/pingctl not built" >&2; return 1; }
	on_exit topo_down
	topo_up 3 || return 1
	lbctl service add "$VIP4:80" --fwd ipip || return 1
	for i in 1 2 3; do
		lbctl backend add "$VIP4:80" "$(topo_be_addr $i)" --mac "$(mac_of "$PX-b$i" eth0)" || return 1
	done
}

# spread FIRST COUNT [SRC]: COUNT connections from client ports FIRST.., from address SRC;
# prints "b1 N b2 N b3 N fail N".
spread() {
	local first=$1 count=$2 src=${3:-10.201.0.2}
	seq "$first" $((first + count - 1)) | xargs -P 8 -I{} sh -c \
		"nsenter --net=/run/netns/$NS_C curl -s -m 3 -H 'Connection: close' --interface $src --local-port {} http://$VIP4/ || echo fail" |
		awk '{n[$1]++} END {printf "b1 %d b2 %d b3 %d fail %d\n", n["b1"], n["b2"], n["b3"], n["fail"]}'
}

# balanced "b1 N b2 N b3 N fail N" COUNT: every connection answered, each backend a third
# +- a half of a third.
balanced() {
	set -- $1 "$2"
	[ "$8" -eq 0 ] && [ $(($2 + $4 + $6)) -eq "$9" ] || return 1
	for n in $2 $4 $6; do [ $((n * 6)) -ge "$9" ] && [ $((n * 2)) -le "$9" ] || return 1; done
}

xdp_prog_ids() { ip -n "$NS_LB" -d link show dev lb0 | grep -o 'prog/xdp id [0-9]*' | awk '{print $3}'; }

test_attach_probe() {
	need_root || return
	local out
	out=$("$O/pingctl" attach --probe) || { fail "probe: $out"; return 1; }
	log "$out"
	[[ "$out" == "libxdp dispatcher: loads here" || "$out" == "libxdp dispatcher: cannot load here: "?* ]] ||
		{ fail "probe said: $out"; return 1; }
	out=$("$O/pingctl" attach --probe extra 2>&1) && { fail "an argument to --probe was taken"; return 1; }
	echo "$out" | grep -q "takes no argument" || { fail "message: $out"; return 1; }
	out=$("$O/pingctl" attach lb0 --plain-link --run-prio 20 2>&1) && { fail "--plain-link with --run-prio"; return 1; }
	echo "$out" | grep -q "not --plain-link" || { fail "message: $out"; return 1; }
	out=$("$O/pingctl" attach lb0 --run-prio 0 2>&1) && { fail "--run-prio 0 taken"; return 1; }
	return 0
}

# The attachment as pingctl attach chooses it, said in two lines; balanced traffic; a clean
# detach. Where the dispatcher loads this checks the dispatcher's path instead.
test_attach_fallback() {
	setup_topo || return
	local p out lines st
	p=$(probe) || { fail "probe"; return 1; }
	log "dispatcher: $p"
	lbctl detach lb0 || { fail "detach after topo_up"; return 1; }
	[ -z "$(xdp_prog_ids)" ] || { fail "a program is still attached after detach"; return 1; }

	out=$(lbctl attach lb0 2>&1) || { fail "attach: $out"; return 1; }
	echo "$out" | sed 's/^/   | /'
	lines=$(echo "$out" | wc -l)
	[ "$lines" -eq 2 ] || { fail "attach said $lines lines"; return 1; }
	echo "$out" | sed -n 2p | grep -Eq '^lb0: (native|generic) mode \(chosen automatically' ||
		{ fail "no mode line"; return 1; }
	if [ "$p" = yes ]; then
		echo "$out" | head -1 | grep -q "^lb0: attached through libxdp's dispatcher at run priority 50" ||
			{ fail "no dispatcher line"; return 1; }
	else
		[ "$(echo "$out" | head -1)" = "lb0: attached with a plain bpf_link, not libxdp's dispatcher: ${p#no: }" ] ||
			{ fail "the fallback line does not give the probe's reason"; return 1; }
	fi
	st=$(lbctl -j status | python3 -c '
import json, sys
for a in json.load(sys.stdin)["attached"]:
    print(a["interface"], a["kind"], a.get("attach", "link"), a["state"])')
	log "status: $st"
	if [ "$p" = yes ]; then want="lb0 balancer libxdp attached"; else want="lb0 balancer link attached"; fi
	[ "$st" = "$want" ] || { fail "status: '$st', not '$want'"; return 1; }

	out=$(spread 20000 150)
	log "150 connections: $out"
	balanced "$out" 150 || { fail "not balanced: $out"; lbctl stats | grep -E ' [1-9]'; return 1; }

	# Attaching again replaces the program in place: still one program, still balanced.
	out=$(lbctl attach lb0 --mode native 2>&1) || { fail "re-attach: $out"; return 1; }
	echo "$out" | grep -q "native mode (as asked)" || { fail "re-attach said: $out"; return 1; }
	[ "$p" = yes ] || echo "$out" | grep -q "already runs it from a pinned bpf_link" ||
		{ fail "re-attach did not say it kept the link: $out"; return 1; }
	out=$(spread 20200 60)
	balanced "$out" 60 || { fail "not balanced after re-attach: $out"; return 1; }

	lbctl detach lb0 || { fail "detach"; return 1; }
	[ -z "$(xdp_prog_ids)" ] || { fail "a program is still attached after detach"; return 1; }
	ls "$PINS/lb" | grep -q '^link_xdp' && { fail "a link pin is left: $(ls "$PINS/lb")"; return 1; }
	st=$(lbctl -j status | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["attached"]))')
	[ "$st" = 0 ] || { fail "status still lists $st attachments"; return 1; }
	out=$(lbctl detach lb0 2>&1) && { fail "a second detach succeeded"; return 1; }
	echo "$out" | grep -q "no pingx program attached" || { fail "second detach said: $out"; return 1; }
	return 0
}

# xdp-filter (run priority 10) denies one source; pingx (50) balances the others. Needs
# libxdp's dispatcher: reported unsupported, with the probe's reason, where it cannot load.
test_attach_beside_xdp_filter() {
	need_root || return
	local p out ids
	command -v xdp-filter >/dev/null && command -v xdp-loader >/dev/null ||
		{ echo "   missing xdp-filter/xdp-loader (xdp-tools)" >&2; return $SKIP; }
	p=$(probe) || { fail "probe"; return 1; }
	if [ "$p" != yes ]; then
		echo "   libxdp's dispatcher cannot load on this kernel (${p#no: }): two XDP programs cannot share an interface here"
		return "$UNSUPPORTED"
	fi
	setup_topo || return
	ip -n "$NS_C" addr add 10.201.0.3/24 dev eth0 || return 1
	lbctl detach lb0 || return 1
	out=$(lbctl attach lb0 --mode native 2>&1) || { fail "attach: $out"; return 1; }
	echo "$out" | grep -q "through libxdp's dispatcher at run priority 50" || { fail "attach said: $out"; return 1; }
	on_exit "nsx $NS_LB xdp-filter unload lb0 >/dev/null 2>&1"
	nsx "$NS_LB" xdp-filter load lb0 --mode native --policy allow --features ipv4 ||
		{ fail "xdp-filter load beside pingx"; return 1; }
	nsx "$NS_LB" xdp-filter ip 10.201.0.3 --mode src || { fail "xdp-filter ip"; return 1; }
	nsx "$NS_LB" xdp-loader status lb0 | sed 's/^/   | /'
	nsx "$NS_LB" xdp-loader status lb0 | grep -q lb_xdp || { fail "xdp-loader status does not list lb_xdp"; return 1; }
	lbctl status | sed 's/^/   | /'
	lbctl status | grep -q "libxdp, priority 50, 1 of 2" || { fail "pingctl status"; return 1; }

	out=$(spread 21000 90 10.201.0.2)
	log "from 10.201.0.2: $out"
	balanced "$out" 90 || { fail "the allowed source is not balanced: $out"; return 1; }
	out=$(spread 21100 8 10.201.0.3)
	log "from 10.201.0.3 (denied by xdp-filter): $out"
	[ "$out" = "b1 0 b2 0 b3 0 fail 8" ] || { fail "the denied source got through: $out"; return 1; }

	# pingx goes: xdp-filter stays and still denies; the allowed source reaches the VIP no
	# more through pingx (its packets go to the balancer's own stack, nobody answers).
	lbctl detach lb0 || { fail "detach beside xdp-filter"; return 1; }
	nsx "$NS_LB" xdp-loader status lb0 | grep -q xdpfilt || { fail "xdp-filter went with pingx"; return 1; }
	nsx "$NS_LB" xdp-loader status lb0 | grep -q lb_xdp && { fail "lb_xdp still listed"; return 1; }
	out=$(spread 21200 4 10.201.0.3)
	[ "$out" = "b1 0 b2 0 b3 0 fail 4" ] || { fail "the filter stopped denying: $out"; return 1; }

	# pingx back, xdp-filter goes: pingx balances both sources.
	lbctl attach lb0 --mode native >/dev/null 2>&1 || { fail "attach again"; return 1; }
	nsx "$NS_LB" xdp-filter unload lb0 || { fail "xdp-filter unload"; return 1; }
	ids=$(lbctl -j status | python3 -c '
import json, sys
print(" ".join(a.get("attach", "link") for a in json.load(sys.stdin)["attached"]))')
	[ "$ids" = libxdp ] || { fail "pingx went with xdp-filter: '$ids'"; return 1; }
	out=$(spread 21300 60 10.201.0.3)
	balanced "$out" 60 || { fail "not balanced after xdp-filter left: $out"; return 1; }
	lbctl detach lb0 || return 1
	[ -z "$(xdp_prog_ids)" ] || { fail "a program is left on lb0"; return 1; }
	return 0
}

run_tests "$@"
