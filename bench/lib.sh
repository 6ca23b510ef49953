# SPDX-License-Identifier: GPL-2.0
# What the L7 benchmark scripts share (sourced): a private directory, the processes they start
# and the cgroups they make, removed on exit; waiting for a port; free ports; nginx
# configurations; the TLS per-connection setup; CPU quotas.

# bench_tmpdir NAME: TMPD (mktemp under /tmp), PIDS (started processes, appended to by the
# script), CGROUPS (made by cg_new), all cleaned up on exit.
bench_tmpdir() {
	TMPD=$(mktemp -d "/tmp/pingx-$1.XXXXXX")
	chmod 755 "$TMPD"
	PIDS=()
	CGROUPS=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	local p d i
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	# A group goes once its processes are gone (a killed master's children a moment later).
	for d in "${CGROUPS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			rmdir "$d" 2>/dev/null && break
			sleep 0.1
		done
	done
	rm -rf "$TMPD"
}

# cg_root: where a group with a CPU quota can be made, in CG_ROOT and CG_V (2 or 1): cgroup v2
# with its cpu controller, or v1's cpu hierarchy. Fails, saying why in CG_WHY, without either
# or without the right to write them (root).
cg_root() {
	CG_ROOT= CG_V= CG_WHY=
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		if ! grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
			CG_WHY="cgroup v2 without the cpu controller"
		elif ! grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control &&
			! echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
			CG_WHY="cannot enable the cpu controller in /sys/fs/cgroup"
		else
			CG_ROOT=/sys/fs/cgroup CG_V=2
		fi
	elif [ -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
		CG_ROOT=/sys/fs/cgroup/cpu CG_V=1
	else
		CG_WHY="no cgroup cpu controller"
	fi
	if [ -n "$CG_ROOT" ] && [ ! -w "$CG_ROOT" ]; then
		CG_WHY="$CG_ROOT is not writable (needs root)" CG_ROOT=
	fi
	[ -n "$CG_ROOT" ]
}

# cg_new NAME PERCENT PID...: a group (after cg_root) allowed PERCENT % of one CPU, holding
# the processes PID... and their children.
cg_new() {
	local d=$CG_ROOT/pingx-bench-$$-$1 q=$(($2 * 1000)) p
	mkdir "$d" || return 1
	CGROUPS+=("$d")
	if [ "$CG_V" = 2 ]; then
		echo "$q 100000" >"$d/cpu.max" || return 1
	else
		echo 100000 >"$d/cpu.cfs_period_us" && echo "$q" >"$d/cpu.cfs_quota_us" || return 1
	fi
	shift 2
	for p in "$@" $(pgrep -P "$(tr ' ' , <<<"$*")"); do
		echo "$p" >"$d/cgroup.procs" || return 1
	done
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT, WAIT_TRIES (100) x 0.1 s.
wait_port() {
	local i
	for ((i = 0; i < ${WAIT_TRIES:-100}; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "${0##*/}: nothing listening on $1" >&2
	return 1
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# nginx_conf DIR BODY: DIR/nginx.conf, an nginx with its own prefix under DIR, BODY inside
# http {}. Settings: NGINX_WORKERS (1), NGINX_MAIN (main-context lines), NGINX_CONNS
# (worker_connections, 30000), NGINX_ACCESS_LOG (off), NGINX_HTTP (http-context lines before
# BODY; keep-alive for the whole run by default).
nginx_conf() {
	local d=$1
	mkdir -p "$d/logs" "$d/tmp" "$d/html"
	chmod 777 "$d/tmp"
	{
		echo "worker_processes ${NGINX_WORKERS:-1};"
		[ -n "${NGINX_MAIN:-}" ] && printf '%s\n' "$NGINX_MAIN"
		cat <<NGINX
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections ${NGINX_CONNS:-30000}; }
http {
	access_log ${NGINX_ACCESS_LOG:-off};
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
NGINX
		printf '%s\n' "${NGINX_HTTP-	keepalive_requests 10000000;
	keepalive_timeout 300s;}" | sed '/^$/d'
		printf '%s\n}\n' "$2"
	} >"$d/nginx.conf"
}

# tls_conn_setup: what bench/tls-instr.sh and bench/tls-syscalls.sh count against: a throwaway
# ECDSA P-256 pair, an nginx origin (started) on P_ORIGIN, an nginx TLS proxy configuration
# ($TMPD/proxy) for P_NGINX and a pingd one ($TMPD/pingd.yaml) for P_PINGD, one worker each,
# and $TMPD/client.py PORT N new|reuse: N connections, each a handshake (a full one, or
# resuming the previous connection's session), "GET /index.html HTTP/1.0" and the close; it
# prints how many were resumed.
tls_conn_setup() {
	local base NGINX_CONNS=1000 NGINX_HTTP=

	base=$((20000 + RANDOM % 9000))
	P_ORIGIN=$base P_PINGD=$((base + 1)) P_NGINX=$((base + 2))
	bash scripts/selfsigned.sh "$TMPD/c" bench.test >/dev/null || return 1
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
sess, reused = None, 0
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
    reused += t.session_reused
    sess = t.session
    t.close()
print(reused)
PY
}
