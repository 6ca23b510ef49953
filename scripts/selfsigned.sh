#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A throwaway self-signed ECDSA P-256 certificate and key for trying pingd's TLS:
#   scripts/selfsigned.sh OUT NAME [NAME...]
# writes OUT.crt and OUT.key, valid for 30 days for the DNS names given (wildcards such as
# '*.example.test' allowed), the first also the subject's common name. Clients trust it with
# curl --cacert OUT.crt. Not for production.
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 OUT NAME [NAME...]" >&2
	exit 2
fi
out=$1
shift
san=""
for n in "$@"; do
	san+="${san:+,}DNS:$n"
done
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
	-days 30 -subj "/CN=$1" -addext "subjectAltName=$san" \
	-keyout "$out.key" -out "$out.crt" 2>/dev/null
chmod 600 "$out.key"
echo "$out.crt $out.key"
