#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd SIGHUP reload under wrk load: routes, upstreams and listeners change with zero failed
# requests and no dropped exchange; an invalid configuration is rejected and the running one
# keeps serving. Loopback ports 30000-30699.
ALL_TESTS="test_reload_under_load test_reload_invalid test_reload_oneline"
ALL_TESTS+=" test_reload_keeps_ops test_idle_after_reload"

source "$(dirname "$0")/../integration/lib.sh"
source "$PINGX_TOP/tests/l7/l7lib.sh"
source "$PINGX_TOP/tests/l7/reloadlib.sh"

# Reload three times under load (A -> B with a new listener -> A), with a request 2 s long in
# flight across the first reload.
test_reload_under_load() {
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT extra cfg=$TMPD/pingd.yaml late=$TMPD/late.out
	ops_port || return 1
	extra=$PORT
	write_cfg "$cfg" "$lp" "$OA"
	spawn "$PINGD" -c "$cfg" 2>"$TMPD/pingd.err"
	local pid=$SPAWNED_PID i
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	[ "$(get "$lp" /who)" = A ] || fail "not routed to A before the reload"

	# A slow exchange on its own pool and route, started once the reload that adds them is
	# done (a fixed pause lost that race on a busy machine: the request met the old routes).
	ops_port || return 1
	local lport=$PORT
	spawn "${L7TOOL[@]}" origin "$lport" late "$TMPD/late.log"
	wait_port 127.0.0.1 "$lport" || fail "late origin did not start"
	write_cfg "$cfg" "$lp" "$OA" "" "$lport"
	kill -HUP "$pid"
	wait_grep 'reloaded:' "$TMPD/pingd.err" ||
		fail "the first reload did not finish: $(cat "$TMPD/pingd.err")"
	curl -s --max-time 10 -o "$late" -w '%{http_code}' "http://127.0.0.1:$lp/late" \
		>"$late.code" &
	local curl_pid=$!
	on_exit "kill $curl_pid 2>/dev/null"

	run_wrk_bg 6 "http://127.0.0.1:$lp/index.html"
	local wrk_ka=$WRK_PID out_ka=$WRK_OUT
	run_wrk_bg 6 "http://127.0.0.1:$lp/index.html" -H "Connection: close" -c256 -t2
	local wrk_cl=$WRK_PID out_cl=$WRK_OUT
	sleep 1
	# To B, with a second listener.
	write_cfg "$cfg" "$lp" "$OB" "$extra"
	kill -HUP "$pid"
	wait_port 127.0.0.1 "$extra" "" 20 ||
		fail "the new listener did not open: $(tail -n 5 "$TMPD/pingd.err")"
	[ "$(get "$lp" /who)" = B ] || fail "route not switched to B on the old listener"
	[ "$(get "$extra" /who)" = B ] || fail "new listener does not serve B"
	wait "$curl_pid"
	[ "$(cat "$late.code")" = 200 ] ||
		fail "the exchange in flight across the reload failed: $(cat "$late.code") $(cat "$TMPD/pingd.err")"
	grep -q 'GET /late' "$late" || fail "the exchange in flight got a wrong body"
	sleep 1.5
	# Back to A, the extra listener closed again.
	write_cfg "$cfg" "$lp" "$OA"
	kill -HUP "$pid"
	sleep 1
	[ "$(get "$lp" /who)" = A ] || fail "route not switched back to A"
	get "$extra" /who >/dev/null && fail "the removed listener still answers"
	wait "$wrk_ka" "$wrk_cl"
	check_wrk "$out_ka" keep-alive || return 1
	check_wrk "$out_cl" connection-close || return 1
	kill -0 "$pid" || fail "pingd died"
}

# Broken YAML, a bad value and a listener whose port is taken: each rejected with its
# errors logged, while the running configuration serves under load.
test_reload_invalid() {
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT busy cfg=$TMPD/pingd.yaml errlog=$TMPD/pingd.err
	write_cfg "$cfg" "$lp" "$OA"
	spawn "$PINGD" -c "$cfg" 2>"$errlog"
	local pid=$SPAWNED_PID
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	run_wrk_bg 4 "http://127.0.0.1:$lp/index.html"

	sleep 0.5
	echo "listeners: [ {address: " >"$cfg"
	kill -HUP "$pid"
	sleep 0.5
	write_cfg "$cfg" "$lp" "$OB"
	sed -i 's/workers: 2/workers: many/' "$cfg"
	kill -HUP "$pid"
	sleep 0.5
	# A port some other socket listens on (no SO_REUSEPORT): the bind fails.
	busy=$OA
	write_cfg "$cfg" "$lp" "$OB" "$busy"
	kill -HUP "$pid"
	sleep 0.5
	[ "$(get "$lp" /who)" = A ] || fail "the running configuration was replaced"
	wait "$WRK_PID"
	check_wrk "$WRK_OUT" keep-alive || return 1
	grep -q "workers.*many" "$errlog" || fail "the bad value was not logged"
	[ "$(grep -c 'configuration rejected' "$errlog")" -ge 2 ] || fail "rejections not logged"
	grep -q "listen on 127.0.0.1:$busy" "$errlog" || fail "the bind failure was not logged"
	grep -q "running configuration stays" "$errlog" || fail "bind failure did not keep the old"
	kill -0 "$pid" || fail "pingd died"
	# And a good one is still taken afterwards.
	write_cfg "$cfg" "$lp" "$OB"
	kill -HUP "$pid"
	sleep 0.5
	[ "$(get "$lp" /who)" = B ] || fail "a valid configuration after rejected ones not taken"
}

