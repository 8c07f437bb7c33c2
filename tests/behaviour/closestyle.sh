#!/usr/bin/env bash
# closestyle.sh BUILD_DIR - close-style clients become poolable, and reuse never
# adds a failure. Real close-style programs (python3 urllib, ab without -k)
# need one connection per concurrent client; with injected faults (the server
# closing idle connections around the client's pauses, resetting a reused
# connection as a request arrives, a keep-alive timeout shorter than ours)
# every client still sees 0 errors, each request is served exactly once, and
# a POST never travels on a reused connection.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: closestyle.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../common/lib.sh"
for v in $(compgen -e); do case "$v" in KEEPWARM*) unset "$v" ;; esac; done
unset LD_PRELOAD

LIB=$BUILD_DIR/libkeepwarm.so
CL=$BUILD_DIR/clients
PY=/usr/bin/python3

served() { grep -c "^request .*target=$1" "$SERVER_LOG" || true; }

# run_both NAME WANT_WITHOUT WANT_WITH CMD...: the command exits 0 with and
# without the shim; new server connections per arm must match (a number or
# LO-HI); stdout must be identical in both arms.
run_both() {
	local name=$1 want_off=$2 want_on=$3 arm got rc out_off=""
	shift 3
	for arm in off on; do
		local before=$(server_conns) want=$want_off pre=""
		[ "$arm" = on ] && { want=$want_on; pre=$LIB; }
		rm -f "$KW_TMP/trace.$arm"
		timeout 300 env LD_PRELOAD="$pre" KEEPWARM_TRACE="$KW_TMP/trace.$arm" "$@" \
			>"$KW_TMP/out.$arm" 2>"$KW_TMP/err.$arm"
		rc=$?
		got=$(( $(server_conns) - before ))
		local lo=${want%-*} hi=${want#*-}
		if [ "$rc" -eq 0 ] && [ "$got" -ge "$lo" ] && [ "$got" -le "$hi" ]; then
			pass "$name [shim $arm] exit 0, conns=$got (expected $want)"
		else
			fail "$name [shim $arm] rc=$rc conns=$got (expected $want): $(head -c 300 "$KW_TMP/err.$arm")"
		fi
	done
	cmp -s "$KW_TMP/out.off" "$KW_TMP/out.on" && pass "$name: identical output" \
		|| fail "$name: output differs with the shim"
}

start_server || { finish; exit; }
cat >"$KW_TMP/fetch_close_style.py" <<PYEOF
import hashlib, sys, urllib.request
h = hashlib.sha256()
for i in range(int(sys.argv[2])):
    with urllib.request.urlopen("http://127.0.0.1:%s/gen/5000?u=%d" % (sys.argv[1], i)) as r:
        h.update(r.read())
print(h.hexdigest())
PYEOF
run_both "python3 urllib (Connection: close), 20 requests" 20 1 "$PY" "$KW_TMP/fetch_close_style.py" "$SERVER_PORT" 20
# The end-of-file stand-in and the next handback carry the program's
# O_NONBLOCK, whatever the socket before had (blocking and non-blocking in
# turn, and switched after the request).
cat >"$KW_TMP/close_style_flags.py" <<'PYEOF'
import fcntl, os, select, socket, sys
port = int(sys.argv[1])
def nb(s):
    return "nonblock" if fcntl.fcntl(s.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK else "block"
for i, (start, switch) in enumerate([(0, 0), (1, 0), (0, 0), (1, 1), (0, 1), (1, 0), (0, 0)]):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | (socket.SOCK_NONBLOCK if start else 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        select.select([], [s], [], 10)
    after_connect = nb(s)
    s.sendall(b"GET /gen/3000?f=%d HTTP/1.0\r\nHost: x\r\n\r\n" % i) if not start else \
        os.write(s.fileno(), b"GET /gen/3000?f=%d HTTP/1.0\r\nHost: x\r\n\r\n" % i)
    if switch:
        s.setblocking(bool(start))
    got = b""
    while True:
        select.select([s], [], [], 10)
        try:
            b = os.read(s.fileno(), 65536)
        except BlockingIOError:
            continue
        if not b:
            break
        got += b
    print(i, after_connect, nb(s), len(got.split(b"\r\n\r\n", 1)[1]))
    s.close()
PYEOF
run_both "close-style requests, O_NONBLOCK changing between and during them" 7 1 \
	"$PY" "$KW_TMP/close_style_flags.py" "$SERVER_PORT"
# A server that frames by what the request asked (/framed/N: a length for
# keep-alive, the close for a request that closes): the upgraded HTTP/1.0
# request gets Content-Length where the program's own would have got a body
# the close ends. Same status, body and end-of-file; the head has one line
# more (README, "What it is not").
cat >"$KW_TMP/framed.py" <<'PYEOF'
import hashlib, socket, sys
for i in range(5):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /framed/5000?i=%d HTTP/1.0\r\nHost: x\r\n\r\n" % i)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    head, body = got.split(b"\r\n\r\n", 1)
    print(i, head.decode().replace("\r\n", " | "), "body", len(body), hashlib.sha256(body).hexdigest()[:16])
PYEOF
before=$(server_conns)
timeout 60 "$PY" "$KW_TMP/framed.py" "$SERVER_PORT" >"$KW_TMP/framed.off" 2>&1
mid=$(server_conns)
timeout 60 env LD_PRELOAD="$LIB" "$PY" "$KW_TMP/framed.py" "$SERVER_PORT" >"$KW_TMP/framed.on" 2>&1
after=$(server_conns)
if [ "$((mid - before))/$((after - mid))" = 5/1 ] &&
	[ "$(grep -c 'Content-Length' "$KW_TMP/framed.off")/$(grep -c ' | Content-Length: 5000 body 5000 ' "$KW_TMP/framed.on")" = 0/5 ] &&
	[ "$(sed 's/ | Content-Length: 5000//' "$KW_TMP/framed.on")" = "$(cat "$KW_TMP/framed.off")" ]; then
	pass "a server framing by keep-alive: 5 connections without keepwarm, 1 with; the same status, headers and body but for a Content-Length line"
else
	fail "framing by keep-alive: conns $((mid - before))/$((after - mid)): $(head -n 2 "$KW_TMP/framed.off" "$KW_TMP/framed.on" | tr '\n' '|')"
fi
# ab prints timings; keep only what must not change, including the header
# bytes ("Total transferred"): the upgraded request's response head is put
# back to what the server says to a close-style request.
cat >"$KW_TMP/ab.sh" <<'SHEOF'
#!/bin/sh
ab "$@" >"${0%.sh}.out" 2>&1; rc=$?
grep -E '^(Complete|Failed|Non-2xx|Document Length|Total transferred|HTML transferred)' "${0%.sh}.out"
exit $rc
SHEOF
chmod +x "$KW_TMP/ab.sh"
URL=http://127.0.0.1:$SERVER_PORT/gen/1000
run_both "ab -n 200 -c 1 (HTTP/1.0, no keep-alive)" 200 1 "$KW_TMP/ab.sh" -n 200 -c 1 "$URL"
run_both "ab -n 2000 -c 8 (HTTP/1.0, no keep-alive)" 2000-2008 1-8 "$KW_TMP/ab.sh" -n 2000 -c 8 "$URL"
run_both "ab -k -n 200 -c 1" 1 1 "$KW_TMP/ab.sh" -k -n 200 -c 1 "$URL"
stop_server

# Faults. 1: the server closes connections idle for 100 ms; the clients pause
# about that long between requests. 8 threads x 125 requests.
start_server --idle-close 100 || { finish; exit; }
run_both "idle close 100 ms, 8x125 requests pausing 100 ms" 1000 8-1000 \
	"$CL/threads" --host 127.0.0.1 --port "$SERVER_PORT" --threads 8 --requests 125 --sleep-ms 100 --path /gen/1000
run_both "idle close 100 ms, close-style reader, 200 pausing 95 ms" 200 1-200 \
	"$CL/nonblock_poll" --host 127.0.0.1 --port "$SERVER_PORT" --requests 200 --sleep-ms 95 \
	--connection-close --read-to-eof --path /gen/1000
run_both "idle close 100 ms, 8x50 POSTs pausing 100 ms" 400 400 \
	"$CL/threads" --host 127.0.0.1 --port "$SERVER_PORT" --threads 8 --requests 50 --sleep-ms 100 \
	--method POST --body-bytes 300 --path /gen/10
n=$(grep -c '^request .*method=POST' "$SERVER_LOG"); [ "$n" -eq 800 ] && pass "each POST served exactly once ($n over both arms)" \
	|| fail "POSTs served: $n (want 800)"
stop_server

# 2: the server resets a connection when its second request arrives: every
# reuse fails before an answer and is replayed once, invisibly.
start_server --rst-on-request 2 || { finish; exit; }
run_both "reset on the 2nd request, 1000 GETs" 1000 1000 \
	"$CL/blocking" --host 127.0.0.1 --port "$SERVER_PORT" --requests 1000 --path /gen/100
n=$(served /gen/100); [ "$n" -eq 2000 ] && pass "each GET served exactly once per arm ($n)" || fail "GETs served: $n (want 2000)"
r=$(grep -c 'event=replay' "$KW_TMP/trace.on"); [ "$r" -ge 400 ] && pass "replays traced ($r)" || fail "replays traced: $r"
run_both "reset on the 2nd request, 1000 GETs, epoll edge-triggered" 1000 1000 \
	"$CL/epoll_et" --host 127.0.0.1 --port "$SERVER_PORT" --requests 1000 --path /gen/200
# A POST is never sent on a reused connection, so it is never reset and never
# sent twice.
resets_before=$(grep -c '^reset ' "$SERVER_LOG")
run_both "reset on the 2nd request, 300 POSTs" 300 300 \
	"$CL/blocking" --host 127.0.0.1 --port "$SERVER_PORT" --requests 300 --method POST --body-bytes 100 --path /gen/50
n=$(grep -c '^request .*method=POST' "$SERVER_LOG"); [ "$n" -eq 600 ] && pass "each POST served exactly once ($n over both arms)" \
	|| fail "POSTs served: $n (want 600)"
r=$(($(grep -c '^reset ' "$SERVER_LOG") - resets_before))
[ "$resets_before" -gt 0 ] && [ "$r" -eq 0 ] &&
	pass "no POST met the reset of a second request ($resets_before resets during the GETs, 0 during the POSTs)" ||
	fail "resets during the POSTs: $r (want 0: a POST never travels on a reused connection; $resets_before during the GETs)"
grep -q 'event=fresh' "$KW_TMP/trace.on" && pass "POSTs took fresh connections (traced)" || fail "no fresh-for-unsafe in the trace"
stop_server

# 3: the server's keep-alive timeout (200 ms) is shorter than ours; the
# clients pause 250 ms. After the first stale connections keepwarm learns the
# server's patience and stops keeping connections that long. 8x125 requests.
start_server --idle-close 200 || { finish; exit; }
# (Threads interleave, so some connections are reused younger than 200 ms.)
run_both "server timeout 200 ms shorter than ours, 8x125 requests pausing 250 ms" 1000 8-1000 \
	"$CL/threads" --host 127.0.0.1 --port "$SERVER_PORT" --threads 8 --requests 125 --sleep-ms 250 --path /gen/1000
stale=$(grep -c 'event=stale' "$KW_TMP/trace.on"); learn=$(grep -c 'event=learn' "$KW_TMP/trace.on")
expired=$(grep -c 'event=expire' "$KW_TMP/trace.on")
[ "$learn" -ge 1 ] && [ "$stale" -le 50 ] && [ "$expired" -ge 1 ] \
	&& pass "learned the server's patience: $stale stale, $expired expired before use" \
	|| fail "learning: stale=$stale learn=$learn expired=$expired"
stop_server

# 4: bytes after a response, a second response unasked: never pooled, and
# nothing of one response reaches another request.
start_server || { finish; exit; }
run_both "extra bytes after the body" 20 20 "$CL/blocking" --host 127.0.0.1 --port "$SERVER_PORT" --requests 20 --path /extra/100
run_both "extra bytes, close-style reader" 20 20 "$CL/blocking" --host 127.0.0.1 --port "$SERVER_PORT" --requests 20 \
	--connection-close --read-to-eof --path /extra/100
run_both "a second response unasked" 20 20 "$CL/blocking" --host 127.0.0.1 --port "$SERVER_PORT" --requests 20 --path /twice/100
run_both "close-style, server answers Connection: close" 20 20 "$CL/blocking" --host 127.0.0.1 --port "$SERVER_PORT" \
	--requests 20 --connection-close --read-to-eof --path /close/100
# Drain: the program closes with the body unread; keepwarm reads it away.
run_both "close before reading the body (drain)" 20 1 "$CL/blocking" --host 127.0.0.1 --port "$SERVER_PORT" \
	--requests 20 --path /gen/20000 --close-after-headers
stop_server
finish
