# SPDX-License-Identifier: GPL-2.0
# What the L7 benchmark scripts share (sourced): a private directory and the processes they
# start, removed on exit; waiting for a port; free ports; nginx configurations.

# bench_tmpdir NAME: TMPD (mktemp under /tmp), PIDS (started processes, appended to by the
# script), both cleaned up on exit.
bench_tmpdir() {
	TMPD=$(mktemp -d "/tmp/pingx-$1.XXXXXX")
	chmod 755 "$TMPD"
	PIDS=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMPD"
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
