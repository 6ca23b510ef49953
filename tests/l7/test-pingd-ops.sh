#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd's operations end to end: HTTP health checks take a killed origin out of its pool (no
# failed request under load), bring it back when restarted, and /metrics on the admin
# listener shows it all and passes promtool.

ALL_TESTS="test_failover_under_load test_passive_cooldown test_passive_all_cooling \
 test_admin_config_errors"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/opslib.sh"

PINGD=$O/pingd

# pingd over two python origins with HTTP checks every 200 ms (fall 2, rise 1).
setup() {
	need_ops_tools curl wrk promtool || return $?
	[ -x "$PINGD" ] || fail "$PINGD not built"
	ops_tmpdir
	ops_port || fail "no free port"
	O1=$PORT
	start_pyhttp "$O1"
	O1_PID=$ORIGIN_PID
	ops_port || fail "no free port"
	O2=$PORT
	start_pyhttp "$O2"
	O2_PID=$ORIGIN_PID
	ops_port || fail "no free port"
	LPORT=$PORT
	ops_port || fail "no free port"
	APORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 2
admin: {address: '127.0.0.1:$APORT'}
listeners: [{address: '127.0.0.1:$LPORT'}]
upstreams:
  - name: web
    retries: 2
    health: {check: http, path: /, interval: 200ms, timeout: 100ms, rise: 1, fall: 2}
    servers: [{address: '127.0.0.1:$O1'}, {address: '127.0.0.1:$O2'}]
virtual_hosts: [{name: site, hosts: '*', routes: [{path: /, upstream: web}]}]
YAML
	"$PINGD" -t -c "$TMPD/pingd.yaml" >/dev/null || fail "config rejected"
	spawn "$PINGD" -c "$TMPD/pingd.yaml"
	PINGD_PID=$SPAWNED_PID
	wait_port 127.0.0.1 "$LPORT" || fail "pingd did not start"
	wait_port 127.0.0.1 "$APORT" || fail "admin listener did not start"
}

metric() { curl -s --max-time 5 "http://127.0.0.1:$APORT/metrics" | grep -F "$1" | awk '{print $2}'; }

