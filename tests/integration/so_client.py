#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Long-lived HTTP/1.1 connections for the scale-out test: opens N keep-alive connections to
# HOST:PORT from local ports FIRST..FIRST+N-1, then for every line read on stdin sends one GET
# on each connection and prints "PORT NAME" per connection (NAME is the answering backend, or
# FAIL:reason) and then "END". At end of input it closes every connection (FIN) and exits 0
# when every answer of every round came, else 1.
# usage: so_client.py HOST PORT FIRST N
import http.client
import socket
import sys

host, port, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
conns = []
for p in range(first, first + n):
    c = http.client.HTTPConnection(host, port, timeout=15, source_address=("", p))
    c.sock = socket.create_connection((host, port), timeout=15, source_address=("", p))
    conns.append((p, c))
ok = True
print("READY", flush=True)
for _ in sys.stdin:
    for p, c in conns:
        try:
            c.request("GET", "/")
            name = c.getresponse().read().decode().strip()
        except Exception as e:  # a broken connection is what the test looks for
            name = "FAIL:" + type(e).__name__
            ok = False
        print(p, name, flush=True)
    print("END", flush=True)
for _, c in conns:
    c.close()
sys.exit(0 if ok else 1)
