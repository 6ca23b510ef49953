#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""HTTP/2 peers for the L7 tests, built on python3-h2 (hyperframe and hpack for frames no
well-behaved client sends). Loopback only.

  h2tool.py get PORT PATH N [TLS_NAME CA]  N streams at once on one connection; prints one
                                    "STATUS LENGTH SHA256[:12]" line per stream, in order
  h2tool.py post PORT PATH FILE     upload FILE in DATA frames (no content-length); prints
                                    the status and the answer's body
  h2tool.py drain PORT PATH PID [SIG]
                                    start a request, signal pingd (PID) with SIG (TERM;
                                    HUP: a reload; NONE: the caller acts) while it is in
                                    flight; prints
                                    "goaway LAST_ID CODE", then "STATUS LENGTH"
  h2tool.py connect PORT TARGET N   CONNECT TARGET as an HTTP/2 stream, send N bytes and
                                    END_STREAM; prints the status, then "echoed N" when they
                                    came back and the stream ended
  h2tool.py attack PORT KIND PID    misbehave as KIND (see ATTACKS), then report what pingd
                                    did: "goaway CODE", "reset CODE", "closed", "answered
                                    STATUS" lines, and "rss_kb N" (pingd's VmRSS after it)
  h2tool.py tarpit PORT             a listener whose accept queue is kept full, so a connect
                                    to it waits (its SYNs are dropped) until the caller gives up
