#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# TLS termination in pingd, with certificates made for the test: HTTPS to an nginx origin,
# SNI over two certificates, ALPN, TLS 1.3 suites (the default order, a client preferring
# ChaCha20, a configured list, an unknown name refused), old protocol versions refused, keep-alive and pipelining,
# bad handshakes (not TLS, one byte per write, truncated, stalled) each closed while other
# clients are served, a client silent after its handshake answered 408, bodies of a few MB both ways, certificate errors at -t, at start and on
# a reload, a certificate and key replaced on a reload while a connection stays open, the
# /metrics counters, and the one-line mode.

ALL_TESTS="test_https test_sni test_alpn test_ciphersuites test_old_protocols test_keepalive_pipeline \
 test_close_notify test_bad_handshakes test_silent_client test_large_bodies test_bad_certificates \
 test_reload_bad_certificate test_reload_new_certificate test_oneline"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

TLSTOOL=(python3 "$L7_DIR/tlstool.py")

# Two certificates in $TMPD: a (a.test, the default) and b (*.b.test).
make_certs() {
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/a" a.test >/dev/null || fail "openssl a"
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/b" b.test '*.b.test' >/dev/null ||
		fail "openssl b"
}

# pingd terminating TLS with both certificates in front of nginx.
setup() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	start_origin || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	free_port || return 1
	ADMIN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
admin: {address: '127.0.0.1:$ADMIN_PORT'}
listeners:
  - address: '127.0.0.1:$LISTEN_PORT'
    tls:
      certificates:
        - {cert: '$TMPD/a.crt', key: '$TMPD/a.key'}
        - {cert: '$TMPD/b.crt', key: '$TMPD/b.key'}
      handshake_timeout: 1s
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
${SETUP_YAML:-}
YAML
	start_pingd -c "$TMPD/pingd.yaml"
}

# curl over TLS to NAME through pingd: tcurl NAME CA PATH [curl args...]
tcurl() {
	local name=$1 ca=$2 path=$3
	shift 3
	curl -sS --max-time 20 --cacert "$ca" --resolve "$name:$PINGD_PORT:127.0.0.1" "$@" \
		"https://$name:$PINGD_PORT$path"
}

# The subject of the certificate pingd shows for SNI NAME (none: no SNI).
served_cn() {
	local sni=()
	[ -n "$1" ] && sni=(-servername "$1") || sni=(-noservername)
	openssl s_client -connect "127.0.0.1:$PINGD_PORT" "${sni[@]}" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}

# pingd still answers a normal client.
still_serving() {
	[ "$(tcurl a.test "$TMPD/a.crt" / 2>&1)" = hello ] || fail "pingd stopped serving after $1"
}

test_https() {
	setup || return $?
	local out
	out=$(tcurl a.test "$TMPD/a.crt" /) || fail "curl over TLS failed"
	[ "$out" = hello ] || fail "got '$out'"
	# The origin hears plain HTTP with the scheme the client used.
	out=$(tcurl a.test "$TMPD/a.crt" / --http1.1 -D - -o /dev/null)
	grep -q '^HTTP/1.1 200' <<<"$out" || fail "no 200: $out"
	# curl offers h2 first, which pingd takes by default (docs/http2.md).
	out=$(tcurl a.test "$TMPD/a.crt" / -D - -o /dev/null)
	grep -q '^HTTP/2 200' <<<"$out" || fail "no HTTP/2 200: $out"
	# Plain HTTP on the TLS port is refused, and the next client is served.
	out=$(curl -s --max-time 10 "http://127.0.0.1:$PINGD_PORT/")
	[ -z "$out" ] || fail "plain HTTP answered on a TLS port: $out"
	still_serving "a plain HTTP client"
}

test_sni() {
	setup || return $?
	local cn
	cn=$(served_cn a.test)
	[ "$cn" = a.test ] || fail "SNI a.test got '$cn'"
	cn=$(served_cn x.b.test)
	[ "$cn" = b.test ] || fail "SNI x.b.test got '$cn'"
	cn=$(served_cn "")
	[ "$cn" = a.test ] || fail "no SNI got '$cn'"
	cn=$(served_cn other.test)
	[ "$cn" = a.test ] || fail "unknown SNI got '$cn'"
	# The wildcard covers one label only.
	cn=$(served_cn y.x.b.test)
	[ "$cn" = a.test ] || fail "SNI y.x.b.test got '$cn'"
	log "a.test, x.b.test, none, other.test, y.x.b.test -> a, b, a, a, a"
	[ "$(tcurl www.b.test "$TMPD/b.crt" /)" = hello ] || fail "curl to www.b.test failed"
}

