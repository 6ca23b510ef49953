#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The admin listener and the metrics exposition with real clients: curl and raw sockets against
# /metrics and /healthz, `promtool check metrics` on the output, and a real Prometheus server
# scraping it, its series read back through Prometheus' HTTP API (peer health going 1 -> 0
# when an origin is killed).

ALL_TESTS="test_admin_endpoints test_admin_bad_input test_promtool test_prometheus_scrape"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/opslib.sh"

# Origin(s) on free ports, a pingd config naming them, and the harness serving the admin
# endpoint on ADMIN_PORT: sets ORIGIN_PORT, DEAD_PORT, ADMIN_PORT, HARNESS_PID.
setup() {
	need_ops_tools curl "$@" || return $?
	ops_tmpdir
	ops_port || fail "no free port"
	ORIGIN_PORT=$PORT
	start_pyhttp "$ORIGIN_PORT"
	ops_port || fail "no free port"
	DEAD_PORT=$PORT
	ops_port || fail "no free port"
	ADMIN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<YAML
listeners: [{address: '127.0.0.1:$ORIGIN_PORT'}]
upstreams:
  - name: web
    servers: [{address: '127.0.0.1:$ORIGIN_PORT'}, {address: '127.0.0.1:$DEAD_PORT'}]
virtual_hosts:
  - {name: site, hosts: '*', routes: [{path: /, upstream: web}, {path: '/api/"v1"', upstream: web}]}
YAML
	"$OPS_HARNESS" --config "$TMPD/pingd.yaml" --admin "127.0.0.1:$ADMIN_PORT" \
		--drain-file "$TMPD/draining" --interval 200 --timeout 100 --rise 1 --fall 2 \
		>"$TMPD/events" 2>"$TMPD/harness.err" &
	HARNESS_PID=$!
	on_exit "kill $HARNESS_PID 2>/dev/null; wait $HARNESS_PID 2>/dev/null"
	wait_line "$TMPD/events" '^READY' 5 >/dev/null ||
		fail "harness did not start: $(cat "$TMPD/harness.err")"
	wait_port 127.0.0.1 "$ADMIN_PORT" || fail "admin listener not up"
}

admin_url() { echo "http://127.0.0.1:$ADMIN_PORT$1"; }

