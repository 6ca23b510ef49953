#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""TLS clients for tests/l7/test-tls.sh that curl and openssl s_client cannot be:

  tlstool.py pipeline PORT CAFILE NAME N    N requests in one write, N responses read back
  tlstool.py dribble PORT CAFILE NAME       the handshake written one byte per write, then
                                            one request
  tlstool.py truncated PORT                 half a ClientHello, then close
  tlstool.py stall PORT                     half a ClientHello, then wait for the close
  tlstool.py garbage PORT                   bytes that are not TLS, then wait for the close
  tlstool.py closenotify PORT CAFILE NAME EXTRA
                                            a "Connection: close" request (and EXTRA bytes
                                            after it), its response, the server's
                                            close_notify and then the end of the stream

Each prints what it saw and exits 0 when the server behaved."""
import socket
import ssl
import sys

WAIT = 20.0  # give up on the server after this long (never reached when it works)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def client_hello():
    """The first flight of a TLS client, from a memory BIO."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="a.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def read_until_close(s):
    """Bytes until the server closes; True when it did (not a timeout)."""
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return True, got
            got += b
    except ConnectionResetError:
        return True, got
    except socket.timeout:
        return False, got


def responses(data):
    return data.count(b"HTTP/1.1 200 ")


def cmd_pipeline(port, cafile, name, n):
    s = context(cafile).wrap_socket(connect(port), server_hostname=name)
    req = b"".join(b"GET /?r=%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (i, name.encode())
                   for i in range(n))
    req = req[:-4] + b"\r\nConnection: close\r\n\r\n"
    s.sendall(req)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    print("responses:", responses(got))
    return 0 if responses(got) == n else 1


def cmd_dribble(port, cafile, name):
    s = connect(port)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = context(cafile).wrap_bio(inc, out, server_hostname=name)
    while True:
        try:
            obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        for b in out.read():
            s.sendall(bytes([b]))
        if done:
            break
        data = s.recv(65536)
        if not data:
            print("closed during the handshake")
            return 1
        inc.write(data)
    obj.write(b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % name.encode())
    s.sendall(out.read())
    got = b""
    while b"hello" not in got:
        data = s.recv(65536)
        if not data:
            break
        inc.write(data)
        try:
            while True:
                chunk = obj.read(65536)
                if not chunk:
                    break  # the server's close_notify
                got += chunk
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
    print("version:", obj.version(), "response:", got.split(b"\r\n")[0].decode())
    return 0 if responses(got) == 1 else 1


def cmd_truncated(port):
    s = connect(port)
    hello = client_hello()
    s.sendall(hello[: len(hello) // 2])
    s.close()
    print("sent", len(hello) // 2, "of", len(hello), "bytes")
    return 0


def cmd_stall(port):
    s = connect(port)
    hello = client_hello()
    s.sendall(hello[: len(hello) // 2])
    closed, got = read_until_close(s)
    print("closed by the server:", closed, "bytes back:", len(got))
    return 0 if closed else 1


def cmd_silent(port, cafile, name):
    """A handshake, then nothing: the answer to a head that never comes."""
    t = context(cafile).wrap_socket(connect(port), server_hostname=name)
    got = b""
    try:
        while True:
            b = t.recv(65536)
            if not b:
                break
            got += b
    except (ConnectionResetError, ssl.SSLError):
        pass
    except socket.timeout:
        print("no answer within", WAIT, "s")
        return 1
    print(got.split(b"\r\n", 1)[0].decode("latin-1"))
    return 0


def cmd_garbage(port):
    s = connect(port)
    s.sendall(b"\x16\x03\x01\x00\x05hello" + bytes(range(256)) * 4)
    closed, got = read_until_close(s)
    # At most a TLS alert comes back, never HTTP.
    print("closed by the server:", closed, "bytes back:", got[:16].hex())
    return 0 if closed and b"HTTP" not in got else 1


def cmd_closenotify(port, cafile, name, extra):
    """The response to a last request, then a close_notify before the end of the stream:
    not a truncation (ragged EOFs are errors here), not a reset."""
    t = context(cafile).wrap_socket(connect(port), server_hostname=name,
                                    suppress_ragged_eofs=False)
    t.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n%s" %
              (name.encode(), b"x" * extra))
    got = b""
    try:
        while True:
            b = t.recv(65536)
            if not b:
                break  # the close_notify
            got += b
    except (ssl.SSLError, OSError) as e:
        print("no close_notify:", repr(e), "after", responses(got), "responses")
        return 1
    # What follows the alert: the end of the stream, no more records.
    try:
        rest = t.unwrap().recv(1)
    except (ConnectionResetError, BrokenPipeError):
        rest = b""
    print("responses:", responses(got), "close_notify: yes, then", rest or "the end")
    return 0 if responses(got) == 1 and not rest else 1


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "pipeline":
        return cmd_pipeline(port, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    if cmd == "dribble":
        return cmd_dribble(port, sys.argv[3], sys.argv[4])
    if cmd == "truncated":
        return cmd_truncated(port)
    if cmd == "stall":
        return cmd_stall(port)
    if cmd == "garbage":
        return cmd_garbage(port)
    if cmd == "closenotify":
        return cmd_closenotify(port, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    if cmd == "silent":
        return cmd_silent(port, sys.argv[3], sys.argv[4])
    print("unknown command", cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
