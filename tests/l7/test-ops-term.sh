#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd SIGTERM/SIGINT: stop accepting, let the exchange in flight finish (its response says
# Connection: close), close idle keep-alive connections, exit within timeouts.shutdown.
# Loopback ports 30000-30699.
ALL_TESTS="test_term_slow_request test_term_grace_expires test_term_idle_keepalive"

source "$(dirname "$0")/../integration/lib.sh"
source "$PINGX_TOP/tests/l7/l7lib.sh"
source "$PINGX_TOP/tests/l7/reloadlib.sh"

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# wait_exit PID SECS: wait up to SECS for PID (a child) to end.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# start_late_pingd GRACE: pingd in front of the "late" origin (answers after 2 s), with
# timeouts.shutdown GRACE. Sets LP, PID.
start_late_pingd() {
	l7_tmpdir
	ops_port || return 1
	local lport=$PORT
	spawn "${L7TOOL[@]}" origin "$lport" late "$TMPD/late.log"
	wait_port 127.0.0.1 "$lport" || fail "late origin did not start"
	ops_port || return 1
	LP=$PORT
	write_cfg "$TMPD/pingd.yaml" "$LP" "$lport"
	sed -i "s/shutdown: 10s/shutdown: $1/" "$TMPD/pingd.yaml"
	spawn "$PINGD" -c "$TMPD/pingd.yaml"
	PID=$SPAWNED_PID
	wait_port 127.0.0.1 "$LP" || fail "pingd did not start"
}

# A 2-second request in flight at SIGTERM gets its whole answer with Connection: close; new
# connections are refused meanwhile; pingd exits right after, well within the 10 s grace.
test_term_slow_request() {
	need_l7_tools || return $?
	start_late_pingd 10s || return 1
	local hdr=$TMPD/hdr body=$TMPD/body t0 t1
	curl -s --max-time 10 -D "$hdr" -o "$body" "http://127.0.0.1:$LP/slow" &
	local curl_pid=$!
	on_exit "kill $curl_pid 2>/dev/null"
	sleep 0.5
	t0=$(now_ms)
	kill -TERM "$PID"
	sleep 0.3
	curl -s --max-time 2 "http://127.0.0.1:$LP/" >/dev/null && fail "still accepting after SIGTERM"
	wait "$curl_pid" || fail "the request in flight failed (curl $?)"
	grep -q "^HTTP/1.1 200" "$hdr" || fail "no 200 for the request in flight"
	grep -qi "^connection: close" "$hdr" || fail "the response in flight did not say close"
	grep -q "GET /slow" "$body" || fail "wrong body"
	wait_exit "$PID" 10 || fail "pingd still running 10 s after SIGTERM"
	t1=$(now_ms)
	log "exit $((t1 - t0)) ms after SIGTERM (request needed ~1500 ms more)"
	[ $((t1 - t0)) -ge 1200 ] || fail "exited before the request could have finished"
	[ $((t1 - t0)) -lt 4000 ] || fail "took $((t1 - t0)) ms to exit after the last request"
}

# A request longer than the grace period: pingd exits when the grace ends (0.5 s), not when
# the request would have finished.
test_term_grace_expires() {
	need_l7_tools || return $?
	start_late_pingd 500ms || return 1
	local t0 t1
	curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$LP/slow" &
	local curl_pid=$!
	on_exit "kill $curl_pid 2>/dev/null"
	sleep 0.3
	t0=$(now_ms)
	kill -INT "$PID"
	wait_exit "$PID" 5 || fail "pingd still running 5 s after SIGINT"
	t1=$(now_ms)
	log "exit $((t1 - t0)) ms after SIGINT with a 500 ms grace period"
	[ $((t1 - t0)) -ge 400 ] || fail "exited before the grace period"
	[ $((t1 - t0)) -lt 1500 ] || fail "exited $((t1 - t0)) ms after SIGINT, grace was 500 ms"
	wait "$curl_pid" && fail "the request cut by the grace period succeeded"
	return 0
}

# An idle keep-alive connection does not hold pingd for the grace period: it is closed.
test_term_idle_keepalive() {
	need_l7_tools || return $?
	start_late_pingd 20s || return 1
	local t0 t1 line
	exec 3<>"/dev/tcp/127.0.0.1/$LP" || fail "connect"
	printf 'GET /idle HTTP/1.1\r\nHost: x\r\n\r\n' >&3
	read -r -t 5 line <&3 || fail "no answer on the keep-alive connection"
	[[ $line == "HTTP/1.1 200"* ]] || fail "answer: $line"
	t0=$(now_ms)
	kill -TERM "$PID"
	wait_exit "$PID" 10 || fail "pingd still running 10 s after SIGTERM"
	t1=$(now_ms)
	exec 3<&-
	log "exit $((t1 - t0)) ms after SIGTERM with an idle keep-alive connection open"
	[ $((t1 - t0)) -lt 3000 ] || fail "the idle connection held pingd for $((t1 - t0)) ms"
}

run_tests "$@"
