#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd --upgrade under wrk load: the new process takes the listening sockets over the Unix
# socket, the old one drains and exits, with zero refused connections and zero failed
# requests. Loopback ports 30000-30699.
ALL_TESTS="test_upgrade_oneline_under_load test_upgrade_config test_upgrade_usr2_notify"
ALL_TESTS+=" test_upgrade_fails test_upgrade_usr2_fails test_upgrade_nobody"

source "$(dirname "$0")/../integration/lib.sh"
source "$PINGX_TOP/tests/l7/l7lib.sh"
source "$PINGX_TOP/tests/l7/reloadlib.sh"

# wait_exit PID SECS: wait up to SECS for PID to end.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# One-line mode with the derived socket path: old (to A) hands over to new (to B) twice
# under keep-alive and connection-per-request load.
test_upgrade_oneline_under_load() {
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT sock
	# Where pingd derives the socket from (see upgrade_socket in docs/config.md).
	for sock in /run "${XDG_RUNTIME_DIR:-}" /tmp; do
		[ -n "$sock" ] && [ -w "$sock" ] && break
	done
	sock=$sock/pingd-127.0.0.1-$lp.sock
	on_exit "rm -f $sock"
	spawn "$PINGD" --listen "127.0.0.1:$lp" --upstream "127.0.0.1:$OA" --workers 2
	local old=$SPAWNED_PID
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	local i
	for ((i = 0; i < 30; i++)); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	[ -S "$sock" ] || fail "no upgrade socket at $sock"
	run_wrk_bg 6 "http://127.0.0.1:$lp/index.html"
	local wrk_ka=$WRK_PID out_ka=$WRK_OUT
	run_wrk_bg 6 "http://127.0.0.1:$lp/index.html" -H "Connection: close" -c256 -t2
	local wrk_cl=$WRK_PID out_cl=$WRK_OUT
	sleep 1.5
	spawn "$PINGD" --listen "127.0.0.1:$lp" --upstream "127.0.0.1:$OB" --workers 2 --upgrade
	local new=$SPAWNED_PID
	wait_exit "$old" 12 || fail "the old pingd did not exit after the hand-over"
	kill -0 "$new" || fail "the new pingd is not running"
	[ "$(get "$lp" /who)" = B ] || fail "the new process does not serve"
	sleep 1
	# And once more, back to A: the successor's own socket works too.
	spawn "$PINGD" --listen "127.0.0.1:$lp" --upstream "127.0.0.1:$OA" --workers 2 --upgrade
	local third=$SPAWNED_PID
	wait_exit "$new" 12 || fail "the second pingd did not exit after the hand-over"
	[ "$(get "$lp" /who)" = A ] || fail "the third process does not serve"
	wait "$wrk_ka" "$wrk_cl"
	check_wrk "$out_ka" keep-alive || return 1
	check_wrk "$out_cl" connection-close || return 1
	kill "$third"
	wait_exit "$third" 12 || fail "the last pingd did not stop"
	[ -e "$sock" ] && fail "$sock left behind"
	return 0
}

