#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# System calls per TLS 1.3 connection: pingd and nginx (one worker each, the same ECDSA P-256
# certificate, in front of the same nginx origin) under strace -c over N connections after a
# warm-up: each connection a handshake, "GET /index.html HTTP/1.0" proxied to the origin, and
# the close, as bench/tls-instr.sh makes them. MODE new: full handshakes; reuse: each resumes
# the previous connection's session. Counts do not depend on what else the machine runs
# (except the reads that find nothing yet, EAGAIN, which depend on how fast the client is).
#
# Usage: bash bench/tls-syscalls.sh [N (200)] [new|reuse]
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
N=${1:-200}
MODE=${2:-new}
PINGD=$O/pingd
for t in nginx strace python3 openssl; do
	command -v $t >/dev/null || { echo "tls-syscalls.sh: needs $t" >&2; exit 1; }
done
[ -x "$PINGD" ] || { echo "tls-syscalls.sh: build pingd first (make)" >&2; exit 1; }

source bench/lib.sh
bench_tmpdir bench-tlssys
tls_conn_setup || exit 1

"$PINGD" -c "$TMPD/pingd.yaml" &
PIDS+=($!)
PINGD_PID=$!
nginx -c "$TMPD/proxy/nginx.conf" -p "$TMPD/proxy" -g 'daemon off; master_process off;' &
PIDS+=($!)
NGINX_PID=$!
for p in $P_ORIGIN $P_PINGD $P_NGINX; do
	wait_port "$p" || exit 1
done

# measure NAME PORT TID...: NAME's system calls per connection, by name, in the threads TID
# (pingd's worker, not its main thread's periodic wakeups).
measure() {
	local name=$1 port=$2 st t args=()
	shift 2
	for t in "$@"; do args+=(-p "$t"); done
	python3 "$TMPD/client.py" "$port" 20 "$MODE" >/dev/null || exit 1
	strace -c "${args[@]}" -o "$TMPD/$name.st" 2>/dev/null &
	st=$!
	sleep 1
	python3 "$TMPD/client.py" "$port" "$N" "$MODE" >/dev/null || exit 1
	kill -INT $st
	wait $st
	awk -v name="$name" -v n="$N" '
		$1 ~ /^[0-9.]+$/ && NF >= 5 {
			calls = $4; errs = (NF == 6) ? $5 : 0; sc = $NF
			if (sc == "total") next
			line[sc] = sprintf("%s %.2f", sc, calls / n) (errs ? sprintf(" (%.2f failed)", errs / n) : "")
			tot += calls
		}
		END {
			printf "%-6s %6.2f system calls per connection (%d %s):", name, tot / n, n, "'"$MODE"'"
			for (s in line) printf " %s,", line[s]
			printf "\n"
		}' "$TMPD/$name.st" | sed 's/,$//'
}
measure pingd "$P_PINGD" $(ls /proc/"$PINGD_PID"/task | grep -vx "$PINGD_PID")
measure nginx "$P_NGINX" "$NGINX_PID"
