#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Nanoseconds per rate-limiter operation, one and two threads (median of RUNS), printed beside
# the figure pingora-limits publishes for its estimator (another harness and machine).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
bin=$O/bench/limit_bench
if [ ! -x "$bin" ]; then
	echo "limit.sh: $bin missing (make bench builds it)" >&2
	exit 1
fi
echo "== limit"
exec "$bin" "${RUNS:-7}"