test_admin_endpoints() {
	setup || return $?
	local hdr body code
	hdr=$(curl -s -D - -o "$TMPD/metrics" --max-time 5 "$(admin_url /metrics)") ||
		fail "GET /metrics failed"
	grep -qi '^HTTP/1.1 200' <<<"$hdr" || fail "status: $hdr"
	grep -qi '^Content-Type: text/plain; version=0.0.4' <<<"$hdr" || fail "content type: $hdr"
	grep -qi '^Connection: close' <<<"$hdr" || fail "no Connection: close: $hdr"
	grep -q '^# TYPE pingd_requests_total counter$' "$TMPD/metrics" || fail "no requests family"
	grep -q '^pingd_upstream_peer_up{upstream="web",server="127.0.0.1:'"$ORIGIN_PORT"'"} 1$' \
		"$TMPD/metrics" || fail "live peer not up: $(grep peer_up "$TMPD/metrics")"
	# Label values with quotes are escaped.
	grep -qF 'route="/api/\"v1\""' "$TMPD/metrics" || fail "route label not escaped"
	# The dead peer goes down once fall (2) probes failed; the scrape shows it.
	wait_line "$TMPD/events" " web/127.0.0.1:$DEAD_PORT down" 5 >/dev/null ||
		fail "dead peer not marked down: $(cat "$TMPD/events")"
	curl -s --max-time 5 "$(admin_url /metrics)" |
		grep -q '^pingd_upstream_peer_up{upstream="web",server="127.0.0.1:'"$DEAD_PORT"'"} 0$' ||
		fail "dead peer not 0 in /metrics"
	# Each scrape is counted: the third one reports at least two earlier 2xx.
	body=$(curl -s --max-time 5 "$(admin_url /metrics)")
	grep -Eq '^pingd_requests_total\{vhost="",route="",code="2xx"\} [2-9]' <<<"$body" ||
		fail "scrapes not counted: $(grep 'code="2xx"' <<<"$body")"
	# HEAD: headers only.
	body=$(curl -s -I --max-time 5 "$(admin_url /metrics)")
	grep -q '^Content-Length: [1-9]' <<<"$body" || fail "HEAD: $body"
	[ "$(curl -s --head --max-time 5 -o /dev/null -w '%{size_download}' "$(admin_url /metrics)")" = 0 ] ||
		fail "HEAD sent a body"
	# /healthz: 200 "ok", 503 "draining" while the drain file exists, a query is ignored.
	[ "$(curl -s --max-time 5 "$(admin_url /healthz)")" = ok ] || fail "healthz not ok"
	[ "$(curl -s --max-time 5 "$(admin_url '/healthz?verbose=1')")" = ok ] || fail "query"
	touch "$TMPD/draining"
	code=$(curl -s -o "$TMPD/hz" -w '%{http_code}' --max-time 5 "$(admin_url /healthz)")
	[ "$code" = 503 ] && [ "$(cat "$TMPD/hz")" = draining ] || fail "draining: $code"
	rm -f "$TMPD/draining"
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$(admin_url /healthz)")" = 200 ] ||
		fail "healthz after drain"
	# Other paths and methods.
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$(admin_url /nope)")" = 404 ] ||
		fail "unknown path"
	hdr=$(curl -s -D - -o /dev/null -X POST -d x=1 --max-time 5 "$(admin_url /metrics)")
	grep -q '^HTTP/1.1 405' <<<"$hdr" && grep -qi '^Allow: GET, HEAD' <<<"$hdr" ||
		fail "POST: $hdr"
	# Concurrent scrapes (more than the admin serves at once) all get their answer.
	local i pids=() ok=0
	for ((i = 0; i < 40; i++)); do
		curl -s -o "$TMPD/c$i" -w '%{http_code}' --max-time 10 "$(admin_url /metrics)" \
			>"$TMPD/code$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((i = 0; i < 40; i++)); do
		[ "$(cat "$TMPD/code$i")" = 200 ] && grep -q '^pingd_connections_active ' "$TMPD/c$i" &&
			ok=$((ok + 1))
	done
	[ "$ok" = 40 ] || fail "only $ok of 40 concurrent scrapes succeeded"
	kill -0 "$HARNESS_PID" || fail "harness died"
}

# raw REQUEST: what the admin answers on a raw connection (up to 3 s).
raw() {
	python3 - "$ADMIN_PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    out += b"<timeout>"
sys.stdout.write(out.decode("latin-1"))
PY
}

test_admin_bad_input() {
	setup || return $?
	local out
	out=$(raw 'GET /metrics HTTP/1.1\r\n\r\n')
	[[ "$out" == "HTTP/1.1 400 "* ]] || fail "no Host: ${out:0:80}"
	out=$(raw 'GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')
	[[ "$out" == "HTTP/1.1 400 "* ]] || fail "bad header: ${out:0:80}"
	out=$(raw 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n')
	[[ "$out" == "HTTP/1.1 400 "* ]] || fail "CL+TE: ${out:0:80}"
	out=$(raw 'GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n')
	[[ "$out" == "HTTP/1.1 505 "* ]] || fail "version: ${out:0:80}"
	out=$(raw "GET /$(head -c 9000 /dev/zero | tr '\0' a) HTTP/1.1\r\nHost: x\r\n\r\n")
	[[ "$out" == "HTTP/1.1 431 "* || "$out" == "HTTP/1.1 414 "* ]] || fail "huge head: ${out:0:80}"
	out=$(raw '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03')
	[[ "$out" == "HTTP/1.1 400 "* ]] || fail "TLS hello: ${out:0:80}"
	# An incomplete request is closed after the admin timeout, without an answer; the
	# listener keeps serving meanwhile.
	python3 -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $ADMIN_PORT)); s.sendall(b'GET /met')
time.sleep(7)" &
	local slow=$!
	on_exit "kill $slow 2>/dev/null"
	sleep 0.3
	[ "$(curl -s --max-time 3 "$(admin_url /healthz)")" = ok ] || fail "blocked by a slow client"
	out=$(raw 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
	[[ "$out" == "HTTP/1.1 200 "* ]] || fail "after bad input: ${out:0:80}"
	kill -0 "$HARNESS_PID" || fail "harness died"
}

