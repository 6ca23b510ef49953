#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The custom proxies of examples/ (built on libpingx) in front of python origins that answer
# with their name, on loopback ports 32000-32767: header routing, the API-key gate, retries
# through the default error hooks, bad input, and building against the installed pingx.pc.

ALL_TESTS="test_router_by_header test_router_bad_input test_router_retry test_gate \
 test_gate_needs_keys test_installed_pkgconfig"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/l7lib.sh"

ROUTER=$O/examples/header-router
GATE=$O/examples/api-key-gate
NAME_ORIGIN=(python3 "$L7_DIR/name_origin.py")

need_examples() {
	need_l7_tools || return $?
	[ -x "$ROUTER" ] && [ -x "$GATE" ] || { echo "   examples not built" >&2; return 1; }
}

# A free loopback TCP port in 32000-32767, none handed out before in this test: sets PORT.
ex_port() {
	pick_port 32000 768
}

# Start an origin answering with NAME: sets ORIGIN_<NAME>.
name_origin() {
	local name=$1
	ex_port || return 1
	spawn "${NAME_ORIGIN[@]}" "$PORT" "$name"
	wait_port 127.0.0.1 "$PORT" || fail "origin $name did not start"
	printf -v "ORIGIN_${name^^}" %s "$PORT"
}

# Start proxy binary BIN with config FILE listening on LISTEN_PORT, stderr to $TMPD/proxy.err.
start_proxy() {
	spawn "$1" -c "$2" 2>>"$TMPD/proxy.err"
	PROXY_PID=$SPAWNED_PID
	wait_port 127.0.0.1 "$LISTEN_PORT" || fail "$(basename "$1") did not start: $(cat "$TMPD/proxy.err")"
}

# GET PATH through the proxy with extra curl args; body to stdout, status in $TMPD/code.
get() {
	local path=$1
	shift
	curl -sS --max-time 10 -o "$TMPD/body" -w '%{http_code}' "$@" \
		"http://127.0.0.1:$LISTEN_PORT$path" >"$TMPD/code" || true
	cat "$TMPD/body" 2>/dev/null
	rm -f "$TMPD/body"
}
code() { cat "$TMPD/code"; }

router_setup() {
	l7_tmpdir
	name_origin alpha && name_origin beta && name_origin gamma || return 1
	ex_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/router.yaml" <<YAML
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams:
  - {name: default, servers: [{address: '127.0.0.1:$ORIGIN_GAMMA'}]}
  - {name: alpha, servers: [{address: '127.0.0.1:$ORIGIN_ALPHA'}]}
  - {name: beta, servers: [{address: '127.0.0.1:$ORIGIN_BETA'}]}
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: default}]}]
YAML
	start_proxy "$ROUTER" "$TMPD/router.yaml"
}

test_router_by_header() {
	need_examples || return $?
	router_setup || return 1
	local out
	out=$(get /x)
	[ "$(code)" = 200 ] && grep -qx name=gamma <<<"$out" || fail "no header: $(code) $out"
	out=$(get /x -H 'X-Backend: alpha')
	[ "$(code)" = 200 ] && grep -qx name=alpha <<<"$out" || fail "alpha: $(code) $out"
	grep -q '^h:x-backend=' <<<"$out" && fail "X-Backend reached the origin"
	grep -qx 'h:x-forwarded-for=127.0.0.1' <<<"$out" || fail "built-in X-Forwarded-For missing: $out"
	grep -q '^h:via=1.1 ' <<<"$out" || fail "built-in Via missing: $out"
	out=$(get /y -H 'X-Backend: beta')
	[ "$(code)" = 200 ] && grep -qx name=beta <<<"$out" || fail "beta: $(code) $out"
	curl -sS -D - -o /dev/null -H 'X-Backend: beta' "http://127.0.0.1:$LISTEN_PORT/z" |
		grep -qi '^X-Routed-To: beta' || fail "response_filter header missing"
	# The logging hook ran once per request, with new_ctx's state and the peer.
	wait_grep "pool=beta peer=127.0.0.1:$ORIGIN_BETA status=200" "$TMPD/proxy.err" 20
	grep -q "/y pool=beta peer=127.0.0.1:$ORIGIN_BETA status=200" "$TMPD/proxy.err" ||
		fail "no log line: $(cat "$TMPD/proxy.err")"
	[ "$(grep -c '^header-router: ' "$TMPD/proxy.err")" = 4 ] ||
		fail "expected 4 log lines: $(cat "$TMPD/proxy.err")"
}

