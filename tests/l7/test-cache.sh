#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingd's HTTP cache with real clients and an nginx origin whose access log counts the
# requests that reach it: hits with Age and Cache-Status, HEAD, 304 and ranges from the store;
# one upstream fetch for 500 concurrent requests of a cold key; objects over the size limit
# stream through; PURGE and its ACL; invalidation by PUT; pingctl cache purge and stats
# through the admin listener; a byte-bounded cache under churn stays within its bound (store
# accounting and RSS); deep pipelining of hits; stale-while-revalidate with a background
# refresh; configuration errors.

ALL_TESTS="test_hit_head_304_range test_stampede_one_fetch test_large_streams_uncached \
	test_purge_and_acl test_unsafe_invalidates test_pingctl_purge_stats test_eviction_bound \
	test_pipelined_hits test_swr_background_refresh test_bad_config"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

PINGCTL=$O/pingctl

# An nginx origin with an access log (ORIGIN_LOG) and pingd with one cache in front of it (or
# of the origin on port UPSTREAM_PORT when set): setup_cache "CACHE KEYS" (indented YAML lines
# of caches[0]). Sets ADMIN_PORT too.
setup_cache() {
	need_l7_tools || return $?
	l7_tmpdir
	free_port || return 1
	ORIGIN_PORT=$PORT
	ORIGIN_ROOT=$TMPD/nginx/html
	ORIGIN_LOG=$TMPD/access.log
	origin_nginx "$TMPD/nginx" "$ORIGIN_PORT" "$ORIGIN_LOG" || return 1
	free_port || return 1
	LISTEN_PORT=$PORT
	free_port || return 1
	ADMIN_PORT=$PORT
	cat >"$TMPD/pingd.yaml" <<EOF
workers: 2
admin:
  address: 127.0.0.1:$ADMIN_PORT
listeners:
  - address: 127.0.0.1:$LISTEN_PORT
upstreams:
  - name: origin
    servers:
      - address: 127.0.0.1:${UPSTREAM_PORT:-$ORIGIN_PORT}
caches:
  - name: main
$1
virtual_hosts:
  - name: all
    hosts: '*'
    routes:
      - path: /
        upstream: origin
        cache: main
EOF
	start_pingd -c "$TMPD/pingd.yaml"
	wait_port 127.0.0.1 "$ADMIN_PORT" || fail "admin listener not up"
}

# Requests for PATH that reached the origin (its access log is written per request).
origin_hits() {
	grep -c " $1 HTTP" "$ORIGIN_LOG" || true
}

# A response header of a GET through pingd: hdr PATH NAME [curl args...]
hdr() {
	local path=$1 name=$2
	shift 2
	curl -s -D - -o /dev/null --max-time 10 "$@" "http://127.0.0.1:$PINGD_PORT$path" |
		tr -d '\r' | awk -v n="$name" 'BEGIN {IGNORECASE = 1} tolower($1) == tolower(n) ":" \
			{sub(/^[^:]*: */, ""); print; exit}'
}

