#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# TLS to upstream servers (https://) with nginx as the https origin and certificates made for
# the test: verification against a CA file, SNI, keep-alive connections reused from the pool,
# sessions resumed on new connections, a client certificate for an origin that asks for one,
# certificates refused (unknown CA, wrong name) as 502 with the reason in the log, and
# configuration errors.

ALL_TESTS="test_https_origin test_session_reuse test_refused_certificates test_client_cert \
 test_server_names test_health_checks test_config_errors"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# An nginx https origin on a free port with certificate origin.test (files in $TMPD), its
# access log in $TMPD/https/access.log: "SNI reused protocol connection status suite". With a CA
# file (under $TMPD) as the argument it asks for client certificates. Sets HTTPS_PORT.
# ORIGIN_CERT names another certificate of $TMPD, whose origin lives in $TMPD/https-NAME.
https_origin() {
	local cert=${ORIGIN_CERT:-origin} d=$TMPD/https verify=""
	[ "$cert" = origin ] || d=$TMPD/https-$cert
	free_port || return 1
	HTTPS_PORT=$PORT
	mkdir -p "$d/logs" "$d/html" "$d/tmp"
	chmod 777 "$d/tmp" "$d/logs"
	echo hello >"$d/html/index.html"
	[ -n "${1:-}" ] && verify="ssl_verify_client on; ssl_client_certificate $TMPD/$1;"
	cat >"$d/nginx.conf" <<NGINX
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 1024; }
http {
	log_format t '\$ssl_server_name \$ssl_session_reused \$ssl_protocol \$connection \$status \$ssl_cipher';
	access_log $d/access.log t;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	keepalive_timeout 120s;
	server {
		listen 127.0.0.1:$HTTPS_PORT ssl;
		ssl_certificate $TMPD/$cert.crt;
		ssl_certificate_key $TMPD/$cert.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		$verify
		root $d/html;
		location = /status { stub_status; }
	}
}
NGINX
	spawn nginx -c "$d/nginx.conf" -p "$d" -g 'daemon off;'
	wait_port 127.0.0.1 "$HTTPS_PORT" || fail "nginx https origin did not start"
}

# Certificates: origin.test (the origin's), other.test (an unrelated CA), client.test (the
# client certificate pingd presents).
make_certs() {
	local n
	for n in origin other client; do
		bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/$n" "$n.test" >/dev/null ||
			fail "openssl $n"
	done
}

# pingd in front of the https origin, the upstream's tls: settings from the argument (a YAML
# flow mapping), its keepalive from the second and its health: from the third; the log in
# $TMPD/pingd.log. SERVERS (the items of a YAML flow sequence) replaces the origin as the
# pool's servers, POOL (YAML flow mapping entries) adds to the pool's settings.
start_proxy() {
	local servers=${SERVERS:-"{address: 'https://127.0.0.1:$HTTPS_PORT'}"}
	free_port || return 1
	LISTEN_PORT=$PORT
	free_port || return 1
	ADMIN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
admin: {address: '127.0.0.1:$ADMIN_PORT'}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams:
  - {name: o, keepalive: ${2:-32}, tls: $1, health: ${3:-{\}}, ${POOL:-}
     servers: [$servers]}
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	: >"$TMPD/pingd.log"
	spawn bash -c "exec '$PINGD' -c '$TMPD/pingd.yaml' 2>>'$TMPD/pingd.log'"
	PINGD_PID=$SPAWNED_PID
	PINGD_PORT=$LISTEN_PORT
	wait_port 127.0.0.1 "$LISTEN_PORT" || fail "pingd did not start: $(cat "$TMPD/pingd.log")"
}

setup() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	https_origin "$@"
}

# Requests over one pooled TLS connection, SNI and verification against the CA file.
test_https_origin() {
	setup || return $?
	start_proxy "{ca: '$TMPD/origin.crt', sni: origin.test}"
	local i out
	for ((i = 0; i < 5; i++)); do
		out=$(curl -s --max-time 10 "http://127.0.0.1:$PINGD_PORT/")
		[ "$out" = hello ] || fail "request $i: '$out' $(tail -n3 "$TMPD/pingd.log")"
	done
	log "access log: $(sort "$TMPD/https/access.log" | uniq -c | tr '\n' ';')"
	grep -qv '^origin.test ' "$TMPD/https/access.log" && fail "SNI not sent as origin.test"
	# One connection carried them all.
	[ "$(awk '{print $4}' "$TMPD/https/access.log" | sort -u | wc -l)" = 1 ] ||
		fail "the pooled TLS connection was not reused"
	# The suite pingd prefers, which nginx (the client's order by default) takes.
	[ "$(awk '{print $3, $6}' "$TMPD/https/access.log" | sort -u)" = \
		"TLSv1.3 TLS_AES_128_GCM_SHA256" ] || fail "suite: $(awk '{print $3, $6}' \
		"$TMPD/https/access.log" | sort -u)"
}

