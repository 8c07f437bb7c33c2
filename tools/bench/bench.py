"""bench.py - the keepwarm benchmark behind `make bench` (run it through
tools/bench/run.sh).

    run.sh [--smoke] [--build DIR] [--out DIR] [--only 1,2,3,4,5,6,7,8]

Measures, side by side in one run on this machine, what keepwarm buys and
costs: every scenario runs its arms interleaved (A B C A B C ...) for several
rounds and reports the median of the rounds, so slow drifts of the machine hit
every arm alike. Prints a Markdown table (also written to OUT/results.md) and
writes OUT/results.csv with every round's value. --smoke runs each scenario
with tiny counts, to check that everything works (timings are meaningless).

Every server it starts listens on 127.0.0.1 only and is stopped by its pid
when the run ends, however it ends. Round-trip time is emulated by
build/bench/delayproxy (this kernel has no netem): see delayproxy.c.
"""
import argparse
import csv
import datetime
import hashlib
import os
import re
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "/usr/bin/python3"  # Debian's, not whatever python3 is first in PATH
RUN_TIMEOUT = 180        # seconds, any single measured program

FULL = dict(rounds0=15, rounds=7, s1_n0_c=2000, s1_n0_py=1000, s1_n10=100,
            ab_n=20000, ab_c=32, ab_rounds=5,
            bulk_bytes=1 << 30, bulk_rounds=31, loop_pairs=300000, loop_rounds=41,
            scale_levels=[10, 1000, 10000], scale_calls=2000, scale_rounds=5,
            s6_n0=100, s6_n10=100, s7_n0=100, s7_n10=50,
            s8_rtts=[0, 10], s8_n0=30, s8_n10=30, s8_connects=2000, s8_handoff_rounds=15,
            s9_requests=200)
SMOKE = dict(rounds0=1, rounds=1, s1_n0_c=20, s1_n0_py=10, s1_n10=3,
             ab_n=200, ab_c=4, ab_rounds=1,
             bulk_bytes=16 << 20, bulk_rounds=1, loop_pairs=10000, loop_rounds=1,
             scale_levels=[10, 100], scale_calls=50, scale_rounds=1,
             s6_n0=3, s6_n10=3, s7_n0=3, s7_n10=3,
             s8_rtts=[0], s8_n0=3, s8_n10=3, s8_connects=20, s8_handoff_rounds=1,
             s9_requests=20)
SCALE_DESTS = 256        # idle connections are spread over this many ports
SCALE_MISS_PORTS = 8     # scale.c's MISS_PORTS


class BenchError(Exception):
    pass


