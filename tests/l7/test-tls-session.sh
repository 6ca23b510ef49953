#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# TLS session resumption in pingd with openssl s_client -sess_out/-sess_in, TLS 1.2 tickets
# and TLS 1.3 PSKs: across the workers, across a reload (SIGHUP) and across a binary upgrade
# (pingd --upgrade), the session cache by ID, resumption turned off, and the /metrics counts
# of full and resumed handshakes.

ALL_TESTS="test_resume_workers test_resume_reload test_resume_upgrade test_session_cache \
 test_resumption_off"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# pingd with 2 workers terminating TLS for a.test in front of nginx, its log in
# $TMPD/pingd.log; TLS settings from the argument (YAML lines under tls:).
setup() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/a" a.test >/dev/null || fail "openssl"
	start_origin || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	PINGD_PORT=$PORT
	free_port || return 1
	ADMIN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 2
upgrade_socket: '$TMPD/pingd.sock'
admin: {address: '127.0.0.1:$ADMIN_PORT'}
listeners:
  - address: '127.0.0.1:$LISTEN_PORT'
    tls:
      certificates:
        - {cert: '$TMPD/a.crt', key: '$TMPD/a.key'}
${1:-}
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	spawn bash -c "exec '$PINGD' -c '$TMPD/pingd.yaml' 2>>'$TMPD/pingd.log'"
	PINGD_PID=$SPAWNED_PID
	wait_port 127.0.0.1 "$LISTEN_PORT" || fail "pingd did not start"
}

# One request over a new TLS connection with s_client, which waits for the close so that
# TLS 1.3 tickets (sent after the handshake) are read: session VERSION IN|- OUT|- prints
# "New" or "Reused" (and the response's status line on failure).
session() {
	local v=$1 in=$2 out=$3 args=() got
	[ "$in" != - ] && args+=(-sess_in "$in")
	[ "$out" != - ] && args+=(-sess_out "$out")
	got=$(printf 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' |
		timeout 20 openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername a.test \
			"$v" -ign_eof "${args[@]}" 2>&1)
	grep -q '^HTTP/1.1 200' <<<"$got" || { echo "no response: $(tail -n3 <<<"$got")"; return; }
	grep -oE '^(New|Reused),' <<<"$got" | tr -d ,
}

# Resumes VERSION FILE N: N connections resuming the session in FILE each say Reused.
resumes() {
	local v=$1 f=$2 n=$3 i got
	for ((i = 0; i < n; i++)); do
		got=$(session "$v" "$f" -)
		[ "$got" = Reused ] || fail "$v resumption $i: '$got'"
	done
}

# A session for each of TLS 1.2 and 1.3 into $TMPD/s12 and $TMPD/s13.
new_sessions() {
	local got
	got=$(session -tls1_2 - "$TMPD/s12")
	[ "$got" = New ] || fail "TLS 1.2 first connection: '$got'"
	got=$(session -tls1_3 - "$TMPD/s13")
	[ "$got" = New ] || fail "TLS 1.3 first connection: '$got'"
	grep -q 'BEGIN SSL SESSION' "$TMPD/s13" || fail "no TLS 1.3 session saved"
}

# The value of a /metrics sample: metric NAME{LABELS}
metric() {
	curl -s --max-time 10 "http://127.0.0.1:$ADMIN_PORT/metrics" |
		awk -v k="$1" '$1 == k {print $2}'
}

# Each connection lands on either worker (SO_REUSEPORT hashes the client port): every one
# resumes, so both workers know the keys.
test_resume_workers() {
	setup || return $?
	new_sessions
	resumes -tls1_2 "$TMPD/s12" 6
	resumes -tls1_3 "$TMPD/s13" 6
	local full resumed
	full=$(metric 'pingd_tls_handshakes_total{kind="full"}')
	resumed=$(metric 'pingd_tls_handshakes_total{kind="resumed"}')
	log "handshakes: full $full, resumed $resumed"
	[ "$full" = 2 ] || fail "full handshakes: '$full', expected 2"
	[ "$resumed" = 12 ] || fail "resumed handshakes: '$resumed', expected 12"
}

test_resume_reload() {
	setup || return $?
	new_sessions
	kill -HUP "$PINGD_PID"
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q 'reloaded:' "$TMPD/pingd.log" && break
		sleep 0.1
	done
	grep -q 'reloaded:' "$TMPD/pingd.log" || fail "no reload: $(cat "$TMPD/pingd.log")"
	resumes -tls1_2 "$TMPD/s12" 3
	resumes -tls1_3 "$TMPD/s13" 3
	log "sessions from before the reload resume after it"
}

test_resume_upgrade() {
	setup || return $?
	new_sessions
	local old=$PINGD_PID i
	spawn bash -c "exec '$PINGD' -v -c '$TMPD/pingd.yaml' --upgrade 2>>'$TMPD/new.log'"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$old" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$old" 2>/dev/null && fail "the old pingd did not hand over"
	grep -q 'received 2 listening sockets and 1 session ticket key' "$TMPD/new.log" ||
		fail "upgrade: $(cat "$TMPD/new.log")"
	resumes -tls1_2 "$TMPD/s12" 3
	resumes -tls1_3 "$TMPD/s13" 3
	log "sessions from the old process resume in the new one"
}

# Tickets off, a session cache: TLS 1.2 resumes by session ID, TLS 1.3 by stateful tickets
# (PSKs naming a cached session), across both workers.
test_session_cache() {
	setup "      session_tickets: false
      session_cache: 1000" || return $?
	new_sessions
	resumes -tls1_2 "$TMPD/s12" 6
	resumes -tls1_3 "$TMPD/s13" 6
	# A cache belongs to its configuration: a reload starts an empty one.
	kill -HUP "$PINGD_PID"
	local i got
	for ((i = 0; i < 200; i++)); do
		grep -q 'reloaded:' "$TMPD/pingd.log" && break
		sleep 0.1
	done
	got=$(session -tls1_2 "$TMPD/s12" -)
	[ "$got" = New ] || fail "a cached session survived the reload: '$got'"
}

# Neither tickets nor a cache: nothing resumes (and the client was offered nothing to keep).
test_resumption_off() {
	setup "      session_tickets: false" || return $?
	local got v
	for v in -tls1_2 -tls1_3; do
		got=$(session "$v" - "$TMPD/s$v")
		[ "$got" = New ] || fail "$v first: '$got'"
		if [ -s "$TMPD/s$v" ]; then
			got=$(session "$v" "$TMPD/s$v" -)
			[ "$got" = New ] || fail "$v resumed with resumption off: '$got'"
		fi
	done
	[ "$(metric 'pingd_tls_handshakes_total{kind="resumed"}')" = 0 ] ||
		fail "resumed handshakes counted"
}

run_tests "$@"
