#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# One long-lived HTTP/1.1 connection for the L4 tests: N requests, INTERVAL seconds apart,
# printing the answering backend's name per request. Exits 1 on any error.
# usage: l4_client.py HOST PORT N INTERVAL
import http.client
import sys
import time

host, port, n, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
conn = http.client.HTTPConnection(host, port, timeout=5)
for i in range(n):
    conn.request("GET", "/")
    resp = conn.getresponse()
    print(resp.read().decode().strip(), flush=True)
    time.sleep(interval)
conn.close()
