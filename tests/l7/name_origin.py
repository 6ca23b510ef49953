#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# A loopback HTTP origin that answers every request with its name and the request headers it
# received ("name=NAME" then "h:lowercase-name=value" lines): name_origin.py PORT NAME
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        lines = ["name=" + self.server.name]
        lines += ["h:%s=%s" % (k.lower(), v) for k, v in self.headers.items()]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = answer

    def log_message(self, fmt, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs when many connect at once


def main():
    srv = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.name = sys.argv[2]
    srv.serve_forever()


if __name__ == "__main__":
    main()
