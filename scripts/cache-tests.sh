#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the HTTP caching conformance suite (npm package http-cache-tests, the suite behind
# cache-tests.fyi) under DIR (default $O/cache-tests), with the npm of scripts/deps.sh.
# Idempotent: an installed copy of the pinned version is kept.
set -euo pipefail
VERSION=0.4.5
DIR=${1:-${O:-build}/cache-tests}
PKG=$DIR/node_modules/http-cache-tests/package.json

if [ -f "$PKG" ] && grep -q "\"version\": \"$VERSION\"" "$PKG"; then
	exit 0
fi
command -v npm >/dev/null || { echo "cache-tests.sh: npm missing; run scripts/deps.sh" >&2; exit 1; }
mkdir -p "$DIR"
echo "cache-tests.sh: installing http-cache-tests@$VERSION into $DIR"
npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "http-cache-tests@$VERSION"
