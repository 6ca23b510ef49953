#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# L7 services end to end: a client reaches an l7 service VIP:port through the XDP program
# (pass_l7), pingd's sk_lookup program steers the connection into pingd's listening socket
# (bound to 127.0.0.1 only) and pingd forwards to an origin. Services added later are steered
# without a restart; other ports and plain binds keep the normal socket lookup.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_steer_end_to_end test_steer_new_service_live test_steer_other_ports \
test_steer_plain_bind test_steer_ipv6 test_steer_reuseport test_steer_two_pingd test_steer_reload test_steer_upgrade \
test_steer_errors"

PX=px-steer-$$
PINS=/sys/fs/bpf/$PX
HERE=$(cd "$(dirname "$0")" && pwd)
TOPO=$PX TOPO_PINS=$PINS TOPO_LB_PIN=$PINS/lb TOPO_SERVE_SECONDS=120
source "$HERE/../../scripts/topo.sh"
VIP=$TOPO_VIP4
VIP2=10.201.100.2
VIP6=$TOPO_VIP6
LB=$PX-lb
CL=$PX-c

lbctl() { topo_lbctl "$@"; }

# The client's view: curl -s with a short timeout; prints the body, plus "via" when pingd
# (which adds "Via: 1.1 pingd") answered.
fetch() {
	nsx "$CL" curl -s -m 3 -D "$TMP/hdr" "$@" || return
	grep -qi '^via: 1.1 pingd' "$TMP/hdr" && echo via
	return 0
}

