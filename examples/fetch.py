#!/usr/bin/env python3
"""fetch.py N [PORT] - fetch http://127.0.0.1:PORT/gen/2000 N times (PORT 8080).

A legacy idiom: urllib.request.urlopen opens a new connection per request
and sends "Connection: close". README.md's worked examples run it with and
without keepwarm against the test server (build/kwtestd --port 8080).
"""
import sys
import urllib.request

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8080
for i in range(n):
    with urllib.request.urlopen("http://127.0.0.1:%d/gen/2000" % port) as r:
        body = r.read()
        if r.status != 200 or len(body) != 2000:
            sys.exit("request %d: status %d, %d bytes" % (i, r.status, len(body)))
