#!/usr/bin/env python3
"""http_fetch.py [PORT] [N] - N (30) requests for /gen/512 on 127.0.0.1:PORT (8081).

A legacy idiom: a new http.client.HTTPConnection per request, closed after
the body is read. README.md's A/B example runs it through the emulated link
(build/bench/delayproxy on port 8081 in front of build/kwtestd on 8080).
"""
import http.client
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
for i in range(n):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/gen/512")
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200 or len(body) != 512:
        sys.exit("request %d: status %d, %d bytes" % (i, r.status, len(body)))
