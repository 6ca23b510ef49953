#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# L7 benchmark: wrk (keep-alive, 64 connections, a small response) through pingd, nginx and
# HAProxy, each with the same number of workers, upstream keep-alive on, no access log and the
# same header work (X-Forwarded-For and X-Forwarded-Proto added, no Via), in front of the
# same nginx origin, plus the origin directly (the ceiling). pingd runs twice: from a config
# file (pingd) and in one-line mode with its defaults (pingd-1l: --listen --upstream
# --workers). Rounds are interleaved and the medians printed, with pingd's ratios to each
# peer, and for each run the rest of the machine's work (the origin's and wrk's CPU per request,
# the share of the machine left idle), since on a small machine a proxy's req/s also depends on
# what it leaves the others. Then the RSS growth of pingd, nginx and HAProxy while they hold 10,000 idle keep-alive
# client connections, each after one request: opened one after the other (steady state),
# then all at once (what a burst leaves behind). Loopback only.
#
# Environment: ROUNDS (3), DURATION (5s), CONNS (64), WORKERS (1), WRK_THREADS (1),
# IDLE_CONNS (10000).
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
WORKERS=${WORKERS:-1}
WRK_THREADS=${WRK_THREADS:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}
PINGD=$O/pingd

for t in nginx haproxy wrk python3 curl; do
	command -v $t >/dev/null || { echo "l7.sh: needs $t" >&2; exit 1; }
done
[ -x "$PINGD" ] || { echo "l7.sh: build pingd first (make)" >&2; exit 1; }
# Each side of IDLE_CONNS connections needs that many descriptors, and a proxy twice as many
# (HAProxy sizes its maxconn from them): raise the hard limit where allowed (root).
ulimit -Hn $((4 * IDLE_CONNS + 1000)) 2>/dev/null
NOFILE=$(ulimit -Hn)
[ "$NOFILE" = unlimited ] && NOFILE=65536
ulimit -n "$NOFILE" || exit 1
if [ "$NOFILE" -lt $((IDLE_CONNS + 1000)) ]; then
	echo "l7.sh: open-file limit $NOFILE is too low for IDLE_CONNS=$IDLE_CONNS" >&2
	exit 1
fi

source bench/lib.sh
bench_tmpdir bench
NGINX_WORKERS=$WORKERS NGINX_MAIN="worker_rlimit_nofile $NOFILE;"

BASE=$((20000 + RANDOM % 9000))
P_ORIGIN=$BASE P_PINGD=$((BASE + 1)) P_NGINX=$((BASE + 2)) P_HAPROXY=$((BASE + 3))
P_PINGD1=$((BASE + 4))

# The origin: a small static file.
nginx_conf "$TMPD/origin" "	server {
		listen 127.0.0.1:$P_ORIGIN;
		root $TMPD/origin/html;
		location = /xff { return 200 \"\$http_x_forwarded_for \$http_x_forwarded_proto\n\"; }
	}"
printf 'hello, world\n' >"$TMPD/origin/html/index.html"
nginx -c "$TMPD/origin/nginx.conf" -p "$TMPD/origin" -g 'daemon off;' &
PIDS+=($!)
ORIGIN_MASTER=$!

