#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingctl against a balancer carrying real traffic (the scripts/topo.sh test bed: a client,
# the balancer, three backends): `hash --service --flow` names the backend the program
# actually picked; `conntrack list` shows the established flows with their backends;
# `stats --watch` prints rates; attaching again under traffic keeps established connections.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_live_hash_conntrack_stats test_live_reattach"

PX=px-live-$$
PINS=/sys/fs/bpf/$PX
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
TOPO=$PX TOPO_PINS=$PINS TOPO_LB_PIN=$PINS/lb TOPO_SERVE_SECONDS=120
source "$HERE/../../scripts/topo.sh"
VIP=$TOPO_VIP4

lbctl() { topo_lbctl "$@"; }

setup() {
	need_root || return
	for t in ethtool curl nsenter; do
		command -v $t >/dev/null || { echo "   missing $t" >&2; return $SKIP; }
	done
	[ -x "$O/pingctl" ] || { echo "   $O/pingctl not built" >&2; return 1; }
	on_exit topo_down
	topo_up 3 || return 1
	lbctl service add $VIP:80 --table-size 251 || return 1
	for i in 1 2 3; do lbctl backend add $VIP:80 "$(topo_be_addr $i)" || return 1; done
	TMP=$(mktemp -d) && on_exit "rm -rf $TMP"
}

