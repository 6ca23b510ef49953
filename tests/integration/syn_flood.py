#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Helpers of tests/integration/test-syn-guard.sh (run inside the client's namespace).

  syn_flood.py flood SRC DST PORT COUNT
      send COUNT TCP SYNs from SRC (random source ports) to DST:PORT over a raw socket
  syn_flood.py hold SRC DST PORT FILE
      open one keep-alive HTTP connection from SRC, GET / on it, wait until FILE exists,
      GET / again on the same connection; prints the two bodies ("b1 b1") or "FAIL why"
"""
import os
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src, dst, sport, dport):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0, 5 << 4, 0x02,
                      64240, 0, 0)
    pseudo = s + d + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0, 64,
                     socket.IPPROTO_TCP, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def flood(src, dst, port, count):
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(count):
        r.sendto(syn(src, dst, 10000 + (i * 7919) % 50000, port), (dst, 0))
    print("sent %d" % count)


def get(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
                 .split(b":")[1])
    while len(body) < length:
        body += s.recv(4096)
    return body.decode().strip()


def hold(src, dst, port, path):
    try:
        s = socket.socket()
        s.settimeout(10)
        s.bind((src, 0))
        s.connect((dst, port))
        first = get(s)
        print("ready", flush=True)
        while not os.path.exists(path):
            time.sleep(0.05)
        print(first, get(s))
    except OSError as e:
        print("FAIL", e)


def main():
    cmd = sys.argv[1]
    if cmd == "flood":
        flood(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "hold":
        hold(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
