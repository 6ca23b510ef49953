#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Rate limits in pingd (rate_limits:, --limit-rate): a client over its rate gets 429 with
# Retry-After and is served at the configured rate; the in-flight bound; delay mode holds
# requests instead of refusing them; header keys count clients apart; one log line per client
# crossing a limit; the counters on /metrics; pingd -t refuses bad limits with clear messages;
# an upstream's max_conns with its queue and queue_timeout.

ALL_TESTS="test_limit_rate_oneline test_429_keeps_connection test_inflight_bound \
	test_delay_mode test_header_key test_metrics_and_log test_check_rejects_bad_limits \
	test_upstream_max_conns_queue"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

LCLIENT=(python3 "$L7_DIR/limit_client.py")

# The value of one metric series: metric ADMIN_PORT 'NAME{LABELS}'
metric() {
	curl -s "http://127.0.0.1:$1/metrics" | awk -v s="$2" '$1 == s {print $2}'
}

# Write a config with listener LISTEN_PORT, admin ADMIN_PORT, origin ORIGIN_PORT, the
# rate_limits given as text in $1 and the route's limits list in $2: limits_conf FILE.
limits_conf() {
	cat >"$1" <<YAML
listeners:
  - address: 127.0.0.1:$LISTEN_PORT
admin:
  address: 127.0.0.1:$ADMIN_PORT
rate_limits:
$2
virtual_hosts:
  - name: default
    hosts: '*'
    routes:
      - path: /
        upstream: origin
        limits: [$3]
upstreams:
  - name: origin
    servers:
      - address: 127.0.0.1:$ORIGIN_PORT
YAML
}

ports() {
	free_port || return 1
	LISTEN_PORT=$PORT
	free_port || return 1
	ADMIN_PORT=$PORT
}

# --limit-rate 20/s:5 per client: flooding for 3 s gets burst + 1 + 20 x elapsed answers of
# 200 (within 10 %), every other answer 429 with a Retry-After.
test_limit_rate_oneline() {
	local out ok limited other elapsed nora want
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" --limit-rate 20/s:5 --workers 2 || return 1
	out=$("${LCLIENT[@]}" flood "$PINGD_PORT" 3)
	log "$out"
	eval "$(echo "$out" | tr ' ' '\n' | grep -E '^(ok|limited|other|elapsed|no_retry_after)=' |
		sed 's/^no_retry_after=/nora=/')"
	[ "$other" -eq 0 ] || fail "$other answers neither 200 nor 429"
	[ "$limited" -gt 0 ] || fail "nothing was limited"
	[ "$nora" -eq 0 ] || fail "$nora answers of 429 without Retry-After"
	want=$(python3 -c "print(6 + 20 * $elapsed)")
	python3 -c "import sys; sys.exit(0 if abs($ok - $want) <= 0.1 * $want else 1)" ||
		fail "$ok requests passed in ${elapsed}s, expected $want within 10 %"
	log "passed $ok, expected $want"
}

# A 429 keeps an HTTP/1.1 keep-alive connection open (as nginx's limit_req): with 1/s and no
# burst, six requests in a row on one connection get 200 then 429s with Retry-After and
# without "Connection: close", each answered on the same connection; a POST with an unread body
# still gets "Connection: close" (its body would be taken for the next request).
test_429_keeps_connection() {
	local out
	need_l7_tools h2load || return $?
	l7_tmpdir
	start_origin || return 1
	start_pingd --upstream "127.0.0.1:$ORIGIN_PORT" --limit-rate 1/s:0 --workers 1 || return 1
	out=$("${LCLIENT[@]}" keepalive "$PINGD_PORT" 6)
	log "$out"
	echo "$out" | grep -q "closed after" && { fail "pingd closed the connection: $out"; return 1; }
	# 429s, and a 200 again only if a second passed between two requests.
	echo "$out" | grep -Eq '^statuses=200(,(429|200)){5} close_headers=0 retry_after=[1-9]' &&
		echo "$out" | grep -q ',429' ||
		{ fail "not 200 then 429s on one connection: $out"; return 1; }
	out=$(printf 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nabc' |
		timeout 10 curl -s -i --max-time 5 -X POST --data-binary @- -H 'Expect:' \
			"http://127.0.0.1:$PINGD_PORT/" | tr -d '\r')
	echo "$out" | grep -q '^HTTP/1.1 429' || { fail "POST not limited: $out"; return 1; }
	echo "$out" | grep -qi '^connection: close' || { fail "a 429 with a body unread kept the connection"; return 1; }
	# HTTP/2 (prior knowledge): refused streams are answered 429 with Retry-After, on one
	# connection that goes on serving.
	out=$(timeout 20 h2load -n 6 -c 1 -m 1 "http://127.0.0.1:$PINGD_PORT/" 2>&1)
	log "h2: $(grep -E 'requests:|status codes' <<<"$out" | tr '\n' ' ')"
	grep -Eq 'requests: 6 total, 6 started, 6 done' <<<"$out" &&
		grep -Eq 'status codes: [0-9]+ 2xx, 0 3xx, [1-9][0-9]* 4xx, 0 5xx' <<<"$out" ||
		{ fail "HTTP/2 streams over the limit not all answered: $out"; return 1; }
	out=$(curl -s -i --max-time 5 --http2-prior-knowledge "http://127.0.0.1:$PINGD_PORT/" \
		"http://127.0.0.1:$PINGD_PORT/" | tr -d '\r')
	grep -q '^HTTP/2 429' <<<"$out" && grep -qi '^retry-after: [1-9]' <<<"$out" ||
		{ fail "no HTTP/2 429 with Retry-After: $out"; return 1; }
}

