#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: pingx's main job on this machine. For now it shows the hashing layer that both
# tiers share: where keys land on a Maglev table and on an nginx-compatible ketama ring, and
# how few keys move when a backend leaves.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
PINGCTL=$O/pingctl

if [ "${1:-}" = down ]; then
	echo "demo: nothing is left running"
	exit 0
fi

BACKENDS=10.0.0.1:80,10.0.0.2:80,10.0.0.3:80=2
FEWER=10.0.0.1:80,10.0.0.3:80=2
KEYS=$(mktemp)
trap 'rm -f "$KEYS"' EXIT
for i in $(seq 1 3000); do echo "/img/$i.png"; done >"$KEYS"

section() { printf '\n== %s\n' "$*"; }

spread() { # spread ALGO BACKENDS: how many of the keys each backend gets
	"$PINGCTL" hash --algo "$1" --backends "$2" - <"$KEYS" | awk 'NR > 1 {print $1}' | sort |
		uniq -c | awk '{printf "   %-16s %5d keys\n", $2, $1}'
}

moved() { # moved ALGO: keys whose backend changes when 10.0.0.2 leaves
	paste <("$PINGCTL" hash --algo "$1" --backends "$BACKENDS" - <"$KEYS" | awk 'NR > 1 {print $1}') \
		<("$PINGCTL" hash --algo "$1" --backends "$FEWER" - <"$KEYS" | awk 'NR > 1 {print $1}') |
		awk '$1 != $2 {m++; if ($1 != "10.0.0.2:80") o++}
		     END {printf "   %d of %d keys moved (%.1f%%); %d of them were not on 10.0.0.2\n",
			  m, NR, 100*m/NR, o}'
}

section "Backends: $BACKENDS (weights 1, 1, 2)"
section "Where do a few keys go? (Maglev, M = 65537)"
"$PINGCTL" hash --algo maglev --backends "$BACKENDS" /index.html /api/users /img/logo.png
section "The same keys on an nginx 'hash \$key consistent' ring"
"$PINGCTL" hash --algo ketama --backends "$BACKENDS" /index.html /api/users /img/logo.png
section "Spread of 3000 keys, Maglev"
spread maglev "$BACKENDS"
section "Spread of 3000 keys, ketama"
spread ketama "$BACKENDS"
section "10.0.0.2 leaves: (almost) only its own keys move"
echo " Maglev:"
moved maglev
echo " ketama:"
moved ketama
section "As JSON (pingctl -j)"
"$PINGCTL" -j hash --algo maglev --backends "$BACKENDS" /index.html
