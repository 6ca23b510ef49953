# SPDX-License-Identifier: GPL-2.0
# Shared by tests/l7/test-health.sh and test-metrics.sh (after tests/integration/lib.sh):
# free ports in 31000-31999, python origins and the ops harness, each stopped by PID.

OPS_HARNESS=$O/tests/l7/ops-harness

fail() {
	echo "   FAIL: $*" >&2
	exit 1
}

need_ops_tools() {
	local t
	for t in python3 ss "$@"; do
		command -v "$t" >/dev/null 2>&1 || { echo "   needs $t" >&2; return $SKIP; }
	done
	[ -x "$OPS_HARNESS" ] || { echo "   $OPS_HARNESS not built" >&2; return 1; }
}

# A temporary directory removed when the test ends: sets TMPD.
ops_tmpdir() {
	TMPD=$(mktemp -d /tmp/pingx-ops.XXXXXX)
	on_exit "rm -rf $TMPD"
}

# A free loopback TCP port in 31000-31999 (random start, bounded tries): sets PORT.
ops_port() {
	pick_port 31000 1000
}

# Wall clock in milliseconds.
now_ms() { date +%s%3N; }

# Start python's http.server on 127.0.0.1:PORT serving $TMPD/www: sets ORIGIN_PID.
# GET / answers 200 (index.html), any missing path 404; requests are logged to
# $TMPD/origin.log.
start_pyhttp() {
	local port=$1
	mkdir -p "$TMPD/www"
	echo ok >"$TMPD/www/index.html"
	spawn python3 -m http.server --bind 127.0.0.1 --directory "$TMPD/www" "$port" \
		2>>"$TMPD/origin.log"
	ORIGIN_PID=$SPAWNED_PID
	wait_port 127.0.0.1 "$port" || fail "python origin on $port did not start"
}

# Wait (bounded by SECONDS_MAX) until FILE has a line matching REGEX; print that line.
wait_line() {
	local file=$1 re=$2 max=${3:-10} i
	for ((i = 0; i < max * 20; i++)); do
		if grep -Eqs "$re" "$file"; then
			grep -E "$re" "$file" | head -n1
			return 0
		fi
		sleep 0.05
	done
	return 1
}