# With no idle connections kept, each request opens a TLS connection: after the first, each
# resumes the session the origin gave.
test_session_reuse() {
	setup || return $?
	start_proxy "{ca: '$TMPD/origin.crt', sni: origin.test}" 0
	local i
	for ((i = 0; i < 4; i++)); do
		[ "$(curl -s --max-time 10 "http://127.0.0.1:$PINGD_PORT/")" = hello ] ||
			fail "request $i"
	done
	log "access log: $(tr '\n' ';' <"$TMPD/https/access.log")"
	[ "$(awk '{print $4}' "$TMPD/https/access.log" | sort -u | wc -l)" = 4 ] ||
		fail "expected 4 connections"
	[ "$(awk 'NR > 1 && $2 == "r"' "$TMPD/https/access.log" | wc -l)" = 3 ] ||
		fail "the later connections did not resume"
	[ "$(metric 'pingd_tls_upstream_handshakes_total{kind="resumed"}')" = 3 ] ||
		fail "resumed upstream handshakes: $(metric 'pingd_tls_upstream_handshakes_total{kind="resumed"}')"
	# Off: every connection is a full handshake.
	kill "$PINGD_PID"
	wait "$PINGD_PID" 2>/dev/null
	: >"$TMPD/https/access.log"
	start_proxy "{ca: '$TMPD/origin.crt', sni: origin.test, session_reuse: false}" 0
	for ((i = 0; i < 3; i++)); do
		curl -s --max-time 10 "http://127.0.0.1:$PINGD_PORT/" >/dev/null
	done
	grep -q ' r TLS' "$TMPD/https/access.log" && fail "resumed with session_reuse: false"
	return 0
}

# The value of a /metrics sample: metric NAME{LABELS}
metric() {
	curl -s --max-time 10 "http://127.0.0.1:$ADMIN_PORT/metrics" |
		awk -v k="$1" '$1 == k {print $2}'
}

# wait_log PATTERN: wait for a line of pingd's log.
wait_log() {
	wait_grep "$1" "$TMPD/pingd.log" || fail "no '$1' in the log: $(cat "$TMPD/pingd.log")"
}

test_refused_certificates() {
	setup || return $?
	local code
	# A CA that did not sign the origin's certificate.
	start_proxy "{ca: '$TMPD/other.crt', sni: origin.test}"
	code=$(http_status /)
	[ "$code" = 502 ] || fail "unknown CA: got $code"
	wait_log "upstream 127.0.0.1:$HTTPS_PORT: TLS: the server's certificate is refused: self-signed certificate"
	log "$(grep refused "$TMPD/pingd.log" | head -n1)"
	[ "$(metric 'pingd_tls_upstream_handshake_failures_total{reason="verify"}')" -ge 1 ] ||
		fail "refused certificates not counted"
	kill "$PINGD_PID"
	# The right CA, the wrong name.
	start_proxy "{ca: '$TMPD/origin.crt', sni: origin.test, verify_hostname: www.origin.test}"
	code=$(http_status /)
	[ "$code" = 502 ] || fail "wrong name: got $code"
	wait_log "refused: hostname mismatch (expected www.origin.test)"
	kill "$PINGD_PID"
	# No SNI and no name: the certificate is checked for the server's IP address.
	start_proxy "{ca: '$TMPD/origin.crt'}"
	code=$(http_status /)
	[ "$code" = 502 ] || fail "IP address: got $code"
	wait_log "refused: IP address mismatch (expected 127.0.0.1)"
	kill "$PINGD_PID"
	# The system's CA store by default (one-line mode too) knows nothing of this one.
	free_port || return 1
	spawn bash -c "exec '$PINGD' --listen 127.0.0.1:$PORT --upstream https://127.0.0.1:$HTTPS_PORT --workers 1 2>>'$TMPD/pingd.log'"
	wait_port 127.0.0.1 "$PORT" || fail "one-line pingd did not start"
	PINGD_PORT=$PORT
	code=$(http_status /)
	[ "$code" = 502 ] || fail "system CA store: got $code"
	# verify: false takes any certificate.
	start_proxy "{verify: false}"
	code=$(http_status /)
	[ "$code" = 200 ] || fail "verify: false: got $code"
	[ "$(awk '$5 == 200' "$TMPD/https/access.log" | wc -l)" = 1 ] || fail "origin log"
}

test_client_cert() {
	setup client.crt || return $?
	local code
	start_proxy "{ca: '$TMPD/origin.crt', sni: origin.test}"
	code=$(http_status /)
	[ "$code" = 400 ] || fail "no client certificate: got $code (nginx answers 400)"
	kill "$PINGD_PID"
	start_proxy "{ca: '$TMPD/origin.crt', sni: origin.test, cert: '$TMPD/client.crt', key: '$TMPD/client.key'}"
	code=$(http_status /)
	[ "$code" = 200 ] || fail "client certificate: got $code"
	kill "$PINGD_PID"
	start_proxy "{ca: '$TMPD/origin.crt', sni: origin.test, cert: '$TMPD/other.crt', key: '$TMPD/other.key'}"
	code=$(http_status /)
	[ "$code" = 400 ] || fail "a certificate the origin does not trust: got $code"
}

# Active checks of an https:// server speak TLS with the pool's verification: an HTTP check's
# request reaches the origin over TLS (its 404 takes the server down, nginx's plain-HTTP-on-a-
# TLS-port answer would be a 400), a reload to a good path brings it up, and a certificate the
# pool's CA did not sign fails a TCP check.
test_health_checks() {
	setup || return $?
	local hc="{check: http, path: /nope, interval: 300ms, timeout: 250ms, rise: 1, fall: 1}"
	start_proxy "{ca: '$TMPD/origin.crt', sni: origin.test}" 32 "$hc"
	wait_log "health: o/127.0.0.1:$HTTPS_PORT is down (HTTP 404 not in 200-399)"
	grep -q '^origin.test .* 404 ' "$TMPD/https/access.log" ||
		fail "no probe with SNI origin.test in the origin's log: $(tail -n3 "$TMPD/https/access.log")"
	sed -i "s|path: /nope|path: /index.html|" "$TMPD/pingd.yaml"
	kill -HUP "$PINGD_PID"
	wait_log "health: o/127.0.0.1:$HTTPS_PORT is up (HTTP 200)"
	log "$(grep 'health: ' "$TMPD/pingd.log" | tr '\n' ';')"
	kill "$PINGD_PID"
	wait "$PINGD_PID" 2>/dev/null
	start_proxy "{ca: '$TMPD/other.crt', sni: origin.test}" 32 \
		"{check: tcp, interval: 300ms, timeout: 250ms, rise: 1, fall: 1}"
	wait_log "health: o/127.0.0.1:$HTTPS_PORT is down (connect (TLS): "
	wait_log "TLS: the server's certificate is refused"
	log "$(grep 'is down' "$TMPD/pingd.log" | head -n1)"
}

# Two servers of one pool with certificates for different names, each given its own SNI
# name (which it sees) and verified name (which its certificate must carry).
test_server_names() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	local n port_a port_b i code out
	for n in a b; do
		bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/$n" "$n.test" >/dev/null ||
			fail "openssl $n"
		ORIGIN_CERT=$n https_origin || return 1
		printf -v "port_$n" %s "$HTTPS_PORT"
	done
	cat "$TMPD/a.crt" "$TMPD/b.crt" >"$TMPD/ab.crt"
	# Every request to its server, none retried on the other or held back.
	local POOL="retries: 0, passive: {max_fails: 0},"
	# The pool's names alone (sni: a.test) do not fit b.test's server.
	SERVERS="{address: 'https://127.0.0.1:$port_a'}, {address: 'https://127.0.0.1:$port_b'}" \
		start_proxy "{ca: '$TMPD/ab.crt', sni: a.test}"
	for ((i = 0; i < 4; i++)); do
		http_status / >/dev/null
	done
	wait_log "upstream 127.0.0.1:$port_b: TLS: the server's certificate is refused: .*(expected a.test)"
	kill "$PINGD_PID"
	# Each server's own SNI name: both serve, each saw its name.
	: >"$TMPD/https-a/access.log"
	: >"$TMPD/https-b/access.log"
	SERVERS="{address: 'https://127.0.0.1:$port_a'}, {address: 'https://127.0.0.1:$port_b', sni: b.test}" \
		start_proxy "{ca: '$TMPD/ab.crt', sni: a.test}"
	for ((i = 0; i < 4; i++)); do
		code=$(http_status /)
		[ "$code" = 200 ] || fail "request $i: $code $(tail -n3 "$TMPD/pingd.log")"
	done
	for n in a b; do
		out=$(awk '{print $1, $5}' "$TMPD/https-$n/access.log" | sort | uniq -c)
		log "$n.test origin: $out"
		[ "$(awk -v n="$n.test" '$1 == n && $5 == 200' "$TMPD/https-$n/access.log" |
			wc -l)" = 2 ] || fail "$n.test's origin: $out"
	done
	grep -q refused "$TMPD/pingd.log" && fail "refused: $(grep refused "$TMPD/pingd.log")"
	kill "$PINGD_PID"
	# A server's verify_hostname overrides its SNI name for the check, and only its own.
	SERVERS="{address: 'https://127.0.0.1:$port_a', sni: a.test}, {address: 'https://127.0.0.1:$port_b', sni: b.test, verify_hostname: c.test}" \
		start_proxy "{ca: '$TMPD/ab.crt'}"
	for ((i = 0; i < 4; i++)); do
		http_status / >/dev/null
	done
	wait_log "upstream 127.0.0.1:$port_b: TLS: the server's certificate is refused: hostname mismatch (expected c.test)"
	grep -q "upstream 127.0.0.1:$port_a: TLS" "$TMPD/pingd.log" &&
		fail "a.test refused: $(grep "127.0.0.1:$port_a: TLS" "$TMPD/pingd.log")"
	return 0
}

