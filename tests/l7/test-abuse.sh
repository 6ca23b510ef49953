#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd under abuse of its resources: out of file descriptors it stops accepting for a while
# and logs once (no spin, no log flood), then serves again once descriptors are free; the
# listen backlog is the configured one.

ALL_TESTS="test_emfile_backoff test_listen_backlog"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

# Hold N connections to 127.0.0.1:PORT open for SECONDS: hold PORT N SECONDS (background).
hold_conns() {
	python3 - "$@" <<'EOF' &
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        pass
    socks.append(s)
time.sleep(secs)
EOF
	HOLD_PID=$!
	on_exit "kill $HOLD_PID 2>/dev/null"
}

# pingd limited to 64 descriptors, 150 clients connect and stay: accept() fails with EMFILE.
# pingd backs off instead of retrying at once, so in 3 s it logs a line or two, not millions;
# once the clients leave, it serves again.
test_emfile_backoff() {
	local lines code
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	free_port || return 1
	PINGD_PORT=$PORT
	spawn prlimit --nofile=64 "$PINGD" --listen "127.0.0.1:$PINGD_PORT" \
		--upstream "127.0.0.1:$ORIGIN_PORT" 2>"$TMPD/pingd.err"
	wait_port 127.0.0.1 "$PINGD_PORT" || fail "pingd did not start"
	[ "$(http_status /index.html)" = 200 ] || fail "no 200 before the flood"
	hold_conns "$PINGD_PORT" 150 4
	sleep 3
	lines=$(grep -c "accept" "$TMPD/pingd.err")
	[ "$lines" -ge 1 ] || cat "$TMPD/pingd.err"
	log "accept failures logged in 3 s: $lines line(s): $(grep -m1 accept "$TMPD/pingd.err")"
	[ "$lines" -ge 1 ] || fail "the descriptor exhaustion was not logged"
	[ "$lines" -le 3 ] || fail "$lines log lines in 3 s: accept is retried without a pause"
	kill "$HOLD_PID"
	wait "$HOLD_PID" 2>/dev/null
	code=$(http_status /index.html)
	[ "$code" = 200 ] || fail "got '$code' after the clients left"
	kill -0 "$SPAWNED_PID" || fail "pingd died"
}

# The listening sockets get the configured backlog (ss shows it as Send-Q), not libevent's 128.
test_listen_backlog() {
	local q want somax
	need_l7_tools ss || return $?
	l7_tmpdir
	start_origin || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
listeners: [{address: '127.0.0.1:$LISTEN_PORT', backlog: 1000}]
upstreams: [{name: o, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	start_pingd -c "$TMPD/pingd.yaml"
	q=$(ss -Hltn "sport = :$LISTEN_PORT" | awk '{print $3}' | sort -u | tr '\n' ' ' | sed 's/ $//')
	log "backlog 1000 configured: Send-Q $q"
	[ "$q" = 1000 ] || fail "backlog $q, not 1000"
	kill "$PINGD_PID"
	wait "$PINGD_PID" 2>/dev/null
	# One-line mode: the default, 4096, as far as net.core.somaxconn allows.
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT"
	somax=$(cat /proc/sys/net/core/somaxconn)
	want=$((somax < 4096 ? somax : 4096))
	q=$(ss -Hltn "sport = :$PINGD_PORT" | awk '{print $3}' | sort -u | tr '\n' ' ' | sed 's/ $//')
	log "default backlog: Send-Q $q (somaxconn $somax)"
	[ "$q" = "$want" ] || fail "default backlog $q, not $want"
}

run_tests "$@"
