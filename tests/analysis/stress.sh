#!/usr/bin/env bash
# stress.sh BUILD_DIR - one pool, many threads, under ThreadSanitizer.
# BUILD_DIR/tsan/stress (tests/stress/stress.c, built with -fsanitize=thread
# by mk/stress.mk) runs 16 threads x 1,000 requests over 4 kwtestd servers,
# a new socket per request, with the library built with -fsanitize=thread
# preloaded and idle caps small enough that connections are parked, evicted,
# expired and handed from thread to thread all the time; a thread forks every
# 50 ms and each child makes 2 requests. Checks: no ThreadSanitizer report,
# every body byte for byte, exit 0, and the servers saw exactly the requests
# made, on no more connections than that. About 10 s on 2 cores.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: stress.sh BUILD_DIR}" && pwd)
KW_TMP_NAME=kw-stress
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
REPO=$(cd "$(dirname "$0")/../.." && pwd)

THREADS=${STRESS_THREADS:-16}
REQUESTS=${STRESS_REQUESTS:-1000}
DESTS=4
TLIB=$BUILD_DIR/tsan/libkeepwarm.so
PROG=$BUILD_DIR/tsan/stress

# BUILD as make spells it (relative inside the tree), so the dependency files'
# target names match; not the calling make's MAKEFLAGS (its jobserver).
MAKE_BUILD=$BUILD_DIR
case $BUILD_DIR in "$REPO"/*) MAKE_BUILD=${BUILD_DIR#"$REPO"/} ;; esac
setup "the TSan library and stress program built" env -u MAKEFLAGS -u MFLAGS \
	make -C "$REPO" --no-print-directory BUILD="$MAKE_BUILD" tsan-lib "$MAKE_BUILD/tsan/stress" ||
	{ finish; exit; }

# Four servers, one port each.
PIDS=()
LOGS=()
PORT_ARGS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	PIDS=()
}
trap 'stop_all; cleanup_lib' EXIT
for _ in $(seq "$DESTS"); do
	start_server || { finish; exit; }
	PIDS+=("$SERVER_PID")
	LOGS+=("$SERVER_LOG")
	PORT_ARGS+=(--port "$SERVER_PORT")
	SERVER_PID=
done

TRACE=$KW_TMP/trace.log
run_stress() {
	env KEEPWARM_MAX_IDLE=6 KEEPWARM_MAX_IDLE_PER_HOST=2 KEEPWARM_IDLE_TIMEOUT=20ms \
		KEEPWARM_TRACE="$TRACE" TSAN_OPTIONS="${TSAN_OPTIONS:-} halt_on_error=0" \
		LD_PRELOAD="$TLIB" timeout -k 10 220 "$@" "$PROG" "${PORT_ARGS[@]}" \
		--threads "$THREADS" --requests "$REQUESTS" --fork-ms 50 --sleepers 4 --expire-ms 25 \
		>"$KW_TMP/out" 2>"$KW_TMP/err"
}
start=$(date +%s)
run_stress
rc=$?
# Some kernels' address-space layouts do not suit TSan: run it without ASLR.
if grep -q 'unexpected memory mapping' "$KW_TMP/err"; then
	echo "# TSan: unexpected memory mapping; running again under setarch -R"
	rm -f "$TRACE"
	for l in "${LOGS[@]}"; do : >"$l"; done
	run_stress setarch "$(uname -m)" -R
	rc=$?
fi
secs=$(( $(date +%s) - start ))
line=$(grep '^requests=' "$KW_TMP/out" | tail -n 1)
echo "# $THREADS threads x $REQUESTS requests over $DESTS servers, forking every 50 ms: ${secs}s"
echo "# $line"

field() { sed -nE "s/.*(^| )$1=([0-9]+).*/\\2/p" <<<"$line"; }

reports=$(grep -c 'WARNING: ThreadSanitizer' "$KW_TMP/err" || true)
if [ "$reports" -eq 0 ] && ! grep -q 'ThreadSanitizer' "$KW_TMP/err"; then
	pass "no ThreadSanitizer report"
else
	fail "ThreadSanitizer: $reports report(s):"
	grep -B2 -A40 'ThreadSanitizer' "$KW_TMP/err" | head -200
fi

if [ "$rc" -eq 0 ]; then
	pass "stress exits 0"
else
	fail "stress exited $rc: $(grep -v ThreadSanitizer "$KW_TMP/err" | head -c 1500)"
fi

made=$(field requests)
failures=$(field failures)
children=$(field children)
child_failed=$(field children_failed)
if [ -n "$made" ] && [ "$(field parent)" = $((THREADS * REQUESTS)) ] && [ "$failures" = 0 ]; then
	pass "all $((THREADS * REQUESTS)) requests made by the threads: status, headers and bodies byte for byte"
else
	fail "requests or bodies wrong: ${line:-no summary line}"
fi
if [ -n "$children" ] && [ "$children" -gt 0 ] && [ "$child_failed" = 0 ] &&
	[ "$(field child_requests)" = $((2 * children)) ]; then
	pass "$children fork children made 2 requests each and exited 0"
else
	fail "fork children: ${line:-no summary line}"
fi

served=$(cat "${LOGS[@]}" | grep -c '^request ' || true)
conns=$(cat "${LOGS[@]}" | grep -c '^accept ' || true)
if [ -n "$made" ] && [ "$served" -eq "$made" ]; then
	pass "servers logged $served requests, as many as were made"
else
	fail "servers logged $served requests, ${made:-?} were made"
fi
if [ -n "$made" ] && [ "$conns" -ge 1 ] && [ "$conns" -le "$made" ]; then
	pass "$conns connections for $made requests"
else
	fail "$conns connections for ${made:-?} requests"
fi

# The caps did what they are there for: every pool path was taken.
missing=
for ev in park reuse evict expire dial; do
	n=$(grep -c "event=$ev " "$TRACE" 2>/dev/null || true)
	[ "${n:-0}" -gt 0 ] || missing="$missing $ev"
	printf -v "n_$ev" '%s' "${n:-0}"
done
if [ -z "$missing" ]; then
	pass "the pool parked $n_park, reused $n_reuse, evicted $n_evict, expired $n_expire"
else
	fail "trace lacks events:$missing"
fi

finish
