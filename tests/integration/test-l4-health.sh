#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd's l4 section end to end: pingd applies a 3-backend service to the maps of the XDP
# topology (scripts/topo.sh) and probes the backends over HTTP. A backend whose server is
# killed is marked down in lb_backends (pingctl and bpftool both show it), new flows avoid
# it, a long-lived connection to a healthy backend keeps working, and the backend comes back
# when its server does. Prints the failover time: kill -> the table without it.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_l4_health_failover test_l4_health_reload test_l4_health_no_maps test_l4_health_bad_item"

PX=px-l4h-$$
NS_C=$PX-c
NS_LB=$PX-lb
PINS=/sys/fs/bpf/$PX
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
VIP4=10.201.100.1 # as scripts/topo.sh
TOPO=$PX TOPO_PINS=$PINS TOPO_LB_PIN=$PINS/lb TOPO_SERVE_SECONDS=300
source "$HERE/../../scripts/topo.sh"

lbctl() { nsx "$NS_LB" "$O/pingctl" --bpffs "$PINS/lb" "$@"; }

# be_field NAME FIELD: FIELD of backend bNAME (10.201.0.1N) in `pingctl -j backend list`.
be_field() {
	lbctl -j backend list | $PY -c '
import json, sys
for b in json.load(sys.stdin):
    if b["address"] == sys.argv[1]:
        print(b[sys.argv[2]])' "10.201.0.1$1" "$2"
}

# wait_state N STATE TRIES: poll every 20 ms until backend bN has STATE.
wait_state() {
	local i=$1 want=$2 tries=$3
	while [ "$tries" -gt 0 ]; do
		[ "$(be_field "$i" state)" = "$want" ] && return 0
		sleep 0.02
		tries=$((tries - 1))
	done
	return 1
}

# count_names N > out: N new connections from the client, one "NAME" line each (or FAIL).
count_names() {
	seq 1 "$1" | xargs -P 8 -I{} sh -c \
		"ip netns exec $NS_C curl -s -m 3 -H 'Connection: close' http://$VIP4/ || echo FAIL"
}

# The state of backend id <id> in lb_backends as bpftool prints it.
bpftool_state() {
	bpftool -j map dump pinned "$PINS/lb/lb_backends" | $PY -c '
import json, sys
for e in json.load(sys.stdin):
    f = e.get("formatted", e)
    if int(f["key"]) == int(sys.argv[1]):
        print(f["value"]["state"])' "$1"
}

write_config() {
	cat >"$1" <<EOC
listeners:
  - address: 127.0.0.1:18480
upstreams:
  - name: none
    servers:
      - address: 127.0.0.1:18481
virtual_hosts:
  - name: main
    hosts: '*'
    routes:
      - path: /
        upstream: none
l4_pin_dir: $2
l4:
  services:
    - address: '$VIP4:80'
      fwd: ipip
      syn_rate: 1000
      syn_burst: 200
      backends:
        - address: '10.201.0.11'
        - address: '10.201.0.12'
        - address: '10.201.0.13'
l4_health:
  - service: '$VIP4:80'
    check: http
    path: /
    interval: 200ms
    timeout: 150ms
    rise: 2
    fall: 2
admin: {address: '127.0.0.1:18482'}
EOC
}

