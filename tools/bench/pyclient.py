"""pyclient.py - the benchmark's Python client: N sequential GETs with
http.client, timed with time.perf_counter.

    python3 pyclient.py --port P --path T --requests N [--mode fresh|keep|floor]
                        [--ca FILE [--sha256 HEX]] [--pause-ms MS]

--mode fresh is the legacy idiom: a new http.client.HTTPConnection per
request, closed after the body is read. --mode keep uses one HTTPConnection
for every request (native reuse). --mode floor is keep plus, per request,
Python's own work for a new connection without its connect(): a new
HTTPConnection object and what socket.create_connection and http.client do
around the connect (getaddrinfo, socket, settimeout, TCP_NODELAY, close);
no connection reuse below the socket calls can take that away. When http_proxy is set the requests go to
that proxy in absolute form, as urllib would send them. --pause-ms sleeps that
long before the first request (as reqloop's).

--ca FILE (scenario 7): HTTPS to 127.0.0.1 with http.client.HTTPSConnection,
trusting FILE alone: --mode fresh makes a new ssl context
(ssl.create_default_context(cafile=FILE)) and a new HTTPSConnection per
request, closed after the body is read; --mode keep one context and one
HTTPSConnection for every request. --sha256 HEX: every body must have that
sha256 (exit 1 otherwise). Both are made inside the timed loop.

Prints one line: requests=N bytes=B elapsed_ns=E first_ns=F
"""
import argparse
import hashlib
import http.client
import os
import socket
import ssl
import sys
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--requests", type=int, default=1)
    ap.add_argument("--mode", choices=("fresh", "keep", "floor"), default="fresh")
    ap.add_argument("--ca", default=None, help="HTTPS, trusting this CA file alone")
    ap.add_argument("--sha256", default=None, help="every body's expected sha256")
    ap.add_argument("--pause-ms", type=int, default=0)
    a = ap.parse_args()
    if a.pause_ms > 0:
        time.sleep(a.pause_ms / 1000)

    host, port, target = "127.0.0.1", a.port, a.path
    proxy = os.environ.get("http_proxy")
    if proxy:
        u = urllib.parse.urlsplit(proxy)
        target = "http://127.0.0.1:%d%s" % (a.port, a.path)
        host, port = u.hostname, u.port

    total = 0
    conn = None
    t0 = time.perf_counter_ns()
    first = 0
    for i in range(a.requests):
        if conn is None:
            if a.ca:
                ctx = ssl.create_default_context(cafile=a.ca)
                conn = http.client.HTTPSConnection(host, port, timeout=60, context=ctx)
            else:
                conn = http.client.HTTPConnection(host, port, timeout=60)
        if a.mode == "floor":
            http.client.HTTPConnection(host, port, timeout=60)
            for af, st, pr, _, _ in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
                s = socket.socket(af, st, pr)
                s.settimeout(60)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.close()
                break
        conn.request("GET", target)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            sys.exit("pyclient: request %d: status %d" % (i + 1, resp.status))
        if a.sha256 and hashlib.sha256(body).hexdigest() != a.sha256:
            sys.exit("pyclient: request %d: body of %d bytes, not the expected sha256"
                     % (i + 1, len(body)))
        total += len(body)
        if a.mode == "fresh" or resp.will_close:
            conn.close()
            conn = None
        if i == 0:
            first = time.perf_counter_ns() - t0
    if conn is not None:
        conn.close()
    elapsed = time.perf_counter_ns() - t0
    print("requests=%d bytes=%d elapsed_ns=%d first_ns=%d" % (a.requests, total, elapsed, first))


if __name__ == "__main__":
    main()