# pass_l7 packets counted by the XDP program so far.
pass_l7() {
	lbctl -j stats | python3 -c '
import json, sys
d = json.load(sys.stdin)
def find(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "pass_l7":
                return v if isinstance(v, int) else v.get("packets", 0)
            r = find(v)
            if r is not None:
                return r
    elif isinstance(o, list):
        for v in o:
            if isinstance(v, dict) and v.get("reason") == "pass_l7":
                return v.get("packets", 0)
            r = find(v)
            if r is not None:
                return r
    return None
r = find(d)
print(-1 if r is None else r)'
}

# Test bed: client and balancer (XDP attached by pingctl), the VIP range local in the
# balancer (no per-VIP address), an origin answering "origin" on 127.0.0.1:9001 ... [::]:9001
# and pingd steering into 127.0.0.1:8080 (and [::1]:8080), plainly bound on 10.201.0.1:8081.
setup() {
	need_root || return
	for t in curl nsenter python3 bpftool; do
		command -v $t >/dev/null || { echo "   missing $t" >&2; return $SKIP; }
	done
	[ -x "$O/pingctl" ] && [ -x "$O/pingd" ] || { echo "   pingctl/pingd not built" >&2; return 1; }
	TMP=$(mktemp -d) && on_exit "rm -rf $TMP"
	on_exit topo_down
	topo_up 0 || return 1
	ip -n "$LB" route add local 10.201.100.0/24 dev lo || return 1
	ip -n "$LB" -6 route add local fd00:201:100::/64 dev lo || return 1
	ip -n "$CL" route add $VIP2/32 via 10.201.0.1 || return 1
	spawn nsenter --net=/run/netns/"$LB" python3 "$HERE/l4_server.py" origin 9001 120
	wait_port 127.0.0.1 9001 "$LB" || { fail "origin does not listen"; return 1; }
	cat >"$TMP/pingd.yaml" <<YAML
workers: 2
steer_pin_dir: $TOPO_LB_PIN
upgrade_socket: $TMP/upgrade.sock
timeouts:
  shutdown: 1s
listeners:
  - address: 127.0.0.1:8080
    steer: true
  - address: '[::1]:8080'
    steer: true
  - address: 10.201.0.1:8081
virtual_hosts:
  - name: all
    hosts: '*'
    routes:
      - path: /
        upstream: origin
upstreams:
  - name: origin
    servers:
      - address: 127.0.0.1:9001
YAML
}

start_pingd() {
	spawn nsenter --net=/run/netns/"$LB" "$O/pingd" -c "$TMP/pingd.yaml" 2>"$TMP/pingd.log"
	PINGD_PID=$SPAWNED_PID
	# Its sockets listen before the steering is attached: wait for the ready notice.
	for i in $(seq 50); do grep -q ' workers, ' "$TMP/pingd.log" && break; sleep 0.1; done
	grep -q ' workers, ' "$TMP/pingd.log" || { cat "$TMP/pingd.log"; fail "pingd is not ready"; return 1; }
}

# The sk_lookup links attached to the balancer's namespace.
netns_links() {
	local ino
	ino=$(stat -L -c %i /run/netns/"$LB")
	bpftool -j link show | python3 -c '
import json, sys
print(sum(1 for l in json.load(sys.stdin)
          if l.get("type") == "netns" and l.get("netns_ino") == int(sys.argv[1])
          and l.get("attach_type") == "sk_lookup"))' "$ino"
}

test_steer_end_to_end() {
	local before after out
	setup || return
	lbctl service add $VIP:80 --mode l7 || return 1
	# Before pingd runs nothing listens on the VIP: refused.
	fetch http://$VIP/ >/dev/null && { fail "VIP:80 answered before pingd ran"; return 1; }
	start_pingd || return 1
	grep -q "steering l7 services" "$TMP/pingd.log" || { cat "$TMP/pingd.log"; fail "no steering notice"; return 1; }
	[ "$(netns_links)" = 1 ] || { fail "expected one sk_lookup link on the namespace"; return 1; }
	before=$(pass_l7)
	[ "$before" -ge 0 ] || { fail "pingctl stats has no pass_l7"; return 1; }
	for i in 1 2 3 4 5; do
		out=$(fetch http://$VIP/x$i) || { cat "$TMP/pingd.log"; fail "curl VIP:80 failed"; return 1; }
		[ "$out" = "$(printf 'origin\nvia')" ] || { fail "VIP:80 answered '$out'"; return 1; }
	done
	after=$(pass_l7)
	log "pass_l7 $before -> $after"
	[ "$after" -ge $((before + 5 * 3)) ] || { fail "pass_l7 did not count the requests"; return 1; }
	# pingd owns the link: stopping it detaches the program.
	kill -TERM "$PINGD_PID"
	wait "$PINGD_PID" 2>/dev/null
	log "pingd exit status $?"
	# The kernel frees a released link after an RCU grace period: allow 2 s.
	for i in $(seq 20); do [ "$(netns_links)" = 0 ] && break; sleep 0.1; done
	[ "$(netns_links)" = 0 ] || { bpftool link show; fail "sk_lookup link left after pingd exited"; return 1; }
	fetch http://$VIP/ >/dev/null && { fail "VIP:80 answered after pingd exited"; return 1; }
	return 0
}

test_steer_new_service_live() {
	local out
	setup || return
	lbctl service add $VIP:80 --mode l7 || return 1
	start_pingd || return 1
	fetch http://$VIP2:8080/ >/dev/null && { fail "VIP2:8080 answered before it was a service"; return 1; }
	lbctl service add $VIP2:8080 --mode l7 || return 1
	out=$(fetch http://$VIP2:8080/) || { fail "curl VIP2:8080 failed after service add"; return 1; }
	[ "$out" = "$(printf 'origin\nvia')" ] || { fail "VIP2:8080 answered '$out'"; return 1; }
	kill -0 "$PINGD_PID" || { fail "pingd is gone"; return 1; }
	# An all-ports l7 service steers every port of its address.
	lbctl service add $VIP2:0 --mode l7 || return 1
	out=$(fetch http://$VIP2:7000/) || { fail "curl VIP2:7000 (port-0 service) failed"; return 1; }
	[ "$out" = "$(printf 'origin\nvia')" ] || { fail "VIP2:7000 answered '$out'"; return 1; }
	# Deleting the service ends the steering (the port-0 entry is l7 too: delete both).
	lbctl service del $VIP2:8080 || return 1
	lbctl service del $VIP2:0 || return 1
	fetch http://$VIP2:8080/ >/dev/null && { fail "VIP2:8080 still steered after del"; return 1; }
	return 0
}

test_steer_other_ports() {
	local out
	setup || return
	lbctl service add $VIP:80 --mode l7 || return 1
	lbctl service add $VIP:443 --mode l4 || return 1
	start_pingd || return 1
	# Not a service: the normal lookup finds the origin's wildcard socket, no pingd.
	out=$(fetch http://$VIP:9001/) || { fail "curl VIP:9001 failed"; return 1; }
	[ "$out" = origin ] || { fail "VIP:9001 answered '$out', expected the origin itself"; return 1; }
	# Not a service and nothing bound: refused, not steered into pingd.
	fetch http://$VIP:9999/ >/dev/null && { fail "VIP:9999 answered"; return 1; }
	# An l4 service is the XDP program's (no backend: dropped there), never pingd's.
	fetch http://$VIP:443/ >/dev/null && { fail "the l4 service VIP:443 answered"; return 1; }
	out=$(fetch http://$VIP/) || { fail "curl VIP:80 failed"; return 1; }
	[ "$out" = "$(printf 'origin\nvia')" ] || { fail "VIP:80 answered '$out'"; return 1; }
	return 0
}

test_steer_plain_bind() {
	local out
	setup || return
	lbctl service add $VIP:80 --mode l7 || return 1
	start_pingd || return 1
	out=$(fetch http://10.201.0.1:8081/) || { fail "curl to the plain listener failed"; return 1; }
	[ "$out" = "$(printf 'origin\nvia')" ] || { fail "plain listener answered '$out'"; return 1; }
	out=$(nsx "$LB" curl -s -m 3 http://127.0.0.1:8080/) || { fail "curl 127.0.0.1:8080 failed"; return 1; }
	[ "$out" = origin ] || { fail "127.0.0.1:8080 answered '$out'"; return 1; }
	return 0
}

test_steer_ipv6() {
	local out
	setup || return
	lbctl service add "[$VIP6]:80" --mode l7 || return 1
	start_pingd || return 1
	out=$(fetch "http://[$VIP6]/") || { fail "curl [VIP6]:80 failed"; return 1; }
	[ "$out" = "$(printf 'origin\nvia')" ] || { fail "[VIP6]:80 answered '$out'"; return 1; }
	return 0
}

# Only worker 0's socket is in the socket map, yet the kernel still picks within its
# SO_REUSEPORT group: with pingd stopped, steered connections queue on both workers' sockets.
test_steer_reuseport() {
	local qs
	setup || return
	lbctl service add $VIP:80 --mode l7 || return 1
	start_pingd || return 1
	kill -STOP "$PINGD_PID"
	on_exit "kill -CONT $PINGD_PID"
	spawn nsx "$CL" python3 -c "
import socket, time
s = [socket.create_connection(('$VIP', 80), timeout=3) for _ in range(24)]
print('connected', flush=True)
time.sleep(5)" >"$TMP/conns"
	for i in $(seq 50); do [ -s "$TMP/conns" ] && break; sleep 0.1; done
	[ -s "$TMP/conns" ] || { fail "24 connections to VIP:80 did not complete"; return 1; }
	# Recv-Q of a listening socket is its accept queue.
	qs=$(nsx "$LB" ss -Hltn 'sport = :8080' | awk '$4 ~ /^127\.0\.0\.1:/ {print $2}' | sort -n | xargs)
	log "accept queues of the 127.0.0.1:8080 sockets: $qs"
	set -- $qs
	[ $# = 2 ] || { fail "expected two sockets (one per worker), got '$qs'"; return 1; }
	[ "$1" -gt 0 ] && [ $(($1 + $2)) = 24 ] || { fail "not spread over the group: '$qs'"; return 1; }
	kill -CONT "$PINGD_PID"
	return 0
}

# Two pingd in one namespace (as during a hand-over) each attach a program: the second yields
# to the first's choice instead of dropping, and takes over when the first exits.
test_steer_two_pingd() {
	local first out
	setup || return
	lbctl service add $VIP:80 --mode l7 || return 1
	start_pingd || return 1
	first=$PINGD_PID
	mv "$TMP/pingd.log" "$TMP/pingd1.log"
	start_pingd || return 1
	[ "$(netns_links)" = 2 ] || { fail "expected two sk_lookup links"; return 1; }
	for i in $(seq 10); do
		out=$(fetch http://$VIP/) || { fail "curl VIP:80 failed with two pingd"; return 1; }
		[ "$out" = "$(printf 'origin\nvia')" ] || { fail "VIP:80 answered '$out'"; return 1; }
	done
	kill -TERM "$first"
	wait "$first" 2>/dev/null
	for i in $(seq 10); do
		out=$(fetch http://$VIP/) || { fail "curl VIP:80 failed after the first pingd left"; return 1; }
		[ "$out" = "$(printf 'origin\nvia')" ] || { fail "VIP:80 answered '$out'"; return 1; }
	done
	return 0
}

# Expect VIP:80 answered by pingd: expect_steered WHAT
expect_steered() {
	local out
	out=$(fetch http://$VIP/) || { fail "curl VIP:80 failed $1"; return 1; }
	[ "$out" = "$(printf 'origin\nvia')" ] || { fail "VIP:80 answered '$out' $1"; return 1; }
}

# Reload pingd (SIGHUP) and wait for the Nth "reloaded" line: reload N
reload() {
	kill -HUP "$PINGD_PID"
	for i in $(seq 50); do [ "$(grep -c '] reloaded: ' "$TMP/pingd.log")" -ge "$1" ] && return 0; sleep 0.1; done
	cat "$TMP/pingd.log"
	fail "reload $1 did not happen"
}

# SIGHUP follows the config: steering off, on again, and onto a listener of another port
# while the old one's sockets close.
test_steer_reload() {
	local out
	setup || return
	lbctl service add $VIP:80 --mode l7 || return 1
	start_pingd || return 1
	expect_steered "at start" || return 1
	sed -i 's/    steer: true/    steer: false/' "$TMP/pingd.yaml"
	reload 1 || return 1
	sleep 1.5 # the old generation drains (timeouts.shutdown 1s)
	[ "$(netns_links)" = 0 ] || { fail "steering left attached after a reload without it"; return 1; }
	fetch http://$VIP/ >/dev/null && { fail "VIP:80 still steered with steering off"; return 1; }
	sed -i 's/    steer: false/    steer: true/' "$TMP/pingd.yaml"
	reload 2 || return 1
	expect_steered "after steering came back" || return 1
	# The IPv4 steering listener moves from 127.0.0.1:8080 to 127.0.0.1:8090.
	sed -i 's/127.0.0.1:8080/127.0.0.1:8090/' "$TMP/pingd.yaml"
	reload 3 || return 1
	sleep 1.5
	nsx "$LB" ss -Hltn 'src 127.0.0.1:8080' | grep -q . && { fail "127.0.0.1:8080 still listening"; return 1; }
	expect_steered "after the steering listener moved" || return 1
	[ "$(netns_links)" = 1 ] || { fail "expected one sk_lookup link"; return 1; }
	# The data plane's maps re-created: the next SIGHUP moves the steering onto the new ones.
	lbctl detach lb0 || return 1
	rm -rf "$TOPO_LB_PIN"
	lbctl node set --src4 10.201.0.1 --src6 fd00:201::1 --mtu 1600 || return 1
	lbctl attach lb0 --mode native || return 1
	lbctl service add $VIP2:8080 --mode l7 || return 1
	fetch http://$VIP2:8080/ >/dev/null && { fail "new maps read before the reload"; return 1; }
	reload 4 || return 1
	out=$(fetch http://$VIP2:8080/) || { fail "VIP2:8080 of the new maps not steered"; return 1; }
	[ "$out" = "$(printf 'origin\nvia')" ] || { fail "VIP2:8080 answered '$out'"; return 1; }
	fetch http://$VIP/ >/dev/null && { fail "VIP:80 (only in the old maps) still steered"; return 1; }
	[ "$(netns_links)" = 1 ] || { fail "expected one sk_lookup link after the maps changed"; return 1; }
	return 0
}

# A binary upgrade (pingd --upgrade) takes the steered sockets over without a failed request.
test_steer_upgrade() {
	local old n=0 bad=0
	setup || return
	lbctl service add $VIP:80 --mode l7 || return 1
	start_pingd || return 1
	old=$PINGD_PID
	spawn nsenter --net=/run/netns/"$LB" "$O/pingd" --upgrade -c "$TMP/pingd.yaml" 2>"$TMP/new.log"
	# Requests all through the hand-over, until the old process has exited (10 s at most).
	while kill -0 "$old" 2>/dev/null && [ $n -lt 200 ]; do
		fetch http://$VIP/ >"$TMP/out" && [ "$(cat "$TMP/out")" = "$(printf 'origin\nvia')" ] ||
			bad=$((bad + 1))
		n=$((n + 1))
		sleep 0.05
	done
	log "$n requests during the hand-over, $bad failed"
	kill -0 "$old" 2>/dev/null && { cat "$TMP/pingd.log" "$TMP/new.log"; fail "the old pingd did not exit"; return 1; }
	[ $bad = 0 ] || { fail "$bad requests failed during the upgrade"; return 1; }
	grep -q "steering l7 services" "$TMP/new.log" || { cat "$TMP/new.log"; fail "the new pingd does not steer"; return 1; }
	expect_steered "after the upgrade" || return 1
	[ "$(netns_links)" = 1 ] || { fail "expected one sk_lookup link after the upgrade"; return 1; }
	return 0
}

test_steer_errors() {
	local rc
	setup || return
	# No maps under the pin directory: a clear error, exit 1.
	sed -i "s|^steer_pin_dir: .*|steer_pin_dir: $PINS/none|" "$TMP/pingd.yaml"
	nsx "$LB" timeout 10 "$O/pingd" -c "$TMP/pingd.yaml" 2>"$TMP/err"
	rc=$?
	[ $rc = 1 ] || { fail "pingd without maps exited $rc"; return 1; }
	grep -q "$PINS/none/lb_meta: No such file or directory" "$TMP/err" ||
		{ cat "$TMP/err"; fail "no clear message for missing maps"; return 1; }
	# Two steering listeners of one family, a relative pin directory: rejected by -t.
	cat >"$TMP/bad.yaml" <<YAML
steer_pin_dir: relative/dir
listeners:
  - {address: 127.0.0.1:8080, steer: true}
  - {address: 127.0.0.1:8082, steer: true}
virtual_hosts: [{name: a, hosts: '*', routes: [{path: /, upstream: o}]}]
upstreams: [{name: o, servers: [{address: 127.0.0.1:9001}]}]
YAML
	"$O/pingd" -t -c "$TMP/bad.yaml" 2>"$TMP/err" && { fail "-t accepted a bad steering config"; return 1; }
	grep -q "'listeners\[\].steer': '127.0.0.1:8080' and '127.0.0.1:8082' both steer IPv4" "$TMP/err" &&
		grep -q "'steer_pin_dir': expected an absolute path, got 'relative/dir'" "$TMP/err" ||
		{ cat "$TMP/err"; fail "messages"; return 1; }
	sed -i 's/steer: true}$/steer: maybe}/' "$TMP/bad.yaml"
	"$O/pingd" -t -c "$TMP/bad.yaml" 2>"$TMP/err" && { fail "-t accepted steer: maybe"; return 1; }
	grep -q "steer" "$TMP/err" || { cat "$TMP/err"; fail "no message for steer: maybe"; return 1; }
	return 0
}

run_tests "$@"