test_alpn() {
	setup || return $?
	local out
	# h2 first by default (listeners[].http2), http/1.1 for a client without it.
	out=$(openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername a.test \
		-alpn h2,http/1.1 </dev/null 2>/dev/null)
	grep -q 'ALPN protocol: h2' <<<"$out" || fail "ALPN: $(grep -i alpn <<<"$out")"
	out=$(openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername a.test \
		-alpn http/1.1 </dev/null 2>/dev/null)
	grep -q 'ALPN protocol: http/1.1' <<<"$out" || fail "ALPN: $(grep -i alpn <<<"$out")"
	out=$(openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername a.test </dev/null 2>&1)
	grep -q 'New, TLSv1.3' <<<"$out" || fail "not TLS 1.3 by default: $(grep -i tls <<<"$out")"
	out=$(openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername a.test -tls1_2 \
		</dev/null 2>&1)
	grep -q 'Protocol *: TLSv1.2' <<<"$out" || fail "TLS 1.2 refused"
	grep -q 'Cipher *: ECDHE-ECDSA-AES' <<<"$out" || fail "TLS 1.2 cipher: $(grep Cipher <<<"$out")"
}

# suite PORT CLIENT-SUITES: the TLS 1.3 suite a client offering CLIENT-SUITES gets.
suite() {
	openssl s_client -connect "127.0.0.1:$1" -servername a.test -tls1_3 -ciphersuites "$2" \
		</dev/null 2>/dev/null | sed -n 's/.*Cipher is \([A-Z0-9_]*\).*/\1/p' | head -n1
}

