#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingctl hash: output, JSON, stdin keys, agreement with nginx's recorded picks, and exit
# codes for bad input. Needs no root: it only runs pingctl.
ALL_TESTS="test_help test_ketama_nginx_vectors test_ketama_libketama test_maglev_stable"
ALL_TESTS+=" test_maglev_weights test_stdin_keys test_json test_json_error test_bad_input"

source "$(dirname "$0")/lib.sh"
PINGCTL=$O/pingctl
VEC=$PINGX_TOP/tests/vectors

have_pingctl() {
	[ -x "$PINGCTL" ] || fail "$PINGCTL not built"
}

test_help() {
	have_pingctl || return 1
	local out
	out=$("$PINGCTL" hash help) || fail "hash help: exit $?" || return 1
	grep -q -- '--algo maglev|ketama' <<<"$out" || fail "help lacks the grammar" || return 1
	"$PINGCTL" hash --help >/dev/null || fail "hash --help: exit $?" || return 1
	"$PINGCTL" help | grep -q hash || fail "pingctl help does not list hash"
}

# servers_of FILE: the "server" records of a vector file as a --backends list.
servers_of() {
	awk -F'\t' '$1 == "server" {printf "%s%s=%s", n++ ? "," : "", $2, $3} END {print ""}' "$1"
}

# The picks nginx made (recorded by tests/vectors/gen-ketama-nginx.sh) are what pingctl says.
test_ketama_nginx_vectors() {
	have_pingctl || return 1
	local f got want n
	for f in "$VEC"/ketama-nginx-3.tsv "$VEC"/ketama-nginx-10.tsv "$VEC"/ketama-nginx-100.tsv; do
		want=$(awk -F'\t' '$1 == "key" {print $3 "\t" $2}' "$f")
		n=$(wc -l <<<"$want")
		[ "$n" -ge 1000 ] || fail "$f: only $n keys" || return 1
		got=$(awk -F'\t' '$1 == "key" {print $2}' "$f" |
			"$PINGCTL" hash --algo ketama --backends "$(servers_of "$f")" - |
			awk 'NR > 1 {b = $1; $1 = $2 = ""; sub(/^  /, ""); print b "\t" $0}')
		[ "$got" = "$want" ] || {
			diff <(echo "$want") <(echo "$got") | head -5
			fail "$f: pingctl disagrees with nginx"
			return 1
		}
		log "$(basename "$f"): $n keys agree"
	done
}

# libketama's python binding test: "test" -> 127.0.0.1:11211, key hash 3446378249.
test_ketama_libketama() {
	have_pingctl || return 1
	local out
	out=$("$PINGCTL" hash --algo ketama --ketama-compat libketama \
		--backends 127.0.0.1:11211=600,127.0.0.1:11212=400 test) || return 1
	[ "$(sed -n 2p <<<"$out" | awk '{print $1, $2, $3}')" = "127.0.0.1:11211 3446378249 test" ] ||
		fail "unexpected: $out"
}

# A Maglev table depends on the set of backends, not on their order.
test_maglev_stable() {
	have_pingctl || return 1
	local a b keys
	keys=$(seq -f 'key-%g' 1 500)
	a=$("$PINGCTL" hash --algo maglev --table-size 251 \
		--backends "10.0.0.1:80,10.0.0.2:80,[2001:db8::3]:80=2" - <<<"$keys") || return 1
	b=$("$PINGCTL" hash --algo maglev --table-size 251 \
		--backends "[2001:db8::3]:80=2,10.0.0.2:80,10.0.0.1:80" - <<<"$keys") || return 1
	[ "$(wc -l <<<"$a")" -eq 501 ] || fail "expected 500 answers" || return 1
	[ "$a" = "$b" ] || fail "backend order changed the answers"
}

# Weights 1 and 3 share the keys about 1:3.
test_maglev_weights() {
	have_pingctl || return 1
	local share
	share=$(seq -f 'k%g' 1 20000 |
		"$PINGCTL" hash --algo maglev --backends 10.0.0.1:80=1,10.0.0.2:80=3 - |
		awk 'NR > 1 {n[$1]++; t++} END {printf "%d", 1000 * n["10.0.0.2:80"] / t}')
	log "weight-3 backend got $share/1000 of the keys"
	[ "$share" -ge 730 ] && [ "$share" -le 770 ] || fail "share $share/1000, want ~750"
}

