#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd under abuse of its resources: out of file descriptors it stops accepting for a while
# and logs once (no spin, no log flood), then serves again once descriptors are free; the
# listen backlog is the configured one; a slow upload on a pooled upstream connection is not
# cut by that connection's idle timeout; deep pipelining with a paused reader delivers every
# response; Upgrade requests are answered in HTTP/1.1.

ALL_TESTS="test_emfile_backoff test_listen_backlog test_upload_on_reused_connection \
	test_pipelining_paused_reader test_upgrade_answered_in_http1 \
	test_timeout_not_resent test_origin_killed_under_load test_pool_grows_to_concurrency \
	test_options_star"

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

# Wait up to <secs> (tenths of a second at a time) for a line matching <regex> in <file>:
# wait_log FILE REGEX SECS. Returns 1 when none came.
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

# pingd limited to 64 descriptors, 150 clients connect and stay: accept() fails with EMFILE.
# pingd backs off (500 ms) instead of retrying at once, which the failure counts of its log
# lines show: a listener's second line (at most one per 5 s) counts a few failures, where a
# retry without a pause would count thousands. Once the clients leave, it serves again. No
# fixed sleep: each step waits, bounded, for what it needs.
test_emfile_backoff() {
	local lines code n i
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	free_port || return 1
	PINGD_PORT=$PORT
	spawn prlimit --nofile=64 "$PINGD" --listen "127.0.0.1:$PINGD_PORT" \
		--upstream "127.0.0.1:$ORIGIN_PORT" 2>"$TMPD/pingd.err"
	wait_port 127.0.0.1 "$PINGD_PORT" || fail "pingd did not start"
	[ "$(http_status /index.html)" = 200 ] || fail "no 200 before the flood"
	hold_conns "$PINGD_PORT" 150 60
	wait_log "$TMPD/pingd.err" "accept: .*failure" 30 ||
		{ cat "$TMPD/pingd.err"; fail "the descriptor exhaustion was not logged"; }
	log "first accept failure: $(grep -m1 accept "$TMPD/pingd.err")"
	wait_log "$TMPD/pingd.err" "accept: .*\([0-9]+ failures\)" 30 ||
		{ cat "$TMPD/pingd.err"; fail "no second accept log line while the clients stay"; }
	n=$(grep -oE "\([0-9]+ failures\)" "$TMPD/pingd.err" | head -1 | tr -dc 0-9)
	lines=$(grep -c "accept" "$TMPD/pingd.err")
	log "then: $n failures in a line, $lines accept line(s) so far"
	[ "$n" -le 100 ] || fail "$n accept failures between two lines: accept is retried without a pause"
	[ "$lines" -le 20 ] || fail "$lines accept log lines: the log is not rate-limited"
	kill "$HOLD_PID"
	wait "$HOLD_PID" 2>/dev/null
	for ((i = 0; i < 20; i++)); do
		code=$(http_status /index.html)
		[ "$code" = 200 ] && break
		sleep 0.5
	done
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

# A GET leaves its upstream connection in the pool (idle timeout 2 s); 1 s later a PUT takes
# it and sends its body over 3 s. The pool's idle timeout must not fire during the upload
# (it did: 504 two seconds after the GET).
test_upload_on_reused_connection() {
	local out
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: o, idle_timeout: 2s, servers: [{address: '127.0.0.1:$ORIGIN_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	start_pingd -c "$TMPD/pingd.yaml"
	out=$(python3 - "$PINGD_PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
def response():
    status = f.readline().split()[1].decode()
    n = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    f.read(n)
    return status
s.sendall(b"GET /index.html HTTP/1.1\r\nHost: o\r\n\r\n")
print("GET", response())
time.sleep(1)
s.sendall(b"PUT /up/slow HTTP/1.1\r\nHost: o\r\nContent-Length: 30\r\n\r\n")
for _ in range(30):
    time.sleep(0.1)
    s.sendall(b"x")
print("PUT", response())
EOF
)
	log "$(echo $out)"
	[ "$out" = "$(printf 'GET 200\nPUT 201')" ] || fail "got: $out"
	[ "$(origin_accepts)" -le 2 ] || log "note: the PUT did not reuse the pooled connection"
}

# 50,000 requests pipelined on one connection whose client reads nothing for 3 s, then reads
# everything: every response arrives (pingd stalled after ~16,000 when the room left in the
# client's output ended inside a response head already read from the upstream).
test_pipelining_paused_reader() {
	local got
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT"
	got=$(python3 - "$PINGD_PORT" 50000 3 <<'EOF'
import socket, sys, threading, time
port, n, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
req = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
threading.Thread(target=lambda: s.sendall(req * n), daemon=True).start()
time.sleep(pause)
s.settimeout(10)
mark, got, tail = b"HTTP/1.1 200 ", 0, b""
try:
    while got < n:
        d = s.recv(1 << 20)
        if not d:
            break
        buf = tail + d
        got += buf.count(mark)
        tail = buf[-(len(mark) - 1):]
except socket.timeout:
    pass
print(got)
EOF
)
	log "responses: $got of 50000"
	[ "$got" = 50000 ] || fail "$got of 50000 pipelined responses arrived"
}

# Upgrade requests (h2c, websocket) are answered in HTTP/1.1, and the connection goes on in
# HTTP/1.1 (pingd closed it without a response).
test_upgrade_answered_in_http1() {
	local out
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' 3)
	[ "$(grep -c '^HTTP/1.1 200 ' <<<"$out")" = 2 ] || fail "h2c upgrade: $out"
	! grep -qi '^upgrade:' <<<"$out" || fail "h2c: the answer upgrades: $out"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'GET /index.html HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' 3)
	[ "$(grep -c '^HTTP/1.1 200 ' <<<"$out")" = 2 ] || fail "websocket upgrade: $out"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'GET /index.html HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' 3)
	[ "$(grep -c '^HTTP/1.1 200 ' <<<"$out")" = 1 ] || fail "lone websocket upgrade: $out"
	log "h2c and websocket upgrades answered in HTTP/1.1"
}

# An upstream that never answers a request on a reused connection: with one server, pingd
# answers 504 after one read timeout and sends the request once (it resent it on the same
# server, silently, and answered after two). With a second server and retry_on_timeout, the
# request is tried there instead.
test_timeout_not_resent() {
	local out n hang_port hang_log
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin hangreuse || return 1
	hang_port=$PYO_PORT hang_log=$PYO_LOG
	free_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
timeouts: {upstream_read: 1s}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: o, servers: [{address: '127.0.0.1:$hang_port'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	start_pingd -c "$TMPD/pingd.yaml"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n' 5)
	[ "$(grep -c '^HTTP/1.1 200 ' <<<"$out")" = 1 ] && grep -q '^HTTP/1.1 504 ' <<<"$out" ||
		fail "one server: $(grep '^HTTP/' <<<"$out")"
	n=$(grep -c '^GET /b ' "$hang_log")
	[ "$n" = 1 ] || fail "the timed-out request reached the origin $n times"
	log "one server: 200 then 504, GET /b sent once"
	kill "$PINGD_PID"
	wait "$PINGD_PID" 2>/dev/null
	# Two servers, retry_on_timeout: the request that timed out goes to the other one.
	start_pyorigin echo || return 1
	: >"$hang_log"
	cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
timeouts: {upstream_read: 1s}
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: o, retry_on_timeout: true, selection: round_robin,
  servers: [{address: '127.0.0.1:$hang_port'}, {address: '127.0.0.1:$PYO_PORT'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
	start_pingd -c "$TMPD/pingd.yaml"
	for n in 1 2 3 4; do
		out=$("${L7TOOL[@]}" raw "$PINGD_PORT" "GET /c$n HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" 5)
		grep -q '^HTTP/1.1 200 ' <<<"$out" || fail "retry_on_timeout: request $n: $(head -1 <<<"$out")"
	done
	log "two servers, retry_on_timeout: 4 of 4 answered; hanging origin saw $(wc -l <"$hang_log") request(s)"
}

# nginx on 127.0.0.1:$2 inside namespace $1, its prefix under $TMPD/$3, access log on.
ns_origin() {
	origin_nginx "$TMPD/$3" "$2" "$TMPD/$3/logs/access.log" "$1"
}

# The namespace's count of connects that failed (refused), from TcpAttemptFails.
attempt_fails() {
	nsx "$1" cat /proc/net/snmp | awk '/^Tcp:/ {if (!h) {for (i = 1; i <= NF; i++) if ($i == "AttemptFails") c = i; h = 1} else print $c}'
}

# Two origins behind one-line pingd with its defaults, wrk load, and one origin killed
# (SIGKILL) mid-run, all in a namespace of the test's own (so the kernel's counters are its
# own): no request fails; after the first second the dead origin gets fewer than 10 connects
# a second (passive health backs off); restarted, it serves again within the cool-down.
test_origin_killed_under_load() {
	local ns=px-kill-$$ out f0 f1 f2 rate n i pid workers
	need_l7_tools wrk || return $?
	need_root || return
	l7_tmpdir
	netns_add $ns || return 1
	ns_origin $ns 18081 a
	ns_origin $ns 18082 b
	spawn nsx $ns "$PINGD" --listen 127.0.0.1:18080 --upstream 127.0.0.1:18081,127.0.0.1:18082 \
		2>"$TMPD/pingd.err"
	wait_port 127.0.0.1 18080 $ns || fail "pingd did not start"
	nsx $ns wrk -t1 -c32 -d8s http://127.0.0.1:18080/index.html >"$TMPD/wrk.out" 2>&1 &
	local wrk=$!
	sleep 2
	# The master first: killed after its worker, it could fork a new one in between.
	pid=$(cat "$TMPD/b/nginx.pid")
	workers=$(pgrep -P "$pid")
	kill -9 "$pid"
	kill -9 $workers
	f0=$(attempt_fails $ns)
	sleep 1
	f1=$(attempt_fails $ns)
	sleep 4
	f2=$(attempt_fails $ns)
	[ -z "$(nsx $ns ss -Hltn 'sport = :18082')" ] || fail "the killed origin still listens"
	wait $wrk
	out=$(cat "$TMPD/wrk.out")
	log "$(grep -E 'requests in|Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | tr '\n' ';')"
	grep -q 'requests in' <<<"$out" || fail "wrk: $out"
	! grep -qE "Non-2xx|Socket errors" <<<"$out" || fail "requests failed: $out $(cat "$TMPD/pingd.err")"
	rate=$(((f2 - f1) / 4))
	log "refused connects: $((f1 - f0)) in the first second after the kill, $((f2 - f1)) in the next 4 s"
	[ "$rate" -lt 10 ] || fail "$rate refused connects a second to the dead origin"
	# The origin comes back: within the first cool-down (10 s) a probe finds it and it
	# serves requests again.
	: >"$TMPD/b/logs/access.log"
	ns_origin $ns 18082 b
	for i in $(seq 1 150); do
		nsx $ns curl -s -o /dev/null "http://127.0.0.1:18080/index.html"
		n=$(wc -l <"$TMPD/b/logs/access.log")
		[ "$n" -ge 2 ] && break
		sleep 0.1
	done
	log "the restarted origin served $n request(s) after $i tries; $(grep -c 'out for\|back in' "$TMPD/pingd.err") health log line(s)"
	[ "$n" -ge 2 ] || fail "the restarted origin got no traffic back: $(cat "$TMPD/pingd.err")"
	grep -q 'back in' "$TMPD/pingd.err" || fail "no log line for the origin's return"
}

# One-line mode with its defaults under 64 keep-alive clients: the upstream pools grow to the
# concurrency seen, so the origin accepts about one connection per client per worker at most,
# not a new one every few requests (the pool held 32 and opened ~100 a second).
test_pool_grows_to_concurrency() {
	local before after workers=2
	need_l7_tools wrk || return $?
	l7_tmpdir
	start_origin || return 1
	start_pingd --workers $workers --upstream "127.0.0.1:$ORIGIN_PORT"
	before=$(origin_accepts)
	wrk -t1 -c64 -d4s "http://127.0.0.1:$PINGD_PORT/index.html" >"$TMPD/wrk.out" 2>&1
	after=$(origin_accepts)
	log "origin accepted $((after - before)) connections for $(grep -o '[0-9]* requests' "$TMPD/wrk.out")"
	[ $((after - before)) -le $((64 * workers + 8)) ] ||
		fail "$((after - before)) upstream connections for 64 clients and $workers workers"
}

# "OPTIONS *" is a question to the server itself: pingd answers 200 with Allow (it answered
# 404 from routing); "OPTIONS /path" still goes to the upstream.
test_options_star() {
	local out
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin echo || return 1
	start_pingd --upstream "127.0.0.1:$PYO_PORT"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n' 3)
	grep -q '^HTTP/1.1 200 ' <<<"$out" && grep -q '^Allow: ' <<<"$out" || fail "OPTIONS *: $out"
	! grep -q '^OPTIONS' "$PYO_LOG" || fail "OPTIONS * reached the upstream"
	out=$("${L7TOOL[@]}" raw "$PINGD_PORT" 'OPTIONS /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' 3)
	grep -q '^HTTP/1.1 200 ' <<<"$out" && grep -q '^OPTIONS /x' "$PYO_LOG" || fail "OPTIONS /x: $out"
	log "OPTIONS * answered by pingd, OPTIONS /x forwarded"
}

run_tests "$@"
