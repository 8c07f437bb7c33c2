#!/usr/bin/python3
# python3 urllib.request.urlopen per request (it sends Connection: close).
# With --ca CA, an https URL is verified against CA alone: urlopen(...,
# context=ssl.create_default_context(cafile=CA)), a new context per request.
#   py_urllib.py METHOD URL N TAG [--ims DATE] [--gzip] [--body FILE] [--pause I:SEC]...
#       [--ca CA]
import gzip, hashlib, ssl, sys, urllib.error, urllib.request
from compat_args import parse

a = parse(sys.argv)
for i in range(a.n):
    headers = {}
    if a.ims:
        headers["If-Modified-Since"] = a.ims
    if a.gzip:
        headers["Accept-Encoding"] = "gzip"
    req = urllib.request.Request("%s?run=%s&i=%d" % (a.url, a.tag, i), data=a.body,
                                 headers=headers, method=a.method)
    try:
        ctx = ssl.create_default_context(cafile=a.ca) if a.ca else None
        with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:
            status, enc, body = resp.status, resp.headers.get("Content-Encoding"), resp.read()
    except urllib.error.HTTPError as e:     # 304 and other non-2xx
        status, enc, body = e.code, e.headers.get("Content-Encoding"), e.read()
        e.close()
    if enc == "gzip":
        body = gzip.decompress(body)
    sys.stdout.write("%d %d %s\n" % (status, len(body), hashlib.sha256(body).hexdigest()))
    a.pause(i)
