#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# gRPC through pingd, python3-grpcio at both ends: clients over h2c (prior knowledge) and h2
# over TLS, a server behind an h2c upstream. Unary, server streaming and bidirectional calls;
# a non-OK status and its message passed through; grpc-timeout honoured (DEADLINE_EXCEEDED
# from the client's own deadline, and from pingd for a client that sets none); a dead
# upstream, a call with no route and one whose method the route refuses answered with gRPC
# statuses (UNAVAILABLE, UNIMPLEMENTED) in a trailers-only answer, not a page.

ALL_TESTS="test_grpc_calls test_grpc_deadline test_grpc_errors"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# Debian's python3 carries python3-grpcio (scripts/deps.sh).
PY=/usr/bin/python3
GRPC=("$PY" "$L7_DIR/grpctool.py")

# A gRPC server (GS_PORT, its calls in GS_LOG) behind pingd: service pingx.Test on an h2c
# upstream, pingx.Dead on a dead one; a cleartext listener (PINGD_PORT) and a TLS one
# (TLS_PORT, certificate for a.test in $TMPD/a.crt).
setup() {
	need_l7_tools openssl || return $?
	"$PY" -c 'import grpc' 2>/dev/null || { echo "   needs python3-grpcio" >&2; return $SKIP; }
	l7_tmpdir
	free_port || return 1
	GS_PORT=$PORT
	GS_LOG=$TMPD/grpc.log
	: >"$GS_LOG"
	spawn "${GRPC[@]}" serve "$GS_PORT" "$GS_LOG"
	wait_port 127.0.0.1 "$GS_PORT" || fail "gRPC server did not start"
	free_port || return 1
	DEAD_PORT=$PORT
	free_port || return 1
	LISTEN_PORT=$PORT
	free_port || return 1
	TLS_PORT=$PORT
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/a" a.test >/dev/null || fail "openssl"
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
log: {access_log: '$TMPD/access.log'}
listeners:
  - {address: '127.0.0.1:$LISTEN_PORT'}
  - {address: '127.0.0.1:$TLS_PORT', tls: {certificates: [{cert: '$TMPD/a.crt', key: '$TMPD/a.key'}]}}
upstreams:
  - {name: g, protocol: h2c, servers: [{address: '127.0.0.1:$GS_PORT'}]}
  - {name: dead, protocol: h2c, servers: [{address: '127.0.0.1:$DEAD_PORT'}]}
virtual_hosts:
  - name: all
    hosts: '*'
    routes:
      - {path: /pingx.Test/, upstream: g}
      - {path: /pingx.Dead/, upstream: dead}
      - {path: /pingx.Get/, upstream: g, methods: [GET]}
YAML
	start_pingd -c "$TMPD/pingd.yaml"
}

# One call: gcall KIND ARG [grpctool options]; prints the answers and the status line.
gcall() {
	local kind=$1 arg=$2
	shift 2
	timeout 60 "${GRPC[@]}" call "$PINGD_PORT" "$kind" "$arg" "$@"
}

# The same over TLS.
gcall_tls() {
	local kind=$1 arg=$2
	shift 2
	timeout 60 "${GRPC[@]}" call "$TLS_PORT" "$kind" "$arg" --tls a.test "$TMPD/a.crt" "$@"
}

expect() {
	[ "$2" = "$3" ] || fail "$1: got '$(tr '\n' '|' <<<"$2")', expected '$(tr '\n' '|' <<<"$3")'"
}

test_grpc_calls() {
	setup || return $?
	local call out
	for call in gcall gcall_tls; do
		out=$($call Echo "hello grpc")
		expect "$call unary" "$out" "hello grpc
status OK"
		out=$($call Count 200)
		expect "$call server streaming" "$(head -1 <<<"$out") $(sed -n 200p <<<"$out") $(tail -1 <<<"$out") $(wc -l <<<"$out")" \
			"0 199 status OK 201"
		out=$($call Chat "one,two,three")
		expect "$call bidirectional" "$out" "ONE
TWO
THREE
status OK"
		out=$($call Fail "PERMISSION_DENIED:not for you")
		expect "$call non-OK status" "$out" "status PERMISSION_DENIED not for you"
	done
	# A 1 MB message each way.
	out=$("$PY" - "$PINGD_PORT" <<'EOF'
import sys, grpc
ch = grpc.insecure_channel("127.0.0.1:" + sys.argv[1])
m = bytes(range(256)) * 4096
r = ch.unary_unary("/pingx.Test/Echo")(m, timeout=30)
print("same" if r == m else "differs %d" % len(r))
EOF
)
	expect "1 MB echo" "$out" same
	log "unary, 200-message server stream, bidirectional, PERMISSION_DENIED with its message (h2c and TLS); 1 MB echo"
}

