#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# A keep-alive HTTP/1.1 backend for the L4 tests: answers every GET with its name.
# usage: l4_server.py NAME PORT MAX_SECONDS   (exits after MAX_SECONDS)
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME, PORT, MAX_S = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = f"{NAME}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 overflows when the machine is busy and several
    # clients connect at once: the dropped SYN costs a 1 s retransmission, then 3 s.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # clients that reset their connection are expected
    address_family = 10  # AF_INET6 with IPV6_V6ONLY off: IPv4 and IPv6 on one socket


srv = Server(("::", PORT), Handler)
threading.Timer(MAX_S, srv.shutdown).start()
srv.serve_forever()
