# SPDX-License-Identifier: GPL-2.0
# Shared by tests/l7/test-ops-*.sh (after l7lib.sh): two nginx origins that answer who they
# are, pingd from a config file, wrk runs whose failures are counted. Ports in 30000-30699.

# A free loopback TCP port in 30000-30699 not handed out before in this test: sets PORT.
# Below the kernel's ephemeral ports (32768 up): a listener opened under load by a reload
# cannot find its port taken by a client's connection.
ops_port() {
	pick_port 30000 700
}

# Two nginx origins in one nginx: /who answers A or B, other paths are static files.
# Sets OA, OB (ports) and ROOT.
start_ab_origins() {
	local d=$TMPD/nginx
	ops_port || return 1
	OA=$PORT
	ops_port || return 1
	OB=$PORT
	ROOT=$d/html
	mkdir -p "$d/logs" "$ROOT" "$d/tmp"
	chmod 777 "$d/tmp"
	head -c 2000 /dev/zero | tr '\0' x >"$ROOT/index.html"
	cat >"$d/nginx.conf" <<NGINX
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	keepalive_requests 1000000;
	keepalive_timeout 120s;
	server {
		listen 127.0.0.1:$OA;
		root $ROOT;
		location = /who { return 200 "A\n"; }
	}
	server {
		listen 127.0.0.1:$OB;
		root $ROOT;
		location = /who { return 200 "B\n"; }
	}
}
NGINX
	spawn nginx -c "$d/nginx.conf" -p "$d" -g 'daemon off;'
	wait_port 127.0.0.1 "$OA" && wait_port 127.0.0.1 "$OB" || fail "nginx did not start"
}

# write_cfg FILE LISTEN_PORT UPSTREAM_PORT [EXTRA_LISTEN_PORT [LATE_PORT]]: a config with
# one pool for /, and a route /late to a second pool when LATE_PORT is given.
write_cfg() {
	local f=$1 lp=$2 up=$3 extra=${4:-} late=${5:-}
	{
		echo "workers: 2"
		echo "upgrade_socket: $TMPD/up.sock"
		echo "timeouts: {shutdown: 10s}"
		echo "listeners:"
		echo "  - address: 127.0.0.1:$lp"
		[ -n "$extra" ] && echo "  - address: 127.0.0.1:$extra"
		echo "upstreams:"
		echo "  - name: pool"
		echo "    servers: [{address: 127.0.0.1:$up}]"
		[ -n "$late" ] && echo "  - {name: late, servers: [{address: 127.0.0.1:$late}]}"
		echo "virtual_hosts:"
		echo "  - name: all"
		echo "    hosts: '*'"
		echo "    routes:"
		[ -n "$late" ] && echo "      - {path: /late, upstream: late}"
		echo "      - {path: /, upstream: pool}"
	} >"$f"
}

# The body of GET PATH on PORT (new connection).
get() {
	curl -s --max-time 5 "http://127.0.0.1:$1$2"
}


# run_wrk_bg SECS URL [ARGS]: wrk in the background writing its report to a file.
run_wrk_bg() {
	local secs=$1 url=$2
	shift 2
	WRK_OUT=$TMPD/wrk-$RANDOM.out
	timeout $((secs + 20)) wrk -t1 -c16 -d"${secs}s" --timeout 5s "$@" "$url" >"$WRK_OUT" 2>&1 &
	WRK_PID=$!
	on_exit "kill $WRK_PID 2>/dev/null; wait $WRK_PID 2>/dev/null"
}

# wrk_failures FILE [LABEL]: print "requests=N non2xx=N connect=N read=N write=N timeout=N" and
# return 1 when any failure was counted or no request was made.
wrk_failures() {
	local f=$1 reqs non2xx sock
	reqs=$(awk '/requests in/ {print $1}' "$f")
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$f")
	sock=$(awk -F'[ ,]+' '/Socket errors/ {print $5, $7, $9, $11}' "$f")
	read -r c r w t <<<"${sock:-0 0 0 0}"
	echo "requests=${reqs:-0} non2xx=${non2xx:-0} connect=$c read=$r write=$w timeout=$t"
	# OPS_REPORT=FILE collects the counts of every run (the figures of a test report).
	[ -n "${OPS_REPORT:-}" ] &&
		echo "${FUNCNAME[2]} ${2:-}: requests=${reqs:-0} non2xx=${non2xx:-0}" \
			"connect=$c read=$r write=$w timeout=$t" >>"$OPS_REPORT"
	[ "${reqs:-0}" -gt 0 ] && [ "${non2xx:-0}" = 0 ] && [ "$c$r$w$t" = 0000 ]
}

# check_wrk FILE LABEL: log wrk's counts; fail when any request failed.
check_wrk() {
	local r
	r=$(wrk_failures "$1" "$2")
	local rc=$?
	log "$2: $r"
	[ $rc = 0 ] || fail "failed requests ($2): $r"
}
