#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# TLS session resumption in pingd with openssl s_client -sess_out/-sess_in, TLS 1.2 tickets
# and TLS 1.3 PSKs: across the workers, across a reload (SIGHUP) and across a binary upgrade
# (pingd --upgrade), ticket keys from files shared by two pingd processes (and replaced), a
# bad key file refused at load and at a reload, the TLS 1.3 tickets sent per full handshake
# (one by default, tickets_sent), the session cache by ID, resumption turned
# off, and the /metrics counts of full and resumed handshakes.

ALL_TESTS="test_resume_workers test_resume_reload test_resume_upgrade test_ticket_key_files \
 test_ticket_key_file_bad test_tickets_sent test_session_cache test_resumption_off"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# pingd with 2 workers terminating TLS for a.test in front of nginx, its log in
# $TMPD/pingd.log; TLS settings from the argument (YAML lines under tls:, where @TMPD@ stands
# for the test's directory). Ticket key files k1 and k2 (80 random bytes each) are there.
setup() {
	need_l7_tools openssl || return $?
	l7_tmpdir
	bash "$PINGX_TOP/scripts/selfsigned.sh" "$TMPD/a" a.test >/dev/null || fail "openssl"
	openssl rand -out "$TMPD/k1" 80 && openssl rand -out "$TMPD/k2" 80 || fail "openssl rand"
	start_origin || return 1
	pingd_config "$TMPD/pingd.yaml" "${1:-}" || return 1
	LISTEN_PORT=$CONF_PORT
	PINGD_PORT=$CONF_PORT
	ADMIN_PORT=$CONF_ADMIN
	spawn bash -c "exec '$PINGD' -c '$TMPD/pingd.yaml' 2>>'$TMPD/pingd.log'"
	PINGD_PID=$SPAWNED_PID
	wait_port 127.0.0.1 "$LISTEN_PORT" || fail "pingd did not start"
}

