#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Client certificates (mTLS) on a pingd listener, with a CA and certificates made for the
# test: required (no certificate, an unknown one and an expired one refused with their
# alerts, each counted), optional (with a route
# that requires one), the verified subject, SAN and fingerprint as request headers to an echo
# origin (a client's forged copies replaced), resumption keeping them, and the configuration
# errors; and the server's chain sent as its file holds it, whatever the client CA file has.

ALL_TESTS="test_required test_optional_route test_resumed_identity test_chain_as_given \
 test_config_errors"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# A CA, a client certificate it signed (alice), one it signed that expired in 2020 (bob), a
# self-signed one (rogue), and the server's.
make_certs() {
	local d=$TMPD
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj /CN=test-ca -keyout "$d/ca.key" -out "$d/ca.crt" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || fail "openssl ca"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=alice/O=pingx" -keyout "$d/alice.key" -out "$d/alice.csr" 2>/dev/null ||
		fail "openssl csr"
	printf 'subjectAltName=DNS:alice.test,email:alice@example.test\nextendedKeyUsage=clientAuth\n' \
		>"$d/alice.ext"
	openssl x509 -req -in "$d/alice.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -days 30 -extfile "$d/alice.ext" -out "$d/alice.crt" 2>/dev/null ||
		fail "openssl sign"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=bob" -keyout "$d/bob.key" -out "$d/bob.csr" 2>/dev/null || fail "bob csr"
	: >"$d/index.txt"
	echo 01 >"$d/serial"
	printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s\nnew_certs_dir = %s\nserial = %s\n%s\n' \
		"$d/index.txt" "$d" "$d/serial" \
		'default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied' >"$d/ca.cnf"
	openssl ca -batch -config "$d/ca.cnf" -cert "$d/ca.crt" -keyfile "$d/ca.key" \
		-in "$d/bob.csr" -out "$d/bob.crt" -startdate 20200101000000Z \
		-enddate 20200201000000Z -notext >/dev/null 2>&1 || fail "openssl ca (expired)"
	openssl verify -CAfile "$d/ca.crt" "$d/bob.crt" 2>&1 | grep -q 'certificate has expired' ||
		fail "bob's certificate is not an expired one"
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$d/rogue" alice.test >/dev/null || fail "rogue"
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$d/srv" a.test >/dev/null || fail "server"
}

# pingd with client_verify MODE in front of an echo origin; routes: / and /private (which
# requires a verified certificate).
setup() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	start_pyorigin echo || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	free_port || return 1
	ADMIN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 2
admin: {address: '127.0.0.1:$ADMIN_PORT'}
listeners:
  - address: '127.0.0.1:$LISTEN_PORT'
    tls:
      certificates: [{cert: '$TMPD/srv.crt', key: '$TMPD/srv.key'}]
      client_verify: $1
      client_ca: '$TMPD/ca.crt'
      client_cert_headers: true
upstreams: [{name: o, servers: [{address: '127.0.0.1:$PYO_PORT'}]}]
virtual_hosts:
  - name: v
    hosts: '*'
    routes:
      - {path: /private, upstream: o, client_cert: true}
      - {path: /, upstream: o}
YAML
	start_pingd -c "$TMPD/pingd.yaml"
}

# curl to pingd as a.test: mcurl PATH [curl args...]
mcurl() {
	local path=$1
	shift
	curl -sS --max-time 20 --cacert "$TMPD/srv.crt" --resolve "a.test:$PINGD_PORT:127.0.0.1" \
		"$@" "https://a.test:$PINGD_PORT$path"
}


metric() {
	curl -s --max-time 10 "http://127.0.0.1:$ADMIN_PORT/metrics" |
		awk -v k="$1" '$1 == k {print $2}'
}

# The echoed request head has header NAME with a value matching the extended regex RE.
has_header() {
	grep -qiE "^$2: $3"$'\r'"?$" <<<"$1" || fail "$2: $(grep -i "^$2:" <<<"$1" || echo none)"
}

# refused WHAT ALERT [s_client args...]: a TLS 1.3 handshake with these client credentials
# fails, the client reads the alert ALERT (openssl's words for it), and the client_cert
# failures counter grows by one.
refused() {
	local what=$1 alert=$2 out before after
	shift 2
	before=$(metric 'pingd_tls_handshake_failures_total{reason="client_cert"}')
	out=$(printf 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' |
		timeout 20 openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername a.test \
			-tls1_3 -ign_eof "$@" 2>&1)
	grep -q '^HTTP/1.1 ' <<<"$out" && fail "$what: served: $out"
	grep -q "alert $alert" <<<"$out" || fail "$what: not the alert '$alert': $out"
	after=$(metric 'pingd_tls_handshake_failures_total{reason="client_cert"}')
	[ "$((${after:-0} - ${before:-0}))" = 1 ] ||
		fail "$what: client_cert failures went from '$before' to '$after'"
	log "$what: $(grep -o "alert $alert" <<<"$out" | head -n1)"
}