test_ciphersuites() {
	setup || return $?
	local got all=TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256
	# AES-128-GCM first by default, whatever the client's order...
	got=$(suite "$PINGD_PORT" "$all")
	[ "$got" = TLS_AES_128_GCM_SHA256 ] || fail "default suite: '$got'"
	# ... except for a client that puts ChaCha20-Poly1305 first (no AES instructions).
	got=$(suite "$PINGD_PORT" TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256)
	[ "$got" = TLS_CHACHA20_POLY1305_SHA256 ] || fail "ChaCha20 client: '$got'"
	got=$(suite "$PINGD_PORT" TLS_AES_256_GCM_SHA384)
	[ "$got" = TLS_AES_256_GCM_SHA384 ] || fail "AES-256 client: '$got'"
	log "default: AES-128-GCM; a ChaCha20-first client: ChaCha20; an AES-256-only one: AES-256"

	# A configured list is the server's order, and a suite it leaves out is refused.
	free_port || return 1
	sed -e "s|127.0.0.1:$LISTEN_PORT|127.0.0.1:$PORT|" -e '/^admin:/d' \
		-e 's|^      handshake_timeout: 1s|&\n      ciphersuites: TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256|' \
		"$TMPD/pingd.yaml" >"$TMPD/suites.yaml"
	grep -q 'ciphersuites:' "$TMPD/suites.yaml" || fail "sed"
	spawn bash -c "exec '$PINGD' -c '$TMPD/suites.yaml' 2>'$TMPD/suites.log'"
	wait_port 127.0.0.1 "$PORT" || fail "pingd did not start: $(cat "$TMPD/suites.log")"
	got=$(suite "$PORT" "$all")
	[ "$got" = TLS_AES_256_GCM_SHA384 ] || fail "configured suite: '$got'"
	got=$(suite "$PORT" TLS_CHACHA20_POLY1305_SHA256)
	[ -z "$got" ] || fail "a suite left out was negotiated: '$got'"
	[ "$(curl -sS --max-time 20 --cacert "$TMPD/a.crt" --tls13-ciphers TLS_AES_256_GCM_SHA384 \
		--resolve "a.test:$PORT:127.0.0.1" "https://a.test:$PORT/")" = hello ] ||
		fail "curl through the configured suites"

	# Unknown names and empty entries are refused at -t, where OpenSSL would skip them.
	local bad out
	for bad in 'TLS_AES_128_GCM_SHA256:NOPE' 'TLS_AES_128_GCM_SHA256:' \
		'TLS_AES_128_GCM_SHA256::TLS_AES_256_GCM_SHA384' 'ECDHE-ECDSA-AES128-GCM-SHA256'; do
		sed "s|^      ciphersuites: .*|      ciphersuites: '$bad'|" "$TMPD/suites.yaml" \
			>"$TMPD/bad.yaml"
		out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted ciphersuites '$bad'"
		grep -q "bad.yaml:[0-9]*: 'listeners\[\].tls': ciphersuites: " <<<"$out" ||
			fail "-t on '$bad': $out"
		log "$bad: $(grep -o 'ciphersuites: .*' <<<"$out")"
	done
	still_serving "suite checks"
}

test_old_protocols() {
	setup || return $?
	local v
	for v in -tls1_1 -tls1; do
		# The client is allowed the old versions, so only pingd can refuse them.
		if openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername a.test "$v" \
			-cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"$TMPD/old.out" 2>&1; then
			fail "$v accepted: $(grep -E 'Protocol|Cipher' "$TMPD/old.out")"
		fi
		grep -qE 'alert protocol version|no protocols available|unsupported protocol' \
			"$TMPD/old.out" || fail "$v: $(tail -n3 "$TMPD/old.out")"
		log "$v refused"
	done
	still_serving "old protocol versions"
}

test_keepalive_pipeline() {
	setup || return $?
	local out
	# Three HTTP/1.1 requests on one connection: curl reuses it.
	out=$(tcurl a.test "$TMPD/a.crt" / --http1.1 -v -o /dev/null -o /dev/null -o /dev/null \
		"https://a.test:$PINGD_PORT/" "https://a.test:$PINGD_PORT/" 2>&1)
	[ "$(grep -c '^< HTTP/1.1 200' <<<"$out")" = 3 ] || fail "keep-alive: $out"
	[ "$(grep -ci 're-using existing connection\|reusing existing' <<<"$out")" -ge 2 ] ||
		fail "the connection was not reused: $(grep -i connect <<<"$out")"
	out=$("${TLSTOOL[@]}" pipeline "$PINGD_PORT" "$TMPD/a.crt" a.test 10) ||
		fail "pipelining: $out"
	log "pipelined: $out"
}

# The last response, then a close_notify the client reads before the end of the stream: when
# the request was all the client sent (the connection closes at once) and when bytes follow it
# (the write side is shut, the rest read and dropped).
test_close_notify() {
	setup || return $?
	local out extra
	for extra in 0 100; do
		out=$("${TLSTOOL[@]}" closenotify "$PINGD_PORT" "$TMPD/a.crt" a.test $extra) ||
			fail "close with $extra bytes after the request: $out"
		log "close with $extra bytes after the request: $out"
	done
}

test_bad_handshakes() {
	setup || return $?
	local out
	out=$("${TLSTOOL[@]}" garbage "$PINGD_PORT") || fail "garbage: $out"
	log "garbage: $out"
	still_serving "garbage"
	out=$("${TLSTOOL[@]}" dribble "$PINGD_PORT" "$TMPD/a.crt" a.test) || fail "dribble: $out"
	log "one byte per write: $out"
	out=$("${TLSTOOL[@]}" truncated "$PINGD_PORT") || fail "truncated: $out"
	log "truncated: $out"
	still_serving "a truncated handshake"
	# A stalled client holds one connection until the handshake timeout; others go on.
	"${TLSTOOL[@]}" stall "$PINGD_PORT" >"$TMPD/stall.out" 2>&1 &
	local stall=$!
	on_exit "kill $stall 2>/dev/null"
	still_serving "a stalled handshake started"
	wait "$stall" || fail "stall: $(cat "$TMPD/stall.out")"
	log "stalled: $(cat "$TMPD/stall.out")"
	still_serving "a stalled handshake"
	# Counted on /metrics: completed handshakes, and the failures by reason.
	local m ok fails
	m=$(curl -s --max-time 10 "http://127.0.0.1:$ADMIN_PORT/metrics")
	grep '^pingd_tls_handshake' <<<"$m" | while read -r l; do log "$l"; done
	ok=$(awk '/^pingd_tls_handshakes_total/ {n += $2} END {print n + 0}' <<<"$m")
	[ "${ok:-0}" -ge 4 ] || fail "pingd_tls_handshakes_total: '$ok'"
	grep -q '^pingd_tls_handshake_failures_total{reason="not_tls"} [1-9]' <<<"$m" ||
		fail "the garbage was not counted as not_tls"
	fails=$(awk '/^pingd_tls_handshake_failures_total/ {n += $2} END {print n + 0}' <<<"$m")
	[ "$fails" -ge 3 ] || fail "failed handshakes counted: $fails, expected 3 or more"
}

# A client that completes its handshake and sends no request gets 408 once the header
# timeout (counted from the accept) is over, like a plain one; others are served meanwhile.
test_silent_client() {
	SETUP_YAML='timeouts: {client_header: 2s}' setup || return $?
	local out silent
	"${TLSTOOL[@]}" silent "$PINGD_PORT" "$TMPD/a.crt" a.test >"$TMPD/silent.out" 2>&1 &
	silent=$!
	on_exit "kill $silent 2>/dev/null"
	still_serving "a silent client connected"
	wait "$silent" || fail "silent: $(cat "$TMPD/silent.out")"
	out=$(cat "$TMPD/silent.out")
	log "a silent client after its handshake got: $out"
	[[ "$out" == "HTTP/1.1 408 "* ]] || fail "a silent client got '$out', not a 408"
	still_serving "a silent client"
}

test_large_bodies() {
	setup || return $?
	local sum got
	head -c 5000000 /dev/urandom >"$TMPD/big"
	sum=$(sha256sum <"$TMPD/big" | cut -d' ' -f1)
	got=$(tcurl a.test "$TMPD/a.crt" /up/big -T "$TMPD/big" -o /dev/null -w '%{http_code}')
	[[ "$got" == 20[14] ]] || fail "PUT of 5 MB over TLS: $got"
	[ "$(sha256sum <"$ORIGIN_ROOT/up/big" | cut -d' ' -f1)" = "$sum" ] ||
		fail "the origin stored other bytes"
	got=$(tcurl a.test "$TMPD/a.crt" /up/big | sha256sum | cut -d' ' -f1)
	[ "$got" = "$sum" ] || fail "GET of 5 MB over TLS: checksum differs"
	log "5 MB up and down, sha256 equal"
}

test_bad_certificates() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	free_port || return 1
	cat >"$TMPD/bad.yaml" <<YAML
listeners:
  - address: '127.0.0.1:$PORT'
    tls:
      certificates:
        - {cert: '$TMPD/a.crt', key: '$TMPD/a.key'}
        - {cert: '$TMPD/b.crt', key: '$TMPD/a.key'}
upstreams: [{name: o, servers: [{address: '127.0.0.1:9'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	local out
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted a key of another certificate"
	log "$out"
	grep -q "bad.yaml:6: 'listeners\[\].tls.certificates\[\]': .*a.key: the key does not match" \
		<<<"$out" || fail "-t: $out"
	sed -i "s|$TMPD/b.crt|$TMPD/missing.crt|" "$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted a missing file"
	grep -q "bad.yaml:6: .*missing.crt: No such file" <<<"$out" || fail "-t: $out"
	# At start: the same message, exit 1, nothing listening.
	out=$(timeout 20 "$PINGD" -c "$TMPD/bad.yaml" 2>&1) && fail "pingd started"
	grep -q "missing.crt: No such file" <<<"$out" || fail "start: $out"
	log "start: $(grep missing <<<"$out")"
}

# A reload whose certificate cannot be used keeps the running configuration and says why.
test_reload_bad_certificate() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	start_origin || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	PINGD_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
pidfile: '$TMPD/pingd.pid'
upgrade_socket: '$TMPD/pingd.sock'
listeners:
  - address: '127.0.0.1:$LISTEN_PORT'
    tls:
      certificates:
        - {cert: '$TMPD/a.crt', key: '$TMPD/a.key'}
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	spawn bash -c "exec '$PINGD' -c '$TMPD/pingd.yaml' 2>'$TMPD/pingd.log'"
	local pid=$SPAWNED_PID i
	wait_port 127.0.0.1 "$LISTEN_PORT" || fail "pingd did not start"
	still_serving "start"
	sed -i "s|key: '$TMPD/a.key'|key: '$TMPD/b.key'|" "$TMPD/pingd.yaml"
	kill -HUP "$pid"
	wait_grep 'the running configuration stays' "$TMPD/pingd.log" 200
	grep -q "pingd.yaml:8: 'listeners\[\].tls.certificates\[\]': .*b.key: the key does not match" \
		"$TMPD/pingd.log" || fail "reload: $(cat "$TMPD/pingd.log")"
	grep -q 'the running configuration stays' "$TMPD/pingd.log" ||
		fail "reload: $(cat "$TMPD/pingd.log")"
	log "$(grep -E 'does not match|stays' "$TMPD/pingd.log")"
	still_serving "a rejected reload"
	[ "$(served_cn a.test)" = a.test ] || fail "the certificate changed"
}

# The files of a certificate and its key replaced, then SIGHUP: new connections get the new
# certificate, and a response under way on a connection opened before (a 256 KB file the
# origin sends at 64 KB/s) is not cut.
test_reload_new_certificate() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/new" a.test >/dev/null || fail "openssl"
	cp "$TMPD/a.crt" "$TMPD/cur.crt" && cp "$TMPD/a.key" "$TMPD/cur.key" || fail "cp"
	start_origin || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	PINGD_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
upgrade_socket: '$TMPD/pingd.sock'
listeners:
  - address: '127.0.0.1:$LISTEN_PORT'
    tls:
      certificates:
        - {cert: '$TMPD/cur.crt', key: '$TMPD/cur.key'}
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	spawn bash -c "exec '$PINGD' -c '$TMPD/pingd.yaml' 2>'$TMPD/pingd.log'"
	local pid=$SPAWNED_PID i fp_a fp_new got
	wait_port 127.0.0.1 "$LISTEN_PORT" || fail "pingd did not start"
	fp_a=$(openssl x509 -in "$TMPD/a.crt" -noout -fingerprint -sha256)
	fp_new=$(openssl x509 -in "$TMPD/new.crt" -noout -fingerprint -sha256)
	mkdir -p "$ORIGIN_ROOT/slow" && head -c 262144 /dev/urandom >"$ORIGIN_ROOT/slow/big"
	# A keep-alive client: a request, then a slow one on the same connection.
	python3 - "$LISTEN_PORT" >"$TMPD/held.out" 2>&1 <<'PY' &
import hashlib, socket, ssl, sys
port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="a.test")
f = t.makefile("rb")
def get(path):
    t.sendall(b"GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n" % path)
    status = f.readline()
    n = 0
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        if h.lower().startswith(b"content-length:"):
            n = int(h.split(b":")[1])
    return status.split()[1].decode(), f.read(n)
status, body = get(b"/")
print("first", status, body.decode().strip(), flush=True)
status, body = get(b"/slow/big")
print("second", status, hashlib.sha256(body).hexdigest(), flush=True)
PY
	local holder=$!
	on_exit "kill $holder 2>/dev/null"
	wait_grep '^first' "$TMPD/held.out"
	grep -q '^first 200 hello' "$TMPD/held.out" || fail "first request: $(cat "$TMPD/held.out")"
	[ "$(served_fp)" = "$fp_a" ] || fail "not the first certificate before the reload"
	sleep 0.5 # the slow response under way
	cp "$TMPD/new.crt" "$TMPD/cur.crt" && cp "$TMPD/new.key" "$TMPD/cur.key" || fail "cp"
	kill -HUP "$pid"
	wait_grep 'reloaded:' "$TMPD/pingd.log" 200 || fail "no reload: $(cat "$TMPD/pingd.log")"
	got=$(served_fp)
	[ "$got" = "$fp_new" ] || fail "after the reload: '$got', expected the new certificate"
	kill -0 "$holder" 2>/dev/null || fail "the slow response was over before the reload"
	wait "$holder"
	grep -q "^second 200 $(sha256sum "$ORIGIN_ROOT/slow/big" | cut -d' ' -f1)" \
		"$TMPD/held.out" || fail "the response under way at the reload: $(cat "$TMPD/held.out")"
	[ "$(tcurl a.test "$TMPD/new.crt" / 2>&1)" = hello ] || fail "no answer after the reload"
	log "new connections get the new certificate; the response under way was not cut"
}

# The SHA-256 fingerprint of the certificate pingd shows for a.test, as openssl x509 says it.
served_fp() {
	openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername a.test </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null
}

test_oneline() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	start_origin || return 1
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" --workers 1 \
		--tls-cert "$TMPD/a.crt" --tls-key "$TMPD/a.key" \
		--tls-cert "$TMPD/b.crt" --tls-key "$TMPD/b.key" || return 1
	[ "$(tcurl a.test "$TMPD/a.crt" /)" = hello ] || fail "one-line mode: a.test"
	[ "$(tcurl z.b.test "$TMPD/b.crt" /)" = hello ] || fail "one-line mode: z.b.test"
	local out
	out=$("$PINGD" --listen 127.0.0.1:1 --upstream 127.0.0.1:2 --tls-cert "$TMPD/a.crt" 2>&1)
	[ $? = 2 ] || fail "an unpaired --tls-cert: $out"
}

run_tests "$@"