# The four proxies, started afresh (the memory figures need processes whose heap only this
# run has touched): sets NGINX_MASTER, HAPROXY_PID, PINGD_PID and PINGD1_PID.
start_proxies() {
	# nginx as the proxy.
	nginx_conf "$TMPD/proxy" "	upstream o { server 127.0.0.1:$P_ORIGIN; keepalive 64; keepalive_requests 10000000; }
		server {
			listen 127.0.0.1:$P_NGINX;
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

	# HAProxy.
	cat >"$TMPD/haproxy.cfg" <<-HAP
	global
		nbthread $WORKERS
		maxconn $(((NOFILE - 100) / 2))
	defaults
		mode http
		timeout connect 5s
		timeout client 300s
		timeout server 60s
		timeout http-keep-alive 300s
		http-reuse always
		option forwardfor
	frontend f
		bind 127.0.0.1:$P_HAPROXY
		http-request set-header X-Forwarded-Proto http
		default_backend b
	backend b
		server o 127.0.0.1:$P_ORIGIN
	HAP
	haproxy -f "$TMPD/haproxy.cfg" -db &
	PIDS+=($!)
	HAPROXY_PID=$!

	# pingd.
	cat >"$TMPD/pingd.yaml" <<-YAML
	workers: $WORKERS
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
	# The same in one-line mode, its defaults otherwise (access log to stderr: discarded here,
	# as the others log nothing).
	"$PINGD" --listen "127.0.0.1:$P_PINGD1" --upstream "127.0.0.1:$P_ORIGIN" --workers "$WORKERS" \
		2>/dev/null &
	PIDS+=($!)
	PINGD1_PID=$!
	for p in $P_NGINX $P_HAPROXY $P_PINGD $P_PINGD1; do wait_port $p || exit 1; done
}

stop_proxies() {
	local p
	for p in $NGINX_MASTER $HAPROXY_PID $PINGD_PID $PINGD1_PID; do kill "$p" 2>/dev/null; done
	for p in $NGINX_MASTER $HAPROXY_PID $PINGD_PID $PINGD1_PID; do wait "$p" 2>/dev/null; done
	sleep 1
}

start_proxies
for p in $P_ORIGIN $P_NGINX $P_HAPROXY $P_PINGD $P_PINGD1; do wait_port $p || exit 1; done
for p in $P_ORIGIN $P_NGINX $P_HAPROXY $P_PINGD $P_PINGD1; do
	[ "$(curl -s "http://127.0.0.1:$p/index.html")" = "hello, world" ] ||
		{ echo "l7.sh: port $p does not serve the test file" >&2; exit 1; }
done
for p in $P_NGINX $P_HAPROXY $P_PINGD; do
	[ "$(curl -s "http://127.0.0.1:$p/xff")" = "127.0.0.1 http" ] ||
		{ echo "l7.sh: port $p does not add the same forwarding headers" >&2; exit 1; }
done

# wrk's latency figures in microseconds: "50% 1.23ms" -> 1230.
to_us() {
	awk '{v=$1; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	      m = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : 60000000;
	      printf "%d\n", v * m}'
}

# CPU time (clock ticks) used so far by a process and its children.
cpu_ticks() {
	local p s=0
	for p in "$1" $(pgrep -P "$1"); do
		s=$((s + $(awk '{print $14 + $15}' /proc/"$p"/stat 2>/dev/null || echo 0)))
	done
	echo $s
}
HZ=$(getconf CLK_TCK)

# Busy and idle clock ticks of the whole machine so far: "busy idle".
machine_ticks() {
	awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat
}

declare -A RPS P50 P99 CPU OCPU WCPU IDLE
NAMES=(origin pingd pingd-1l nginx haproxy)
declare -A PORT=([origin]=$P_ORIGIN [pingd]=$P_PINGD [pingd-1l]=$P_PINGD1 [nginx]=$P_NGINX
	[haproxy]=$P_HAPROXY)
declare -A PID_OF=([origin]=$ORIGIN_MASTER [pingd]=$PINGD_PID [pingd-1l]=$PINGD1_PID
	[nginx]=$NGINX_MASTER [haproxy]=$HAPROXY_PID)

echo "wrk -t$WRK_THREADS -c$CONNS -d$DURATION, $WORKERS worker(s) each, $ROUNDS interleaved rounds" \
	"(each round starts with the next peer)"
for ((r = 1; r <= ROUNDS; r++)); do
	# Each round starts with the next one, so no proxy always runs after the same one.
	order=("${NAMES[@]:$(((r - 1) % ${#NAMES[@]}))}" "${NAMES[@]:0:$(((r - 1) % ${#NAMES[@]}))}")
	for n in "${order[@]}"; do
		c0=$(cpu_ticks "${PID_OF[$n]}")
		o0=$(cpu_ticks "$ORIGIN_MASTER")
		read -r m0 i0 < <(machine_ticks)
		out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" --latency \
			"http://127.0.0.1:${PORT[$n]}/index.html"; times)
		c1=$(cpu_ticks "${PID_OF[$n]}")
		o1=$(cpu_ticks "$ORIGIN_MASTER")
		read -r m1 i1 < <(machine_ticks)
		if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
			echo "l7.sh: $n had errors:" >&2
			echo "$out" >&2
		fi
		rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' <<<"$out")
		p50=$(awk '$1 == "50%" {print $2}' <<<"$out" | to_us)
		p99=$(awk '$1 == "99%" {print $2}' <<<"$out" | to_us)
		reqs=$(awk '/requests in/ {print $1}' <<<"$out")
		# CPU per request of the proxy alone (the origin row: the origin's), which the
		# other load on a shared machine disturbs far less than req/s.
		cpu=$(awk -v a="$c0" -v b="$c1" -v r="$reqs" -v hz="$HZ" \
			'BEGIN {printf "%.1f", (b - a) * 1000000 / hz / r}')
		# The rest of the machine, since wrk, the origin and the proxy share its cores:
		# the origin's CPU per request (in the origin row: 0, it is already the CPU
		# column), wrk's (the subshell's children times, the last line of "times") and
		# the share of the machine left idle during the run.
		ocpu=0.0
		[ "$n" != origin ] && ocpu=$(awk -v a="$o0" -v b="$o1" -v r="$reqs" -v hz="$HZ" \
			'BEGIN {printf "%.1f", (b - a) * 1000000 / hz / r}')
		wcpu=$(tail -n 1 <<<"$out" | awk -v r="$reqs" '{
			t = 0
			for (i = 1; i <= 2; i++) {
				v = $i; m = v; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", v); sub(/s$/, "", v)
				t += m * 60 + v
			}
			printf "%.1f", t * 1000000 / r}')
		idle=$(awk -v a="$m0" -v b="$m1" -v c="$i0" -v d="$i1" \
			'BEGIN {printf "%.1f", (d - c) * 100 / ((b - a) + (d - c))}')
		CPU[$n]+="$cpu "
		OCPU[$n]+="$ocpu "
		WCPU[$n]+="$wcpu "
		IDLE[$n]+="$idle "
		RPS[$n]+="$rps "
		P50[$n]+="$p50 "
		P99[$n]+="$p99 "
		printf '  round %d %-8s %8d req/s  p50 %6d us  p99 %6d us  cpu %5s us/req' "$r" "$n" \
			"$rps" "$p50" "$p99" "$cpu"
		printf '  origin %5s  wrk %5s us/req  idle %4s%%\n' "$ocpu" "$wcpu" "$idle"
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

echo
printf '%-8s %10s %10s %10s %14s %14s %12s %8s\n' "" "req/s" "p50 (us)" "p99 (us)" \
	"CPU (us/req)" "origin us/req" "wrk us/req" "idle %"
declare -A M_RPS M_P50 M_P99 M_CPU
for n in "${NAMES[@]}"; do
	M_RPS[$n]=$(median <<<"${RPS[$n]}")
	M_P50[$n]=$(median <<<"${P50[$n]}")
	M_P99[$n]=$(median <<<"${P99[$n]}")
	M_CPU[$n]=$(median <<<"${CPU[$n]}")
	printf '%-8s %10d %10d %10d %14s %14s %12s %8s\n' "$n" "${M_RPS[$n]}" "${M_P50[$n]}" \
		"${M_P99[$n]}" "${M_CPU[$n]}" "$(median <<<"${OCPU[$n]}")" \
		"$(median <<<"${WCPU[$n]}")" "$(median <<<"${IDLE[$n]}")"
done
echo
for p in pingd pingd-1l; do
	for n in nginx haproxy origin; do
		awk -v a="${M_RPS[$p]}" -v b="${M_RPS[$n]}" -v c="${M_P99[$p]}" -v d="${M_P99[$n]}" \
			-v e="${M_CPU[$p]}" -v f="${M_CPU[$n]}" -v n="$n" -v p="$p" \
			'BEGIN {printf "%-8s / %-7s req/s %.2f   p99 %.2f   CPU per request %.2f\n", p, n,
				a / b, c / d, e / f}'
	done
done

# RSS (KiB) of a process and its children.
rss_tree() {
	local pids
	pids=$(pgrep -P "$1" | tr '\n' ' ')
	# shellcheck disable=SC2086
	ps -o rss= -p "$1" $pids | awk '{s += $1} END {print s}'
}

# Open IDLE_CONNS keep-alive connections to a port, one request each, and hold them: "seq"
# waits for each answer before the next connection, "burst" sends every request first.
hold_idle() {
	rm -f "$TMPD/ready.$1"
	python3 - "$1" "$IDLE_CONNS" "$TMPD/ready.$1" "$2" <<'PY' &
import socket, sys, time
port, n, ready, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
req = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
socks = []
def answer(s):
    got = b""
    while not got.endswith(b"hello, world\n"):
        b = s.recv(4096)
        if not b:
            sys.exit("connection closed")
        got += b
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    socks.append(s)
    if mode == "seq":
        answer(s)
if mode != "seq":
    for s in socks:
        answer(s)
open(ready, "w").close()
time.sleep(600)
PY
	HOLD_PID=$!
	PIDS+=($HOLD_PID)
	local i
	for ((i = 0; i < 900; i++)); do
		[ -e "$TMPD/ready.$1" ] && return 0
		kill -0 $HOLD_PID 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

echo
echo "RSS growth with $IDLE_CONNS idle keep-alive client connections (process tree, proxies" \
	"restarted for each way of opening them):"
declare -A KB
for mode in seq burst; do
	stop_proxies
	start_proxies
	PID_OF[pingd]=$PINGD_PID PID_OF[pingd-1l]=$PINGD1_PID PID_OF[nginx]=$NGINX_MASTER
	PID_OF[haproxy]=$HAPROXY_PID
	for n in pingd pingd-1l nginx haproxy; do
		# one request first, so every process has started its workers and pools
		curl -s -o /dev/null "http://127.0.0.1:${PORT[$n]}/index.html"
		pid=${PID_OF[$n]}
		before=$(rss_tree "$pid")
		if ! hold_idle "${PORT[$n]}" $mode; then
			echo "  $n: could not open $IDLE_CONNS connections" >&2
			kill "$HOLD_PID" 2>/dev/null
			wait "$HOLD_PID" 2>/dev/null
			continue
		fi
		sleep 2 # settled: what each process keeps once the burst is over
		after=$(rss_tree "$pid")
		KB[$mode.$n]=$(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNS" \
			'BEGIN {printf "%.3f", (a - b) / n}')
		printf '  %-5s %-8s before %8d KiB  with connections %8d KiB  per connection %s KiB\n' \
			$mode "$n" "$before" "$after" "${KB[$mode.$n]}"
		kill "$HOLD_PID" 2>/dev/null
		wait "$HOLD_PID" 2>/dev/null
		sleep 1
	done
	for p in pingd pingd-1l; do
		for n in nginx haproxy; do
			[ -n "${KB[$mode.$p]:-}" ] && [ -n "${KB[$mode.$n]:-}" ] &&
				awk -v a="${KB[$mode.$p]}" -v b="${KB[$mode.$n]}" -v m=$mode -v p=$p -v n=$n \
					'BEGIN {printf "  %-5s %-8s / %-7s memory per connection %.2f\n",
						m, p, n, (b > 0 ? a / b : 0)}'
		done
	done
done
