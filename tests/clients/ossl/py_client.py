"""py_client.py - python3 HTTPS on the system OpenSSL (its _ssl module), a
new connection object per URL, for tests/behaviour/tls-reuse-openssl.sh.

  py_client.py STYLE --ca FILE [options] URL...

STYLE, each a new connection per URL, closed after its response:
  httpclient        http.client.HTTPSConnection(context=create_default_context(cafile=CA))
  httpclient-noctx  http.client.HTTPSConnection with no context (Python's
                    default context; trust from SSL_CERT_FILE, which the
                    caller sets; --ca is ignored)
  urllib            urllib.request.urlopen(url, context=...) (Connection: close)
  requests          requests.get(url, verify=CA) (a Session per call)

Options (httpclient only, except --pause-ms; --second-ca for every style
but httpclient-noctx; --second-client-cert for urllib and requests too,
--second-alpn for urllib too):
  --pause-ms N              sleep N ms before every URL after the first
  --post                    POST a small body instead of GET
  The negative matrix: the first URL as usual (verified, parked under
  keepwarm), every later one different:
  --second-ca FILE          trust FILE instead of the CA
  --second-host NAME        SNI and verified host name NAME (the connection
                            still goes to the URL's address)
  --sni-each                a new SNI name per URL (first: localhost, then
                            alt-I.example), the chain verified against the
                            CA, no host name check (for every URL)
  --second-client-cert C:K  present the client certificate C (key K;
                            requests: cert=(C, K))
  --second-alpn PROTO       offer ALPN PROTO (set_alpn_protocols([PROTO]))

Prints one line per URL: the body's sha256, or "error TYPE: MESSAGE" when
the request failed (and goes on with the next URL). Exit 0, or 1 when any
request failed.
"""
import hashlib
import http.client
import socket
import ssl
import sys
import time
import urllib.parse

TIMEOUT = 30


def parse(argv):
    opts = {"style": argv[0], "ca": None, "pause_ms": 0, "post": False, "second_ca": None,
            "second_host": None, "sni_each": False, "second_client_cert": None,
            "second_alpn": None, "urls": []}
    a = argv[1:]
    i = 0
    while i < len(a):
        k = a[i]
        if k == "--ca":
            opts["ca"] = a[i + 1]; i += 2
        elif k == "--pause-ms":
            opts["pause_ms"] = int(a[i + 1]); i += 2
        elif k == "--post":
            opts["post"] = True; i += 1
        elif k == "--second-ca":
            opts["second_ca"] = a[i + 1]; i += 2
        elif k == "--second-host":
            opts["second_host"] = a[i + 1]; i += 2
        elif k == "--sni-each":
            opts["sni_each"] = True; i += 1
        elif k == "--second-client-cert":
            opts["second_client_cert"] = a[i + 1]; i += 2
        elif k == "--second-alpn":
            opts["second_alpn"] = a[i + 1]; i += 2
        else:
            opts["urls"].append(k); i += 1
    return opts


class NamedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the URL's address, with another SNI/verified name."""

    def __init__(self, host, port, sni, **kw):
        super().__init__(host, port, **kw)
        self._sni = sni

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._sni)


def context(o, i):
    later = i > 0
    ca = o["second_ca"] if later and o["second_ca"] else o["ca"]
    ctx = ssl.create_default_context(cafile=ca)
    if o["sni_each"]:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_REQUIRED
    if later and o["second_client_cert"]:
        cert, key = o["second_client_cert"].split(":", 1)
        ctx.load_cert_chain(cert, key)
    if later and o["second_alpn"]:
        ctx.set_alpn_protocols([o["second_alpn"]])
    return ctx


def httpclient(o, i, url):
    u = urllib.parse.urlsplit(url)
    target = u.path + ("?" + u.query if u.query else "")
    sni = None
    if o["sni_each"]:
        sni = "localhost" if i == 0 else "alt-%d.example" % i
    elif i > 0 and o["second_host"]:
        sni = o["second_host"]
    if o["style"] == "httpclient-noctx":
        c = http.client.HTTPSConnection(u.hostname, u.port, timeout=TIMEOUT)
    elif sni is not None:
        c = NamedHTTPSConnection(u.hostname, u.port, sni, context=context(o, i), timeout=TIMEOUT)
    else:
        c = http.client.HTTPSConnection(u.hostname, u.port, context=context(o, i), timeout=TIMEOUT)
    try:
        if o["post"]:
            c.request("POST", target, body=b"a=1&b=2",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        else:
            c.request("GET", target)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError("status %d" % r.status)
        return body
    finally:
        c.close()


def urllib_get(o, i, url):
    import urllib.request
    with urllib.request.urlopen(url, context=context(o, i), timeout=TIMEOUT) as r:
        return r.read()


def requests_get(o, i, url):
    import requests
    ca = o["second_ca"] if i > 0 and o["second_ca"] else o["ca"]
    cert = tuple(o["second_client_cert"].split(":", 1)) if i > 0 and o["second_client_cert"] else None
    r = requests.get(url, verify=ca, cert=cert, timeout=TIMEOUT)
    r.raise_for_status()
    return r.content


def main():
    o = parse(sys.argv[1:])
    fetch = {"httpclient": httpclient, "httpclient-noctx": httpclient,
             "urllib": urllib_get, "requests": requests_get}.get(o["style"])
    if fetch is None or (o["ca"] is None and o["style"] != "httpclient-noctx") or not o["urls"]:
        sys.stderr.write(__doc__)
        return 2
    rc = 0
    for i, url in enumerate(o["urls"]):
        if i > 0 and o["pause_ms"]:
            time.sleep(o["pause_ms"] / 1000.0)
        try:
            body = fetch(o, i, url)
            print(hashlib.sha256(body).hexdigest(), flush=True)
        except Exception as e:  # the program's own error, printed as it is
            print("error %s: %s" % (type(e).__name__, e), flush=True)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