test_promtool() {
	setup promtool || return $?
	# Let a few probes and scrapes happen so that the output has non-zero values too.
	wait_line "$TMPD/events" " down " 5 >/dev/null || fail "no health transition"
	curl -s --max-time 5 "$(admin_url /metrics)" >/dev/null
	curl -s --max-time 5 "$(admin_url /metrics)" >"$TMPD/metrics" || fail "scrape failed"
	promtool check metrics <"$TMPD/metrics" >"$TMPD/promtool.out" 2>&1 ||
		fail "promtool: $(cat "$TMPD/promtool.out")"
	# promtool itself must reject a broken exposition, or this test proves nothing.
	printf '# TYPE x counter\nx{a="b\n' | promtool check metrics >/dev/null 2>&1 &&
		fail "promtool accepted a broken exposition"
	log "promtool: $(wc -l <"$TMPD/metrics") lines ok"
}

# Query Prometheus' HTTP API: prom_query EXPR prints "labels value" lines.
prom_query() {
	curl -s --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "success", d
for r in d["data"]["result"]:
    m = dict(r["metric"]); m.pop("__name__", None)
    print(",".join("%s=%s" % kv for kv in sorted(m.items())), r["value"][1])'
}

# Wait (bounded) until prom_query EXPR prints a line matching REGEX.
prom_wait() {
	local expr=$1 re=$2 i out
	for ((i = 0; i < 60; i++)); do
		out=$(prom_query "$expr" 2>/dev/null)
		grep -Eq "$re" <<<"$out" && return 0
		sleep 0.5
	done
	echo "   last answer to $expr: $out" >&2
	return 1
}

test_prometheus_scrape() {
	setup prometheus || return $?
	ops_port || fail "no free port"
	PROM_PORT=$PORT
	mkdir -p "$TMPD/prom"
	cat >"$TMPD/prom/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: pingd
    static_configs: [{targets: ['127.0.0.1:$ADMIN_PORT']}]
YAML
	promtool check config "$TMPD/prom/prometheus.yml" >/dev/null || fail "bad prometheus.yml"
	prometheus --config.file="$TMPD/prom/prometheus.yml" \
		--storage.tsdb.path="$TMPD/prom/data" \
		--web.listen-address="127.0.0.1:$PROM_PORT" >"$TMPD/prom/log" 2>&1 &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_port 127.0.0.1 "$PROM_PORT" "" 300 || fail "prometheus did not start: $(tail "$TMPD/prom/log")"
	# The target is scraped and healthy ...
	prom_wait 'up{job="pingd"}' '1$' || fail "target not up"
	prom_wait 'scrape_samples_scraped{job="pingd"}' ' [1-9][0-9]+$' || fail "no samples"
	# ... pingd's families arrive with their labels: both peers, the live one up and the dead
	# one down (health checks), histogram buckets, the pool ratio.
	prom_wait "pingd_upstream_peer_up{server=\"127.0.0.1:$ORIGIN_PORT\"}" ' 1$' ||
		fail "live peer not 1"
	prom_wait "pingd_upstream_peer_up{server=\"127.0.0.1:$DEAD_PORT\"}" ' 0$' ||
		fail "dead peer not 0"
	prom_wait 'pingd_request_duration_seconds_bucket{le="+Inf",route=""}' ' [1-9][0-9]*$' ||
		fail "histogram not scraped"
	prom_wait 'pingd_upstream_pool_reuse_ratio' 'upstream=web' || fail "ratio missing"
	prom_wait 'count(pingd_requests_total{vhost="site"})' ' 12$' ||
		fail "route series missing"
	# A change on the origin side reaches Prometheus: kill the live origin, its peer goes 0.
	kill "$ORIGIN_PID"
	wait "$ORIGIN_PID" 2>/dev/null
	prom_wait "pingd_upstream_peer_up{server=\"127.0.0.1:$ORIGIN_PORT\"}" ' 0$' ||
		fail "killed origin not 0 in Prometheus"
	# Requests counted from the scrapes themselves grow between evaluations.
	prom_wait 'increase(pingd_requests_total{code="2xx",route=""}[5s])' ' [1-9]' ||
		fail "request counter not increasing"
	log "prometheus scraped $(prom_query 'scrape_samples_scraped{job="pingd"}' | awk '{print $2}') samples"
}

run_tests "$@"
