#!/usr/bin/env bash
# examples.sh BUILD_DIR - README.md's worked examples and `make demo` run as
# written (on free ports instead of 8080 and 8081), their output checked by
# shape: connection counts, table rows, trace events, never timings. And
# examples/keepwarm.conf lists every setting at its default.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: examples.sh BUILD_DIR}" && pwd -P)
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
KW_TMP_NAME=kw-examples
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
export HOME=$KW_TMP/home # no keepwarm.conf of the user's
mkdir -p "$HOME"
TMP=$KW_TMP
KW=$BUILD_DIR/keepwarm
KS=$BUILD_DIR/keepwarm-stat
EX=$ROOT/examples
PY=/usr/bin/python3
PROXY_PID=
trap 'stop_pid "$PROXY_PID"; cleanup_lib' EXIT

MAKE_BUILD=$BUILD_DIR
case $BUILD_DIR in "$ROOT"/*) MAKE_BUILD=${BUILD_DIR#"$ROOT"/} ;; esac
setup "what the examples use built (make, make bench-tools)" env -u MAKEFLAGS -u MFLAGS \
	make -C "$ROOT" --no-print-directory BUILD="$MAKE_BUILD" lib tools tests bench-tools ||
	{ finish; exit; }

squeezed() { awk '{ $1 = $1; print }' "$1"; }
has_row() { # NAME FILE REGEX-OF-A-SQUEEZED-ROW
	if squeezed "$2" | grep -qE -- "^$3\$"; then pass "$1"; else
		fail "$1: no row like '$3' in: $(squeezed "$2" | head -n 12 | tr '\n' '|')"
	fi
}

# ---- make demo: through the emulated link, both arms, under 30 s by design
timeout 60 "$ROOT/tools/demo.sh" "$BUILD_DIR" >"$TMP/demo" 2>&1
rc=$?
[ "$rc" -eq 0 ] && pass "make demo's script exits 0" || fail "demo.sh: exit $rc: $(tail -n 5 "$TMP/demo")"
has_row "demo: without reuse, 20 requests on 20 connections" "$TMP/demo" \
	'without reuse 20 20 [0-9.]+ms [0-9.]+m?s'
has_row "demo: with keepwarm, 20 requests on 1 connection" "$TMP/demo" \
	'with keepwarm 20 1 [0-9.]+ms [0-9.]+m?s'
grep -q 'emulated 10 ms round trip' "$TMP/demo" && pass "demo: says which RTT it emulated" ||
	fail "demo: no RTT stated"
has_row "demo: shows the A/B report's wait line" "$TMP/demo" \
	'latency p50 [0-9.]+ms [0-9.]+ms -[0-9.]+ms -[0-9.]+% (\[[^ ]*\]|-)'

# ---- the test server, as README starts it (a free port here)
start_server || { finish; exit; }
PORT=$SERVER_PORT
accepts() { grep -c '^accept ' "$SERVER_LOG"; }

# Wrapping a legacy program: 20 connections without, 1 with.
before=$(accepts)
timeout 60 "$PY" "$EX/fetch.py" 20 "$PORT" || fail "fetch.py without keepwarm: exit $?"
sleep 0.1
[ $(($(accepts) - before)) -eq 20 ] && pass "fetch.py 20 without keepwarm: 20 connections" ||
	fail "fetch.py without keepwarm: $(($(accepts) - before)) connections"
before=$(accepts)
(cd "$TMP" && timeout 60 "$KW" --trace kw.log -- "$PY" "$EX/fetch.py" 20 "$PORT")
rc=$?
sleep 0.1
[ "$rc" -eq 0 ] && [ $(($(accepts) - before)) -eq 1 ] &&
	pass "keepwarm --trace kw.log -- python3 examples/fetch.py 20: exit 0, 1 connection" ||
	fail "wrapped fetch.py: exit $rc, $(($(accepts) - before)) connections"

# Debugging connection behaviour: the trace's first events, then the summary.
# The broker the launcher started writes its broker-* lines in the same file.
events=$(grep -v ' event=broker-' "$TMP/kw.log" | head -n 8 | sed -n 's/.* event=\([a-z]*\).*/\1/p' | tr '\n' ' ')
[ "$events" = "start redirect dial upgrade request park eof reuse " ] &&
	pass "kw.log opens as README shows: $events" || fail "kw.log events: $events"
