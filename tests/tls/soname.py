#!/usr/bin/env python3
"""soname.py FILE NAME - rewrite FILE's DT_SONAME in place to NAME, a name
of the same length (a 64-bit little-endian ELF shared object; symbol
versions untouched): how the TLS tests make a private copy of libssl.so.3
(tests/common/tlsca.sh make_private_libssl). Prints "OLD -> NEW"."""
import struct, sys
path, new = sys.argv[1], sys.argv[2].encode()
b = bytearray(open(path, "rb").read())
assert b[:4] == b"\x7fELF" and b[4] == 2 and b[5] == 1, "not a 64-bit little-endian ELF file"
phoff, = struct.unpack_from("<Q", b, 0x20)
phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
loads, dyn = [], None
for i in range(phnum):
    t, _, off, va, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", b, phoff + i * phentsize)
    if t == 1: loads.append((va, off, filesz))
    if t == 2: dyn = (off, filesz)
def file_off(va):
    return next(o + va - v for v, o, s in loads if v <= va < v + s)
tags = {}
for o in range(dyn[0], dyn[0] + dyn[1], 16):
    tag, val = struct.unpack_from("<qQ", b, o)
    if tag == 0: break
    tags.setdefault(tag, val)
at = file_off(tags[5]) + tags[14]  # DT_STRTAB + DT_SONAME
old = bytes(b[at:b.index(0, at)])
assert len(old) == len(new), (old, new)
b[at:at + len(new)] = new
open(path, "wb").write(b)
print(old.decode(), "->", new.decode())
