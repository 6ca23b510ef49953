#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Instructions per TLS 1.3 handshake: pingd and nginx (one worker each, the same ECDSA P-256
# certificate, in front of the same nginx origin) under valgrind's callgrind, counted over N
# connections after a warm-up (callgrind_control -z, then a dump): each connection a
# handshake, "GET /index.html HTTP/1.0" proxied to the origin, and the close. MODE new: full
# handshakes; reuse: each resumes the previous connection's session (TLS 1.3 ticket).
# Instruction counts do not depend on what else the machine runs, unlike rates.
#
# Usage: bash bench/tls-instr.sh [N (200)] [new|reuse]
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
N=${1:-200}
MODE=${2:-new}
PINGD=$O/pingd
for t in nginx valgrind callgrind_control callgrind_annotate python3 openssl; do
	command -v $t >/dev/null || { echo "tls-instr.sh: needs $t" >&2; exit 1; }
done
[ -x "$PINGD" ] || { echo "tls-instr.sh: build pingd first (make)" >&2; exit 1; }

source bench/lib.sh
bench_tmpdir bench-tlsinstr
tls_conn_setup || exit 1

# measure NAME PORT COMMAND...: prints NAME's instructions per connection.
measure() {
	local name=$1 port=$2 pid i out ir reused
	shift 2
	valgrind --tool=callgrind --callgrind-out-file="$TMPD/$name.cg" "$@" \
		>"$TMPD/$name.log" 2>&1 &
	pid=$!
	PIDS+=($pid)
	for ((i = 0; i < 300; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
		sleep 0.2
	done
	python3 "$TMPD/client.py" "$port" 20 "$MODE" >/dev/null || exit 1
	callgrind_control -z "$pid" >/dev/null 2>&1
	reused=$(python3 "$TMPD/client.py" "$port" "$N" "$MODE") || exit 1
	callgrind_control -d "$pid" >/dev/null 2>&1
	sleep 0.5
	out=$(ls -t "$TMPD/$name".cg.* | head -n1)
	ir=$(callgrind_annotate "$out" 2>/dev/null |
		awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
	kill "$pid"
	wait "$pid" 2>/dev/null
	printf '%-8s %10d instructions per connection (%d %s handshakes, %d resumed)\n' \
		"$name" $((ir / N)) "$N" "$MODE" "$reused"
	echo $((ir / N)) >"$TMPD/$name.ir"
}
measure pingd "$P_PINGD" "$PINGD" -c "$TMPD/pingd.yaml"
measure nginx "$P_NGINX" nginx -c "$TMPD/proxy/nginx.conf" -p "$TMPD/proxy" \
	-g 'daemon off; master_process off;'
awk -v p="$(cat "$TMPD/pingd.ir")" -v n="$(cat "$TMPD/nginx.ir")" \
	'BEGIN { printf "pingd / nginx instructions: %.3f\n", p / n }'
