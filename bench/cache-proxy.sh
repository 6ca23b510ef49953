#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Cached responses through pingd's HTTP cache against nginx's proxy_cache, in the same run with
# the same settings: one worker each, an in-memory-sized cache holding the object (nginx's on
# its tmpfs-or-disk cache directory, as proxy_cache always is), a 4 KB response with
# Cache-Control: max-age=3600 from an nginx origin, no access log, no Via. Both caches are
# warmed, then wrk (keep-alive) runs interleaved rounds; the origin's request count shows that
# every measured request was a hit. Prints medians and pingd's ratios. Loopback only.
#
# Environment: ROUNDS (5), DURATION (5s), CONNS (64), WRK_THREADS (1), SIZE (4096 bytes).
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
SIZE=${SIZE:-4096}
PINGD=$O/pingd

for t in nginx wrk curl; do
	command -v $t >/dev/null || { echo "cache-proxy.sh: needs $t" >&2; exit 1; }
done
[ -x "$PINGD" ] || { echo "cache-proxy.sh: build pingd first (make)" >&2; exit 1; }

source bench/lib.sh
bench_tmpdir bench
NGINX_CONNS=4096

BASE=$((20000 + RANDOM % 9000))
P_ORIGIN=$BASE P_PINGD=$((BASE + 1)) P_NGINX=$((BASE + 2))

NGINX_ACCESS_LOG=$TMPD/origin/logs/access.log nginx_conf "$TMPD/origin" "	server {
		listen 127.0.0.1:$P_ORIGIN;
		root $TMPD/origin/html;
		add_header Cache-Control \"max-age=3600\";
	}"
head -c "$SIZE" /dev/urandom >"$TMPD/origin/html/obj"
nginx -c "$TMPD/origin/nginx.conf" -p "$TMPD/origin" -g 'daemon off;' &
PIDS+=($!)

nginx_conf "$TMPD/proxy" "	proxy_cache_path $TMPD/proxy/cache keys_zone=c:16m max_size=256m;
	upstream o { server 127.0.0.1:$P_ORIGIN; keepalive 64; }
	server {
		listen 127.0.0.1:$P_NGINX;
		location / {
			proxy_pass http://o;
			proxy_http_version 1.1;
			proxy_set_header Connection \"\";
			proxy_cache c;
			proxy_cache_lock on;
		}
	}"
mkdir -p "$TMPD/proxy/cache" && chmod 777 "$TMPD/proxy/cache"
nginx -c "$TMPD/proxy/nginx.conf" -p "$TMPD/proxy" -g 'daemon off;' &
PIDS+=($!)
NGINX_MASTER=$!

cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
log: {level: warn}
proxy: {via: false, x_forwarded_for: false, x_forwarded_proto: false}
timeouts: {keepalive: 300s}
listeners: [{address: '127.0.0.1:$P_PINGD'}]
upstreams: [{name: o, keepalive: 64, servers: [{address: '127.0.0.1:$P_ORIGIN'}]}]
caches: [{name: c, size: 256m}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o, cache: c}]}]
YAML
"$PINGD" -c "$TMPD/pingd.yaml" &
PIDS+=($!)
PINGD_PID=$!

for p in $P_ORIGIN $P_NGINX $P_PINGD; do wait_port $p || exit 1; done
want=$(sha256sum <"$TMPD/origin/html/obj" | cut -d' ' -f1)
for p in $P_NGINX $P_PINGD $P_NGINX $P_PINGD; do
	[ "$(curl -s "http://127.0.0.1:$p/obj" | sha256sum | cut -d' ' -f1)" = "$want" ] ||
		{ echo "cache-proxy.sh: port $p does not serve the object" >&2; exit 1; }
done
sleep 0.5
origin_before=$(wc -l <"$TMPD/origin/logs/access.log")
[ "$origin_before" -eq 2 ] ||
	{ echo "cache-proxy.sh: the origin saw $origin_before requests warming, want 2" >&2; exit 1; }

cpu_ticks() {
	local p s=0
	for p in "$1" $(pgrep -P "$1"); do
		s=$((s + $(awk '{print $14 + $15}' /proc/"$p"/stat 2>/dev/null || echo 0)))
	done
	echo $s
}
HZ=$(getconf CLK_TCK)

declare -A RPS CPU
NAMES=(pingd nginx)
declare -A PORT=([pingd]=$P_PINGD [nginx]=$P_NGINX)
declare -A PID_OF=([pingd]=$PINGD_PID [nginx]=$NGINX_MASTER)

echo "wrk -t$WRK_THREADS -c$CONNS -d$DURATION, GET of a cached $SIZE-byte response, 1 worker" \
	"each, $ROUNDS interleaved rounds"
for ((r = 1; r <= ROUNDS; r++)); do
	order=("${NAMES[@]:$(((r - 1) % 2))}" "${NAMES[@]:0:$(((r - 1) % 2))}")
	for n in "${order[@]}"; do
		c0=$(cpu_ticks "${PID_OF[$n]}")
		out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" "http://127.0.0.1:${PORT[$n]}/obj")
		c1=$(cpu_ticks "${PID_OF[$n]}")
		if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
			echo "cache-proxy.sh: $n had errors:" >&2
			echo "$out" >&2
		fi
		rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' <<<"$out")
		reqs=$(awk '/requests in/ {print $1}' <<<"$out")
		cpu=$(awk -v a="$c0" -v b="$c1" -v r="$reqs" -v hz="$HZ" \
			'BEGIN {printf "%.2f", (b - a) * 1000000 / hz / r}')
		RPS[$n]+="$rps "
		CPU[$n]+="$cpu "
		printf '  round %d %-6s %8d req/s  cpu %5s us/req\n' "$r" "$n" "$rps" "$cpu"
	done
done
origin_after=$(wc -l <"$TMPD/origin/logs/access.log")

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
echo
printf '%-6s %10s %14s\n' "" "req/s" "CPU (us/req)"
for n in "${NAMES[@]}"; do
	printf '%-6s %10d %14s\n' "$n" "$(median <<<"${RPS[$n]}")" "$(median <<<"${CPU[$n]}")"
done
awk -v a="$(median <<<"${RPS[pingd]}")" -v b="$(median <<<"${RPS[nginx]}")" \
	-v c="$(median <<<"${CPU[pingd]}")" -v d="$(median <<<"${CPU[nginx]}")" \
	'BEGIN {printf "\npingd / nginx proxy_cache: req/s %.2f   CPU per request %.2f\n", a / b, c / d}'
echo "origin requests during the measured rounds: $((origin_after - origin_before))"
