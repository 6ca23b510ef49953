#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The XDP balancer's cost per packet against an empty XDP_TX floor (BPF_PROG_TEST_RUN, input
# restored on every pass by a harness program). Needs root. ROUNDS and REPEAT override.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "bpf-bench: needs root" >&2
	exit 1
fi
"$O/bench/pingx-bpf-bench" "${ROUNDS:-9}" "${REPEAT:-2000000}"