# inflight: 2 per key: of 5 requests at once to an origin that takes 2 s, 2 pass and 3 get
# 429; once they are done the key is free again.
test_inflight_bound() {
	local out
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin late || return 1
	ORIGIN_PORT=$PYO_PORT
	ports || return 1
	limits_conf "$TMPD/p.yaml" "  - name: conc
    key: [client_addr, header:X-Api-Key]
    inflight: 2" conc
	start_pingd -c "$TMPD/p.yaml" || return 1
	out=$("${LCLIENT[@]}" parallel "$PINGD_PORT" 5 "X-Api-Key: k1")
	log "5 at once: $out"
	[ "$out" = "200 200 429 429 429" ] || fail "expected 2 x 200 and 3 x 429, got $out"
	out=$("${LCLIENT[@]}" parallel "$PINGD_PORT" 1 "X-Api-Key: k1")
	[ "$out" = 200 ] || fail "the key stayed busy after its requests ended: $out"
	[ "$(metric "$ADMIN_PORT" 'pingd_limit_requests_total{limit="conc",result="inflight"}')" = 3 ] ||
		fail "the inflight counter is not 3"
}

# delay: on (nginx's limit_req without nodelay): 6 requests at once at 5/s with a burst of 5
# all pass, the first at once and the other 5 held to the rate; none is refused.
test_delay_mode() {
	local out
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	ports || return 1
	limits_conf "$TMPD/p.yaml" "  - name: slow
    rate: 5/s
    burst: 5
    delay: 'on'" slow
	start_pingd -c "$TMPD/p.yaml" || return 1
	out=$("${LCLIENT[@]}" parallel "$PINGD_PORT" 6)
	log "6 at once: $out"
	[ "$out" = "200 200 200 200 200 200" ] || fail "expected 6 x 200, got $out"
	[ "$(metric "$ADMIN_PORT" 'pingd_limit_requests_total{limit="slow",result="delayed"}')" = 5 ] ||
		fail "expected 5 delayed requests"
	[ "$(metric "$ADMIN_PORT" 'pingd_limit_requests_total{limit="slow",result="rejected"}')" = 0 ] ||
		fail "delay mode rejected requests within the burst"
	# Past the burst, delay mode refuses too.
	out=$("${LCLIENT[@]}" parallel "$PINGD_PORT" 12)
	log "12 at once: $out"
	case "$out" in *429*) ;; *) fail "12 requests at once past a burst of 5 were all served" ;; esac
}

# key: header:X-Api-Key: one key over its limit does not limit another; a request without the
# header is not under the limit at all (an empty key, as nginx).
test_header_key() {
	local a b none
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	ports || return 1
	limits_conf "$TMPD/p.yaml" "  - name: perkey
    key: header:X-Api-Key
    rate: 1/m" perkey
	start_pingd -c "$TMPD/p.yaml" || return 1
	a=$("${LCLIENT[@]}" flood "$PINGD_PORT" 1 "X-Api-Key: a")
	b=$("${LCLIENT[@]}" parallel "$PINGD_PORT" 1 "X-Api-Key: b")
	none=$("${LCLIENT[@]}" flood "$PINGD_PORT" 1)
	log "key a: $a; key b: $b; no key: $none"
	case "$a" in "ok=1 "*) ;; *) fail "key a: expected one request passed" ;; esac
	[ "$b" = 200 ] || fail "key b was limited by key a's requests"
	case "$none" in *" limited=0 "*) ;; *) fail "requests without the header were limited" ;; esac
}

# The counters per limit on /metrics, and one log line per client crossing a limit however
# many requests it sends over it.
test_metrics_and_log() {
	local passed rejected lines
	need_l7_tools || return $?
	l7_tmpdir
	start_origin || return 1
	ports || return 1
	limits_conf "$TMPD/p.yaml" "  - name: perip
    rate: 2/s
    burst: 4" perip
	start_pingd -c "$TMPD/p.yaml" 2>"$TMPD/pingd.err" || return 1
	"${LCLIENT[@]}" flood "$PINGD_PORT" 2 >"$TMPD/flood"
	log "$(cat "$TMPD/flood")"
	passed=$(metric "$ADMIN_PORT" 'pingd_limit_requests_total{limit="perip",result="passed"}')
	rejected=$(metric "$ADMIN_PORT" 'pingd_limit_requests_total{limit="perip",result="rejected"}')
	grep -q "ok=$passed limited=$rejected " "$TMPD/flood" ||
		fail "metrics say passed $passed, rejected $rejected"
	[ "$(metric "$ADMIN_PORT" 'pingd_limit_keys{limit="perip"}')" = 1 ] ||
		fail "pingd_limit_keys is not 1 right after one client's flood"
	lines=$(grep -c "limit 'perip': client 127.0.0.1 over 2/s" "$TMPD/pingd.err")
	log "crossing lines: $lines"
	[ "$lines" = 1 ] || fail "expected one crossing log line, got $lines"
}

