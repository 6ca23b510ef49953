#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# A slow, independent implementation of the Maglev table format of docs/hashing.md (key
# encoding, hashes, key order, weighted turns), used to pin the golden table in
# tests/unit/test_maglev.c. Run it to print that table's checksum and first entries.
import ipaddress

M64 = (1 << 64) - 1


def fmix64(h):
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & M64
    return h ^ (h >> 33)


def key_hash(key, seed):
    """FNV-1a 64 from the offset basis xor b"maglev/<seed>", then xor length, then fmix64."""
    h = 0xCBF29CE484222325 ^ int.from_bytes(b"maglev/%d" % seed, "big")
    for c in key:
        h = ((h ^ c) * 0x100000001B3) & M64
    return fmix64(h ^ len(key))


def addr_key(addr, port):
    a = ipaddress.ip_address(addr)
    return bytes([a.version]) + a.packed + port.to_bytes(2, "big")


def build(backends, m):
    """backends: list of (key bytes, weight). Returns the table: indexes into backends."""
    order = sorted(range(len(backends)),
                   key=lambda i: (backends[i][0].ljust(23, b"\0"), len(backends[i][0])))
    turns = [i for i in order if backends[i][1] > 0]
    wmax = max(backends[i][1] for i in turns)
    nxt = {i: key_hash(backends[i][0], 1) % m for i in turns}
    skip = {i: key_hash(backends[i][0], 2) % (m - 1) + 1 for i in turns}
    credit = {i: wmax for i in turns}
    table, filled = [None] * m, 0
    while True:
        for i in turns:
            credit[i] += 2 * backends[i][1]
            if credit[i] < 2 * wmax:
                continue
            credit[i] -= 2 * wmax
            c = nxt[i]
            while table[c] is not None:
                c = (c + skip[i]) % m
            table[c], nxt[i], filled = i, (c + skip[i]) % m, filled + 1
            if filled == m:
                return table


def main():
    backends = []
    for i in reversed(range(20)):
        if i % 3 == 2:
            backends.append((addr_key("2001:db8::%x" % i, 443), 1 + i % 3))
        else:
            backends.append((addr_key("192.0.2.%d" % i, 8000 + i), 1 + i % 3))
    backends.append((addr_key("192.0.2.200", 80), 0))
    table = build(backends, 251)
    h = 0xCBF29CE484222325
    for v in table:
        for b in v.to_bytes(4, "little"):
            h = ((h ^ b) * 0x100000001B3) & M64
    print("fnv1a64 0x%016x first %s" % (h, table[:16]))


if __name__ == "__main__":
    main()
