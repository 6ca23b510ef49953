#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pingctl's manual page and bash completion: the page renders without warnings and names
# every command of the help text; completion offers objects, commands, options, values,
# interfaces and files; make install puts the binary, the page and the completion in place.
# Needs no root.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_man_page test_completion test_install"

MAN=$PINGX_TOP/docs/pingctl.8
COMP=$PINGX_TOP/scripts/pingctl-completion.bash

test_man_page() {
	local out obj cmd missing=""
	[ -x "$O/pingctl" ] || { fail "$O/pingctl not built"; return 1; }
	command -v groff >/dev/null || { echo "   missing groff" >&2; return $SKIP; }
	out=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)
	[ -z "$out" ] || { fail "groff warns: $out"; return 1; }
	out=$(groff -man -Tascii -rLL=300n -rHY=0 -P-cbou "$MAN" 2>/dev/null)
	# Every "pingctl OBJECT COMMAND" of the help texts appears in the page.
	for obj in service backend node stats conntrack deny decap attach save hash; do
		while read -r cmd; do
			echo "$out" | grep -q -- "$cmd" || missing+=" '$cmd'"
		done < <("$O/pingctl" $obj help | sed -n 's/^ *\(Usage: \)\{0,1\}pingctl \([a-z]* [a-z-]*\).*/\2/p' |
			grep -v ' help$' | sort -u)
	done
	# The commands written inside braces in the help texts.
	for cmd in "conntrack list" "conntrack count" "conntrack flush" "decap attach" "decap detach" \
		"unload"; do
		echo "$out" | grep -q -- "$cmd" || missing+=" '$cmd'"
	done
	[ -z "$missing" ] || { fail "the man page lacks:$missing"; return 1; }
	for opt in --json --pretty --bpffs --watch --limit --flow --table-size --gateway-mac --ttl --syn-rate; do
		echo "$out" | grep -q -- "$opt" || { fail "the man page lacks $opt"; return 1; }
	done
}

# complete WORDS...: the completions of the last word (may be empty), one per line.
complete_words() {
	bash -c '
		source "$1"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_pingctl
		printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP" "$@" | LC_ALL=C sort
}

test_completion() {
	local got
	want() { # want "EXPECTED WORDS" WORDS...
		local exp=$1
		shift
		got=$(complete_words "$@" | tr '\n' ' ' | sed 's/ $//')
		[ "$got" = "$exp" ] || { fail "complete '$*': got '$got', want '$exp'"; BAD=1; }
	}
	BAD=0
	want "save service stats status" pingctl s
	want "--bpffs" pingctl --bp
	want "backend" pingctl -j ba
	want "add del help list set" pingctl backend ""
	want "list" pingctl -j conntrack l
	want "add del flush help list set show" pingctl service ""
	want "--algo --fwd --hash --mode --syn-rate --table-size" pingctl service add 192.0.2.1:80 --
	want "ketama maglev" pingctl service add 192.0.2.1:80 --algo ""
	want "l4 l7" pingctl service add 192.0.2.1:80 --mode ""
	want "auto generic native" pingctl attach lo --mode ""
	want "lo" pingctl attach l
	want "lo" pingctl decap attach l
	want "--all" pingctl unload -
	want "--down --drain --up --weight" pingctl backend set 192.0.2.1:80 10.0.0.1 --
	want "--limit" pingctl conntrack list -
	want "--count --watch" pingctl stats 192.0.2.1:80 --
	want "fib" pingctl node set --gateway-mac ""
	want "5tuple src" pingctl service set 192.0.2.1:80 --hash ""
	want "$COMP" pingctl restore "$(dirname "$COMP")/pingctl-comp"
	want "" pingctl node set --mtu ""
	[ "$BAD" = 0 ]
}

test_install() {
	local d
	d=$(mktemp -d) && on_exit "rm -rf $d"
	make -C "$PINGX_TOP" --no-print-directory O="$O" DESTDIR="$d" PREFIX=/usr install >/dev/null ||
		{ fail "make install failed"; return 1; }
	for f in usr/sbin/pingctl usr/share/man/man8/pingctl.8 \
		usr/share/bash-completion/completions/pingctl; do
		[ -s "$d/$f" ] || { fail "make install did not install $f"; return 1; }
	done
	"$d/usr/sbin/pingctl" version | grep -q '^pingctl ' || { fail "installed pingctl"; return 1; }
}

run_tests "$@"
