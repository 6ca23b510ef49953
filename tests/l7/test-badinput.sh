#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd against bad input from both sides: malformed and smuggling-shaped requests get their
# status and a close and never reach the upstream; limits give 431 and 413; a slow client
# gets 408; a refusing upstream gives 502; an upstream dying mid-response closes the client
# connection instead of passing off a truncated body as complete.

ALL_TESTS="test_malformed test_smuggling test_limits test_slow_client test_upstream_refuses \
 test_upstream_dies test_upstream_garbage test_upstream_timeout"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# pingd with small limits in front of a python echo origin.
setup() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin "${1:-echo}" || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
timeouts: {client_header: 1s, upstream_read: 1s}
limits: {max_header_size: 2k, max_headers: 20, max_body_size: 1k}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: o, retries: 0, servers: [{address: '127.0.0.1:$PYO_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	start_pingd -c "$TMPD/pingd.yaml"
}

# expect STATUS REQUEST: the response starts with STATUS and the connection is closed.
expect() {
	local want=$1 req=$2 out rc
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" "$req" 3)
	rc=$?
	log "$(head -n1 <<<"$out" | tr -d '\r')  <=  ${req:0:60}"
	[[ "$out" == "HTTP/1.1 $want "* ]] || fail "expected $want for: $req; got: $(head -c 200 <<<"$out")"
	[ $rc = 0 ] || fail "connection left open after $want for: $req"
}

# The origin saw no request at all.
origin_untouched() {
	[ ! -s "$PYO_LOG" ] || fail "forwarded to the upstream: $(cat "$PYO_LOG")"
}

test_malformed() {
	setup || return $?
	expect 400 'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n'
	expect 400 'GET\r\n\r\n'
	expect 400 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n'
	expect 400 'GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n'
	expect 400 'GET / HTTP/1.1\r\nHost: x\r\nName : y\r\n\r\n'
	expect 400 'GET / HTTP/1.1\r\n\r\n'
	expect 400 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
	expect 505 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'
	expect 400 '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'
	origin_untouched
	# The connection is usable before the error and closed after it: the first answer
	# arrives, the one after the bad request does not.
	local out
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" \
		'GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1 x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n' 3)
	grep -c '^HTTP/1.1' <<<"$out" | grep -qx 2 || fail "expected 200 then 400: $out"
	grep -q '^HTTP/1.1 400' <<<"$out" || fail "no 400"
	grep -q '/after' "$PYO_LOG" && fail "request after the bad one was forwarded"
	return 0
}

test_smuggling() {
	setup || return $?
	local body='5\r\nhello\r\n0\r\n\r\n'
	expect 400 "POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n$body"
	expect 400 "POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\nContent-Length: 5\\r\\n\\r\\n$body"
	expect 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'
	expect 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!'
	expect 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello'
	expect 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n'
	expect 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'
	expect 400 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'
	expect 400 'GET / HTTP/1.1\nHost: x\n\n'
	expect 400 'GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n'
	expect 400 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n'
	expect 400 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n'
	expect 400 'GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n'
	expect 501 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'
	origin_untouched
	# Invalid chunk sizes: the request is refused at the bad size and the request hidden
	# behind it never reaches the upstream.
	local sz
	for sz in 0x5 +5 -5 5x ffffffffffffffffff; do
		expect 400 "POST /c HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n$sz\\r\\nhello\\r\\n0\\r\\n\\r\\nGET /smuggled HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
	done
	expect 400 'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
	grep -q smuggled "$PYO_LOG" && fail "smuggled request reached the upstream"
	return 0
}

test_limits() {
	setup || return $?
	local big
	big=$(head -c 3000 /dev/zero | tr '\0' a)
	expect 431 "GET / HTTP/1.1\\r\\nHost: x\\r\\nX-Big: $big\\r\\n\\r\\n"
	local many="" i
	for ((i = 0; i < 25; i++)); do many+="X-$i: v\\r\\n"; done
	expect 431 "GET / HTTP/1.1\\r\\nHost: x\\r\\n$many\\r\\n"
	expect 413 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n'
	origin_untouched
	big=$(head -c 1500 /dev/zero | tr '\0' b)
	expect 413 "POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5dc\\r\\n$big\\r\\n0\\r\\n\\r\\n"
	# Within the limits: fine.
	[ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @<(head -c 1000 /dev/zero) \
		"http://127.0.0.1:$PINGD_PORT/")" = 200 ] || fail "a 1000-byte body was refused"
}

test_slow_client() {
	setup || return $?
	local out t0 t1
	t0=$(date +%s%N)
	out=$("${L7TOOL[@]}" slow "$PINGD_PORT" 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n\r\n' 0.1)
	t1=$(date +%s%N)
	log "$(head -n1 <<<"$out" | tr -d '\r') after $(((t1 - t0) / 1000000)) ms"
	[[ "$out" == "HTTP/1.1 408 "* ]] || fail "slow client got: $out"
	origin_untouched
	# A client that connects and sends nothing gets 408 too, after the same time.
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" '' 3)
	[[ "$out" == "HTTP/1.1 408 "* ]] || fail "silent client got: $out"
}

test_upstream_refuses() {
	need_l7_tools || return $?
	l7_tmpdir
	free_port || return 1
	start_pingd --upstream "127.0.0.1:$PORT" --workers 1 || return 1
	[ "$(http_status /)" = 502 ] || fail "refusing upstream did not give 502"
	expect 502 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
}

test_upstream_dies() {
	local mode rc n
	for mode in die diechunked; do
		setup "$mode" || return $?
		curl -sS --max-time 5 -o "$TMPD/out" "http://127.0.0.1:$PINGD_PORT/" 2>"$TMPD/err"
		rc=$?
		n=$(stat -c %s "$TMPD/out")
		log "$mode: curl exit $rc after $n bytes: $(cat "$TMPD/err")"
		[ $rc != 0 ] || fail "$mode: truncated body passed off as complete"
		[ "$n" = 1000 ] || fail "$mode: expected the 1000 bytes sent before the death"
		_run_cleanup
	done
}

test_upstream_garbage() {
	setup reset || return $?
	# An idempotent request is retried (retries: 0 here, so no other attempt) then 502.
	[ "$(http_status /)" = 502 ] || fail "reset before the response did not give 502"
	expect 502 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
}

test_upstream_timeout() {
	need_l7_tools || return $?
	l7_tmpdir
	free_port || return 1
	local port=$PORT
	# A listener that accepts and never answers.
	spawn python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(16)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
"
	wait_port 127.0.0.1 "$port" || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
timeouts: {upstream_read: 700ms}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: o, servers: [{address: '127.0.0.1:$port'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	start_pingd -c "$TMPD/pingd.yaml" || return 1
	[ "$(http_status /)" = 504 ] || fail "silent upstream did not give 504"
}

run_tests "$@"
