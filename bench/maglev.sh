#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Maglev table build time against a textbook Pseudocode 1 (same run) and the NSDI'16 figures.
# RUNS=N sets the builds per figure (median quoted); exits 1 if slower than the paper.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
bin=$O/bench/maglev_bench
if [ ! -x "$bin" ]; then
	echo "maglev.sh: $bin missing (make bench builds it)" >&2
	exit 1
fi
echo "== maglev"
exec "$bin" "${RUNS:-15}"
