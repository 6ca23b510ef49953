#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The XDP deny map end to end: pingctl deny add/del/list/flush (JSON, bad input); an entry
# drops a client's SYNs in XDP (its connects time out, drop_deny_admin moves) while another
# client is served, and expires by itself; pingd pushes a client that stays far over a rate
# limit (drop_deny_limit), never an allow-listed one, and the entry expires.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_deny_cli test_deny_admin_drops_and_expires test_deny_map_full test_deny_pushed_by_pingd"

PX=px-deny-$$
PINS=/sys/fs/bpf/$PX
HERE=$(cd "$(dirname "$0")" && pwd)
LB=$PX-lb
C1=$PX-c1
C2=$PX-c2
LCLIENT=(python3 "$HERE/../l7/limit_client.py")

ctl() { nsx "$LB" "$O/pingctl" --bpffs "$PINS" "$@"; }

# A value of the JSON of "pingctl -j deny list": denyval KEY (a top-level number, or
# "entries" for the prefixes with their reasons).
denyval() {
	ctl -j deny list | python3 -c '
import json, sys
d = json.load(sys.stdin)
k = sys.argv[1]
if k == "entries":
    print(" ".join("%s:%s" % (e["prefix"], e["reason"]) for e in d["entries"]))
else:
    print(d[k])' "$1"
}

# Test bed: the balancer's namespace with two interfaces (XDP attached on both), a client
# behind each (C1 10.210.1.2, C2 10.210.2.2), an HTTP origin on the balancer's 127.0.0.1:9001.
setup() {
	need_root || return
	for t in nsenter python3 bpftool; do
		command -v $t >/dev/null || { echo "   missing $t" >&2; return $SKIP; }
	done
	[ -x "$O/pingctl" ] && [ -x "$O/pingd" ] || { echo "   pingctl/pingd not built" >&2; return 1; }
	TMP=$(mktemp -d) && on_exit "rm -rf $TMP"
	on_exit "'$O/pingctl' --bpffs '$PINS' unload >/dev/null 2>&1; rm -rf '$PINS'"
	netns_add "$LB" && netns_add "$C1" && netns_add "$C2" || return 1
	for i in 1 2; do
		local c=$PX-c$i
		ip -n "$LB" link add d$i type veth peer name eth0 netns "$c" || return 1
		ip -n "$LB" addr add 10.210.$i.1/24 dev d$i
		ip -n "$LB" link set d$i up
		ip -n "$c" addr add 10.210.$i.2/24 dev eth0
		ip -n "$c" link set eth0 up
		ctl attach d$i --mode native || return 1
	done
	spawn nsx "$LB" python3 "$HERE/l4_server.py" origin 9001 120
	wait_port 127.0.0.1 9001 "$LB" || { fail "origin does not listen"; return 1; }
}

# HTTP status of GET / on the balancer's port PORT from client namespace NS: get NS PORT
get() {
	local ns=$1 port=$2 i=${1: -1}
	nsx "$ns" env LIMIT_HOST=10.210.$i.1 "${LCLIENT[@]}" parallel "$port" 1
}

test_deny_cli() {
	local out
	setup || return
	ctl deny add 192.0.2.7/24 --ttl 10m || return 1
	ctl deny add 2001:db8::/48 || return 1
	ctl deny add 198.51.100.1 || return 1
	out=$(denyval entries)
	log "entries: $out"
	for want in 192.0.2.0/24:admin 2001:db8::/48:admin 198.51.100.1/32:admin; do
		case " $out " in *" $want "*) ;; *) fail "missing $want"; return 1 ;; esac
	done
	ctl -j deny list | python3 -c '
