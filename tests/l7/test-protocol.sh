#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd's HTTP/1.1 handling against python origins with exact responses: 1xx relaying,
# close-delimited and chunked responses re-framed for HTTP/1.1 and HTTP/1.0 clients, the
# keep-alive timeout, retries after a reset for idempotent requests only, the total timeout,
# and daemon mode with a pid file.

ALL_TESTS="test_interim test_close_delimited test_chunked_trailers test_keepalive_timeout \
 test_retry_reset test_total_timeout test_daemon test_selection test_max_connections \
 test_extension_methods test_route_methods"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# pingd in front of the python origin(s) given as ports, with extra YAML lines in $EXTRA and
# extra route keys in $ROUTE_EXTRA.
setup_cfg() {
	free_port || return 1
	LISTEN_PORT=$PORT
	local servers="" p
	for p in "$@"; do servers+="{address: '127.0.0.1:$p'}, "; done
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
${EXTRA:-}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: o, ${UP_EXTRA:-}servers: [${servers%, }]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o${ROUTE_EXTRA:+, $ROUTE_EXTRA}}]}]
YAML
	start_pingd -c "$TMPD/pingd.yaml"
}

test_interim() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin early || return 1
	setup_cfg "$PYO_PORT" || return 1
	local out
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' 3)
	echo "$out"
	grep -q '^HTTP/1.1 103 Early Hints' <<<"$out" || fail "103 not relayed"
	grep -q '^Link: </s.css>' <<<"$out" || fail "103 fields lost"
	grep -q '^HTTP/1.1 200' <<<"$out" || fail "no final response"
	# HTTP/1.0 clients get no 1xx (RFC 9110 §15.2).
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'GET / HTTP/1.0\r\n\r\n' 3)
	grep -q '^HTTP/1.1 103' <<<"$out" && fail "1xx sent to an HTTP/1.0 client"
	grep -q '^HTTP/1.1 200' <<<"$out" || fail "no final response for HTTP/1.0"
}

test_close_delimited() {
	need_l7_tools sha256sum || return $?
	l7_tmpdir
	start_pyorigin close || return 1
	setup_cfg "$PYO_PORT" || return 1
	local want out
	want=$(for ((i = 0; i < 10000; i++)); do echo "line $i"; done | sha256sum)
	# HTTP/1.1: re-framed as chunked, so the client connection survives.
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' 2)
	[ $? = 3 ] || fail "HTTP/1.1 client connection was closed"
	grep -q '^Transfer-Encoding: chunked' <<<"$out" || fail "not re-framed as chunked"
	[ "$(curl -s "http://127.0.0.1:$PINGD_PORT/" | sha256sum)" = "$want" ] || fail "body differs"
	# HTTP/1.0: close-delimited, byte-exact.
	[ "$(curl -s -0 "http://127.0.0.1:$PINGD_PORT/" | sha256sum)" = "$want" ] ||
		fail "HTTP/1.0 body differs"
}

test_chunked_trailers() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin chunked || return 1
	setup_cfg "$PYO_PORT" || return 1
	local out
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' 3)
	echo "$out"
	grep -q '^X-Sum: 1' <<<"$out" || fail "trailer lost"
	[ "$(curl -s "http://127.0.0.1:$PINGD_PORT/")" = "hello world" ] || fail "body"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'GET / HTTP/1.0\r\n\r\n' 3)
	[ $? = 0 ] || fail "HTTP/1.0 close-delimited answer left the connection open"
	[ "$(tail -n1 <<<"$out")" = "hello world" ] || fail "HTTP/1.0 body: $out"
}

test_keepalive_timeout() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin echo || return 1
	EXTRA="timeouts: {keepalive: 500ms}" setup_cfg "$PYO_PORT" || return 1
	local t0 t1 rc
	t0=$(date +%s%N)
	"${L7TOOL[@]}" raw "$PINGD_PORT" 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' 4 >/dev/null
	rc=$?
	t1=$(date +%s%N)
	log "idle connection closed after $(((t1 - t0) / 1000000)) ms"
	[ $rc = 0 ] || fail "idle keep-alive connection not closed"
	[ $(((t1 - t0) / 1000000)) -ge 400 ] || fail "closed too early"
}

test_retry_reset() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin reset || return 1
	local bad=$PYO_PORT badlog=$PYO_LOG
	start_pyorigin echo || return 1
	# Passive health would take the resetting origin out after its first failure; this
	# test is about which requests are replayed.
	UP_EXTRA="passive: {max_fails: 0}, " setup_cfg "$bad" "$PYO_PORT" || return 1
	local i codes=""
	for ((i = 0; i < 6; i++)); do codes+="$(http_status /g) "; done
	log "GET: $codes"
	[ "$codes" = "200 200 200 200 200 200 " ] || fail "idempotent GETs were not retried"
	codes=""
	for ((i = 0; i < 4; i++)); do
		codes+="$(curl -s -o /dev/null -w '%{http_code}' -d data "http://127.0.0.1:$PINGD_PORT/p") "
	done
	log "POST: $codes"
	[ "$(grep -o 502 <<<"$codes" | wc -l)" = 2 ] || fail "POST retried after a reset"
	grep -q 'POST' "$badlog" || fail "the resetting origin saw no POST"
}

