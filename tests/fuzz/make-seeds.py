#!/usr/bin/env python3
"""make-seeds.py - (re)write the checked-in seed corpora under tests/fuzz/corpus/.

Run from the repository root. fuzz_track inputs use the framing described in
fuzz_track.c: flags, 4 seed bytes, a 2-byte request length, request, response.
fuzz_broker inputs (fuzz_broker.c): the number of descriptors, then one
datagram of the broker protocol (shim/logic/broker_proto.h), packed here on
its own from the layout.
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(harness, name, data):
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def track(name, req, resp, flags=0x06, seed=0x1234):
    req, resp = req.encode(), resp.encode()
    write("fuzz_track", name, bytes([flags]) + struct.pack("<IH", seed, len(req)) + req + resp)


G = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
OK = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
track("simple", G, OK)
track("simple-whole", G, OK, flags=0)
track("chunked", G, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n")
track("head", "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
track("continue", "POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
track("pipelined", G + "HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n" + G,
      OK + "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + "HTTP/1.1 204 No Content\r\n\r\n", flags=0x0e)
track("close-request", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
track("close-delimited", "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\nbody until eof", flags=0x03)
track("http10-ka", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 3\r\n\r\nabc")
track("keepalive-max0", G, "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1, max=0\r\nContent-Length: 0\r\n\r\n")
track("upgrade", "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00")
track("connect", "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", "HTTP/1.1 200 Connection established\r\n\r\n")
track("post-chunked", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", flags=0x08)
track("tls", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "")
track("server-first", "", "220 smtp ready\r\n")
track("partial", G, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly part")
# Bodies past a TLS record (16 KiB): the record-sized runs cut inside them.
BIG = "x" * 40000
track("big-length", G + G, "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n" + BIG +
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
track("big-chunked", G, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "".join("%x\r\n%s\r\n" % (n, "y" * n) for n in (9000, 17000, 300, 16384)) + "0\r\n\r\n")
track("malformed-after", G + "BOGUS\r\n\r\n", OK)

H = {
    "close11": "GET /index.html HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
    "http10": "GET / HTTP/1.0\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n",
    "http10-ka": "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
    "te-close": "GET / HTTP/1.1\r\nTE: deflate,gzip;q=0.3\r\nConnection: TE, close\r\nHost: h\r\n\r\n",
    "odd-spacing": "GET /x?y=1 HTTP/1.1\r\nHost:h\r\nConnection:\t close \t\r\nX-A:   b  \r\n\r\n",
    "close-commas": "HEAD / HTTP/1.1\r\nConnection: ,close,,Upgrade ,\r\nconnection: CLOSE\r\n\r\n",
    "post-10": "POST /form HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2",
    "put-ikey": "PATCH /r HTTP/1.1\r\nIdempotency-Key: 123\r\nConnection: close\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "not-close": "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    "proxy": "GET http://h/ HTTP/1.1\r\nHost: h\r\nProxy-Connection: keep-alive\r\nConnection: close\r\n\r\n",
    "folded": "GET / HTTP/1.1\r\nX: a\r\n b\r\nConnection: close\r\n\r\n",
    "incomplete": "GET / HTTP/1.1\r\nConnection: close\r\n",
}
for k, v in H.items():
    write("fuzz_upgrade", k, v.encode())

C = {
    "good": "# keepwarm\nKEEPWARM = on\nKEEPWARM_IDLE_TIMEOUT = 1m30s\nKEEPWARM_MAX_IDLE=50\n"
            "KEEPWARM_DRAIN = 64KiB\nKEEPWARM_SAMPLE = 0.25\nKEEPWARM_REUSE = always\n",
    "bad": "KEEPWARM_IDLE_TIMEOUT = -5s\nKEEPWARM_MAX_IDLE = 99999999999\nnonsense\n"
           "KEEPWARM_NOPE = 1\nKEEPWARM_SAMPLE = 1.5\nKEEPWARM_DRAIN = 12XB\nKEEPWARM_UPGRADE = maybe\n",
    "durations": "KEEPWARM_MAX_LIFETIME = 1.5h\nKEEPWARM_TCP_KEEPALIVE = 0\nKEEPWARM_STATS_INTERVAL = 500ms\n"
                 "KEEPWARM_IDLE_TIMEOUT = 1h2m3s4ms5us6ns\nKEEPWARM_MAX_LIFETIME = 99999999999999999999h\n",
    "paths": "  KEEPWARM_TRACE = /tmp/kw.log  \r\n\tKEEPWARM_STATS=/tmp/%p.prom\nKEEPWARM_TRACE=stderr",
    "sizes": "KEEPWARM_DRAIN = 1g\nKEEPWARM_DRAIN = 17179869184GiB\nKEEPWARM_DRAIN=0\nKEEPWARM_DRAIN = 10 KiB\n",
    "blank": "\n\n   \n# only comments\n#KEEPWARM=off\n",
    "long-origin": "\xff" + "KEEPWARM_MAX_IDLE_PER_HOST = x\nKEEPWARM_STATS_INTERVAL = y\n",
    "destinations": "KEEPWARM_DESTINATIONS = deny 10.1.2.3:8080, allow 127.0.0.0/8; deny *:9200\n"
                    "KEEPWARM_DESTINATIONS = deny [2001:db8::/32]:443, allow 2001:db8::/33, deny *:*\n"
                    "KEEPWARM_DESTINATIONS = deny 10.1.2.3:99999\nKEEPWARM_DESTINATIONS = \n"
                    "KEEPWARM_DESTINATIONS = permit [::ffff:10.0.0.1]:80,,deny 10.0.0.0/33\n",
}
for k, v in C.items():
    data = v.encode("latin-1")
    if not data.startswith(b"\xff"):
        data = b"\x10" + data  # byte 0: origin length / 2
    write("fuzz_config", k, data)

# The broker protocol: a 16-byte header, a 32-byte key, and for PUT and GIVE
# 16 bytes of times and 64 of metadata; little-endian, the port as stored
# (network order).
PUT, TAKE, GIVE, MISS, HELLO = 1, 2, 3, 4, 5
FDS = {PUT: 1, TAKE: 1, GIVE: 1, MISS: 0, HELLO: 0}
AF_INET, AF_INET6 = 2, 10
V4 = (AF_INET, 8080, 0, bytes([192, 0, 2, 77]) + bytes(12))
V6 = (AF_INET6, 443, 3, bytes.fromhex("20010db8000100020003000400050006"))


def bkey(family, port, scope, addr, tls=0, transport=0, opts=0xdeadbeef):
    return struct.pack("<H", family) + struct.pack(">H", port) + struct.pack("<I16sBBxxI", scope, addr, tls,
                                                                             transport, opts)


def bmeta(server_max=-1, version=1, size=64, reserved=0):
    return struct.pack("<HHIQQIIiIQQQ", version, size, 0x80000003, 0x123456789abcdef0, 0x100000001,
                       7, 100, server_max, reserved, 0x200000003, 0xfedcba9876543210, 12345)


def bmsg(mtype, key=None, meta=None, msg_id=0x0a0b0c0d, nfds=None, body_len=None, version=1):
    body = b""
    if mtype in (PUT, TAKE, GIVE, MISS):
        body = key if key is not None else bkey(*V4)
    if mtype in (PUT, GIVE):
        body += struct.pack("<QQ", 0x1234567890, 30000) + (meta if meta is not None else bmeta())
    head = struct.pack("<IHHII", 0x3142574B, version, mtype, msg_id, len(body) if body_len is None else body_len)
    return bytes([FDS.get(mtype, 0) if nfds is None else nfds]) + head + body


for name, t in (("put", PUT), ("take", TAKE), ("give", GIVE), ("miss", MISS)):
    write("fuzz_broker", name + "-ipv4", bmsg(t, bkey(*V4)))
    write("fuzz_broker", name + "-ipv6", bmsg(t, bkey(*V6)))
write("fuzz_broker", "hello", bmsg(HELLO))
write("fuzz_broker", "put-server-max", bmsg(PUT, meta=bmeta(server_max=0x7fffffff), msg_id=0))
# Refused, one field each: the decoder's every error.
write("fuzz_broker", "take-tls", bmsg(TAKE, bkey(*V4, transport=1)))
write("fuzz_broker", "give-ipv4-tail", bmsg(GIVE, bkey(AF_INET, 80, 0, bytes(15) + b"\x01")))
write("fuzz_broker", "put-server-max-2", bmsg(PUT, meta=bmeta(server_max=-2)))
write("fuzz_broker", "put-meta-size", bmsg(PUT, meta=bmeta(size=72)))
write("fuzz_broker", "miss-one-fd", bmsg(MISS, nfds=1))
write("fuzz_broker", "take-put-length", bmsg(TAKE, body_len=112))
write("fuzz_broker", "unknown-type", bmsg(6))
write("fuzz_broker", "version-2", bmsg(TAKE, version=2))
write("fuzz_broker", "magic-big-endian", b"\x01" + b"1BWK" + bmsg(TAKE)[5:])
write("fuzz_broker", "short", bmsg(PUT)[:60])
