#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# HTTP/2 from clients: h2c with prior knowledge (curl, nghttp, h2load, python3-h2), h2 over
# TLS by ALPN, the listener setting that turns both off (and Upgrade: h2c answered in
# HTTP/1.1), flow control (small client windows, a stream stalled at a zero window while
# another of its connection is served), bodies both ways, errors, retries and metrics through
# the same engine as HTTP/1.1, GOAWAY on a graceful stop with the stream in flight finished,
# and bad input (rapid reset, CONTINUATION flood, HPACK bomb, SETTINGS/PING/empty DATA
# floods, window violations, invalid pseudo-headers, upper-case and connection-specific
# fields): each answered with a stream or connection error while pingd keeps serving and its
# memory stays bounded.

ALL_TESTS="test_h2c test_h2_tls test_h2_off test_h2_flow_control test_h2_engine \
 test_h2_connect test_h2_graceful test_h2_reload test_h2_upgrade test_h2_continue test_h2_bad_input"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# Debian's python3 carries python3-h2 (scripts/deps.sh).
PY=/usr/bin/python3
H2TOOL=("$PY" "$L7_DIR/h2tool.py")

# pingd in front of nginx (a 3 MB file at /big.bin), a python origin answering after 2 s
# (/late), a pool whose first server is dead (/retry/), one whose connects never complete
# (/tarpit/) and an admin listener. The cleartext listener takes H2_OPTS (", http2: false");
# with TLS=1 two TLS listeners are added, on TLS_PORT (HTTP/2 on) and OFF_PORT (http2: false).
setup() {
	need_l7_tools nghttp h2load openssl || return $?
	"$PY" -c 'import h2' 2>/dev/null || { echo "   needs python3-h2" >&2; return $SKIP; }
	l7_tmpdir
	start_origin || return 1
	start_pyorigin late || return 1
	head -c 3000000 /dev/urandom >"$ORIGIN_ROOT/big.bin"
	BIG_SHA=$(sha256sum "$ORIGIN_ROOT/big.bin" | cut -c1-12)
	free_port || return 1
	DEAD_PORT=$PORT
	free_port || return 1
	ECHO_PORT=$PORT
	spawn "$PY" "$L7_DIR/wstool.py" tcpecho "$ECHO_PORT"
	wait_port 127.0.0.1 "$ECHO_PORT" || fail "echo server did not start"
	free_port || return 1
	TARPIT_PORT=$PORT
	spawn "${H2TOOL[@]}" tarpit "$TARPIT_PORT"
	sleep 0.3
	free_port || return 1
	ADMIN_PORT=$PORT
	free_port || return 1
	LISTEN_PORT=$PORT
	local tls_lines=""
	if [ "${TLS:-0}" = 1 ]; then
		bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/a" a.test >/dev/null || fail "openssl"
		free_port || return 1
		TLS_PORT=$PORT
		free_port || return 1
		OFF_PORT=$PORT
		local certs="{certificates: [{cert: '$TMPD/a.crt', key: '$TMPD/a.key'}]}"
		tls_lines="  - {address: '127.0.0.1:$TLS_PORT', tls: $certs}
  - {address: '127.0.0.1:$OFF_PORT', http2: false, tls: $certs}"
	fi
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
limits: {buffer_size: ${BUFFER:-64k}}
log: {access_log: '$TMPD/access.log'}
admin: {address: '127.0.0.1:$ADMIN_PORT'}
listeners:
  - {address: '127.0.0.1:$LISTEN_PORT'${H2_OPTS:-}}
$tls_lines
upstreams:
  - {name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}
  - {name: late, servers: [{address: '127.0.0.1:$PYO_PORT'}]}
  - {name: tarpit, servers: [{address: '127.0.0.1:$TARPIT_PORT'}]}
  - {name: r, retries: 2, servers: [{address: '127.0.0.1:$DEAD_PORT'}, {address: '127.0.0.1:$ORIGIN_PORT'}]}
virtual_hosts:
  - name: main
    hosts: [a.test]
    routes:
      - {path: /retry/, upstream: r}
      - {path: /late, upstream: late}
      - {path: /tarpit/, upstream: tarpit}
      - {path: /, upstream: o}
  - name: forward
    hosts: '*'
    routes: [{path: /connect-only, match: exact, upstream: o, connect: ['127.0.0.1:$ECHO_PORT']}]
YAML
	start_pingd -c "$TMPD/pingd.yaml"
}

# curl over HTTP/2 with prior knowledge: h2curl PATH [curl args...]
h2curl() {
	local path=$1
	shift
	curl -sS --max-time 20 --http2-prior-knowledge -H 'Host: a.test' "$@" \
		"http://127.0.0.1:$PINGD_PORT$path"
}

