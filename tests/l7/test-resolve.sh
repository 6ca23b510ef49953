#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Upstream servers written as NAME:PORT: localhost (from /etc/hosts) proxies to an origin on
# 127.0.0.1 with the resolved address in logs and metrics; a name that does not resolve
# (.invalid, RFC 6761) fails pingd -t and start, and a reload to it keeps the running
# configuration serving. No DNS server is asked. Loopback ports 20000-29999.
ALL_TESTS="test_name_proxies test_oneline_name test_check_unresolvable"
ALL_TESTS+=" test_reload_unresolvable"

source "$(dirname "$0")/../integration/lib.sh"
source "$PINGX_TOP/tests/l7/l7lib.sh"

# A python http.server origin on 127.0.0.1 that answers 200 "ok" and appends "PATH HOST" for
# every request to a log: sets HO_PORT and HO_LOG.
start_host_origin() {
	free_port || return 1
	HO_PORT=$PORT
	HO_LOG=$TMPD/host-origin-$PORT.log
	: >"$HO_LOG"
	spawn python3 -c '
import http.server, sys

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        with open(sys.argv[2], "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Host")))
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$HO_PORT" "$HO_LOG"
	wait_port 127.0.0.1 "$HO_PORT" || { fail "python origin did not start"; return 1; }
}

# write_cfg FILE LISTEN_PORT ADMIN_PORT SERVER...: one pool "web" over the SERVERs (YAML flow
# items), HTTP health checks every 200 ms, the JSON access log in $TMPD/access.log.
write_cfg() {
	local f=$1 lp=$2 ap=$3 s
	shift 3
	{
		echo "workers: 2"
		echo "upgrade_socket: $TMPD/up.sock"
		echo "log: {level: info, access_log: $TMPD/access.log, access_format: json}"
		echo "admin: {address: 127.0.0.1:$ap}"
		echo "listeners:"
		echo "  - address: 127.0.0.1:$lp"
		echo "upstreams:"
		echo "  - name: web"
		echo "    selection: weighted_round_robin"
		echo "    health: {check: http, interval: 200ms, timeout: 100ms, path: /hc}"
		echo "    servers:"
		for s in "$@"; do echo "      - $s"; done
		echo "virtual_hosts:"
		echo "  - name: all"
		echo "    hosts: '*'"
		echo "    routes:"
		echo "      - {path: /, upstream: web}"
	} >"$f"
}

# Requests through pingd to a python origin named localhost:PORT: answered by the origin,
# the access log and metrics name 127.0.0.1:PORT, health checks ask with Host: localhost:PORT.
test_name_proxies() {
	need_l7_tools || return $?
	l7_tmpdir
	start_host_origin || return 1
	free_port || return 1
	local lp=$PORT ap cfg=$TMPD/pingd.yaml err=$TMPD/pingd.err i code metrics
	free_port || return 1
	ap=$PORT
	write_cfg "$cfg" "$lp" "$ap" "{address: 'localhost:$HO_PORT', weight: 2}"
	"$PINGD" -t -c "$cfg" || fail "pingd -t rejects localhost:$HO_PORT"
	LISTEN_PORT=$lp
	start_pingd -c "$cfg" 2>"$err" || return 1
	for ((i = 0; i < 20; i++)); do
		code=$(http_status "/through-name-$i")
		[ "$code" = 200 ] || fail "request $i: $code"
	done
	[ "$(grep -c '^/through-name-' "$HO_LOG")" -eq 20 ] ||
		fail "the origin did not see the 20 requests"
	grep -q "upstream 'web': localhost:$HO_PORT resolved to 127.0.0.1:$HO_PORT" "$err" ||
		fail "what the name resolved to is not logged: $(cat "$err")"
	wait_grep '/through-name-19' "$TMPD/access.log" 50
	grep '/through-name-19' "$TMPD/access.log" | grep -q "\"upstream\":\"127.0.0.1:$HO_PORT\"" ||
		fail "access log without the resolved address: $(tail -1 "$TMPD/access.log")"
	# Health probes of a named server carry its name as Host.
	wait_grep '^/hc ' "$HO_LOG" 50 || fail "no health probe reached the origin"
	grep -qvx "/hc localhost:$HO_PORT" <(grep '^/hc ' "$HO_LOG") &&
		fail "probe Host is not the name: $(grep '^/hc ' "$HO_LOG" | sort -u)"
	metrics=$(curl -s --max-time 5 "http://127.0.0.1:$ap/metrics")
	grep -qxF "pingd_upstream_peer_info{upstream=\"web\",server=\"127.0.0.1:$HO_PORT\",name=\"localhost:$HO_PORT\"} 1" <<<"$metrics" ||
		fail "no peer_info for the name"
	grep -qxF "pingd_upstream_peer_up{upstream=\"web\",server=\"127.0.0.1:$HO_PORT\"} 1" <<<"$metrics" ||
		fail "peer_up not labelled with the resolved address"
	kill -0 "$PINGD_PID" || fail "pingd died"
}

