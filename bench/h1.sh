#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# HTTP/1.x codec messages per second against bare llhttp in the same run (median of RUNS),
# then ns per proxied exchange (both heads parsed, edited and serialized) against llhttp.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
bin=$O/bench/h1_bench
if [ ! -x "$bin" ]; then
	echo "h1.sh: $bin missing (make bench builds it)" >&2
	exit 1
fi
echo "== h1 codec"
exec "$bin" "${RUNS:-7}"
