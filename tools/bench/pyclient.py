"""pyclient.py - the benchmark's Python client: N sequential GETs with
http.client, timed with time.perf_counter.

    python3 pyclient.py --port P --path T --requests N [--mode fresh|keep]

--mode fresh is the legacy idiom: a new http.client.HTTPConnection per
request, closed after the body is read. --mode keep uses one HTTPConnection
for every request (native reuse). When http_proxy is set the requests go to
that proxy in absolute form, as urllib would send them. Prints one line:
requests=N bytes=B elapsed_ns=E first_ns=F
"""
import argparse
import http.client
import os
import sys
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--requests", type=int, default=1)
    ap.add_argument("--mode", choices=("fresh", "keep"), default="fresh")
    a = ap.parse_args()

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
            conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.request("GET", target)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            sys.exit("pyclient: request %d: status %d" % (i + 1, resp.status))
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