def pratio(res, a, b):
    """Median of the per-round ratios a/b: arms run back to back in each
    round, so a slow phase of the machine cancels out of the ratio."""
    return statistics.median(x / y for x, y in zip(res[a], res[b]))


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def clean_env():
    """The environment minus anything that would change what is measured."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KEEPWARM") and k.lower() not in
           ("ld_preload", "http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env["no_proxy"] = ""
    return env


# ---------------------------------------------------------------- servers

class Services:
    """Background servers, each stopped by its pid at the end."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def spawn(self, name, argv, env=None):
        out = open(os.path.join(self.tmp, name + ".out"), "wb")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                             env=env or clean_env(), cwd=self.tmp)
        out.close()
        p.bench_name = name
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(reversed(self.procs)):
            try:
                self.stop(p)
            except Exception:  # keep stopping the others
                pass

    def tail(self, p):
        try:
            with open(os.path.join(self.tmp, p.bench_name + ".out"), "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def wait_file(self, p, path, lines=1, timeout=10):
        """Wait until path has `lines` complete lines (written by rename)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if p.poll() is not None:
                break
            try:
                with open(path) as f:
                    text = f.read()
                vals = text.split()
                if text.endswith("\n") and len(vals) >= lines:
                    return [int(v) for v in vals]
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        raise BenchError("%s did not start: %s" % (p.bench_name, self.tail(p)))

    def wait_port(self, p, port, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if p.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise BenchError("%s did not listen on %d: %s" % (p.bench_name, port, self.tail(p)))


def find_prog(name):
    """Full path of a program; the daemons live in /usr/sbin, which a
    non-root PATH often lacks."""
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_with_port_file(svc, name, argv, lines=1):
    path = os.path.join(svc.tmp, name + ".port")
    p = svc.spawn(name, argv + ["--port-file", path])
    return p, svc.wait_file(p, path, lines)


def start_on_free_ports(svc, name, nports, make_argv, write_conf):
    """For servers that take their ports from a config file: pick free ports,
    retry if one was taken in between."""
    last = None
    for _ in range(5):
        ports = [free_port() for _ in range(nports)]
        write_conf(ports)
        p = svc.spawn(name, make_argv())
        try:
            for port in ports:
                svc.wait_port(p, port)
            return ports
        except BenchError as e:
            last = e
            svc.stop(p)
    raise last


def start_squid(svc):
    d = os.path.join(svc.tmp, "squid")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)  # squid drops root for the "proxy" user
    conf = os.path.join(d, "squid.conf")

    def write_conf(ports):
        with open(conf, "w") as f:
            f.write("\n".join([
                "http_port 127.0.0.1:%d" % ports[0],
                "pid_filename %s/squid.pid" % d,
                "cache_log %s/cache.log" % d,
                "access_log none",
                "cache deny all",           # forward every request: no caching
                "cache_mem 8 MB",
                "http_access allow all",    # it listens on 127.0.0.1 only
                "coredump_dir %s" % d,
                "shutdown_lifetime 0 seconds",
                "netdb_filename none",
                "pinger_enable off",
                "visible_hostname keepwarm-bench",
                "max_filedescriptors 4096",
                "server_persistent_connections on",
                "client_persistent_connections on",
            ]) + "\n")
    return start_on_free_ports(svc, "squid", 1, lambda: [find_prog("squid"), "-N", "-f", conf],
                               write_conf)[0]


def start_haproxy(svc, upstreams):
    """One frontend per upstream port; returns the frontend ports."""
    conf = os.path.join(svc.tmp, "haproxy.cfg")

    def write_conf(ports):
        parts = ["global", "  maxconn 4096", "  nbthread 1",
                 "defaults", "  mode http", "  timeout connect 5s",
                 "  timeout client 60s", "  timeout server 60s",
                 "  timeout http-keep-alive 60s",
                 # "safe" (the default) never sends a connection's first
                 # request over an idle server connection, and every request
                 # of a connection-per-request client is a first request.
                 "  http-reuse always"]
        for i, (port, up) in enumerate(zip(ports, upstreams)):
            parts += ["frontend fe%d" % i, "  bind 127.0.0.1:%d" % port,
                      "  default_backend be%d" % i,
                      "backend be%d" % i, "  server s 127.0.0.1:%d" % up]
        with open(conf, "w") as f:
            f.write("\n".join(parts) + "\n")
    return start_on_free_ports(svc, "haproxy", len(upstreams),
                               lambda: [find_prog("haproxy"), "-db", "-f", conf], write_conf)


def start_nginx(svc, upstreams):
    d = os.path.join(svc.tmp, "nginx")
    os.makedirs(os.path.join(d, "temp"), exist_ok=True)
    conf = os.path.join(d, "nginx.conf")

    def write_conf(ports):
        servers = []
        for i, (port, up) in enumerate(zip(ports, upstreams)):
            servers.append(
                "upstream up%d { server 127.0.0.1:%d; keepalive 64; }\n"
                "server { listen 127.0.0.1:%d; location / { proxy_pass http://up%d;\n"
                "  proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
                % (i, up, port, i))
        with open(conf, "w") as f:
            f.write("""daemon off;
master_process off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_timeout 60s;
	keepalive_requests 1000000;
	client_body_temp_path %(d)s/temp/body;
	proxy_temp_path %(d)s/temp/proxy;
	fastcgi_temp_path %(d)s/temp/fastcgi;
	uwsgi_temp_path %(d)s/temp/uwsgi;
	scgi_temp_path %(d)s/temp/scgi;
%(servers)s
}
""" % {"d": d, "servers": "\n".join(servers)})
    return start_on_free_ports(svc, "nginx", len(upstreams),
                               lambda: [find_prog("nginx"), "-e", os.path.join(d, "error.log"),
                                        "-p", d, "-c", conf], write_conf)


# ---------------------------------------------------------------- running

class Bench:
    def __init__(self, args):
        self.args = args
        self.c = SMOKE if args.smoke else FULL
        self.build = os.path.abspath(args.build)
        self.lib = os.path.join(self.build, "libkeepwarm.so")
        self.bin = os.path.join(self.build, "bench")
        self.rows = []
        self.tmp = tempfile.mkdtemp(prefix="kw-bench.")
        self.svc = Services(self.tmp)

    def prog(self, name):
        return os.path.join(self.bin, name)

    def env(self, shim=False, extra=None):
        env = clean_env()
        if shim:
            env["LD_PRELOAD"] = self.lib
        env.update(extra or {})
        return env

    def run(self, argv, env, timeout=RUN_TIMEOUT):
        """Run a measured program; returns the key=value pairs of its last
        line of output."""
        try:
            r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=timeout, cwd=self.tmp)
        except subprocess.TimeoutExpired:
            raise BenchError("%s timed out after %ds" % (os.path.basename(argv[0]), timeout))
        out = r.stdout.decode(errors="replace").strip().splitlines()
        if r.returncode != 0 or not out:
            raise BenchError("%s exited %d: %s" % (" ".join(argv[:3]), r.returncode,
                             r.stderr.decode(errors="replace")[-1000:]))
        kv = {}
        for tok in out[-1].split():
            k, _, v = tok.partition("=")
            kv[k] = v
        return kv

    def timed(self, argv, env, timeout=RUN_TIMEOUT):
        """Wall time in ms of a whole program run (for programs without a
        timer of their own)."""
        t0 = time.perf_counter()
        self.run(argv, env, timeout)
        return (time.perf_counter() - t0) * 1000

    def row(self, scenario, setup, arm, value, unit, samples=(), compared="",
            ratio=None, goal="", status=""):
        self.rows.append(dict(scenario=scenario, setup=setup, arm=arm, value=value,
                              unit=unit, compared=compared, ratio=ratio, goal=goal,
                              status=status, samples=list(samples)))

    def interleave(self, arms, rounds, label):
        """arms: list of (name, fn) where fn() returns a number. Runs the
        arms in turn, rotating the order each round; returns name -> list."""
        res = {name: [] for name, _ in arms}
        for r in range(rounds):
            log("%s: round %d/%d" % (label, r + 1, rounds))
            k = r % len(arms)
            for name, fn in arms[k:] + arms[:k]:
                res[name].append(fn())
        return res

    # ------------------------------------------------- scenarios 1 and 2
    def client_argv(self, client, port, path, n, mode, proxy=None):
        """proxy: (kind, port) with kind 'forward' (absolute URL to the
        proxy) or 'reverse' (plain request to the proxy's port)."""
        if client == "c":
            argv = [self.prog("reqloop"), "--requests", str(n), "--mode", mode]
            if proxy and proxy[0] == "forward":
                return argv + ["--port", str(proxy[1]),
                               "--path", "http://127.0.0.1:%d%s" % (port, path),
                               "--host-header", "127.0.0.1:%d" % port], {}
            return argv + ["--port", str(proxy[1] if proxy else port), "--path", path], {}
        argv = [PY, os.path.join(ROOT, "tools/bench/pyclient.py"),
                "--requests", str(n), "--mode", mode, "--path", path]
        if proxy and proxy[0] == "forward":
            return argv + ["--port", str(port)], {"http_proxy": "http://127.0.0.1:%d" % proxy[1]}
        return argv + ["--port", str(proxy[1] if proxy else port)], {}

    def scenario_1_2(self):
        c = self.c
        kw, = start_with_port_file(self.svc, "kwtestd", [os.path.join(self.build, "kwtestd"),
                                                         "--port", "0"])[1]
        dp, = start_with_port_file(self.svc, "delayproxy",
                                   [self.prog("delayproxy"), "--listen-port", "0",
                                    "--target-port", str(kw), "--rtt-ms", "10"])[1]
        targets = {0: kw, 10: dp}
        proxies = {}  # name -> {rtt: ("forward"|"reverse", port)}
        missing = {}  # name -> why it has no row
        if find_prog("squid"):
            sq = start_squid(self.svc)
            proxies["squid"] = {0: ("forward", sq), 10: ("forward", sq)}
        else:
            missing["squid"] = "squid not installed"
        for name, start in (("haproxy", start_haproxy), ("nginx", start_nginx)):
            if find_prog(name):
                ports = start(self.svc, [kw, dp])
                proxies[name] = {0: ("reverse", ports[0]), 10: ("reverse", ports[1])}
            else:
                missing[name] = "%s not installed" % name
        labels = {"squid": "via squid (forward proxy, http_proxy)",
                  "haproxy": "via haproxy (reverse proxy, http-reuse always)",
                  "nginx": "via nginx (reverse proxy, upstream keepalive)"}
        path = "/gen/1000"

        for rtt in (0, 10):
            for client in ("c", "py"):
                n = c["s1_n10"] if rtt else c["s1_n0_c" if client == "c" else "s1_n0_py"]
                cname = "C client (reqloop)" if client == "c" else "python3 http.client"
                setup = "RTT %d ms, %s, %d req/run" % (rtt, cname, n)
                target = targets[rtt]

                def arm(mode, shim=False, proxy=None):
                    argv, extra = self.client_argv(client, target, path, n, mode, proxy)
                    env = self.env(shim, extra)

                    def fn():
                        kv = self.run(argv, env)
                        fn.last = kv
                        fn.firsts.append(int(kv["first_ns"]) / 1e6)
                        fn.reused.append((int(kv["elapsed_ns"]) - int(kv["first_ns"]))
                                         / max(1, n - 1) / 1e6)
                        return int(kv["elapsed_ns"]) / n / 1e6
                    fn.firsts, fn.reused = [], []
                    # Untimed warm-up: page cache, the proxies' server connections.
                    w_argv, w_extra = self.client_argv(client, target, path, 2, mode, proxy)
                    self.run(w_argv, self.env(shim, w_extra))
                    return fn
                arms = [("off", arm("fresh")), ("on", arm("fresh", shim=True)),
                        ("keep", arm("keep"))]
                floor = client == "py" and rtt == 0
                if floor:
                    arms.append(("floor", arm("floor")))
                for name in proxies:
                    arms.append((name, arm("fresh", proxy=proxies[name][rtt])))
                blocking = os.path.join(self.build, "clients", "blocking")
                cross = rtt == 10 and client == "c" and os.access(blocking, os.X_OK)
                if cross:
                    # Cross-check with the test suite's own legacy client; it
                    # has no timer, so its whole process is timed here.
                    b_argv = [blocking, "--host", "127.0.0.1", "--port", str(target),
                              "--path", path, "--requests", str(n)]
                    for name, shim in (("blk_off", False), ("blk_on", True)):
                        arms.append((name, lambda shim=shim:
                                     self.timed(b_argv, self.env(shim)) / n))
                # Loopback runs are short and noisy (scheduling): more rounds.
                rounds = c["rounds"] if rtt else c["rounds0"]
                res = self.interleave(arms, rounds, "scenario 1/2, " + setup)
                med = {k: statistics.median(v) for k, v in res.items()}
                on, off, keep = med["on"], med["off"], med["keep"]
                r_on_keep, r_off_keep = pratio(res, "on", "keep"), pratio(res, "off", "keep")
                self.row("1 sequential", setup, "new connection per request, no shim",
                         off, "ms/req", res["off"], "%.2f× native reuse" % r_off_keep,
                         r_off_keep)
                # At RTT 0 nothing hides keepwarm's own calls: the hot path's goals.
                bound = 1.05 if rtt == 10 else 1.10 if client == "c" else 1.15
                goal = "≤ %.2f× native reuse" % bound
                status = "met" if r_on_keep <= bound else "missed"
                self.row("1 sequential", setup, "new connection per request, keepwarm",
                         on, "ms/req", res["on"], "%.2f× no shim, %.3f× native reuse"
                         % (pratio(res, "on", "off"), r_on_keep), r_on_keep, goal, status)
                self.row("1 sequential", setup, "one connection (native reuse)", keep,
                         "ms/req", res["keep"], "the physical best", 1.0)
                if floor:
                    r_floor = pratio(res, "floor", "keep")
                    self.row("1 sequential", setup,
                             "one connection, plus Python's own work for a new one without "
                             "its connect (pyclient --mode floor)", med["floor"], "ms/req",
                             res["floor"], "%.3f× native reuse: what no reuse below the "
                             "socket calls removes" % r_floor, r_floor)
                if cross:
                    b_setup = "RTT 10 ms, tests/clients/blocking, %d req/run, whole process" % n
                    self.row("1 sequential", b_setup, "new connection per request, no shim",
                             med["blk_off"], "ms/req", res["blk_off"], "", None)
                    r = pratio(res, "blk_on", "blk_off")
                    self.row("1 sequential", b_setup, "new connection per request, keepwarm",
                             med["blk_on"], "ms/req", res["blk_on"], "%.2f× no shim" % r, r)
                for name in ("squid", "haproxy", "nginx"):
                    if name in missing:
                        self.row("2 proxy", setup, labels[name], None, "ms/req",
                                 goal="keepwarm faster", status="skipped: " + missing[name])
                        continue
                    # The proxies' server connections are warm from the start;
                    # keepwarm dials once per process: also compare without
                    # each run's first request.
                    r = pratio(res, "on", name)
                    st = statistics.median(a / b for a, b in zip(dict(arms)["on"].reused,
                                                                  dict(arms)[name].reused))
                    self.row("2 proxy", setup, labels[name], med[name], "ms/req", res[name],
                             "keepwarm = %.3f× this (%.3f× after its first request)" % (r, st),
                             r, "keepwarm faster", "met" if r < 1 else "missed")
                if rtt == 10 and client == "c":
                    off_fn = dict(arms)["off"]
                    keep_fn = dict(arms)["keep"]
                    fresh = statistics.median(off_fn.firsts)
                    reused = statistics.median(keep_fn.reused)
                    ok_f = 1.8 <= fresh / rtt <= 2.3
                    ok_r = 0.9 <= reused / rtt <= 1.15
                    self.row("RTT emulation", "delayproxy, RTT 10 ms, C client, no shim",
                             "fresh-connection request", fresh, "ms", off_fn.firsts,
                             "%.2f RTT" % (fresh / rtt), fresh / rtt, "≈ 2 RTT",
                             "ok" if ok_f else "off")
                    self.row("RTT emulation", "delayproxy, RTT 10 ms, C client, no shim",
                             "request on a reused connection", reused, "ms", keep_fn.reused,
                             "%.2f RTT" % (reused / rtt), reused / rtt, "≈ 1 RTT",
                             "ok" if ok_r else "off")
        for p in list(self.svc.procs):
            self.svc.stop(p)

    # ------------------------------------------------- scenario 3
    def scenario_3(self):
        c = self.c
        if not find_prog("ab"):
            self.row("3 concurrency", "ab", "all arms", None, "req/s",
                     status="skipped: ab (apache2-utils) not installed")
            return
        p, (kw,) = start_with_port_file(self.svc, "kwtestd-ab",
                                        [os.path.join(self.build, "kwtestd"), "--port", "0"])
        url = "http://127.0.0.1:%d/gen/1000" % kw

        def ab(keepalive, shim, n=c["ab_n"], conc=c["ab_c"], extra=None):
            argv = [find_prog("ab"), "-q", "-c", str(conc), "-n", str(n)] + \
                (["-k"] if keepalive else []) + [url]
            env = self.env(shim, extra)

            def fn():
                r = subprocess.run(argv, env=env, capture_output=True, timeout=RUN_TIMEOUT,
                                   stdin=subprocess.DEVNULL, cwd=self.tmp)
                out = r.stdout.decode(errors="replace")
                rps = failed = None
                for line in out.splitlines():
                    if line.startswith("Requests per second:"):
                        rps = float(line.split()[3])
                    elif line.startswith("Failed requests:"):
                        failed = int(line.split()[2])
                if r.returncode != 0 or rps is None or failed:
                    raise BenchError("ab failed (exit %d, failed %s): %s" % (
                        r.returncode, failed, (out + r.stderr.decode(errors="replace"))[-800:]))
                return rps
            return fn

        # Does keepwarm reuse ab's connections yet? ab without -k sends
        # HTTP/1.0 without keep-alive, which needs the close-style upgrade.
        trace = os.path.join(self.tmp, "ab.trace")
        ab(False, True, n=50, conc=1, extra={"KEEPWARM_TRACE": trace})()
        try:
            with open(trace) as f:
                reuses = sum(1 for line in f if "event=reuse" in line.split())
        except OSError:
            reuses = 0
        landed = reuses > 0
        setup = "ab -c %d -n %d, RTT 0" % (c["ab_c"], c["ab_n"])
        # Room for all of ab's connections in the pool (the default keeps
        # 20 per destination, fewer than -c 32).
        per_host = {"KEEPWARM_MAX_IDLE_PER_HOST": str(max(64, 2 * c["ab_c"]))}
        res = self.interleave([("plain", ab(False, False)), ("k", ab(True, False)),
                               ("shim", ab(False, True, extra=per_host))],
                              c["ab_rounds"], "scenario 3")
        med = {k: statistics.median(v) for k, v in res.items()}
        r = pratio(res, "plain", "k")
        self.row("3 concurrency", setup, "ab (new connection per request), no shim",
                 med["plain"], "req/s", res["plain"], "%.2f× ab -k" % r, r)
        self.row("3 concurrency", setup, "ab -k (native keep-alive)", med["k"], "req/s",
                 res["k"], "the physical best", 1.0)
        ratio = pratio(res, "shim", "k")
        r_plain = pratio(res, "shim", "plain")
        if landed:
            status = "met" if ratio >= 0.5 and r_plain >= 2 else "missed"
            note = "%.2f× ab -k, %.2f× no shim" % (ratio, r_plain)
        else:
            status = "pending: close-style upgrade not landed (0 reuses of ab's connections)"
            note = "%.2f× ab -k, no reuse yet" % ratio
        self.row("3 concurrency", setup, "ab (new connection per request), keepwarm, "
                 "KEEPWARM_MAX_IDLE_PER_HOST=%s" % per_host["KEEPWARM_MAX_IDLE_PER_HOST"],
                 med["shim"], "req/s", res["shim"], note, ratio,
                 "≥ 0.5× ab -k and ≥ 2× no shim", status)
        self.svc.stop(p)

    # ------------------------------------------------- scenario 4
    def scenario_4(self):
        c = self.c
        size = c["bulk_bytes"]
        p, (port,) = start_with_port_file(self.svc, "benchserv-bulk",
                                          [self.prog("benchserv"), "--ports", "1",
                                           "--body-bytes", str(size)])
        argv = [self.prog("reqloop"), "--port", str(port), "--path", "/bulk", "--requests", "1"]
        # Confirm the download runs on a connection keepwarm follows: it is
        # parked at close() (a 1 MiB probe on a server of its own size).
        q, (qport,) = start_with_port_file(self.svc, "benchserv-probe",
                                           [self.prog("benchserv"), "--ports", "1",
                                            "--body-bytes", str(1 << 20)])
        trace = os.path.join(self.tmp, "bulk.trace")
        self.run([self.prog("reqloop"), "--port", str(qport), "--path", "/p", "--requests", "1"],
                 self.env(True, {"KEEPWARM_TRACE": trace}))
        with open(trace) as f:
            tracked = any(" event=park " in line for line in f)
        self.svc.stop(q)

        def bulk(shim):
            env = self.env(shim)
            return lambda: self._bulk_once(argv, env)
        res = self.interleave([("off", bulk(False)), ("on", bulk(True))], c["bulk_rounds"],
                              "scenario 4 bulk")
        self.svc.stop(p)
        off, on, r = statistics.median(res["off"]), statistics.median(res["on"]), \
            pratio(res, "on", "off")
        setup = "%s GiB download, one connection, RTT 0" % (
            "1" if size == 1 << 30 else "%.3f" % (size / (1 << 30)))
        self.row("4 bulk", setup, "no shim", off, "GB/s", res["off"], "", None)
        self.row("4 bulk", setup, "keepwarm" + ("" if tracked else " (NOT tracked?)"), on,
                 "GB/s", res["on"], "%.3f× no shim" % r, r,
                 "≥ 0.98× no shim", "met" if r >= 0.98 else "missed")

        for kind, label in (("unix", "AF_UNIX socketpair, write()+read()"),
                            ("udp", "UDP 127.0.0.1, send()+recv()"),
                            ("poll1", "poll() of 1 idle pipe, timeout 0"),
                            ("poll1000", "poll() of 1,000 entries, timeout 0")):
            # poll() of 1,000 entries costs ~150 pairs: fewer calls, the same time.
            calls = max(1000, c["loop_pairs"] // 100) if kind == "poll1000" else c["loop_pairs"]
            argv_l = [self.prog("untracked"), "--kind", kind, "--pairs", str(calls)]

            def loop(shim, argv_l=argv_l, calls=calls):
                env = self.env(shim)
                return lambda: int(self.run(argv_l, env)["elapsed_ns"]) / calls
            res = self.interleave([("off", loop(False)), ("on", loop(True))], c["loop_rounds"],
                                  "scenario 4 untracked " + kind)
            off, on, r = statistics.median(res["off"]), statistics.median(res["on"]), \
                pratio(res, "on", "off")
            unit = "ns/call" if kind.startswith("poll") else "ns/pair"
            setup = ("untracked descriptors: %s, %d calls" if kind.startswith("poll")
                     else "untracked socket: %s, %d 1-byte pairs") % (label, calls)
            self.row("4 per-call", setup, "no shim", off, unit, res["off"], "", None)
            self.row("4 per-call", setup, "keepwarm", on, unit, res["on"],
                     "%+.2f %% per call" % ((r - 1) * 100), r,
                     "≤ +2 %", "met" if r <= 1.02 else "missed")
            self.instructions_row(kind, label, unit)

        self.startup_row()

    def user_instructions(self, argv, env):
        """User-space instructions of one run of argv: perf stat's
        instructions:u where the machine counts them, else callgrind's Ir
        (valgrind). Returns (count, tool), or (None, why)."""
        perf = find_prog("perf")
        if perf:
            r = subprocess.run([perf, "stat", "-x,", "-e", "instructions:u", "--"] + argv,
                               env=env, capture_output=True, timeout=RUN_TIMEOUT,
                               stdin=subprocess.DEVNULL, cwd=self.tmp)
            for line in r.stderr.decode(errors="replace").splitlines():
                f = line.split(",")
                if len(f) > 2 and f[2].startswith("instructions") and f[0].isdigit():
                    return int(f[0]), "perf stat -e instructions:u"
        vg = find_prog("valgrind")
        if not vg:
            return None, "neither perf (instructions:u) nor valgrind here"
        out = os.path.join(self.tmp, "callgrind.out")
        r = subprocess.run([vg, "--tool=callgrind", "--callgrind-out-file=" + out] + argv,
                           env=env, capture_output=True, timeout=RUN_TIMEOUT,
                           stdin=subprocess.DEVNULL, cwd=self.tmp)
        m = re.search(r"Collected : (\d+)", r.stderr.decode(errors="replace"))
        return (int(m.group(1)), "callgrind Ir") if m else (None, "callgrind said nothing")

    def instructions_row(self, kind, label, unit):
        """Instructions keepwarm adds to a call on an untracked descriptor:
        runs of A and B calls, with and without keepwarm, differenced (the
        start-up cancels out). Exact, where the time ratio is noisy."""
        a, b = (200, 2200) if kind == "poll1000" else (2000, 22000)
        per = {}
        tool = ""
        for shim in (False, True):
            got = []
            for calls in (a, b):
                n, tool = self.user_instructions(
                    [self.prog("untracked"), "--kind", kind, "--pairs", str(calls)], self.env(shim))
                if n is None:
                    self.row("4 per-call", "untracked: %s" % label, "user-space instructions",
                             None, unit.replace("ns", "instr"), status="skipped: " + tool)
                    return
                got.append(n)
            per[shim] = (got[1] - got[0]) / (b - a)
        u = unit.replace("ns", "instr")
        setup = "untracked: %s, user-space instructions (%s)" % (label, tool)
        self.row("4 per-call", setup, "no shim", per[False], u, [per[False]], "", None)
        self.row("4 per-call", setup, "keepwarm", per[True], u, [per[True]],
                 "%+.0f instructions per %s" % (per[True] - per[False],
                                                "call" if kind.startswith("poll") else "pair"),
                 per[True] / per[False] if per[False] else None)

    def startup_row(self):
        """What loading keepwarm costs a program with 50 libraries, its
        start-up pass over them included: exec to exit of a program that does
        nothing else, with the library off (KEEPWARM=off: no pass) and on."""
        argv = [self.prog("libs50/prog")]

        def once(extra):
            env = self.env(True, extra)
            def f():
                t = time.monotonic_ns()
                subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=RUN_TIMEOUT, cwd=self.tmp)
                return (time.monotonic_ns() - t) / 1000.0
            return f
        res = self.interleave([("off", once({"KEEPWARM": "off"})), ("on", once({}))],
                              self.c["loop_rounds"] * 2, "scenario 4 start-up")
        off, on = statistics.median(res["off"]), statistics.median(res["on"])
        diff = statistics.median(b - a for a, b in zip(res["off"], res["on"]))
        setup = "exec to exit of a program linked with 50 libraries"
        self.row("4 start-up", setup, "keepwarm off", off, "us", res["off"], "", None)
        self.row("4 start-up", setup, "keepwarm on", on, "us", res["on"],
                 "%+.0f us (the start-up pass and the set-up of the on arm)" % diff, None,
                 "< 1 ms", "met" if diff < 1000 else "missed")

    def _bulk_once(self, argv, env):
        kv = self.run(argv, env)
        return int(kv["bytes"]) / int(kv["elapsed_ns"])  # bytes/ns = GB/s

    # ------------------------------------------------- scenario 5
    def scenario_5(self):
        c = self.c
        p, ports = start_with_port_file(self.svc, "benchserv-scale",
                                        [self.prog("benchserv"), "--ports",
                                         str(SCALE_MISS_PORTS + SCALE_DESTS)],
                                        lines=SCALE_MISS_PORTS + SCALE_DESTS)
        pf = os.path.join(self.tmp, "benchserv-scale.port")
        nofile = _nofile()
        shim_extra = {"KEEPWARM_MAX_IDLE": "1000000", "KEEPWARM_MAX_IDLE_PER_HOST": "1000000"}
        results = {}
        for k in c["scale_levels"]:
            def one(shim, k=k):
                argv = [self.prog("scale"), "--port-file", pf, "--idle", str(k),
                        "--calls", str(c["scale_calls"]), "--idle-by",
                        "close" if shim else "hold"]
                env = self.env(shim, shim_extra if shim else None)
                return lambda: self.run(argv, env)
            results[k] = self.interleave([("off", one(False)), ("on", one(True))],
                                         c["scale_rounds"], "scenario 5, %d idle" % k)
        self.svc.stop(p)

        def med(k, arm, key):
            return statistics.median(int(kv[key]) for kv in results[k][arm])
        lo = c["scale_levels"][0]
        for what, key in (("no idle entry for the destination (dial)", "miss_ns"),
                          ("idle entry for the destination (hand back, park)", "hit_ns")):
            base = med(lo, "on", key)
            for k in c["scale_levels"]:
                idle = med(k, "on", "idle")
                on, off = med(k, "on", key) / 1000, med(k, "off", key) / 1000
                vs_off = statistics.median(int(a[key]) / int(b[key]) for a, b in
                                           zip(results[k]["on"], results[k]["off"]))
                setup = "connect()+close(), %s" % what
                arm = "%d idle requested" % k
                if idle != k:
                    arm += ", %d held by keepwarm (its cap)" % idle
                goal = status = ""
                if k != lo:
                    goal = "≤ 2× the %d-idle cost" % lo
                    status = "met" if on * 1000 <= 2 * base else "missed"
                    if idle < k:
                        # keepwarm's private numbers: at most RLIMIT_NOFILE - 1025.
                        status = "%s up to %d idle; %d not reachable here (RLIMIT_NOFILE %d)" % (
                            status, idle, k, nofile)
                self.row("5 scale", setup, arm, on, "µs/call",
                         [int(kv[key]) / 1000 for kv in results[k]["on"]],
                         "%.2f× no shim (%.1f µs), %.2f× the %d-idle cost" % (
                             vs_off, off, on * 1000 / base, lo),
                         on * 1000 / base, goal, status)
        # Memory: from the largest level whose connections were all parked.
        full = [k for k in c["scale_levels"] if med(k, "on", "idle") == k]
        k = full[-1] if full else c["scale_levels"][0]
        per = {}
        for arm in ("on", "off"):
            base = med(k, arm, "rss_kb_base")
            per[arm] = ((med(k, arm, "rss_kb_tracked") - base) * 1024 / k,
                        (med(k, arm, "rss_kb_idle") - base) * 1024 / k)
        tracked = per["on"][0] - per["off"][0]
        idle_total = per["on"][1] - per["off"][1]
        setup = "keepwarm's resident memory (VmRSS, keepwarm − no shim), %d connections" % k
        self.row("5 scale", setup, "per tracked (open, followed) connection", tracked,
                 "bytes", [], "", None)
        self.row("5 scale", setup, "per idle (parked) connection", idle_total, "bytes", [],
                 "%.0f more than while it was tracked" % (idle_total - tracked), None)

    # ------------------------------------------------- scenarios 6 and 7
    def test_ca(self):
        """The private CA of the TLS scenarios (tests/common/tlsca.sh's
        make_test_ca), made once per run: DIR/ca.pem, DIR/server.pem and
        DIR/server.key (for 127.0.0.1 and localhost)."""
        ca = os.path.join(self.tmp, "tlsca")
        if os.path.exists(os.path.join(ca, "server.pem")):
            return ca
        r = subprocess.run(["bash", "-c", '. "$1"; make_test_ca "$2"', "bash",
                            os.path.join(ROOT, "tests/common/tlsca.sh"), ca],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        if r.returncode != 0:
            try:
                with open(os.path.join(ca, "openssl.out")) as f:
                    out = f.read()[-500:]
            except OSError:
                out = ""
            raise BenchError("make_test_ca failed: %s" % out)
        return ca

    def scenario_6(self):
        """libcurl3-gnutls over HTTPS (tests/tls/curl_client.c against
        tests/tls/tls_server.c), at RTT 0 and through delayproxy at 10 ms:
        a new easy handle per request without keepwarm, the same with
        keepwarm's TLS reuse (KEEPWARM_TLS_REUSE=on), and one kept handle.
        The client has no timer of its own: its whole process is timed. The
        server's access log (one line per request, its connection number
        first) says how many connections each run used."""
        c = self.c
        scen = "6 TLS reuse"
        tls = os.path.join(self.build, "tls")
        client = os.path.join(tls, "curl_client-gnutls")
        server = os.path.join(tls, "tls_server")
        why = None
        for f in (client, server):
            if not os.access(f, os.X_OK):
                rel = os.path.relpath(f, ROOT)
                why = "%s is missing (make bench builds it)" % (
                    f if rel.startswith("..") else rel)
        if why is None and not find_prog("openssl"):
            why = "openssl not installed (it makes the test certificate)"
        if why is None:
            ca = self.test_ca()
        if why is not None:
            self.row(scen, "libcurl3-gnutls", "all arms", None, "ms/req",
                     goal="keepwarm ≤ 1.10× the kept handle at 10 ms",
                     status="skipped: " + why)
            return
        www = os.path.join(self.tmp, "tlswww")
        os.makedirs(www, exist_ok=True)
        body = bytes((i * 7 + 3) & 0xff for i in range(1000))
        with open(os.path.join(www, "gen1000"), "wb") as f:
            f.write(body)
        want = hashlib.sha256(body).hexdigest()  # what curl_client prints per body
        access = os.path.join(self.tmp, "tls_server.access")
        # --nodelay: the body record would otherwise wait ~40 ms for the
        # client's delayed acknowledgement of the head (Nagle).
        _, (tport,) = start_with_port_file(self.svc, "tls_server", [
            server, "--cert", os.path.join(ca, "server.pem"),
            "--key", os.path.join(ca, "server.key"), "--root", www, "--log", access,
            "--nodelay"])
        _, (dport,) = start_with_port_file(self.svc, "delayproxy-tls", [
            self.prog("delayproxy"), "--listen-port", "0", "--target-port", str(tport),
            "--rtt-ms", "10"])
        cafile = os.path.join(ca, "ca.pem")
        tls_env = {"HOME": self.tmp}  # no user's dotfiles or trust settings
        reuse_env = dict(tls_env, KEEPWARM_TLS_REUSE="on")

        def log_size():
            try:
                return os.path.getsize(access)
            except OSError:
                return 0

        def served_since(off):
            """(requests, distinct connections) the server logged past off."""
            with open(access, "rb") as f:
                f.seek(off)
                lines = f.read().decode(errors="replace").splitlines()
            bad = [ln for ln in lines if not ln.endswith(" 200")]
            if bad:
                raise BenchError("tls_server answered: %s" % bad[0])
            return len(lines), len({ln.split()[0] for ln in lines})

        goal = "keepwarm ≤ 1.10× the kept handle at 10 ms"
        for rtt, port in ((0, tport), (10, dport)):
            n = c["s6_n10"] if rtt else c["s6_n0"]
            urls = ["https://127.0.0.1:%d/gen1000" % port] * n
            setup = "RTT %d ms, libcurl3-gnutls (tests/tls/curl_client), %d req/run, " \
                    "whole process" % (rtt, n)

            def arm(keep=False, shim=False):
                argv = [client] + (["--keep-handle"] if keep else []) + ["--ca", cafile] + urls
                env = self.env(shim, reuse_env if shim else tls_env)

                def once():
                    off = log_size()
                    t0 = time.perf_counter()
                    try:
                        r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                                           capture_output=True, timeout=RUN_TIMEOUT,
                                           cwd=self.tmp)
                    except subprocess.TimeoutExpired:
                        raise BenchError("curl_client timed out after %ds" % RUN_TIMEOUT)
                    ms = (time.perf_counter() - t0) * 1000
                    got = r.stdout.decode(errors="replace").split()
                    if r.returncode != 0 or len(got) != n or set(got) != {want}:
                        raise BenchError("curl_client exited %d, %d right bodies of %d: %s" % (
                            r.returncode, got.count(want), n,
                            r.stderr.decode(errors="replace")[-800:]))
                    reqs, conns = served_since(off)
                    if reqs != n:
                        raise BenchError("tls_server logged %d requests of %d" % (reqs, n))
                    once.conns.append(conns)
                    return ms / n
                once.conns = []
                # Untimed warm-up: page cache, the libraries.
                argv_w = argv[:argv.index(cafile) + 1] + urls[:2]
                subprocess.run(argv_w, env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=RUN_TIMEOUT, cwd=self.tmp)
                return once
            arms = [("off", arm()), ("on", arm(shim=True)), ("keep", arm(keep=True))]
            res = self.interleave(arms, c["rounds"] if rtt else c["rounds0"],
                                  "scenario 6, " + setup)
            fns = dict(arms)
            med = {k: statistics.median(v) for k, v in res.items()}
            conns = {k: "connections %s per run" % "/".join(str(x) for x in sorted(set(fns[k].conns)))
                     for k in fns}
            r_on_keep, r_off_keep = pratio(res, "on", "keep"), pratio(res, "off", "keep")
            self.row(scen, setup, "new easy handle per request, no keepwarm", med["off"],
                     "ms/req", res["off"], "%.2f× the kept handle; %s" % (
                         r_off_keep, conns["off"]), r_off_keep)
            status = ""
            if rtt == 10:
                status = "met" if r_on_keep <= 1.10 else "missed"
            if max(fns["on"].conns) >= n > 1:
                status = ("missed: " if status else "") + \
                    "no reuse (one connection per request)"
            self.row(scen, setup, "new easy handle per request, keepwarm, "
                     "KEEPWARM_TLS_REUSE=on", med["on"], "ms/req", res["on"],
                     "%.3f× the kept handle, %.2f× no keepwarm; %s" % (
                         r_on_keep, pratio(res, "on", "off"), conns["on"]),
                     r_on_keep, goal if rtt == 10 else "", status)
            self.row(scen, setup, "one kept easy handle (libcurl's own reuse)", med["keep"],
                     "ms/req", res["keep"], "the physical best; %s" % conns["keep"], 1.0)
        for p in list(self.svc.procs):
            self.svc.stop(p)

    # ------------------------------------------------- scenario 7
    def scenario_7(self):
        """python3 http.client over HTTPS (OpenSSL, libssl.so.3) against
        nginx (TLS 1.3, a certificate from the run's private CA), at RTT 0
        and through delayproxy at 10 ms: a new ssl context and
        HTTPSConnection per request without keepwarm, the same with
        keepwarm's TLS reuse (KEEPWARM_TLS_REUSE=on), and one kept
        HTTPSConnection (tools/bench/pyclient.py --ca, timed by itself).
        nginx's access log (one line per request: its connection number
        and the run's tag) says how many connections each run used; an
        untimed keepwarm run with a trace says why when it used one per
        request."""
        c = self.c
        scen = "7 TLS reuse, OpenSSL"
        goal = "keepwarm ≤ 1.10× the kept connection at 10 ms"
        why = None
        if not find_prog("nginx"):
            why = "nginx not installed"
        elif not find_prog("openssl"):
            why = "openssl not installed (it makes the test certificate)"
        if why is not None:
            self.row(scen, "python3 http.client", "all arms", None, "ms/req",
                     goal=goal, status="skipped: " + why)
            return
        ca = self.test_ca()
        cafile = os.path.join(ca, "ca.pem")
        www = os.path.join(self.tmp, "tlswww7")
        os.makedirs(www, exist_ok=True)
        body = bytes((i * 7 + 3) & 0xff for i in range(1000))
        with open(os.path.join(www, "gen1000"), "wb") as f:
            f.write(body)
        want = hashlib.sha256(body).hexdigest()
        d = os.path.join(self.tmp, "nginx-tls")
        os.makedirs(os.path.join(d, "temp"), exist_ok=True)
        conf = os.path.join(d, "nginx.conf")
        access = os.path.join(d, "access.log")

        def write_conf(ports):
            with open(conf, "w") as f:
                f.write("""daemon off;
master_process off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 1024; }
http {
	log_format kw '$connection $connection_requests $status $arg_run';
	access_log %(access)s kw;
	keepalive_timeout 60s;
	keepalive_requests 1000000;
	default_type application/octet-stream;
	client_body_temp_path %(d)s/temp/body;
	proxy_temp_path %(d)s/temp/proxy;
	fastcgi_temp_path %(d)s/temp/fastcgi;
	uwsgi_temp_path %(d)s/temp/uwsgi;
	scgi_temp_path %(d)s/temp/scgi;
	server {
		listen 127.0.0.1:%(port)d ssl;
		server_name localhost;
		ssl_certificate %(ca)s/server.pem;
		ssl_certificate_key %(ca)s/server.key;
		ssl_protocols TLSv1.3;
		root %(www)s;
	}
}
""" % {"d": d, "access": access, "port": ports[0], "ca": ca, "www": www})
        tport, = start_on_free_ports(
            self.svc, "nginx-tls", 1,
            lambda: [find_prog("nginx"), "-e", os.path.join(d, "error.log"), "-p", d,
                     "-c", conf], write_conf)
        _, (dport,) = start_with_port_file(self.svc, "delayproxy-tls7", [
            self.prog("delayproxy"), "--listen-port", "0", "--target-port", str(tport),
            "--rtt-ms", "10"])
        tls_env = {"HOME": self.tmp}  # no user's dotfiles or trust settings
        reuse_env = dict(tls_env, KEEPWARM_TLS_REUSE="on")
        runs = [0]

        def served(tag, n):
            """(requests, distinct connections) nginx logged for run tag; it
            writes a request's line as it finishes it: wait for n lines."""
            deadline = time.monotonic() + 5
            while True:
                try:
                    with open(access, "rb") as f:
                        lines = [ln.split() for ln in f.read().decode(errors="replace")
                                 .splitlines()]
                except OSError:
                    lines = []
                mine = [ln for ln in lines if len(ln) == 4 and ln[3] == tag]
                if len(mine) >= n or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            bad = [ln for ln in mine if ln[2] != "200"]
            if bad:
                raise BenchError("nginx answered: %s" % " ".join(bad[0]))
            return len(mine), len({ln[0] for ln in mine})

        def trace_summary(path):
            """reuse lines with tls=1, and the fresh and discard reasons."""
            counts = {}
            try:
                with open(path) as f:
                    for line in f:
                        kv = dict(t.partition("=")[::2] for t in line.split())
                        ev = kv.get("event")
                        if ev == "reuse" and kv.get("tls") == "1":
                            key = "reuse tls=1"
                        elif ev in ("fresh", "discard"):
                            key = "%s %s" % (ev, kv.get("reason", "?"))
                        else:
                            continue
                        counts[key] = counts.get(key, 0) + 1
            except OSError:
                pass
            return ", ".join("%s ×%d" % kv for kv in sorted(counts.items())) or "no reuse line"

        for rtt, port in ((0, tport), (10, dport)):
            n = c["s7_n10"] if rtt else c["s7_n0"]
            setup = "RTT %d ms, python3 http.client (OpenSSL), nginx TLS 1.3, %d req/run" % (
                rtt, n)

            def arm(mode, shim=False, n=n, port=port):
                env = self.env(shim, reuse_env if shim else tls_env)

                def argv(tag, count):
                    return [PY, os.path.join(ROOT, "tools/bench/pyclient.py"),
                            "--port", str(port), "--path", "/gen1000?run=%s" % tag,
                            "--requests", str(count), "--mode", mode, "--ca", cafile,
                            "--sha256", want]

                def once():
                    runs[0] += 1
                    tag = "r%d" % runs[0]
                    kv = self.run(argv(tag, n), env)
                    if int(kv["requests"]) != n or int(kv["bytes"]) != n * len(body):
                        raise BenchError("pyclient: %s" % kv)
                    reqs, conns = served(tag, n)
                    if reqs != n:
                        raise BenchError("nginx logged %d requests of %d" % (reqs, n))
                    once.conns.append(conns)
                    return int(kv["elapsed_ns"]) / n / 1e6
                once.conns = []
                # Untimed warm-up: page cache, the modules; with keepwarm,
                # its trace (what it did with the connections, if it used
                # one per request).
                w_env = env
                if shim:
                    once.trace = os.path.join(self.tmp, "s7-%d.trace" % rtt)
                    w_env = dict(env, KEEPWARM_TRACE=once.trace)
                runs[0] += 1
                self.run(argv("w%d" % runs[0], 3), w_env)
                return once
            arms = [("off", arm("fresh")), ("on", arm("fresh", shim=True)),
                    ("keep", arm("keep"))]
            res = self.interleave(arms, c["rounds"] if rtt else c["rounds0"],
                                  "scenario 7, " + setup)
            fns = dict(arms)
            med = {k: statistics.median(v) for k, v in res.items()}
            conns = {k: "connections %s per run" % "/".join(str(x) for x in sorted(set(fns[k].conns)))
                     for k in fns}
            r_on_keep, r_off_keep = pratio(res, "on", "keep"), pratio(res, "off", "keep")
            self.row(scen, setup, "new ssl context and HTTPSConnection per request, no keepwarm",
                     med["off"], "ms/req", res["off"], "%.2f× the kept connection; %s" % (
                         r_off_keep, conns["off"]), r_off_keep)
            status = ""
            if rtt == 10:
                status = "met" if r_on_keep <= 1.10 else "missed"
            if max(fns["on"].conns) >= n > 1:
                status = ("missed: " if status else "") + \
                    "no reuse (one connection per request; warm-up trace: %s)" % (
                        trace_summary(fns["on"].trace))
            self.row(scen, setup, "new ssl context and HTTPSConnection per request, keepwarm, "
                     "KEEPWARM_TLS_REUSE=on", med["on"], "ms/req", res["on"],
                     "%.3f× the kept connection, %.2f× no keepwarm; %s" % (
                         r_on_keep, pratio(res, "on", "off"), conns["on"]),
                     r_on_keep, goal if rtt == 10 else "", status)
            self.row(scen, setup, "one kept HTTPSConnection (native reuse)", med["keep"],
                     "ms/req", res["keep"], "the physical best; %s" % conns["keep"], 1.0)
        for p in list(self.svc.procs):
            self.svc.stop(p)

    # ------------------------------------------------- scenario 8
    def start_broker(self, name):
        """A keepwarmd of the run's own on a private socket path under the
        run's temp dir (it makes the directory, 0700), in the foreground;
        stopped by its pid with the other servers. Returns the socket path
        once it says it is serving."""
        sock = os.path.join(self.tmp, name, "sock")
        # --socket as well: the path in its command line (bench-smoke.sh
        # looks for servers left running by the run's temp dir).
        p = self.svc.spawn(name, [os.path.join(self.build, "keepwarmd"), "--socket", sock],
                           env=dict(clean_env(), KEEPWARM_BROKER=sock))
        out = os.path.join(self.tmp, name + ".out")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and p.poll() is None:
            try:
                with open(out) as f:
                    if "serving " in f.read():
                        return sock
            except OSError:
                pass
            time.sleep(0.02)
        raise BenchError("keepwarmd did not start: %s" % self.svc.tail(p))

    @staticmethod
    def trace_counts(path):
        """'event' or 'event reason=R' -> count over a trace file, leaving
        out start, redirect and request lines."""
        counts = {}
        try:
            with open(path) as f:
                for line in f:
                    kv = dict(t.partition("=")[::2] for t in line.split())
                    ev = kv.get("event")
                    if ev in (None, "start", "redirect", "request"):
                        continue
                    key = ev + (" reason=%s" % kv["reason"] if "reason" in kv else "")
                    counts[key] = counts.get(key, 0) + 1
        except OSError:
            pass
        return counts

    @staticmethod
    def fmt_counts(counts):
        return ", ".join("%s ×%d" % kv for kv in sorted(counts.items())) or "no trace line"

    def scenario_8(self):
        """Process per request: a shell loop running one curl process per
        request (GET of a 1000-byte body from benchserv, at RTT 0 and
        through delayproxy at 10 ms) without keepwarm, with keepwarm's
        in-process pool only (KEEPWARM_BROKER=off: every process starts
        with an empty pool and dials), and with keepwarm and a keepwarmd of
        the run's own (each curl takes at connect() the connection the one
        before handed the broker at exit); and one curl process fetching
        all N URLs (curl's own reuse). The whole loop or process is timed.
        Every curl prints its status, body size, local port and transfer
        time (-w): a connection handed over keeps its local port, so the
        distinct ports count the connections a run used. Then the handoff
        rows: tools/bench/handoff times connect() alone, served by the
        broker (KEEPWARM_MAX_IDLE=0), by a fresh dial, by the process's own
        pool."""
        scen = "8 process per request"
        goal = "at 10 ms: broker loop ≤ 1.10× (one curl process at RTT 0 + one " \
               "kept-connection request)"
        _, (port,) = start_with_port_file(self.svc, "benchserv-s8", [
            self.prog("benchserv"), "--ports", "1", "--body-bytes", "1000"])
        sock = self.start_broker("keepwarmd-s8")
        curl = find_prog("curl")
        if curl:
            self.curl_rows(scen, goal, curl, port, sock)
        else:
            self.row(scen, "curl", "all arms", None, "ms/req", goal=goal,
                     status="skipped: curl not installed")
        self.handoff_rows(port, sock)
        for p in list(self.svc.procs):
            self.svc.stop(p)

    def curl_rows(self, scen, goal, curl, port, sock):
        """Scenario 8's curl arms, against benchserv on port (and through
        a delayproxy of their own at 10 ms), the broker on sock."""
        c = self.c
        targets = {0: port}
        if 10 in c["s8_rtts"]:
            _, (dport,) = start_with_port_file(self.svc, "delayproxy-s8", [
                self.prog("delayproxy"), "--listen-port", "0", "--target-port", str(port),
                "--rtt-ms", "10"])
            targets[10] = dport
        # -q first: no ~/.curlrc (HOME is the run's temp dir anyway).
        wfmt = "%{http_code} %{size_download} %{local_port} %{time_total}\n"
        base = [curl, "-q", "-s", "-S", "-w", wfmt]
        curl_env = {"HOME": self.tmp}

        def run_curl(argv, env, n):
            """Wall ms of a run, connections it used, curl's transfer ms."""
            t0 = time.perf_counter()
            try:
                r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                                   capture_output=True, timeout=RUN_TIMEOUT, cwd=self.tmp)
            except subprocess.TimeoutExpired:
                raise BenchError("curl run timed out after %ds" % RUN_TIMEOUT)
            ms = (time.perf_counter() - t0) * 1000
            got = [ln.split() for ln in r.stdout.decode(errors="replace").splitlines()
                   if ln.strip()]
            if r.returncode != 0 or len(got) != n or \
                    any(len(g) != 4 or g[:2] != ["200", "1000"] for g in got):
                raise BenchError("curl run exited %d, %d answers of %d (%s): %s" % (
                    r.returncode, len(got), n, got[:1],
                    r.stderr.decode(errors="replace")[-800:]))
            conns = len({g[2] for g in got})  # distinct local ports
            return ms, conns, [float(g[3]) * 1000 for g in got]

        def conns_text(fn):
            return "connections %s per run" % "/".join(str(x) for x in sorted(set(fn.conns)))

        a0 = c0 = None  # arms (a) and (c) at RTT 0: one curl process, its request on loopback
        for rtt in c["s8_rtts"]:
            n = c["s8_n10"] if rtt else c["s8_n0"]
            url = "http://127.0.0.1:%d/s8" % targets[rtt]
            setup = "RTT %d ms, curl GET of 1000 bytes from benchserv, %d req/run" % (rtt, n)

            def loop(shim, extra=None, n=n, url=url, trace=None):
                """One curl process per request, from a shell loop (dash);
                with keepwarm only curl is preloaded."""
                script = ('n=$1; shift; i=0; while [ "$i" -lt "$n" ]; do %s"$@" || exit 1; '
                          'i=$((i + 1)); done' % ('LD_PRELOAD="$KW_LIB" ' if shim else ""))
                env = self.env(False, dict(curl_env, **(extra or {})))
                if shim:
                    env["KW_LIB"] = self.lib

                def argv(count):
                    return ["/bin/sh", "-c", script, "sh", str(count)] + base + \
                        ["-o", "/dev/null", url]

                def once():
                    ms, conns, times = run_curl(argv(n), env, n)
                    once.conns.append(conns)
                    once.transfer.append(statistics.mean(times))
                    return ms / n
                once.conns, once.transfer = [], []
                # Untimed warm-up: page cache; with keepwarm, its trace.
                w_env = env
                if trace:
                    once.trace = os.path.join(self.tmp, trace)
                    w_env = dict(env, KEEPWARM_TRACE=once.trace)
                run_curl(argv(3), w_env, 3)
                return once

            def one(n=n, url=url):
                """One curl process for all n URLs (libcurl keeps the
                connection): the kept-connection request is the median of
                curl's transfer times of requests 2 to n."""
                argv = base + ["-o", "/dev/null", url] * n

                def once():
                    ms, conns, times = run_curl(argv, self.env(False, curl_env), n)
                    once.conns.append(conns)
                    once.kept.append(statistics.median(times[1:] if n > 1 else times))
                    return ms / n
                once.conns, once.kept = [], []
                run_curl(base + ["-o", "/dev/null", url] * 2, self.env(False, curl_env), 2)
                return once
            arms = [("off", loop(False)),
                    ("inproc", loop(True, {"KEEPWARM_BROKER": "off"})),
                    ("broker", loop(True, {"KEEPWARM_BROKER": sock},
                                    trace="s8-broker-%d.trace" % rtt)),
                    ("one", one())]
            res = self.interleave(arms, c["rounds"] if rtt else c["rounds0"],
                                  "scenario 8, " + setup)
            fns = dict(arms)
            med = {k: statistics.median(v) for k, v in res.items()}
            transfer = {k: statistics.median(fns[k].transfer) for k in ("off", "inproc", "broker")}
            kept = statistics.median(fns["one"].kept)
            if rtt == 0:
                a0, c0 = med["off"], med["broker"]
            self.row(scen, setup, "curl per request (shell loop), no keepwarm", med["off"],
                     "ms/req", res["off"], "%.2f× one curl process for all; %.3f ms/req in curl's "
                     "transfers; %s" % (pratio(res, "off", "one"), transfer["off"],
                                        conns_text(fns["off"])), pratio(res, "off", "one"))
            r_in = pratio(res, "inproc", "off")
            self.row(scen, setup, "curl per request, keepwarm in-process only "
                     "(KEEPWARM_BROKER=off)", med["inproc"], "ms/req", res["inproc"],
                     "%.2f× no keepwarm; %.3f ms/req in curl's transfers; %s" % (
                         r_in, transfer["inproc"], conns_text(fns["inproc"])), r_in)
            r_br = pratio(res, "broker", "off")
            note = "%.2f× no keepwarm, %.2f× in-process only; %.3f ms/req in curl's " \
                   "transfers; %s" % (r_br, pratio(res, "broker", "inproc"),
                                      transfer["broker"], conns_text(fns["broker"]))
            g, status, ratio = "", "", r_br
            if rtt == 10 and a0 is not None:
                bound = a0 + kept
                ratio = med["broker"] / bound
                g = goal
                status = "met" if ratio <= 1.10 else "missed"
                note += "; = %.3f× (one curl process without keepwarm at RTT 0, %.2f ms, " \
                        "+ one kept-connection request at 10 ms, %.2f ms: %.2f ms); " \
                        "%.3f× with the broker arm's own process at RTT 0 (%.2f ms) instead" % (
                            ratio, a0, kept, bound, med["broker"] / (c0 + kept), c0)
            if max(fns["broker"].conns) >= n > 1:
                status = ("missed: " if status == "missed" else "") + \
                    "no reuse (one connection per request; warm-up trace: %s)" % (
                        self.fmt_counts(self.trace_counts(fns["broker"].trace)))
            self.row(scen, setup, "curl per request, keepwarm and its broker (keepwarmd, "
                     "private socket)", med["broker"], "ms/req", res["broker"], note, ratio,
                     g, status)
            self.row(scen, setup, "one curl process for all %d URLs" % n, med["one"], "ms/req",
                     res["one"], "kept-connection request %.3f ms (curl's transfer time, "
                     "requests 2 to %d); %s" % (kept, n, conns_text(fns["one"])), 1.0)

    def scenario_9(self):
        """System calls per request, by name (tools/bench/syscalls.sh:
        strace -f -c, the difference between runs of 20 and 20 + N
        requests): reqloop and python3 http.client without keepwarm (a
        connection per request, and one for all) and with it (a reused
        request), and ab without -k, whose close-style requests keepwarm
        upgrades. Counts, not times: one run is exact."""
        scen = "9 system calls"
        goal = "keepwarm: ≤ 10 system calls per reused request (reqloop)"
        if not find_prog("strace"):
            self.row(scen, "strace", "all arms", None, "calls/req", goal=goal,
                     status="skipped: strace not installed")
            return
        n = self.c["s9_requests"]
        try:
            r = subprocess.run(["bash", os.path.join(ROOT, "tools/bench/syscalls.sh"), self.build,
                                str(n)], capture_output=True, timeout=RUN_TIMEOUT,
                               stdin=subprocess.DEVNULL, cwd=self.tmp)
        except subprocess.TimeoutExpired:
            raise BenchError("syscalls.sh timed out after %ds" % RUN_TIMEOUT)
        totals, calls, failed = {}, {}, []
        for line in r.stdout.decode(errors="replace").splitlines():
            arm, _, kv = line.partition(" ")
            name, _, val = kv.partition("=")
            if " failed" in line or " skipped" in line:
                failed.append(line)
            elif name == "total":
                totals[arm] = float(val)
            elif name:
                calls.setdefault(arm, []).append((name, float(val)))
        if r.returncode != 0 and not totals:
            raise BenchError("syscalls.sh exited %d: %s" % (
                r.returncode, r.stderr.decode(errors="replace")[-400:]))
        what = {"reqloop.fresh": ("reqloop", "no keepwarm, a connection per request"),
                "reqloop.keep": ("reqloop", "no keepwarm, one kept connection"),
                "reqloop.keepwarm": ("reqloop", "keepwarm, a connection per request "
                                                "(reused)"),
                "python.fresh": ("python3 http.client", "no keepwarm, a connection per "
                                                        "request"),
                "python.keep": ("python3 http.client", "no keepwarm, one kept connection"),
                "python.keepwarm": ("python3 http.client", "keepwarm, a connection per "
                                                           "request (reused)"),
                "ab.close": ("ab -c 1 without -k", "no keepwarm (the server closes)"),
                "ab.keepwarm": ("ab -c 1 without -k", "keepwarm (close-style requests "
                                                      "upgraded)")}
        for arm, (prog, how) in what.items():
            if arm not in totals:
                continue
            setup = "%s, GET /gen/1000 from kwtestd, %d requests counted" % (prog, n)
            by_name = ", ".join("%s %g" % (k, v) for k, v in calls.get(arm, []) if v >= 0.05)
            base = arm.split(".")[0] + ".keep"
            ratio = totals[arm] / totals[base] if arm != base and totals.get(base) else None
            g, status = "", ""
            if arm == "reqloop.keepwarm":
                g, status = goal, "met" if totals[arm] <= 10 else "missed"
            self.row(scen, setup, how, totals[arm], "calls/req", [totals[arm]], by_name,
                     ratio, g, status)
        for line in failed:
            self.row(scen, "syscalls.sh", line.split(" ")[0], None, "calls/req",
                     status=line.partition(" ")[2])

    def handoff_rows(self, port, sock):
        """What a connect() costs when the broker serves it: tools/bench/handoff
        (socket, connect, GET, read, close, N times; connect() alone timed)
        under keepwarm with KEEPWARM_MAX_IDLE=0, so the process's own pool
        holds nothing: every close() hands the connection to keepwarmd and
        every connect() takes it back. Compared with no keepwarm, a fresh
        dial under keepwarm (KEEPWARM_BROKER=off KEEPWARM_MAX_IDLE=0) and
        the process's own pool (the default settings). An untimed traced
        run of each keepwarm arm says what its connects were."""
        c = self.c
        n = c["s8_connects"]
        argv = [self.prog("handoff"), "--port", str(port), "--path", "/handoff",
                "--requests", str(n)]
        settings = {"dial": {"KEEPWARM_BROKER": "off", "KEEPWARM_MAX_IDLE": "0"},
                    "local": {"KEEPWARM_BROKER": sock},
                    "broker": {"KEEPWARM_BROKER": sock, "KEEPWARM_MAX_IDLE": "0"}}
        traces = {}
        for name, extra in settings.items():
            path = os.path.join(self.tmp, "handoff-%s.trace" % name)
            self.run(argv[:-1] + ["20"], self.env(True, dict(extra, KEEPWARM_TRACE=path)))
            traces[name] = self.trace_counts(path)

        def arm(shim, extra=None):
            env = self.env(shim, extra)

            def once():
                kv = self.run(argv, env)
                if int(kv["requests"]) != n:
                    raise BenchError("handoff: %s" % kv)
                once.p90.append(int(kv["p90_ns"]) / 1000)
                once.conns.append(int(kv["connections"]))
                return int(kv["median_ns"]) / 1000
            once.p90, once.conns = [], []
            return once
        arms = [("plain", arm(False))] + [(k, arm(True, v)) for k, v in settings.items()]
        res = self.interleave(arms, c["s8_handoff_rounds"], "scenario 8 handoff")
        fns = dict(arms)
        med = {k: statistics.median(v) for k, v in res.items()}
        setup = "connect() alone, timed in tools/bench/handoff (socket, connect, GET, read, " \
                "close; %d per run, the first left out), benchserv, RTT 0" % n

        def note(k):
            text = "p90 %.1f µs; connections %s per run" % (
                statistics.median(fns[k].p90),
                "/".join(str(x) for x in sorted(set(fns[k].conns))))
            if k == "broker" and max(fns[k].conns) > 1:
                # The shim waits 1 ms for the broker's answer, then dials.
                text += " (each beyond the first: a connect that dialled)"
            if k in traces:
                text += "; traced run of 20: %s" % self.fmt_counts(traces[k])
            return text
        self.row("8 handoff", setup, "no keepwarm (the kernel's loopback dial)", med["plain"],
                 "µs", res["plain"], note("plain"), None)
        self.row("8 handoff", setup, "keepwarm, KEEPWARM_BROKER=off KEEPWARM_MAX_IDLE=0 "
                 "(a fresh dial)", med["dial"], "µs", res["dial"],
                 "%.2f× no keepwarm; %s" % (pratio(res, "dial", "plain"), note("dial")),
                 pratio(res, "dial", "plain"))
        self.row("8 handoff", setup, "keepwarm, default pool settings (hand-back from the "
                 "process's own pool)", med["local"], "µs", res["local"],
                 "%.2f× a fresh dial; %s" % (pratio(res, "local", "dial"), note("local")),
                 pratio(res, "local", "dial"))
        served = traces["broker"].get("reuse reason=broker", 0)
        status = "met" if med["broker"] <= 30 else "missed"
        if served < 19:
            status += " (only %d of the traced run's 20 connects came from the broker)" % served
        self.row("8 handoff", setup, "keepwarm, KEEPWARM_MAX_IDLE=0 and keepwarmd "
                 "(taken from the broker)", med["broker"], "µs", res["broker"],
                 "%.2f× a fresh dial, %.2f× the own pool's hand-back; %s" % (
                     pratio(res, "broker", "dial"), pratio(res, "broker", "local"),
                     note("broker")), pratio(res, "broker", "dial"), "≤ 30 µs", status)

    # ------------------------------------------------- output
    def machine(self):
        cpu = "unknown CPU"
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        cpu = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        try:
            rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                 capture_output=True, timeout=10).stdout.decode().strip()
        except (OSError, subprocess.TimeoutExpired):
            rev = ""
        try:  # the version's home: debian/changelog's first line
            with open(os.path.join(ROOT, "debian", "changelog")) as f:
                first = f.readline()
            version = first[first.index("(") + 1:first.index(")")]
        except (OSError, ValueError):
            version = "?"
        return "Linux %s, %d CPUs (%s), RLIMIT_NOFILE %d, keepwarm %s (%s), %s" % (
            platform.release(), os.cpu_count() or 0, cpu, _nofile(), version, rev or "?",
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))

    def table(self):
        def fmt(v, unit):
            if v is None:
                return "—"
            if unit in ("req/s", "bytes"):
                return "%.0f %s" % (v, unit)
            if unit in ("ns/pair",):
                return "%.0f %s" % (v, unit)
            return ("%.3f %s" if v < 1 else "%.2f %s") % (v, unit)
        lines = ["| Scenario | Setup | Arm | Result | Compared | Goal |",
                 "|---|---|---|---|---|---|"]
        for r in self.rows:
            goal = r["goal"]
            if r["status"]:
                goal = "%s: **%s**" % (goal, r["status"]) if goal else r["status"]
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                r["scenario"], r["setup"], r["arm"], fmt(r["value"], r["unit"]),
                r["compared"], goal))
        return "\n".join(lines)

    def write(self, elapsed):
        out = os.path.abspath(self.args.out or os.path.join(self.build, "bench"))
        os.makedirs(out, exist_ok=True)
        name = "results-smoke" if self.args.smoke else "results"
        machine = self.machine()
        text = "%s\n\nMachine: %s. Whole run: %.0f s.\n" % (self.table(), machine, elapsed)
        with open(os.path.join(out, name + ".md"), "w") as f:
            f.write(text)
        with open(os.path.join(out, name + ".csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["scenario", "setup", "arm", "value", "unit", "compared", "ratio",
                        "goal", "status", "rounds", "samples", "machine"])
            for r in self.rows:
                w.writerow([r["scenario"], r["setup"], r["arm"],
                            "" if r["value"] is None else "%.6g" % r["value"],
                            r["unit"], r["compared"],
                            "" if r["ratio"] is None else "%.4f" % r["ratio"],
                            r["goal"], r["status"], len(r["samples"]),
                            " ".join("%.6g" % s for s in r["samples"]), machine])
        print(text)
        log("wrote %s/%s.csv and %s.md" % (out, name, name))


