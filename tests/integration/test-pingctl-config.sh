#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingctl save and restore against real pinned maps in a private pin directory: save, flush,
# restore gives identical maps (bpftool dumps, tables included); restoring the running
# configuration touches nothing (no table republished); an edited file changes only what
# differs; a bad file gets a file:line message, exit status 1, and changes nothing.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_save_flush_restore test_restore_differences test_restore_bad_files"

PIN=/sys/fs/bpf/px-cfg-$$
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)

pc() { "$O/pingctl" --bpffs "$PIN" "$@"; }
dump() { $PY "$HERE/l4_dump.py" "$PIN" "$@"; }

setup() {
	need_root || return
	[ -x "$O/pingctl" ] || { echo "   $O/pingctl not built" >&2; return 1; }
	on_exit "rm -rf $PIN"
	TMP=$(mktemp -d) && on_exit "rm -rf $TMP"
	pc node set --src4 192.0.2.0/24 --src6 2001:db8::1 --gateway-mac 02:00:00:00:00:fe \
		--mtu 1600 --gue-port 7000 --seed 42 --udp-timeout 60 --flow-rate 5000 || return 1
	pc service add 192.0.2.10:80 --table-size 251 --syn-rate 100:20 || return 1
	pc service add '[2001:db8::10]:443/udp' --algo ketama --fwd gue --hash src || return 1
	pc service add 192.0.2.11:0/udp --fwd l2 --table-size 257 || return 1
	pc service add 192.0.2.12:8080 --mode l7 --table-size 251 || return 1
	# Not in address order, so that ids and addresses disagree.
	pc backend add 192.0.2.10:80 198.51.100.3:8080 --mac 02:00:00:00:00:03 || return 1
	pc backend add 192.0.2.10:80 198.51.100.1 --weight 2 || return 1
	pc backend add 192.0.2.10:80 198.51.100.2 || return 1
	pc backend add '[2001:db8::10]:443/udp' 2001:db8::be:2 --weight 3 || return 1
	pc backend add '[2001:db8::10]:443/udp' 2001:db8::be:1 || return 1
	pc backend add 192.0.2.11:0/udp 198.51.100.7 --mac 02:00:00:00:00:07 || return 1
	pc backend set 192.0.2.10:80 198.51.100.2 --drain || return 1
	pc backend set '[2001:db8::10]:443/udp' 2001:db8::be:1 --down || return 1
}

test_save_flush_restore() {
	local out
	setup || return
	dump >"$TMP/before" || return 1
	pc save >"$TMP/l4.yaml" || return 1
	pc service flush || return 1
	pc node set --mtu 1400 --seed 7 --gateway-mac fib || return 1
	[ "$(pc -j service list)" = "[]" ] && [ "$(pc -j backend list)" = "[]" ] ||
		{ fail "service flush left something"; return 1; }
	out=$(pc restore "$TMP/l4.yaml") || return 1
	log "$out"
	[ "$out" = "node changed; services: 4 added, 0 changed, 0 deleted; backends: 6 added, 0 changed, 0 deleted" ] ||
		{ fail "restore: $out"; return 1; }
	dump >"$TMP/after" || return 1
	diff -u "$TMP/before" "$TMP/after" || { fail "the maps differ after save, flush, restore"; return 1; }
	pc -j backend list | $PY -c '
import json, sys
assert {b["marked_by"] for b in json.load(sys.stdin)} == {"restore"}' ||
		{ fail "restored backends not marked restore: $(pc backend list)"; return 1; }
	pc save | diff -u "$TMP/l4.yaml" - || { fail "save after restore differs"; return 1; }
	log "identical: $(grep -c '"backend"' "$TMP/after") table entries, lb_node, lb_services, lb_backends"
	# The same through save -j: JSON with the same keys, which restore reads as YAML.
	pc -j save >"$TMP/l4.json" || return 1
	$PY -c 'import json,sys; d = json.load(open(sys.argv[1])); assert len(d["l4"]["services"]) == 4' \
		"$TMP/l4.json" || { fail "save -j: $(cat "$TMP/l4.json")"; return 1; }
	pc service flush && pc restore "$TMP/l4.json" >/dev/null || return 1
	dump | diff -u "$TMP/before" - || { fail "the maps differ after save -j, flush, restore"; return 1; }
}

