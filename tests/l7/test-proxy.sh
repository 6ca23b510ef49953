#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd in front of a real nginx origin on loopback: GET, large bodies both ways byte-exact,
# pipelining, 100-continue, HEAD, upstream keep-alive reuse, wrk load, retries, routing and
# header rules, config checking, the workers' batched I/O (io_uring) on, off and refused.

ALL_TESTS="test_get test_large_download test_large_upload test_chunked_upload test_pipelining \
 test_100_continue test_head test_keepalive_reuse test_wrk test_retry_connect test_retry_budget \
 test_headers test_routing test_config_check test_access_log test_io_uring"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

test_get() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" --workers 2 || return 1
	local out
	out=$(curl -sS -D - "http://127.0.0.1:$PINGD_PORT/index.html") || return 1
	echo "$out"
	grep -q '^hello' <<<"$out" || fail "body missing"
	grep -qi '^Via: 1.1 pingd' <<<"$out" || fail "no Via"
	[ "$(http_status /missing)" = 404 ] || fail "missing file is not 404"
}

test_large_download() {
	need_l7_tools sha256sum || return $?
	l7_tmpdir
	start_origin || return 1
	head -c $((48 * 1024 * 1024 + 13)) /dev/urandom >"$ORIGIN_ROOT/big.bin"
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" --workers 2 || return 1
	local want got
	want=$(sha256sum <"$ORIGIN_ROOT/big.bin" | cut -d' ' -f1)
	got=$(curl -sS --max-time 60 "http://127.0.0.1:$PINGD_PORT/big.bin" | sha256sum |
		cut -d' ' -f1)
	log "origin $want"
	log "pingd  $got"
	[ "$want" = "$got" ] || fail "download differs"
	# A slow reader: pingd must not buffer the whole body (backpressure).
	got=$(curl -sS --max-time 60 --limit-rate 20M "http://127.0.0.1:$PINGD_PORT/big.bin" |
		sha256sum | cut -d' ' -f1) &
	local cpid=$! rss
	sleep 1
	rss=$(awk '/VmRSS/ {print $2}' /proc/"$PINGD_PID"/status)
	wait $cpid
	log "pingd RSS during a throttled 48 MiB download: ${rss} KiB"
	# AddressSanitizer's quarantine keeps freed buffers resident: no bound to check there.
	if ! grep -qa __asan_report "$PINGD"; then
		[ "$rss" -lt 40000 ] || fail "pingd RSS ${rss} KiB: the body is being buffered"
	fi
}

test_large_upload() {
	need_l7_tools sha256sum || return $?
	l7_tmpdir
	start_origin || return 1
	head -c $((32 * 1024 * 1024 + 7)) /dev/urandom >"$TMPD/up.bin"
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" --workers 2 || return 1
	local code want got
	code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 60 -T "$TMPD/up.bin" \
		"http://127.0.0.1:$PINGD_PORT/up/a.bin")
	[ "$code" = 201 ] || [ "$code" = 204 ] || fail "PUT answered $code"
	want=$(sha256sum <"$TMPD/up.bin" | cut -d' ' -f1)
	got=$(sha256sum <"$ORIGIN_ROOT/up/a.bin" | cut -d' ' -f1)
	log "sent   $want"
	log "stored $got"
	[ "$want" = "$got" ] || fail "upload differs"
}

test_chunked_upload() {
	need_l7_tools sha256sum || return $?
	l7_tmpdir
	start_origin || return 1
	head -c $((5 * 1024 * 1024 + 3)) /dev/urandom >"$TMPD/up.bin"
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" || return 1
	local code
	code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 60 -H 'Transfer-Encoding: chunked' \
		-T - "http://127.0.0.1:$PINGD_PORT/up/c.bin" <"$TMPD/up.bin")
	[ "$code" = 201 ] || [ "$code" = 204 ] || fail "chunked PUT answered $code"
	cmp "$TMPD/up.bin" "$ORIGIN_ROOT/up/c.bin" || fail "chunked upload differs"
}

