#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingctl hash --algo ketama against a live nginx ('hash $arg_k consistent') on loopback:
# random server sets each run, the same picks for every key, and the keys that move when a
# server leaves or joins. Uses loopback ports 30720-30729 and addresses in 127.0.0.0/8.
ALL_TESTS="test_live_picks test_live_picks_ipv6 test_live_remove_one test_live_add_one"

source "$(dirname "$0")/../integration/lib.sh"
source "$PINGX_TOP/tests/vectors/nginx-chash.sh"
PINGCTL=$O/pingctl
FRONT=30720

need_tools() {
	[ -x "$PINGCTL" ] || fail "$PINGCTL not built" || return 1
	local t
	for t in nginx curl; do
		command -v "$t" >/dev/null || {
			echo "   $t not installed" >&2
			return "$SKIP"
		}
	done
}

# random_servers N SEED: N servers 127.0.X.Y:3072[1-5] with weights 1..5.
random_servers() {
	awk -v n="$1" -v seed="$2" -v base="$FRONT" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			printf "127.0.%d.%d:%d\t%d\n", 1 + int(rand() * 200), 1 + i,
				base + 1 + int(rand() * 5), 1 + int(rand() * 5)
		}
	}'
}

# random_keys N SEED: N keys safe in a query string.
random_keys() {
	awk -v n="$1" -v seed="$2" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++)
			printf "key-%d-%x\n", i, int(rand() * 2147483647)
	}'
}

# nginx_picks DIR SERVERS KEYS: run nginx for the servers file, print "KEY<TAB>PEER" per key.
nginx_picks() {
	local dir=$1 servers=$2 keys=$3
	nginx_chash_conf "$dir" "$FRONT" "$servers" || return 1
	spawn nginx_chash_run "$dir"
	local pid=$SPAWNED_PID
	wait_port 127.0.0.1 "$FRONT" || {
		cat "$dir/error.log" >&2
		fail "nginx did not start"
		return 1
	}
	nginx_chash_query "$FRONT" "$keys" || fail "curl failed" || return 1
	kill "$pid" && wait "$pid" 2>/dev/null
	# The port is free again once nginx has exited; the next nginx may bind it at once.
	return 0
}

# pingctl_picks SERVERS KEYS: pingctl's answer in the same "KEY<TAB>PEER" form.
pingctl_picks() {
	local list
	list=$(awk -F'\t' '{printf "%s%s=%s", (NR > 1 ? "," : ""), $1, $2}' "$1")
	"$PINGCTL" hash --algo ketama --backends "$list" - <"$2" |
		awk 'NR > 1 {print $3 "\t" $1}'
}

# compare_live N SEED [IPV6]: nginx and pingctl agree on 1000 keys for N random servers.
compare_live() {
	local n=$1 seed=$2 dir
	dir=$(mktemp -d /tmp/pingx-ketama-l7.XXXXXX)
	on_exit "rm -rf $dir"
	random_servers "$n" "$seed" >"$dir/servers"
	[ -n "${3:-}" ] && printf '[::1]:%d\t%d\n' $((FRONT + 6)) $((seed % 5 + 1)) >>"$dir/servers"
	random_keys 1000 "$seed" >"$dir/keys"
	log "seed $seed: $(wc -l <"$dir/servers") servers, 1000 keys"
	nginx_picks "$dir/ng" "$dir/servers" "$dir/keys" >"$dir/nginx" || return 1
	pingctl_picks "$dir/servers" "$dir/keys" >"$dir/pingctl" || return 1
	[ "$(wc -l <"$dir/nginx")" -eq 1000 ] || fail "nginx answered $(wc -l <"$dir/nginx") keys" ||
		return 1
	if ! cmp -s "$dir/nginx" "$dir/pingctl"; then
		diff "$dir/nginx" "$dir/pingctl" | head -6
		fail "pingctl disagrees with nginx (seed $seed)"
		return 1
	fi
}

test_live_picks() {
	need_tools || return $?
	compare_live 25 $((RANDOM * 32768 + RANDOM))
}

test_live_picks_ipv6() {
	need_tools || return $?
	compare_live 7 $((RANDOM * 32768 + RANDOM)) ipv6
}

# moved OLD NEW: the number of keys whose peer differs between two "KEY<TAB>PEER" files.
moved() {
	paste "$1" "$2" | awk -F'\t' '$2 != $4 {n++} END {print n + 0}'
}

# Removing one of 20 servers moves exactly the keys nginx had on it: about 1/20.
test_live_remove_one() {
	need_tools || return $?
	local dir seed=$((RANDOM * 32768 + RANDOM)) gone n bad
	dir=$(mktemp -d /tmp/pingx-ketama-l7.XXXXXX)
	on_exit "rm -rf $dir"
	random_servers 20 "$seed" >"$dir/s0"
	random_keys 4000 "$seed" >"$dir/keys"
	gone=$(sed -n 7p "$dir/s0" | cut -f1)
	grep -vF "$gone	" "$dir/s0" >"$dir/s1"
	nginx_picks "$dir/a" "$dir/s0" "$dir/keys" >"$dir/p0" || return 1
	nginx_picks "$dir/b" "$dir/s1" "$dir/keys" >"$dir/p1" || return 1
	n=$(moved "$dir/p0" "$dir/p1")
	bad=$(paste "$dir/p0" "$dir/p1" | awk -F'\t' -v g="$gone" '$2 != $4 && $2 != g' | wc -l)
	local had
	had=$(awk -F'\t' -v g="$gone" '$2 == g' "$dir/p0" | wc -l)
	log "seed $seed: removing $gone moved $n of 4000 keys ($had were on it)"
	[ "$bad" -eq 0 ] || fail "$bad keys moved between other servers" || return 1
	[ "$n" -eq "$had" ] || fail "moved $n, but $had keys were on $gone" || return 1
	pingctl_picks "$dir/s1" "$dir/keys" | cmp -s - "$dir/p1" || fail "pingctl disagrees after removal"
}

# Adding a server to 20 moves only keys onto the new one.
test_live_add_one() {
	need_tools || return $?
	local dir seed=$((RANDOM * 32768 + RANDOM)) new n bad
	dir=$(mktemp -d /tmp/pingx-ketama-l7.XXXXXX)
	on_exit "rm -rf $dir"
	random_servers 21 "$seed" >"$dir/all"
	head -20 "$dir/all" >"$dir/s0"
	new=$(sed -n 21p "$dir/all" | cut -f1)
	random_keys 4000 "$seed" >"$dir/keys"
	nginx_picks "$dir/a" "$dir/s0" "$dir/keys" >"$dir/p0" || return 1
	nginx_picks "$dir/b" "$dir/all" "$dir/keys" >"$dir/p1" || return 1
	n=$(moved "$dir/p0" "$dir/p1")
	bad=$(paste "$dir/p0" "$dir/p1" | awk -F'\t' -v g="$new" '$2 != $4 && $4 != g' | wc -l)
	log "seed $seed: adding $new moved $n of 4000 keys ($(awk "BEGIN {printf \"%.1f\", $n / 40}")%)"
	[ "$bad" -eq 0 ] || fail "$bad keys moved between old servers" || return 1
	[ "$n" -gt 0 ] && [ "$n" -lt 800 ] || fail "moved $n of 4000" || return 1
	pingctl_picks "$dir/all" "$dir/keys" | cmp -s - "$dir/p1" || fail "pingctl disagrees after adding"
}

run_tests "$@"