import json, sys
d = json.load(sys.stdin)
e = {x["prefix"]: x for x in d["entries"]}
assert d["capacity"] == 65536, d
assert 0 < e["192.0.2.0/24"]["ttl_ms"] <= 600000, e
assert e["2001:db8::/48"]["ttl_ms"] is None, e' || { fail "JSON of deny list"; return 1; }
	# Field names in bpftool (BTF).
	bpftool map dump pinned "$PINS/lb_deny" | grep -q '"expires"' ||
		{ fail "bpftool shows no field names"; return 1; }
	ctl deny del 198.51.100.1/32 || return 1
	ctl deny del 198.51.100.1/32 2>/dev/null && { fail "deleting a missing entry succeeded"; return 1; }
	for bad in 10.0.0.1/33 not-an-address 10.0.0.1/ ::1/129 ''; do
		ctl deny add "$bad" 2>/dev/null
		[ $? -eq 2 ] || { fail "deny add '$bad' did not exit 2"; return 1; }
	done
	for bad in 0s 5x -1s 400d ''; do
		ctl deny add 10.9.9.9 --ttl "$bad" 2>/dev/null
		[ $? -eq 2 ] || { fail "--ttl '$bad' did not exit 2"; return 1; }
	done
	ctl deny add 10.9.9.9 --ttl 2>/dev/null
	[ $? -eq 2 ] || { fail "--ttl without a value did not exit 2"; return 1; }
	for l in 1 2 3 4 5 6 7; do ctl deny add 10.$l.0.0/$((8 + l)) || return 1; done
	ctl deny add 10.8.0.0/30 2>"$TMP/err" && { fail "a ninth IPv4 length was accepted"; return 1; }
	grep -q "prefix lengths" "$TMP/err" || { fail "no clear error for the ninth length"; return 1; }
	out=$(ctl -j deny flush)
	[ "$out" = '{"removed":9}' ] || { fail "flush said $out"; return 1; }
	[ -z "$(denyval entries)" ] || { fail "entries left after flush"; return 1; }
}

# pingctl deny add C1 --ttl 8s: C1's connects time out (SYN dropped in XDP, drop_deny_admin
# counts it) while C2 connects; once the entry expires, C1 connects again.
test_deny_admin_drops_and_expires() {
	local out before after i
	setup || return
	spawn nsx "$LB" python3 "$HERE/l4_server.py" srv 8080 120
	wait_port 127.0.0.1 8080 "$LB" || return 1
	[ "$(nsx "$C1" env LIMIT_HOST=10.210.1.1 "${LCLIENT[@]}" connect 8080 2)" = ok ] ||
		{ fail "C1 cannot connect before the deny"; return 1; }
	ctl deny add 10.210.1.2 --ttl 8s || return 1
	before=$(denyval drop_deny_admin)
	out=$(nsx "$C1" env LIMIT_HOST=10.210.1.1 "${LCLIENT[@]}" connect 8080 1)
	after=$(denyval drop_deny_admin)
	log "denied C1: $out; drop_deny_admin $before -> $after"
	[ "$out" = timeout ] || { fail "C1's connect was not dropped: $out"; return 1; }
	[ "$after" -gt "$before" ] || { fail "drop_deny_admin did not move"; return 1; }
	out=$(nsx "$C2" env LIMIT_HOST=10.210.2.1 "${LCLIENT[@]}" connect 8080 2)
	[ "$out" = ok ] || { fail "C2 was not served: $out"; return 1; }
	for i in $(seq 300); do
		[ -z "$(denyval entries)" ] && break
		sleep 0.1
	done
	[ -z "$(denyval entries)" ] || { fail "the entry did not expire"; return 1; }
	out=$(nsx "$C1" env LIMIT_HOST=10.210.1.1 "${LCLIENT[@]}" connect 8080 2)
	[ "$out" = ok ] || { fail "C1 still refused after the expiry: $out"; return 1; }
}

