#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingctl's data-plane commands against real pinned maps in a private pin directory: every
# command works and prints valid JSON with -j, and bad input gets one line with the cause,
# exit status 2 (usage) or 1 (failed), and leaves the maps exactly as they were.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_pingctl_commands test_pingctl_bad_input test_pingctl_environment"
ALL_TESTS+=" test_pingctl_json test_pingctl_concurrent_adds"

PIN=/sys/fs/bpf/px-ctl-$$
PY=/usr/bin/python3

pc() { "$O/pingctl" --bpffs "$PIN" "$@"; }

setup() {
	need_root || return
	[ -x "$O/pingctl" ] || { echo "   $O/pingctl not built" >&2; return 1; }
	on_exit "rm -rf $PIN"
	pc service add 192.0.2.10:80 --table-size 251 || return 1
	pc service add '[2001:db8::10]:443/udp' --algo ketama --fwd gue --hash src || return 1
	pc backend add 192.0.2.10:80 198.51.100.1 --weight 2 || return 1
	pc backend add 192.0.2.10:80 198.51.100.2:8080 --mac 02:00:00:00:00:02 || return 1
	pc backend add '[2001:db8::10]:443/udp' 2001:db8::be:1 || return 1
}

# Every map, dumped: what a failed command must leave untouched.
dump_maps() {
	local m
	for m in lb_node lb_services lb_backends lb_maglev lb_ring; do
		bpftool map dump pinned "$PIN/$m" 2>&1 | grep -v '^Found'
	done
}

json_ok() { $PY -c 'import json,sys; json.load(sys.stdin)'; }

