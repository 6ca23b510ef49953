#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Clients for tests/l7/test-limits.sh and tests/integration/test-deny.sh, on
$LIMIT_HOST:PORT (127.0.0.1 by default).

  limit_client.py flood PORT SECONDS [NAME:VALUE]
      one request after another, each on a new connection, for SECONDS; prints
      "ok=N limited=M other=K elapsed=S no_retry_after=R retry_after=V"
  limit_client.py parallel PORT N [NAME:VALUE]
      N requests at once (threads), each on its own connection; prints the statuses sorted
  limit_client.py keepalive PORT N [NAME:VALUE]
      N requests one after another on one HTTP/1.1 keep-alive connection; prints
      "statuses=S1,S2,... close_headers=C retry_after=R" and "closed after K" when the
      server closed the connection after K answers
  limit_client.py connect PORT SECONDS
      one TCP connect with a timeout of SECONDS; prints ok, timeout or refused
"""
import socket
import sys
import os
import threading
import time

HOST = os.environ.get("LIMIT_HOST", "127.0.0.1")


def one(port, header=None, timeout=10):
    """One GET /; returns (status, headers dict) or (0, {}) on a connection error."""
    try:
        s = socket.create_connection((HOST, port), timeout=timeout)
    except OSError:
        return 0, {}
    try:
        extra = (header + "\r\n") if header else ""
        s.sendall(("GET / HTTP/1.1\r\nHost: t\r\n%sConnection: close\r\n\r\n" % extra).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        if not head or not head[0].startswith("HTTP/1."):
            return 0, {}
        hdrs = {}
        for line in head[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        # read the rest so the server's close is clean
        while s.recv(65536):
            pass
        return int(head[0].split()[1]), hdrs
    except OSError:
        return 0, {}
    finally:
        s.close()


def flood(port, secs, header=None):
    ok = limited = other = no_ra = 0
    ra = ""
    start = time.monotonic()
    while time.monotonic() - start < secs:
        st, h = one(port, header, timeout=1)
        if st == 200:
            ok += 1
        elif st == 429:
            limited += 1
            if "retry-after" not in h:
                no_ra += 1
            else:
                ra = h["retry-after"]
        else:
            other += 1
    print("ok=%d limited=%d other=%d elapsed=%.3f no_retry_after=%d retry_after=%s" %
          (ok, limited, other, time.monotonic() - start, no_ra, ra))


def keepalive(port, n, header=None):
    s = socket.create_connection((HOST, port), timeout=10)
    f = s.makefile("rb")
    statuses, close_hdrs, ra = [], 0, "-"
    extra = (header + "\r\n") if header else ""
    for _ in range(n):
        try:
            s.sendall(("GET / HTTP/1.1\r\nHost: t\r\n%s\r\n" % extra).encode())
            line = f.readline().decode("latin-1")
        except OSError:
            line = ""
        if not line.startswith("HTTP/1.1 "):
            print("statuses=%s close_headers=%d retry_after=%s" %
                  (",".join(statuses), close_hdrs, ra))
            print("closed after %d" % len(statuses))
            return
        hdrs = {}
        while True:
            h = f.readline().decode("latin-1").strip()
            if not h:
                break
            k, v = h.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        f.read(int(hdrs.get("content-length", "0")))
        statuses.append(line.split()[1])
        if hdrs.get("connection", "").lower() == "close":
            close_hdrs += 1
        if "retry-after" in hdrs:
            ra = hdrs["retry-after"]
    s.close()
    print("statuses=%s close_headers=%d retry_after=%s" % (",".join(statuses), close_hdrs, ra))


def parallel(port, n, header=None):
    res = []
    lock = threading.Lock()

    def run():
        st, _ = one(port, header, timeout=30)
        with lock:
            res.append(st)

    ts = [threading.Thread(target=run) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(" ".join(str(x) for x in sorted(res)))


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    cmd, port, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    header = sys.argv[4] if len(sys.argv) > 4 else None
    if cmd == "flood":
        flood(port, float(arg), header)
    elif cmd == "connect":
        try:
            socket.create_connection((HOST, port), timeout=float(arg)).close()
            print("ok")
        except socket.timeout:
            print("timeout")
        except OSError:
            print("refused")
    elif cmd == "keepalive":
        keepalive(port, int(arg), header)
    elif cmd == "parallel":
        parallel(port, int(arg), header)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