"$KS" summary "$TMP/kw.log" >"$TMP/summary" 2>&1
has_row "keepwarm-stat summary kw.log: 20 requests, 1 dialed, 19 reused" "$TMP/summary" \
	"127\\.0\\.0\\.1:$PORT 20 1 19 0\\.950 .*"
(cd "$TMP" && timeout 60 "$KW" --trace dbg.log -- curl -s "http://127.0.0.1:$PORT/extra/10" >/dev/null)
grep -q " event=discard fd=[0-9]* dest=127.0.0.1:$PORT reason=malformed-response requests=[0-9]*$" "$TMP/dbg.log" &&
	pass "curl /extra/10: the discard names its reason (malformed-response)" ||
	fail "dbg.log: $(cat "$TMP/dbg.log")"

# A/B testing through the emulated link: one run per arm here.
"$BUILD_DIR/bench/delayproxy" --listen-port 0 --port-file "$TMP/proxy.port" --target-port "$PORT" \
	--rtt-ms 10 --handshake-in-connect &
PROXY_PID=$!
for _ in $(seq 100); do [ -s "$TMP/proxy.port" ] && break; sleep 0.05; done
PPORT=$(cat "$TMP/proxy.port" 2>/dev/null)
mkdir -p "$TMP/off" "$TMP/on"
for arm in off on; do
	flag=
	[ "$arm" = off ] && flag=--off
	(cd "$TMP" && LD_PRELOAD=$BUILD_DIR/bench/connectdelay.so CONNECT_DELAY_MS=10 \
		timeout 60 "$KW" $flag --stats "$arm/%p.prom" -- "$PY" "$EX/http_fetch.py" "$PPORT") ||
		fail "http_fetch.py, arm $arm: exit $?"
done
(cd "$TMP" && "$KS" compare off on) >"$TMP/compare" 2>&1
has_row "compare off on: the header" "$TMP/compare" 'A \(off\) B \(on\) B-A change 95% interval'
has_row "compare off on: the wait p50 falls" "$TMP/compare" \
	'latency p50 [0-9.]+ms [0-9.]+ms -[0-9.]+ms -[0-9.]+% (\[[^ ]*\]|-)'
has_row "compare off on: job time with no interval for one process per arm" "$TMP/compare" \
	'job time [0-9.]+m?s [0-9.]+m?s -[0-9.]+m?s -[0-9.]+% -'
has_row "compare off on: 30 connections against 1" "$TMP/compare" 'connections 30 1 -29 -96\.7%'

# ---- examples/keepwarm.conf: every setting, commented out at its default
sed 's/^# \(KEEPWARM[A-Z_]* =.*\)$/\1/' "$EX/keepwarm.conf" >"$TMP/uncommented.conf"
KEEPWARM_CONFIG=$TMP/uncommented.conf "$KW" config >"$TMP/cfg" 2>"$TMP/cfg.err"
"$KW" config >"$TMP/defaults" 2>/dev/null
n_from_file=$(grep -c "# $TMP/uncommented.conf:[0-9]*\$" "$TMP/cfg")
n_settings=$(grep -c '^KEEPWARM' "$TMP/defaults")
[ "$n_from_file" -eq "$n_settings" ] && [ ! -s "$TMP/cfg.err" ] &&
	pass "examples/keepwarm.conf names all $n_settings settings, each valid" ||
	fail "keepwarm.conf: $n_from_file of $n_settings settings from the file; $(cat "$TMP/cfg.err")"
if diff <(sed 's/ *#.*//' "$TMP/cfg" | grep '^KEEPWARM') <(sed 's/ *#.*//' "$TMP/defaults" | grep '^KEEPWARM') \
	>"$TMP/cfg.diff"; then
	pass "examples/keepwarm.conf's values are the defaults"
else
	fail "keepwarm.conf values differ from the defaults: $(tr '\n' ' ' <"$TMP/cfg.diff")"
fi

finish