metric() {
	curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

test_hit_head_304_range() {
	setup_cache "    size: 16m
    default_ttl: 60s" || return $?
	local cs etag
	cs=$(hdr /index.html Cache-Status)
	case "$cs" in *fwd=miss*stored*) ;; *) fail "first GET: Cache-Status '$cs'" ;; esac
	cs=$(hdr /index.html Cache-Status)
	[ "$cs" = "pingd; hit" ] || fail "second GET: Cache-Status '$cs'"
	[ -n "$(hdr /index.html Age)" ] || fail "a hit without Age"
	[ "$(curl -s "http://127.0.0.1:$PINGD_PORT/index.html")" = hello ] || fail "hit body"
	# HEAD from the stored GET, with the stored length
	[ "$(hdr /index.html Content-Length -I)" = 6 ] || fail "HEAD length"
	[ "$(hdr /index.html Cache-Status -I)" = "pingd; hit" ] || fail "HEAD not a hit"
	# the client's conditional answered from the store
	etag=$(hdr /index.html ETag)
	[ -n "$etag" ] || fail "no ETag stored"
	[ "$(http_status /index.html -H "If-None-Match: $etag")" = 304 ] || fail "INM not 304"
	[ "$(http_status /index.html -H 'If-None-Match: "other"')" = 200 ] || fail "INM other"
	# one range of the stored body, and one past its end
	[ "$(curl -s -r 1-3 "http://127.0.0.1:$PINGD_PORT/index.html")" = ell ] || fail "range"
	[ "$(http_status /index.html -r 1-3)" = 206 ] || fail "range status"
	[ "$(http_status /index.html -r 100-)" = 416 ] || fail "unsatisfiable range"
	[ "$(origin_hits /index.html)" = 1 ] || fail "origin saw $(origin_hits /index.html) GETs"
	[ "$(metric 'pingd_cache_requests_total{cache="main",result="hit"}')" -ge 8 ] ||
		fail "hit counter: $(metric 'pingd_cache_requests_total{cache="main",result="hit"}')"
}

# 500 clients ask at once for a key nobody has fetched; the origin sends it slowly (64 KB/s,
# about 1.5 s for 100 KB): one request reaches it, the others wait for that fetch and are
# answered from the store.
test_stampede_one_fetch() {
	setup_cache "    size: 64m
    default_ttl: 60s
    lock_timeout: 60s" || return $?
	mkdir -p "$ORIGIN_ROOT/slow"
	head -c 102400 /dev/urandom >"$ORIGIN_ROOT/slow/blob"
	local want
	want=$(sha256sum <"$ORIGIN_ROOT/slow/blob" | cut -d' ' -f1)
	python3 - "$PINGD_PORT" "$want" <<'EOF' || fail "concurrent clients"
import hashlib, socket, sys, threading
port, want = int(sys.argv[1]), sys.argv[2]
N = 500
start = threading.Barrier(N)
bad = []
def one(i):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    start.wait()
    s.sendall(b"GET /slow/blob HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200") or hashlib.sha256(body).hexdigest() != want:
        bad.append(head[:80])
ts = [threading.Thread(target=one, args=(i,)) for i in range(N)]
for t in ts:
    t.start()
for t in ts:
    t.join()
if bad:
    print(len(bad), "bad responses, e.g.", bad[0])
    sys.exit(1)
EOF
	local n
	n=$(origin_hits /slow/blob)
	log "origin requests for the key: $n; waits: $(metric 'pingd_cache_lock_waits_total{cache="main"}')"
	[ "$n" = 1 ] || fail "$n requests reached the origin, want 1"
	[ "$(metric 'pingd_cache_lock_waits_total{cache="main"}')" -gt 0 ] ||
		fail "no request waited for the fetch"
}

test_large_streams_uncached() {
	setup_cache "    size: 4m
    shards: 4
    max_object_size: 64k
    default_ttl: 60s" || return $?
	head -c 300000 /dev/urandom >"$ORIGIN_ROOT/big"
	local want got i
	want=$(sha256sum <"$ORIGIN_ROOT/big" | cut -d' ' -f1)
	for i in 1 2; do
		got=$(curl -s "http://127.0.0.1:$PINGD_PORT/big" | sha256sum | cut -d' ' -f1)
		[ "$got" = "$want" ] || fail "body $i differs"
	done
	[ "$(origin_hits /big)" = 2 ] || fail "a large object was served from the cache"
	[ "$(hdr /big Cache-Status)" != "pingd; hit" ] || fail "large object a hit"
}

test_purge_and_acl() {
	setup_cache "    size: 16m
    default_ttl: 60s
    purge_allow: [10.0.0.0/8, 127.0.0.1]" || return $?
	curl -s -o /dev/null "http://127.0.0.1:$PINGD_PORT/index.html"
	[ "$(hdr /index.html Cache-Status)" = "pingd; hit" ] || fail "not cached"
	[ "$(http_status /index.html -X PURGE)" = 200 ] || fail "PURGE not 200"
	[ "$(http_status /index.html -X PURGE)" = 404 ] || fail "second PURGE not 404"
	case "$(hdr /index.html Cache-Status)" in *fwd=miss*) ;; *) fail "hit after PURGE" ;; esac
	[ "$(origin_hits /index.html)" = 2 ] || fail "origin saw $(origin_hits /index.html)"
	# a client outside purge_allow (pingd sees ::1 as not 127.0.0.1's prefix)
	sed -i 's|purge_allow: .*|purge_allow: [10.0.0.0/8]|' "$TMPD/pingd.yaml"
	kill -HUP "$PINGD_PID"
	local i
	for i in $(seq 50); do
		[ "$(http_status /index.html -X PURGE)" = 403 ] && break
		sleep 0.1
	done
	[ "$(http_status /index.html -X PURGE)" = 403 ] || fail "PURGE allowed outside the ACL"
	# the reload kept the cache (same name and size)
	[ "$(hdr /index.html Cache-Status)" = "pingd; hit" ] || fail "reload emptied the cache"
}

