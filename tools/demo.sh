#!/usr/bin/env bash
# demo.sh BUILD_DIR - one legacy client, 20 requests, without and with keepwarm.
#
# The client is Debian's python3 opening a fresh http.client.HTTPConnection per
# request (a common legacy idiom). The server is BUILD_DIR/kwtestd; its log
# tells how many TCP connections it accepted in each arm.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD_DIR=$(cd "$1" && pwd)
LIB=$BUILD_DIR/libkeepwarm.so
SERVER=$BUILD_DIR/kwtestd
PY=/usr/bin/python3
N=20
SIZE=10000

for f in "$LIB" "$SERVER" "$PY"; do
	[ -e "$f" ] || { echo "demo: $f is missing (run make first)" >&2; exit 1; }
done

# A scratch directory and a clean environment; SERVER_PID is stopped at exit.
KW_TMP_NAME=kw-demo
# shellcheck source=SCRIPTDIR/../tests/common/lib.sh
. "$(dirname "$0")/../tests/common/lib.sh"
clear_shim_env
TMP=$KW_TMP

LOG=$TMP/server.log
"$SERVER" --port 0 --port-file "$TMP/port" --log "$LOG" 2>"$TMP/server.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 100); do   # up to 10 s
	if [ -s "$TMP/port" ] && grep -q $'\n' "$TMP/port" 2>/dev/null; then
		PORT=$(tr -dc '0-9' <"$TMP/port")
		break
	fi
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$PORT" ]; then
	echo "demo: kwtestd did not start" >&2
	cat "$TMP/server.err" >&2 || true
	exit 1
fi

cat >"$TMP/client.py" <<'EOF'
# Legacy idiom: a new HTTPConnection per request, closed after the body is read.
import http.client, sys
host, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
alphabet = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
want = bytes(alphabet[(i * 7 + size + i // 61) % len(alphabet)] for i in range(size))
for i in range(n):
    conn = http.client.HTTPConnection(host, port)
    conn.request("GET", "/gen/%d" % size)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200 or body != want:
        sys.exit("request %d: status %d, %d bytes, body %s" %
                 (i, resp.status, len(body), "ok" if body == want else "wrong"))
EOF

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
log_lines() { if [ -f "$LOG" ]; then wc -l <"$LOG"; else echo 0; fi; }

# run_arm without|with -> prints "arm requests connections ms"
run_arm() {
	local arm=$1 before t0 t1 rc=0 accepts
	before=$(log_lines)
	t0=$(now_ms)
	if [ "$arm" = with ]; then
		env LD_PRELOAD="$LIB" KEEPWARM_TRACE="$TMP/trace" \
			timeout 60 "$PY" "$TMP/client.py" 127.0.0.1 "$PORT" "$N" "$SIZE" || rc=$?
	else
		timeout 60 "$PY" "$TMP/client.py" 127.0.0.1 "$PORT" "$N" "$SIZE" || rc=$?
	fi
	t1=$(now_ms)
	if [ "$rc" -ne 0 ]; then
		echo "demo: client ($arm shim) failed with status $rc" >&2
		return 1
	fi
	sleep 0.1   # let the server log the last close
	accepts=$(tail -n "+$((before + 1))" "$LOG" | grep -c '^accept ' || true)
	printf '%-18s %8d %12d %9d\n' "$arm keepwarm" "$N" "$accepts" $((t1 - t0))
}

echo "python3 http.client, a new HTTPConnection per request, GET /gen/$SIZE from kwtestd on 127.0.0.1:$PORT"
echo
printf '%-18s %8s %12s %9s\n' arm requests connections "wall ms"
run_arm without
run_arm with
echo
echo "Without keepwarm every request dials a new TCP connection; with it, close() parks the"
echo "clean keep-alive connection and the next connect() to the same address gets it back."
echo
echo "Trace of the keepwarm run (KEEPWARM_TRACE, first lines):"
if [ -s "$TMP/trace" ]; then
	head -n 6 "$TMP/trace" | sed 's/^/  /'
	echo "  ... ($(wc -l <"$TMP/trace") lines)"
else
	echo "  (empty)"
fi
