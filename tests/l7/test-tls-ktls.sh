#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kTLS on a pingd listener: where the kernel has the tls ULP the records go through it (the
# startup log and /metrics say so per listener, and the connections are counted); where it
# has not, the listener falls back to userspace and says why; tls.ktls: false keeps records
# in userspace. Requests and bodies of a few MB both ways in each mode.

ALL_TESTS="test_ktls_kernel test_ktls_fallback test_ktls_off"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# Whether a TCP socket here takes the tls ULP (what pingd probes); prints why not.
kernel_tls() {
	python3 - <<'PY'
import errno, socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
try:
    c.setsockopt(socket.IPPROTO_TCP, 31, b"tls")  # TCP_ULP
except OSError as e:
    print("the kernel has no tls ULP (%s)" % errno.errorcode.get(e.errno, e.errno))
    sys.exit(1)
PY
}

# pingd with tls.ktls KTLS (true/false) in front of nginx; the log in $TMPD/pingd.log.
setup() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/a" a.test >/dev/null || fail "openssl"
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
      certificates: [{cert: '$TMPD/a.crt', key: '$TMPD/a.key'}]
      ktls: $1
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	spawn bash -c "exec '$PINGD' -c '$TMPD/pingd.yaml' 2>>'$TMPD/pingd.log'"
	PINGD_PORT=$LISTEN_PORT
	wait_port 127.0.0.1 "$LISTEN_PORT" || fail "pingd did not start: $(cat "$TMPD/pingd.log")"
}

metric() {
	curl -s --max-time 10 "http://127.0.0.1:$ADMIN_PORT/metrics" |
		awk -v k="$1" '$1 == k {print $2}'
}

# Requests over TLS 1.2 and 1.3 (AES-GCM, which the kernel takes) and 5 MB both ways.
traffic() {
	local v sum got
	for v in --tlsv1.2 --tlsv1.3; do
		got=$(curl -sS --max-time 20 "$v" --tls-max "${v#--tlsv}" --cacert "$TMPD/a.crt" \
			--resolve "a.test:$PINGD_PORT:127.0.0.1" "https://a.test:$PINGD_PORT/")
		[ "$got" = hello ] || fail "$v: '$got'"
	done
	head -c 5000000 /dev/urandom >"$TMPD/big"
	sum=$(sha256sum <"$TMPD/big" | cut -d' ' -f1)
	curl -sS --max-time 60 --cacert "$TMPD/a.crt" --resolve "a.test:$PINGD_PORT:127.0.0.1" \
		-T "$TMPD/big" "https://a.test:$PINGD_PORT/up/big" -o /dev/null || fail "PUT"
	got=$(curl -sS --max-time 60 --cacert "$TMPD/a.crt" \
		--resolve "a.test:$PINGD_PORT:127.0.0.1" "https://a.test:$PINGD_PORT/up/big" |
		sha256sum | cut -d' ' -f1)
	[ "$got" = "$sum" ] || fail "5 MB came back different"
}

test_ktls_kernel() {
	local why
	if ! why=$(kernel_tls); then
		# A kernel built without CONFIG_TLS: nothing to load, nothing a privilege changes.
		echo "   $why: the kernel path cannot run on this machine"
		return "$UNSUPPORTED"
	fi
	setup true || return $?
	grep -q "listener 127.0.0.1:$LISTEN_PORT: TLS records by the kernel (kTLS)" \
		"$TMPD/pingd.log" || fail "log: $(cat "$TMPD/pingd.log")"
	[ "$(metric "pingd_tls_ktls_info{listener=\"127.0.0.1:$LISTEN_PORT\",mode=\"kernel\"}")" = 1 ] ||
		fail "mode on /metrics"
	traffic
	local sent
	sent=$(metric "pingd_tls_ktls_connections_total{listener=\"127.0.0.1:$LISTEN_PORT\",direction=\"send\"}")
	[ "${sent:-0}" -ge 1 ] || fail "no connection sent through the kernel: '$sent'"
	log "kernel sends on $sent connections"
}

test_ktls_fallback() {
	local why
	if why=$(kernel_tls); then
		# Only a kernel without the ULP shows the fallback.
		echo "   the kernel has the tls ULP: the fallback cannot be shown on this machine"
		return "$UNSUPPORTED"
	fi
	setup true || return $?
	grep -q "listener 127.0.0.1:$LISTEN_PORT: TLS records in userspace (kTLS: the kernel has no tls module" \
		"$TMPD/pingd.log" || fail "log: $(cat "$TMPD/pingd.log")"
	log "$(grep 'TLS records' "$TMPD/pingd.log" | cut -d' ' -f3-)"
	[ "$(metric "pingd_tls_ktls_info{listener=\"127.0.0.1:$LISTEN_PORT\",mode=\"userspace\"}")" = 1 ] ||
		fail "mode on /metrics"
	traffic
	[ "$(metric "pingd_tls_ktls_connections_total{listener=\"127.0.0.1:$LISTEN_PORT\",direction=\"send\"}")" = 0 ] ||
		fail "kernel connections counted without a kernel"
}

test_ktls_off() {
	setup false || return $?
	grep -q "TLS records in userspace (kTLS: off in the configuration)" "$TMPD/pingd.log" ||
		fail "log: $(cat "$TMPD/pingd.log")"
	[ "$(metric "pingd_tls_ktls_info{listener=\"127.0.0.1:$LISTEN_PORT\",mode=\"off\"}")" = 1 ] ||
		fail "mode on /metrics"
	traffic
}

run_tests "$@"