# One-line mode: SIGHUP rebuilds the same configuration under load, no failures.
test_reload_oneline() {
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT
	spawn "$PINGD" --listen "127.0.0.1:$lp" --upstream "127.0.0.1:$OA" --workers 2
	local pid=$SPAWNED_PID
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	run_wrk_bg 4 "http://127.0.0.1:$lp/index.html"
	local i
	for ((i = 0; i < 5; i++)); do
		sleep 0.5
		kill -HUP "$pid"
	done
	wait "$WRK_PID"
	check_wrk "$WRK_OUT" keep-alive || return 1
	[ "$(get "$lp" /who)" = A ] || fail "not serving after reloads"
}

# Health states, metrics and the admin listener carry over a reload: a server found down
# stays down in the new configuration (no probe round of traffic to it), counters continue.
test_reload_keeps_ops() {
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT ap dead cfg=$TMPD/pingd.yaml i up m1 m2
	ops_port || return 1
	ap=$PORT
	ops_port || return 1
	dead=$PORT
	write_cfg "$cfg" "$lp" "$OA"
	sed -i "s|servers: \[{address: 127.0.0.1:$OA}\]|servers: [{address: 127.0.0.1:$OA}, {address: 127.0.0.1:$dead}]\n    health: {check: tcp, interval: 5s, timeout: 1s, fall: 1, rise: 1}|" "$cfg"
	echo "admin: {address: 127.0.0.1:$ap}" >>"$cfg"
	spawn "$PINGD" -c "$cfg"
	local pid=$SPAWNED_PID
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	wait_port 127.0.0.1 "$ap" || fail "admin did not start"
	up="pingd_upstream_peer_up{upstream=\"pool\",server=\"127.0.0.1:$dead\"}"
	for ((i = 0; i < 60; i++)); do
		get "$ap" /metrics | grep -qxF "$up 0" && break
		sleep 0.1
	done
	get "$ap" /metrics | grep -qxF "$up 0" || fail "the dead server is not down"
	for ((i = 0; i < 20; i++)); do get "$lp" /who >/dev/null; done
	m1=$(get "$ap" /metrics | awk '/^pingd_requests_total/ {s += $2} END {print s + 0}')
	kill -HUP "$pid"
	sleep 0.3
	# The next probe is 5 s away: only a carried-over state can say down now.
	get "$ap" /metrics | grep -qxF "$up 0" || fail "health state lost in the reload"
	for ((i = 0; i < 20; i++)); do get "$lp" /who >/dev/null; done
	m2=$(get "$ap" /metrics | awk '/^pingd_requests_total/ {s += $2} END {print s + 0}')
	log "requests_total: $m1 before the reload, $m2 after 20 more"
	[ "$m2" -ge $((m1 + 20)) ] || fail "counters did not continue over the reload"
	[ "$(get "$ap" /healthz)" = ok ] || fail "healthz after the reload"
}

# An idle pingd, once the generation a reload replaced has drained, has no timer waking its
# main thread: a 2 s window sees at most 2 wakeups (it polled its old generations 20 times a
# second, always).
test_idle_after_reload() {
	need_l7_tools || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT cfg=$TMPD/pingd.yaml i a b n=-1
	write_cfg "$cfg" "$lp" "$OA"
	spawn "$PINGD" -c "$cfg" 2>"$TMPD/pingd.err"
	local pid=$SPAWNED_PID
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	[ "$(get "$lp" /who)" = A ] || fail "not routed to A"
	write_cfg "$cfg" "$lp" "$OB"
	kill -HUP "$pid"
	wakeups() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$pid/task/$pid/status"; }
	# The old generation drains within timeouts.shutdown (10 s); then the thread sleeps.
	for ((i = 0; i < 12; i++)); do
		a=$(wakeups)
		sleep 2
		b=$(wakeups)
		n=$((b - a))
		[ "$n" -le 2 ] && break
	done
	[ "$(get "$lp" /who)" = B ] || fail "not routed to B after the reload"
	log "main thread: $n wakeups in 2 s, after $i windows"
	[ "$n" -le 2 ] || fail "the idle main thread woke $n times in 2 s"
	kill -0 "$pid" || fail "pingd died"
}

run_tests "$@"