test_pipelining() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	local i
	for i in 1 2 3 4; do echo "file $i" >"$ORIGIN_ROOT/p$i.txt"; done
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" || return 1
	local req="" out
	for i in 1 2 3 4; do req+="GET /p$i.txt HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"; done
	req+="GET /p1.txt HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" "$req" 5) || fail "connection not closed after the last"
	echo "$out"
	[ "$(grep -c '^HTTP/1.1 200' <<<"$out")" = 5 ] || fail "expected 5 responses"
	[ "$(grep '^file' <<<"$out" | tr '\n' ' ')" = "file 1 file 2 file 3 file 4 file 1 " ] ||
		fail "responses out of order"
}

test_100_continue() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	head -c 300000 /dev/urandom >"$TMPD/up.bin"
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" || return 1
	local out
	out=$(curl -sv --max-time 20 -H 'Expect: 100-continue' -T "$TMPD/up.bin" \
		"http://127.0.0.1:$PINGD_PORT/up/e.bin" 2>&1 >/dev/null)
	grep -E '^< HTTP' <<<"$out"
	grep -q '^< HTTP/1.1 100 Continue' <<<"$out" || fail "no 100 Continue"
	grep -qE '^< HTTP/1.1 20[14]' <<<"$out" || fail "no final 2xx"
	cmp "$TMPD/up.bin" "$ORIGIN_ROOT/up/e.bin" || fail "body differs"
	# A body over the limit is refused before the client sends it.
}

test_head() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	head -c 5000 /dev/urandom >"$ORIGIN_ROOT/h.bin"
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" || return 1
	local out
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" \
		"HEAD /h.bin HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /index.html HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" 5)
	echo "$out"
	grep -q 'Content-Length: 5000' <<<"$out" || fail "HEAD lost Content-Length"
	[ "$(grep -c '^HTTP/1.1 200' <<<"$out")" = 2 ] || fail "expected two responses"
	[ "$(tail -n1 <<<"$out")" = hello ] || fail "HEAD response carried a body"
}

test_keepalive_reuse() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" --workers 2 || return 1
	local before after i urls=()
	before=$(origin_accepts)
	# 200 requests over 20 client connections (each curl reuses its connection for 10).
	for ((i = 0; i < 10; i++)); do urls+=("http://127.0.0.1:$PINGD_PORT/index.html"); done
	for ((i = 0; i < 20; i++)); do
		curl -s -o /dev/null "${urls[@]}" || return 1
	done
	after=$(origin_accepts)
	log "origin accepted $((after - before)) connections for 200 proxied requests"
	# Without reuse that would be 200 (plus our own status reads).
	[ $((after - before)) -le 6 ] || fail "upstream connections are not reused"
}

test_wrk() {
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_origin || return 1
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" --workers 2 || return 1
	local out reqs
	out=$(wrk -t2 -c64 -d3s "http://127.0.0.1:$PINGD_PORT/index.html")
	echo "$out"
	grep -q 'Non-2xx' <<<"$out" && fail "non-2xx responses under load"
	grep -q 'Socket errors' <<<"$out" && fail "socket errors under load"
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	[ "${reqs:-0}" -gt 1000 ] || fail "only $reqs requests"
}

test_retry_connect() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	free_port || return 1
	local dead=$PORT i code bad=0
	start_pingd --upstream "127.0.0.1:$dead,127.0.0.1:$ORIGIN_PORT" --workers 1 || return 1
	# Round robin sends every request to the refusing peer first; the default budget
	# (10 retries per 10 s plus 20% of requests) covers these 10.
	for ((i = 0; i < 10; i++)); do
		code=$(http_status /index.html)
		[ "$code" = 200 ] || bad=$((bad + 1))
	done
	log "$bad of 10 requests failed with one of two upstreams refusing"
	[ "$bad" = 0 ] || fail "connect failures were not retried"
	# Every upstream refusing: 502.
	kill_origin_and_expect_502
}

