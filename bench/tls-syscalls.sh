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
NGINX_CONNS=1000 NGINX_HTTP=

BASE=$((20000 + RANDOM % 9000))
P_ORIGIN=$BASE P_PINGD=$((BASE + 1)) P_NGINX=$((BASE + 2))
bash scripts/selfsigned.sh "$TMPD/c" bench.test >/dev/null || exit 1

nginx_conf "$TMPD/origin" "	server { listen 127.0.0.1:$P_ORIGIN; root $TMPD/origin/html; }"
printf 'hello, world\n' >"$TMPD/origin/html/index.html"
nginx -c "$TMPD/origin/nginx.conf" -p "$TMPD/origin" -g 'daemon off;' &
PIDS+=($!)
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
cat >"$TMPD/pingd.yaml" <<YAML
workers: 1
log: {level: warn}
proxy: {via: false}
listeners:
  - address: '127.0.0.1:$P_PINGD'
    tls: {certificates: [{cert: '$TMPD/c.crt', key: '$TMPD/c.key'}]}
upstreams: [{name: o, keepalive: 64, servers: [{address: '127.0.0.1:$P_ORIGIN'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: o}]}]
YAML
cat >"$TMPD/client.py" <<'PY'
import socket, ssl, sys
port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
sess = None
for _ in range(n):
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                        session=sess if mode == "reuse" else None)
    t.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        d = t.recv(65536)
        if not d:
            break
        data += d
    if b"hello, world" not in data:
        sys.exit("bad response: %r" % data[:200])
    sess = t.session
    t.close()
PY

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
	python3 "$TMPD/client.py" "$port" 20 "$MODE" || exit 1
	strace -c "${args[@]}" -o "$TMPD/$name.st" 2>/dev/null &
	st=$!
	sleep 1
	python3 "$TMPD/client.py" "$port" "$N" "$MODE" || exit 1
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