# With a config file: upgrade_socket from the config, same listeners, a slow exchange on the
# old process finishes after the hand-over.
test_upgrade_config() {
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT cfg=$TMPD/pingd.yaml late=$TMPD/late.out
	ops_port || return 1
	local lport=$PORT
	spawn "${L7TOOL[@]}" origin "$lport" late "$TMPD/late.log"
	wait_port 127.0.0.1 "$lport" || fail "late origin did not start"
	ops_port || return 1
	local ap=$PORT
	write_cfg "$cfg" "$lp" "$OA" "" "$lport"
	echo "admin: {address: 127.0.0.1:$ap}" >>"$cfg"
	spawn "$PINGD" -c "$cfg"
	local old=$SPAWNED_PID
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	wait_port 127.0.0.1 "$ap" || fail "admin listener did not start"
	curl -s --max-time 10 -o "$late" -w '%{http_code}' "http://127.0.0.1:$lp/late" \
		>"$late.code" &
	local curl_pid=$!
	on_exit "kill $curl_pid 2>/dev/null"
	sleep 0.3
	run_wrk_bg 4 "http://127.0.0.1:$lp/index.html" -H "Connection: close" -c256 -t2
	sleep 0.5
	write_cfg "$cfg" "$lp" "$OB" "" "$lport"
	echo "admin: {address: 127.0.0.1:$ap}" >>"$cfg"
	spawn "$PINGD" -c "$cfg" --upgrade
	local new=$SPAWNED_PID
	wait "$curl_pid"
	[ "$(cat "$late.code")" = 200 ] || fail "the exchange on the old process failed"
	wait_exit "$old" 12 || fail "the old pingd did not exit"
	[ "$(get "$lp" /who)" = B ] || fail "the new process does not serve"
	wait "$WRK_PID"
	check_wrk "$WRK_OUT" connection-close || return 1
	kill -0 "$new" || fail "the new pingd died"
	# The admin listener moved along (the new process bound it next to the draining one).
	[ "$(get "$ap" /healthz)" = ok ] || fail "no admin /healthz after the upgrade"
	get "$ap" /metrics | grep -q '^pingd_' || fail "no metrics after the upgrade"
}

# SIGUSR2 under load: pingd starts its own executable with --upgrade, which takes over; the
# systemd notifications (to a NOTIFY_SOCKET of the test) name the successor as MAINPID.
test_upgrade_usr2_notify() {
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT cfg=$TMPD/pingd.yaml nlog=$TMPD/notify.log i newpid
	: >"$nlog"
	spawn python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    m = s.recv(4096)
    with open(sys.argv[2], "ab") as f:
        f.write(m.replace(b"\n", b" ") + b"\n")
' "$TMPD/notify.sock" "$nlog"
	for ((i = 0; i < 50; i++)); do
		[ -S "$TMPD/notify.sock" ] && break
		sleep 0.1
	done
	write_cfg "$cfg" "$lp" "$OA"
	NOTIFY_SOCKET=$TMPD/notify.sock spawn "$PINGD" -c "$cfg"
	local old=$SPAWNED_PID
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	run_wrk_bg 5 "http://127.0.0.1:$lp/index.html"
	local wrk_ka=$WRK_PID out_ka=$WRK_OUT
	run_wrk_bg 5 "http://127.0.0.1:$lp/index.html" -H "Connection: close" -c256 -t2
	local wrk_cl=$WRK_PID out_cl=$WRK_OUT
	sleep 1
	kill -HUP "$old"
	sleep 0.5
	write_cfg "$cfg" "$lp" "$OB"
	kill -USR2 "$old"
	wait_exit "$old" 12 || fail "the old pingd did not exit after SIGUSR2"
	newpid=$(sed -n 's/^MAINPID=\([0-9]*\) READY=1.*/\1/p' "$nlog" | tail -1)
	[ -n "$newpid" ] || fail "no MAINPID notification: $(cat "$nlog")"
	on_exit "kill $newpid 2>/dev/null"
	kill -0 "$newpid" || fail "the successor $newpid is not running"
	[ "$(get "$lp" /who)" = B ] || fail "the successor does not serve its configuration"
	wait "$wrk_ka" "$wrk_cl"
	check_wrk "$out_ka" keep-alive || return 1
	check_wrk "$out_cl" connection-close || return 1
	cat "$nlog"
	# READY, a reload, the successor's MAINPID+READY; the old one does not say STOPPING.
	local seq
	seq=$(awk '{printf "%s %s|", $1, $2}' "$nlog")
	[ "$seq" = "READY=1 STATUS=serving|RELOADING=1 STATUS=reloading|READY=1 STATUS=serving|MAINPID=$newpid READY=1|" ] ||
		fail "notifications: $seq"
	kill "$newpid"
	wait_exit "$newpid" 12 || fail "the successor did not stop"
	[ "$(tail -1 "$nlog" | awk '{print $1}')" = STOPPING=1 ] ||
		fail "the successor did not notify STOPPING"
}