test_grpc_deadline() {
	setup || return $?
	local out
	# A 1 s deadline, the client's and (as grpc-timeout) pingd's: whichever ends the call
	# first, the answer is DEADLINE_EXCEEDED and the server sees the cancel.
	out=$(gcall Slow 5 --timeout 1)
	[[ $out == "status DEADLINE_EXCEEDED "* ]] || fail "1 s deadline: $out"
	for _ in $(seq 50); do
		grep -q '^Slow cancelled$' "$GS_LOG" && break
		sleep 0.1
	done
	grep -q '^Slow cancelled$' "$GS_LOG" || fail "the server did not see the cancel: $(cat "$GS_LOG")"
	# A client with no deadline of its own but grpc-timeout: pingd ends the call.
	printf '\0\0\0\0\0013' >"$TMPD/msg"
	out=$(curl -sS --max-time 20 --http2-prior-knowledge -D - -o /dev/null \
		-H 'content-type: application/grpc' -H 'te: trailers' -H 'grpc-timeout: 800m' \
		--data-binary @"$TMPD/msg" "http://127.0.0.1:$PINGD_PORT/pingx.Test/Slow")
	grep -q '^grpc-status: 4' <<<"$out" || fail "grpc-timeout not honoured by pingd: $out"
	grep -q '^HTTP/2 200' <<<"$out" || fail "not a gRPC answer: $out"
	# A server stream under way when grpc-timeout passes: the messages so far, then
	# trailers with grpc-status 4 (not a reset).
	printf '\0\0\0\0\00250' >"$TMPD/msg"
	out=$(curl -sS --max-time 20 --http2-prior-knowledge -v -o "$TMPD/drip" \
		-H 'content-type: application/grpc' -H 'te: trailers' -H 'grpc-timeout: 1S' \
		--data-binary @"$TMPD/msg" "http://127.0.0.1:$PINGD_PORT/pingx.Test/Drip" 2>&1)
	grep -q '^< grpc-status: 4' <<<"$out" || fail "server stream past its deadline: $out"
	[ -s "$TMPD/drip" ] || fail "no message before the deadline"
	log "client deadline: DEADLINE_EXCEEDED and the server cancelled; grpc-timeout alone: pingd answers grpc-status 4, before and during the answer"
}

test_grpc_errors() {
	setup || return $?
	local out
	out=$(timeout 60 "$PY" - "$PINGD_PORT" <<'EOF'
import sys, grpc
ch = grpc.insecure_channel("127.0.0.1:" + sys.argv[1])
for m in ("/pingx.Dead/Echo", "/pingx.Nowhere/Echo", "/pingx.Get/Echo"):
    try:
        ch.unary_unary(m)(b"x", timeout=10)
        print("OK")
    except grpc.RpcError as e:
        print(e.code().name)
EOF
)
	expect "dead upstream, no route, method not allowed" "$out" "UNAVAILABLE
UNIMPLEMENTED
UNIMPLEMENTED"
	# On the wire: 200, application/grpc, grpc-status 14, in one HEADERS without a body.
	out=$(curl -sS --max-time 20 --http2-prior-knowledge -D - -o "$TMPD/body" \
		-H 'content-type: application/grpc' -H 'te: trailers' --data-binary @/dev/null \
		"http://127.0.0.1:$PINGD_PORT/pingx.Dead/Echo")
	grep -q '^HTTP/2 200' <<<"$out" || fail "dead upstream: $out"
	grep -q '^content-type: application/grpc' <<<"$out" || fail "dead upstream: $out"
	grep -q '^grpc-status: 14' <<<"$out" || fail "dead upstream: $out"
	[ ! -s "$TMPD/body" ] || fail "dead upstream: a body came: $(head -c 200 "$TMPD/body")"
	# The log keeps what happened.
	grep -q '"POST /pingx.Dead/Echo HTTP/2.0" 502' "$TMPD/access.log" ||
		fail "access log: $(tail -3 "$TMPD/access.log")"
	# And an HTTP client still gets a page.
	out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$PINGD_PORT/pingx.Dead/Echo")
	expect "non-gRPC request" "$out" 502
	log "dead upstream UNAVAILABLE (trailers-only, logged 502), no route and 405 UNIMPLEMENTED; plain HTTP gets 502"
}

run_tests "$@"
