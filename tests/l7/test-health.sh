#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Active health checks against real origins on loopback: an HTTP and a TCP probe see a python
# origin go down when it is killed and come back when it is restarted, within interval x fall
# (resp. x rise); a status outside the expected range and a silent server mark a target down.

ALL_TESTS="test_detect_kill_restart test_http_status_range test_silent_server test_probe_wire"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/opslib.sh"

INTERVAL=200
TIMEOUT=100
RISE=2
FALL=3
JITTER=10

# Start the harness with the given checks; its events go to $TMPD/events.
start_harness() {
	"$OPS_HARNESS" --interval "$INTERVAL" --timeout "$TIMEOUT" --rise "$RISE" --fall "$FALL" \
		--jitter "$JITTER" "$@" >"$TMPD/events" 2>"$TMPD/harness.err" &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_line "$TMPD/events" '^READY' 5 >/dev/null ||
		fail "harness did not start: $(cat "$TMPD/harness.err")"
}

# Milliseconds from START_MS to the first event matching REGEX (waits up to 10 s).
event_delay() {
	local re=$1 start=$2 line
	line=$(wait_line "$TMPD/events" "$re" 10) || fail "no event /$re/: $(cat "$TMPD/events")"
	log "event: $line" >&2
	echo $(($(awk '{print $2}' <<<"$line") - start))
}

test_detect_kill_restart() {
	need_ops_tools || return $?
	ops_tmpdir
	ops_port || fail "no free port"
	local port=$PORT t0 d_http d_tcp u_http u_tcp bound_down bound_up
	start_pyhttp "$port"
	start_harness --check "web=http@127.0.0.1:$port" --check "sock=tcp@127.0.0.1:$port"
	# Up from the start: a second of probes must not produce any transition.
	sleep 1
	[ ! -s <(grep EVENT "$TMPD/events") ] || fail "transition while up: $(cat "$TMPD/events")"

	kill "$ORIGIN_PID"
	wait "$ORIGIN_PID" 2>/dev/null
	t0=$(now_ms)
	d_http=$(event_delay ' web down ' "$t0") || exit 1
	d_tcp=$(event_delay ' sock down ' "$t0") || exit 1
	grep -q ' web down connect: Connection refused' "$TMPD/events" ||
		fail "down reason: $(grep ' web down' "$TMPD/events")"
	# Worst case: the next probe starts up to one jittered interval after the kill, then
	# fall-1 more intervals; a refused connect ends a probe at once. 150 ms for scheduling.
	bound_down=$((INTERVAL * (100 + JITTER) / 100 * FALL + 150))
	log "detection (kill -> down): http ${d_http} ms, tcp ${d_tcp} ms; bound ${bound_down} ms"
	[ "$d_http" -le "$bound_down" ] || fail "http detection ${d_http} ms > ${bound_down} ms"
	[ "$d_tcp" -le "$bound_down" ] || fail "tcp detection ${d_tcp} ms > ${bound_down} ms"
	# Not before fall-1 intervals either: rise/fall hysteresis is in effect.
	[ "$d_http" -ge $((INTERVAL * (100 - JITTER) / 100 * (FALL - 1) - 50)) ] ||
		fail "http went down too early (${d_http} ms)"

	# From the moment the server listens: Python's start-up, seconds on a busy machine, is
	# not the checker's to answer for.
	start_pyhttp "$port"
	t0=$(now_ms)
	u_http=$(event_delay ' web up ' "$t0") || exit 1
	u_tcp=$(event_delay ' sock up ' "$t0") || exit 1
	grep -q ' web up HTTP 200' "$TMPD/events" || fail "up reason: $(grep ' web up' "$TMPD/events")"
	bound_up=$((INTERVAL * (100 + JITTER) / 100 * RISE + TIMEOUT + 500))
	log "recovery (restart -> up): http ${u_http} ms, tcp ${u_tcp} ms; bound ${bound_up} ms"
	[ "$u_http" -le "$bound_up" ] || fail "http recovery ${u_http} ms > ${bound_up} ms"
	[ "$u_tcp" -le "$bound_up" ] || fail "tcp recovery ${u_tcp} ms > ${bound_up} ms"
	[ "$(grep -c EVENT "$TMPD/events")" = 4 ] || fail "extra transitions: $(cat "$TMPD/events")"
}

test_http_status_range() {
	need_ops_tools || return $?
	ops_tmpdir
	ops_port || fail "no free port"
	local port=$PORT
	start_pyhttp "$port"
	# /missing answers 404: down with the status as the reason ...
	start_harness --path /missing --check "web=http@127.0.0.1:$port"
	wait_line "$TMPD/events" ' web down HTTP 404 not in 200-399' 5 >/dev/null ||
		fail "no down for 404: $(cat "$TMPD/events")"
	# ... unless 404 is what is expected; HEAD and a custom Host are sent as given.
	mv "$TMPD/events" "$TMPD/events.1"
	start_harness --path /missing --status 404-404 --method HEAD --host health.example \
		--check "web404=http@127.0.0.1:$port"
	sleep $((INTERVAL * (FALL + 2) / 1000 + 1))
	! grep -q EVENT "$TMPD/events" || fail "404 expected but: $(cat "$TMPD/events")"
	grep -q '"HEAD /missing HTTP/1.1" 404' "$TMPD/origin.log" ||
		fail "origin saw no HEAD probe: $(tail -n3 "$TMPD/origin.log")"
}

