#!/usr/bin/env python3
"""symbol_graph.py OBJ... - the call graph between the library's files.

Reads each object's defined and undefined symbols with nm, draws an arrow
from a file to every file that defines a symbol it uses, prints the arrows
(one line per pair: "from -> to: symbols") and fails (exit 1) when files
call each other in a circle, printing each circle. A file is named by its
object's path below the last "shim/" (entry/stream for .../shim/entry/stream.o).
"""
import subprocess
import sys


def name_of(path):
    rel = path.split("shim/")[-1]
    return rel[:-2] if rel.endswith(".o") else rel


def symbols(path, *flags):
    out = subprocess.run(["nm", *flags, path], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def circles(nodes, edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    defined, used = {}, {}
    for p in paths:
        n = name_of(p)
        for s in symbols(p, "-g", "--defined-only"):
            defined.setdefault(s, n)
        used[n] = symbols(p, "-u")
    edges, labels = {}, {}
    for n, syms in used.items():
        for s in syms:
            d = defined.get(s)
            if d and d != n:
                edges.setdefault(n, set()).add(d)
                labels.setdefault((n, d), set()).add(s)
    for (a, b) in sorted(labels):
        print(f"{a} -> {b}: {' '.join(sorted(labels[(a, b)]))}")
    found = circles(used.keys(), edges)
    for c in found:
        print("CIRCLE: " + " <-> ".join(c))
        for a in c:
            for b in sorted(edges.get(a, ())):
                if b in c:
                    print(f"  {a} -> {b}: {' '.join(sorted(labels[(a, b)]))}")
    print(f"{len(used)} files, {len(labels)} arrows, {len(found)} circles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
