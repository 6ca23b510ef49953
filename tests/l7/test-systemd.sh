#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The systemd side: scripts/pingd.service passes `systemd-analyze verify` (with pingd's path
# rewritten to the build) and says Type=notify with a SIGHUP reload; and the readiness
# protocol reaches a real NOTIFY_SOCKET: READY=1 after start-up, STOPPING=1 on SIGTERM.

ALL_TESTS="test_unit_verify test_notify_socket"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/opslib.sh"

UNIT=$PINGX_TOP/scripts/pingd.service

test_unit_verify() {
	need_ops_tools systemd-analyze || return $?
	[ -x "$O/pingd" ] || fail "$O/pingd not built"
	ops_tmpdir
	sed "s#/usr/local/sbin/pingd#$O/pingd#g" "$UNIT" >"$TMPD/pingd.service"
	systemd-analyze verify "$TMPD/pingd.service" >"$TMPD/verify.out" 2>&1 ||
		fail "systemd-analyze: $(cat "$TMPD/verify.out")"
	# A broken unit must fail verification, or the check above proves nothing.
	sed 's/^Type=notify/Type=bogus/' "$TMPD/pingd.service" >"$TMPD/bad.service"
	# (systemd only warns about an unknown Type=, so look at what it says.)
	systemd-analyze verify "$TMPD/bad.service" >"$TMPD/verify.out" 2>&1
	grep -q 'bogus' "$TMPD/verify.out" || fail "a bad Type= passed verification"
	grep -qx 'Type=notify' "$UNIT" || fail "not Type=notify"
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$UNIT" || fail "no SIGHUP reload"
	grep -qx 'NotifyAccess=all' "$UNIT" || fail "MAINPID from an upgraded process not allowed"
	# The config check it runs before start and reload is pingd's real -t.
	grep -q '^ExecStartPre=/usr/local/sbin/pingd -t -c' "$UNIT" || fail "no config check"
}

test_notify_socket() {
	need_ops_tools || return $?
	ops_tmpdir
	local sock=$TMPD/notify
	# A datagram receiver standing in for systemd: prints each message on one line.
	python3 -u -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind('$sock')
s.settimeout(15)
while True:
    try:
        m = s.recv(4096)
    except socket.timeout:
        break
    print(m.decode().replace('\n', '|'), flush=True)" >"$TMPD/notify.log" &
	local rx=$!
	on_exit "kill $rx 2>/dev/null; wait $rx 2>/dev/null"
	local i
	for ((i = 0; i < 50; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || fail "receiver did not bind"
	ops_port || fail "no free port"
	NOTIFY_SOCKET=$sock "$OPS_HARNESS" --check "x=tcp@127.0.0.1:$PORT" >"$TMPD/events" \
		2>"$TMPD/harness.err" &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_line "$TMPD/notify.log" '^READY=1\|STATUS=serving$' 5 >/dev/null ||
		fail "no READY=1: $(cat "$TMPD/notify.log" "$TMPD/harness.err")"
	kill -TERM "$pid"
	wait "$pid" || fail "harness exit status $?"
	wait_line "$TMPD/notify.log" '^STOPPING=1\|STATUS=draining$' 5 >/dev/null ||
		fail "no STOPPING=1: $(cat "$TMPD/notify.log")"
	# Without NOTIFY_SOCKET nothing is sent and nothing fails.
	"$OPS_HARNESS" --check "x=tcp@127.0.0.1:$PORT" >"$TMPD/events2" 2>"$TMPD/err2" &
	pid=$!
	wait_line "$TMPD/events2" '^READY' 5 >/dev/null || fail "harness did not start"
	kill -TERM "$pid"
	wait "$pid" || fail "exit status $? without NOTIFY_SOCKET"
	[ ! -s "$TMPD/err2" ] || fail "errors without NOTIFY_SOCKET: $(cat "$TMPD/err2")"
	[ "$(wc -l <"$TMPD/notify.log")" = 2 ] || fail "unexpected messages: $(cat "$TMPD/notify.log")"
}

run_tests "$@"
