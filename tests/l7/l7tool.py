#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Helpers for the L7 tests: a raw HTTP client (exact bytes in, exact bytes out) and small
origins that misbehave on purpose. Loopback only.

  l7tool.py raw PORT DATA [TIMEOUT]  send DATA (Python escapes, e.g. 'GET / HTTP/1.1\\r\\n...'),
                                      print what comes back; exit 0 when the server closed,
                                      3 when it kept the connection open past TIMEOUT seconds
  l7tool.py slow PORT DATA GAP        send DATA one byte every GAP seconds, print the answer
  l7tool.py origin PORT MODE LOG      serve MODE until killed; each request head is appended
                                      to LOG. Modes: echo (200, body = the request head),
                                      die (promise 100000 bytes, send 1000, close),
                                      diechunked (one chunk, then close), reset (close
                                      with RST on every request), early (103 then 200),
                                      close (200 without framing, body until close),
                                      chunked (200 with a chunked body and a trailer),
                                      late (200 as echo, 2 seconds after the request),
                                      hangreuse (echo for a connection's first request,
                                      never an answer to the later ones)
"""
import socket
import socketserver
import struct
import sys
import time


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def read_all(sock, timeout):
    sock.settimeout(timeout)
    out = b""
    closed = False
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            b = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not b:
            closed = True
            break
        out += b
    return out, closed


def cmd_raw(port, data, timeout=3.0):
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.sendall(unescape(data))
    out, closed = read_all(s, float(timeout))
    sys.stdout.buffer.write(out)
    return 0 if closed else 3


def cmd_slow(port, data, gap):
    s = socket.create_connection(("127.0.0.1", int(port)))
    payload = unescape(data)
    s.settimeout(0.01)
    got = b""
    for i in range(len(payload)):
        try:
            s.send(payload[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            break
        time.sleep(float(gap))
        try:
            b = s.recv(65536)
            if not b:
                break
            got += b
        except socket.timeout:
            pass
        except ConnectionResetError:
            break
    out, _ = read_all(s, 3.0)
    sys.stdout.buffer.write(got + out)
    return 0


def read_head(f):
    lines = []
    while True:
        line = f.readline(65536)
        if not line:
            return None
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            return b"".join(lines)


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        mode = self.server.mode
        served = 0
        while True:
            head = read_head(self.rfile)
            if head is None:
                return
            with open(self.server.log, "ab") as lf:
                lf.write(head.split(b"\r\n")[0] + b"\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                self.rfile.read(length)
            if mode == "late":
                time.sleep(2)
            served += 1
            if self.server.mode == "hangreuse":
                # the first request of a connection is answered, later ones never are
                if served > 1:
                    time.sleep(3600)
                    return
                mode = "echo"
            if mode in ("echo", "late"):
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(head) + head)
                self.wfile.flush()
            elif mode == "die":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" +
                                 b"x" * 1000)
                self.wfile.flush()
                return
            elif mode == "diechunked":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 b"3e8\r\n" + b"x" * 1000 + b"\r\n")
                self.wfile.flush()
                return
            elif mode == "early":
                self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                                 b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                self.wfile.flush()
            elif mode == "close":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" +
                                 b"".join(b"line %d\n" % i for i in range(10000)))
                self.wfile.flush()
                return
            elif mode == "chunked":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 b"6\r\nhello \r\n6\r\nworld\n\r\n0\r\nX-Sum: 1\r\n\r\n")
                self.wfile.flush()
            elif mode == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def cmd_origin(port, mode, log):
    srv = Server(("127.0.0.1", int(port)), Handler)
    srv.mode = mode
    srv.log = log
    srv.serve_forever()


def main():
    cmds = {"raw": cmd_raw, "slow": cmd_slow, "origin": cmd_origin}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[sys.argv[1]](*sys.argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main())