test_router_bad_input() {
	need_examples || return $?
	router_setup || return 1
	get /x -H 'X-Backend: nosuch' >/dev/null
	[ "$(code)" = 404 ] || fail "unknown pool: $(code)"
	get /x -H "X-Backend: $(printf 'a%.0s' {1..100})" >/dev/null
	[ "$(code)" = 400 ] || fail "overlong pool name: $(code)"
	get /x -H 'X-Backend;' >/dev/null
	[ "$(code)" = 404 ] || fail "empty pool name: $(code)"
	# Still serving after the bad requests.
	get /x -H 'X-Backend: alpha' | grep -qx name=alpha || fail "not serving after bad input"
	grep -q "pool=nosuch peer=- status=404" "$TMPD/proxy.err" || fail "404 not logged"
}

# No error hooks: the built-in decisions apply, a refused connect goes to the next server.
test_router_retry() {
	need_examples || return $?
	l7_tmpdir
	name_origin alpha || return 1
	ex_port || return 1
	local dead=$PORT
	ex_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/retry.yaml" <<YAML
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams:
  - {name: default, servers: [{address: '127.0.0.1:$dead'}, {address: '127.0.0.1:$ORIGIN_ALPHA'}]}
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: default}]}]
YAML
	start_proxy "$ROUTER" "$TMPD/retry.yaml"
	local i codes=""
	for ((i = 0; i < 4; i++)); do
		get /r >/dev/null
		codes+="$(code) "
	done
	[ "$codes" = "200 200 200 200 " ] || fail "refused connect not retried: $codes"
}

gate_setup() {
	l7_tmpdir
	name_origin alpha && name_origin beta || return 1
	ex_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/gate.yaml" <<YAML
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams:
  - {name: a, servers: [{address: '127.0.0.1:$ORIGIN_ALPHA'}]}
  - {name: b, servers: [{address: '127.0.0.1:$ORIGIN_BETA'}]}
virtual_hosts:
  - name: v
    hosts: '*'
    routes:
      - {path: /a/, upstream: a, request_headers: {add: {X-Route: a}}}
      - {path: /, upstream: b}
YAML
	PINGX_API_KEYS=k-one,k-two start_proxy "$GATE" "$TMPD/gate.yaml"
}

test_gate() {
	need_examples || return $?
	gate_setup || return 1
	local out
	get /a/x >/dev/null
	[ "$(code)" = 401 ] || fail "no key: $(code)"
	get /a/x -H 'X-Api-Key: wrong' >/dev/null
	[ "$(code)" = 401 ] || fail "wrong key: $(code)"
	get /a/x -H 'X-Api-Key: k-on' >/dev/null
	[ "$(code)" = 401 ] || fail "key prefix accepted: $(code)"
	get /a/x -H 'X-Api-Key: k-one,k-two' >/dev/null
	[ "$(code)" = 401 ] || fail "key list accepted: $(code)"
	get /a/x -H 'X-Api-Key;' >/dev/null
	[ "$(code)" = 401 ] || fail "empty key: $(code)"
	out=$(get /a/x -H 'X-Api-Key: k-two')
	[ "$(code)" = 200 ] && grep -qx name=alpha <<<"$out" || fail "valid key: $(code) $out"
	grep -q '^h:x-api-key' <<<"$out" && fail "the key reached the origin: $out"
	grep -qx 'h:x-route=a' <<<"$out" || fail "config header rule not applied: $out"
	out=$(get /other -H 'X-Api-Key: k-one')
	[ "$(code)" = 200 ] && grep -qx name=beta <<<"$out" || fail "config routing: $(code) $out"
	# Two requests on one connection: the gate runs for each (the second one has no key).
	out=$(curl -sS --max-time 10 -H 'X-Api-Key: k-one' "http://127.0.0.1:$LISTEN_PORT/a/1" \
		--next -H 'X-Api-Key: k-two' "http://127.0.0.1:$LISTEN_PORT/a/2" \
		--next "http://127.0.0.1:$LISTEN_PORT/a/3")
	[ "$(grep -c '^name=alpha' <<<"$out")" = 2 ] && grep -q '^Unauthorized' <<<"$out" ||
		fail "keep-alive: $out"
}