# With a zero retry budget a request the resetting peer has read is not replayed (502),
# while a refused connect, which delivered nothing, is still retried on the other peer.
# The budget alone (passive health off: it would take the failing peer out first).
test_retry_budget() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	start_pyorigin reset || return 1
	free_port || return 1
	local dead=$PORT peer codes i
	for peer in "$dead" "$PYO_PORT"; do
		free_port || return 1
		LISTEN_PORT=$PORT
		cat >"$TMPD/pingd-$peer.yaml" <<YAML
workers: 1
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams:
  - name: o
    retry_budget: 0
    retry_budget_min: 0
    passive: {max_fails: 0}
    servers: [{address: '127.0.0.1:$peer'}, {address: '127.0.0.1:$ORIGIN_PORT'}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
		start_pingd -c "$TMPD/pingd-$peer.yaml" || return 1
		codes=""
		for ((i = 0; i < 4; i++)); do codes+="$(http_status /index.html) "; done
		if [ "$peer" = "$dead" ]; then
			log "refusing peer: $codes"
			[ "$codes" = "200 200 200 200 " ] || fail "refused connect not retried"
		else
			log "resetting peer: $codes"
			[ "$codes" = "502 200 502 200 " ] || fail "retry budget not enforced"
		fi
	done
}

kill_origin_and_expect_502() {
	kill "$(cat "$TMPD/nginx/nginx.pid")" 2>/dev/null
	local i
	for ((i = 0; i < 50; i++)); do
		wait_port 127.0.0.1 "$ORIGIN_PORT" "" 1 || break
		sleep 0.1
	done
	[ "$(http_status /index.html)" = 502 ] || fail "no 502 with every upstream refusing"
}

test_headers() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin echo || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
proxy: {forwarded: true}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: o, servers: [{address: '127.0.0.1:$PYO_PORT'}]}]
virtual_hosts:
  - name: all
    hosts: '*'
    routes:
      - path: /rw/
        upstream: o
        host: backend.internal
        request_headers: {add: {X-Added: yes}, set: {X-Set: one}, remove: [X-Secret]}
        response_headers: {add: {X-Resp: r}, remove: [Content-Type]}
      - {path: /, upstream: o}
YAML
	start_pingd -c "$TMPD/pingd.yaml" || return 1
	local out
	out=$(curl -sS -D "$TMPD/h" -H 'Connection: keep-alive, X-Hop' -H 'X-Hop: 1' \
		-H 'Keep-Alive: timeout=5' -H 'X-Forwarded-For: 10.9.9.9' -H 'X-Secret: s' \
		-H 'X-Set: zero' -H 'TE: trailers' -H 'Proxy-Connection: x' \
		"http://127.0.0.1:$PINGD_PORT/rw/a?b=1")
	echo "$out"
	cat "$TMPD/h"
	grep -q '^GET /rw/a?b=1 HTTP/1.1' <<<"$out" || fail "target changed"
	grep -qi '^Host: backend.internal' <<<"$out" || fail "Host not rewritten"
	grep -qi '^X-Forwarded-For: 10.9.9.9, 127.0.0.1' <<<"$out" || fail "XFF not appended"
	grep -qi '^X-Forwarded-Proto: http' <<<"$out" || fail "no X-Forwarded-Proto"
	grep -qi '^Forwarded: for=127.0.0.1;proto=http;host="backend.internal"' <<<"$out" ||
		fail "no Forwarded"
	grep -qi '^Via: 1.1 pingd' <<<"$out" || fail "no Via"
	grep -qi '^X-Added: yes' <<<"$out" || fail "add rule"
	grep -qi '^X-Set: one' <<<"$out" || fail "set rule"
	grep -qi '^X-Set: zero' <<<"$out" && fail "set rule kept the old value"
	grep -qiE '^(X-Secret|X-Hop|Keep-Alive|TE|Proxy-Connection):' <<<"$out" &&
		fail "hop-by-hop or removed field forwarded"
	grep -qi '^X-Resp: r' "$TMPD/h" || fail "response add rule"
	grep -qi '^Content-Type' "$TMPD/h" && fail "response remove rule"
	# Without a host rule, the client's Host is kept.
	out=$(curl -sS -H 'Host: kept.example' "http://127.0.0.1:$PINGD_PORT/x")
	grep -qi '^Host: kept.example' <<<"$out" || fail "Host not kept"
}

