#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Tunnels through pingd: WebSocket echo (python3-websockets) on a route that allows the
# Upgrade, a slow reader against a flooding server (backpressure: pingd's memory stays
# bounded and nothing is lost), Upgrades a route does not allow (h2c among them) and ones the
# upstream declines answered in HTTP/1.1 on a connection that stays usable, the idle timeout,
# CONNECT with curl --proxytunnel and with half-closes, and CONNECTs refused: targets outside
# the allow-list (403), dead or unresolvable targets (502), routes without CONNECT (405),
# malformed targets (400).

ALL_TESTS="test_websocket_echo test_websocket_backpressure test_upgrade_refused \
 test_upgrade_declined test_tunnel_idle test_connect test_connect_refused"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# Debian's python3 carries python3-websockets (scripts/deps.sh).
PY=/usr/bin/python3
WSTOOL=("$PY" "$L7_DIR/wstool.py")

# pingd in front of a WebSocket server (WS_PORT), the nginx origin and a TCP echo server
# (ECHO_PORT), with the tunnel idle timeout IDLE (default 1h): setup [IDLE]
setup() {
	need_l7_tools || return $?
	"$PY" -c 'import websockets' 2>/dev/null || { echo "   needs python3-websockets" >&2; return $SKIP; }
	l7_tmpdir
	start_origin || return 1
	free_port || return 1
	WS_PORT=$PORT
	FLOOD_LOG=$TMPD/flood.log
	spawn "${WSTOOL[@]}" server "$WS_PORT" "$FLOOD_LOG"
	wait_port 127.0.0.1 "$WS_PORT" || fail "websocket server did not start"
	free_port || return 1
	ECHO_PORT=$PORT
	spawn "${WSTOOL[@]}" tcpecho "$ECHO_PORT"
	wait_port 127.0.0.1 "$ECHO_PORT" || fail "echo server did not start"
	free_port || return 1
	DEAD_PORT=$PORT
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
timeouts: {tunnel: ${1:-1h}}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams:
  - {name: ws, servers: [{address: '127.0.0.1:$WS_PORT'}]}
  - {name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}
virtual_hosts:
  - name: noconnect
    hosts: [noconnect.test]
    routes: [{path: /, upstream: o}]
  - name: main
    hosts: '*'
    routes:
      - {path: /echo, upstream: ws, upgrade: [websocket]}
      - {path: /flood, upstream: ws, upgrade: websocket}
      - {path: /plain, upstream: ws}
      - {path: /, upstream: o, upgrade: [websocket],
         connect: ['127.0.0.1:$ORIGIN_PORT', '127.0.0.1:$ECHO_PORT', '127.0.0.1:$DEAD_PORT',
                   'localhost:*', '*.invalid:*']}
YAML
	start_pingd -c "$TMPD/pingd.yaml"
}