"""
import hashlib
import os
import signal
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
from hpack import Decoder, Encoder
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def connect(port, tls_name=None, ca=None):
    s = socket.create_connection(("127.0.0.1", int(port)))
    if tls_name:
        ctx = ssl.create_default_context(cafile=ca)
        ctx.set_alpn_protocols(["h2"])
        s = ctx.wrap_socket(s, server_hostname=tls_name)
        if s.selected_alpn_protocol() != "h2":
            raise SystemExit(f"ALPN chose {s.selected_alpn_protocol()}")
    return s


def req_headers(path, method="GET"):
    return [(":method", method), (":path", path), (":scheme", "http"),
            (":authority", "a.test")]


def cmd_get(port, path, n, tls_name=None, ca=None):
    s = connect(port, tls_name, ca)
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.initiate_connection()
    c.increment_flow_control_window(1 << 24)
    ids = []
    for _ in range(int(n)):
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, req_headers(path), end_stream=True)
        ids.append(sid)
    s.sendall(c.data_to_send())
    status, body, ended = {}, {i: b"" for i in ids}, set()
    s.settimeout(30)
    while len(ended) < len(ids):
        d = s.recv(1 << 16)
        if not d:
            break
        for e in c.receive_data(d):
            if isinstance(e, h2.events.ResponseReceived):
                status[e.stream_id] = dict(e.headers)[b":status"].decode()
            elif isinstance(e, h2.events.DataReceived):
                body[e.stream_id] += e.data
                c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            elif isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset)):
                ended.add(e.stream_id)
        s.sendall(c.data_to_send())
    for i in ids:
        print(status.get(i, "none"), len(body[i]), hashlib.sha256(body[i]).hexdigest()[:12])


def cmd_post(port, path, file):
    data = open(file, "rb").read()
    s = connect(port)
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.initiate_connection()
    c.send_headers(1, req_headers(path, "PUT"))
    s.sendall(c.data_to_send())
    s.settimeout(30)
    off, body, status, done, ended = 0, b"", None, False, False
    while not done:
        while off < len(data):
            room = min(c.local_flow_control_window(1), c.max_outbound_frame_size,
                       len(data) - off)
            if room <= 0:
                break
            c.send_data(1, data[off:off + room])
            off += room
        if off == len(data) and not ended:
            c.end_stream(1)
            ended = True
        s.sendall(c.data_to_send())
        d = s.recv(1 << 16)
        if not d:
            break
        for e in c.receive_data(d):
            if isinstance(e, h2.events.ResponseReceived):
                status = dict(e.headers)[b":status"].decode()
            elif isinstance(e, h2.events.DataReceived):
                body += e.data
                c.acknowledge_received_data(e.flow_controlled_length, 1)
            elif isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset)):
                done = True
        s.sendall(c.data_to_send())
    print(status, body.decode(errors="replace").strip())


def read_frames(s, buf):
    """One recv() worth of frames: (frames, rest of buf), or None at EOF."""
    d = s.recv(1 << 16)
    if not d:
        return None
    buf += d
    out = []
    while len(buf) >= 9:
        f, length = Frame.parse_frame_header(memoryview(buf[:9]))
        if len(buf) < 9 + length:
            break
        f.parse_body(memoryview(buf[9:9 + length]))
        buf = buf[9 + length:]
        out.append(f)
    return out, buf


def cmd_drain(port, path, pid, sig="TERM"):
    # Raw frames: a client library stops reading at GOAWAY, which is the point here.
    s = connect(port)
    s.sendall(PREFACE + frame(SettingsFrame(0)) + hframe(1, headers_block(req_headers(path))))
    time.sleep(0.5)
    if sig != "NONE":
        os.kill(int(pid), getattr(signal, "SIG" + sig))
    s.settimeout(30)
    dec = Decoder()
    buf, status, length, done = b"", None, 0, False
    while not done:
        got = read_frames(s, buf)
        if got is None:
            break
        frames, buf = got
        for f in frames:
            name = type(f).__name__
            if name == "GoAwayFrame":
                print(f"goaway {f.last_stream_id} {f.error_code}")
            elif name == "HeadersFrame" and f.stream_id == 1:
                status = dict(dec.decode(f.data)).get(":status")
            elif name == "DataFrame" and f.stream_id == 1:
                length += len(f.data)
            if f.stream_id == 1 and "END_STREAM" in f.flags:
                done = True
    print(status, length)


def cmd_connect(port, target, n):
    data = os.urandom(int(n))
    s = connect(port)
    # CONNECT has no :path nor :scheme (RFC 9113 §8.5), which the library would insist on.
    c = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, validate_outbound_headers=False))
    c.initiate_connection()
    c.increment_flow_control_window(1 << 24)
    c.send_headers(1, [(":method", "CONNECT"), (":authority", target)])
    s.sendall(c.data_to_send())
    s.settimeout(30)
    got, off, status, done = b"", 0, None, False
    while not done:
        d = s.recv(1 << 16)
        if not d:
            break
        for e in c.receive_data(d):
            if isinstance(e, h2.events.ResponseReceived):
                status = dict(e.headers)[b":status"].decode()
                print(status)
            elif isinstance(e, h2.events.DataReceived):
                got += e.data
                c.acknowledge_received_data(e.flow_controlled_length, 1)
            elif isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset)):
                done = True
        if status == "200":
            while off < len(data):
                room = min(c.local_flow_control_window(1), c.max_outbound_frame_size,
                           len(data) - off)
                if room <= 0:
                    break
                c.send_data(1, data[off:off + room], end_stream=off + room == len(data))
                off += room
        s.sendall(c.data_to_send())
    print(f"echoed {len(got)}" if got == data else f"mismatch {len(got)}")


# ------------------------------------------------------------------ attacks

def frame(f):
    return f.serialize()


def headers_block(fields, enc=None):
    return (enc or Encoder()).encode(fields)


def hframe(sid, block, end_stream=True, end_headers=True):
    f = HeadersFrame(sid)
    f.data = block
    if end_stream:
        f.flags.add("END_STREAM")
    if end_headers:
        f.flags.add("END_HEADERS")
    return frame(f)


def send_all(s, chunks):
    try:
        for i in range(0, len(chunks), 256):
            s.sendall(b"".join(chunks[i:i + 256]))
    except (BrokenPipeError, ConnectionResetError):
        pass


def report(s, wait=5.0):
    """Read frames until GOAWAY, EOF or WAIT seconds; print what pingd did."""
    s.settimeout(wait)
    buf, seen = b"", []
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            d = s.recv(1 << 16)
        except socket.timeout:
            break
        except ConnectionResetError:
            seen.append("closed")
            break
        if not d:
            seen.append("closed")
            break
        buf += d
        while len(buf) >= 9:
            f, length = Frame.parse_frame_header(memoryview(buf[:9]))
            if len(buf) < 9 + length:
                break
            f.parse_body(memoryview(buf[9:9 + length]))
            buf = buf[9 + length:]
            name = type(f).__name__
            if name == "GoAwayFrame":
                seen.append(f"goaway {f.error_code}")
            elif name == "RstStreamFrame":
                seen.append(f"reset {f.error_code}")
            elif name == "HeadersFrame":
                seen.append(f"answered {f.stream_id}")
            elif name == "DataFrame" and "END_STREAM" in f.flags:
                seen.append(f"ended {f.stream_id}")
        if any(x.startswith("goaway") for x in seen):
            break
    for x in dict.fromkeys(seen):
        print(x)


def attack_rapid_reset(s):
    chunks, sid = [], 1
    for _ in range(20000):
        chunks.append(hframe(sid, headers_block(req_headers("/"))))
        chunks.append(frame(RstStreamFrame(sid, error_code=8)))
        sid += 2
    send_all(s, chunks)


def attack_continuation(s):
    enc = Encoder()
    chunks = [hframe(1, headers_block(req_headers("/"), enc), end_headers=False)]
    for i in range(20000):
        f = ContinuationFrame(1)
        f.data = enc.encode([("x-filler", "a" * 64)])
        chunks.append(frame(f))
    send_all(s, chunks)


def attack_hpack_bomb(s):
    # One 4 KiB field enters the dynamic table, then each 1-byte index repeats it: a few
    # KiB on the wire expand to 40 MiB of header list.
    enc = Encoder()
    block = enc.encode(req_headers("/") + [("x-bomb", "b" * 4000)])
    block += enc.encode([("x-bomb", "b" * 4000)]) * 10000
    f = HeadersFrame(1)
    f.data = block[:16384]
    f.flags.add("END_STREAM")
    chunks = [frame(f)]
    rest = block[16384:]
    while rest:
        c = ContinuationFrame(1)
        c.data = rest[:16384]
        rest = rest[16384:]
        if not rest:
            c.flags.add("END_HEADERS")
        chunks.append(frame(c))
    send_all(s, chunks)


def attack_settings_flood(s):
    send_all(s, [frame(SettingsFrame(0))] * 100000)


def attack_ping_flood(s):
    send_all(s, [frame(PingFrame(0, opaque_data=b"12345678"))] * 100000)


def attack_empty_data(s):
    chunks = [hframe(1, headers_block(req_headers("/up/empty", "POST")), end_stream=False)]
    chunks += [frame(DataFrame(1))] * 100000
    send_all(s, chunks)


def attack_window_overflow(s):
    # More DATA than the stream's window, at once, to a route whose upstream connect never
    # completes (the tarpit): nothing takes the body, so no WINDOW_UPDATE can make the
    # overrun legal before pingd reads it.
    chunks = [hframe(1, headers_block(req_headers("/tarpit/w", "POST")), end_stream=False)]
    for _ in range(10):
        f = DataFrame(1)
        f.data = b"x" * 16000
        chunks.append(frame(f))
    send_all(s, chunks)


def attack_window_update_overflow(s):
    chunks = [frame(WindowUpdateFrame(0, window_increment=(1 << 31) - 1))] * 2
    send_all(s, chunks)


def bad_request(fields):
    def run(s):
        send_all(s, [hframe(1, headers_block(fields))])
    return run


BASE = req_headers("/")
ATTACKS = {
    "rapid_reset": attack_rapid_reset,
    "continuation": attack_continuation,
    "hpack_bomb": attack_hpack_bomb,
    "settings_flood": attack_settings_flood,
    "ping_flood": attack_ping_flood,
    "empty_data": attack_empty_data,
    "window": attack_window_overflow,
    "window_update": attack_window_update_overflow,
    "dup_pseudo": bad_request(BASE + [(":path", "/again")]),
    "no_method": bad_request(BASE[1:]),
    "unknown_pseudo": bad_request(BASE + [(":foo", "bar")]),
    "late_pseudo": bad_request(BASE[:3] + [("x-a", "1"), (":authority", "a.test")]),
    "uppercase": bad_request(BASE + [("X-Upper", "1")]),
    "connection": bad_request(BASE + [("connection", "keep-alive")]),
    "transfer_encoding": bad_request(BASE + [("transfer-encoding", "chunked")]),
    "te": bad_request(BASE + [("te", "gzip")]),
}


def cmd_attack(port, kind, pid):
    s = connect(port)
    s.sendall(PREFACE + frame(SettingsFrame(0)))
    ATTACKS[kind](s)
    report(s)
    s.close()
    print(f"rss_kb {rss_kb(pid)}")


def cmd_stall(port, pid):
    """A client whose window is 0: one stream stalls on a large body while another stream
    of the same connection, given window, is answered; then pingd's RSS."""
    s = connect(port)
    st = SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    s.sendall(PREFACE + frame(st))
    enc = Encoder()
    chunks = [hframe(1, headers_block(req_headers("/big.bin"), enc)),
              hframe(3, headers_block(req_headers("/"), enc)),
              frame(WindowUpdateFrame(3, window_increment=65535)),
              frame(WindowUpdateFrame(0, window_increment=1 << 24))]
    send_all(s, chunks)
    report(s, 3.0)
    print(f"rss_kb {rss_kb(pid)}")
    s.close()


def cmd_tarpit(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(port)))
    srv.listen(0)
    # One connection never accepted fills a backlog of 0; later SYNs are dropped.
    filler = socket.socket()
    filler.setblocking(False)
    try:
        filler.connect(("127.0.0.1", int(port)))
    except BlockingIOError:
        pass
    while True:
        time.sleep(3600)


def main():
    cmds = {"tarpit": cmd_tarpit, "get": cmd_get, "post": cmd_post, "drain": cmd_drain, "attack": cmd_attack,
            "connect": cmd_connect,
            "stall": cmd_stall}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[sys.argv[1]](*sys.argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main())
