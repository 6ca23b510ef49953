#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# TLS benchmark: pingd (from a configuration file, and in one-line mode), nginx and HAProxy
# terminating TLS 1.3 with the same ECDSA P-256 certificate, one worker each, in front of the
# same plain nginx origin, measured in the same run: first the RSS each proxy adds per idle
# TLS connection (IDLE_CONNS handshaken connections held open, each server fresh), then in
# interleaved rounds full handshakes per second (HS_CLIENTS openssl s_time -new at once: a
# new connection per request), resumed handshakes per second (s_time -reuse) and keep-alive
# HTTPS requests per second (wrk), each also as the server's CPU time per operation (what a
# loaded worker would do, whatever the clients on the same CPUs cost), and for handshakes the
# clients' CPU time per connection (which bounds the rates on a small machine); last, the
# same rounds with each server held to QUOTA % of one CPU, so that the servers, not the
# clients, set the rates. Medians, and pingd's ratios to each peer. Loopback only.
#
# Environment: ROUNDS (3), DURATION (5, seconds), CONNS (64), WRK_THREADS (2), HS_CLIENTS
# (2), IDLE_CONNS (2000), QUOTA (25; where a cgroup CPU quota can be set, as root; 0: no
# such rounds). The keep-alive load comes from WRK_THREADS wrk threads: with one, wrk's own
# TLS work fills its CPU before any of the servers fills the other, and every server
# measures the same rate (about 24k requests per second here, whichever serves).
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-2}
IDLE_CONNS=${IDLE_CONNS:-2000}
HS_CLIENTS=${HS_CLIENTS:-2}
QUOTA=${QUOTA:-25}
PINGD=$O/pingd

for t in nginx haproxy wrk python3 openssl curl; do
	command -v $t >/dev/null || { echo "tls.sh: needs $t" >&2; exit 1; }