test_pingctl_commands() {
	local out
	setup || return
	out=$(pc service list) || return 1
	echo "$out" | grep -q '^192.0.2.10:80/tcp .* maglev .* 251 *off$' || { fail "service list: $out"; return 1; }
	echo "$out" | grep -q '^\[2001:db8::10\]:443/udp .* ketama *gue *src' ||
		{ fail "service list: $out"; return 1; }
	pc -j service list | json_ok || { fail "service list -j"; return 1; }
	out=$(pc -j service show 192.0.2.10:80) || return 1
	[ "$(echo "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["table_size"])')" = 251 ] ||
		{ fail "service show -j: $out"; return 1; }
	# Who changed the state and when: pingctl's set --down marks the backend "pingctl" now.
	t0=$(date +%s)
	pc backend set 192.0.2.10:80 198.51.100.2 --down || return 1
	out=$(pc -j backend list 192.0.2.10:80) || return 1
	echo "$out" | $PY -c '
import json, sys
b = {x["address"]: x for x in json.load(sys.stdin)}["198.51.100.2"]
t0 = int(sys.argv[1])
assert b["state"] == "down" and b["marked_by"] == "pingctl", b
assert isinstance(b["marked_at"], int) and t0 <= b["marked_at"] <= t0 + 5, (t0, b)' "$t0" ||
		{ fail "backend list -j after set --down: $out"; return 1; }
	out=$(pc backend list 192.0.2.10:80) || return 1
	echo "$out" | head -1 | grep -q ' MARKED_BY MARKED_AT$' || { fail "backend list header: $out"; return 1; }
	echo "$out" | grep -Eq '^192\.0\.2\.10:80 .* 198\.51\.100\.2:8080 .* down .* pingctl +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ||
		{ fail "backend list after set --down: $out"; return 1; }
	# A set that leaves the state as it is keeps the mark (and its time).
	at=$(echo "$out" | awk '/198\.51\.100\.2:8080/ {print $NF}')
	sleep 1
	pc backend set 192.0.2.10:80 198.51.100.2 --down || return 1
	[ "$(pc backend list 192.0.2.10:80 | awk '/198\.51\.100\.2:8080/ {print $NF}')" = "$at" ] ||
		{ fail "an unchanged state moved marked_at"; return 1; }
	log "backend set --down: marked_by pingctl at $at"
	pc backend set 192.0.2.10:80 198.51.100.2 --drain || return 1
	out=$(pc -j backend list 192.0.2.10:80) || return 1
	echo "$out" | $PY -c '
import json, sys
b = {x["address"]: x for x in json.load(sys.stdin)}
assert b["198.51.100.1"]["weight"] == 2, b
assert b["198.51.100.2"]["state"] == "drain" and b["198.51.100.2"]["port"] == 8080, b
assert b["198.51.100.2"]["mac"] == "02:00:00:00:00:02", b' || { fail "backend list -j: $out"; return 1; }
	pc backend set 192.0.2.10:80 198.51.100.2 --up --weight 3 || return 1
	pc service set 192.0.2.10:80 --algo ketama || return 1
	pc -j service show 192.0.2.10:80 | grep -q '"algo":"ketama"' || { fail "service set"; return 1; }
	pc node set --src4 192.0.2.1 --src6 2001:db8::1 --gateway-mac 02:00:00:00:00:fe --mtu 1600 \
		--gue-port 7000 --seed 42 --udp-timeout 60 || return 1
	out=$(pc -j node show) || return 1
	echo "$out" | $PY -c '
import json, sys
n = json.load(sys.stdin)
assert n["src4"] == "192.0.2.1" and n["src6"] == "2001:db8::1", n
assert n["gateway_mac"] == "02:00:00:00:00:fe" and n["mtu"] == 1600, n
assert n["gue_port"] == 7000 and n["seed"] == 42 and n["udp_timeout"] == 60, n' ||
		{ fail "node show -j: $out"; return 1; }
	pc node set --gateway-mac fib || return 1
	pc -j node show | grep -q '"gateway_mac":"fib"' || { fail "gateway-mac fib"; return 1; }
	pc -j node show | grep -q '"flow_rate":125000' || { fail "default flow rate"; return 1; }
	pc node set --src4 192.0.2.0/24 --src6 2001:db8:1::/64 --flow-rate 5000 || return 1
	out=$(pc -j node show) || return 1
	echo "$out" | grep -q '"src4":"192.0.2.0/24".*"src6":"2001:db8:1::/64"' &&
		echo "$out" | grep -q '"flow_rate":5000' || { fail "prefix, flow rate: $out"; return 1; }
	pc node set --flow-rate off --src4 192.0.2.1 || return 1
	out=$(pc -j node show) || return 1
	echo "$out" | grep -q '"src4":"192.0.2.1".*"flow_rate":"off"' ||
		{ fail "flow rate off: $out"; return 1; }
	pc stats | grep -q '^guard_refused  *0$' || { fail "stats guard_refused"; return 1; }
	pc -j stats | json_ok || { fail "stats -j"; return 1; }
	pc stats 192.0.2.10:80 | grep -q '^backend .*198.51.100.1' || { fail "stats"; return 1; }
	pc -j status | json_ok || { fail "status -j"; return 1; }
	pc status | grep -q '^services *2$' || { fail "status"; return 1; }
	[ "$(pc conntrack count)" = 0 ] || { fail "conntrack count"; return 1; }
	pc conntrack flush || return 1
	pc backend del 192.0.2.10:80 198.51.100.1 || return 1
	pc service del '[2001:db8::10]:443/udp' || return 1
	[ "$(pc -j backend list | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
		{ fail "backends of a deleted service remain"; return 1; }
	pc help | grep -q 'service' && pc service help | grep -q 'table-size' || { fail "help"; return 1; }
}

# expect STATUS PATTERN CMD...: run pingctl, check its exit status, its one-line message, and
# that the maps did not change. A failed case sets BAD and the others still run.
BAD=0
expect() {
	local want=$1 pattern=$2 before after err rc
	shift 2
	before=$(dump_maps)
	err=$(pc "$@" 2>&1 >/dev/null)
	rc=$?
	after=$(dump_maps)
	[ "$rc" = "$want" ] || { fail "pingctl $*: exit $rc, want $want ($err)"; BAD=1; return 1; }
	echo "$err" | head -1 | grep -q -- "$pattern" ||
		{ fail "pingctl $*: message '$err'"; BAD=1; return 1; }
	[ "$before" = "$after" ] || { fail "pingctl $*: the maps changed"; BAD=1; return 1; }
}

test_pingctl_bad_input() {
	setup || return
	expect 2 "invalid service '192.0.2': not an IPv4" service add 192.0.2:80
	expect 2 "expected ADDR:PORT" service add 192.0.2.11
	expect 2 "port must be 0..65535" service add 192.0.2.11:70000
	expect 2 "protocol must be tcp or udp" service add 192.0.2.11:80/sctp
	expect 2 "expected ADDR:PORT" service add 2001:db8::11:80
	expect 2 "is not maglev or ketama" service add 192.0.2.11:80 --algo random
	expect 2 "is not ipip, gue or l2" service add 192.0.2.11:80 --fwd gre
	expect 2 "invalid table size" service add 192.0.2.11:80 --table-size 10
	expect 2 "invalid table size '1000': expected a prime" service add 192.0.2.11:80 --table-size 1000
	expect 2 "unknown option '--bogus'" service add 192.0.2.11:80 --bogus 1
	expect 2 "needs a value" service add 192.0.2.11:80 --algo
	expect 1 "service 192.0.2.10:80 exists" service add 192.0.2.10:80
	expect 1 "does not exist" service del 192.0.2.99:80
	expect 1 "does not exist" service show 192.0.2.99:80
	expect 1 "does not exist" service set 192.0.2.99:80 --algo ketama
	expect 2 "invalid backend 'zz'" backend add 192.0.2.10:80 zz
	expect 1 "does not exist" backend add 192.0.2.99:80 198.51.100.3
	expect 1 "exists in service" backend add 192.0.2.10:80 198.51.100.1
	expect 1 "needs IPv6 backends" backend add '[2001:db8::10]:443/udp' 198.51.100.3
	expect 2 "invalid weight" backend add 192.0.2.10:80 198.51.100.3 --weight -1
	expect 2 "invalid weight" backend add 192.0.2.10:80 198.51.100.3 --weight 70000
	expect 2 "invalid MAC address" backend add 192.0.2.10:80 198.51.100.3 --mac 02:00:00
	expect 1 "no backend 198.51.100.9" backend del 192.0.2.10:80 198.51.100.9
	expect 1 "no backend" backend set 192.0.2.10:80 198.51.100.9 --down
	expect 2 "unknown option" backend set 192.0.2.10:80 198.51.100.1 --sideways
	expect 2 "invalid IPv4 address" node set --src4 2001:db8::1
	expect 2 "invalid MTU" node set --mtu 10
	expect 2 "invalid IPv4 prefix length" node set --src4 192.0.2.0/33
	expect 2 "invalid IPv4 prefix length" node set --src4 192.0.2.0/
	expect 2 "invalid IPv6 prefix length" node set --src6 2001:db8::/129
	expect 2 "invalid flow rate" node set --flow-rate 0
	expect 2 "invalid flow rate" node set --flow-rate many
	expect 2 "invalid flow rate" node set --flow-rate -5
	expect 2 "unknown interface" node set --egress no-such-if0
	expect 2 "unknown interface" attach no-such-if0
	expect 2 "is not native, generic or auto" attach lo --mode turbo
	expect 1 "no pingx program attached" detach lo
	expect 1 "unknown interface 'no-such-if0'" detach no-such-if0
	expect 2 "unknown interface 'no-such-if0'" decap attach no-such-if0
	expect 2 "unknown command 'frobnicate'" service frobnicate
	expect 2 "'de' is ambiguous" de
	# JSON errors are objects with "error".
	pc -j service add 192.0.2.10:80 | $PY -c '
import json, sys
assert "exists" in json.load(sys.stdin)["error"]' || { fail "-j error"; return 1; }
	# No maps at all: a clear error, nothing created.
	out=$("$O/pingctl" --bpffs "$PIN-none" service list 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "no pingx maps in $PIN-none" ||
		{ fail "missing maps: $out"; return 1; }
	[ ! -e "$PIN-none" ] || { fail "a read command created $PIN-none"; return 1; }
	[ "$BAD" = 0 ]
}

# The environment cases of the bad-input table: not root, bpffs not mounted, a pin directory
# not on bpffs, no program attached, an ABI version mismatch. Each: the message, exit 1,
# and the maps unchanged.
test_pingctl_environment() {
	local before out
	setup || return
	command -v setpriv >/dev/null && command -v unshare >/dev/null ||
		{ echo "   missing setpriv or unshare" >&2; return $SKIP; }
	# Not root: reading, writing and attaching all say what is needed.
	local empty
	empty=$(mktemp) && on_exit "rm -f $empty"
	printf 'l4:\n  services: []\n' >"$empty" && chmod 644 "$empty"
	unpriv() { setpriv --reuid=65534 --regid=65534 --clear-groups "$O/pingctl" --bpffs "$PIN" "$@"; }
	for cmd in "service list" "service add 192.0.2.11:80" "backend add 192.0.2.10:80 198.51.100.3" \
		"attach lo" "conntrack flush" "restore $empty"; do
		before=$(dump_maps)
		# shellcheck disable=SC2086
		out=$(unpriv $cmd 2>&1)
		[ $? = 1 ] && echo "$out" | grep -q 'pingctl needs root, or CAP_BPF and CAP_NET_ADMIN$' ||
			{ fail "not root, $cmd: $out"; BAD=1; }
		[ "$before" = "$(dump_maps)" ] || { fail "not root, $cmd: the maps changed"; BAD=1; }
	done
	# bpffs not mounted (in a private mount namespace): reads refuse with the cause.
	out=$(unshare -m sh -c "umount $(dirname "$PIN") && '$O/pingctl' --bpffs '$PIN' service list" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "bpffs is not mounted at /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf" ||
		{ fail "bpffs not mounted: $out"; BAD=1; }
	out=$("$O/pingctl" --bpffs /tmp/px-ctl-$$ service add 192.0.2.11:80 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "/tmp/px-ctl-$$ is not on a bpffs mount" ||
		{ fail "pin directory off bpffs: $out"; BAD=1; }
	[ ! -e /tmp/px-ctl-$$ ] || { rm -rf /tmp/px-ctl-$$; fail "created a directory off bpffs"; BAD=1; }
	# No program attached.
	expect 1 "lo: no pingx program attached" detach lo
	out=$(pc -j status) && [ "$(echo "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["attached"])')" = "[]" ] ||
		{ fail "status without a program: $out"; BAD=1; }
	# An ABI version mismatch: every command refuses, nothing changes.
	bpftool map update pinned "$PIN/lb_meta" key 0 0 0 0 value 99 0 0 0 0 0 0 0 || return 1
	expect 1 "have another ABI version than this pingctl" service list
	expect 1 "have another ABI version than this pingctl" service add 192.0.2.11:80
	expect 1 "have another ABI version than this pingctl" backend add 192.0.2.10:80 198.51.100.3
	expect 1 "have another ABI version than this pingctl" attach lo
	expect 1 "have another ABI version than this pingctl" stats
	[ "$BAD" = 0 ]
}

# Every read command's JSON: valid, the documented keys, errors as {"error": ...}.
test_pingctl_json() {
	local out
	setup || return
	check() { # check CODE CMD...: the JSON of pingctl -j CMD passes the Python assertion CODE
		local code=$1
		shift
		out=$(pc -j "$@") || { fail "pingctl -j $*: exit $?"; BAD=1; return; }
		echo "$out" | $PY -c "import json, sys
d = json.load(sys.stdin)
$code" || { fail "pingctl -j $*: $out"; BAD=1; }
	}
	check 'assert set(d) == {"pin_dir", "abi_version", "services", "backends", "flows", "attached"} and d["services"] == 2' status
	check 'assert set(d) == {"src4", "src6", "gateway_mac", "src_mac", "egress", "mtu", "gue_port", "seed", "udp_timeout", "flow_rate", "draining"}' node show
	check 'assert [set(x) for x in d] == 2 * [{"vip", "port", "proto", "id", "mode", "algo", "fwd", "hash", "table_size", "syn_rate"}]' service list
	check 'assert d["vip"] == "2001:db8::10" and d["proto"] == "udp" and d["hash"] == "src"' service show '[2001:db8::10]:443/udp'
	check 'assert len(d) == 3 and set(d[0]) == {"service", "service_id", "id", "address", "port", "weight", "state", "mac", "marked_by", "marked_at"}' backend list
	check 'assert [x["address"] for x in d] == ["2001:db8::be:1"]' backend list '[2001:db8::10]:443/udp'
	check 'assert set(d) == {"services", "reasons", "guard_refused"} and set(d["services"][0]) == {"service", "packets", "bytes", "new_flows", "backends"}
assert set(d["services"][0]["backends"][0]) == {"backend", "packets", "bytes", "new_flows"} and "drop_no_backend" in d["reasons"]' stats
	check 'assert len(d["services"]) == 1 and len(d["services"][0]["backends"]) == 2' stats 192.0.2.10:80
	check 'assert d == {"flows": 0}' conntrack count
	check 'assert d == []' conntrack list
	check 'assert d["version"]' version
	check 'assert [x["backend"] for x in d] == ["10.0.0.1:80"]' hash --algo maglev --backends 10.0.0.1:80 k
	check 'assert len(d) == 2 and all(set(x) == {"flow", "backend", "backend_id", "from"} and x["from"] == "table" for x in d)' \
		hash --service 192.0.2.10:80 --flow 198.51.100.50:1000 --flow 198.51.100.50:1001
	out=$(pc -j stats --watch 1 --count 2) && [ "$(echo "$out" | grep -c .)" = 2 ] &&
		echo "$out" | $PY -c 'import json,sys; [json.loads(l) for l in sys.stdin if l.strip()]' ||
		{ fail "stats --watch -j: $out"; BAD=1; }
	# Errors: one object, nothing else on stdout.
	for cmd in "service show 192.0.2.99:80" "backend list 192.0.2.99:80" "stats 192.0.2.99:80" \
		"service add zz" "conntrack list --limit 0"; do
		# shellcheck disable=SC2086
		out=$(pc -j $cmd 2>/dev/null)
		echo "$out" | $PY -c 'import json,sys; d = json.load(sys.stdin); assert list(d) == ["error"], d' ||
			{ fail "pingctl -j $cmd: '$out'"; BAD=1; }
	done
	[ "$BAD" = 0 ]
}

# Two pingctl processes adding 200 backends each to one service at the same time: none is
# lost, every one has its own id, and the published table holds them all.
test_pingctl_concurrent_adds() {
	local a b
	setup || return
	pc service add 192.0.2.20:80 --table-size 1009 || return 1
	adder() { # adder SUBNET: 200 backends 10.SUBNET.x.y
		local i
		for i in $(seq 1 200); do
			pc backend add 192.0.2.20:80 "10.$1.$((i / 100)).$((i % 100))" || echo "FAILED $i"
		done
	}
	local out
	out=$(mktemp -d) && on_exit "rm -rf $out"
	adder 51 >"$out/a" 2>&1 &
	a=$!
	adder 52 >"$out/b" 2>&1 &
	b=$!
	on_exit "kill $a $b 2>/dev/null"
	wait $a && wait $b || { fail "an adder failed"; return 1; }
	! grep -q . "$out/a" "$out/b" || { fail "failed adds: $(head -3 "$out/a" "$out/b")"; return 1; }
	pc -j backend list 192.0.2.20:80 | $PY -c '
import json, sys
b = json.load(sys.stdin)
addrs = {x["address"] for x in b}
ids = {x["id"] for x in b}
assert len(b) == 400 and len(addrs) == 400 and len(ids) == 400, (len(b), len(addrs), len(ids))
assert sum(a.startswith("10.51.") for a in addrs) == 200, "lost adds of the first process"
print("   400 of 400 backends, 400 distinct ids")' || { fail "backends lost"; return 1; }
	$PY "$PINGX_TOP/tests/integration/l4_dump.py" "$PIN" | $PY -c '
import json, sys
d = json.load(sys.stdin)
svc = [s["value"]["id"] for s in d["lb_services"] if s["key"]["addr"]["bytes"][:4] == [192, 0, 2, 20]][0]
mine = {e["key"] for e in d["lb_backends"] if e["value"]["svc"] == svc}
table = {e["backend"] for e in d["lb_maglev"][str(svc)]["table"]}
assert len(mine) == 400 and table == mine, (len(mine), len(table))' ||
		{ fail "the published table lacks backends"; return 1; }
}

run_tests "$@"
