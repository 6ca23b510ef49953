#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""An HTTP/2 origin (h2c, prior knowledge) on python3-h2 for the upstream HTTP/2 tests, well
or badly behaved. Loopback only.

  h2origin.py PORT MODE LOG [MAX_STREAMS]

Every mode answers /ok (and any path it does not name) with 200 "h2 origin\\n"; /slow after
0.3 s; /trailers with the body then trailers "x-trailer: yes"; /echo with the request body.
SETTINGS_MAX_CONCURRENT_STREAMS is MAX_STREAMS (100). MODE:
  ok        nothing more
  goaway    the first connection answers its first request, then sends GOAWAY naming it:
            the streams after it are refused; later connections serve as ok
  die       /bad: the head and 1000 bytes, then the connection closes (mid-stream)
  nostatus  /bad: a HEADERS without :status
  badframe  /bad: a DATA frame on stream 0 (a connection error)
  silent    accepts connections and never says a word (no SETTINGS)
LOG gets "conn" per connection, "req PATH" per request, "peak N" for each new high of one
connection's open streams, "over" for a stream past MAX_STREAMS, "goaway" when sent.
"""
import socket
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

LOCK = threading.Lock()
GOAWAY_SENT = []  # the goaway mode sends one, on the first connection with a request


def log(path, line):
    with LOCK, open(path, "a") as f:
        f.write(line + "\n")


def serve_conn(sock, mode, logf, max_streams):
    if mode == "silent":
        while sock.recv(65536):
            pass
        return
    cfg = h2.config.H2Configuration(client_side=False, validate_outbound_headers=False,
                                    validate_inbound_headers=False)
    conn = h2.connection.H2Connection(config=cfg)
    conn.local_settings = h2.settings.Settings(client=False, initial_values={
        h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: max_streams})
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    open_streams, peak, answered = set(), 0, 0
    pending = []  # (due, stream_id, path, body)
    bodies = {}
    gone_after = None
    sock.settimeout(0.05)

    def respond(sid, path, body):
        nonlocal answered
        hdrs = [(":status", "200"), ("content-type", "text/plain")]
        if path == "/trailers":
            conn.send_headers(sid, hdrs)
            conn.send_data(sid, b"h2 origin\n")
            conn.send_headers(sid, [("x-trailer", "yes")], end_stream=True)
        elif path == "/echo":
            conn.send_headers(sid, hdrs + [("content-length", str(len(body)))])
            conn.send_data(sid, body, end_stream=True)
        else:
            conn.send_headers(sid, hdrs)
            conn.send_data(sid, b"h2 origin\n", end_stream=True)
        open_streams.discard(sid)
        answered += 1

    while True:
        now = time.monotonic()
        for item in [p for p in pending if p[0] <= now]:
            pending.remove(item)
            if conn.state_machine.state != h2.connection.ConnectionState.CLOSED:
                respond(item[1], item[2], item[3])
        out = conn.data_to_send()
        if out:
            try:
                sock.sendall(out)
            except OSError:
                return
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return
        if not data:
            return
        try:
            events = conn.receive_data(data)
        except h2.exceptions.TooManyStreamsError:
            log(logf, "over")
            events = []
        except h2.exceptions.ProtocolError as e:
            log(logf, "protocol error %s" % e)
            return
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                sid = ev.stream_id
                if gone_after is not None and sid > gone_after:
                    continue  # refused by the GOAWAY
                path = dict((k.decode() if isinstance(k, bytes) else k,
                             v.decode() if isinstance(v, bytes) else v)
                            for k, v in ev.headers).get(":path", "/")
                log(logf, "req " + path)
                open_streams.add(sid)
                if len(open_streams) > max_streams:
                    log(logf, "over")
                if len(open_streams) > peak:
                    peak = len(open_streams)
                    log(logf, "peak %d" % peak)
                bodies[sid] = b""
                if path == "/bad" and mode == "die":
                    conn.send_headers(sid, [(":status", "200")])
                    conn.send_data(sid, b"x" * 1000)
                    sock.sendall(conn.data_to_send())
                    time.sleep(0.1)
                    sock.close()
                    return
                if path == "/bad" and mode == "nostatus":
                    conn.send_headers(sid, [("content-type", "text/plain")], end_stream=True)
                    open_streams.discard(sid)
                    continue
                if path == "/bad" and mode == "badframe":
                    sock.sendall(conn.data_to_send() +
                                 b"\x00\x00\x01\x00\x00\x00\x00\x00\x00x")
                    continue
                if ev.stream_ended is None and path == "/echo":
                    continue  # answered once the body is in
                delay = 0.3 if path == "/slow" else 0
                pending.append((time.monotonic() + delay, sid, path, b""))
                if mode == "goaway" and not GOAWAY_SENT:
                    GOAWAY_SENT.append(sid)
                    respond(sid, path, b"")
                    pending.pop()
                    conn.close_connection(last_stream_id=sid)
                    gone_after = sid
                    log(logf, "goaway")
            elif isinstance(ev, h2.events.DataReceived):
                if ev.stream_id in bodies:
                    bodies[ev.stream_id] += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                sid = ev.stream_id
                if sid in bodies and not any(p[1] == sid for p in pending) and \
                        sid in open_streams and (gone_after is None or sid <= gone_after):
                    pending.append((time.monotonic(), sid, "/echo", bodies[sid]))
            elif isinstance(ev, h2.events.StreamReset):
                open_streams.discard(ev.stream_id)
                pending[:] = [p for p in pending if p[1] != ev.stream_id]


def main():
    port, mode, logf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    max_streams = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(128)
    while True:
        sock, _ = srv.accept()
        log(logf, "conn")
        threading.Thread(target=serve_conn, args=(sock, mode, logf, max_streams),
                         daemon=True).start()


if __name__ == "__main__":
    main()
