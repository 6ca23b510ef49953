#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Debian's testssl.sh against a pingd TLS listener (RSA and ECDSA certificates, tickets on):
# protocols, ciphers, server defaults and the known vulnerabilities, with no finding of
# severity HIGH or CRITICAL about pingd. Findings about the throwaway certificate the test
# makes (self-signed, short-lived, no CRL or OCSP URI, not issued for 127.0.0.1) are the
# operator's to fix with a real one, and are printed but not counted. testssl.sh runs in the
# test's temporary directory and writes its JSON and output there, removed at the end.

ALL_TESTS="test_testssl"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

test_testssl() {
	need_l7_tools openssl testssl || return $?
	l7_tmpdir
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/ec" a.test >/dev/null || fail "openssl"
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj /CN=a.test \
		-addext subjectAltName=DNS:a.test -keyout "$TMPD/rsa.key" -out "$TMPD/rsa.crt" \
		2>/dev/null || fail "openssl rsa"
	start_origin || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
listeners:
  - address: '127.0.0.1:$LISTEN_PORT'
    tls:
      certificates:
        - {cert: '$TMPD/ec.crt', key: '$TMPD/ec.key'}
        - {cert: '$TMPD/rsa.crt', key: '$TMPD/rsa.key'}
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	start_pingd -c "$TMPD/pingd.yaml" || return 1
	# --fast skips the slowest cipher enumerations; the vulnerability checks all run.
	# Run from the temporary directory, so that nothing it writes lands in the caller's.
	(cd "$TMPD" && timeout 900 testssl --quiet --color 0 --warnings off --fast --ip one \
		--protocols --server-defaults --server-preference --vulnerable \
		--jsonfile "$TMPD/testssl.json" "127.0.0.1:$LISTEN_PORT" >"$TMPD/testssl.out" 2>&1)
	[ -s "$TMPD/testssl.json" ] || fail "testssl wrote no JSON: $(tail -n5 "$TMPD/testssl.out")"
	python3 - "$TMPD/testssl.json" <<'PY' || fail "testssl findings of severity HIGH or CRITICAL"
import collections, json, sys
found = json.load(open(sys.argv[1]))
count = collections.Counter(f["severity"] for f in found)
print("   severities:", dict(count))
# Facts of the test's self-signed certificate, not of pingd's TLS.
OWN_CERT = {"cert_trust", "cert_chain_of_trust", "cert_expirationStatus", "cert_notAfter",
            "cert_revocation"}
for f in found:
    if f["id"] in OWN_CERT and f["severity"] in ("HIGH", "CRITICAL"):
        print("   ignored (the test's certificate): %s %s" % (f["severity"], f["id"]))
bad = [f for f in found if f["severity"] in ("HIGH", "CRITICAL") and f["id"] not in OWN_CERT]
for f in bad + [f for f in found if f["severity"] in ("MEDIUM", "LOW", "WARN")]:
    print("   %s %s: %s" % (f["severity"], f["id"], f["finding"][:120]))
if not any(f["id"] == "TLS1_3" and "offered" in f["finding"] for f in found):
    print("   no TLS1_3 finding: the scan did not run")
    sys.exit(1)
sys.exit(1 if bad else 0)
PY
}

run_tests "$@"
