# SPDX-License-Identifier: GPL-2.0
# Shared by tests/l7/test-*.sh (after tests/integration/lib.sh): an nginx origin, pingd,
# python origins, all on 127.0.0.1 ports in 20000-29999, each stopped by PID when the test
# ends.

L7_DIR=$PINGX_TOP/tests/l7

# Each test runs in a subshell whose EXIT trap cleans up, so a failed check ends the test.
fail() {
	echo "   FAIL: $*" >&2
	exit 1
}
PINGD=$O/pingd
L7TOOL=(python3 "$L7_DIR/l7tool.py")

need_l7_tools() {
	local t
	for t in nginx curl python3 "$@"; do
		command -v "$t" >/dev/null 2>&1 || { echo "   needs $t" >&2; return $SKIP; }
	done
	[ -x "$PINGD" ] || { echo "   $PINGD not built" >&2; return 1; }
}

# A temporary directory removed when the test ends: sets TMPD.
l7_tmpdir() {
	TMPD=$(mktemp -d /tmp/pingx-l7.XXXXXX)
	# nginx workers run unprivileged and must read (and for PUT, write) under it.
	chmod 755 "$TMPD"
	on_exit "rm -rf $TMPD"
}

# A free loopback TCP port in 20000-29999: sets PORT.
free_port() {
	pick_port 20000 10000
}

# Start nginx on 127.0.0.1:PORT with its prefix in DIR: static files in DIR/html (index.html
# says hello), PUT (dav) under /up/, files under /slow/ sent at 64 KB/s, stub_status at
# /status, the access log to ACCESS_LOG (or off), in network namespace NS when given:
# origin_nginx DIR PORT ACCESS_LOG [NS].
origin_nginx() {
	local d=$1 port=$2 alog=$3 ns=${4:-}
	mkdir -p "$d/logs" "$d/html/up" "$d/tmp"
	chmod 777 "$d/html/up" "$d/tmp" "$d/logs"
	echo hello >"$d/html/index.html"
	cat >"$d/nginx.conf" <<NGINX
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 4096; }
http {
	access_log $alog;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	keepalive_requests 1000000;
	keepalive_timeout 120s;
	server {
		listen 127.0.0.1:$port;
		root $d/html;
		location /up/ {
			dav_methods PUT;
			create_full_put_path on;
			client_max_body_size 0;
		}
		location = /status { stub_status; }
		# Bodies sent at 64 KB/s: a fetch that lasts (the cache's stampede test).
		location /slow/ { limit_rate 64k; }
	}
}
NGINX
	if [ -n "$ns" ]; then
		spawn nsx "$ns" nginx -c "$d/nginx.conf" -p "$d" -g 'daemon off;'
	else
		spawn nginx -c "$d/nginx.conf" -p "$d" -g 'daemon off;'
	fi
	wait_port 127.0.0.1 "$port" "$ns" || { fail "nginx origin on $port did not start"; return 1; }
}

# Start nginx as the origin on a free port (origin_nginx under $TMPD/nginx, no access log).
# Sets ORIGIN_PORT and ORIGIN_ROOT.
start_origin() {
	free_port || return 1
	ORIGIN_PORT=$PORT
	ORIGIN_ROOT=$TMPD/nginx/html
	origin_nginx "$TMPD/nginx" "$ORIGIN_PORT" off
}

# Connections the origin has accepted so far (nginx stub_status), read directly.
origin_accepts() {
	curl -s "http://127.0.0.1:$ORIGIN_PORT/status" | awk 'NR == 3 {print $1}'
}

# Start a python origin in MODE (see l7tool.py): sets PYO_PORT and PYO_LOG.
start_pyorigin() {
	free_port || return 1
	PYO_PORT=$PORT
	PYO_LOG=$TMPD/pyorigin-$PORT.log
	: >"$PYO_LOG"
	spawn "${L7TOOL[@]}" origin "$PYO_PORT" "$1" "$PYO_LOG"
	wait_port 127.0.0.1 "$PYO_PORT" || { fail "python origin did not start"; return 1; }
}

# Start pingd with the given arguments on a free port: --listen is added unless a config
# file (-c) is given, in which case LISTEN_PORT must already be in it. Sets PINGD_PORT.
start_pingd() {
	if [ "$1" = -c ]; then
		PINGD_PORT=$LISTEN_PORT
	else
		free_port || return 1
		PINGD_PORT=$PORT
		set -- --listen "127.0.0.1:$PINGD_PORT" "$@"
	fi
	spawn "$PINGD" "$@"
	PINGD_PID=$SPAWNED_PID
	wait_port 127.0.0.1 "$PINGD_PORT" || { fail "pingd did not start"; return 1; }
}

# HTTP status of a GET through pingd: http_status PATH [curl args...]
http_status() {
	local path=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" \
		"http://127.0.0.1:$PINGD_PORT$path"
}