test_total_timeout() {
	need_l7_tools || return $?
	l7_tmpdir
	free_port || return 1
	local port=$PORT
	spawn python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(16)
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n')
    for i in range(100):
        time.sleep(0.1)
        try:
            c.sendall(b'x')
        except OSError:
            break
"
	wait_port 127.0.0.1 "$port" || return 1
	EXTRA="timeouts: {total: 600ms}" setup_cfg "$port" || return 1
	local rc n
	curl -s --max-time 10 -o "$TMPD/out" "http://127.0.0.1:$PINGD_PORT/"
	rc=$?
	n=$(stat -c %s "$TMPD/out")
	log "curl exit $rc after $n of 100 bytes"
	[ $rc != 0 ] || fail "total timeout did not cut the exchange"
	[ "$n" -lt 100 ] || fail "whole body arrived"
}

test_daemon() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin echo || return 1
	free_port || return 1
	local port=$PORT pid i
	on_exit "[ -s $TMPD/pingd.pid ] && kill \$(cat $TMPD/pingd.pid)"
	"$PINGD" -d -p "$TMPD/pingd.pid" --listen "127.0.0.1:$port" --upstream "127.0.0.1:$PYO_PORT" ||
		fail "pingd -d failed"
	for ((i = 0; i < 50; i++)); do [ -s "$TMPD/pingd.pid" ] && break; sleep 0.1; done
	pid=$(cat "$TMPD/pingd.pid")
	log "daemon pid $pid"
	kill -0 "$pid" || fail "no process behind the pid file"
	[ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = 1 ] || fail "not detached"
	wait_port 127.0.0.1 "$port" || fail "daemon not listening"
	PINGD_PORT=$port
	[ "$(http_status /)" = 200 ] || fail "daemon does not proxy"
	kill "$pid"
	for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "daemon did not stop on SIGTERM"
	[ ! -e "$TMPD/pingd.pid" ] || fail "pid file left behind"
}

# Each selection through pingd against two echo origins: hashing pools keep a key on one
# peer, the others spread.
test_selection() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin echo || return 1
	local p1=$PYO_PORT l1=$PYO_LOG
	start_pyorigin echo || return 1
	local p2=$PYO_PORT l2=$PYO_LOG sel key i n1 n2
	for sel in round_robin weighted_round_robin least_conn ketama:header:X-User \
		ketama:cookie:sid maglev:header:X-User maglev:client_addr maglev:uri; do
		key=${sel#*:}
		[ "$key" = "$sel" ] && key=uri
		free_port || return 1
		LISTEN_PORT=$PORT
		cat >"$TMPD/sel.yaml" <<YAML
workers: 1
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams:
  - name: o
    selection: ${sel%%:*}
    hash_key: '$key'
    servers: [{address: '127.0.0.1:$p1'}, {address: '127.0.0.1:$p2'}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
		: >"$l1"
		: >"$l2"
		start_pingd -c "$TMPD/sel.yaml" || return 1
		for ((i = 0; i < 20; i++)); do
			curl -s -o /dev/null -H 'X-User: alice' -b 'sid=s1' \
				"http://127.0.0.1:$PINGD_PORT/same" || fail "$sel: request failed"
		done
		n1=$(wc -l <"$l1")
		n2=$(wc -l <"$l2")
		log "$sel: $n1 / $n2"
		[ $((n1 + n2)) = 20 ] || fail "$sel: $((n1 + n2)) requests arrived"
		case $sel in
		ketama* | maglev*)
			[ "$n1" = 0 ] || [ "$n2" = 0 ] || fail "$sel: one key went to both peers"
			if [ "$key" != client_addr ]; then
				# Different keys do spread.
				: >"$l1"
				: >"$l2"
				for ((i = 0; i < 20; i++)); do
					curl -s -o /dev/null -H "X-User: u$i" -b "sid=s$i" \
						"http://127.0.0.1:$PINGD_PORT/k$i"
				done
				log "$sel, 20 keys: $(wc -l <"$l1") / $(wc -l <"$l2")"
				[ -s "$l1" ] && [ -s "$l2" ] || fail "$sel: 20 keys all on one peer"
			fi ;;
		*)
			[ "$n1" = 10 ] || fail "$sel: not spread evenly" ;;
		esac
		kill "$PINGD_PID"
		wait "$PINGD_PID" 2>/dev/null
	done
}