def _nofile():
    import resource
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main():
    ap = argparse.ArgumentParser(description="keepwarm benchmark")
    ap.add_argument("--smoke", action="store_true", help="tiny counts: check that it works")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=None, help="results directory (default BUILD/bench)")
    ap.add_argument("--only", default="1,2,3,4,5,6,7,8,9",
                    help="scenarios to run (1 and 2 run together)")
    args = ap.parse_args()
    only = set(args.only.split(","))

    b = Bench(args)
    for f in ("libkeepwarm.so", "kwtestd", "bench/delayproxy", "bench/reqloop",
              "bench/benchserv", "bench/scale", "bench/untracked", "bench/handoff",
              "keepwarmd"):
        if not os.path.exists(os.path.join(b.build, f)):
            sys.exit("bench: %s/%s is missing (make bench builds it)" % (b.build, f))

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    t0 = time.monotonic()
    rc = 0
    try:
        if only & {"1", "2"}:
            b.scenario_1_2()
        if "3" in only:
            b.scenario_3()
        if "4" in only:
            b.scenario_4()
        if "5" in only:
            b.scenario_5()
        if "6" in only:
            b.scenario_6()
        if "7" in only:
            b.scenario_7()
        if "8" in only:
            b.scenario_8()
        if "9" in only:
            b.scenario_9()
    except BenchError as e:
        log("error: %s" % e)
        rc = 1
    except KeyboardInterrupt:
        log("interrupted")
        rc = 130
    finally:
        b.svc.stop_all()
        shutil.rmtree(b.tmp, ignore_errors=True)
    if b.rows:
        b.write(time.monotonic() - t0)
    return rc


if __name__ == "__main__":
    sys.exit(main())
