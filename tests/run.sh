#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the named test suites (unit, asan, bpf, integration, l7, cache) and print one summary
# line: "N passed, N failed[, N skipped][, N unsupported on this machine]". Each suite appends
# "suite passed failed skipped [unsupported]" lines to $PINGX_RESULTS. Under CI=true a skipped
# test counts as a failure; an unsupported one (a kernel feature this machine lacks) does not.
set -uo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
export O
export PINGX_RESULTS PINGX_FAILURES
PINGX_RESULTS=$(mktemp /tmp/pingx-results.XXXXXX)
# Each failed test's name (and, for scripts, its last lines), repeated after the summary so
# that the end of a long log says what failed.
PINGX_FAILURES=$(mktemp /tmp/pingx-failures.XXXXXX)
trap 'rm -f "$PINGX_RESULTS" "$PINGX_FAILURES"' EXIT

record() { echo "$1 $2 $3 $4" >>"$PINGX_RESULTS"; }

run_unit() {
	local bin=$O/tests/unit/pingx-unit
	if [ ! -x "$bin" ]; then
		echo "unit: $bin missing" | tee -a "$PINGX_FAILURES" >&2
		record unit 0 1 0
		return
	fi
	"$bin" || true
}

# The same unit tests built with ASan and UBSan (make asan-unit).
run_asan() {
	local bin=$O/asan/tests/unit/pingx-unit
	if [ ! -x "$bin" ]; then
		echo "asan: $bin missing" | tee -a "$PINGX_FAILURES" >&2
		record asan 0 1 0
		return
	fi
	echo "== unit tests under ASan and UBSan"
	PINGX_UNIT_RUN=asan ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$bin" || true
}

run_bpf() {
	local bin=$O/tests/bpf/pingx-bpf-test
	[ -x "$bin" ] || return 0
	"$bin" || true
}

# Scripts in tests/<dir>/test-*.sh use tests/integration/lib.sh, which records results.
run_scripts() {
	local dir=$1 s
	for s in tests/"$dir"/test-*.sh; do
		[ -e "$s" ] || continue
		echo "== $s"
		bash "$s" || true
	done
}

for suite in "$@"; do
	case "$suite" in
	unit) run_unit ;;
	asan) run_asan ;;
	bpf) run_bpf ;;
	integration) run_scripts integration ;;
	l7) run_scripts l7 ;;
	cache) run_scripts cache ;;
	*) echo "run.sh: unknown suite '$suite'" | tee -a "$PINGX_FAILURES" >&2
		record "$suite" 0 1 0
		;;
	esac
done

read -r passed failed skipped unsupported < <(awk '{p+=$2; f+=$3; s+=$4; u+=$5}
	END {print p+0, f+0, s+0, u+0}' "$PINGX_RESULTS")
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
	echo "CI=true: $skipped skipped test(s) count as failures"
	failed=$((failed + skipped))
	skipped=0
fi
echo
if [ -s "$PINGX_FAILURES" ]; then
	echo "Failed:"
	cat "$PINGX_FAILURES"
	echo
fi
# Tests this machine cannot run (a kernel feature not built) are not failures, even in CI:
# each said why.
extra=""
[ "$unsupported" -gt 0 ] && extra=", $unsupported unsupported on this machine"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped$extra"
else
	echo "$passed passed, $failed failed$extra"
fi
[ "$failed" -eq 0 ]