test_routing() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	echo api >"$ORIGIN_ROOT/api.txt"
	start_pyorigin echo || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams:
  - {name: nginx, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}
  - {name: echo, selection: ketama, hash_key: 'cookie:sid', servers: [{address: '127.0.0.1:$PYO_PORT'}]}
virtual_hosts:
  - name: api
    hosts: [api.test, '*.api.test']
    routes:
      - {path: /api.txt, match: exact, upstream: nginx}
      - {path: /, upstream: echo}
  - name: www
    hosts: [www.test]
    routes: [{path: /, upstream: nginx}]
YAML
	start_pingd -c "$TMPD/pingd.yaml" || return 1
	[ "$(curl -s -H 'Host: x.api.test' "http://127.0.0.1:$PINGD_PORT/api.txt")" = api ] ||
		fail "wildcard host + exact route"
	curl -s -H 'Host: api.test' -b 'sid=1' "http://127.0.0.1:$PINGD_PORT/api.txt/x" |
		grep -q '^GET /api.txt/x' || fail "exact route matched a longer path"
	[ "$(http_status /index.html -H 'Host: WWW.test:80')" = 200 ] || fail "exact host"
	[ "$(http_status /index.html -H 'Host: other.test')" = 404 ] || fail "unknown host not 404"
	[ "$(curl -s "http://127.0.0.1:$PINGD_PORT/index.html" -H 'Host: www.test' \
		--request-target 'http://api.test/api.txt')" = api ] || fail "absolute-form target"
}