# At limits.max_connections a worker stops accepting; the next client waits in the backlog
# and is served as soon as a connection ends.
test_max_connections() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin echo || return 1
	EXTRA="limits: {max_connections: 2}" setup_cfg "$PYO_PORT" || return 1
	local h1 h2 code
	"${L7TOOL[@]}" raw "$PINGD_PORT" 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\n' 30 >/dev/null &
	h1=$!
	on_exit "kill $h1"
	"${L7TOOL[@]}" raw "$PINGD_PORT" 'GET /2 HTTP/1.1\r\nHost: x\r\n\r\n' 30 >/dev/null &
	h2=$!
	on_exit "kill $h2"
	local i
	for ((i = 0; i < 50; i++)); do [ "$(wc -l <"$PYO_LOG")" = 2 ] && break; sleep 0.1; done
	[ "$(wc -l <"$PYO_LOG")" = 2 ] || fail "the two first connections were not served"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$PINGD_PORT/3")
	log "third connection while two are open: '$code'"
	[ "$code" = 000 ] || fail "a third connection was served over the limit"
	kill $h1
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PINGD_PORT/4")
	log "after one closed: $code"
	[ "$code" = 200 ] || fail "accepting did not resume"
}

# Every well-formed method reaches the origin as it was sent, with its body, on a connection
# that stays open; a method token that is not well-formed is refused.
test_extension_methods() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin echo || return 1
	setup_cfg "$PYO_PORT" || return 1
	local out m
	for m in FOO get PROPFIND BASELINE-CONTROL 'X_Y!*.~'; do
		out=$("${L7TOOL[@]}" raw "$PINGD_PORT" \
			"$m /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /y HTTP/1.1\r\nHost: x\r\n\r\n" 3)
		[ "$(grep -c '^HTTP/1.1 200' <<<"$out")" = 2 ] ||
			{ echo "$out"; fail "$m: not answered 200 twice"; }
		grep -qxF "$m /x HTTP/1.1" "$PYO_LOG" || fail "$m did not reach the origin as sent"
	done
	grep -qx "GET /y HTTP/1.1" "$PYO_LOG" || fail "the request after an extension method was lost"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'F(O / HTTP/1.1\r\nHost: x\r\n\r\n' 3)
	grep -q '^HTTP/1.1 400' <<<"$out" || fail "a malformed method was not refused with 400"
	grep -q '^F(O' "$PYO_LOG" && fail "a malformed method reached the origin"
	return 0
}

# A route's methods list answers other methods 405 with Allow; GET allows HEAD.
test_route_methods() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin echo || return 1
	ROUTE_EXTRA="methods: [GET, PURGE-ALL]" setup_cfg "$PYO_PORT" || return 1
	local out code m
	for m in GET PURGE-ALL; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X "$m" --max-time 5 \
			"http://127.0.0.1:$PINGD_PORT/a")
		[ "$code" = 200 ] || fail "$m: $code, expected 200"
	done
	code=$(curl -s -o /dev/null -w '%{http_code}' -I --max-time 5 "http://127.0.0.1:$PINGD_PORT/a")
	[ "$code" = 200 ] || fail "HEAD: $code, expected 200"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' 3)
	echo "$out" | head -3
	grep -q '^HTTP/1.1 405' <<<"$out" || fail "POST was not answered 405"
	grep -q '^Allow: GET, PURGE-ALL, HEAD' <<<"$out" || fail "405 without the route's Allow"
	grep -q '^POST /b' "$PYO_LOG" && fail "a refused method reached the origin"
	# a method list with something that is not a token is a config error
	cat >"$TMPD/bad.yaml" <<YAML
listeners: [{address: '127.0.0.1:1'}]
upstreams: [{name: o, servers: [{address: '127.0.0.1:1'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o, methods: ['GE T']}]}]
YAML
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "pingd -t took a bad method list"
	echo "$out"
	grep -q "expected a method token, got 'GE T'" <<<"$out" || fail "no clear error"
	return 0
}

run_tests "$@"
