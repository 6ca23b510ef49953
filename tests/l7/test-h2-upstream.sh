#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# HTTP/2 to upstreams (upstreams[].protocol h2c and h2): nginx (`listen ... http2`) as an h2c
# and an h2-over-TLS origin, reached by HTTP/1.1 and HTTP/2 clients through pingd; many
# streams on few upstream connections; a stream stalled by its client beside one served; a python3-h2 origin whose stream limit is respected
# (a new connection opened when the others are full), that sends a GOAWAY (the refused
# streams replayed), dies mid-stream, answers without :status or with an invalid frame (502
# for that stream, pingd goes on serving) or never speaks (504 after the connect timeout);
# trailers passed to HTTP/2 clients; active HTTP checks that speak HTTP/2 (h2c and h2 over
# TLS) taking a server down on a 503 and up on a 200; `pingd -t` on bad protocol settings.

ALL_TESTS="test_h2up_nginx test_h2up_tls test_h2up_limit test_h2up_goaway test_h2up_bad \
 test_h2up_silent test_h2up_health test_h2up_health_tls test_h2up_config"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

PY=/usr/bin/python3
H2TOOL=("$PY" "$L7_DIR/h2tool.py")

# nginx serving h2c (prior knowledge), or h2 over TLS with TLS=1, on a free port: sets
# NG_PORT; files in $TMPD/ng/html, the protocol of each request in $TMPD/ng/access.log.
start_h2_nginx() {
	local d=$TMPD/ng listen
	free_port || return 1
	NG_PORT=$PORT
	mkdir -p "$d/html/up" "$d/tmp" "$d/logs"
	chmod 777 "$d/html/up" "$d/tmp" "$d/logs"
	echo hello >"$d/html/index.html"
	listen="listen 127.0.0.1:$NG_PORT http2;"
	if [ "${TLS:-0}" = 1 ]; then
		bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/o" origin.test >/dev/null || fail "openssl"
		listen="listen 127.0.0.1:$NG_PORT ssl http2;
		ssl_certificate $TMPD/o.crt; ssl_certificate_key $TMPD/o.key;"
	fi
	cat >"$d/nginx.conf" <<NGINX
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 4096; }
http {
	log_format p '\$server_protocol \$request_method \$request_uri \$status';
	access_log $d/access.log p;
	client_body_temp_path $d/tmp/body;
	keepalive_requests 1000000;
	server {
		$listen
		root $d/html;
		location /up/ { dav_methods PUT; create_full_put_path on; client_max_body_size 0; }
		location = /status { stub_status; }
		location = /health { try_files /healthy =503; }
	}
}
NGINX
	spawn nginx -c "$d/nginx.conf" -p "$d" -g 'daemon off;'
	wait_port 127.0.0.1 "$NG_PORT" || fail "nginx did not start"
}

# pingd with upstream "o" (protocol PROTO, server SERVER) behind every Host: start_h2_pingd
# PROTO SERVER [EXTRA upstream YAML].
start_h2_pingd() {
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
timeouts: {connect: ${CONNECT_TIMEOUT:-5s}}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams:
  - {name: o, protocol: $1, servers: [{address: '$2'}]${3:+, $3}}
virtual_hosts:
  - {name: all, hosts: '*', routes: [{path: /, upstream: o}]}
YAML
	if [ -n "${PINGD_LOG:-}" ]; then
		: >"$PINGD_LOG"
		spawn bash -c "exec '$PINGD' -c '$TMPD/pingd.yaml' 2>>'$PINGD_LOG'"
		PINGD_PID=$SPAWNED_PID
		PINGD_PORT=$LISTEN_PORT
		wait_port 127.0.0.1 "$LISTEN_PORT" || fail "pingd did not start: $(cat "$PINGD_LOG")"
		return
	fi
	start_pingd -c "$TMPD/pingd.yaml"
}

# Wait for a line matching $1 in $PINGD_LOG (10 s at most).
wait_log() {
	wait_grep "$1" "$PINGD_LOG" || fail "no '$1' in the log: $(cat "$PINGD_LOG")"
}

# Accepted connections nginx counted (stub_status over h2c or h2).
ng_accepts() {
	local scheme=http extra=(--http2-prior-knowledge)
	[ "${TLS:-0}" = 1 ] && scheme=https extra=(--http2 -k)
	curl -s "${extra[@]}" "$scheme://127.0.0.1:$NG_PORT/status" | awk 'NR == 3 {print $1}'
}

