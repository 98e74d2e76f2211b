"""The misbehaving HTTP server of tests/servers.sh: the failures nginx
cannot make.  Usage: flaky.py ROOT PORTFILE LOG

  /503once/NAME    503 to the first request for NAME, then ROOT/NAME
  /cut/NAME        first GET: the full Content-Length, an ETag and
                   Accept-Ranges, then half the body and a closed connection;
                   later: ROOT/NAME whole, or from N with "Range: bytes=N-"
                   (206) unless an If-Range names another ETag (200)
  /norange/NAME    ROOT/NAME whole, whatever Range asks
  /always503/NAME  always 503
  anything else    404

It binds 127.0.0.1 port 0 and writes the port to PORTFILE once it listens
(no race for a port picked beforehand).  LOG gets "METHOD PATH RANGE" for
each request as it arrives, before the answer.
"""
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

root, portfile, logfile = sys.argv[1:4]
log = open(logfile, "a", buffering=1)
seen = {}
lock = threading.Lock()


def first(kind, name):
    """True for the first request of this kind for this name."""
    with lock:
        n = seen.get((kind, name), 0)
        seen[(kind, name)] = n + 1
    return n == 0


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request a connection, so a cut body is plainly cut.
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.do_GET(body=False)

    def do_GET(self, body=True):
        with lock:
            log.write("%s %s %s\n" % (self.command, self.path,
                                      self.headers.get("Range", "-")))
        m = re.match(r"^/(503once|cut|norange|always503)/(.+)$", self.path)
        if not m:
            return self.fail(404)
        kind, name = m.groups()
        if kind == "always503" or (kind == "503once" and first(kind, name)):
            return self.fail(503)
        path = os.path.join(root, name)
        if ".." in name.split("/") or not os.path.isfile(path):
            return self.fail(404)
        with open(path, "rb") as f:
            data = f.read()
        st = os.stat(path)
        etag = '"%x-%x"' % (st.st_mtime_ns, st.st_size)
        if kind != "cut":
            return self.send(200, data, body, {})
        ranges = {"ETag": etag, "Accept-Ranges": "bytes"}
        if body and first(kind, name):
            # Say all of it is coming, send half, hang up.
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            for k, v in ranges.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        r = re.match(r"^bytes=(\d+)-$", self.headers.get("Range", ""))
        if_range = self.headers.get("If-Range")
        if not r or (if_range is not None and if_range != etag):
            return self.send(200, data, body, ranges)
        start = int(r.group(1))
        if start >= len(data):
            ranges["Content-Range"] = "bytes */%d" % len(data)
            return self.send(416, b"", body, ranges)
        ranges["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1,
                                                     len(data))
        return self.send(206, data[start:], body, ranges)

    def send(self, code, data, body, headers):
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def fail(self, code):
        self.send(code, b"%d\n" % code, self.command != "HEAD", {})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".new", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(portfile + ".new", portfile)
server.serve_forever()