# pingd -t: zero and negative rates, a burst that takes days to refill, a burst out of bounds,
# unknown key parts, a limit that limits nothing, an unknown limit name: one clear line each.
test_check_rejects_bad_limits() {
	local out
	need_l7_tools || return $?
	l7_tmpdir
	ORIGIN_PORT=1 LISTEN_PORT=1 ADMIN_PORT=2
	limits_conf "$TMPD/bad.yaml" "  - name: zero
    rate: 0/s
  - name: neg
    rate: -5/s
  - name: days
    rate: 0.001/s
    burst: 1000000
  - name: huge
    rate: 10/s
    burst: 100000000
  - name: badkey
    key: [cookie:x]
    rate: 1/s
  - name: nothing
  - name: words
    rate: ten per second
  - name: delay
    rate: 1/s
    delay: sometimes
  - name: width
    rate: 1/s
    table_width: 1000
  - name: denybad
    key: header:X
    rate: 1/s
    deny_after: 10s" "zero, nosuch"
	if out=$("$PINGD" -t -c "$TMPD/bad.yaml" 2>&1); then
		fail "pingd -t accepted the bad limits"
	fi
	echo "$out" | sed 's/^/   | /'
	for want in "'0/s': a rate must be above 0" "'-5/s': a rate must be above 0" \
		"take 1000000000 s to refill, more than a day" \
		"'rate_limits[].burst': expected an integer in [0, 1000000], got '100000000'" \
		"expected client_addr, header:NAME, route, host or hook, got 'cookie:x'" \
		"'nothing' sets neither rate nor inflight" \
		"expected N/s or N/m (N above 0), got 'ten per second'" \
		"expected off, on or a count (0..1000000), got 'sometimes'" \
		"expected a power of two, got 1000" \
		"only a limit with a rate keyed on client_addr alone can push" \
		"no rate limit named 'nosuch'"; do
		echo "$out" | grep -qF -- "$want" || fail "no message '$want'"
	done
	"$PINGD" -t --listen 127.0.0.1:1 --upstream 127.0.0.1:2 --limit-rate 0/m >/dev/null 2>&1 &&
		fail "--limit-rate 0/m accepted"
	"$PINGD" -t --listen 127.0.0.1:1 --upstream 127.0.0.1:2 --limit-rate 10/s:5 >/dev/null ||
		fail "--limit-rate 10/s:5 refused"
}

# upstreams[].max_conns 1 with a queue of 2, an origin that takes 2 s: of 4 requests at once
# one goes at once, two wait their turn, the fourth finds the queue full (503). With a
# queue_timeout shorter than the origin, the waiting ones get 503 instead.
test_upstream_max_conns_queue() {
	local out
	need_l7_tools || return $?
	l7_tmpdir
	start_pyorigin late || return 1
	ports || return 1
	cat >"$TMPD/q.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$LISTEN_PORT
virtual_hosts:
  - name: default
    hosts: '*'
    routes:
      - path: /
        upstream: origin
upstreams:
  - name: origin
    max_conns: 1
    queue: 2
    queue_timeout: QT
    servers:
      - address: 127.0.0.1:$PYO_PORT
YAML
	sed 's/QT/30s/' "$TMPD/q.yaml" >"$TMPD/q1.yaml"
	start_pingd -c "$TMPD/q1.yaml" || return 1
	out=$("${LCLIENT[@]}" parallel "$PINGD_PORT" 4)
	log "4 at once, queue 2: $out"
	[ "$out" = "200 200 200 503" ] || fail "expected 3 x 200 and one 503, got $out"
	[ "$(grep -c '^GET' "$PYO_LOG")" = 3 ] || fail "the origin saw $(grep -c '^GET' "$PYO_LOG") requests"
	kill "$PINGD_PID"
	wait "$PINGD_PID" 2>/dev/null
	sed 's/QT/500ms/' "$TMPD/q.yaml" >"$TMPD/q2.yaml"
	free_port || return 1
	sed -i "s/127.0.0.1:$LISTEN_PORT/127.0.0.1:$PORT/" "$TMPD/q2.yaml"
	LISTEN_PORT=$PORT
	start_pingd -c "$TMPD/q2.yaml" || return 1
	out=$("${LCLIENT[@]}" parallel "$PINGD_PORT" 4)
	log "4 at once, queue_timeout 500ms: $out"
	[ "$out" = "200 503 503 503" ] || fail "expected one 200 and 3 x 503, got $out"
	"$PINGD" -t -c <(sed 's/QT/0/' "$TMPD/q.yaml") >/dev/null 2>&1 &&
		fail "queue_timeout 0 accepted"
	return 0
}

run_tests "$@"