test_required() {
	setup required || return $?
	local out fpr
	refused "no certificate" 'certificate required'
	refused "unknown CA" 'unknown ca' -cert "$TMPD/rogue.crt" -key "$TMPD/rogue.key"
	refused "expired" 'certificate expired' -cert "$TMPD/bob.crt" -key "$TMPD/bob.key"
	out=$(mcurl / --cert "$TMPD/alice.crt" --key "$TMPD/alice.key" \
		-H 'X-Client-Subject: CN=mallory') || fail "alice: $out"
	has_header "$out" X-Client-Verify SUCCESS
	has_header "$out" X-Client-Subject '(O=pingx,CN=alice|CN=alice,O=pingx)'
	has_header "$out" X-Client-SAN 'DNS:alice.test, email:alice@example.test'
	fpr=$(openssl x509 -in "$TMPD/alice.crt" -noout -fingerprint -sha256 | cut -d= -f2)
	has_header "$out" X-Client-Fingerprint "$fpr"
	[ "$(grep -ci '^X-Client-Subject:' <<<"$out")" = 1 ] || fail "the forged subject passed"
	grep -qi mallory <<<"$out" && fail "the forged subject passed"
	# A refused handshake affected nothing else: alice is still served.
	mcurl / --cert "$TMPD/alice.crt" --key "$TMPD/alice.key" -o /dev/null || fail "alice again"
}

test_optional_route() {
	setup optional || return $?
	local out
	out=$(mcurl /) || fail "no certificate, optional: $out"
	has_header "$out" X-Client-Verify NONE
	grep -qi '^X-Client-Subject' <<<"$out" && fail "a subject without a certificate"
	[ "$(mcurl /private -o /dev/null -w '%{http_code}')" = 403 ] ||
		fail "/private without a certificate"
	out=$(mcurl /private --cert "$TMPD/alice.crt" --key "$TMPD/alice.key") ||
		fail "/private with alice: $out"
	has_header "$out" X-Client-Verify SUCCESS
	# Optional still verifies what is given.
	out=$(mcurl / --cert "$TMPD/rogue.crt" --key "$TMPD/rogue.key" 2>&1) &&
		fail "served an unknown client certificate: $out"
	return 0
}

# A resumed session keeps the identity verified in the full handshake.
test_resumed_identity() {
	setup required || return $?
	local v out
	for v in -tls1_2 -tls1_3; do
		printf 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' |
			timeout 20 openssl s_client -connect "127.0.0.1:$PINGD_PORT" \
				-servername a.test "$v" -ign_eof -cert "$TMPD/alice.crt" \
				-key "$TMPD/alice.key" -sess_out "$TMPD/s$v" >"$TMPD/full.out" 2>&1
		grep -q '^New,' "$TMPD/full.out" || fail "$v: $(tail -n3 "$TMPD/full.out")"
		out=$(printf 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' |
			timeout 20 openssl s_client -connect "127.0.0.1:$PINGD_PORT" \
				-servername a.test "$v" -ign_eof -sess_in "$TMPD/s$v" 2>&1)
		grep -q '^Reused,' <<<"$out" || fail "$v not resumed"
		grep -q 'X-Client-Subject: .*CN=alice' <<<"$out" ||
			fail "$v: no identity after resumption: $(grep -i x-client <<<"$out")"
	done
	log "resumed sessions (TLS 1.2, 1.3) carry CN=alice"
}

# certs_sent NAME: how many certificates pingd sends for SNI name NAME.
certs_sent() {
	timeout 20 openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername "$1" -showcerts \
		</dev/null 2>/dev/null | grep -c 'BEGIN CERTIFICATE'
}

# A server certificate signed by the client CA: pingd sends what its file holds, the leaf
# alone or the leaf and the CA, and never completes a chain from the client CA file.
test_chain_as_given() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	local d=$TMPD n
	for n in c d; do
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n.test" \
			-keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null || fail "$n csr"
		printf 'subjectAltName=DNS:%s.test\n' "$n" >"$d/$n.ext"
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
			-days 30 -extfile "$d/$n.ext" -out "$d/$n.crt" 2>/dev/null || fail "$n sign"
	done
	cat "$d/d.crt" "$d/ca.crt" >"$d/d.chain"
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$d/pingd.yaml" <<YAML
listeners:
  - address: '127.0.0.1:$LISTEN_PORT'
    tls:
      certificates:
        - {cert: '$d/c.crt', key: '$d/c.key'}
        - {cert: '$d/d.chain', key: '$d/d.key'}
      client_verify: optional
      client_ca: '$d/ca.crt'
upstreams: [{name: o, servers: [{address: '127.0.0.1:2'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	start_pingd -c "$d/pingd.yaml" || return 1
	n=$(certs_sent c.test)
	[ "$n" = 1 ] || fail "a leaf alone: $n certificates sent"
	n=$(certs_sent d.test)
	[ "$n" = 2 ] || fail "a leaf and its CA: $n certificates sent"
	log "c.test: 1 certificate sent, d.test: 2"
}

test_config_errors() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	local out
	cat >"$TMPD/bad.yaml" <<YAML
listeners:
  - address: '127.0.0.1:1'
    tls:
      certificates: [{cert: '$TMPD/srv.crt', key: '$TMPD/srv.key'}]
      client_verify: required
upstreams: [{name: o, servers: [{address: '127.0.0.1:2'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted client_verify without a CA"
	grep -q "client certificates need a CA file" <<<"$out" || fail "no CA: $out"
	sed -i "s|client_verify: required|client_verify: sometimes|" "$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted client_verify: sometimes"
	grep -q "bad.yaml:5: 'listeners\[\].tls.client_verify'" <<<"$out" || fail "enum: $out"
	sed -i "s|client_verify: sometimes|client_verify: optional\n      client_ca: '$TMPD/nope.pem'|" \
		"$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted a missing CA file"
	grep -q "nope.pem: No such file" <<<"$out" || fail "missing CA: $out"
}

run_tests "$@"