test_gate_needs_keys() {
	need_examples || return $?
	local rc=0 err
	err=$(env -u PINGX_API_KEYS "$GATE" -t -c /nonexistent 2>&1) || rc=$?
	[ "$rc" = 2 ] || fail "exit $rc without keys"
	grep -q PINGX_API_KEYS <<<"$err" || fail "no hint: $err"
}

# Install the library into a scratch root and build an example with pkg-config alone (it
# links the shared library).
test_installed_pkgconfig() {
	need_examples || return $?
	command -v pkg-config >/dev/null || { echo "   needs pkg-config" >&2; return $SKIP; }
	l7_tmpdir
	local root=$TMPD/root pcdir
	make -s -C "$PINGX_TOP" O="$O" DESTDIR="$root" install-libpingx >"$TMPD/make.log" 2>&1 ||
		fail "install-libpingx: $(cat "$TMPD/make.log")"
	pcdir=$(dirname "$(find "$root" -name pingx.pc | head -1)")
	[ -f "$pcdir/pingx.pc" ] || fail "pingx.pc not installed"
	find "$root" -path '*/include/pingx/pingx.h' | grep -q . || fail "header not installed"
	find "$root" -name libpingx.a | grep -q . || fail "libpingx.a not installed"
	local flags
	flags=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$root pkg-config --cflags --libs pingx) ||
		fail "pkg-config pingx failed"
	# shellcheck disable=SC2086
	cc -o "$TMPD/router" "$PINGX_TOP/examples/header_router.c" $flags 2>"$TMPD/cc.log" ||
		fail "build with pkg-config: $(cat "$TMPD/cc.log")"
	name_origin alpha || return 1
	ex_port || return 1
	LISTEN_PORT=$PORT
	cat >"$TMPD/r.yaml" <<YAML
listeners: [{address: '127.0.0.1:$LISTEN_PORT'}]
upstreams: [{name: default, servers: [{address: '127.0.0.1:$ORIGIN_ALPHA'}]}]
virtual_hosts: [{name: v, hosts: '*', routes: [{path: /, upstream: default}]}]
YAML
	# -lpingx takes the shared library, which exports the API and nothing else.
	local libdir
	libdir=$(dirname "$(find "$root" -name libpingx.so.0 | head -1)")
	[ -f "$libdir/libpingx.so.0" ] || fail "libpingx.so.0 not installed"
	ldd "$TMPD/router" | grep -q "libpingx.so.0 => $libdir" ||
		LD_LIBRARY_PATH=$libdir ldd "$TMPD/router" | grep -q "libpingx.so.0 => $libdir" ||
		fail "not linked to the installed libpingx.so"
	if nm -D --defined-only "$libdir/libpingx.so.0" | awk '$2 ~ /^[TDB]$/ {print $3}' |
		grep -v '^pingx_' | grep -q .; then
		fail "libpingx.so exports more than pingx_*"
	fi
	export LD_LIBRARY_PATH=$libdir
	"$TMPD/router" -t -c "$TMPD/r.yaml" >/dev/null || fail "installed build rejects the config"
	start_proxy "$TMPD/router" "$TMPD/r.yaml"
	get /p | grep -qx name=alpha || fail "installed build does not proxy: $(code)"
}

run_tests "$@"
