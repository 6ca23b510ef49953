# SPDX-License-Identifier: GPL-2.0
# Shared helpers for tests/integration and tests/l7 scripts.
# A script defines test_* functions, lists them in ALL_TESTS, sources this file and calls
# run_tests "$@". A test passes with status 0, is skipped with 77, and fails otherwise.
# Cleanup registered with on_exit runs after every test, even a failed one.

PINGX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O=$PINGX_TOP/$O ;; esac
SKIP=77
# A test the machine cannot run (a kernel feature that is not built, not a missing
# privilege or tool): reported with its reason and counted apart, even under CI=true.
UNSUPPORTED=78

# Run a command in a network namespace without hiding /sys/fs/bpf (ip netns exec mounts a
# fresh sysfs where the bpffs is missing).
nsx() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

log() { echo "   $*"; }
fail() {
	echo "   FAIL: $*" >&2
	return 1
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "   needs root" >&2
		return $SKIP
	fi
	return 0
}

# Cleanup stack: each test's registered commands run in reverse order when it ends.
_CLEANUP=()
on_exit() { _CLEANUP+=("$*"); }
_run_cleanup() {
	local i
	for ((i = ${#_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	_CLEANUP=()
}

# Start a background process and register its PID for cleanup.
spawn() {
	"$@" &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	SPAWNED_PID=$pid
}

# Create a network namespace that is removed when the test ends.
netns_add() {
	local ns=$1
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns" || return 1
	on_exit "ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $ns"
	ip -n "$ns" link set lo up
}

# A free loopback TCP port in [LO, LO + SPAN) that this test has not been handed before:
# pick_port LO SPAN sets PORT. A port handed out may not be bound yet (or never, for a port that
# must stay dead), so ss alone cannot see it is taken. Random start, so that scripts running at
# the same time rarely meet; bounded tries. Keep LO + SPAN at or below 32768, where the
# kernel's ephemeral ports start: a client's connection could otherwise hold the port first.
_PORTS_GIVEN=" "
pick_port() {
	local lo=$1 span=$2 p i
	for ((i = 0; i < 300; i++)); do
		p=$((lo + RANDOM % span))
		case "$_PORTS_GIVEN" in *" $p "*) continue ;; esac
		if ! ss -Htan "sport = :$p" | grep -q .; then
			_PORTS_GIVEN+="$p "
			PORT=$p
			return 0
		fi
	done
	return 1
}

# Wait until FILE (which may not exist yet) holds a line matching PATTERN:
# wait_grep PATTERN FILE [TRIES (100), 0.1 s apart]. Returns 1 when it never does.
wait_grep() {
	local pat=$1 f=$2 tries=${3:-100}
	while [ "$tries" -gt 0 ]; do
		grep -q -- "$pat" "$f" 2>/dev/null && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# Wait until a TCP port accepts connections: wait_port HOST PORT [NS] [TRIES]
wait_port() {
	local host=$1 port=$2 ns=${3:-} tries=${4:-100}
	local cmd=(bash -c "exec 3<>/dev/tcp/$host/$port")
	while [ "$tries" -gt 0 ]; do
		if [ -n "$ns" ]; then
			nsx "$ns" "${cmd[@]}" 2>/dev/null && return 0
		else
			"${cmd[@]}" 2>/dev/null && return 0
		fi
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

run_tests() {
	local suite name rc passed=0 failed=0 skipped=0 unsupported=0
	suite=$(basename "$0" .sh)
	local tests=("$@")
	[ ${#tests[@]} -gt 0 ] || read -ra tests <<<"$ALL_TESTS"
	for name in "${tests[@]}"; do
		printf ' %-50s ' "$name"
		local out
		out=$(mktemp)
		# The test runs in a subshell whose EXIT trap runs its cleanup stack, so that a
		# test may "exit" or fail anywhere and still remove what it created.
		(
			trap _run_cleanup EXIT
			"$name"
		) >"$out" 2>&1
		rc=$?
		case $rc in
		0)
			echo ok
			passed=$((passed + 1))
			;;
		"$SKIP")
			echo SKIP
			sed 's/^/    | /' "$out"
			skipped=$((skipped + 1))
			[ "${CI:-}" = true ] && [ -n "${PINGX_FAILURES:-}" ] &&
				echo "$suite:$name skipped, which CI counts as a failure" >>"$PINGX_FAILURES"
			;;
		"$UNSUPPORTED")
			echo "UNSUPPORTED (this machine)"
			sed 's/^/    | /' "$out"
			unsupported=$((unsupported + 1))
			;;
		*)
			echo "FAIL ($rc)"
			sed 's/^/    | /' "$out"
			failed=$((failed + 1))
			# tests/run.sh repeats the failures after the summary.
			[ -n "${PINGX_FAILURES:-}" ] && {
				echo "$suite:$name (exit $rc), last lines:"
				tail -n 12 "$out" | sed 's/^/    | /'
			} >>"$PINGX_FAILURES"
			;;
		esac
		rm -f "$out"
	done
	local extra=""
	[ "$unsupported" -gt 0 ] && extra=", $unsupported unsupported on this machine"
	echo "-- $suite: $passed ok, $failed failing, $skipped skipped$extra"
	[ -n "${PINGX_RESULTS:-}" ] &&
		echo "$suite $passed $failed $skipped $unsupported" >>"$PINGX_RESULTS"
	[ "$failed" -eq 0 ]
}
