#!/usr/bin/python3
# python3 http.client, the legacy idiom: a new HTTPConnection per request,
# closed once the response is read; for an https URL a new HTTPSConnection
# per request, each with its own ssl.create_default_context(cafile=CA) (the
# system OpenSSL, through python's _ssl).
#   py_httpclient.py METHOD URL N TAG [--ims DATE] [--gzip] [--body FILE] [--pause I:SEC]...
#       [--ca CA]
# Prints "STATUS BODY_LENGTH SHA256(BODY)" per request (body decompressed if gzip).
import gzip, hashlib, http.client, ssl, sys, urllib.parse
from compat_args import parse

a = parse(sys.argv)
u = urllib.parse.urlsplit(a.url)
for i in range(a.n):
    headers = {}
    if a.ims:
        headers["If-Modified-Since"] = a.ims
    if a.gzip:
        headers["Accept-Encoding"] = "gzip"
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=30,
                                           context=ssl.create_default_context(cafile=a.ca))
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request(a.method, "%s?run=%s&i=%d" % (u.path, a.tag, i), body=a.body, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.getheader("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    sys.stdout.write("%d %d %s\n" % (resp.status, len(body), hashlib.sha256(body).hexdigest()))
    a.pause(i)