test_failover_under_load() {
	setup || return $?
	local t0 non2xx
	wrk -t1 -c4 -d4s --latency "http://127.0.0.1:$LPORT/" >"$TMPD/wrk.out" 2>&1 &
	local wrk_pid=$!
	sleep 1
	kill "$O2_PID"
	wait "$O2_PID" 2>/dev/null
	t0=$(now_ms)
	for ((i = 0; i < 100; i++)); do
		[ "$(metric "pingd_upstream_peer_up{upstream=\"web\",server=\"127.0.0.1:$O2\"}")" = 0 ] &&
			break
		sleep 0.05
	done
	log "origin killed -> peer down in /metrics: $(($(now_ms) - t0)) ms"
	wait "$wrk_pid"
	grep -q 'requests in' "$TMPD/wrk.out" || fail "wrk: $(cat "$TMPD/wrk.out")"
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$TMPD/wrk.out")
	log "wrk: $(grep 'requests in' "$TMPD/wrk.out"); non-2xx: ${non2xx:-0}; $(grep 'Socket errors' "$TMPD/wrk.out")"
	[ -z "$non2xx" ] || fail "failed requests during failover: $non2xx"
	# A response the origin was sending when it was killed cannot be saved: pingd closes
	# that client connection rather than pass a truncated body off as complete. At most one
	# such request per wrk connection; none may fail to connect or time out.
	local se
	se=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$TMPD/wrk.out")
	if [ -n "$se" ]; then
		read -r e_conn e_read e_write e_tmo <<<"$se"
		[ "$e_conn" = 0 ] && [ "$e_tmo" = 0 ] && [ $((e_read + e_write)) -le 4 ] ||
			fail "socket errors during failover: $se"
	fi
	[ "$(metric "pingd_upstream_peer_up{upstream=\"web\",server=\"127.0.0.1:$O2\"}")" = 0 ] ||
		fail "killed origin not down"
	# Restarted, it comes back and gets traffic again.
	start_pyhttp "$O2"
	for ((i = 0; i < 100; i++)); do
		[ "$(metric "pingd_upstream_peer_up{upstream=\"web\",server=\"127.0.0.1:$O2\"}")" = 1 ] &&
			break
		sleep 0.05
	done
	[ "$(metric "pingd_upstream_peer_up{upstream=\"web\",server=\"127.0.0.1:$O2\"}")" = 1 ] ||
		fail "restarted origin not up"
	: >"$TMPD/origin.log"
	for ((i = 0; i < 10; i++)); do curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$LPORT/"; done
	[ "$(grep -c '"GET / HTTP' "$TMPD/origin.log")" -ge 10 ] || fail "origins not serving"
	curl -s --max-time 5 "http://127.0.0.1:$APORT/metrics" >"$TMPD/metrics"
	promtool check metrics <"$TMPD/metrics" >"$TMPD/promtool.out" 2>&1 ||
		fail "promtool: $(cat "$TMPD/promtool.out")"
	grep -Eq '^pingd_requests_total\{vhost="site",route="/",code="2xx"\} [1-9][0-9]+$' \
		"$TMPD/metrics" || fail "requests not counted: $(grep requests_total "$TMPD/metrics")"
	grep -Eq '^pingd_request_duration_seconds_count\{vhost="site",route="/"\} [1-9]' \
		"$TMPD/metrics" || fail "latency not recorded"
	[ "$(curl -s --max-time 5 "http://127.0.0.1:$APORT/healthz")" = ok ] || fail "healthz"
}

# Passive health alone: an origin answering 503 is taken out after max_fails requests for the
# cool-down, then tried once (probation) and taken out again.
test_passive_cooldown() {
	need_ops_tools curl || return $?
	[ -x "$PINGD" ] || fail "$PINGD not built"
	ops_tmpdir
	ops_port || fail "no free port"
	local good=$PORT bad lport aport i codes n_bad
	start_pyhttp "$good"
	ops_port || fail "no free port"
	bad=$PORT
	spawn python3 -c "
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open('$TMPD/bad.log', 'a').write('x\\n')
        self.send_response(503); self.send_header('Content-Length', '0'); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', $bad), H).serve_forever()"
	wait_port 127.0.0.1 "$bad" || fail "bad origin did not start"
	ops_port || fail "no free port"
	lport=$PORT
	ops_port || fail "no free port"
	aport=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
admin: {address: '127.0.0.1:$aport'}
listeners: [{address: '127.0.0.1:$lport'}]
upstreams:
  - name: web
    passive: {max_fails: 2, cooldown: 4s}
    servers: [{address: '127.0.0.1:$good'}, {address: '127.0.0.1:$bad'}]
virtual_hosts: [{name: site, hosts: '*', routes: [{path: /, upstream: web}]}]
YAML
	spawn "$PINGD" -c "$TMPD/pingd.yaml"
	wait_port 127.0.0.1 "$lport" || fail "pingd did not start"
	codes=""
	for ((i = 0; i < 30; i++)); do
		codes+=$(curl -s -o /dev/null -w '%{http_code} ' --max-time 5 "http://127.0.0.1:$lport/")
	done
	n_bad=$(wc -l <"$TMPD/bad.log")
	log "30 requests: $(tr ' ' '\n' <<<"$codes" | sort | uniq -c | tr '\n' ' '); bad origin saw $n_bad"
	[ "$n_bad" = 2 ] || fail "bad origin got $n_bad requests, expected max_fails = 2"
	curl -s --max-time 5 "http://127.0.0.1:$aport/metrics" >"$TMPD/m1"
	grep -q "^pingd_upstream_peer_cooldowns_total{upstream=\"web\",server=\"127.0.0.1:$bad\"} 1$" \
		"$TMPD/m1" || fail "cool-down not counted: $(grep cooldowns "$TMPD/m1")"
	# After the cool-down one request goes to it on probation; its 503 starts another, twice
	# as long. (The cool-downs are long enough for the requests of each step to fit in them
	# on a busy machine.)
	sleep 4.2
	for ((i = 0; i < 10; i++)); do
		curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$lport/"
	done
	[ "$(wc -l <"$TMPD/bad.log")" = 3 ] || fail "probation: bad origin saw $(wc -l <"$TMPD/bad.log")"
	curl -s --max-time 5 "http://127.0.0.1:$aport/metrics" |
		grep -q "^pingd_upstream_peer_cooldowns_total{upstream=\"web\",server=\"127.0.0.1:$bad\"} 2$" ||
		fail "second cool-down not counted"
}

# A pool whose every server is cooling down still gets its requests: the 503 origin's own
# answers come back, not a 502 from pingd.
test_passive_all_cooling() {
	need_ops_tools curl || return $?
	[ -x "$PINGD" ] || fail "$PINGD not built"
	ops_tmpdir
	ops_port || fail "no free port"
	local bad=$PORT lport codes i
	spawn python3 -c "
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open('$TMPD/bad.log', 'a').write('x\\n')
        self.send_response(503); self.send_header('Content-Length', '0'); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', $bad), H).serve_forever()"
	wait_port 127.0.0.1 "$bad" || fail "bad origin did not start"
	ops_port || fail "no free port"
	lport=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
listeners: [{address: '127.0.0.1:$lport'}]
upstreams:
  - name: web
    passive: {max_fails: 1, cooldown: 60s}
    servers: [{address: '127.0.0.1:$bad'}]
virtual_hosts: [{name: site, hosts: '*', routes: [{path: /, upstream: web}]}]
YAML
	spawn "$PINGD" -c "$TMPD/pingd.yaml"
	wait_port 127.0.0.1 "$lport" || fail "pingd did not start"
	codes=""
	for ((i = 0; i < 3; i++)); do
		codes+=$(curl -s -o /dev/null -w '%{http_code} ' --max-time 5 "http://127.0.0.1:$lport/")
	done
	log "statuses: $codes; origin saw $(wc -l <"$TMPD/bad.log")"
	[ "$codes" = "503 503 503 " ] || fail "cooling-down pool answered $codes"
	[ "$(wc -l <"$TMPD/bad.log")" = 3 ] || fail "origin saw $(wc -l <"$TMPD/bad.log") requests"
}

test_admin_config_errors() {
	need_ops_tools || return $?
	[ -x "$PINGD" ] || fail "$PINGD not built"
	ops_tmpdir
	cat >"$TMPD/bad.yaml" <<YAML
admin: {address: 'localhost'}
listeners: [{address: '127.0.0.1:1'}]
upstreams:
  - name: web
    health: {check: http, path: nope, interval: 100ms, timeout: 1s}
    servers: [{address: '127.0.0.1:2'}]
virtual_hosts: [{name: site, hosts: '*', routes: [{path: /, upstream: web}]}]
YAML
	! "$PINGD" -t -c "$TMPD/bad.yaml" >"$TMPD/out" 2>&1 || fail "bad config accepted"
	grep -q "'admin.address': expected IPv4:PORT" "$TMPD/out" || fail "$(cat "$TMPD/out")"
	grep -q "bad.yaml:4: 'upstreams\[\].health': timeout must be between" "$TMPD/out" ||
		fail "$(cat "$TMPD/out")"
}

run_tests "$@"