test_unsafe_invalidates() {
	setup_cache "    size: 16m
    default_ttl: 60s" || return $?
	echo one >"$ORIGIN_ROOT/up/doc"
	[ "$(curl -s "http://127.0.0.1:$PINGD_PORT/up/doc")" = one ] || fail "first GET"
	[ "$(hdr /up/doc Cache-Status)" = "pingd; hit" ] || fail "not cached"
	[ "$(http_status /up/doc -X PUT --data-binary two)" = 204 ] || fail "PUT through pingd"
	[ "$(curl -s "http://127.0.0.1:$PINGD_PORT/up/doc")" = two ] || fail "stale after PUT"
}

test_pingctl_purge_stats() {
	setup_cache "    size: 16m
    default_ttl: 60s" || return $?
	local out
	curl -s -o /dev/null "http://127.0.0.1:$PINGD_PORT/index.html"
	curl -s -o /dev/null "http://127.0.0.1:$PINGD_PORT/a/1"
	curl -s -o /dev/null "http://127.0.0.1:$PINGD_PORT/a/2"
	out=$("$PINGCTL" cache --admin "127.0.0.1:$ADMIN_PORT" stats) || fail "stats: $out"
	echo "$out"
	echo "$out" | grep -q '^main ' || fail "no row for the cache"
	out=$("$PINGCTL" -j cache --admin "127.0.0.1:$ADMIN_PORT" stats) || fail "stats -j"
	echo "$out" | python3 -c 'import json,sys; c=json.load(sys.stdin)["caches"][0]; \
		sys.exit(0 if c["name"] == "main" and c["items"] >= 3 else 1)' || fail "json: $out"
	out=$("$PINGCTL" cache --admin "127.0.0.1:$ADMIN_PORT" purge \
		"http://127.0.0.1:$PINGD_PORT/index.html") || fail "purge: $out"
	echo "$out" | grep -q '^purged 1' || fail "purge said: $out"
	out=$("$PINGCTL" cache --admin "127.0.0.1:$ADMIN_PORT" purge --prefix \
		"http://127.0.0.1:$PINGD_PORT/a/") || fail "purge --prefix: $out"
	echo "$out" | grep -q '^purged 2' || fail "purge --prefix said: $out"
	case "$(hdr /a/1 Cache-Status)" in *fwd=miss*) ;; *) fail "hit after purge" ;; esac
	# bad use: exit 2 with a usage line
	"$PINGCTL" cache --admin "127.0.0.1:$ADMIN_PORT" purge >/dev/null 2>&1
	[ $? = 2 ] || fail "purge without a URL"
	"$PINGCTL" cache --admin nowhere stats >/dev/null 2>&1
	[ $? = 2 ] || fail "a bad admin address"
}

# 48 MB of distinct 64 KB objects through a 8 MB cache: the store never charges more than its
# bound, and pingd's RSS after the churn is within one bound of its RSS after the first fill.
test_eviction_bound() {
	setup_cache "    size: 8m
    shards: 4
    default_ttl: 60s" || return $?
	head -c 65536 /dev/urandom >"$ORIGIN_ROOT/obj"
	python3 - "$PINGD_PORT" "$PINGD_PID" "$ADMIN_PORT" <<'EOF' || fail "churn"
import http.client, re, sys, urllib.request
port, pid, admin = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
cap = 8 << 20
def rss():
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) * 1024
def cache_bytes():
    m = urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics").read().decode()
    return int(float(re.search(r'^pingd_cache_bytes\{cache="main"\} (\S+)', m, re.M).group(1)))
c = http.client.HTTPConnection("127.0.0.1", port)
def churn(lo, hi):
    for i in range(lo, hi):
        c.request("GET", f"/obj?k={i}")
        r = c.getresponse()
        if r.status != 200 or len(r.read()) != 65536:
            sys.exit(f"request {i}: {r.status}")
        if i % 64 == 0 and cache_bytes() > cap:
            sys.exit(f"store holds {cache_bytes()} bytes, bound {cap}")
churn(0, 256)
base = rss()
churn(256, 1024)
after = rss()
print(f"rss after one fill {base >> 10} KiB, after 6 fills {after >> 10} KiB, store {cache_bytes()}")
if after - base > cap:
    sys.exit("RSS grew by more than the bound")
EOF
}

# 3000 pipelined requests for a cached object in one write (pingd reads about 64 KB of them at
# a time): every one is answered, in order, from the store.
test_pipelined_hits() {
	setup_cache "    size: 16m
    default_ttl: 60s" || return $?
	curl -s -o /dev/null -H 'Host: t' "http://127.0.0.1:$PINGD_PORT/index.html"
	python3 - "$PINGD_PORT" <<'EOF' || fail "pipelined hits"
import socket, sys
port, n = int(sys.argv[1]), 3000
s = socket.create_connection(("127.0.0.1", port), timeout=20)
req = b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n"
last = b"GET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
s.sendall(req * (n - 1) + last)
data = b""
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    data += b
got = data.count(b"HTTP/1.1 200 OK")
hits = data.count(b"Cache-Status: pingd; hit")
print(f"{got} responses, {hits} hits")
sys.exit(0 if got == n and hits == n and data.count(b"\r\n\r\nhello\n") == n else 1)
EOF
	[ "$(origin_hits /index.html)" = 1 ] || fail "origin saw $(origin_hits /index.html)"
}

