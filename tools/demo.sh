#!/usr/bin/env bash
# demo.sh BUILD_DIR - one legacy client through an emulated 10 ms link,
# without and with keepwarm.
#
# The client is Debian's python3 opening a fresh http.client.HTTPConnection per
# request (a common legacy idiom), 20 requests. The server is BUILD_DIR/kwtestd
# (its log tells how many TCP connections it accepted in each arm), reached
# through BUILD_DIR/bench/delayproxy (each direction delayed RTT/2) with
# bench/connectdelay.so charging every real connect() one RTT, as a TCP
# handshake over a real link would: on loopback there is no round trip to save,
# and python's start-up would hide the difference. Both arms run with the
# library loaded and a stats file; the control arm has KEEPWARM=off, which
# measures and never reuses. Takes a few seconds.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD_DIR=$(cd "$1" && pwd)
LIB=$BUILD_DIR/libkeepwarm.so
SERVER=$BUILD_DIR/kwtestd
PROXY=$BUILD_DIR/bench/delayproxy
DELAY=$BUILD_DIR/bench/connectdelay.so
STAT=$BUILD_DIR/keepwarm-stat
PY=/usr/bin/python3
N=20
SIZE=10000
RTT_MS=10

for f in "$LIB" "$SERVER" "$PROXY" "$DELAY" "$STAT" "$PY"; do
	[ -e "$f" ] || { echo "demo: $f is missing (run make demo)" >&2; exit 1; }
done

# A scratch directory and a clean environment; the servers are stopped at exit.
KW_TMP_NAME=kw-demo
# shellcheck source=SCRIPTDIR/../tests/common/lib.sh
. "$(dirname "$0")/../tests/common/lib.sh"
clear_shim_env
export HOME=$KW_TMP/home # no keepwarm.conf of the user's
mkdir -p "$HOME"
TMP=$KW_TMP
PROXY_PID=
trap 'stop_pid "$PROXY_PID"; cleanup_lib' EXIT

# wait_port FILE PID: the port a server wrote to FILE, once it is listening.
wait_port() {
	for _ in $(seq 100); do   # up to 10 s
		if [ -s "$1" ] && grep -q $'\n' "$1" 2>/dev/null; then
			tr -dc '0-9' <"$1"
			return 0
		fi
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

LOG=$TMP/server.log
"$SERVER" --port 0 --port-file "$TMP/port" --log "$LOG" 2>"$TMP/server.err" &
SERVER_PID=$!
SERVER_PORT=$(wait_port "$TMP/port" "$SERVER_PID") ||
	{ echo "demo: kwtestd did not start" >&2; cat "$TMP/server.err" >&2; exit 1; }
"$PROXY" --listen-port 0 --port-file "$TMP/proxy.port" --target-port "$SERVER_PORT" \
	--rtt-ms "$RTT_MS" --handshake-in-connect 2>"$TMP/proxy.err" &
PROXY_PID=$!
PORT=$(wait_port "$TMP/proxy.port" "$PROXY_PID") ||
	{ echo "demo: delayproxy did not start" >&2; cat "$TMP/proxy.err" >&2; exit 1; }

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

log_lines() { if [ -f "$LOG" ]; then wc -l <"$LOG"; else echo 0; fi; }
# The value of a compare row's column (2: A, 3: B).
cell() { awk -v what="$1" -v col="$2" '{ $1 = $1 } index($0, what " ") == 1 {
	n = split(substr($0, length(what) + 2), f, " "); print f[col - 1] }' "$TMP/compare"; }

# run_arm off|on: the client with the library, its stats file in $TMP/ARM/.
declare -A CONNS
run_arm() {
	local arm=$1 before rc=0
	mkdir -p "$TMP/$arm"
	before=$(log_lines)
	# keepwarm first in LD_PRELOAD, so its own dials pay the handshake too.
	timeout 60 env LD_PRELOAD="$LIB:$DELAY" CONNECT_DELAY_MS=$RTT_MS KEEPWARM="$arm" \
		KEEPWARM_STATS="$TMP/$arm/%p.prom" KEEPWARM_TRACE="$TMP/$arm.trace" \
		"$PY" "$TMP/client.py" 127.0.0.1 "$PORT" "$N" "$SIZE" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "demo: client (keepwarm $arm) failed with status $rc" >&2
		return 1
	fi
	sleep 0.1   # let the server log the last close
	CONNS[$arm]=$(tail -n "+$((before + 1))" "$LOG" | grep -c '^accept ' || true)
}

run_arm off
run_arm on
"$STAT" compare "$TMP/off" "$TMP/on" >"$TMP/compare"

echo "python3 http.client, a new HTTPConnection per request, $N x GET /gen/$SIZE from kwtestd,"
echo "through an emulated ${RTT_MS} ms round trip (tools/bench/delayproxy; connect() pays one"
echo "round trip, as a TCP handshake would)."
echo
printf '%-16s %10s %13s %17s %11s\n' arm requests connections "ms per request" "run time"
printf '%-16s %10s %13s %17s %11s\n' "without reuse" "$N" "${CONNS[off]}" "$(cell 'latency p50' 2)" \
	"$(cell 'job time' 2)"
printf '%-16s %10s %13s %17s %11s\n' "with keepwarm" "$N" "${CONNS[on]}" "$(cell 'latency p50' 3)" \
	"$(cell 'job time' 3)"
echo
echo "(connections: as the server counted them; ms per request: the median wait from the"
echo "program's connect() to the response's last byte; run time: the python process's, start"
echo "to exit, python's own start-up included.)"
echo
echo "Without keepwarm every request dials a new TCP connection and waits a round trip for"
echo "it; with it, close() parks the clean keep-alive connection and the next connect() to"
echo "the same address gets it back at once. The A/B report (keepwarm-stat compare off on):"
echo
sed -n '1,5p' "$TMP/compare" | sed 's/^/  /'
echo
echo "Trace of the keepwarm run (KEEPWARM_TRACE, first lines):"
if [ -s "$TMP/on.trace" ]; then
	head -n 6 "$TMP/on.trace" | sed 's/^/  /'
	echo "  ... ($(wc -l <"$TMP/on.trace") lines)"
else
	echo "  (empty)"
fi