# pingd_config FILE TLS-LINES: the configuration setup() runs, on new ports (CONF_PORT,
# CONF_ADMIN), written into FILE.
pingd_config() {
	free_port || return 1
	CONF_PORT=$PORT
	free_port || return 1
	CONF_ADMIN=$PORT
	cat >"$1" <<YAML
workers: 2
upgrade_socket: '$1.sock'
admin: {address: '127.0.0.1:$CONF_ADMIN'}
listeners:
  - address: '127.0.0.1:$CONF_PORT'
    tls:
      certificates:
        - {cert: '$TMPD/a.crt', key: '$TMPD/a.key'}
${2//@TMPD@/$TMPD}
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
}

# second_pingd NAME TLS-LINES: another pingd (as another machine would be) with its own
# configuration NAME.yaml and ports, its log in NAME.log; sessions then go to it
# (PINGD_PORT).
second_pingd() {
	pingd_config "$TMPD/$1.yaml" "$2" || return 1
	spawn bash -c "exec '$PINGD' -c '$TMPD/$1.yaml' 2>>'$TMPD/$1.log'"
	wait_port 127.0.0.1 "$CONF_PORT" || fail "pingd $1 did not start: $(cat "$TMPD/$1.log")"
	PINGD_PORT=$CONF_PORT
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
	wait_grep 'reloaded:' "$TMPD/pingd.log" 200 || fail "no reload: $(cat "$TMPD/pingd.log")"
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

# Ticket keys from files: a second pingd (another process, another address, as another
# machine behind the same name) reading the same file resumes the first one's sessions; one
# whose first key is new still opens tickets under the old (listed second), and one without
# that key does not.
test_ticket_key_files() {
	setup "      ticket_keys: ['@TMPD@/k1']" || return $?
	new_sessions
	resumes -tls1_2 "$TMPD/s12" 2
	resumes -tls1_3 "$TMPD/s13" 2
	second_pingd b "      ticket_keys: ['@TMPD@/k1']"
	resumes -tls1_2 "$TMPD/s12" 3
	resumes -tls1_3 "$TMPD/s13" 3
	log "a second pingd sharing the key file resumes the first one's sessions"
	second_pingd c "      ticket_keys: ['@TMPD@/k2', '@TMPD@/k1']"
	resumes -tls1_2 "$TMPD/s12" 2
	resumes -tls1_3 "$TMPD/s13" 2
	log "a new first key: tickets under the second still resume"
	second_pingd d "      ticket_keys: ['@TMPD@/k2']"
	local got v
	for v in 12 13; do
		got=$(session "-tls1_${v#1}" "$TMPD/s$v" -)
		[ "$got" = New ] || fail "TLS 1.${v#1} resumed without its key: '$got'"
	done
	log "without the key that sealed them, tickets do not resume"
}

# A key file of the wrong size: pingd -t and the start refuse it, naming the file and the
# size; a reload to it keeps the running configuration, whose sessions still resume.
test_ticket_key_file_bad() {
	setup "      ticket_keys: ['@TMPD@/k1']" || return $?
	new_sessions
	head -c 79 "$TMPD/k2" >"$TMPD/short"
	pingd_config "$TMPD/bad.yaml" "      ticket_keys: ['@TMPD@/short']"
	local out rc
	out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1)
	rc=$?
	log "pingd -t: $out"
	[ "$rc" -ne 0 ] || fail "pingd -t accepted a 79-byte ticket key file"
	grep -qF "'listeners[].tls.ticket_keys': $TMPD/short: holds 79 bytes" <<<"$out" ||
		fail "pingd -t did not say why: $out"
	out=$(timeout 20 "$PINGD" -c "$TMPD/bad.yaml" 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] || fail "pingd started with a 79-byte ticket key file (status $rc)"
	grep -qF "$TMPD/short: holds 79 bytes" <<<"$out" || fail "start did not say why: $out"
	# The running pingd is told to load the bad file: it says why and keeps its keys.
	sed -i "s|$TMPD/k1|$TMPD/short|" "$TMPD/pingd.yaml"
	kill -HUP "$PINGD_PID"
	wait_grep "$TMPD/short: holds 79 bytes" "$TMPD/pingd.log" 200
	grep -qF "'listeners[].tls.ticket_keys': $TMPD/short: holds 79 bytes" "$TMPD/pingd.log" ||
		fail "the reload did not say why: $(cat "$TMPD/pingd.log")"
	kill -0 "$PINGD_PID" || fail "pingd exited on a bad reload"
	resumes -tls1_2 "$TMPD/s12" 2
	resumes -tls1_3 "$TMPD/s13" 2
	log "a refused reload keeps the running keys: sessions resume"
}

# tickets_of: the TLS 1.3 tickets s_client hears after a full handshake with pingd.
tickets_of() {
	printf 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' |
		timeout 20 openssl s_client -connect "127.0.0.1:$PINGD_PORT" -servername a.test \
			-tls1_3 -ign_eof 2>&1 | grep -c 'Post-Handshake New Session Ticket arrived'
}

# One TLS 1.3 ticket after a full handshake by default (OpenSSL's own default is two), as
# many as tickets_sent says otherwise; a resumed handshake renews with one.
test_tickets_sent() {
	setup || return $?
	local n
	n=$(tickets_of)
	[ "$n" = 1 ] || fail "tickets after a full handshake: '$n', expected 1"
	new_sessions
	resumes -tls1_3 "$TMPD/s13" 2
	second_pingd b "      tickets_sent: 3"
	n=$(tickets_of)
	[ "$n" = 3 ] || fail "tickets with tickets_sent: 3: '$n', expected 3"
	log "tickets per full handshake: 1 by default, 3 with tickets_sent: 3"
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
	local got
	wait_grep 'reloaded:' "$TMPD/pingd.log" 200 || fail "no reload: $(cat "$TMPD/pingd.log")"
	got=$(session -tls1_2 "$TMPD/s12" -)
	[ "$got" = New ] || fail "a cached session survived the reload: '$got'"
}

# Neither tickets nor a cache: nothing resumes (and the client was offered nothing to keep).
test_resumption_off() {
	setup "      tickets: off
      ticket_keys: ['@TMPD@/k1']" || return $?
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
