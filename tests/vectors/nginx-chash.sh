# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Run a real nginx with an 'upstream { hash $arg_k consistent; }' pool on loopback and ask it
# where keys go. Sourced by gen-ketama-nginx.sh (vector generation) and tests/l7 scripts.
#
# A servers file holds one "NAME<TAB>WEIGHT" line per upstream server, NAME as nginx's
# "server" directive writes it (127.0.X.Y:PORT or [::1]:PORT). Each live server gets its own
# listener on exactly its address, answering with the address it was reached on; nginx's
# front listens on 127.0.0.1:FRONT_PORT and reports the peers it tried in X-Up
# ($upstream_addr). Keys travel as the query argument k, which nginx hashes undecoded, so keys
# are limited to characters that need no percent-encoding.

# nginx_chash_conf DIR FRONT_PORT SERVERS_FILE [DEAD_NAME...]: write DIR/nginx.conf. Servers
# named in DEAD_NAME get no listener, so nginx fails over from them (max_fails=0 keeps it
# trying them on every request instead of marking them down).
nginx_chash_conf() {
	local dir=$1 front=$2 servers=$3
	shift 3
	local dead=" $* " name weight
	mkdir -p "$dir/tmp" || return 1
	{
		echo "daemon off;"
		echo "master_process off;"
		echo "worker_processes 1;"
		echo "pid $dir/nginx.pid;"
		echo "error_log $dir/error.log warn;"
		echo "events { worker_connections 512; }"
		echo "http {"
		echo "  access_log off;"
		for t in client_body proxy fastcgi uwsgi scgi; do
			echo "  ${t}_temp_path $dir/tmp/$t;"
		done
		echo "  upstream pool {"
		echo "    hash \$arg_k consistent;"
		while IFS=$'\t' read -r name weight; do
			[ -n "$name" ] || continue
			echo "    server $name weight=$weight max_fails=0;"
		done <"$servers"
		echo "  }"
		echo "  server {"
		echo "    listen 127.0.0.1:$front;"
		echo "    location / {"
		echo "      proxy_pass http://pool;"
		echo "      proxy_next_upstream error timeout;"
		echo "      proxy_next_upstream_tries 0;"
		echo "      proxy_connect_timeout 2s;"
		echo "      add_header X-Up \$upstream_addr always;"
		echo "    }"
		echo "  }"
		echo "  server {"
		while IFS=$'\t' read -r name weight; do
			[ -n "$name" ] || continue
			case "$dead" in *" $name "*) continue ;; esac
			echo "    listen $name;"
		done <"$servers"
		echo "    return 200 \"\$server_addr:\$server_port\\n\";"
		echo "  }"
		echo "}"
	} >"$dir/nginx.conf"
}

# nginx_chash_run DIR: become the configured nginx, in the foreground (run it in the
# background: "nginx_chash_run DIR &" leaves nginx's own PID in $!).
nginx_chash_run() {
	exec nginx -p "$1" -e "$1/error.log" -c "$1/nginx.conf"
}

# nginx_chash_query FRONT_PORT KEYS_FILE: print "KEY<TAB>X-Up" for each key (one per line).
# One curl process carries all requests over a kept-alive connection.
nginx_chash_query() {
	local front=$1 keys=$2 cfg
	cfg=$(mktemp /tmp/pingx-curl.XXXXXX) || return 1
	awk -v p="$front" '{printf "url = \"http://127.0.0.1:%s/?k=%s\"\noutput = \"/dev/null\"\n", p, $0}' "$keys" >"$cfg"
	curl -s --max-time 120 -w '%header{x-up}\n' --config "$cfg" |
		paste "$keys" -
	local rc=${PIPESTATUS[0]}
	rm -f "$cfg"
	return "$rc"
}
