#!/usr/bin/env bash
# sanitize.sh BUILD_DIR - the library under AddressSanitizer and
# UndefinedBehaviorSanitizer. Builds BUILD_DIR/asan (make asan, mk/sanitize.mk),
# runs every unit test built with the sanitizers, then runs our C clients and
# real programs (python3 urllib and http.client, ab) against kwtestd with the
# sanitized library preloaded. The programs are not instrumented, so the
# sanitizer runtimes are preloaded first. Each run must exit 0, the server must
# see the connection counts clients.sh expects, and stderr must hold no
# sanitizer report. Leaks of the host program are not checked
# (detect_leaks=0); the unit tests are checked for leaks.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: sanitize.sh BUILD_DIR}" && pwd)
# shellcheck disable=SC2034  # read by lib.sh
KW_TMP_NAME=kw-sanitize
# shellcheck disable=SC1091
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ASAN_DIR=$BUILD_DIR/asan
LIB=$ASAN_DIR/libkeepwarm.so
CL=$BUILD_DIR/clients
PY=/usr/bin/python3
REPORT_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY:'
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Indented detail lines (never taken for PASS/FAIL or the summary line).
details() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "    | $(basename "$f"):"
		head -n 40 "$f" | sed 's/^/    |   /'
	done
}

# reports FILE: the sanitizer report lines in FILE (none: empty, status 1).
reports() { grep -E "$REPORT_RE" "$1"; }

