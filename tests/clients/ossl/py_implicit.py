"""py_implicit.py - python3 ssl with the handshake left to the first write
(do_handshake_on_connect=False: OpenSSL runs it inside SSL_write), a new
context, socket and SSL per request, each GET answered with keep-alive and
read by its Content-Length; for tests/behaviour/tls-reuse-openssl.sh.

    python3 py_implicit.py --ca FILE HOST PORT PATH COUNT

Prints the sha256 of each body. Exit 0, or 1 on an error.
"""
import hashlib
import socket
import ssl
import sys


def get(ca, host, port, path):
    ctx = ssl.create_default_context(cafile=ca)
    sock = socket.create_connection((host, port))
    s = ctx.wrap_socket(sock, server_hostname="localhost", do_handshake_on_connect=False)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise OSError("end of stream before the head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    n = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length"))
    while len(body) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise OSError("end of stream in the body")
        body += chunk
    s.close()
    return hashlib.sha256(body).hexdigest()


def main():
    if len(sys.argv) != 7 or sys.argv[1] != "--ca":
        sys.exit(__doc__)
    ca, host, port, path, count = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    try:
        for _ in range(count):
            print(get(ca, host, port, path))
    except (OSError, ssl.SSLError) as e:
        print("error", type(e).__name__, e)
        sys.exit(1)


main()
