#!/usr/bin/env bash
# reaper.sh BUILD_DIR - parked connections are closed on time and the stats
# file is rewritten on schedule when the program makes no more calls into
# keepwarm (the helper thread of shim/feature/reaper.c): a server that serves
# one connection at a time serves the next client while the first still
# runs; the helper exists only once a connection was parked (not with
# KEEPWARM=off, in the off arm, under a seccomp filter, nor in a process
# that parks nothing), is named keepwarm and blocks every signal; a fork
# child that parks gets its own (not one of a parent that had one); the file
# written at exit stays the last.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: reaper.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../common/lib.sh"
for v in $(compgen -e); do case "$v" in KEEPWARM*) unset "$v" ;; esac; done
unset LD_PRELOAD

LIB=$BUILD_DIR/libkeepwarm.so
PY=/usr/bin/python3
T=$KW_TMP/reaper
mkdir -p "$T"

# A server that serves one connection at a time (keep-alive, until the client
# closes), as simple test servers do.
cat >"$T/one_at_a_time.py" <<'PYEOF'
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0)); l.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(l.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = l.accept()
    buf = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        buf += d
        while b"\r\n\r\n" in buf:
            _, buf = buf.split(b"\r\n\r\n", 1)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    c.close()
PYEOF
# A client that parks its connection, says so (a file), then makes no call
# into keepwarm until the file GO exists (at most 20 s) or, with --fork, does
# the same in a child.
cat >"$T/parker.py" <<'PYEOF'
import http.client, os, sys, time
port, ready, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def park():
    time.sleep(0.1) # a process that has run a while (a young one starts no helper)
    c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/"); c.getresponse().read(); c.close()
def wait(path):
    for _ in range(200):
        if os.path.exists(path):
            return True
        time.sleep(0.1)
    return False
if "--fork" in sys.argv:
    if "--park-first" in sys.argv:
        park()
    pid = os.fork()
    if pid == 0:
        park()
        open(ready + ".child", "w").write(str(os.getpid()))
        os._exit(0 if wait(go) else 1)
    open(ready, "w").write(str(os.getpid()))
    ok = wait(go)
    _, st = os.waitpid(pid, 0)
    sys.exit(0 if ok and st == 0 else 1)
if "--no-park" not in sys.argv:
    park()
open(ready, "w").write(str(os.getpid()))
sys.exit(0 if wait(go) else 1)
PYEOF
cat >"$T/client.py" <<'PYEOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30); c.request("GET", "/b")
sys.exit(0 if c.getresponse().read() == b"hello" else 1)
PYEOF

"$PY" "$T/one_at_a_time.py" "$T/port" &
SERVER_PID=$! # stopped by lib.sh at exit
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/port" 2>/dev/null)
[ -n "$PORT" ] || { fail "the one-at-a-time server did not start"; exit; }

# wait_file FILE: up to 20 s for FILE to appear.
wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

# park_and_look NAME ENV... -- ARGS...: run parker.py with keepwarm and ENV,
# once it is ready read its threads into THREADS (and the child's into
# CHILD_THREADS with --fork), then let it go; RC is its exit status.
park_and_look() {
	local name=$1 envs=() pid
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	rm -f "$T/$name".*
	env LD_PRELOAD="$LIB" KEEPWARM_TRACE="$T/$name.trace" "${envs[@]}" \
		"$PY" "$T/parker.py" "$PORT" "$T/$name.ready" "$T/$name.go" "$@" 2>"$T/$name.err" &
	pid=$!
	THREADS=? CHILD_THREADS=? COMMS= SIGBLK=
	if wait_file "$T/$name.ready"; then
		[[ " $* " == *" --fork "* ]] && wait_file "$T/$name.ready.child" &&
			CHILD_THREADS=$(awk '/^Threads:/ { print $2 }' "/proc/$(cat "$T/$name.ready.child")/status")
		THREADS=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
		COMMS=$(cat /proc/"$pid"/task/*/comm 2>/dev/null | sort | tr '\n' ' ')
		SIGBLK=$(for t in /proc/"$pid"/task/*; do
			[ "$(cat "$t/comm")" = keepwarm ] && awk '/^SigBlk:/ { print $2 }' "$t/status"; done)
	fi
	touch "$T/$name.go"
	wait "$pid"
	RC=$?
}

# 1. The one-at-a-time server: the parked connection is closed on time, so
# the next client is served while the first still runs.
rm -f "$T/a.ready" "$T/a.go"
env LD_PRELOAD="$LIB" KEEPWARM_IDLE_TIMEOUT=1s KEEPWARM_TRACE="$T/a.trace" \
	"$PY" "$T/parker.py" "$PORT" "$T/a.ready" "$T/a.go" &
A=$!
wait_file "$T/a.ready"
if timeout 30 "$PY" "$T/client.py" "$PORT"; then
	touch "$T/a.go"
	wait "$A"; rc=$?
	[ "$rc" -eq 0 ] && [ "$(grep -c 'event=expire' "$T/a.trace")" -eq 1 ] &&
		pass "a server serving one connection at a time: the next client is served while the first still runs (its parked connection expired on time)" ||
		fail "one at a time: parker exit $rc, $(grep -c 'event=expire' "$T/a.trace") expire lines"
else
	touch "$T/a.go"
	wait "$A"
	fail "one at a time: the second client was not served while the first ran: $(grep -v start "$T/a.trace" | tr '\n' '|')"
fi

# 2. The helper: there once a connection was parked, named, every signal blocked.
park_and_look helper --
blocked_all=no
if [ -n "$SIGBLK" ]; then
	mask=$((16#$SIGBLK))
	# SIGHUP 1, SIGINT 2, SIGUSR1 10, SIGALRM 14, SIGTERM 15, SIGCHLD 17, SIGRTMIN+4 38
	blocked_all=yes
	for sig in 1 2 10 14 15 17 38; do (( (mask >> (sig - 1)) & 1 )) || blocked_all=no; done
fi
[ "$RC/$THREADS/$blocked_all" = 0/2/yes ] && [[ $COMMS == *keepwarm* ]] &&
	pass "after a park: 2 threads, one named keepwarm ($COMMS), every signal blocked in it (SigBlk $SIGBLK)" ||
	fail "helper: exit $RC, threads $THREADS, comms '$COMMS', SigBlk '$SIGBLK'"
park_and_look nopark -- --no-park
[ "$RC/$THREADS" = 0/1 ] && pass "a process that parks nothing has no helper thread" ||
	fail "no park: exit $RC, threads $THREADS"
park_and_look off KEEPWARM=off --
[ "$RC/$THREADS" = 0/1 ] && pass "KEEPWARM=off: no helper thread" || fail "KEEPWARM=off: exit $RC, threads $THREADS"
park_and_look offarm KEEPWARM_SAMPLE=0 KEEPWARM_STATS="$T/offarm.prom" --
[ "$RC/$THREADS" = 0/1 ] && pass "the off arm with a stats file: no helper thread" ||
	fail "off arm: exit $RC, threads $THREADS"
rm -f "$T/sc."*
env LD_PRELOAD="$LIB" "$BUILD_DIR/clients/seccomp_exec" "$PY" "$T/parker.py" "$PORT" "$T/sc.ready" "$T/sc.go" &
sc=$!
wait_file "$T/sc.ready"
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$(cat "$T/sc.ready")/status" 2>/dev/null)
touch "$T/sc.go"
wait "$sc"; rc=$?
[ "$rc/$threads" = 0/1 ] && pass "under a seccomp filter: no helper thread" || fail "seccomp: exit $rc, threads $threads"
park_and_look fork -- --no-park --fork
[ "$RC/$THREADS/$CHILD_THREADS" = 0/1/2 ] &&
	pass "a fork child that parks gets its own helper, its parent that parked nothing has none" ||
	fail "fork: exit $RC, parent threads $THREADS, child threads $CHILD_THREADS"
# (the parent's parked connection expires first: the server serves one at a time)
park_and_look forkmt KEEPWARM_IDLE_TIMEOUT=300ms -- --fork --park-first
[ "$RC/$THREADS/$CHILD_THREADS" = 0/2/1 ] &&
	pass "a fork child of a parent with the helper (multithreaded) starts none when it parks" ||
	fail "fork after the helper: exit $RC, parent threads $THREADS, child threads $CHILD_THREADS"

# 3. Stats on schedule while the program waits, and the file at exit last.
rm -f "$T/st."*
env LD_PRELOAD="$LIB" KEEPWARM_STATS="$T/st.prom" KEEPWARM_STATS_INTERVAL=200ms \
	"$PY" "$T/parker.py" "$PORT" "$T/st.ready" "$T/st.go" &
st=$!
wait_file "$T/st.ready"
first=$(awk '/^keepwarm_process_run_seconds/ { print $2 }' "$T/st.prom" 2>/dev/null)
later=$first
for _ in $(seq 100); do
	later=$(awk '/^keepwarm_process_run_seconds/ { print $2 }' "$T/st.prom" 2>/dev/null)
	[ -n "$later" ] && [ "$later" != "$first" ] && break
	sleep 0.1
done
touch "$T/st.go"
wait "$st"; rc=$?
[ "$rc" -eq 0 ] && [ -n "$first" ] && [ "$later" != "$first" ] &&
	grep -q '^keepwarm_process_exited{.*} 1$' "$T/st.prom" &&
	pass "the stats file is rewritten on schedule while the program waits (run time $first, then $later), and the one written at exit is last" ||
	fail "stats on schedule: exit $rc, run time '$first' then '$later', $(grep '^keepwarm_process_exited' "$T/st.prom")"

stop_server
finish
