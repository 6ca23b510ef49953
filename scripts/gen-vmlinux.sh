#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print vmlinux.h (the running kernel's types, from its BTF) on stdout.
set -euo pipefail
BTF=${BTF:-/sys/kernel/btf/vmlinux}
BPFTOOL=${BPFTOOL:-bpftool}
[ -r "$BTF" ] || { echo "gen-vmlinux.sh: $BTF not readable: kernel built without BTF?" >&2; exit 1; }
exec "$BPFTOOL" btf dump file "$BTF" format c