# Start a keep-alive client making N requests INTERVAL apart; waits for its first answer.
long_client() {
	local n=$1 interval=$2 out=$3 tries=50
	spawn ip netns exec "$PX-c" $PY "$HERE/l4_client.py" $VIP 80 "$n" "$interval" >"$out"
	LONG_PID=$SPAWNED_PID
	while [ ! -s "$out" ] && [ $tries -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	[ -s "$out" ] || { fail "the long-lived connection got no answer"; return 1; }
}

test_live_hash_conntrack_stats() {
	local flows port name want got n first line
	setup || return
	# 1. 60 connections from known client ports: the program's picks (the answering
	# backend's name) against pingctl hash --service --flow --new.
	ip netns exec "$PX-c" $PY "$HERE/l4_ports.py" $VIP 80 22000 60 >"$TMP/picks" || return 1
	flows=()
	while read -r port name; do flows+=(--flow "10.201.0.2:$port"); done <"$TMP/picks"
	lbctl -j hash --service $VIP:80 --new "${flows[@]}" >"$TMP/hash" || return 1
	$PY - "$TMP/picks" "$TMP/hash" <<'PYEOF' || { fail "pingctl hash disagrees with the program"; return 1; }
import json, sys
picks = dict(line.split() for line in open(sys.argv[1]))
names = {"10.201.0.11": "b1", "10.201.0.12": "b2", "10.201.0.13": "b3"}
h = json.load(open(sys.argv[2]))
assert len(h) == 60 and len(picks) == 60, (len(h), len(picks))
bad = [(x["flow"], names.get(x["backend"]), picks[x["flow"].split(":")[1]]) for x in h
       if names.get(x["backend"]) != picks[x["flow"].split(":")[1]] or x["from"] != "table"]
assert not bad, bad
used = {picks[p] for p in picks}
assert used == {"b1", "b2", "b3"}, used
print("   60 of 60 flows: pingctl hash names the backend that answered")
PYEOF
	# 2. A keep-alive connection: conntrack list shows it with its backend, and hash
	# without --new answers from conntrack.
	long_client 40 0.1 "$TMP/long" || return 1
	first=$(head -1 "$TMP/long")
	lbctl -j conntrack list >"$TMP/ct" || return 1
	line=$($PY - "$TMP/ct" <<'PYEOF'
import json, sys
flows = [f for f in json.load(open(sys.argv[1])) if f["proto"] == "tcp" and not f["fin"]
         and f["vip"] == "10.201.100.1" and f["port"] == 80]
assert len(flows) == 1, flows
f = flows[0]
assert f["client"] == "10.201.0.2" and f["idle_s"] is None, f
print(f["client_port"], f["backend"])
PYEOF
	) || { fail "conntrack list: $(cat "$TMP/ct")"; return 1; }
	log "conntrack list: client port ${line% *} on ${line#* } (answered by $first)"
	[ "${line#* }" = "$(topo_be_addr "${first#b}")" ] ||
		{ fail "conntrack list names ${line#* }, the connection is on $first"; return 1; }
	got=$(lbctl hash --service $VIP:80 --flow "10.201.0.2:${line% *}" | awk 'NR == 2 {print $1, $4}')
	[ "$got" = "$(topo_be_addr "${first#b}") conntrack" ] || { fail "hash of the tracked flow: $got"; return 1; }
	lbctl conntrack list --limit 1 | awk 'NR > 1' | wc -l | grep -qx 1 || { fail "--limit 1"; return 1; }
	lbctl conntrack list | head -1 | grep -q '^PROTO *CLIENT *SERVICE *BACKEND *IDLE_S$' ||
		{ fail "conntrack list header"; return 1; }
	# 3. stats --watch under the long client's traffic: rates above zero.
	lbctl -j stats $VIP:80 --watch 1 --count 2 >"$TMP/watch" || return 1
	$PY - "$TMP/watch" <<'PYEOF' || { fail "stats --watch: $(cat "$TMP/watch")"; return 1; }
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 2, lines
s = lines[1]["services"][0]
assert 0.5 < lines[1]["interval_s"] < 3, lines[1]["interval_s"]
assert s["service"] == "10.201.100.1:80" and s["packets_per_s"] > 5, s
assert sum(b["packets_per_s"] for b in s["backends"]) > 5, s
assert lines[1]["reasons_per_s"]["fwd_tx"] > 5, lines[1]["reasons_per_s"]
print("   stats --watch: %.0f packets/s, %.0f bits/s" % (s["packets_per_s"], s["bits_per_s"]))
PYEOF
	lbctl stats --watch 1 --count 1 | head -1 | grep -q 'PKTS/S *BITS/S *FLOWS/S$' ||
		{ fail "stats --watch header"; return 1; }
	wait "$LONG_PID" || { fail "the long-lived connection failed"; return 1; }
	# Bad input of these commands.
	n=0
	lbctl hash --service $VIP:80 >/dev/null 2>&1; [ $? = 2 ] || n=1
	lbctl hash --service $VIP:80 --flow '[2001:db8::1]:5' >/dev/null 2>&1; [ $? = 2 ] || n=2
	lbctl hash --service $VIP:80 --flow 10.201.0.2:5/udp >/dev/null 2>&1; [ $? = 2 ] || n=3
	lbctl hash --service $VIP:81 --flow 10.201.0.2:5 2>&1 | grep -q 'does not exist' || n=4
	lbctl stats --count 2 >/dev/null 2>&1; [ $? = 2 ] || n=5
	lbctl stats --watch 0 >/dev/null 2>&1; [ $? = 2 ] || n=6
	lbctl conntrack list --limit x >/dev/null 2>&1; [ $? = 2 ] || n=7
	lbctl stats $VIP:81 2>&1 | grep -q 'does not exist' || n=8
	[ $n = 0 ] || { fail "bad-input case $n"; return 1; }
}

test_live_reattach() {
	local n id1 id2 out
	setup || return
	# A keep-alive connection making 30 requests over 6 s, while the program is replaced
	# twice and new connections keep being answered.
	long_client 30 0.2 "$TMP/long" || return 1
	id1=$(lbctl -j status | $PY -c '
import json, sys
a = [a for a in json.load(sys.stdin)["attached"] if a["interface"] == "lb0"][0]
assert a["mode"] == "native" and a["kind"] == "balancer", a
print(a["prog_id"])') || { fail "status: lb0 not attached in native mode"; return 1; }
	lbctl status | grep -Eq "^lb0 +$TOPO-lb +[0-9]+ +native +attached +balancer\$" || { fail "status: $(lbctl status)"; return 1; }
	lbctl attach lb0 --mode native || return 1
	sleep 1
	lbctl attach lb0 --mode native || return 1
	id2=$(lbctl -j status | $PY -c 'import json,sys; print([a for a in json.load(sys.stdin)["attached"] if a["interface"] == "lb0"][0]["prog_id"])')
	log "program $id1 replaced by $id2"
	[ "$id1" != "$id2" ] || { fail "the program was not replaced"; return 1; }
	out=$(ip netns exec "$PX-c" $PY "$HERE/l4_ports.py" $VIP 80 23000 20)
	n=$(echo "$out" | grep -c ' b[1-3]$')
	[ "$n" = 20 ] || { fail "new connections after re-attach: $n of 20"; return 1; }
	wait "$LONG_PID" || { fail "the established connection broke: $(cat "$TMP/long")"; return 1; }
	n=$(sort -u "$TMP/long" | wc -l)
	[ "$(wc -l <"$TMP/long")" = 30 ] && [ "$n" = 1 ] ||
		{ fail "the established connection moved or lost answers: $(sort "$TMP/long" | uniq -c)"; return 1; }
	log "the established connection kept $(head -1 "$TMP/long") for 30 requests across 2 re-attaches"
}

run_tests "$@"
