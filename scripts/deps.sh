#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package pingx needs to build, test, demo and benchmark.
# Idempotent: when everything is present it installs nothing.
# With --check it only reports what is missing (exit 1).
set -euo pipefail

PKGS=(
	# toolchain and BPF
	make gcc clang llvm libclang-rt-14-dev pkg-config
	libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev
	# userspace libraries
	libevent-dev libssl-dev libnghttp2-dev libyaml-dev libcunit1-dev node-llhttp liburing-dev
	# networking and test peers
	iproute2 ethtool procps util-linux curl wrk nginx-light haproxy nghttp2-client
	python3 openssl groff-base testssl.sh
	# WebSocket and HTTP/2 peers for the tunnel and HTTP/2 tests (Debian's python3)
	python3-websockets python3-h2 python3-grpcio
	# metrics: promtool and a Prometheus server for the scrape test
	prometheus
	# the HTTP caching conformance suite (scripts/cache-tests.sh installs it with npm)
	nodejs
	# scale-out: the routing daemon that announces the VIPs (and the test's router)
	bird2
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

# npm comes with some nodejs builds (NodeSource's) and is a package of its own in Debian's.
if ! command -v npm >/dev/null 2>&1; then
	missing+=(npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx, haproxy, prometheus and bird on install; tests start their own on
# loopback ports or in their own namespaces.
for s in nginx haproxy prometheus bird; do
	if command -v systemctl >/dev/null 2>&1; then
		(systemctl stop "$s" && systemctl disable "$s") >/dev/null 2>&1 || true
	fi
	if [ -x "/etc/init.d/$s" ]; then
		"/etc/init.d/$s" stop >/dev/null 2>&1 || true
	fi
done
echo "deps.sh: done"
