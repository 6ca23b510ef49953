#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# One HTTP request per client port FIRST..FIRST+COUNT-1, printing "PORT NAME" (or "PORT FAIL").
# Each connection ends with a reset (SO_LINGER 0) so that no TIME_WAIT blocks reusing the
# same ports in a second run. usage: l4_ports.py HOST PORT FIRST COUNT
import socket
import struct
import sys

host, port, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
for p in range(first, first + count):
    name = "FAIL"
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.settimeout(3)
        s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", p))
        s.connect((host, port))
        s.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while True:
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    name = body.decode().strip() or "FAIL"
                    break
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, IndexError):
        pass
    finally:
        s.close()
    print(p, name, flush=True)
