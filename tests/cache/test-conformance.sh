#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The HTTP caching conformance suite (http-cache-tests, the suite behind cache-tests.fyi,
# installed by scripts/cache-tests.sh) against pingd: the suite's origin server on a loopback
# port, pingd with a cache in front of it, the suite's client against pingd. Passes when at
# least CACHE_TESTS_MIN (145) of the 160 required tests pass; every required failure is
# printed, and each one left is explained in docs/cache.md.

ALL_TESTS="test_http_cache_tests"

source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/../l7/l7lib.sh"

SUITE=${CACHE_TESTS_DIR:-$O/cache-tests/node_modules/http-cache-tests}
MIN=${CACHE_TESTS_MIN:-145}

test_http_cache_tests() {
	need_l7_tools node || return $?
	[ -f "$SUITE/cli.mjs" ] || fail "$SUITE missing: run make cache-tests (scripts/cache-tests.sh)"
	l7_tmpdir
	free_port || return 1
	local origin=$PORT line
	free_port || return 1
	LISTEN_PORT=$PORT
	(cd "$SUITE" && npm_config_protocol=http npm_config_port=$origin \
		npm_config_pidfile="$TMPD/server.pid" exec node server/server.mjs) \
		>"$TMPD/server.log" 2>&1 &
	local spid=$!
	on_exit "kill $spid 2>/dev/null; wait $spid 2>/dev/null"
	wait_port 127.0.0.1 "$origin" || fail "the suite's server did not start"
	# stale_if_error: a cache that cannot reach the origin may answer with what it has
	# (RFC 9111 §4.2.4); the stale-close tests check it does not when the response forbids.
	cat >"$TMPD/pingd.yaml" <<EOF
workers: 2
listeners:
  - address: 127.0.0.1:$LISTEN_PORT
upstreams:
  - name: origin
    servers:
      - address: 127.0.0.1:$origin
caches:
  - name: main
    size: 64m
    stale_if_error: 24h
virtual_hosts:
  - name: all
    hosts: '*'
    routes:
      - path: /
        upstream: origin
        cache: main
EOF
	start_pingd -c "$TMPD/pingd.yaml"
	(cd "$SUITE" && npm_config_base="http://127.0.0.1:$PINGD_PORT" npm_package_config_id= \
		exec node --no-warnings cli.mjs) >"$TMPD/results.json" 2>"$TMPD/cli.err" ||
		{ cat "$TMPD/cli.err"; fail "the suite's client failed"; }
	node "$PINGX_TOP/tests/cache/summary.mjs" "$SUITE" "$TMPD/results.json" >"$TMPD/summary" ||
		{ cat "$TMPD/cli.err"; fail "no summary"; }
	cat "$TMPD/summary"
	line=$(tail -1 "$TMPD/summary")
	read -r _ passed <<<"${line%% optimal*}"
	passed=${passed%%/*}
	[ "$passed" -ge "$MIN" ] || fail "$passed required tests passed, want at least $MIN"
}

run_tests "$@"