# lb_deny filled past its size with 70,000 other prefixes (172.16.0.0/12, written with bpftool):
# deny list says it is full; an entry added then still works (the LRU evicted an old one to
# make room): C1's connects time out while C2 is served.
test_deny_map_full() {
	local out
	setup || return
	spawn nsx "$LB" python3 "$HERE/l4_server.py" srv 8080 120
	wait_port 127.0.0.1 8080 "$LB" || return 1
	ctl -j deny list | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert (d["held"], d["full"]) == (0, False), d' || { fail "an empty map is not empty"; return 1; }
	python3 - "$PINS/lb_deny" >"$TMP/fill" <<'PYEOF'
import sys
for i in range(70000):
    key = "1 32 0 0 172 %d %d %d" % (16 + (i >> 16), (i >> 8) & 255, i & 255) + " 0" * 12
    print("map update pinned %s key %s value %s" % (sys.argv[1], key, " 0" * 32))
PYEOF
	bpftool batch file "$TMP/fill" >/dev/null || { fail "filling lb_deny with bpftool"; return 1; }
	ctl deny add 10.210.1.2 --ttl 10m || { fail "deny add into a full map"; return 1; }
	out=$(ctl deny list | tail -2)
	echo "$out" | sed 's/^/   | /'
	echo "$out" | grep -q "^full (6[45][0-9]* held, expired ones included): each new entry replaces" ||
		{ fail "deny list does not say the map is full"; return 1; }
	ctl -j deny list | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["full"] and 65536 - 1024 <= d["held"] <= 65536, (d["full"], d["held"])
assert any(e["prefix"] == "10.210.1.2/32" for e in d["entries"]), "the new entry is missing"' ||
		{ fail "JSON of a full deny list"; return 1; }
	out=$(nsx "$C1" env LIMIT_HOST=10.210.1.1 "${LCLIENT[@]}" connect 8080 1)
	[ "$out" = timeout ] || { fail "C1's connect was not dropped with the map full: $out"; return 1; }
	out=$(nsx "$C2" env LIMIT_HOST=10.210.2.1 "${LCLIENT[@]}" connect 8080 2)
	[ "$out" = ok ] || { fail "C2 was not served: $out"; return 1; }
	log "full map: C1 denied, C2 served"
}

# Both clients flood pingd far over its limit (5/s; deny at 4x for 1 s, for 8 s); C2 is in
# deny.allow. C1 ends up in the deny map (reason limit) and its connects time out; C2 is
# never denied and is served once it slows down; C1's entry expires and it is served again.
test_deny_pushed_by_pingd() {
	local out i
	setup || return
	cat >"$TMP/pingd.yaml" <<YAML
workers: 2
listeners:
  - address: 0.0.0.0:8080
rate_limits:
  - name: perip
    rate: 5/s
    burst: 5
    deny_factor: 4
    deny_after: 1s
    deny_ttl: 8s
deny:
  pin_dir: $PINS
  allow: [10.210.2.0/24]
virtual_hosts:
  - name: all
    hosts: '*'
    limits: [perip]
    routes:
      - path: /
        upstream: origin
upstreams:
  - name: origin
    servers:
      - address: 127.0.0.1:9001
YAML
	spawn nsx "$LB" "$O/pingd" -c "$TMP/pingd.yaml" 2>"$TMP/pingd.log"
	wait_port 10.210.1.1 8080 "$C1" || { cat "$TMP/pingd.log"; fail "pingd does not listen"; return 1; }
	nsx "$C1" env LIMIT_HOST=10.210.1.1 "${LCLIENT[@]}" flood 8080 3 >"$TMP/f1" &
	local f1=$!
	nsx "$C2" env LIMIT_HOST=10.210.2.1 "${LCLIENT[@]}" flood 8080 3 >"$TMP/f2" &
	local f2=$!
	wait $f1 $f2
	log "C1 flood: $(cat "$TMP/f1")"
	log "C2 flood: $(cat "$TMP/f2")"
	out=$(denyval entries)
	log "deny map: $out"
	grep 'denied in XDP' "$TMP/pingd.log" | sed 's/^/   | /'
	[ "$out" = "10.210.1.2/32:limit" ] || { fail "expected only C1 denied (limit), got '$out'"; return 1; }
	out=$(nsx "$C1" env LIMIT_HOST=10.210.1.1 "${LCLIENT[@]}" connect 8080 1)
	[ "$out" = timeout ] || { fail "C1's connect was not dropped: $out"; return 1; }
	[ "$(denyval drop_deny_limit)" -gt 0 ] || { fail "drop_deny_limit did not move"; return 1; }
	for i in $(seq 30); do
		out=$(get "$C2" 8080)
		[ "$out" = 200 ] && break
		sleep 0.1
	done
	[ "$out" = 200 ] || { fail "C2 (allow-listed) was not served: $out"; return 1; }
	for i in $(seq 300); do
		[ -z "$(denyval entries)" ] && break
		sleep 0.1
	done
	[ -z "$(denyval entries)" ] || { fail "C1's entry did not expire"; return 1; }
	out=$(get "$C1" 8080)
	[ "$out" = 200 ] || { fail "C1 not served after its entry expired: $out"; return 1; }
}

run_tests "$@"
