#!/usr/bin/python3
# python3-requests: requests.get()/head()/post() per request (each makes and
# closes a Session). requests asks for gzip itself and decompresses. With
# --ca CA an https URL is verified against CA alone (verify=CA).
#   py_requests.py METHOD URL N TAG [--ims DATE] [--gzip] [--body FILE] [--pause I:SEC]...
#       [--ca CA]
import hashlib, sys
import requests
from compat_args import parse

a = parse(sys.argv)
for i in range(a.n):
    headers = {}
    if a.ims:
        headers["If-Modified-Since"] = a.ims
    url = "%s?run=%s&i=%d" % (a.url, a.tag, i)
    verify = a.ca if a.ca else True
    if a.method == "GET":
        r = requests.get(url, headers=headers, timeout=30, verify=verify)
    elif a.method == "HEAD":
        r = requests.head(url, headers=headers, timeout=30, verify=verify)
    elif a.method == "POST":
        r = requests.post(url, data=a.body, headers=headers, timeout=30, verify=verify)
    else:
        raise SystemExit("method " + a.method)
    body = r.content
    sys.stdout.write("%d %d %s\n" % (r.status_code, len(body), hashlib.sha256(body).hexdigest()))
    a.pause(i)
