# A webhook for tests: POSTs to it are written, whole, to BODY (and their
# Content-Type to BODY.type), and answered 200 with a body of its own that
# no one should print.  It binds a free port of 127.0.0.1, written to
# PORTFILE once it listens.  Usage: hook.py PORTFILE BODY
import http.server
import os
import sys


def put(name, data):
    with open(name + ".tmp", "wb") as f:
        f.write(data)
    os.rename(name + ".tmp", name)


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        put(sys.argv[2] + ".type", self.headers.get("Content-Type", "").encode())
        put(sys.argv[2], body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok-from-the-hook")

    def log_message(self, *args):
        pass


s = http.server.HTTPServer(("127.0.0.1", 0), Hook)
put(sys.argv[1], str(s.server_address[1]).encode())
s.serve_forever()