test_config_check() {
	need_l7_tools || return $?
	l7_tmpdir
	cat >"$TMPD/good.yaml" <<YAML
listeners: [{address: '127.0.0.1:1'}]
upstreams: [{name: o, servers: [{address: '127.0.0.1:2'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	cat >"$TMPD/bad.yaml" <<YAML
listeners: [{address: '127.0.0.1:1'}]
timeouts:
  connect: soon
upstreams: [{name: o, servers: [{address: '127.0.0.1:2'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: nope}]}]
YAML
	"$PINGD" -t -c "$TMPD/good.yaml" || fail "valid config rejected"
	local out rc
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1)
	rc=$?
	echo "$out"
	[ $rc = 1 ] || fail "invalid config: exit $rc, expected 1"
	grep -q "bad.yaml:3: 'timeouts.connect': expected a duration with a unit (ms, s, m, h), got 'soon'" <<<"$out" ||
		fail "duration error"
	grep -q "bad.yaml:5: 'virtual_hosts\[\].routes\[\].upstream': no upstream named 'nope'" <<<"$out" ||
		fail "reference error"
	"$PINGD" -t -c "$TMPD/none.yaml" 2>/dev/null
	[ $? = 1 ] || fail "missing file must exit 1"
	"$PINGD" --bogus 2>/dev/null
	[ $? = 2 ] || fail "usage error must exit 2"
	"$PINGD" -t --listen 127.0.0.1:1 --upstream 'x:y' 2>/dev/null
	[ $? = 1 ] || fail "bad one-line upstream must exit 1"
	"$PINGD" --dump-config -c "$TMPD/good.yaml" >"$TMPD/dump.yaml" || fail "dump"
	"$PINGD" -t -c "$TMPD/dump.yaml" || fail "dumped config does not load"
}

test_access_log() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
log: {access_log: '$TMPD/access.log', access_format: json}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	start_pingd -c "$TMPD/pingd.yaml" || return 1
	curl -s -o /dev/null -A 'test "agent"' "http://127.0.0.1:$PINGD_PORT/index.html?q=1"
	curl -s -o /dev/null "http://127.0.0.1:$PINGD_PORT/nope"
	sleep 0.2
	cat "$TMPD/access.log"
	python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 2, lines
a, b = lines
assert a["method"] == "GET" and a["uri"] == "/index.html?q=1" and a["status"] == 200, a
assert a["bytes"] == 6 and a["user_agent"] == "test \"agent\"", a
assert a["upstream"].endswith(sys.argv[2]), a
assert b["status"] == 404, b
' "$TMPD/access.log" ":$ORIGIN_PORT" || fail "access log content"
}

# The workers' reads and writes go through an io_uring by default, one at a time with
# io_uring: false, and one at a time (said once in the log) where the kernel refuses io_uring:
# wrk load and a large body both ways come through each way, byte-exact.
test_io_uring() {
	need_l7_tools wrk sha256sum || return $?
	l7_tmpdir
	start_origin || return 1
	head -c $((8 * 1024 * 1024 + 5)) /dev/urandom >"$ORIGIN_ROOT/big.bin"
	local want mode out got rings sysctl=/proc/sys/kernel/io_uring_disabled was
	want=$(sha256sum <"$ORIGIN_ROOT/big.bin" | cut -d' ' -f1)
	for mode in on off refused; do
		free_port || return 1
		LISTEN_PORT=$PORT
		cat >"$TMPD/pingd-$mode.yaml" <<YAML
workers: 2
io_uring: $([ $mode = off ] && echo false || echo true)
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
		if [ $mode = refused ]; then
			# Refused for every process for this moment (root only), put back at the end.
			[ -w $sysctl ] || { echo "   needs root to refuse io_uring" >&2; return $SKIP; }
			was=$(cat $sysctl)
			on_exit "echo $was > $sysctl"
			echo 2 >$sysctl
		fi
		start_pingd -c "$TMPD/pingd-$mode.yaml" 2>"$TMPD/err-$mode.log" || return 1
		[ $mode = refused ] && echo "$was" >$sysctl
		rings=$(ls -l /proc/"$PINGD_PID"/fd 2>/dev/null | grep -c 'io_uring')
		log "$mode: $rings io_uring descriptors"
		case $mode in
		on) [ "$rings" = 2 ] || fail "io_uring on: $rings rings for 2 workers" ;;
		*) [ "$rings" = 0 ] || fail "io_uring $mode: $rings rings" ;;
		esac
		out=$(wrk -t2 -c64 -d2s "http://127.0.0.1:$PINGD_PORT/index.html")
		grep -qE 'Non-2xx|Socket errors' <<<"$out" && { echo "$out"; fail "$mode: errors under load"; }
		got=$(curl -sS --max-time 60 "http://127.0.0.1:$PINGD_PORT/big.bin" | sha256sum |
			cut -d' ' -f1)
		[ "$got" = "$want" ] || fail "$mode: download differs"
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -T "$ORIGIN_ROOT/big.bin" \
			"http://127.0.0.1:$PINGD_PORT/up/big-$mode.bin")" = 201 ] || fail "$mode: upload"
		got=$(sha256sum <"$ORIGIN_ROOT/up/big-$mode.bin" | cut -d' ' -f1)
		[ "$got" = "$want" ] || fail "$mode: upload differs"
		kill "$PINGD_PID"
		wait "$PINGD_PID" 2>/dev/null
		case $mode in
		refused)
			[ "$(grep -c 'io_uring unavailable' "$TMPD/err-$mode.log")" = 1 ] ||
				fail "refused: not said once: $(cat "$TMPD/err-$mode.log")" ;;
		*)
			grep -q 'io_uring' "$TMPD/err-$mode.log" &&
				fail "$mode: $(cat "$TMPD/err-$mode.log")" ;;
		esac
	done
	return 0
}

run_tests "$@"