# A successor that cannot start (a listener port taken by another program) exits 1; the
# running pingd keeps serving, and a later good upgrade still works.
test_upgrade_fails() {
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT cfg=$TMPD/pingd.yaml errlog=$TMPD/old.err rc
	write_cfg "$cfg" "$lp" "$OA"
	spawn "$PINGD" -c "$cfg" 2>"$errlog"
	local old=$SPAWNED_PID
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	run_wrk_bg 3 "http://127.0.0.1:$lp/index.html"
	sleep 0.5
	write_cfg "$cfg" "$lp" "$OB" "$OA"
	timeout 20 "$PINGD" -c "$cfg" --upgrade 2>"$TMPD/new.err"
	rc=$?
	cat "$TMPD/new.err"
	[ $rc = 1 ] || fail "the failing successor exited $rc, expected 1"
	grep -q "listen on 127.0.0.1:$OA" "$TMPD/new.err" || fail "the successor did not say why"
	sleep 0.3
	grep -q "upgrade: hand-over failed" "$errlog" || fail "the old pingd did not log the failure"
	kill -0 "$old" || fail "the old pingd exited"
	[ "$(get "$lp" /who)" = A ] || fail "the old pingd stopped serving"
	wait "$WRK_PID"
	check_wrk "$WRK_OUT" keep-alive || return 1
	write_cfg "$cfg" "$lp" "$OB"
	spawn "$PINGD" -c "$cfg" --upgrade
	wait_exit "$old" 12 || fail "the old pingd did not exit after a good upgrade"
	[ "$(get "$lp" /who)" = B ] || fail "the good successor does not serve"
}

# SIGUSR2 starting a successor that cannot start (a listener port taken by another
# program): the successor exits 1, the running pingd reaps it (no zombie child left) and
# keeps serving.
test_upgrade_usr2_fails() {
	need_l7_tools || return $?
	l7_tmpdir
	start_ab_origins || return 1
	ops_port || return 1
	local lp=$PORT cfg=$TMPD/pingd.yaml errlog=$TMPD/old.err i kids
	write_cfg "$cfg" "$lp" "$OA"
	spawn "$PINGD" -c "$cfg" 2>"$errlog"
	local old=$SPAWNED_PID
	wait_port 127.0.0.1 "$lp" || fail "pingd did not start"
	# The successor would listen on OA too, which nginx holds.
	write_cfg "$cfg" "$lp" "$OB" "$OA"
	kill -USR2 "$old"
	wait_grep "upgrade: hand-over failed" "$errlog" ||
		fail "the old pingd did not log the failure: $(cat "$errlog")"
	# Its child has exited; once reaped, the old pingd has no child left.
	for ((i = 0; i < 50; i++)); do
		kids=$(ps -o pid=,stat= --ppid "$old")
		[ -z "$kids" ] && break
		sleep 0.1
	done
	[ -z "$kids" ] || fail "children left: $kids"
	kill -0 "$old" || fail "the old pingd exited"
	[ "$(get "$lp" /who)" = A ] || fail "the old pingd stopped serving"
	log "successor failed and reaped after $i looks; still serving A"
}

# --upgrade with nobody to take over from: a clear error, exit 1, nothing bound.
test_upgrade_nobody() {
	need_l7_tools || return $?
	l7_tmpdir
	ops_port || return 1
	local lp=$PORT out rc
	write_cfg "$TMPD/pingd.yaml" "$lp" 32999
	out=$(timeout 10 "$PINGD" -c "$TMPD/pingd.yaml" --upgrade 2>&1)
	rc=$?
	echo "$out"
	[ $rc = 1 ] || fail "exit $rc, expected 1"
	grep -q "no running pingd handed over sockets at $TMPD/up.sock" <<<"$out" ||
		fail "no clear message"
	ss -Htln "sport = :$lp" | grep -q . && fail "it listens anyway"
	# A socket path that is not a pingd: refused as well.
	python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" \
		"$TMPD/up.sock"
	out=$(timeout 10 "$PINGD" -c "$TMPD/pingd.yaml" --upgrade 2>&1)
	rc=$?
	echo "$out"
	[ $rc = 1 ] || fail "exit $rc with a dead socket, expected 1"
	return 0
}

run_tests "$@"
