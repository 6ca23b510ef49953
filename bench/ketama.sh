#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# ketama ring build time and lookups per second, against nginx's qsort-based build and a
# Maglev table lookup measured in the same run. RUNS=N sets the runs per figure (median).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
bin=$O/bench/ketama_bench
if [ ! -x "$bin" ]; then
	echo "ketama.sh: $bin missing (make bench builds it)" >&2
	exit 1
fi
echo "== ketama"
exec "$bin" "${RUNS:-9}"