# The one-line mode: --upstream localhost:PORT.
test_oneline_name() {
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	start_pingd --upstream "localhost:$ORIGIN_PORT" --workers 1 || return 1
	[ "$(curl -s --max-time 5 "http://127.0.0.1:$PINGD_PORT/index.html")" = hello ] ||
		fail "not proxied to the nginx origin"
	[ "$(http_status /index.html)" = 200 ] || fail "second request"
}

# pingd -t and start with a name that cannot resolve, or a listener on a name: exit 1 with
# the message at the item's line; nothing listens.
test_check_unresolvable() {
	need_l7_tools || return $?
	l7_tmpdir
	free_port || return 1
	local lp=$PORT ap cfg=$TMPD/pingd.yaml out=$TMPD/out rc
	free_port || return 1
	ap=$PORT
	write_cfg "$cfg" "$lp" "$ap" "{address: '127.0.0.1:$ap'}" "{address: 'nosuch.invalid:80'}"
	rc=0
	"$PINGD" -t -c "$cfg" >"$out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "pingd -t exited $rc"
	grep -qxF "$cfg:13: 'upstreams[].servers[].address': cannot resolve 'nosuch.invalid': Name or service not known" "$out" ||
		fail "message: $(cat "$out")"
	# Start fails the same way, before binding anything.
	rc=0
	timeout 10 "$PINGD" -c "$cfg" >"$out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "pingd started (or died otherwise): exit $rc"
	grep -q "cannot resolve 'nosuch.invalid'" "$out" || fail "start message: $(cat "$out")"
	wait_port 127.0.0.1 "$lp" "" 3 && fail "something listens on $lp"
	# The one-line mode too.
	rc=0
	"$PINGD" -t --listen "127.0.0.1:$lp" --upstream "localhost:$ap,nosuch.invalid:$ap" \
		>"$out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "one-line pingd -t exited $rc"
	grep -q "^command line:8: 'upstreams\[\].servers\[\].address': cannot resolve 'nosuch.invalid'" "$out" ||
		fail "one-line message: $(cat "$out")"
	# A listener takes no name, and says why.
	sed -i "s/address: 127.0.0.1:$lp/address: localhost:$lp/; s/nosuch.invalid:80/localhost:80/" "$cfg"
	rc=0
	"$PINGD" -t -c "$cfg" >"$out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "pingd -t with a listener on a name exited $rc"
	grep -qF "$cfg:6: 'listeners[].address': expected IPv4:PORT or [IPv6]:PORT, got 'localhost:$lp': a listener binds an IP address; host names are not resolved here" "$out" ||
		fail "listener message: $(cat "$out")"
}

# SIGHUP to a config naming nosuch.invalid: rejected with the message, and requests sent all
# along keep reaching the first origin; a later reload to a good name is taken.
test_reload_unresolvable() {
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin echo || return 1
	local a=$PYO_PORT alog=$PYO_LOG
	start_pyorigin echo || return 1
	local b=$PYO_PORT blog=$PYO_LOG
	free_port || return 1
	local lp=$PORT ap cfg=$TMPD/pingd.yaml err=$TMPD/pingd.err codes=$TMPD/codes i
	free_port || return 1
	ap=$PORT
	write_cfg "$cfg" "$lp" "$ap" "{address: 'localhost:$a'}"
	LISTEN_PORT=$lp
	start_pingd -c "$cfg" 2>"$err" || return 1
	[ "$(http_status /before)" = 200 ] || fail "not serving before the reload"

	# Requests all along the rejected reload: 40, 50 ms apart.
	(for ((i = 0; i < 40; i++)); do
		http_status "/during-$i"
		echo
		sleep 0.05
	done) >"$codes" &
	local loop=$!
	on_exit "kill $loop 2>/dev/null"
	sleep 0.3
	write_cfg "$cfg" "$lp" "$ap" "{address: 'localhost:$b'}" "{address: 'nosuch.invalid:$b'}"
	kill -HUP "$PINGD_PID"
	wait "$loop"
	[ "$(grep -cx 200 "$codes")" -eq 40 ] || fail "failed requests during the reload: $(sort "$codes" | uniq -c)"
	[ "$(grep -c '^GET /during-' "$alog")" -eq 40 ] || fail "requests left the running origin"
	grep -q '^GET /during-' "$blog" && fail "the rejected configuration was applied"
	grep -q "cannot resolve 'nosuch.invalid': Name or service not known" "$err" ||
		fail "the resolve failure was not logged: $(cat "$err")"
	grep -q "configuration rejected, the running one stays" "$err" || fail "rejection not logged"
	kill -0 "$PINGD_PID" || fail "pingd died"

	# A good name afterwards is taken.
	write_cfg "$cfg" "$lp" "$ap" "{address: 'localhost:$b'}"
	kill -HUP "$PINGD_PID"
	wait_grep "reloaded:" "$err" 50 || fail "the good configuration was not taken"
	[ "$(http_status /after)" = 200 ] || fail "not serving after the reload"
	grep -q '^GET /after ' "$blog" || fail "the new origin did not get /after"
}

run_tests "$@"
