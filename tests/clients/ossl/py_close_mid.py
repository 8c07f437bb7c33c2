"""py_close_mid.py - python3 ssl over one server: a whole GET, then a GET
whose socket is closed (os.close) under its SSL in the middle of the
response, the SSL used once more and freed only then, then two more whole
GETs; for tests/behaviour/tls-reuse-openssl.sh (the second connection may be
a parked one taken over: keepwarm must not free its session before the
program lets go of it).

    python3 py_close_mid.py --ca FILE HOST PORT SMALL-PATH BIG-PATH

Prints one line per step ("ok BYTES", what the read after the close gave,
how the close ended). Exit 0.
"""
import os
import socket
import ssl
import sys


def connect(ca, host, port):
    ctx = ssl.create_default_context(cafile=ca)
    sock = socket.create_connection((host, port))
    return ctx.wrap_socket(sock, server_hostname="localhost")


def whole(ca, host, port, path):
    s = connect(ca, host, port)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    n = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length"))
    while len(body) < n:
        body += s.recv(65536)
    s.close()
    print("ok", len(body))


def closed_mid(ca, host, port, path):
    s = connect(ca, host, port)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    s.recv(1000)
    os.close(s.fileno())  # the socket goes; the SSL stays the program's
    try:
        s.recv(1000)
        print("read after close: data")
    except (OSError, ssl.SSLError) as e:
        print("read after close:", type(e).__name__)
    try:
        s.close()  # SSL_free, then a close of a number already closed
        print("close: ok")
    except OSError as e:
        print("close:", type(e).__name__)


def main():
    if len(sys.argv) != 7 or sys.argv[1] != "--ca":
        sys.exit(__doc__)
    ca, host, port, small, big = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
    whole(ca, host, port, small)
    closed_mid(ca, host, port, big)
    whole(ca, host, port, small)
    whole(ca, host, port, small)


main()