test_l4_health_failover() {
	local cfg out t0 t1 victim keep first n i id pid tries
	need_root || return
	for t in curl nsenter bpftool; do
		command -v $t >/dev/null || { echo "   missing $t" >&2; return $SKIP; }
	done
	[ -x "$O/pingctl" ] && [ -x "$O/pingd" ] || { echo "   pingctl/pingd not built" >&2; return 1; }
	on_exit topo_down
	topo_up 3 || return 1
	cfg=$(mktemp) && on_exit "rm -f $cfg"
	out=$(mktemp) && on_exit "rm -f $out $out.*"
	write_config "$cfg" "$PINS/lb"

	spawn nsenter --net=/run/netns/"$NS_LB" "$O/pingd" -c "$cfg" 2>"$out.log1"
	pid=$SPAWNED_PID
	for i in 1 2 3; do
		wait_state "$i" up 250 || { fail "b$i not up in the maps"; lbctl backend list; return 1; }
	done
	[ "$(lbctl -j service list | $PY -c 'import json,sys;print(len(json.load(sys.stdin)))')" = 1 ] ||
		{ fail "pingd did not apply the l4 section"; lbctl service list; return 1; }

	# 1. All three answer.
	count_names 60 >"$out"
	for i in 1 2 3; do
		n=$(grep -c "^b$i\$" "$out")
		log "before: b$i answered $n of 60"
		[ "$n" -gt 0 ] || { fail "b$i got no flow"; return 1; }
	done
	# The data plane's counters are on pingd's /metrics, read from the maps at the scrape.
	nsx "$NS_LB" curl -s -m 5 http://127.0.0.1:18482/metrics >"$out.metrics" ||
		{ fail "no /metrics from pingd"; return 1; }
	grep -qx 'pingx_xdp_up 1' "$out.metrics" ||
		{ fail "XDP counters not read: $(grep pingx_xdp_up "$out.metrics")"; return 1; }
	n=$(awk -v s="pingx_xdp_service_new_flows_total{service=\"$VIP4:80/tcp\"}" \
		'$1 == s {print $2}' "$out.metrics")
	log "pingx_xdp_service_new_flows_total for $VIP4:80/tcp: ${n:-none}"
	[ "${n:-0}" -ge 60 ] || { fail "XDP new flows on /metrics: ${n:-none}, expected >= 60"; return 1; }

	# 2. A long-lived connection on one backend; another one's server is killed.
	spawn ip netns exec "$NS_C" $PY "$HERE/l4_client.py" "$VIP4" 80 40 0.1 >"$out.ka"
	keep=$SPAWNED_PID
	tries=50
	while [ ! -s "$out.ka" ] && [ $tries -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	first=$(head -1 "$out.ka")
	[ -n "$first" ] || { fail "the long-lived connection got no answer"; return 1; }
	for victim in 1 2 3; do [ "b$victim" != "$first" ] && break; done
	id=$(be_field "$victim" id)
	t0=$(date +%s%N)
	ip netns pids "$PX-b$victim" | xargs -r kill
	wait_state "$victim" down 500 || { fail "b$victim not marked down in 10 s"; return 1; }
	t1=$(date +%s%N)
	log "failover: b$victim killed -> down in the table after $(((t1 - t0) / 1000000)) ms" \
		"(interval 200ms x fall 2, timeout 150ms)"
	# Two failed probes 200 ms (+-10 %) apart, the first within one interval of the kill.
	[ $(((t1 - t0) / 1000000)) -le 1000 ] || { fail "failover took over 1 s"; return 1; }
	lbctl backend list | sed 's/^/   /'
	n=$(bpftool_state "$id")
	[ "$n" = 3 ] || { fail "bpftool shows b$victim (id $id) in state '$n', not 3 (down)"; return 1; }
	log "bpftool: lb_backends[$id].state = $n (LB_BE_DOWN)"
	by=$(be_field "$victim" marked_by)
	at=$(be_field "$victim" marked_at)
	[ "$by" = health ] || { fail "b$victim marked down by '$by', not 'health'"; return 1; }
	[ "$at" -ge $((t0 / 1000000000)) ] && [ "$at" -le $(($(date +%s) + 1)) ] ||
		{ fail "b$victim marked_at $at is not the failover's time"; return 1; }
	log "pingctl: b$victim marked_by $by at $at"

	# 3. New flows avoid it, all answered.
	count_names 60 >"$out"
	n=$(grep -c "^b$victim\$" "$out")
	[ "$n" -eq 0 ] || { fail "b$victim still got $n new flows"; return 1; }
	n=$(grep -c '^b[1-3]$' "$out")
	[ "$n" -eq 60 ] || { fail "$((60 - n)) of 60 requests failed while b$victim is down"; return 1; }
	log "while down: $(sort "$out" | uniq -c | tr -s ' \n' ' ')"

	# 4. The long-lived connection kept its backend throughout.
	wait "$keep" || { fail "the long-lived connection failed"; cat "$out.ka"; return 1; }
	n=$(grep -c "^$first\$" "$out.ka")
	[ "$n" -eq 40 ] || { fail "the long-lived connection moved: $(sort "$out.ka" | uniq -c | tr '\n' ' ')"; return 1; }
	log "long-lived connection: 40 of 40 answers from $first"

	# 5. Back when its server is.
	spawn ip netns exec "$PX-b$victim" $PY "$PINGX_TOP/tests/integration/l4_server.py" \
		"b$victim" 80 300 </dev/null >/dev/null 2>&1
	t0=$(date +%s%N)
	wait_state "$victim" up 500 || { fail "b$victim not up again in 10 s"; return 1; }
	t1=$(date +%s%N)
	log "recovery: b$victim restarted -> up after $(((t1 - t0) / 1000000)) ms (rise 2)"
	count_names 60 >"$out"
	n=$(grep -c "^b$victim\$" "$out")
	[ "$n" -gt 0 ] || { fail "b$victim got no new flow after it came back"; return 1; }
	log "after: b$victim answered $n of 60"
	kill -0 "$pid" || { fail "pingd died"; return 1; }
	grep -q 'services: 1 added, 0 changed, 0 deleted; backends: 3 added' "$out.log1" ||
		{ fail "first start did not add the service"; cat "$out.log1"; return 1; }
	lbctl -j service list | $PY -c '
import json, sys
s = json.load(sys.stdin)[0]
assert (s["syn_rate"], s["syn_burst"]) == (1000, 200), s' ||
		{ fail "the section's syn_rate is not in the maps: $(lbctl service list)"; return 1; }

	# 6. Restarting pingd with the same section changes nothing in the maps: a long-lived
	# connection across the restart keeps its backend.
	: >"$out.ka"
	spawn ip netns exec "$NS_C" $PY "$HERE/l4_client.py" "$VIP4" 80 30 0.1 >"$out.ka"
	keep=$SPAWNED_PID
	sleep 0.5
	kill "$pid" && wait "$pid"
	spawn nsenter --net=/run/netns/"$NS_LB" "$O/pingd" -c "$cfg" 2>"$out.log2"
	pid=$SPAWNED_PID
	tries=100
	while ! grep -q 'l4 health: probing' "$out.log2" && [ $tries -gt 0 ]; do
		sleep 0.05
		tries=$((tries - 1))
	done
	grep -q 'services: 0 added, 0 changed, 0 deleted; backends: 0 added, 0 changed, 0 deleted' \
		"$out.log2" || { fail "a restart with the same section changed the maps"; cat "$out.log2"; return 1; }
	wait "$keep" || { fail "the long-lived connection failed across the restart"; return 1; }
	first=$(head -1 "$out.ka")
	n=$(grep -c "^$first\$" "$out.ka")
	[ "$n" -eq 30 ] || { fail "the connection moved across the restart: $(sort "$out.ka" | uniq -c | tr '\n' ' ')"; return 1; }
	log "pingd restarted: maps unchanged, a connection across it: 30 of 30 answers from $first"
	return 0
}

# SIGHUP with a changed l4 section: the change reaches the maps, and a backend marked down by
# the health checks stays down across the reload (not revived until its probes pass).
test_l4_health_reload() {
	local cfg out pid i tries
	need_root || return
	command -v nsenter >/dev/null || { echo "   missing nsenter" >&2; return $SKIP; }
	[ -x "$O/pingctl" ] && [ -x "$O/pingd" ] || { echo "   pingctl/pingd not built" >&2; return 1; }
	on_exit topo_down
	topo_up 3 || return 1
	cfg=$(mktemp) && on_exit "rm -f $cfg"
	out=$(mktemp) && on_exit "rm -f $out"
	write_config "$cfg" "$PINS/lb"
	spawn nsenter --net=/run/netns/"$NS_LB" "$O/pingd" -c "$cfg" 2>"$out"
	pid=$SPAWNED_PID
	for i in 1 2 3; do wait_state "$i" up 250 || { fail "b$i not up"; cat "$out"; return 1; }; done
	ip netns pids "$PX-b1" | xargs -r kill
	wait_state 1 down 500 || { fail "b1 not marked down"; return 1; }

	sed -i "s/- address: '10.201.0.13'/- {address: '10.201.0.13', weight: 2}/" "$cfg"
	kill -HUP "$pid"
	tries=250
	while [ "$(be_field 3 weight)" != 2 ] && [ $tries -gt 0 ]; do
		sleep 0.02
		tries=$((tries - 1))
	done
	[ "$(be_field 3 weight)" = 2 ] || { fail "the reload did not reach the maps"; cat "$out"; return 1; }
	grep -q 'backends: 0 added, 1 changed, 0 deleted' "$out" ||
		{ fail "the reload changed more than b3"; cat "$out"; return 1; }
	for tries in $(seq 1 25); do
		[ "$(be_field 1 state)" = down ] || { fail "b1 revived by the reload"; cat "$out"; return 1; }
		sleep 0.04
	done
	log "SIGHUP: b3 weight 2 in the maps, 1 backend changed; b1 stayed down across the reload"
	spawn ip netns exec "$PX-b1" $PY "$PINGX_TOP/tests/integration/l4_server.py" b1 80 300 \
		</dev/null >/dev/null 2>&1
	wait_state 1 up 500 || { fail "b1 not up again after the reload"; cat "$out"; return 1; }
	log "b1 up again once its server is"
	kill -0 "$pid" || { fail "pingd died"; return 1; }
	return 0
}

# An l4 section without maps: one error line, exit status 1, nothing created.
test_l4_health_no_maps() {
	local cfg err rc
	need_root || return
	cfg=$(mktemp) && on_exit "rm -f $cfg $cfg.err"
	write_config "$cfg" "/sys/fs/bpf/$PX-none"
	timeout 10 "$O/pingd" -c "$cfg" 2>"$cfg.err"
	rc=$?
	[ $rc -eq 1 ] || { fail "exit status $rc, not 1"; cat "$cfg.err"; return 1; }
	grep -q "no pingx maps in /sys/fs/bpf/$PX-none" "$cfg.err" ||
		{ fail "no clear error"; cat "$cfg.err"; return 1; }
	[ ! -e "/sys/fs/bpf/$PX-none" ] || { rm -rf "/sys/fs/bpf/$PX-none"; fail "pins created"; return 1; }
	log "$(grep 'no pingx maps' "$cfg.err")"
	return 0
}

# An l4_health item that names no service of the section: one error line with its place.
test_l4_health_bad_item() {
	local cfg rc line
	need_root || return
	cfg=$(mktemp) && on_exit "rm -f $cfg $cfg.err"
	write_config "$cfg" "/sys/fs/bpf/$PX-none"
	sed -i "s/service: '$VIP4:80'/service: '$VIP4:81'/" "$cfg"
	timeout 10 "$O/pingd" -c "$cfg" 2>"$cfg.err"
	rc=$?
	[ $rc -eq 1 ] || { fail "exit status $rc, not 1"; cat "$cfg.err"; return 1; }
	line=$(grep -n "service: '$VIP4:81'" "$cfg" | head -1 | cut -d: -f1)
	grep -q "$cfg:$line: 'l4_health\[\].service': '$VIP4:81' is not a service of the l4 section" \
		"$cfg.err" || { fail "no clear error at line $line"; cat "$cfg.err"; return 1; }
	log "$(grep 'not a service' "$cfg.err")"
	return 0
}

run_tests "$@"
