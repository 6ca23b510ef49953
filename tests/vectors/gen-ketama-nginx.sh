#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Produce tests/vectors/ketama-nginx-*.tsv by running the real nginx: for each server set, an
# upstream with 'hash $arg_k consistent' on loopback, 1000 keys, and the peers nginx picked.
# Usage: gen-ketama-nginx.sh [OUTDIR]   (default: the directory of this script)
# Needs nginx and curl, and the loopback ports 30700-30709 free. Deterministic: re-running
# rewrites identical files unless nginx's hashing changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
FRONT=30700
# shellcheck source=tests/vectors/nginx-chash.sh
source "$here/nginx-chash.sh"

work=$(mktemp -d /tmp/pingx-gen-ketama.XXXXXX)
NGINX_PID=
cleanup() {
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID" 2>/dev/null || true
		wait "$NGINX_PID" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# 1000 keys of a few shapes, all safe in a query string without percent-encoding.
awk 'BEGIN {
	for (i = 0; i < 1000; i++) {
		m = i % 5
		if (m == 0) print i
		else if (m == 1) printf "user%d\n", i * 7919
		else if (m == 2) printf "/static/img/%05d.png\n", i
		else if (m == 3) printf "session-%08x\n", (i * 2654435761) % 4294967296
		else printf "k%d.example.com:%d\n", i, 1000 + i
	}
}' >"$work/keys"

# servers N SEED: N servers 127.0.X.Y on ports FRONT+1..FRONT+5 with weights 1..5 drawn from a
# fixed-seed generator (awk's srand is deterministic for a given seed).
servers() {
	awk -v n="$1" -v seed="$2" -v base="$FRONT" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			w = 1 + int(rand() * 5)
			p = base + 1 + int(rand() * 5)
			printf "127.0.%d.%d:%d\t%d\n", 1 + int(i / 200), 1 + (i * 37) % 200, p, w
		}
	}'
}

# run NAME SERVERS_FILE [DEAD...]: start nginx, query every key, write the vector file.
# KEYS (default $work/keys) names the keys file.
run() {
	local name=$1 sf=$2 keys=${KEYS:-$work/keys}
	shift 2
	local dir=$work/$name dest=$out/ketama-nginx-$name.tsv
	nginx_chash_conf "$dir" "$FRONT" "$sf" "$@"
	nginx_chash_run "$dir" &
	NGINX_PID=$!
	local tries=100
	until bash -c "exec 3<>/dev/tcp/127.0.0.1/$FRONT" 2>/dev/null; do
		tries=$((tries - 1))
		if [ "$tries" -le 0 ] || ! kill -0 "$NGINX_PID" 2>/dev/null; then
			cat "$dir/error.log" >&2
			echo "gen-ketama-nginx: nginx did not start" >&2
			return 1
		fi
		sleep 0.1
	done
	nginx_chash_query "$FRONT" "$keys" >"$dir/picks"
	kill "$NGINX_PID"
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=
	if awk -F'\t' '$2 == "" {bad = 1} END {exit !bad}' "$dir/picks"; then
		echo "gen-ketama-nginx: $name: a key got no X-Up" >&2
		return 1
	fi
	{
		echo "# ketama nginx-compatible ring: $(wc -l <"$sf") servers; picks made by $(nginx -v 2>&1 | sed 's/.*: //')"
		echo "# Produced by tests/vectors/gen-ketama-nginx.sh; do not edit. Records:"
		echo "#   server NAME WEIGHT   the upstream's servers, in order ('hash \$arg_k consistent')"
		echo "#   dead NAME            a server with no listener: nginx fails over from it"
		echo "#   key KEY PEERS        the peers nginx tried for KEY, in order (\$upstream_addr)"
		awk -F'\t' '{print "server\t" $1 "\t" $2}' "$sf"
		for d in "$@"; do printf 'dead\t%s\n' "$d"; done
		awk -F'\t' '{gsub(/, /, ",", $2); print "key\t" $1 "\t" $2}' "$dir/picks"
	} >"$dest"
	echo "wrote $dest"
}

# Three servers, one of them IPv6 (nginx hashes the brackets as part of the host).
printf '127.0.0.1:%d\t1\n[::1]:%d\t5\n127.0.1.2:%d\t3\n' $((FRONT + 1)) $((FRONT + 2)) \
	$((FRONT + 3)) >"$work/s3"
servers 10 10 >"$work/s10"
servers 100 100 >"$work/s100"
# Failover: ten servers of which three have no listener.
servers 10 7 >"$work/sfail"
mapfile -t dead < <(awk -F'\t' 'NR == 2 || NR == 5 || NR == 9 {print $1}' "$work/sfail")

# Tie-breaking: 127.0.3.92:30701 and 127.0.3.137:30701 share the point 2708557623 (found by
# searching 127.0.X.Y names for equal CRC32 points). Keys are chosen so that 40 of them land on
# that point's arc; nginx gives them to whichever of the two is listed first.
tie_a=127.0.3.92:$((FRONT + 1)) tie_b=127.0.3.137:$((FRONT + 1))
python3 - "$tie_a" "$tie_b" >"$work/tiekeys" <<'PY'
import struct, sys, zlib

def points(name):
    host, port = name.rsplit(":", 1)
    base = zlib.crc32(host.encode() + b"\0" + port.encode())
    prev, out = 0, []
    for _ in range(160):
        prev = zlib.crc32(struct.pack("<I", prev), base)
        out.append(prev)
    return out

a, b = points(sys.argv[1]), points(sys.argv[2])
shared = sorted(set(a) & set(b))
assert shared, "the two servers no longer share a point"
ring = sorted(set(a) | set(b))
tie = shared[0]
lo = ring[ring.index(tie) - 1]
hits = i = 0
while hits < 40:
    k = "tie-%d" % i
    if lo < zlib.crc32(k.encode()) <= tie:
        print(k)
        hits += 1
    i += 1
for i in range(300):
    print("k%d" % i)
PY
printf '%s\t1\n%s\t1\n' "$tie_a" "$tie_b" >"$work/stie-ab"
printf '%s\t1\n%s\t1\n' "$tie_b" "$tie_a" >"$work/stie-ba"

run 3 "$work/s3"
run 10 "$work/s10"
run 100 "$work/s100"
run failover "$work/sfail" "${dead[@]}"
KEYS=$work/tiekeys run tie-ab "$work/stie-ab"
KEYS=$work/tiekeys run tie-ba "$work/stie-ba"
