# Command line shared by the python clients of the compatibility suite:
#   METHOD URL N TAG [--ims DATE] [--gzip] [--body FILE] [--pause I:SEC]...
#       [--ca FILE]
# Request i (0-based) goes to URL?run=TAG&i=i; --pause I:SEC sleeps SEC
# seconds after request I; --ca FILE is the only CA an https URL is verified
# against (a.ca, None without it).
import time


class Args:
    pass


def parse(argv):
    a = Args()
    a.method, a.url, a.n, a.tag = argv[1], argv[2], int(argv[3]), argv[4]
    a.ims, a.gzip, a.body, a.ca, pauses = None, False, None, None, {}
    rest = argv[5:]
    while rest:
        opt = rest.pop(0)
        if opt == "--ims":
            a.ims = rest.pop(0)
        elif opt == "--gzip":
            a.gzip = True
        elif opt == "--body":
            with open(rest.pop(0), "rb") as f:
                a.body = f.read()
        elif opt == "--ca":
            a.ca = rest.pop(0)
        elif opt == "--pause":
            i, s = rest.pop(0).split(":")
            pauses[int(i)] = float(s)
        else:
            raise SystemExit("unknown option " + opt)

    def pause(i):
        if i in pauses:
            time.sleep(pauses[i])
    a.pause = pause
    return a