# A response with max-age=1, stale-while-revalidate=60 and an ETag, from an origin that
# numbers its answers: once it is stale, the next client gets it at once (Cache-Status says
# stale-while-revalidate) and one background request refreshes it; later clients get the new
# version from the store. The origin's second answer is a full 200 (version 2), its third
# would be a 304: the refresh revalidates with the stored ETag.
test_swr_background_refresh() {
	need_l7_tools || return $?
	free_port || return 1
	local op=$PORT i body cs log
	log=$(mktemp /tmp/pingx-swr.XXXXXX)
	on_exit "rm -f $log"
	python3 - "$op" "$log" <<'EOF' &
import http.server, sys
port, log = int(sys.argv[1]), sys.argv[2]
n = 0
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        global n
        n += 1
        with open(log, "a") as f:
            f.write(f"{n} {self.headers.get('If-None-Match')}\n")
        body = f"version {n}\n".encode()
        self.send_response(200)
        # only the first version goes stale within the test: a refreshed one that did too
        # (a slow machine between the refresh and the next request) would be refreshed again
        age = 1 if n == 1 else 600
        self.send_header("Cache-Control", f"max-age={age}, stale-while-revalidate=60")
        self.send_header("ETag", f'"v{n}"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
	local spid=$!
	on_exit "kill $spid 2>/dev/null; wait $spid 2>/dev/null"
	wait_port 127.0.0.1 "$op" || fail "origin"
	UPSTREAM_PORT=$op setup_cache "    size: 16m" || return $?
	body=$(curl -s "http://127.0.0.1:$PINGD_PORT/swr")
	[ "$body" = "version 1" ] || fail "first GET: '$body'"
	[ "$(wc -l <"$log")" = 1 ] || fail "origin log: $(cat "$log")"
	# let it go stale (max-age=1), then one request: stale content at once
	sleep 2.2
	cs=$(hdr /swr Cache-Status)
	case "$cs" in *stale-while-revalidate*) ;; *) fail "stale request: Cache-Status '$cs'" ;; esac
	for i in $(seq 100); do
		body=$(curl -s "http://127.0.0.1:$PINGD_PORT/swr")
		[ "$body" = "version 2" ] && break
		sleep 0.05
	done
	[ "$body" = "version 2" ] || fail "never refreshed; origin log: $(cat "$log")"
	grep -q '^2 "v1"$' "$log" || fail "the refresh did not revalidate: $(cat "$log")"
	[ "$(wc -l <"$log")" = 2 ] || fail "origin log: $(cat "$log")"
}

test_bad_config() {
	need_l7_tools || return $?
	l7_tmpdir
	local base out
	base="listeners:
  - address: 127.0.0.1:1
upstreams:
  - name: o
    servers:
      - address: 127.0.0.1:2
virtual_hosts:
  - name: a
    hosts: '*'
    routes:
      - path: /
        upstream: o"
	printf '%s\n        cache: nope\n' "$base" >"$TMPD/a.yaml"
	out=$("$PINGD" -t -c "$TMPD/a.yaml" 2>&1) && fail "unknown cache accepted"
	echo "$out" | grep -q "no cache named 'nope'" || fail "message: $out"
	printf '%s\n        cache: c\ncaches:\n  - name: c\n    purge_allow: [10.0.0.0/33]\n' \
		"$base" >"$TMPD/b.yaml"
	out=$("$PINGD" -t -c "$TMPD/b.yaml" 2>&1) && fail "bad prefix accepted"
	echo "$out" | grep -q "purge_allow': expected ADDR or ADDR/LEN, got '10.0.0.0/33'" ||
		fail "message: $out"
	printf '%s\ncaches:\n  - name: c\n    size: 1m\n    max_object_size: 1m\n' \
		"$base" >"$TMPD/c.yaml"
	out=$("$PINGD" -t -c "$TMPD/c.yaml" 2>&1) && fail "object larger than a shard accepted"
	echo "$out" | grep -q "max_object_size" || fail "message: $out"
	printf '%s\ncaches:\n  - name: c\n    size: lots\n' "$base" >"$TMPD/d.yaml"
	"$PINGD" -t -c "$TMPD/d.yaml" >/dev/null 2>&1 && fail "size 'lots' accepted"
	out=$("$PINGD" --listen 127.0.0.1:1 --upstream 127.0.0.1:2 --cache 12q -t 2>&1) &&
		fail "--cache 12q accepted"
	echo "$out" | grep -q "caches\[\].size" || fail "message: $out"
	"$PINGD" -t --listen 127.0.0.1:1 --upstream 127.0.0.1:2 --cache 256m >/dev/null 2>&1 ||
		fail "--cache 256m refused"
}

run_tests "$@"