still_serving() {
	[ "$(curl -s --max-time 10 "http://127.0.0.1:$PINGD_PORT/")" = hello ] ||
		fail "pingd stopped serving after $1"
}

test_websocket_echo() {
	setup || return $?
	local out
	out=$(timeout 120 "${WSTOOL[@]}" echo "ws://127.0.0.1:$PINGD_PORT/echo" 8 2>&1)
	[ "$out" = ok ] || fail "echo through pingd: $out"
	log "8 connections at once: text, binary, 4 MiB and 50 small messages each, echoed"
	still_serving "WebSocket tunnels"
}

# The server sends 256 MiB to a client that reads nothing: pingd must stop reading the server
# once the client's side is full, so its memory stays near its idle size, and every byte must
# still arrive once the client reads.
test_websocket_backpressure() {
	setup || return $?
	local base out rss stalled got
	base=$(awk '/^VmRSS:/ {print $2}' "/proc/$PINGD_PID/status")
	timeout 300 "${WSTOOL[@]}" flood "ws://127.0.0.1:$PINGD_PORT/flood" 256 "$PINGD_PID" \
		"$FLOOD_LOG" >"$TMPD/flood.out" 2>&1 &
	local fpid=$!
	on_exit "kill $fpid 2>/dev/null"
	# While that tunnel is stalled, others are served.
	for _ in $(seq 600); do
		grep -q '^rss_kb' "$TMPD/flood.out" && break
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.2
	done
	out=$(timeout 60 "${WSTOOL[@]}" echo "ws://127.0.0.1:$PINGD_PORT/echo" 2>&1)
	[ "$out" = ok ] || fail "echo while another tunnel is stalled: $out"
	wait "$fpid" || fail "flood client: $(cat "$TMPD/flood.out")"
	rss=$(awk '/^rss_kb/ {print $2}' "$TMPD/flood.out")
	stalled=$(awk '/^stalled_at/ {print $2}' "$TMPD/flood.out")
	got=$(awk '/^received/ {print $2}' "$TMPD/flood.out")
	log "pingd RSS ${base} KiB idle, ${rss} KiB with the server stalled after ${stalled} of 268435456 bytes"
	[ "$got" = 268435456 ] || fail "received $got of 268435456 bytes"
	[ "$stalled" -lt 134217728 ] || fail "the server was never held back (sent $stalled)"
	[ "$rss" -lt $((base + 32768)) ] || fail "pingd grew from $base to $rss KiB"
}

# Upgrades the route does not allow are not forwarded: the request is answered in HTTP/1.1
# and the connection carries the next request.
test_upgrade_refused() {
	setup || return $?
	local out
	out=$(timeout 20 "${L7TOOL[@]}" raw "$PINGD_PORT" \
		'GET /plain HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' 5)
	grep -q '^HTTP/1.1 101' <<<"$out" && fail "Upgrade forwarded on a route without upgrade"
	[ "$(grep -c '^HTTP/1.1 ' <<<"$out")" = 2 ] || fail "not two HTTP/1.1 answers: $out"
	grep -q '^hello' <<<"$out" || fail "second request not served: $out"
	# h2c is not allowed anywhere: answered as HTTP/1.1 (curl asks for it with --http2).
	out=$(curl -sS --max-time 10 --http2 -D - "http://127.0.0.1:$PINGD_PORT/") ||
		fail "curl --http2 (Upgrade: h2c) failed"
	grep -q '^HTTP/1.1 200' <<<"$out" || fail "h2c upgrade not answered in HTTP/1.1: $out"
	grep -q '^hello' <<<"$out" || fail "no body: $out"
	# An Upgrade listing a protocol the route does not allow beside one it does.
	out=$(timeout 20 "${L7TOOL[@]}" raw "$PINGD_PORT" \
		'GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: h2c, websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' 3)
	grep -q '^HTTP/1.1 101' <<<"$out" && fail "a partly allowed Upgrade was forwarded"
	still_serving "refused upgrades"
}

# The route allows the Upgrade but the upstream (nginx serving a file) answers 200: the
# answer is relayed and the connection stays HTTP/1.1.
test_upgrade_declined() {
	setup || return $?
	local out
	out=$(timeout 20 "${L7TOOL[@]}" raw "$PINGD_PORT" \
		'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' 5)
	[ "$(grep -c '^HTTP/1.1 200' <<<"$out")" = 2 ] || fail "not two 200s: $out"
	[ "$(grep -c '^hello' <<<"$out")" = 2 ] || fail "not two bodies: $out"
}

test_tunnel_idle() {
	setup 1s || return $?
	local out
	out=$(timeout 60 "${WSTOOL[@]}" idle "ws://127.0.0.1:$PINGD_PORT/echo" 2>&1)
	grep -q '^closed' <<<"$out" || fail "idle tunnel not closed: $out"
	# Traffic keeps a tunnel open well past the idle timeout.
	out=$(timeout 60 "${WSTOOL[@]}" chat "ws://127.0.0.1:$PINGD_PORT/echo" 15 0.2 2>&1)
	[ "$out" = ok ] || fail "an active tunnel was cut: $out"
	log "idle tunnel closed; 15 messages 0.2 s apart (3 s) kept another open"
}

test_connect() {
	setup || return $?
	local out
	out=$(curl -sS --max-time 10 -p -x "http://127.0.0.1:$PINGD_PORT" \
		"http://127.0.0.1:$ORIGIN_PORT/") || fail "curl --proxytunnel failed"
	[ "$out" = hello ] || fail "through the tunnel: '$out'"
	out=$(curl -sS --max-time 10 -p -x "http://127.0.0.1:$PINGD_PORT" \
		"http://localhost:$ORIGIN_PORT/") || fail "curl --proxytunnel to a name failed"
	[ "$out" = hello ] || fail "through the tunnel to localhost: '$out'"
	# 4 MiB each way, then the client's half-close reaches the target, whose own
	# half-close comes back after the echo.
	out=$(timeout 60 "${WSTOOL[@]}" connect "$PINGD_PORT" "127.0.0.1:$ECHO_PORT" 4194304)
	grep -q '^HTTP/1.1 200' <<<"$out" || fail "CONNECT answer: $out"
	grep -q '^echoed 4194304$' <<<"$out" || fail "echo through CONNECT: $out"
	# The same tunnel over several connections at once.
	local pids=() i
	for i in 1 2 3 4; do
		timeout 60 "${WSTOOL[@]}" connect "$PINGD_PORT" "127.0.0.1:$ECHO_PORT" 1048576 \
			>"$TMPD/c$i.out" &
		pids+=($!)
	done
	for i in 1 2 3 4; do
		wait "${pids[$((i - 1))]}"
		grep -q '^echoed 1048576$' "$TMPD/c$i.out" || fail "tunnel $i: $(cat "$TMPD/c$i.out")"
	done
	still_serving "CONNECT tunnels"
}

# The status pingd answers CONNECT TARGET with: connect_status TARGET [HOST]
connect_status() {
	timeout 20 "${L7TOOL[@]}" raw "$PINGD_PORT" \
		"CONNECT $1 HTTP/1.1\\r\\nHost: ${2:-$1}\\r\\n\\r\\n" 5 | head -1 | awk '{print $2}'
}

test_connect_refused() {
	setup || return $?
	local t st
	# Outside the allow-list: another port, another address, a name not listed.
	for t in "127.0.0.1:$WS_PORT" "127.0.0.2:$ORIGIN_PORT" "example.com:443" "[::1]:$ECHO_PORT"; do
		st=$(connect_status "$t")
		[ "$st" = 403 ] || fail "CONNECT $t: $st, expected 403"
	done
	out=$(curl -s -o /dev/null -w '%{http_connect}' --max-time 10 -p \
		-x "http://127.0.0.1:$PINGD_PORT" "http://127.0.0.1:$WS_PORT/")
	[ "$out" = 403 ] || fail "curl CONNECT outside the list: $out"
	# Allowed, but nobody listens / the name does not resolve.
	st=$(connect_status "127.0.0.1:$DEAD_PORT")
	[ "$st" = 502 ] || fail "CONNECT to a dead port: $st"
	st=$(connect_status "nowhere.invalid:80")
	[ "$st" = 502 ] || fail "CONNECT to an unresolvable name: $st"
	# A virtual host whose routes allow no CONNECT.
	st=$(connect_status "noconnect.test:80")
	[ "$st" = 405 ] || fail "CONNECT on a host without a CONNECT route: $st"
	# Malformed targets.
	for t in "127.0.0.1" "127.0.0.1:" "127.0.0.1:0" "127.0.0.1:99999" "/path" \
		"http://127.0.0.1:$ORIGIN_PORT/" "user@127.0.0.1:$ORIGIN_PORT" ":$ORIGIN_PORT" \
		"127.0.0.1:$ORIGIN_PORT/x"; do
		st=$(connect_status "$t" a)
		[ "$st" = 400 ] || fail "CONNECT '$t': $st, expected 400"
	done
	log "403 outside the list, 502 dead or unresolvable, 405 without a route, 400 malformed"
	still_serving "refused CONNECTs"
}

run_tests "$@"
