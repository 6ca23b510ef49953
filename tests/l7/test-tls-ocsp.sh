#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# OCSP stapling from a response file, with a CA, a certificate and responses made for the
# test by `openssl ocsp`: stapled when the client asks (openssl s_client -status), re-read on
# reload (good, then revoked), files that cannot be stapled refused at -t and on reload.

ALL_TESTS="test_stapled test_reload test_bad_responses"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# A CA, a.test signed by it (a.chain: with the CA), and b.test signed by it too.
make_certs() {
	local d=$TMPD n serial=4096
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj /CN=test-ca -keyout "$d/ca.key" -out "$d/ca.crt" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature 2>/dev/null ||
		fail "openssl ca"
	for n in a b; do
		serial=$((serial + 1))
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=$n.test" -keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null
		echo "subjectAltName=DNS:$n.test" >"$d/$n.ext"
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-set_serial "$serial" -days 30 -extfile "$d/$n.ext" -out "$d/$n.crt" \
			2>/dev/null || fail "openssl sign $n"
		cat "$d/$n.crt" "$d/ca.crt" >"$d/$n.chain"
	done
}

# respond CERT STATUS(V|R) OUT: an OCSP response for CERT signed by the CA, valid a day.
respond() {
	local serial exp subj
	serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
	subj=$(openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//')
	exp=$(date -u -d '+30 days' +%y%m%d%H%M%SZ)
	if [ "$2" = R ]; then
		printf 'R\t%s\t%s\t%s\tunknown\t%s\n' "$exp" "$(date -u +%y%m%d%H%M%SZ)" \
			"$serial" "$subj" >"$TMPD/index.txt"
	else
		printf 'V\t%s\t\t%s\tunknown\t%s\n' "$exp" "$serial" "$subj" >"$TMPD/index.txt"
	fi
	openssl ocsp -index "$TMPD/index.txt" -rsigner "$TMPD/ca.crt" -rkey "$TMPD/ca.key" \
		-CA "$TMPD/ca.crt" -issuer "$TMPD/ca.crt" -cert "$1" -respout "$3" -ndays 1 \
		>/dev/null 2>&1 || fail "openssl ocsp"
}

setup() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	respond "$TMPD/a.crt" V "$TMPD/a.ocsp"
	start_origin || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
listeners:
  - address: '127.0.0.1:$LISTEN_PORT'
    tls:
      certificates:
        - {cert: '$TMPD/a.chain', key: '$TMPD/a.key', ocsp: '$TMPD/a.ocsp'}
        - {cert: '$TMPD/b.chain', key: '$TMPD/b.key'}
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	: >"$TMPD/pingd.log"
	spawn bash -c "exec '$PINGD' -c '$TMPD/pingd.yaml' 2>>'$TMPD/pingd.log'"
	PINGD_PID=$SPAWNED_PID
	PINGD_PORT=$LISTEN_PORT
	wait_port 127.0.0.1 "$LISTEN_PORT" || fail "pingd did not start: $(cat "$TMPD/pingd.log")"
}

# What s_client -status reports for SNI NAME: "good", "revoked" or "none".
staple() {
	local out
	out=$(timeout 20 openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername "$1" \
		-status -CAfile "$TMPD/ca.crt" </dev/null 2>&1)
	grep -q 'Verify return code: 0 (ok)' <<<"$out" || { echo "unverified"; return; }
	if grep -q 'OCSP response: no response sent' <<<"$out"; then
		echo none
	else
		grep -q 'OCSP Response Status: successful' <<<"$out" || { echo bad; return; }
		sed -n 's/^ *Cert Status: //p' <<<"$out" | head -n1
	fi
}

# reload EXPECT: SIGHUP, then wait for EXPECT in the log.
reload() {
	local n i
	n=$(grep -c "$1" "$TMPD/pingd.log")
	kill -HUP "$PINGD_PID"
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c "$1" "$TMPD/pingd.log")" -gt "$n" ] && return 0
		sleep 0.1
	done
	fail "no '$1' after SIGHUP: $(cat "$TMPD/pingd.log")"
}

test_stapled() {
	setup || return $?
	local st
	st=$(staple a.test)
	[ "$st" = good ] || fail "a.test: '$st'"
	st=$(staple b.test)
	[ "$st" = none ] || fail "b.test (no response configured): '$st'"
	# A client that does not ask gets none, and is served.
	[ "$(curl -s --max-time 10 --cacert "$TMPD/ca.crt" \
		--resolve "a.test:$PINGD_PORT:127.0.0.1" "https://a.test:$PINGD_PORT/")" = hello ] ||
		fail "curl"
	log "a.test: good; b.test: none"
}

test_reload() {
	setup || return $?
	[ "$(staple a.test)" = good ] || fail "not good at start"
	respond "$TMPD/a.crt" R "$TMPD/a.ocsp"
	reload 'reloaded:'
	local st
	st=$(staple a.test)
	[ "$st" = revoked ] || fail "after reload: '$st'"
	# A file that cannot be stapled: the reload is refused, the last response stays.
	echo garbage >"$TMPD/a.ocsp"
	reload 'the running configuration stays'
	grep -q "a.ocsp: not a DER OCSP response" "$TMPD/pingd.log" ||
		fail "no reason: $(cat "$TMPD/pingd.log")"
	st=$(staple a.test)
	[ "$st" = revoked ] || fail "after a refused reload: '$st'"
	log "good -> revoked on reload; a garbage file keeps revoked"
}

test_bad_responses() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	make_certs
	respond "$TMPD/b.crt" V "$TMPD/b.ocsp"
	cat >"$TMPD/bad.yaml" <<YAML
listeners:
  - address: '127.0.0.1:1'
    tls:
      certificates:
        - {cert: '$TMPD/a.chain', key: '$TMPD/a.key', ocsp: '$TMPD/b.ocsp'}
upstreams: [{name: o, servers: [{address: '127.0.0.1:2'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	local out
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted b's response for a"
	grep -q "bad.yaml:5: .*b.ocsp: the OCSP response is not about .*a.chain" <<<"$out" ||
		fail "other certificate: $out"
	sed -i "s|b.ocsp|missing.ocsp|" "$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted a missing file"
	grep -q "missing.ocsp: No such file" <<<"$out" || fail "missing: $out"
	# Without its issuer in the chain the response cannot be checked.
	respond "$TMPD/a.crt" V "$TMPD/a.ocsp"
	sed -i "s|a.chain|a.crt|; s|missing.ocsp|a.ocsp|" "$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted a chain without issuer"
	grep -q "the issuer of .*a.crt is not in its chain" <<<"$out" || fail "issuer: $out"
	head -c 300 /dev/urandom >"$TMPD/a.ocsp"
	sed -i "s|a.crt|a.chain|" "$TMPD/bad.yaml"
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1) && fail "-t accepted random bytes"
	grep -q "not a DER OCSP response" <<<"$out" || fail "random bytes: $out"
}

run_tests "$@"
