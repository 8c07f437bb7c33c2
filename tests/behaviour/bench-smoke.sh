#!/usr/bin/env bash
# bench-smoke.sh BUILD_DIR - the benchmark's smoke mode (tools/bench/run.sh
# --smoke): every scenario once with tiny counts, to check that the benchmark
# still works. Passes when it exits 0, prints the Markdown table with rows for
# every scenario, and writes the CSV. Timings are not checked (tiny counts on a
# shared machine mean nothing). Takes a few seconds; bounded to 60 s.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD_DIR=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# pass/fail/finish; the scratch directory $KW_TMP (/tmp/kw-bench-smoke.*) is
# removed at exit by lib.sh's EXIT trap (no kwtestd is started here).
# shellcheck disable=SC2034  # read by lib.sh
KW_TMP_NAME=kw-bench-smoke
# shellcheck source=SCRIPTDIR/../common/lib.sh
. "$(dirname "$0")/../common/lib.sh"
TMP=$KW_TMP

# The benchmark programs are not part of a plain `make`: built here (setup).
MAKE_BUILD=$BUILD_DIR
case $BUILD_DIR in "$ROOT"/*) MAKE_BUILD=${BUILD_DIR#"$ROOT"/} ;; esac
setup "the benchmark programs built (make bench-tools)" env -u MAKEFLAGS -u MFLAGS \
	make -C "$ROOT" --no-print-directory BUILD="$MAKE_BUILD" lib bench-tools || { finish; exit; }

rc=0
# run.sh stops every server it started (by pid) however it ends; SIGTERM from
# timeout reaches bench.py, which cleans up before exiting.
timeout -k 5 60 "$ROOT/tools/bench/run.sh" --smoke --build "$BUILD_DIR" --out "$TMP" \
	>"$TMP/out" 2>"$TMP/err" || rc=$?
if [ "$rc" -eq 0 ]; then
	pass "run.sh --smoke exits 0"
else
	fail "run.sh --smoke exits 0 (exit $rc)"
	tail -n 15 "$TMP/err" | sed 's/^/    /'
fi

if grep -q '^| Scenario | Setup | Arm | Result | Compared | Goal |$' "$TMP/out" &&
   grep -q '^|---|---|---|---|---|---|$' "$TMP/out"; then
	pass "prints a Markdown table"
else
	fail "prints a Markdown table"
fi
for s in "1 sequential" "2 proxy" "RTT emulation" "3 concurrency" "4 bulk" "4 per-call" "5 scale" \
	"8 process per request" "8 handoff" "9 system calls"; do
	if grep -q "^| $s | " "$TMP/out"; then
		pass "table has rows for '$s'"
	else
		fail "table has rows for '$s'"
	fi
done
if grep -q '^Machine: Linux ' "$TMP/out"; then
	pass "prints the machine line"
else
	fail "prints the machine line"
fi

csv=$TMP/results-smoke.csv
rows=$(grep -c '^| [0-9R]' "$TMP/out" || true)
if [ -s "$csv" ] && [ "$(head -n 1 "$csv" | cut -d, -f1-5)" = "scenario,setup,arm,value,unit" ] &&
   [ "$(/usr/bin/python3 -c 'import csv, sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1]))))' "$csv")" = "$rows" ]; then
	pass "writes the CSV, one line per table row ($rows)"
else
	fail "writes the CSV, one line per table row ($rows)"
fi

# Nothing left listening: every server was stopped by its pid.
left=$(ps -eo pid=,args= | grep -E "$TMP|kw-bench\.|bench/(delayproxy|benchserv)" | grep -v grep || true)
if [ -z "$left" ]; then
	pass "no benchmark server left running"
else
	fail "no benchmark server left running: $left"
fi
finish
exit
