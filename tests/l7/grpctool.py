#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""gRPC peers for the L7 tests, on python3-grpcio with generic handlers (bytes in, bytes out:
no protoc). Loopback only.

  grpctool.py serve PORT LOG      a gRPC server (h2c) with service pingx.Test:
                                    Echo   unary: the request back
                                    Fail   unary: request "CODE:MESSAGE", aborts with them
                                    Slow   unary: request "SECONDS", answers after them
                                    Count  server streaming: request "N", N answers "0".."N-1"
                                    Drip   server streaming: request "N", N answers 0.2 s apart
                                    Chat   bidirectional: each message back, upper-cased
                                  LOG gets one line per call ("Slow cancelled" when the
                                  client, or pingd, gave up on a Slow call)
  grpctool.py call PORT KIND [ARG] [--tls NAME CA] [--timeout S]
                                  one call through PORT (KIND one of the methods; Chat
                                  sends ARG's comma-separated words); prints the answers,
                                  one per line, then "status CODE_NAME DETAILS"
"""
import sys
import threading
import time
from concurrent import futures

import grpc

SERVICE = "pingx.Test"


def serve(port, logf):
    lock = threading.Lock()

    def log(line):
        with lock, open(logf, "a") as f:
            f.write(line + "\n")

    def echo(req, ctx):
        log("Echo %d" % len(req))
        return req

    def fail(req, ctx):
        code, _, msg = req.decode().partition(":")
        log("Fail " + code)
        ctx.abort(grpc.StatusCode[code], msg)

    def slow(req, ctx):
        end = time.monotonic() + float(req.decode())
        while time.monotonic() < end:
            if not ctx.is_active():
                log("Slow cancelled")
                return b""
            time.sleep(0.05)
        log("Slow done")
        return b"slept"

    def count(req, ctx):
        log("Count " + req.decode())
        for i in range(int(req.decode())):
            yield str(i).encode()

    def drip(req, ctx):
        log("Drip " + req.decode())
        for i in range(int(req.decode())):
            yield str(i).encode()
            time.sleep(0.2)

    def chat(it, ctx):
        log("Chat")
        for m in it:
            yield m.upper()

    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Drip": grpc.unary_stream_rpc_method_handler(drip),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    server.wait_for_termination()


def call(port, kind, arg, tls, timeout):
    target = "127.0.0.1:%d" % port
    if tls:
        name, ca = tls
        creds = grpc.ssl_channel_credentials(root_certificates=open(ca, "rb").read())
        ch = grpc.secure_channel(target, creds,
                                 options=[("grpc.ssl_target_name_override", name)])
    else:
        ch = grpc.insecure_channel(target)
    method = "/%s/%s" % (SERVICE, kind)
    try:
        if kind in ("Count", "Drip"):
            for m in ch.unary_stream(method)(arg.encode(), timeout=timeout):
                print(m.decode())
        elif kind == "Chat":
            words = [w.encode() for w in arg.split(",")]
            for m in ch.stream_stream(method)(iter(words), timeout=timeout):
                print(m.decode())
        else:
            print(ch.unary_unary(method)(arg.encode(), timeout=timeout).decode())
        print("status OK")
    except grpc.RpcError as e:
        print("status %s %s" % (e.code().name, e.details()))
    sys.stdout.flush()


def main():
    a = sys.argv[1:]
    if a[0] == "serve":
        serve(int(a[1]), a[2])
        return
    tls = None
    timeout = 20.0
    if "--tls" in a:
        i = a.index("--tls")
        tls = (a[i + 1], a[i + 2])
        del a[i:i + 3]
    if "--timeout" in a:
        i = a.index("--timeout")
        timeout = float(a[i + 1])
        del a[i:i + 2]
    call(int(a[1]), a[2], a[3] if len(a) > 3 else "", tls, timeout)


if __name__ == "__main__":
    main()
