#!/usr/bin/env bash
# syscalls.sh BUILD_DIR [REQUESTS [ARMS]] - system calls per HTTP request, by name,
# counted with strace -c: what a request costs in calls with and without
# keepwarm, the program's own calls included. Only the program's thread is
# traced (no -f; none of the clients starts a thread or a process): keepwarm's
# helper thread, once it runs, wakes once a second, on no request's path.
#
# Every arm fetches /gen/1000 from a kwtestd of its own, sequentially:
#   reqloop.fresh      tools/bench/reqloop --mode fresh (a connection per
#                      request: socket, connect, write, read, close)
#   reqloop.keep       reqloop --mode keep (one connection: native reuse)
#   reqloop.keepwarm   reqloop --mode fresh under keepwarm: a reused request
#   python.fresh       python3 http.client, a new HTTPConnection per request
#   python.keep        one HTTPConnection for every request
#   python.keepwarm    python.fresh under keepwarm
#   ab.close           ab -c 1 without -k (HTTP/1.0, the server closes)
#   ab.keepwarm        the same under keepwarm: close-style requests upgraded
#                      to keep-alive (socketpair, dup3, epoll re-add)
# A count per request is the difference between a run of REQUESTS + 20
# requests and one of 20, divided by REQUESTS (default 200): start-up and
# exit cost nothing; reqloop and the Python client sleep 30 ms before their
# first request (--pause-ms), so keepwarm's helper thread, started at the
# first park of a process that has run 20 ms, starts in both runs. ARMS, a regular expression, runs only the arms it
# matches (tests/behaviour/hotpath.sh: reqloop.keepwarm). Under keepwarm no
# trace or stats file is written and
# the broker is off (KEEPWARM_BROKER=off), so the counts are the hot path's.
#
# Output, one line per arm and then one per arm and call:
#   ARM total=T
#   ARM NAME=N        (calls per request, two decimals, largest first)
# Exit 0, or 1 when an arm failed (its line says why); 2: strace missing.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: syscalls.sh BUILD_DIR [REQUESTS]}" && pwd -P)
N=${2:-200}
ARMS=${3:-.}
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
LIB=$BUILD_DIR/libkeepwarm.so
BASE=20
command -v strace >/dev/null || { echo "syscalls.sh: strace is not installed" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kw-syscalls.XXXXXX")
SERVER_PID=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

"$BUILD_DIR/kwtestd" --port 0 --port-file "$TMP/port" --log /dev/null &
SERVER_PID=$!
for _ in $(seq 100); do
	[ -s "$TMP/port" ] && break
	sleep 0.05
done
PORT=$(cat "$TMP/port" 2>/dev/null) || { echo "syscalls.sh: kwtestd did not start" >&2; exit 1; }

# counts FILE: "name calls" per line from strace -c's summary.
counts() {
	awk '$NF != "total" && $NF != "syscall" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1"
}

# arm NAME SHIM CMD... (CMD's request count is the word @N@): strace runs of
# BASE and BASE + N requests, their difference per request.
rc=0
arm() {
	local name=$1 shim=$2 n
	shift 2
	[[ $name =~ $ARMS ]] || return 0
	for n in "$BASE" $((BASE + N)); do
		local argv=() w
		for w in "$@"; do argv+=("${w//@N@/$n}"); done
		local envv=(env -u LD_PRELOAD -u KEEPWARM_TRACE -u KEEPWARM_STATS)
		[ "$shim" = with ] && envv+=(LD_PRELOAD="$LIB" KEEPWARM_BROKER=off)
		if ! "${envv[@]}" strace -c -o "$TMP/$name.$n" "${argv[@]}" >"$TMP/$name.out" 2>&1; then
			echo "$name failed: $(tail -n 2 "$TMP/$name.out" | tr '\n' ' ')"
			rc=1
			return
		fi
		counts "$TMP/$name.$n" >"$TMP/$name.$n.c"
	done
	awk -v arm="$name" -v n="$N" '
		FNR == NR { base[$1] = $2; next }
		{ d[$1] = ($2 - base[$1]) / n }
		END {
			for (k in base) if (!(k in d)) d[k] = -base[k] / n
			t = 0
			for (k in d) t += d[k]
			printf "%s total=%.2f\n", arm, t
			for (k in d) if (d[k] >= 0.005 || d[k] <= -0.005) printf "%s %s=%.2f\n", arm, k, d[k] | "sort -t= -k2 -rn"
			close("sort -t= -k2 -rn")
		}' "$TMP/$name.$BASE.c" "$TMP/$name.$((BASE + N)).c"
}

RQ=$BUILD_DIR/bench/reqloop
PYC=$ROOT/tools/bench/pyclient.py
PAUSE=(--pause-ms 30)
arm reqloop.fresh without "$RQ" --port "$PORT" --path /gen/1000 --requests @N@ --mode fresh "${PAUSE[@]}"
arm reqloop.keep without "$RQ" --port "$PORT" --path /gen/1000 --requests @N@ --mode keep "${PAUSE[@]}"
arm reqloop.keepwarm with "$RQ" --port "$PORT" --path /gen/1000 --requests @N@ --mode fresh "${PAUSE[@]}"
arm python.fresh without python3 "$PYC" --port "$PORT" --path /gen/1000 --requests @N@ --mode fresh "${PAUSE[@]}"
arm python.keep without python3 "$PYC" --port "$PORT" --path /gen/1000 --requests @N@ --mode keep "${PAUSE[@]}"
arm python.keepwarm with python3 "$PYC" --port "$PORT" --path /gen/1000 --requests @N@ --mode fresh "${PAUSE[@]}"
if command -v ab >/dev/null; then
	arm ab.close without ab -q -c 1 -n @N@ "http://127.0.0.1:$PORT/gen/1000"
	arm ab.keepwarm with ab -q -c 1 -n @N@ "http://127.0.0.1:$PORT/gen/1000"
else
	echo "ab.close skipped: ab (apache2-utils) is not installed"
fi
exit "$rc"