test_h2up_nginx() {
	need_l7_tools h2load || return $?
	l7_tmpdir
	start_h2_nginx || return 1
	head -c 3000000 /dev/urandom >"$TMPD/ng/html/big.bin"
	local sha out n
	sha=$(sha256sum "$TMPD/ng/html/big.bin" | cut -c1-12)
	start_h2_pingd h2c "127.0.0.1:$NG_PORT" || return 1
	[ "$(curl -s --max-time 10 "http://127.0.0.1:$PINGD_PORT/")" = hello ] ||
		fail "HTTP/1.1 client to an h2c upstream"
	[ "$(curl -s --max-time 10 --http2-prior-knowledge "http://127.0.0.1:$PINGD_PORT/")" = hello ] ||
		fail "HTTP/2 client to an h2c upstream"
	grep -q '^HTTP/2.0 GET / 200$' "$TMPD/ng/access.log" || fail "nginx was not asked in HTTP/2: $(cat "$TMPD/ng/access.log")"
	# 20 x 3 MB at once on one client connection: flow control both sides of pingd.
	out=$(timeout 120 "${H2TOOL[@]}" get "$PINGD_PORT" /big.bin 20)
	[ "$(grep -c "^200 3000000 $sha\$" <<<"$out")" = 20 ] || fail "20 streams: $out"
	# A 2 MB upload from an HTTP/1.1 client: DATA frames upstream.
	head -c 2000000 /dev/urandom >"$TMPD/up.bin"
	out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -T "$TMPD/up.bin" \
		"http://127.0.0.1:$PINGD_PORT/up/f.bin")
	[ "$out" = 201 ] || fail "upload: $out"
	cmp -s "$TMPD/up.bin" "$TMPD/ng/html/up/f.bin" || fail "uploaded file differs"
	# Many concurrent streams: nginx allows 128 per connection, so they share one or two.
	out=$(h2load -n 4000 -c 4 -m 20 "http://127.0.0.1:$PINGD_PORT/" 2>&1)
	grep -q 'requests: 4000 total, 4000 started, 4000 done, 4000 succeeded' <<<"$out" ||
		fail "h2load: $(grep -E 'requests:|status codes' <<<"$out")"
	# A client that stalls one stream at a zero window (a 3 MB answer) while another of its
	# connection is served: the upstream streams share one connection, and the stalled one
	# holds its window, not the connection's.
	local base r
	base=$(awk '/^VmRSS:/ {print $2}' "/proc/$PINGD_PID/status")
	out=$(timeout 60 "${H2TOOL[@]}" stall "$PINGD_PORT" "$PINGD_PID")
	grep -q '^ended 3$' <<<"$out" || fail "stream 3 not served beside a stalled one: $out"
	grep -q '^ended 1$' <<<"$out" && fail "stream 1 finished with no window: $out"
	r=$(awk '/^rss_kb/ {print $2}' <<<"$out")
	[ "$r" -lt $((base + 16384)) ] || fail "pingd grew from $base to $r KiB with a stalled stream"
	[ "$(curl -s --max-time 10 --http2-prior-knowledge "http://127.0.0.1:$PINGD_PORT/")" = hello ] ||
		fail "not serving after a stalled stream"
	n=$(ng_accepts)
	# One connection for the requests (two when 80 streams meet its 128 as others close),
	# one for the status itself.
	[ -n "$n" ] && [ "$n" -le 4 ] || fail "nginx accepted $n connections for 4000 requests"
	log "h1 and h2 clients, 20 x 3 MB streams, a 2 MB upload, a stalled stream beside a served one (RSS $base -> $r KiB), h2load 4000/4000 over $((n - 1)) upstream connection(s)"
}

test_h2up_tls() {
	TLS=1
	l7_tmpdir
	start_h2_nginx || return 1
	start_h2_pingd h2 "https://127.0.0.1:$NG_PORT" \
		"tls: {ca: '$TMPD/o.crt', sni: origin.test}" || return 1
	local out
	out=$(curl -s --max-time 10 --http2-prior-knowledge "http://127.0.0.1:$PINGD_PORT/")
	[ "$out" = hello ] || fail "through an h2 (TLS) upstream: '$out'"
	[ "$(curl -s --max-time 10 "http://127.0.0.1:$PINGD_PORT/")" = hello ] || fail "h1 client"
	grep -q '^HTTP/2.0 GET / 200$' "$TMPD/ng/access.log" || fail "nginx was not asked in HTTP/2: $(cat "$TMPD/ng/access.log")"
	log "h2 by ALPN to nginx over TLS"
}

# A python3-h2 origin in MODE with a stream limit: sets HO_PORT, HO_LOG.
start_h2origin() {
	free_port || return 1
	HO_PORT=$PORT
	HO_LOG=$TMPD/h2origin.log
	: >"$HO_LOG"
	spawn "$PY" "$L7_DIR/h2origin.py" "$HO_PORT" "$1" "$HO_LOG" "${2:-100}"
	wait_port 127.0.0.1 "$HO_PORT" || fail "h2 origin did not start"
	sed -i '/^conn$/d' "$HO_LOG" # wait_port's own connection
}

test_h2up_limit() {
	need_l7_tools h2load || return $?
	l7_tmpdir
	start_h2origin ok 4 || return 1
	start_h2_pingd h2c "127.0.0.1:$HO_PORT" || return 1
	local out conns peak
	# 20 streams at once, each answered after 0.3 s, to a server that allows 4 per
	# connection.
	out=$(h2load -n 40 -c 1 -m 20 "http://127.0.0.1:$PINGD_PORT/slow" 2>&1)
	grep -q 'requests: 40 total, 40 started, 40 done, 40 succeeded' <<<"$out" ||
		fail "h2load: $(grep -E 'requests:|status codes' <<<"$out")"
	grep -q '^over$' "$HO_LOG" && fail "pingd opened more streams than the origin allows"
	conns=$(grep -c '^conn$' "$HO_LOG")
	peak=$(awk '/^peak/ {if ($2 > m) m = $2} END {print m + 0}' "$HO_LOG")
	[ "$peak" = 4 ] || fail "peak of streams per connection: $peak (expected the limit, 4)"
	[ "$conns" -ge 2 ] && [ "$conns" -le 10 ] ||
		fail "$conns connections for 20 concurrent streams at 4 per connection"
	# Trailers reach HTTP/2 clients.
	out=$(curl -sv --max-time 10 --http2-prior-knowledge "http://127.0.0.1:$PINGD_PORT/trailers" 2>&1)
	grep -q '^< x-trailer: yes' <<<"$out" || fail "trailers: $out"
	out=$(curl -s --max-time 10 --http2-prior-knowledge --data-binary 'ping body' \
		"http://127.0.0.1:$PINGD_PORT/echo")
	[ "$out" = 'ping body' ] || fail "request body: '$out'"
	log "40 requests, 20 at once: at most 4 streams per connection, $conns connections; trailers"
}

test_h2up_goaway() {
	need_l7_tools h2load || return $?
	l7_tmpdir
	start_h2origin goaway 100 || return 1
	start_h2_pingd h2c "127.0.0.1:$HO_PORT" || return 1
	local out
	# The first connection takes 10 streams, answers one and refuses the rest by GOAWAY:
	# they are replayed on a new connection.
	out=$(h2load -n 10 -c 1 -m 10 "http://127.0.0.1:$PINGD_PORT/slow" 2>&1)
	grep -q 'requests: 10 total, 10 started, 10 done, 10 succeeded' <<<"$out" ||
		fail "h2load: $(grep -E 'requests:|status codes' <<<"$out")"
	grep -q '^goaway$' "$HO_LOG" || fail "the origin sent no GOAWAY"
	[ "$(grep -c '^conn$' "$HO_LOG")" -ge 2 ] || fail "no new connection after the GOAWAY"
	[ "$(curl -s --max-time 10 "http://127.0.0.1:$PINGD_PORT/")" = "h2 origin" ] ||
		fail "after the GOAWAY"
	log "GOAWAY after the first stream: 10/10 answered, $(grep -c '^conn$' "$HO_LOG") connections"
}

test_h2up_bad() {
	l7_tmpdir
	local mode out rc
	for mode in nostatus badframe die; do
		start_h2origin "$mode" || return 1
		start_h2_pingd h2c "127.0.0.1:$HO_PORT" || return 1
		for client in h1 h2; do
			local opt=()
			[ $client = h2 ] && opt=(--http2-prior-knowledge)
			out=$(curl -s "${opt[@]}" -o "$TMPD/body" -w '%{http_code}' --max-time 10 \
				"http://127.0.0.1:$PINGD_PORT/bad")
			rc=$?
			if [ $mode = die ]; then
				# The head came, then the connection died: the client sees the
				# answer cut (a close, or a reset stream), never a complete one.
				[ $rc -ne 0 ] || fail "$mode/$client: a cut answer completed ($out)"
			else
				[ "$out" = 502 ] || fail "$mode/$client: $out (rc $rc), expected 502"
			fi
			out=$(curl -s "${opt[@]}" --max-time 10 "http://127.0.0.1:$PINGD_PORT/ok")
			[ "$out" = "h2 origin" ] || fail "$mode/$client: pingd stopped serving: '$out'"
		done
		log "$mode: $([ $mode = die ] && echo "answer cut" || echo 502), then served"
		kill "$PINGD_PID"
		wait "$PINGD_PID" 2>/dev/null
	done
}

test_h2up_silent() {
	l7_tmpdir
	local out
	# Connected, but the server never sends its SETTINGS: requests wait for room no
	# longer than the connect timeout, then 504.
	start_h2origin silent || return 1
	CONNECT_TIMEOUT=1s start_h2_pingd h2c "127.0.0.1:$HO_PORT" || return 1
	out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$PINGD_PORT/ok")
	[ "$out" = 504 ] || fail "h1 client to a silent HTTP/2 server: $out"
	out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 --http2-prior-knowledge \
		"http://127.0.0.1:$PINGD_PORT/ok")
	[ "$out" = 504 ] || fail "h2 client to a silent HTTP/2 server: $out"
	# The silent connection was given up, not waited on for ever: each request met a new one.
	[ "$(grep -c '^conn$' "$HO_LOG")" -ge 2 ] || fail "one connection kept for a silent server"
	log "a server that never sends SETTINGS: 504 after timeouts.connect, its connection closed"
}

# Active HTTP checks of an h2c pool (TLS=1: an h2 pool) speak HTTP/2 to the server: its 503
# on the health path takes it down, its 200 brings it back; both probes reached nginx in
# HTTP/2.
h2up_health() {
	l7_tmpdir
	start_h2_nginx || return 1
	local hc="health: {check: http, path: /health, interval: 300ms, timeout: 250ms, rise: 1, fall: 1}"
	local proto=h2c srv="127.0.0.1:$NG_PORT" extra=$hc
	if [ "${TLS:-0}" = 1 ]; then
		proto=h2 srv="https://127.0.0.1:$NG_PORT"
		extra="tls: {ca: '$TMPD/o.crt', sni: origin.test}, $hc"
	fi
	local PINGD_LOG=$TMPD/pingd.log
	start_h2_pingd $proto "$srv" "$extra" || return 1
	wait_log "health: o/127.0.0.1:$NG_PORT is down (HTTP 503 not in 200-399)"
	grep -q '^HTTP/2.0 GET /health 503$' "$TMPD/ng/access.log" ||
		fail "the probe did not reach nginx in HTTP/2: $(tail -n3 "$TMPD/ng/access.log")"
	echo ok >"$TMPD/ng/html/healthy"
	wait_log "health: o/127.0.0.1:$NG_PORT is up (HTTP 200)"
	grep -q '^HTTP/2.0 GET /health 200$' "$TMPD/ng/access.log" ||
		fail "no HTTP/2 probe answered 200: $(tail -n3 "$TMPD/ng/access.log")"
	[ "$(curl -s --max-time 10 --http2-prior-knowledge "http://127.0.0.1:$PINGD_PORT/")" = hello ] ||
		fail "not serving once the server is up"
	log "$proto: $(grep -o 'health: .*' "$TMPD/pingd.log" | tr '\n' ';')"
}

test_h2up_health() {
	TLS=0 h2up_health
}

test_h2up_health_tls() {
	TLS=1 h2up_health
}

test_h2up_config() {
	l7_tmpdir
	local out
	printf '%s\n' "listeners: [{address: '127.0.0.1:1'}]" "upstreams:" \
		"  - {name: o, protocol: h3, servers: [{address: '127.0.0.1:2'}]}" \
		"virtual_hosts: [{name: a, hosts: '*', routes: [{path: /, upstream: o}]}]" \
		>"$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "protocol h3 accepted"
	grep -q "protocol" <<<"$out" || fail "no clear error for protocol h3: $out"
	sed -i 's/protocol: h3/protocol: h2/' "$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "h2 to a cleartext server accepted"
	grep -q "must be written https://" <<<"$out" || fail "h2 without TLS: $out"
	sed -i "s|protocol: h2, servers: \[{address: '|protocol: h2c, servers: [{address: 'https://|" \
		"$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "h2c to an https server accepted"
	grep -q "needs protocol h2" <<<"$out" || fail "h2c with TLS: $out"
	sed -i 's/protocol: h2c/protocol: h2/' "$TMPD/bad.yaml"
	"$PINGD" -t -c "$TMPD/bad.yaml" >/dev/null 2>&1 || fail "protocol h2 to https:// refused"
	# HTTP probes of an HTTP/2 pool speak HTTP/2: taken without a warning.
	sed -i 's/protocol: h2,/protocol: h2, health: {check: http},/' "$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) || fail "check: http on an h2 pool refused: $out"
	grep -q "warning: 'upstreams\[\].health'" <<<"$out" &&
		fail "a warning for http probes of an h2 pool: $out"
	log "protocol h3, h2 without TLS, h2c with TLS refused by pingd -t; h2 with TLS and http probes taken"
}

run_tests "$@"
