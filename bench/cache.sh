#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Object store hit ratios on a Zipf(1.0) workload against a plain LRU (same traces) and TinyUFO's
# published figures, then CPU ns per hit with 1 and 2 threads. RUNS=N sets the traces and timing
# runs (medians quoted); exits 1 if a hit ratio falls more than 0.5 points below TinyUFO's.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
bin=$O/bench/cache_bench
if [ ! -x "$bin" ]; then
	echo "cache.sh: $bin missing (make bench builds it)" >&2
	exit 1
fi
echo "== cache"
exec "$bin" "${RUNS:-5}"