test_config_errors() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	local out
	cat >"$TMPD/bad.yaml" <<YAML
listeners: [{address: '127.0.0.1:1'}]
upstreams:
  - name: o
    tls: {cert: '$TMPD/client.crt'}
    servers: [{address: 'https://127.0.0.1:2'}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted a cert without key"
	grep -q "bad.yaml:3: 'upstreams\[\].tls': cert and key go together" <<<"$out" ||
		fail "cert without key: $out"
	sed -i "s|{cert: '$TMPD/client.crt'}|{ca: '$TMPD/missing.pem'}|" "$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted a missing CA file"
	grep -q "bad.yaml:3: 'upstreams\[\].tls': $TMPD/missing.pem" <<<"$out" ||
		fail "missing CA: $out"
	sed -i "s|{ca: '$TMPD/missing.pem'}|{cert: '$TMPD/client.crt', key: '$TMPD/other.key'}|" \
		"$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted a key of another cert"
	log "$out"
	sed -i "s|https://127.0.0.1:2|https://:2|" "$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted https://:2"
	grep -q "bad.yaml:5:" <<<"$out" || fail "https://:2: $out"
	# Names for TLS on a server that does not speak it.
	cp "$TMPD/bad.yaml" "$TMPD/names.yaml"
	sed -i "s|https://:2'}|http://127.0.0.1:2', sni: a.test}|" "$TMPD/names.yaml"
	out=$("$PINGD" -t -c "$TMPD/names.yaml" 2>&1) && fail "-t accepted sni on a plain server"
	grep -q "names.yaml:5: 'upstreams\[\].servers\[\].sni': only for servers written https://" \
		<<<"$out" || fail "sni on a plain server: $out"
	sed -i "s|sni: a.test|verify_hostname: a.test|" "$TMPD/names.yaml"
	out=$("$PINGD" -t -c "$TMPD/names.yaml" 2>&1) && fail "-t accepted verify_hostname on a plain server"
	grep -q "'upstreams\[\].servers\[\].verify_hostname': only for servers written https://" \
		<<<"$out" || fail "verify_hostname on a plain server: $out"
	# A plain server next to it needs no TLS settings; http:// is plain.
	sed -i "s|https://:2|http://127.0.0.1:2|; s|tls: .*|tls: {}|" "$TMPD/bad.yaml"
	"$PINGD" -t -c "$TMPD/bad.yaml" >/dev/null 2>&1 || fail "http:// refused"
	"$PINGD" --dump-config -c "$TMPD/bad.yaml" | grep -q "address: '127.0.0.1:2'" ||
		fail "http:// dumped as $("$PINGD" --dump-config -c "$TMPD/bad.yaml" | grep 'address')"
}

run_tests "$@"
