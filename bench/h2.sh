#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# HTTP/2 benchmark: h2load (h2c with prior knowledge, CONNS connections of STREAMS concurrent
# streams, a small response) through pingd and through nginx (http2 on), 1 worker each,
# upstream HTTP/1.1 keep-alive to the same nginx origin, no access log, no Via; rounds
# interleaved, medians of req/s and CPU per request printed with pingd's ratios to nginx.
# A third row, pingd-h2c, is pingd speaking HTTP/2 (h2c) upstream to an nginx origin serving
# the same file over `listen ... http2`, in the same rounds. Then the memory of IDLE_CONNS idle
# HTTP/2 connections (each after one request) on pingd and nginx. Loopback only.
#
# Environment: ROUNDS (5), DURATION (5, seconds), CONNS (16), STREAMS (10), IDLE_CONNS (1000).
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
STREAMS=${STREAMS:-10}
IDLE_CONNS=${IDLE_CONNS:-1000}
PINGD=$O/pingd

for t in nginx h2load curl /usr/bin/python3; do
	command -v $t >/dev/null || { echo "h2.sh: needs $t" >&2; exit 1; }
done
/usr/bin/python3 -c 'import h2' 2>/dev/null || { echo "h2.sh: needs python3-h2" >&2; exit 1; }
[ -x "$PINGD" ] || { echo "h2.sh: build pingd first (make)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null

source bench/lib.sh
bench_tmpdir h2bench
NGINX_HTTP='	keepalive_requests 10000000;
	keepalive_timeout 300s;
	http2_max_requests 10000000;'

BASE=$((20000 + RANDOM % 9000))
P_ORIGIN=$BASE P_PINGD=$((BASE + 1)) P_NGINX=$((BASE + 2))
P_ORIGIN2=$((BASE + 3)) P_PINGD2=$((BASE + 4))

nginx_conf "$TMPD/origin" "	server { listen 127.0.0.1:$P_ORIGIN; root $TMPD/origin/html; }"
printf 'hello, world\n' >"$TMPD/origin/html/index.html"
nginx -c "$TMPD/origin/nginx.conf" -p "$TMPD/origin" -g 'daemon off;' &
PIDS+=($!)
nginx_conf "$TMPD/origin2" "	server { listen 127.0.0.1:$P_ORIGIN2 http2; root $TMPD/origin/html; }"
nginx -c "$TMPD/origin2/nginx.conf" -p "$TMPD/origin2" -g 'daemon off;' &
PIDS+=($!)

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
nginx -c "$TMPD/proxy/nginx.conf" -p "$TMPD/proxy" -g 'daemon off;' &
PIDS+=($!)
NGINX_MASTER=$!

cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
log: {level: warn}
proxy: {via: false}
timeouts: {keepalive: 300s}
listeners: [{address: '127.0.0.1:$P_PINGD'}]
upstreams: [{name: o, keepalive: 64, servers: [{address: '127.0.0.1:$P_ORIGIN'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
"$PINGD" -c "$TMPD/pingd.yaml" &
PIDS+=($!)
PINGD_PID=$!
sed -e "s/$P_PINGD/$P_PINGD2/" -e "s/name: o, /name: o, protocol: h2c, /" \
	-e "s/$P_ORIGIN/$P_ORIGIN2/" "$TMPD/pingd.yaml" >"$TMPD/pingd2.yaml"
"$PINGD" -c "$TMPD/pingd2.yaml" &
PIDS+=($!)
PINGD2_PID=$!

for p in $P_ORIGIN $P_ORIGIN2 $P_NGINX $P_PINGD $P_PINGD2; do wait_port $p || exit 1; done
for p in $P_NGINX $P_PINGD $P_PINGD2; do
	[ "$(curl -s --http2-prior-knowledge "http://127.0.0.1:$p/index.html")" = "hello, world" ] ||
		{ echo "h2.sh: port $p does not serve the test file over h2c" >&2; exit 1; }
done

cpu_ticks() {
	local p s=0
	for p in "$1" $(pgrep -P "$1"); do
		s=$((s + $(awk '{print $14 + $15}' /proc/"$p"/stat 2>/dev/null || echo 0)))
	done
	echo $s
}
HZ=$(getconf CLK_TCK)
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

declare -A RPS CPU
NAMES=(pingd nginx pingd-h2c)
declare -A PORT=([pingd]=$P_PINGD [nginx]=$P_NGINX [pingd-h2c]=$P_PINGD2)
declare -A PID_OF=([pingd]=$PINGD_PID [nginx]=$NGINX_MASTER [pingd-h2c]=$PINGD2_PID)

echo "h2load -D $DURATION -c $CONNS -m $STREAMS (h2c), 1 worker each, $ROUNDS interleaved rounds"
for ((r = 1; r <= ROUNDS; r++)); do
	order=("${NAMES[@]:$(((r - 1) % 3))}" "${NAMES[@]:0:$(((r - 1) % 3))}")
	for n in "${order[@]}"; do
		c0=$(cpu_ticks "${PID_OF[$n]}")
		out=$(h2load -D "$DURATION" -c "$CONNS" -m "$STREAMS" \
			"http://127.0.0.1:${PORT[$n]}/index.html" 2>&1)
		c1=$(cpu_ticks "${PID_OF[$n]}")
		ok=$(awk '/^requests:/ {print $8}' <<<"$out")
		bad=$(awk '/^status codes:/ {print $5 + $7 + $9}' <<<"$out")
		[ "${bad:-1}" = 0 ] || echo "h2.sh: $n answered non-2xx: $(grep 'status codes' <<<"$out")" >&2
		rps=$(awk -v n="$ok" -v d="$DURATION" 'BEGIN {printf "%d", n / d}')
		cpu=$(awk -v a="$c0" -v b="$c1" -v r="$ok" -v hz="$HZ" \
			'BEGIN {printf "%.1f", (b - a) * 1000000 / hz / r}')
		RPS[$n]+="$rps "
		CPU[$n]+="$cpu "
		printf '  round %d %-9s %8d req/s  cpu %5s us/req\n' "$r" "$n" "$rps" "$cpu"
	done
done
echo
printf '%-9s %10s %14s\n' "" "req/s" "CPU (us/req)"
declare -A M_RPS M_CPU
for n in "${NAMES[@]}"; do
	M_RPS[$n]=$(median <<<"${RPS[$n]}")
	M_CPU[$n]=$(median <<<"${CPU[$n]}")
	printf '%-9s %10d %14s\n' "$n" "${M_RPS[$n]}" "${M_CPU[$n]}"
done
awk -v a="${M_RPS[pingd]}" -v b="${M_RPS[nginx]}" -v c="${M_CPU[pingd]}" -v d="${M_CPU[nginx]}" \
	'BEGIN {printf "pingd / nginx  req/s %.2f   CPU per request %.2f\n", a / b, c / d}'
awk -v a="${M_RPS[pingd-h2c]}" -v b="${M_RPS[pingd]}" -v c="${M_CPU[pingd-h2c]}" \
	-v d="${M_CPU[pingd]}" 'BEGIN {printf "pingd-h2c / pingd (h2c vs HTTP/1.1 upstream)  req/s %.2f   CPU per request %.2f\n", a / b, c / d}'

rss_tree() {
	local pids
	pids=$(pgrep -P "$1" | tr '\n' ' ')
	# shellcheck disable=SC2086
	ps -o rss= -p "$1" $pids | awk '{s += $1} END {print s}'
}

# IDLE_CONNS HTTP/2 connections, one request each, then held open.
hold_idle() {
	/usr/bin/python3 - "$1" "$IDLE_CONNS" "$TMPD/ready.$1" <<'PY' &
import socket, sys, time
import h2.config, h2.connection, h2.events
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
held = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.initiate_connection()
    c.send_headers(1, [(":method", "GET"), (":path", "/index.html"), (":scheme", "http"),
                       (":authority", "x")], end_stream=True)
    s.sendall(c.data_to_send())
    done = False
    while not done:
        for e in c.receive_data(s.recv(65536)):
            done = done or isinstance(e, h2.events.StreamEnded)
        s.sendall(c.data_to_send())
    held.append((s, c))
open(ready, "w").close()
time.sleep(600)
PY
	HOLD_PID=$!
	PIDS+=($HOLD_PID)
	local i
	for ((i = 0; i < 1200; i++)); do
		[ -e "$TMPD/ready.$1" ] && return 0
		sleep 0.1
	done
	echo "h2.sh: idle connections to $1 not ready" >&2
	return 1
}

echo
for n in pingd nginx; do
	before=$(rss_tree "${PID_OF[$n]}")
	hold_idle "${PORT[$n]}" || continue
	sleep 1
	after=$(rss_tree "${PID_OF[$n]}")
	kill "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
	awk -v n="$n" -v a="$before" -v b="$after" -v c="$IDLE_CONNS" \
		'BEGIN {printf "%-6s %d idle HTTP/2 connections: RSS +%d KiB, %.1f KiB each\n", n, c,
			b - a, (b - a) / c}'
done