done
[ -x "$PINGD" ] || { echo "tls.sh: build pingd first (make)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"

source bench/lib.sh
bench_tmpdir bench-tls
NGINX_MAIN='worker_rlimit_nofile 20000;' NGINX_CONNS=9000

BASE=$((20000 + RANDOM % 9000))
P_ORIGIN=$BASE P_PINGD=$((BASE + 1)) P_NGINX=$((BASE + 2)) P_HAPROXY=$((BASE + 3))
P_ONELINE=$((BASE + 4))
bash scripts/selfsigned.sh "$TMPD/c" bench.test >/dev/null || exit 1
cat "$TMPD/c.crt" "$TMPD/c.key" >"$TMPD/c.pem"

nginx_conf "$TMPD/origin" "	server { listen 127.0.0.1:$P_ORIGIN; root $TMPD/origin/html; }"
printf 'hello, world\n' >"$TMPD/origin/html/index.html"
nginx -c "$TMPD/origin/nginx.conf" -p "$TMPD/origin" -g 'daemon off;' &
PIDS+=($!)

# Tickets on everywhere (each server's default), no session cache.
nginx_conf "$TMPD/proxy" "	upstream o { server 127.0.0.1:$P_ORIGIN; keepalive 64; }
	server {
		listen 127.0.0.1:$P_NGINX ssl;
		ssl_certificate $TMPD/c.crt;
		ssl_certificate_key $TMPD/c.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		location / {
			proxy_pass http://o;
			proxy_http_version 1.1;
			proxy_set_header Connection \"\";
		}
	}"
nginx -c "$TMPD/proxy/nginx.conf" -p "$TMPD/proxy" -g 'daemon off;' &
PIDS+=($!)
NGINX_MASTER=$!

cat >"$TMPD/haproxy.cfg" <<HAP
global
	nbthread 1
	maxconn 9000
	tune.ssl.cachesize 0
defaults
	mode http
	timeout connect 5s
	timeout client 300s
	timeout server 60s
	timeout http-keep-alive 300s
	http-reuse always
frontend f
	bind 127.0.0.1:$P_HAPROXY ssl crt $TMPD/c.pem ssl-min-ver TLSv1.2
	default_backend b
backend b
	server o 127.0.0.1:$P_ORIGIN
HAP
haproxy -f "$TMPD/haproxy.cfg" -db &
PIDS+=($!)
HAPROXY_PID=$!

cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
log: {level: warn}
proxy: {via: false}
timeouts: {keepalive: 300s}
listeners:
  - address: '127.0.0.1:$P_PINGD'
    tls: {certificates: [{cert: '$TMPD/c.crt', key: '$TMPD/c.key'}]}
upstreams: [{name: o, keepalive: 64, servers: [{address: '127.0.0.1:$P_ORIGIN'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
"$PINGD" -c "$TMPD/pingd.yaml" &
PIDS+=($!)
PINGD_PID=$!
# One-line mode: its defaults, as a user starts it.
"$PINGD" --listen "127.0.0.1:$P_ONELINE" --upstream "127.0.0.1:$P_ORIGIN" --workers 1 \
	--tls-cert "$TMPD/c.crt" --tls-key "$TMPD/c.key" 2>"$TMPD/oneline.log" &
PIDS+=($!)
ONELINE_PID=$!

NAMES=(pingd pingd-1line nginx haproxy)
declare -A PORT=([pingd]=$P_PINGD [pingd-1line]=$P_ONELINE [nginx]=$P_NGINX [haproxy]=$P_HAPROXY)
for n in origin "${NAMES[@]}"; do
	p=${PORT[$n]:-$P_ORIGIN}
	wait_port "$p" || exit 1
done
for n in "${NAMES[@]}"; do
	[ "$(curl -s --cacert "$TMPD/c.crt" --resolve "bench.test:${PORT[$n]}:127.0.0.1" \
		"https://bench.test:${PORT[$n]}/index.html")" = "hello, world" ] ||
		{ echo "tls.sh: $n does not serve over TLS" >&2; exit 1; }
done

# proc_sum PID FILE AWK: the sum of what the awk program AWK prints from /proc/P/FILE over the
# process PID and its children.
proc_sum() {
	local p s=0
	for p in "$1" $(pgrep -P "$1"); do
		s=$((s + $(awk "$3" /proc/"$p"/"$2" 2>/dev/null || echo 0)))
	done
	echo $s
}
# CPU time (clock ticks, user + system) of a process and its children: what the server
# spent, whatever the clients on the same machine spent.
cpu_ticks() { proc_sum "$1" stat '{print $14 + $15}'; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
now_ms() { date +%s%3N; }

# hs NAME -new|-reuse: HS_CLIENTS openssl s_time clients at once for DURATION seconds, each
# a TLS 1.3 connection after another (fetching the small file); prints "connections per
# wall-clock second, server CPU microseconds per connection, resumed %, the clients' CPU
# microseconds per connection". s_time's own figures are per second of its user time, which
# says nothing of the server: not used.
hs() {
	local i t0 t1 c0 c1 n=0 r=0 out=$TMPD/st clients=() TIMEFORMAT='%3U %3S'
	c0=$(cpu_ticks "${PID_OF[$1]}")
	t0=$(now_ms)
	# The clients' user and system time, reaped by the wait: what the server's rate
	# shares the machine's CPUs with.
	{ time {
		for ((i = 0; i < HS_CLIENTS; i++)); do
			openssl s_time -connect "127.0.0.1:${PORT[$1]}" -tls1_3 "$2" \
				-time "$DURATION" -www /index.html >"$out.$i" 2>/dev/null &
			clients+=($!)
		done
		wait "${clients[@]}"
	}; } 2>"$out.time"
	t1=$(now_ms)
	c1=$(cpu_ticks "${PID_OF[$1]}")
	for ((i = 0; i < HS_CLIENTS; i++)); do
		n=$((n + $(awk '/connections in [0-9]+ real seconds/ {n = $1} END {print n + 0}' \
			"$out.$i")))
		r=$((r + $(grep -v 'connections' "$out.$i" | tr -cd r | wc -c)))
	done
	awk -v n="$n" -v ms="$((t1 - t0))" -v cpu="$(((c1 - c0) * TICK_US))" -v r="$r" \
		-v cl="$(awk '{printf "%d", ($1 + $2) * 1000000}' "$out.time")" \
		'BEGIN { if (n > 0) printf "%d %d %d %d", n * 1000 / ms, cpu / n, r * 100 / n, cl / n;
			 else print "0 0 0 0" }'
}

# ka NAME: wrk over CONNS keep-alive connections; prints "requests per second, server CPU
# microseconds per request (to one decimal)".
ka() {
	local c0 c1 out
	c0=$(cpu_ticks "${PID_OF[$1]}")
	out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" \
		"https://127.0.0.1:${PORT[$1]}/index.html")
	c1=$(cpu_ticks "${PID_OF[$1]}")
	awk -v cpu="$(((c1 - c0) * TICK_US))" '
		/ requests in / {n = $1}
		/^Requests\/sec/ {rps = $2}
		END { if (n > 0) printf "%d %.1f", rps, cpu / n; else print "0 0" }' <<<"$out"
}

declare -A PID_OF=([pingd]=$PINGD_PID [pingd-1line]=$ONELINE_PID [nginx]=$NGINX_MASTER
	[haproxy]=$HAPROXY_PID)
# RSS (kB) of a process and its children.
rss_kb() { proc_sum "$1" status '/^VmRSS/ {print $2}'; }
# First, while every server is fresh: a process that served the rates below keeps freed
# memory resident, which new connections then reuse without growing the RSS.
echo "memory per idle TLS connection: $IDLE_CONNS handshaken TLS 1.3 connections held open"
for n in "${NAMES[@]}"; do
	before=$(rss_kb "${PID_OF[$n]}")
	python3 - "${PORT[$n]}" "$IDLE_CONNS" "$TMPD/$n.ready" <<'PY' &
import socket, ssl, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
held = []
for _ in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
    held.append(s)
open(ready, "w").close()
time.sleep(3600)
PY
	holder=$!
	# Measured only once every connection is open, however long a loaded machine takes.
	while [ ! -e "$TMPD/$n.ready" ] && kill -0 "$holder" 2>/dev/null; do
		sleep 0.1
	done
	sleep 1
	after=$(rss_kb "${PID_OF[$n]}")
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	if [ -e "$TMPD/$n.ready" ]; then
		awk -v n="$n" -v b="$before" -v a="$after" -v c="$IDLE_CONNS" \
			'BEGIN { printf "%-10s %8.0f bytes per connection (RSS %d -> %d kB)\n", n, (a - b) * 1024 / c, b, a }'
	else
		printf '%-10s not measured: the client could not open %d connections\n' "$n" \
			"$IDLE_CONNS"
	fi
	sleep 1
done

echo
# rounds PREFIX: ROUNDS interleaved rounds of the three measurements over every server, each
# figure appended to the server's entry in PREFIX's arrays (PREFIX FULL, FULLC, FULLCL, RES,
# RESC, RESP, RESCL, KA, KAC).
rounds() {
	local -n full=${1}FULL fullc=${1}FULLC fullcl=${1}FULLCL res=${1}RES resc=${1}RESC \
		resp=${1}RESP rescl=${1}RESCL kar=${1}KA kac=${1}KAC
	local r n a b c d order
	for ((r = 1; r <= ROUNDS; r++)); do
		order=("${NAMES[@]:$(((r - 1) % ${#NAMES[@]}))}"
			"${NAMES[@]:0:$(((r - 1) % ${#NAMES[@]}))}")
		for n in "${order[@]}"; do
			read -r a b _ d <<<"$(hs "$n" -new)"
			full[$n]+="$a " fullc[$n]+="$b " fullcl[$n]+="$d "
			read -r a b c d <<<"$(hs "$n" -reuse)"
			res[$n]+="$a " resc[$n]+="$b " resp[$n]+="$c " rescl[$n]+="$d "
			read -r a b <<<"$(ka "$n")"
			kar[$n]+="$a " kac[$n]+="$b "
		done
	done
}

declare -A FULL RES KA FULLC RESC KAC RESP FULLCL RESCL
echo "TLS 1.3, ECDSA P-256, 1 worker each; $HS_CLIENTS s_time clients -time $DURATION;" \
	"wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s; $ROUNDS interleaved rounds"
rounds ""

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
med_of() { # med_of ARRAY NAME: the median of ARRAY[NAME]'s rounds
	local -n arr=$1
	median <<<"${arr[$2]}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

declare -A M
# ratio_rows fwd|inv KEY...: a row per pingd mode and peer, the ratio of each KEY's medians:
# pingd's over the peer's (fwd), or the peer's over pingd's (inv).
ratio_rows() {
	local q p k a b dir=$1 w=(12 12 14) i
	shift
	for q in pingd pingd-1line; do
		for p in nginx haproxy; do
			printf '%-16s' "${q/pingd-1line/1-line} / $p"
			i=0
			for k in "$@"; do
				a=${M[$q.$k]} b=${M[$p.$k]}
				[ "$dir" = inv ] && a=${M[$p.$k]} b=${M[$q.$k]}
				printf " %${w[i++]}s" "$(ratio "$a" "$b")"
			done
			echo
		done
	done
}
echo
echo "rates: per wall-clock second (the clients share the machine's CPUs with the server)"
printf '%-16s %12s %12s %14s\n' "" "full hs/s" "resumed hs/s" "keep-alive r/s"
for n in "${NAMES[@]}"; do
	for k in FULL RES KA FULLC RESC KAC FULLCL RESCL; do
		M[$n.$k]=$(med_of "$k" "$n")
	done
	printf '%-16s %12s %12s %14s   (rounds: %s| %s| %s)\n' "$n" "${M[$n.FULL]}" \
		"${M[$n.RES]}" "${M[$n.KA]}" "${FULL[$n]}" "${RES[$n]}" "${KA[$n]}"
done
ratio_rows fwd FULL RES KA
echo
echo "server CPU per operation, microseconds (user + system of the server's processes)"
printf '%-16s %12s %12s %14s\n' "" "full hs" "resumed hs" "keep-alive req"
for n in "${NAMES[@]}"; do
	printf '%-16s %12s %12s %14s   (resumed: %s%%)\n' "$n" "${M[$n.FULLC]}" "${M[$n.RESC]}" \
		"${M[$n.KAC]}" "$(median <<<"${RESP[$n]}")"
done
echo "per CPU-second (the peer's CPU per operation over pingd's):"
ratio_rows inv FULLC RESC KAC
echo
echo "the s_time clients' CPU per handshake, microseconds (what the rates above share the CPUs with)"
printf '%-16s %12s %12s\n' "" "full hs" "resumed hs"
for n in "${NAMES[@]}"; do
	printf '%-16s %12s %12s\n' "$n" "${M[$n.FULLCL]}" "${M[$n.RESCL]}"
done

# Then the same rounds with each server held to QUOTA % of one CPU (a cgroup CPU quota, the
# same for all): the clients, which cost more than a server per handshake, can no longer set
# the rate, and each server's rate is what its worker sustains in that much CPU time.
echo
if [ "$QUOTA" = 0 ]; then
	echo "rates held to a CPU quota: not measured (QUOTA=0)"
	exit 0
fi
if ! cg_root; then
	echo "rates held to a CPU quota: not measured: $CG_WHY"
	exit 0
fi
for n in "${NAMES[@]}"; do
	cg_new "$n" "$QUOTA" "${PID_OF[$n]}" ||
		{ echo "tls.sh: cannot put $n in a cgroup with a CPU quota" >&2; exit 1; }
done
declare -A QFULL QRES QKA QFULLC QRESC QKAC QRESP QFULLCL QRESCL
rounds Q
echo "rates with each server held to $QUOTA % of one CPU (cgroup v$CG_V quota; the server is" \
	"the limit, not the clients)"
printf '%-16s %12s %12s %14s\n' "" "full hs/s" "resumed hs/s" "keep-alive r/s"
for n in "${NAMES[@]}"; do
	for k in QFULL QRES QKA; do
		M[$n.$k]=$(med_of "$k" "$n")
	done
	printf '%-16s %12s %12s %14s   (rounds: %s| %s| %s)\n' "$n" "${M[$n.QFULL]}" \
		"${M[$n.QRES]}" "${M[$n.QKA]}" "${QFULL[$n]}" "${QRES[$n]}" "${QKA[$n]}"
done
ratio_rows fwd QFULL QRES QKA