# "-" reads one key per line; keys keep spaces; an empty line is the empty key; "-" can sit
# among ordinary keys.
test_stdin_keys() {
	have_pingctl || return 1
	local out
	out=$(printf 'a b\n\nlast' | "$PINGCTL" hash --algo ketama --backends 10.0.0.1:80 \
		first - -- -dash) || return 1
	[ "$(wc -l <<<"$out")" -eq 6 ] || fail "expected header + 5 answers: $out" || return 1
	[ "$(sed -n 2p <<<"$out" | awk '{$1 = $2 = ""; sub(/^  /, ""); print}')" = first ] &&
		[ "$(sed -n 3p <<<"$out" | awk '{$1 = $2 = ""; sub(/^  /, ""); print}')" = "a b" ] &&
		[ "$(sed -n 5p <<<"$out" | awk '{$1 = $2 = ""; sub(/^  /, ""); print}')" = last ] &&
		[ "$(sed -n 6p <<<"$out" | awk '{$1 = $2 = ""; sub(/^  /, ""); print}')" = -dash ] ||
		fail "keys mangled: $out" || return 1
	# crc32("") = 0: the empty key's hash column.
	[ "$(sed -n 4p <<<"$out" | awk '{print $2}')" = 0 ] || fail "empty key: $out"
}

test_json() {
	have_pingctl || return 1
	local out
	out=$("$PINGCTL" -j hash --algo ketama --backends 127.0.0.1:11211=600,127.0.0.1:11212=400 \
		--ketama-compat libketama test 'q"uote') || return 1
	python3 - "$out" <<'PY' || fail "bad JSON: $out"
import json, sys
v = json.loads(sys.argv[1])
assert isinstance(v, list) and len(v) == 2, v
assert v[0] == {"key": "test", "backend": "127.0.0.1:11211", "index": 0, "hash": 3446378249}, v
assert v[1]["key"] == 'q"uote' and v[1]["backend"] in ("127.0.0.1:11211", "127.0.0.1:11212")
PY
	out=$("$PINGCTL" -j hash --algo maglev --backends 10.0.0.1:80 a) || return 1
	python3 -c 'import json,sys; v=json.loads(sys.argv[1]); assert v == [{"key": "a",
"backend": "10.0.0.1:80", "index": 0, "slot": 26977}], v' "$out" || fail "bad JSON: $out"
}

test_json_error() {
	have_pingctl || return 1
	local out rc
	out=$("$PINGCTL" -j hash --algo ketama --backends 10.0.0.1:80=0 k 2>/dev/null)
	rc=$?
	[ "$rc" -eq 2 ] || fail "exit $rc, want 2" || return 1
	python3 -c 'import json,sys; v=json.loads(sys.argv[1]); assert "10.0.0.1:80=0" in v["error"]' \
		"$out" || fail "bad JSON error: $out"
}

# Each bad command line: exit 2, nothing on stdout, and a first stderr line naming the item.
test_bad_input() {
	have_pingctl || return 1
	local item args out err rc bad=0
	while IFS='|' read -r item args; do
		[ -n "$item" ] || continue
		err=$(mktemp)
		# shellcheck disable=SC2086 # word splitting of the argument list is intended
		out=$("$PINGCTL" hash $args 2>"$err")
		rc=$?
		if [ "$rc" -ne 2 ] || [ -n "$out" ] || ! head -1 "$err" | grep -qF -- "$item"; then
			echo "   args: $args -> exit $rc, stderr: $(head -1 "$err")"
			bad=$((bad + 1))
		fi
		rm -f "$err"
	done <<'EOF_CASES'
10.0.0.300:80|--algo ketama --backends 10.0.0.1:80,10.0.0.300:80 k
10.0.0.1:80=0|--algo ketama --backends 10.0.0.1:80=0 k
10.0.0.1:80=-3|--algo maglev --backends 10.0.0.1:80=-3 k
10.0.0.1:80=x|--algo maglev --backends 10.0.0.1:80=x k
10.0.0.1|--algo ketama --backends 10.0.0.1 k
::1:80|--algo ketama --backends ::1:80 k
10.0.0.1:0|--algo ketama --backends 10.0.0.1:0 k
1000|--algo maglev --table-size 1000 --backends 10.0.0.1:80 k
65535|--algo maglev --table-size 65535 --backends 10.0.0.1:80 k
100|--algo maglev --table-size 100 --backends 10.0.0.1:80 k
empty backend list|--algo maglev --backends= k
empty item|--algo maglev --backends 10.0.0.1:80,,10.0.0.2:80 k
duplicate backend '10.0.0.1:80'|--algo ketama --backends 10.0.0.1:80,10.0.0.1:80=2 k
--frob|--algo ketama --backends 10.0.0.1:80 --frob k
rr|--algo rr --backends 10.0.0.1:80 k
--algo|--backends 10.0.0.1:80 k
--backends|--algo ketama k
KEY|--algo ketama --backends 10.0.0.1:80
nginx2|--algo ketama --ketama-compat nginx2 --backends 10.0.0.1:80 k
--table-size|--algo ketama --table-size 251 --backends 10.0.0.1:80 k
weights too large|--algo ketama --backends 10.0.0.1:80=200000 k
EOF_CASES
	[ "$bad" -eq 0 ] || fail "$bad bad command line(s) not refused properly"
}

run_tests "$@"
