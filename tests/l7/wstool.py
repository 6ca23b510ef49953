#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""WebSocket and tunnel peers for the L7 tests (python3-websockets). Loopback only.

  wstool.py server PORT LOG        WebSocket server: /echo echoes every message; /flood?mb=N
                                    sends N MiB in 64 KiB binary messages as fast as the
                                    connection takes them, writing the bytes sent so far to LOG
  wstool.py echo URL [CLIENTS]     text, binary, a 4 MiB message and 50 small ones on each of
                                    CLIENTS (default 1) connections at once; prints "ok"
  wstool.py flood URL MB PID LOG   open /flood?mb=MB and read nothing until the server has
                                    stalled (LOG unchanged for a second), then print pingd's
                                    (PID) VmRSS in KiB and the bytes sent at the stall, read
                                    everything and check that MB MiB arrived intact
  wstool.py idle URL               connect, send nothing, wait for the connection to end;
                                    prints "closed CODE"
  wstool.py chat URL N GAP         send N messages GAP seconds apart, each echoed; "ok"
  wstool.py tcpecho PORT           TCP echo server; passes a half-close back (shutdown SHUT_WR
                                    after echoing everything once the client shut its side)
  wstool.py connect PORT TARGET N  CONNECT TARGET through pingd on PORT, send N bytes, shut
                                    the write side, read to EOF; prints the status line, then
                                    "echoed N" when all came back and the tunnel closed after
"""
import asyncio
import hashlib
import os
import socket
import sys
import threading
import time
import urllib.parse

import websockets


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def block(i):
    return hashlib.sha256(str(i).encode()).digest() * 2048  # 64 KiB, derived from i


async def serve(port, log):
    async def handler(ws):
        url = urllib.parse.urlparse(ws.request.path if hasattr(ws, "request") else ws.path)
        if url.path == "/flood":
            mb = int(urllib.parse.parse_qs(url.query)["mb"][0])
            sent = 0
            for i in range(mb * 16):
                await ws.send(block(i))
                sent += 65536
                # What the kernel took, not what waits in the library's buffer.
                out = sent - ws.transport.get_write_buffer_size()
                with open(log + ".tmp", "w") as f:
                    f.write(str(out))
                os.replace(log + ".tmp", log)
            await ws.close()
            return
        async for m in ws:
            await ws.send(m)

    async with websockets.serve(handler, "127.0.0.1", int(port), max_size=None,
                                ping_interval=None, write_limit=65536):
        await asyncio.Future()


def cmd_server(port, log):
    asyncio.run(serve(port, log))


async def echo_one(url):
    async with websockets.connect(url, max_size=None, ping_interval=None) as ws:
        msgs = ["hello", b"\x00\xff" * 50000, os.urandom(4 << 20)]
        msgs += [f"m{i}" for i in range(50)]
        for m in msgs:
            await ws.send(m)
            r = await ws.recv()
            if r != m:
                raise SystemExit(f"echo mismatch: sent {len(m)} got {len(r)}")


def cmd_echo(url, clients="1"):
    async def run():
        await asyncio.gather(*(echo_one(url) for _ in range(int(clients))))
    asyncio.run(run())
    print("ok")


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        b = sock.recv(min(n - len(buf), 1 << 20))
        if not b:
            raise SystemExit(f"connection ended after {len(buf)} of {n} bytes")
        buf += b
    return bytes(buf)


def cmd_flood(url, mb, pid, log):
    # A raw client, so that nothing reads on its behalf: the handshake by hand, then no
    # recv() at all until the server cannot send more.
    u = urllib.parse.urlparse(url)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.connect((u.hostname, u.port))
    s.sendall(f"GET {u.path}?mb={mb} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              "Sec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += read_exact(s, 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit(f"no 101: {head!r}")
    last, same = None, 0
    while same < 5:
        time.sleep(0.2)
        try:
            with open(log) as f:
                cur = f.read()
        except FileNotFoundError:
            cur = None
        same = same + 1 if cur == last and cur else 0
        last = cur
    print(f"rss_kb {rss_kb(pid)}")
    print(f"stalled_at {last}")
    got = 0
    for i in range(int(mb) * 16):
        h = read_exact(s, 2)
        ln = h[1] & 0x7f
        if ln == 126:
            ln = int.from_bytes(read_exact(s, 2), "big")
        elif ln == 127:
            ln = int.from_bytes(read_exact(s, 8), "big")
        if read_exact(s, ln) != block(i):
            raise SystemExit(f"message {i} corrupted")
        got += ln
    print(f"received {got}")


def cmd_idle(url):
    async def run():
        async with websockets.connect(url, ping_interval=None) as ws:
            try:
                await ws.recv()
            except websockets.ConnectionClosed as e:
                print(f"closed {e.rcvd.code if e.rcvd else 'none'}")
    asyncio.run(run())


def cmd_chat(url, n, gap):
    async def run():
        async with websockets.connect(url, ping_interval=None) as ws:
            for i in range(int(n)):
                await ws.send(f"c{i}")
                if await ws.recv() != f"c{i}":
                    raise SystemExit("bad echo")
                await asyncio.sleep(float(gap))
    asyncio.run(run())
    print("ok")


def cmd_tcpecho(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(port)))
    srv.listen(64)

    def one(c):
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)
            c.shutdown(socket.SHUT_WR)
            c.recv(1)

    while True:
        c, _ = srv.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def cmd_connect(port, target, n):
    n = int(n)
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.settimeout(20)
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            break
        head += b
    print(head.split(b"\r\n")[0].decode(errors="replace"))
    if not head.startswith(b"HTTP/1.1 200"):
        return 0
    data = os.urandom(n)
    threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)),
                     daemon=True).start()
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    print(f"echoed {len(got)}" if got == data else f"mismatch {len(got)}")
    return 0


def main():
    cmds = {"server": cmd_server, "echo": cmd_echo, "flood": cmd_flood, "idle": cmd_idle,
            "chat": cmd_chat, "tcpecho": cmd_tcpecho, "connect": cmd_connect}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[sys.argv[1]](*sys.argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main())
