#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Instructions per HTTP/2 request, counted by callgrind (user space only, so the figure does not
# move with the machine's load): pingd and nginx (http2 on), each one process under valgrind,
# proxying over HTTP/1.1 keep-alive to one nginx origin (a 13-byte file), with the settings of
# bench/h2.sh; h2load sends a warm-up of 1,000 requests, the counters are zeroed, then N
# requests (CONNS connections of STREAMS streams) are counted. Loopback only.
#
# Environment: N (20000), CONNS (16), STREAMS (10), PROTO (h1; h2c: pingd's upstream speaks
# h2c to an nginx origin with `listen ... http2`, nginx is then not measured).
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
N=${N:-20000}
CONNS=${CONNS:-16}
STREAMS=${STREAMS:-10}
PROTO=${PROTO:-h1}
PINGD=$O/pingd

for t in nginx h2load valgrind callgrind_control /usr/bin/python3; do
	command -v $t >/dev/null || { echo "h2-instr.sh: needs $t" >&2; exit 1; }
done
[ -x "$PINGD" ] || { echo "h2-instr.sh: build pingd first (make)" >&2; exit 1; }

source bench/lib.sh
bench_tmpdir h2instr
WAIT_TRIES=600

P_ORIGIN=$(free_port) P_PINGD=$(free_port) P_NGINX=$(free_port)
OLISTEN="listen 127.0.0.1:$P_ORIGIN;"
[ "$PROTO" = h2c ] && OLISTEN="listen 127.0.0.1:$P_ORIGIN http2;"
nginx_conf "$TMPD/origin" "	server { $OLISTEN root $TMPD/origin/html; }"
printf 'hello, world\n' >"$TMPD/origin/html/index.html"
nginx -c "$TMPD/origin/nginx.conf" -p "$TMPD/origin" -g 'daemon off;' &
PIDS+=($!)

cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
log: {level: warn}
proxy: {via: false}
timeouts: {keepalive: 300s}
listeners: [{address: '127.0.0.1:$P_PINGD'}]
upstreams: [{name: o, protocol: $PROTO, keepalive: 64, servers: [{address: '127.0.0.1:$P_ORIGIN'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
valgrind --tool=callgrind --callgrind-out-file="$TMPD/pingd.cg" "$PINGD" -c "$TMPD/pingd.yaml" \
	2>"$TMPD/pingd.vg" &
PIDS+=($!)
VG_PINGD=$!

nginx_conf "$TMPD/proxy" "	upstream o { server 127.0.0.1:$P_ORIGIN; keepalive 64; keepalive_requests 10000000; }
	server {
		listen 127.0.0.1:$P_NGINX http2;
		http2_max_concurrent_streams 128;
		location / {
			proxy_pass http://o;
			proxy_http_version 1.1;
			proxy_set_header Connection \"\";
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto \$scheme;
		}
	}"
NAMES=(pingd)
if [ "$PROTO" = h1 ]; then
	valgrind --tool=callgrind --callgrind-out-file="$TMPD/nginx.cg" nginx \
		-c "$TMPD/proxy/nginx.conf" -p "$TMPD/proxy" -g 'daemon off; master_process off;' \
		2>"$TMPD/nginx.vg" &
	PIDS+=($!)
	VG_NGINX=$!
	NAMES+=(nginx)
fi
declare -A PORT=([pingd]=$P_PINGD [nginx]=$P_NGINX) VG=([pingd]=$VG_PINGD [nginx]=${VG_NGINX:-})

for p in $P_ORIGIN $P_PINGD; do wait_port "$p" || exit 1; done
[ "$PROTO" = h1 ] && { wait_port "$P_NGINX" || exit 1; }

echo "callgrind, h2load -n $N -c $CONNS -m $STREAMS (h2c) after 1000 warm-up requests, upstream $PROTO"
for n in "${NAMES[@]}"; do
	url="http://127.0.0.1:${PORT[$n]}/index.html"
	h2load -n 1000 -c "$CONNS" -m "$STREAMS" "$url" >/dev/null 2>&1
	callgrind_control -z "${VG[$n]}" >/dev/null 2>&1
	out=$(h2load -n "$N" -c "$CONNS" -m "$STREAMS" "$url" 2>&1)
	callgrind_control -d "${VG[$n]}" >/dev/null 2>&1
	ok=$(awk '/^requests:/ {print $8}' <<<"$out")
	[ "${ok:-0}" = "$N" ] || echo "h2-instr.sh: $n: $(grep '^requests:' <<<"$out")" >&2
	f=$(ls -t "$TMPD/$n.cg".* 2>/dev/null | head -n1)
	ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
	awk -v n="$n" -v ir="$ir" -v r="$N" 'BEGIN {printf "%-6s %12d instructions, %.1fk per request\n", n, ir, ir / r / 1000}'
done