test_restore_differences() {
	local out
	setup || return
	pc save >"$TMP/l4.yaml" || return 1
	dump --ids >"$TMP/before" || return 1
	# The running configuration: nothing changes, no table is republished.
	out=$(pc restore "$TMP/l4.yaml") || return 1
	[ "$out" = "node unchanged; services: 0 added, 0 changed, 0 deleted; backends: 0 added, 0 changed, 0 deleted" ] ||
		{ fail "restore of the running configuration: $out"; return 1; }
	dump --ids >"$TMP/after" || return 1
	diff -u "$TMP/before" "$TMP/after" || { fail "restoring the running configuration touched the maps"; return 1; }
	# An edited file: 198.51.100.1 weight 2 -> 5, 198.51.100.2 removed, the l7 service
	# removed, a new service with one backend. The IPv6 service's ring stays as it was.
	$PY - "$TMP/l4.yaml" >"$TMP/edit.yaml" <<'PYEOF' || return 1
import sys
text = open(sys.argv[1]).read()
text = text.replace("""        - address: '198.51.100.1'
          weight: 2""", """        - address: '198.51.100.1'
          weight: 5""")
text = text.replace("""        - address: '198.51.100.2'
          weight: 1
          state: drain
""", "")
# The guard of 192.0.2.10:80 changes; the service is otherwise the same.
assert "      syn_rate: 100\n      syn_burst: 20\n" in text
text = text.replace("      syn_rate: 100\n      syn_burst: 20\n", "      syn_rate: 250\n")
i = text.index("    - address: '192.0.2.12:8080'")
text = text[:i] + """    - address: 192.0.2.13:80
      table_size: 251
      syn_rate: 5
      syn_burst: 1
      backends:
        - {address: 198.51.100.9}
"""
print(text, end="")
PYEOF
	out=$(pc -j restore "$TMP/edit.yaml") || { fail "restore of the edited file"; cat "$TMP/edit.yaml"; return 1; }
	log "$out"
	echo "$out" | $PY -c '
import json, sys
c = json.load(sys.stdin)
want = {"node": 0, "services_added": 1, "services_changed": 1, "services_deleted": 1,
        "syn_rates_changed": 2, "backends_added": 1, "backends_changed": 1, "backends_deleted": 1}
assert c == want, c' || { fail "changes counted wrong: $out"; return 1; }
	dump --ids >"$TMP/after" || return 1
	$PY - "$TMP/before" "$TMP/after" <<'PYEOF' || { fail "unchanged parts were touched"; return 1; }
import json, sys
b, a = (json.load(open(f)) for f in sys.argv[1:])
# The IPv6 service (id 1) keeps its ring map: not republished.
assert a["lb_ring"]["1"] == b["lb_ring"]["1"], "ring republished"
# Service 0 was republished (a weight changed, a backend left).
assert a["lb_maglev"]["0"]["map_id"] != b["lb_maglev"]["0"]["map_id"]
assert a["lb_node"] == b["lb_node"]
PYEOF
	pc -j backend list 192.0.2.10:80 | $PY -c '
import json, sys
b = {x["address"]: x["weight"] for x in json.load(sys.stdin)}
assert b == {"198.51.100.1": 5, "198.51.100.3": 1}, b' || { fail "backends after the edit"; return 1; }
	pc -j service list | $PY -c '
import json, sys
g = {s["vip"] + ":" + str(s["port"]): (s["syn_rate"], s.get("syn_burst")) for s in json.load(sys.stdin)}
assert g["192.0.2.10:80"] == (250, 0) and g["192.0.2.13:80"] == (5, 1), g
assert g["192.0.2.11:0"] == ("off", None), g' || { fail "syn_rate after the edit: $(pc service list)"; return 1; }
	pc save | diff -u - "$TMP/edit.yaml" >/dev/null && { fail "save equals the hand-written file"; return 1; }
	# Restoring the edited file again changes nothing.
	pc restore "$TMP/edit.yaml" | grep -q '^node unchanged; services: 0 added, 0 changed, 0 deleted; backends: 0 added, 0 changed, 0 deleted$' ||
		{ fail "second restore of the edited file was not a no-op"; return 1; }
}

# bad FILE_CONTENT PATTERN: restore must fail with exit 1, a file:line message matching
# PATTERN, and the maps unchanged.
BAD=0
bad() {
	local body=$1 pattern=$2 before after err rc
	printf '%s\n' "$body" >"$TMP/bad.yaml"
	before=$(dump --ids)
	err=$(pc restore "$TMP/bad.yaml" 2>&1 >/dev/null)
	rc=$?
	after=$(dump --ids)
	[ "$rc" = 1 ] || { fail "exit $rc, want 1, for: $body ($err)"; BAD=1; return; }
	[ "$(echo "$err" | wc -l)" = 1 ] || { fail "not one line: $err"; BAD=1; return; }
	echo "$err" | grep -q -- "$pattern" || { fail "message '$err', want '$pattern'"; BAD=1; return; }
	[ "$before" = "$after" ] || { fail "the maps changed for: $body"; BAD=1; return; }
}