# --- build (BUILD relative to the tree when it is inside it, as make spells
# it, so the dependency files' target names match)
MAKE_BUILD=$BUILD_DIR
case $BUILD_DIR in "$ROOT"/*) MAKE_BUILD=${BUILD_DIR#"$ROOT"/} ;; esac
# (Not the calling make's MAKEFLAGS: its jobserver is not ours.)
setup "make asan: $LIB and the unit tests built with -fsanitize=address,undefined" \
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -C "$ROOT" -j2 BUILD="$MAKE_BUILD" asan ||
	{ finish; exit; }

# --- unit tests, instrumented (with leak checking: the code is all ours)
SECONDS=0
for t in "$ASAN_DIR"/unit/test_*; do
	case $t in *.d) continue ;; esac
	[ -x "$t" ] || continue
	name=unit/$(basename "$t")
	# CK_FORK=no: one process per suite, not per test (a fork under ASan
	# is slow: test_http_track takes 65 s forking, 18 s not).
	CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1 timeout -k 5 120 "$t" \
		>"$KW_TMP/unit.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && ! reports "$KW_TMP/unit.out" >/dev/null; then
		pass "$name under ASan/UBSan: $(grep -E '^[0-9]+%: Checks' "$KW_TMP/unit.out")"
	else
		fail "$name under ASan/UBSan: rc=$rc"
		details "$KW_TMP/unit.out"
	fi
done

echo "    | unit tests: ${SECONDS}s"
SECONDS=0
# --- programs with the sanitized library preloaded
ASAN_RT=$(gcc -print-file-name=libasan.so)
UBSAN_RT=$(gcc -print-file-name=libubsan.so)
PRELOAD="$ASAN_RT $UBSAN_RT $LIB"
SAN_ENV=(LD_PRELOAD="$PRELOAD" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1)

# The reports are found: the preloaded runtime catches a double free in an
# uninstrumented program (its malloc is ASan's), and the grep sees it.
(env "${SAN_ENV[@]}" "$PY" -c '
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
p = libc.malloc(16); libc.free(p); libc.free(p)' >/dev/null 2>"$KW_TMP/control.err"; exit $?) 2>/dev/null
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'ERROR: AddressSanitizer: attempting double-free' "$KW_TMP/control.err"; then
	pass "control: a deliberate double free under the preloaded runtime is reported (rc=$rc)"
else
	fail "control: a deliberate double free was not reported (rc=$rc)"
	details "$KW_TMP/control.err"
fi

# run NAME WANT "SERVER_OPTS" [NAME=value...] -- CMD... : CMD may use @PORT@;
# a fresh kwtestd with SERVER_OPTS; WANT is the number of connections the
# server must accept (a count or LO-HI). If OUT_RE is set, a line of CMD's
# stdout must match it (an ERE).
OUT_RE=
run() {
	local name=$1 want=$2 sopts=$3 rc got
	shift 3
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	# shellcheck disable=SC2086  # server options are plain words
	start_server $sopts || return
	local args=() a
	for a in "$@"; do args+=("${a//@PORT@/$SERVER_PORT}"); done
	rm -f "$KW_TMP/trace" "$KW_TMP"/stats.*
	timeout -k 5 120 env "${SAN_ENV[@]}" KEEPWARM_TRACE="$KW_TMP/trace" \
		KEEPWARM_STATS="$KW_TMP/stats.%p" "${envs[@]}" "${args[@]}" \
		>"$KW_TMP/out" 2>"$KW_TMP/err" </dev/null
	rc=$?
	stop_server
	got=$(server_conns)
	local lo=${want%-*} hi=${want#*-} why=""
	if reports "$KW_TMP/err" >/dev/null; then
		why="sanitizer report"
	elif [ "$rc" -ne 0 ]; then
		why="exit $rc"
	elif ! [ "$got" -ge "$lo" ] || ! [ "$got" -le "$hi" ]; then
		why="conns=$got (expected $want)"
	elif [ -n "$OUT_RE" ] && ! grep -Eq "$OUT_RE" "$KW_TMP/out"; then
		why="output does not match /$OUT_RE/"
	fi
	if [ -z "$why" ]; then
		pass "$name: exit 0, conns=$got (expected $want), no sanitizer report"
	else
		fail "$name: $why"
		details "$KW_TMP/err" "$KW_TMP/out"
	fi
}

N=20
H=(--host 127.0.0.1 --port @PORT@)
c() { local name=$1; shift; echo "clients/$name $*"; }

# Reusable exchanges: one connection for all N.
for client in blocking nonblock_poll epoll_before epoll_et sysclose; do
	run "$(c $client /gen/1000)" 1 "" -- "$CL/$client" "${H[@]}" --requests $N --path /gen/1000
	run "$(c $client /chunked/5000)" 1 "" -- "$CL/$client" "${H[@]}" --requests $N --path /chunked/5000
done
run "$(c blocking /slow/3000)" 1 "" -- "$CL/blocking" "${H[@]}" --requests $N --path /slow/3000
run "$(c blocking HEAD /gen/100)" 1 "" -- "$CL/blocking" "${H[@]}" --requests $N --method HEAD --path /gen/100
run "$(c blocking /continue/100)" 1 "" -- "$CL/blocking" "${H[@]}" --requests $N --path /continue/100
run "$(c blocking /status/304)" 1 "" -- "$CL/blocking" "${H[@]}" --requests $N --path /status/304
run "$(c blocking --read-size 7 /chunked/5000)" 1 "" -- "$CL/blocking" "${H[@]}" --requests $N --read-size 7 --path /chunked/5000
run "$(c vectored --use-msg /gen/1000)" 1 "" -- "$CL/vectored" "${H[@]}" --requests $N --use-msg --path /gen/1000
run "$(c vectored --use-msg /chunked/5000)" 1 "" -- "$CL/vectored" "${H[@]}" --requests $N --use-msg --path /chunked/5000
run "$(c peeker --peek-bytes 1 /chunked/5000)" 1 "" -- "$CL/peeker" "${H[@]}" --requests $N --peek-bytes 1 --path /chunked/5000
run "$(c epoll_et --epoll-del /chunked/5000)" 1 "" -- "$CL/epoll_et" "${H[@]}" --requests $N --epoll-del --path /chunked/5000
run "$(c epoll_before --epoll-per-request)" 1 "" -- "$CL/epoll_before" "${H[@]}" --requests $N --epoll-per-request --path /gen/1000
run "$(c fd_semantics /gen/100)" 1 "" -- "$CL/fd_semantics" "${H[@]}" --path /gen/100
run "$(c blocking /gen/1000 over IPv6)" 1 "--ipv6" -- "$CL/blocking" --host ::1 --port @PORT@ --requests $N --path /gen/1000

# Threads, fork, stdio, dup.
run "$(c threads 8x100 /gen/100)" 1-8 "" -- "$CL/threads" "${H[@]}" --threads 8 --requests 100 --path /gen/100
run "$(c forker /gen/1000)" 2 "" -- "$CL/forker" "${H[@]}" --requests $N --path /gen/1000
run "$(c fdopen_client /gen/1000)" $N "" -- "$CL/fdopen_client" "${H[@]}" --requests $N --path /gen/1000
run "$(c dup_client /chunked/5000)" $N "" -- "$CL/dup_client" "${H[@]}" --requests $N --path /chunked/5000

# Close-style requests, upgraded; end-of-file where the response ends.
for client in blocking nonblock_poll epoll_et vectored; do
	run "$(c $client --connection-close --read-to-eof)" 1 "" -- "$CL/$client" "${H[@]}" --requests $N --connection-close --read-to-eof --path /gen/1000
	run "$(c $client --http10 --read-to-eof)" 1 "" -- "$CL/$client" "${H[@]}" --requests $N --http10 --read-to-eof --path /gen/1000
done
run "$(c blocking --connection-close --read-to-eof /chunked/5000)" 1 "" -- "$CL/blocking" "${H[@]}" --requests $N --connection-close --read-to-eof --path /chunked/5000
# Not reusable: server closes, body to EOF, junk after the body.
run "$(c blocking /close/100)" $N "" -- "$CL/blocking" "${H[@]}" --requests $N --path /close/100
run "$(c blocking --http10 --read-to-eof /http10/100)" $N "" -- "$CL/blocking" "${H[@]}" --requests $N --http10 --read-to-eof --path /http10/100
run "$(c blocking /extra/100)" $N "" -- "$CL/blocking" "${H[@]}" --requests $N --path /extra/100
run "$(c blocking --close-after-headers /gen/20000) (drain)" 1 "" -- "$CL/blocking" "${H[@]}" --requests $N --close-after-headers --path /gen/20000

# POST: never on a reused connection by default; KEEPWARM_REUSE=always allows it.
run "$(c blocking POST /gen/100)" $N "" -- "$CL/blocking" "${H[@]}" --requests $N --method POST --body-bytes 100 --path /gen/100
run "$(c vectored --use-msg POST /gen/100)" $N "" -- "$CL/vectored" "${H[@]}" --requests $N --use-msg --method POST --body-bytes 100 --path /gen/100
run "$(c blocking POST /gen/100) {KEEPWARM_REUSE=always}" 1 "" KEEPWARM_REUSE=always -- "$CL/blocking" "${H[@]}" --requests $N --method POST --body-bytes 100 --path /gen/100

# Faults: idle closes (FIN, RST) before the next request, a reset on reuse
# (replayed), a server that closes after every 3rd request.
for client in blocking nonblock_poll epoll_et; do
	run "$(c $client --sleep-ms 100) [server --idle-close 50]" 10 "--idle-close 50" -- "$CL/$client" "${H[@]}" --requests 10 --sleep-ms 100 --path /gen/1000
	run "$(c $client --sleep-ms 100) [server --idle-rst 50]" 10 "--idle-rst 50" -- "$CL/$client" "${H[@]}" --requests 10 --sleep-ms 100 --path /gen/1000
done
run "$(c blocking 200 GETs) [server --rst-on-request 2]" 200 "--rst-on-request 2" -- "$CL/blocking" "${H[@]}" --requests 200 --path /gen/100
run "$(c epoll_et 200 GETs) [server --rst-on-request 2]" 200 "--rst-on-request 2" -- "$CL/epoll_et" "${H[@]}" --requests 200 --path /gen/200
run "$(c blocking --connection-close --read-to-eof) [server --rst-on-request 2]" 100 "--rst-on-request 2" -- "$CL/blocking" "${H[@]}" --requests 100 --connection-close --read-to-eof --path /gen/100
run "$(c threads 4x50 --sleep-ms 20) [server --idle-close 20]" 4-200 "--idle-close 20" -- "$CL/threads" "${H[@]}" --threads 4 --requests 50 --sleep-ms 20 --path /gen/1000
run "$(c blocking) [server --max-requests 3]" $(((N + 2) / 3)) "--max-requests 3" -- "$CL/blocking" "${H[@]}" --requests $N --path /gen/1000

# Real programs.
cat >"$KW_TMP/fetch_urllib.py" <<'PYEOF'
import hashlib, sys, urllib.request
port, n = sys.argv[1], int(sys.argv[2])
h = hashlib.sha256()
for i in range(n):
    with urllib.request.urlopen("http://127.0.0.1:%s/gen/5000?u=%d" % (port, i)) as r:
        b = r.read()
        assert r.status == 200 and len(b) == 5000, (r.status, len(b))
        h.update(b)
print("ok", n, h.hexdigest())
PYEOF
cat >"$KW_TMP/fetch_httpclient.py" <<'PYEOF'
import http.client, sys
port, n, method = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for i in range(n):
    c = http.client.HTTPConnection("127.0.0.1", port)
    if method == "POST":
        c.request("POST", "/gen/300", body=b"x" * 100)
    else:
        c.request("GET", "/chunked/5000?u=%d" % i)
    r = c.getresponse()
    b = r.read()
    assert r.status == 200 and len(b) == (300 if method == "POST" else 5000), (r.status, len(b))
    c.close()
print("ok", n)
PYEOF
OUT_RE='^ok 50 '
run "python3 urllib, 50 requests" 1 "" -- "$PY" "$KW_TMP/fetch_urllib.py" @PORT@ 50
OUT_RE='^ok 50$'
run "python3 http.client, a new HTTPConnection per request, 50 GETs" 1 "" -- "$PY" "$KW_TMP/fetch_httpclient.py" @PORT@ 50 GET
OUT_RE='^ok 10$'
run "python3 http.client, 10 POSTs" 10 "" -- "$PY" "$KW_TMP/fetch_httpclient.py" @PORT@ 10 POST
OUT_RE='^Complete requests: +500$'
run "ab -n 500 -c 4 (HTTP/1.0, no keep-alive)" 1-4 "" -- ab -n 500 -c 4 http://127.0.0.1:@PORT@/gen/1000
if ! grep -Eq '^Failed requests: +0$' "$KW_TMP/out"; then
	fail "ab -n 500 -c 4: $(grep -E '^Failed requests' "$KW_TMP/out")"
fi
OUT_RE=
echo "    | programs: ${SECONDS}s"
finish
