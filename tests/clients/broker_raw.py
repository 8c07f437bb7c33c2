# broker_raw.py SOCKET CASE [ARGS] - speak keepwarmd's protocol
# (shim/logic/broker_proto.h) by hand, for tests/behaviour/broker.sh.
#
#   hello            connect; print "hello" when the broker greets us,
#                    "closed" when it hangs up first
#   take PORT        ask for 127.0.0.1:PORT; print "give" or "miss"
#   garbage          send malformed messages (each with what descriptors it
#                    carries), then a valid TAKE: print "alive" when it is
#                    answered with a MISS
#   put-bad KIND PORT  a PUT the broker must refuse: KIND is pipe, udp,
#                    unconnected, claim (another destination than the
#                    socket's), unread (bytes the sender did not read),
#                    counters (byte counters other than the sender says);
#                    then print "alive" as above
import os
import socket
import struct
import sys
import time

MAGIC, VERSION = 0x3142574B, 1
PUT, TAKE, GIVE, MISS, HELLO = 1, 2, 3, 4, 5


def key(port, family=socket.AF_INET, addr=b"\x7f\x00\x00\x01"):
    return (struct.pack("<H", family) + struct.pack(">H", port) + struct.pack("<I", 0) +
            addr.ljust(16, b"\0") + bytes(4) + struct.pack("<I", 0))


def meta(sent=0, received=0, server_max=-1):
    return struct.pack("<HHIQQIIiIQQQ", 1, 64, 0, 0, 0, 0, 0, server_max, 0, 0, sent, received)


def msg(mtype, body, mid=1, version=VERSION, magic=MAGIC, length=None):
    n = len(body) if length is None else length
    return struct.pack("<IHHII", magic, version, mtype, mid, n) + body


def put_body(port, sent=0, received=0):
    return key(port) + struct.pack("<QQ", 0, 60000) + meta(sent, received)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(2)
    s.connect(path)
    return s


def greeted(s):
    try:
        data = s.recv(256)
    except (socket.timeout, ConnectionResetError):
        return False
    return len(data) == 16 and struct.unpack("<IHHII", data)[2] == HELLO


def take(s, port, mid=77):
    probe = socket.socket()
    socket.send_fds(s, [msg(TAKE, key(port), mid)], [probe.fileno()])
    probe.close()
    deadline = time.time() + 2
    while time.time() < deadline:
        data, fds, _, _ = socket.recv_fds(s, 256, 4)
        for fd in fds:
            os.close(fd)
        if len(data) >= 16 and struct.unpack("<IHHII", data[:16])[3] == mid:
            return "give" if struct.unpack("<IHHII", data[:16])[2] == GIVE else "miss"
    return "none"


def alive(s):
    print("alive" if take(s, 9) == "miss" else "dead")


def garbage(s):
    r, w = os.pipe()
    tcp = socket.socket()
    cases = [
        (b"", []),                                        # empty
        (b"KWB", []),                                     # shorter than a header
        (msg(TAKE, key(9), magic=0x12345678), [tcp]),     # not ours
        (msg(TAKE, key(9), version=2), [tcp]),            # another version
        (msg(99, b""), []),                               # unknown type
        (msg(TAKE, key(9), length=31), [tcp]),            # length field wrong
        (msg(TAKE, key(9))[:-1], [tcp]),                  # truncated body
        (msg(TAKE, key(9)) + b"x", [tcp]),                # too long
        (msg(TAKE, key(9)), []),                          # too few descriptors
        (msg(TAKE, key(9)), [tcp, tcp]),                  # too many
        (msg(PUT, put_body(9)), [tcp, tcp, tcp, tcp, tcp]),  # far too many
        (msg(TAKE, key(9, family=99)), [tcp]),            # unknown family
        (msg(GIVE, put_body(9)), [tcp]),                  # a reply sent to the broker
        (msg(HELLO, b""), []),                            # the broker's own greeting
        (b"\0" * 200, []),                                # longer than any message
    ]
    for data, fds in cases:
        fdnums = [f if isinstance(f, int) else f.fileno() for f in fds]
        if fdnums:
            socket.send_fds(s, [data], fdnums)
        else:
            s.send(data)
    os.close(r)
    os.close(w)
    tcp.close()
    alive(s)


def put_bad(s, kind, port):
    port = int(port)
    if kind == "pipe":
        r, w = os.pipe()
        socket.send_fds(s, [msg(PUT, put_body(port))], [r])
        os.close(r)
        os.close(w)
    elif kind == "udp":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect(("127.0.0.1", port))
        socket.send_fds(s, [msg(PUT, put_body(port))], [u.fileno()])
        u.close()
    elif kind == "unconnected":
        t = socket.socket()
        socket.send_fds(s, [msg(PUT, put_body(port))], [t.fileno()])
        t.close()
    else:
        t = socket.create_connection(("127.0.0.1", port))
        t.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)  # the response arrives, unread
        sent = len(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        if kind == "claim":
            body = put_body(port + 1, sent, 0)
        elif kind == "unread":
            body = put_body(port, sent, 0)
        else:  # counters: read the response, then claim fewer bytes received
            t.recv(65536)
            body = put_body(port, sent, 1)
        socket.send_fds(s, [msg(PUT, body)], [t.fileno()])
        t.close()
    alive(s)


def main():
    path, case = sys.argv[1], sys.argv[2]
    try:
        s = connect(path)
    except OSError as e:
        print("refused: %s" % e.strerror)
        return
    if not greeted(s):
        print("closed")
        return
    if case == "hello":
        print("hello")
    elif case == "take":
        print(take(s, int(sys.argv[3])))
    elif case == "garbage":
        garbage(s)
    elif case == "put-bad":
        put_bad(s, sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown case " + case)


main()