test_restore_bad_files() {
	local svc="l4:
  services:
    - address: 192.0.2.20:80"
	setup || return
	bad "l4: [" "bad.yaml:2: did not find expected node content"
	bad "services: []" "bad.yaml:1: expected a mapping with an 'l4' key"
	bad "l4: 3" "bad.yaml:1: 'l4': expected a mapping, got a scalar"
	bad "l4:
  nodes: {}" "bad.yaml:2: 'nodes': unknown key in l4"
	bad "l4:
  node:
    mtu: 10" "bad.yaml:3: 'mtu': expected a number from 68 to 65535, got '10'"
	bad "l4:
  node:
    src4: 2001:db8::1" "bad.yaml:3: 'src4': expected an IPv4 address"
	bad "l4:
  node:
    gateway_mac: 02:00:00" "bad.yaml:3: 'gateway_mac': expected a MAC address"
	bad "l4:
  node: {mtu: 1500, mtu: 1400}" "bad.yaml:2: 'mtu': given twice"
	bad "l4:
  node: {egress: no-such-if0}" "node: egress 'no-such-if0': no such interface"
	bad "l4:
  services: {}" "bad.yaml:2: 'services': expected a list, got a mapping"
	bad "l4:
  services:
    - address: 192.0.2.20" "bad.yaml:3: 'address': expected VIP:PORT"
	bad "l4:
  services:
    - fwd: ipip" "bad.yaml:3: 'address': missing in a service"
	bad "$svc
      algo: random" "bad.yaml:4: 'algo': expected maglev or ketama, got 'random'"
	bad "$svc
      table_size: 1000" "bad.yaml:4: 'table_size': expected a prime, got '1000'"
	bad "$svc/tcp
      proto: udp" "bad.yaml:4: 'proto': 'udp' contradicts the address"
	bad "$svc
      colour: red" "bad.yaml:4: 'colour': unknown key in a service"
	bad "$svc
      syn_rate: 0" "bad.yaml:4: 'syn_rate': expected a number from 1 to 10000000, got '0'"
	bad "$svc
      syn_rate: 10000001" "bad.yaml:4: 'syn_rate': expected a number from 1 to 10000000"
	bad "$svc
      syn_rate: fast" "bad.yaml:4: 'syn_rate': expected a number from 1 to 10000000, got 'fast'"
	bad "$svc
      syn_burst: 5" "bad.yaml:4: 'syn_burst': needs a syn_rate"
	bad "$svc
      syn_rate: off
      syn_burst: 5" "bad.yaml:5: 'syn_burst': needs a syn_rate"
	bad "$svc
      syn_rate: 10
      syn_burst: -1" "bad.yaml:5: 'syn_burst': expected a number from 0 to 1000000, got '-1'"
	bad "$svc
    - address: 192.0.2.20:80" "bad.yaml:4: 'address': service given twice (first at line 3)"
	bad "$svc
      backends:
        - address: 198.51.100.1
        - address: 198.51.100.1" "bad.yaml:6: 'address': backend given twice"
	bad "$svc
      backends:
        - {address: 198.51.100.1, weight: -1}" "bad.yaml:5: 'weight': expected a number from 0 to 65535, got '-1'"
	bad "$svc
      backends:
        - {address: 198.51.100.1, state: sleepy}" "bad.yaml:5: 'state': expected up, drain or down"
	bad "$svc
      backends:
        - {weight: 1}" "bad.yaml:5: 'address': missing in a backend"
	bad "$svc
      backends:
        - {address: 'zz'}" "bad.yaml:5: 'address': expected ADDR or ADDR:PORT, got 'zz'"
	bad "l4:
  services:
    - address: '[2001:db8::20]:80'
      backends:
        - {address: 198.51.100.1}" "bad.yaml:5: 'address': an IPv6 service needs IPv6 backends"
	# A missing file.
	err=$(pc restore "$TMP/none.yaml" 2>&1)
	[ $? = 1 ] && echo "$err" | grep -q "none.yaml: No such file or directory" ||
		{ fail "missing file: $err"; return 1; }
	# Usage errors exit 2.
	pc restore >/dev/null 2>&1; [ $? = 2 ] || { fail "restore without FILE"; return 1; }
	pc save extra >/dev/null 2>&1; [ $? = 2 ] || { fail "save with an argument"; return 1; }
	[ "$BAD" = 0 ]
}

run_tests "$@"