# A server that completes handshakes (backlog) but never answers: HTTP probes time out.
test_silent_server() {
	need_ops_tools || return $?
	ops_tmpdir
	ops_port || fail "no free port"
	local port=$PORT
	spawn python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(64)
time.sleep(60)"
	wait_port 127.0.0.1 "$port" || fail "silent server did not start"
	start_harness --check "mute=http@127.0.0.1:$port" --check "tcp=tcp@127.0.0.1:$port"
	wait_line "$TMPD/events" " mute down timeout after ${TIMEOUT}ms \(waiting for the response\)" 5 \
		>/dev/null || fail "no timeout: $(cat "$TMPD/events")"
	# The TCP probe only needs the handshake, which the backlog completes.
	! grep -q ' tcp down' "$TMPD/events" || fail "tcp probe failed: $(cat "$TMPD/events")"
}

# A scripted origin: records each request head, answers per MODE (ok: 200; interim: 103 then
# 204; garbage: not HTTP; split: a 200 status line sent byte by byte).
start_scripted() {
	local port=$1 mode=$2
	spawn python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(64); s.settimeout(30)
log = open('$TMPD/requests', 'ab', buffering=0)
while True:
    c, _ = s.accept(); c.settimeout(2); req = b''
    while b'\\r\\n\\r\\n' not in req:
        b = c.recv(4096)
        if not b: break
        req += b
    if not req:
        c.close(); continue
    log.write(req + b'--\\n')
    if '$mode' == 'interim':
        c.sendall(b'HTTP/1.1 103 Early Hints\\r\\nLink: </a>\\r\\n\\r\\nHTTP/1.1 204 No Content\\r\\n\\r\\n')
    elif '$mode' == 'garbage':
        c.sendall(b'SSH-2.0-OpenSSH_9.2\\r\\n')
    elif '$mode' == 'split':
        # Five pieces cut inside the status line, a field and the final CRLF; the codec's
        # byte-by-byte splits are unit-tested, and a per-byte sleep here could outlast the
        # probe timeout on a loaded machine.
        r = b'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n'
        for a, b in ((0, 6), (6, 13), (13, 25), (25, 35), (35, len(r))):
            c.sendall(r[a:b]); time.sleep(0.001)
    else:
        c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')
    c.close()"
	wait_port 127.0.0.1 "$port" || fail "scripted origin did not start"
}

# What goes on the wire: the request as configured, interim responses skipped, responses
# that arrive in pieces, and a non-HTTP answer.
test_probe_wire() {
	need_ops_tools || return $?
	ops_tmpdir
	ops_port || fail "no free port"
	local port=$PORT
	start_scripted "$port" ok
	start_harness --method HEAD --path '/hc?full=1' --host health.example --status 200-200 \
		--check "w=http@127.0.0.1:$port"
	local i
	for ((i = 0; i < 50; i++)); do [ -s "$TMPD/requests" ] && break; sleep 0.1; done
	head -n 7 "$TMPD/requests" | tr -d '\r' >"$TMPD/req1"
	diff -u - "$TMPD/req1" <<REQ || fail "probe request differs"
HEAD /hc?full=1 HTTP/1.1
Host: health.example
User-Agent: pingd-health
Accept: */*
Connection: close

--
REQ
	# Default request: GET / with the target address as Host.
	kill "$SPAWNED_PID"
	: >"$TMPD/requests"
	ops_port || fail "no free port"
	port=$PORT
	start_scripted "$port" interim
	start_harness --check "i=http@127.0.0.1:$port"
	for ((i = 0; i < 50; i++)); do [ -s "$TMPD/requests" ] && break; sleep 0.1; done
	grep -q "^GET / HTTP/1.1" "$TMPD/requests" || fail "default request: $(cat "$TMPD/requests")"
	grep -q "^Host: 127.0.0.1:$port" "$TMPD/requests" || fail "default Host"
	# 103 then 204: stays up for several intervals.
	sleep $((INTERVAL * (FALL + 2) / 1000 + 1))
	! grep -q ' i down' "$TMPD/events" || fail "interim response: $(cat "$TMPD/events")"
	ops_port || fail "no free port"
	local gport=$PORT
	start_scripted "$gport" garbage
	ops_port || fail "no free port"
	local sport=$PORT
	start_scripted "$sport" split
	start_harness --check "g=http@127.0.0.1:$gport" --check "s=http@127.0.0.1:$sport"
	wait_line "$TMPD/events" ' g down bad response: ' 5 >/dev/null ||
		fail "garbage not down: $(cat "$TMPD/events")"
	sleep 1
	! grep -q ' s down' "$TMPD/events" || fail "split response: $(cat "$TMPD/events")"
}

run_tests "$@"