still_serving() {
	[ "$(h2curl /)" = hello ] || fail "pingd stopped serving HTTP/2 after $1"
	[ "$(curl -s --max-time 10 -H 'Host: a.test' "http://127.0.0.1:$PINGD_PORT/")" = hello ] ||
		fail "pingd stopped serving HTTP/1.1 after $1"
}

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PINGD_PID/status"; }

test_h2c() {
	setup || return $?
	local out
	out=$(h2curl / -w ' %{http_version}') || fail "curl --http2-prior-knowledge failed"
	[ "$out" = "hello
 2" ] || fail "curl: '$out'"
	out=$(nghttp -v "http://127.0.0.1:$PINGD_PORT/" -H ':authority: a.test' 2>&1)
	grep -q ':status: 200' <<<"$out" || fail "nghttp: $out"
	# 20 streams at once on one connection, each the whole file.
	out=$(timeout 120 "${H2TOOL[@]}" get "$PINGD_PORT" /big.bin 20)
	[ "$(grep -c "^200 3000000 $BIG_SHA\$" <<<"$out")" = 20 ] || fail "20 streams: $out"
	# A 2 MB upload in DATA frames without content-length (chunked upstream), then back.
	head -c 2000000 /dev/urandom >"$TMPD/up.bin"
	out=$(timeout 60 "${H2TOOL[@]}" post "$PINGD_PORT" /up/f.bin "$TMPD/up.bin")
	grep -q '^201' <<<"$out" || fail "upload: $out"
	cmp -s "$TMPD/up.bin" "$ORIGIN_ROOT/up/f.bin" || fail "uploaded file differs"
	out=$(h2curl /up/f.bin | sha256sum | cut -c1-12)
	[ "$out" = "$(sha256sum "$TMPD/up.bin" | cut -c1-12)" ] || fail "download of the upload"
	# h2load: many streams on few connections.
	out=$(h2load -n 4000 -c 4 -m 16 -H ':authority: a.test' "http://127.0.0.1:$PINGD_PORT/" 2>&1)
	grep -q 'requests: 4000 total, 4000 started, 4000 done, 4000 succeeded' <<<"$out" ||
		fail "h2load: $(grep -E 'requests:|status codes' <<<"$out")"
	log "curl, nghttp, 20 x 3 MB streams on one connection, a 2 MB upload, h2load 4000/4000"
}

test_h2_tls() {
	TLS=1 setup || return $?
	local out
	out=$(curl -sS --max-time 20 --http2 --cacert "$TMPD/a.crt" \
		--resolve "a.test:$TLS_PORT:127.0.0.1" -w ' %{http_version}' "https://a.test:$TLS_PORT/")
	[ "$out" = "hello
 2" ] || fail "curl --http2 over TLS: '$out'"
	out=$(openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername a.test -alpn h2,http/1.1 \
		</dev/null 2>/dev/null)
	grep -q 'ALPN protocol: h2' <<<"$out" || fail "ALPN: $(grep -i alpn <<<"$out")"
	out=$(timeout 120 "${H2TOOL[@]}" get "$TLS_PORT" /big.bin 4 a.test "$TMPD/a.crt")
	[ "$(grep -c "^200 3000000 $BIG_SHA\$" <<<"$out")" = 4 ] || fail "4 streams over TLS: $out"
	# http2: false offers http/1.1 only.
	out=$(openssl s_client -connect "127.0.0.1:$OFF_PORT" -servername a.test -alpn h2,http/1.1 \
		</dev/null 2>/dev/null)
	grep -q 'ALPN protocol: http/1.1' <<<"$out" ||
		fail "ALPN with http2 off: $(grep -i alpn <<<"$out")"
	out=$(curl -sS --max-time 20 --http2 --cacert "$TMPD/a.crt" \
		--resolve "a.test:$OFF_PORT:127.0.0.1" -w ' %{http_version}' "https://a.test:$OFF_PORT/")
	[ "$out" = "hello
 1.1" ] || fail "curl --http2 with http2 off: '$out'"
	log "h2 by ALPN (curl, 4 x 3 MB streams), http/1.1 only with http2: false"
}

# Cleartext with http2: false: the preface is an HTTP version pingd does not speak (505);
# Upgrade: h2c is answered in HTTP/1.1 either way.
test_h2_off() {
	H2_OPTS=", http2: false" setup || return $?
	local out
	out=$(timeout 20 "${L7TOOL[@]}" raw "$PINGD_PORT" 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' 5)
	grep -q '^HTTP/1.1 505' <<<"$out" || fail "preface with http2 off: $out"
	out=$(curl -sS --max-time 10 --http2 -D - -H 'Host: a.test' "http://127.0.0.1:$PINGD_PORT/")
	grep -q '^HTTP/1.1 200' <<<"$out" || fail "Upgrade: h2c not answered in HTTP/1.1: $out"
}

test_h2_flow_control() {
	setup || return $?
	local base out
	base=$(rss)
	# Windows of 64 KiB per stream and 16 MiB per connection.
	out=$(nghttp -w 16 -W 24 -H ':authority: a.test' "http://127.0.0.1:$PINGD_PORT/big.bin" |
		sha256sum | cut -c1-12)
	[ "$out" = "$BIG_SHA" ] || fail "nghttp with small windows: $out"
	# Stream 1 stalls at a zero window on the 3 MB file; stream 3 of the same connection
	# is given window and answered to the end.
	out=$(timeout 60 "${H2TOOL[@]}" stall "$PINGD_PORT" "$PINGD_PID")
	grep -q '^ended 3$' <<<"$out" || fail "stream 3 not served beside a stalled one: $out"
	grep -q '^ended 1$' <<<"$out" && fail "stream 1 finished with no window: $out"
	local r
	r=$(awk '/^rss_kb/ {print $2}' <<<"$out")
	log "RSS ${base} KiB before, ${r} KiB with a 3 MB answer stalled at a zero window"
	[ "$r" -lt $((base + 16384)) ] || fail "pingd grew from $base to $r KiB"
	still_serving "a stalled stream"
}

# Routing, errors, retries and metrics apply to HTTP/2 requests as to HTTP/1.1 ones.
test_h2_engine() {
	setup || return $?
	local out i
	out=$(h2curl /nothing -o /dev/null -w '%{http_code}')
	[ "$out" = 404 ] || fail "missing file: $out"
	out=$(curl -sS --max-time 20 --http2-prior-knowledge -o /dev/null -w '%{http_code}' \
		-H 'Host: other.test' "http://127.0.0.1:$PINGD_PORT/")
	[ "$out" = 404 ] || fail "unknown virtual host: $out"
	# /retry/ is a 404 at the origin: an answer, after the dead first server was passed.
	for i in 1 2 3 4; do
		out=$(h2curl /retry/ -o /dev/null -w '%{http_code}')
		[ "$out" = 404 ] || fail "retry $i: $out"
	done
	out=$(h2curl / -D - -o /dev/null)
	grep -qi '^via: 1.1 pingd' <<<"$out" || fail "no Via on an HTTP/2 answer: $out"
	grep -qi '^connection:' <<<"$out" && fail "connection-specific field sent in HTTP/2: $out"
	out=$(curl -s --max-time 10 "http://127.0.0.1:$ADMIN_PORT/metrics")
	grep -Eq '^pingd_upstream_retries_total\{[^}]*upstream="r"[^}]*\} [1-9]' <<<"$out" ||
		fail "no retry counted: $(grep -i retries_total <<<"$out" | head -3)"
	grep -q '"GET / HTTP/2.0" 200 ' "$TMPD/access.log" ||
		fail "no HTTP/2.0 line in the access log: $(tail -3 "$TMPD/access.log")"
	log "404 (origin), 404 (no virtual host), retried past a dead server, Via, metrics, log"
}

# CONNECT as an HTTP/2 stream (RFC 9113 §8.5): a tunnel whose END_STREAM is the half-close.
test_h2_connect() {
	setup || return $?
	local out
	out=$(timeout 60 "${H2TOOL[@]}" connect "$PINGD_PORT" "127.0.0.1:$ECHO_PORT" 1000000)
	grep -q '^200$' <<<"$out" || fail "CONNECT over HTTP/2: $out"
	grep -q '^echoed 1000000$' <<<"$out" || fail "tunnel over HTTP/2: $out"
	out=$(timeout 60 "${H2TOOL[@]}" connect "$PINGD_PORT" "127.0.0.1:$DEAD_PORT" 10)
	grep -q '^403$' <<<"$out" || fail "CONNECT outside the list over HTTP/2: $out"
	still_serving "HTTP/2 CONNECT"
}

# SIGTERM with a stream in flight: GOAWAY naming it, and it is answered in full.
test_h2_graceful() {
	setup || return $?
	local out
	out=$(timeout 60 "${H2TOOL[@]}" drain "$PINGD_PORT" /late "$PINGD_PID")
	grep -q '^goaway 1 0$' <<<"$out" || fail "no GOAWAY naming stream 1: $out"
	grep -q '^200 [1-9]' <<<"$out" || fail "the stream in flight was not answered: $out"
	log "$(tr '\n' ' ' <<<"$out")"
}

# A reload (SIGHUP) with a stream in flight: the old generation's connection says GOAWAY
# naming it, answers it in full, and the new generation serves the next connection.
test_h2_reload() {
	setup || return $?
	local out
	out=$(timeout 60 "${H2TOOL[@]}" drain "$PINGD_PORT" /late "$PINGD_PID" HUP)
	grep -q '^goaway 1 0$' <<<"$out" || fail "no GOAWAY naming stream 1 on reload: $out"
	grep -q '^200 [1-9]' <<<"$out" || fail "the stream in flight across the reload: $out"
	log "$(tr '\n' ' ' <<<"$out")"
	kill -0 "$PINGD_PID" 2>/dev/null || fail "pingd exited on reload"
	still_serving "after the reload"
}

# A binary upgrade (a successor started with --upgrade) with a stream in flight: the old
# process says GOAWAY naming it, answers it in full and exits; the successor serves.
test_h2_upgrade() {
	setup || return $?
	local out i
	"${H2TOOL[@]}" drain "$PINGD_PORT" /late "$PINGD_PID" NONE >"$TMPD/drain.out" &
	local tool=$!
	on_exit "kill $tool 2>/dev/null"
	# The stream must be in flight (at the origin, which answers 2 s later) before the upgrade.
	wait_grep '^GET /late ' "$PYO_LOG" || fail "the request never reached the origin"
	spawn "$PINGD" -c "$TMPD/pingd.yaml" --upgrade
	local succ=$SPAWNED_PID
	timeout 60 tail --pid="$tool" -f /dev/null
	out=$(cat "$TMPD/drain.out")
	log "$(tr '\n' ' ' <<<"$out")"
	grep -q '^goaway 1 0$' <<<"$out" || fail "no GOAWAY naming stream 1 on upgrade: $out"
	grep -q '^200 [1-9]' <<<"$out" || fail "the stream in flight across the upgrade: $out"
	for ((i = 0; i < 120; i++)); do
		kill -0 "$PINGD_PID" 2>/dev/null || break
		sleep 0.25
	done
	kill -0 "$PINGD_PID" 2>/dev/null && fail "the old pingd did not exit after the upgrade"
	kill -0 "$succ" 2>/dev/null || fail "the successor is not running"
	still_serving "the upgrade"
}

# An HTTP/2 upload with expect: 100-continue: a 100 HEADERS frame, then the final answer, the
# body byte for byte at the HTTP/1.1 origin.
test_h2_continue() {
	setup || return $?
	local out
	head -c 300000 /dev/urandom >"$TMPD/up.bin"
	out=$(h2curl /up/c.bin -v -H 'Expect: 100-continue' -T "$TMPD/up.bin" 2>&1 >/dev/null)
	grep -E '^< HTTP' <<<"$out"
	grep -q '^< HTTP/2 100' <<<"$out" || fail "no 100 over HTTP/2: $out"
	grep -qE '^< HTTP/2 20[14]' <<<"$out" || fail "no final 2xx over HTTP/2"
	cmp "$TMPD/up.bin" "$ORIGIN_ROOT/up/c.bin" || fail "uploaded body differs"
}

# What each kind of bad input must get: a connection error (goaway/closed) or a stream error.
declare -A EXPECT=(
	[rapid_reset]='^(goaway|closed)' [continuation]='^(goaway|closed)'
	[hpack_bomb]='^(reset|goaway)' [settings_flood]='^goaway 11'
	[ping_flood]='^goaway 11' [empty_data]='^goaway 11'
	[window]='^(reset|goaway) 3' [window_update]='^goaway 3'
	[dup_pseudo]='^reset 1' [no_method]='^reset 1' [unknown_pseudo]='^reset 1'
	[late_pseudo]='^reset 1' [uppercase]='^reset 1' [connection]='^reset 1'
	[transfer_encoding]='^reset 1' [te]='^reset 1'
)

test_h2_bad_input() {
	# Stream windows of 16 KiB: a window overrun arrives in one read.
	BUFFER=16k setup || return $?
	local base k out r max=0
	base=$(rss)
	for k in rapid_reset continuation hpack_bomb settings_flood ping_flood empty_data window \
		window_update dup_pseudo no_method unknown_pseudo late_pseudo uppercase connection \
		transfer_encoding te; do
		out=$(timeout 120 "${H2TOOL[@]}" attack "$PINGD_PORT" "$k" "$PINGD_PID" 2>&1)
		grep -Eq "${EXPECT[$k]}" <<<"$out" || fail "$k: $(tr '\n' ' ' <<<"$out")"
		grep -q '^answered' <<<"$out" && [ "${EXPECT[$k]}" = '^reset 1' ] &&
			fail "$k: a request that must be refused was answered"
		r=$(awk '/^rss_kb/ {print $2}' <<<"$out")
		[ "$r" -gt "$max" ] && max=$r
		log "$k: $(grep -v rss_kb <<<"$out" | tr '\n' ' ')"
		still_serving "$k"
	done
	log "RSS ${base} KiB before, at most ${max} KiB after any of them"
	[ "$max" -lt $((base + 32768)) ] || fail "pingd grew from $base to $max KiB"
}

run_tests "$@"
