#!/usr/bin/env bash
# tools-tls.sh BUILD_DIR - keepwarm-stat on TLS destinations: the tls="1"
# label of stats files and the tls=1 key and tls event of traces
# (docs/formats.md), shown as https://ADDRESS:PORT rows apart from the plain
# destination on the same address and port; hand-checked fixtures in
# tests/fixtures/tls/ (tests/fixtures/README.md gives the arithmetic).
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: tools-tls.sh BUILD_DIR}" && pwd -P)
. "$(dirname "$0")/../common/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
FIX=$ROOT/tests/fixtures/tls
KS=$BUILD_DIR/keepwarm-stat
TMP=$(cd "$KW_TMP" && pwd -P)

run() { "$@" >"$TMP/out" 2>"$TMP/err"; RC=$?; }
squeezed() { awk '{ $1 = $1; print }' "$TMP/out"; }
expect_row() { # NAME EXPECTED-SQUEEZED-LINE
	if squeezed | grep -qxF -- "$2"; then pass "$1"; else
		fail "$1: no line '$2' in: $(squeezed | tr '\n' '|')"
	fi
}
expect_no_row() { # NAME SQUEEZED-LINE-START
	if squeezed | awk -v t="$2" 'index($0, t) == 1 { found = 1 } END { exit !found }'
	then fail "$1: a line '$2...' in: $(squeezed | tr '\n' '|')"; else pass "$1"; fi
}
# A row or compare line without its interval column.
expect_line() {
	if squeezed | awk -v t="$2" '$0 == t || index($0, t " ") == 1 { found = 1 } END { exit !found }'
	then pass "$1"; else fail "$1: no line '$2[ interval]' in: $(squeezed | tr '\n' '|')"; fi
}
expect_clean() { # NAME: exit 0, nothing on stderr
	if [ "$RC" -eq 0 ] && [ ! -s "$TMP/err" ]; then pass "$1"
	else fail "$1: exit $RC, stderr: $(head -c 300 "$TMP/err")"; fi
}
# keep_block HEADING: narrow $TMP/out to one --by-dest block.
keep_block() {
	awk -v h="$1" '$0 == h { on = 1; next } on && (/^destination / || /^warning: /) { on = 0 } on' \
		"$TMP/out" >"$TMP/block"
	cp "$TMP/block" "$TMP/out"
}

run "$KS" summary --help
grep -qF 'https://ADDRESS:PORT' "$TMP/out" && pass "summary --help says how a TLS destination is shown" ||
	fail "summary --help: $(cat "$TMP/out")"

# ------------------------------------------------------------ stats files

run "$KS" summary "$FIX/stats-on.prom"
expect_clean "summary of a stats file with TLS destinations: exit 0"
expect_row "summary, stats: the plain destination on the TLS one's port" \
	"127.0.0.1:8443 4 4 0 0.000 - - - 2.53ms 2.53ms 2.53ms 1.27ms"
expect_row "summary, stats: the TLS destination as https://" \
	"https://127.0.0.1:8443 10 1 9 0.900 37.5ms 47.5ms 49.8ms 2.13ms 2.13ms 6.02ms 2.13ms"
expect_row "summary, stats: a TLS IPv6 destination as https://[::1]:PORT" \
	"https://[::1]:8443 2 2 0 0.000 - - - 10.1ms 10.1ms 10.1ms 5.07ms"
expect_row "summary, stats: the total adds up all three" \
	"total 16 7 9 0.562 37.5ms 47.5ms 49.8ms 2.13ms 10.1ms 10.1ms 2.13ms"
expect_no_row "summary, stats: no TLS series in a plain row" "[::1]:8443 "

run "$KS" summary "$FIX/stats-on.prom" "$FIX/stats-off.prom"
expect_row "summary of both arms: https:// off row" \
	"https://127.0.0.1:8443 off 10 10 0 0.000 - - - 6.02ms 6.02ms 6.02ms 2.13ms"
expect_row "summary of both arms: https:// on row" \
	"https://127.0.0.1:8443 on 10 1 9 0.900 37.5ms 47.5ms 49.8ms 2.13ms 2.13ms 6.02ms 2.13ms"
expect_row "summary of both arms: the plain off row stays plain" \
	"127.0.0.1:8443 off 4 4 0 0.000 - - - 2.53ms 2.53ms 2.53ms 1.27ms"

run "$KS" compare --by-dest "$FIX/stats-off.prom" "$FIX/stats-on.prom"
expect_clean "compare --by-dest of TLS stats files: exit 0"
expect_line "compare: requests of all destinations" "requests 14 16 +2 +14.3%"
expect_line "compare: connections of all destinations" "connections 14 7 -7 -50.0%"
expect_line "compare: latency p50 of all destinations" "latency p50 6.02ms 2.13ms -3.89ms -64.6%"
headings=$(grep '^destination ' "$TMP/out" | tr '\n' '|')
if [ "$headings" = "destination 127.0.0.1:8443|destination https://127.0.0.1:8443|destination https://[::1]:8443|" ]
then pass "compare --by-dest: a TLS and a plain destination on one port are two destinations"
else fail "compare --by-dest: destinations '$headings'"; fi
cp "$TMP/out" "$TMP/compare"
keep_block "destination https://127.0.0.1:8443"
expect_line "compare, https://127.0.0.1:8443: requests" "requests 10 10 +0 +0.0%"
expect_line "compare, https://127.0.0.1:8443: connections" "connections 10 1 -9 -90.0%"
expect_line "compare, https://127.0.0.1:8443: reuse ratio" "reuse ratio 0.000 0.900 +0.900 -"
expect_line "compare, https://127.0.0.1:8443: latency p50" "latency p50 6.02ms 2.13ms -3.89ms -64.6%"
cp "$TMP/compare" "$TMP/out"
keep_block "destination 127.0.0.1:8443"
expect_line "compare, plain 127.0.0.1:8443: requests" "requests 4 4 +0 +0.0%"
expect_line "compare, plain 127.0.0.1:8443: connections" "connections 4 4 +0 +0.0%"
expect_line "compare, plain 127.0.0.1:8443: latency p50" "latency p50 2.53ms 2.53ms +0 +0.0%"
cp "$TMP/compare" "$TMP/out"
keep_block "destination https://[::1]:8443"
expect_line "compare, https://[::1]:8443, only in B: requests" "requests 0 2 +2 -"
expect_line "compare, https://[::1]:8443, only in B: connections" "connections 0 2 +2 -"

# The same files read as the library writes them into one directory.
mkdir -p "$TMP/both"
cp "$FIX/stats-off.prom" "$FIX/stats-on.prom" "$TMP/both/"
run "$KS" compare --by-arm --by-dest "$TMP/both"
keep_block "destination https://127.0.0.1:8443"
expect_line "compare --by-arm: https://127.0.0.1:8443 connections" "connections 10 1 -9 -90.0%"

# tls takes one value; a plain destination has no label at all.
sed 's/,tls="1"/,tls="0"/' "$FIX/stats-on.prom" >"$TMP/tls0.prom"
line=$(grep -n 'tls="0"' "$TMP/tls0.prom" | head -n 1 | cut -d: -f1)
run "$KS" summary "$TMP/tls0.prom"
if [ "$RC" -eq 1 ] && grep -qF "keepwarm-stat: $TMP/tls0.prom:$line: keepwarm_requests_total: tls=\"0\" is not \"1\"" "$TMP/err"
then pass "stats: tls=\"0\" is refused with its line"
else fail "stats tls=\"0\": exit $RC, stderr: $(cat "$TMP/err")"; fi

# ------------------------------------------------------------------ trace

run "$KS" summary "$FIX/trace.log"
expect_clean "summary of a trace with tls lines, new events, reasons and keys: exit 0"
expect_row "summary, trace: dials a tls line names move to the https:// row (off)" \
	"https://127.0.0.1:8443 off 1 2 0 0.000 - - - 6ms 6ms 6ms 2ms"
expect_row "summary, trace: requests by period of use in the https:// row (on)" \
	"https://127.0.0.1:8443 on 3 1 1 0.500 30ms 30ms 30ms 2.02ms 6ms 6ms 2ms"
expect_row "summary, trace: a plain connection on the same port stays plain (on)" \
	"127.0.0.1:8443 on 1 1 0 0.000 - - - 2.7ms 2.7ms 2.7ms 1.2ms"
expect_row "summary, trace: a dial no tls line follows stays plain (off)" \
	"127.0.0.1:8443 off 0 1 0 0.000 - - - - - - -"
expect_row "summary, trace: an IPv6 TLS destination" \
	"https://[::1]:8443 on 1 1 0 0.000 - - - 10.8ms 10.8ms 10.8ms 4.8ms"
expect_no_row "summary, trace: the plain row a moved dial left empty is gone" "[::1]:8443 "
expect_row "summary, trace: the total counts each dial once" \
	"total - 6 6 1 0.143 30ms 30ms 30ms 2.7ms 10.8ms 10.8ms 2ms"

# A trace and a stats file together: rows of one destination add up.
run "$KS" summary "$FIX/trace.log" "$FIX/stats-on.prom"
expect_row "summary, trace and stats: the https:// on rows add up" \
	"https://127.0.0.1:8443 on 13 2 10 0.833 37.5ms 47.5ms 49.8ms 2.13ms 6.02ms 6.02ms 2.13ms"

# A program that exits with its connection open (wget) ends no period of
# use: its request lines count, and a period that ended counts once.
cat >"$TMP/open.log" <<'LOG'
ts=2026-12-10T09:00:00.001Z pid=702 event=dial fd=4 dest=127.0.0.1:8443
ts=2026-12-10T09:00:00.002Z pid=702 event=tls fd=4 dest=127.0.0.1:8443 tls=1 library=gnutls
ts=2026-12-10T09:00:00.003Z pid=702 event=request fd=4 dest=127.0.0.1:8443 tls=1 requests=1 ms=2.000 request_ms=1.000
ts=2026-12-10T09:00:00.004Z pid=702 event=request fd=4 dest=127.0.0.1:8443 tls=1 requests=2 ms=1.000 request_ms=1.000
ts=2026-12-10T09:00:00.005Z pid=703 event=dial fd=4 dest=127.0.0.1:8443
ts=2026-12-10T09:00:00.006Z pid=703 event=tls fd=4 dest=127.0.0.1:8443 tls=1 library=gnutls
ts=2026-12-10T09:00:00.007Z pid=703 event=request fd=4 dest=127.0.0.1:8443 tls=1 requests=1 ms=2.000 request_ms=1.000
ts=2026-12-10T09:00:00.008Z pid=703 event=discard fd=4 dest=127.0.0.1:8443 tls=1 reason=tls-not-pooled requests=1
LOG
run "$KS" summary "$TMP/open.log"
expect_row "trace: a period still open at the end counts its request lines" \
	"https://127.0.0.1:8443 3 2 0 0.000 - - - 2ms 2ms 2ms 1ms"

# The tls line's dial is the one on the same pid and fd: another pid's
# dial on that fd stays plain.
cat >"$TMP/two-pids.log" <<'LOG'
ts=2026-12-10T09:00:00.001Z pid=700 event=dial fd=5 dest=127.0.0.1:8443
ts=2026-12-10T09:00:00.002Z pid=701 event=dial fd=5 dest=127.0.0.1:8443
ts=2026-12-10T09:00:00.004Z pid=701 event=tls fd=5 dest=127.0.0.1:8443 tls=1 library=openssl
ts=2026-12-10T09:00:00.005Z pid=701 event=tls fd=5 dest=127.0.0.1:8443 tls=1 library=openssl
ts=2026-12-10T09:00:00.009Z pid=701 event=park fd=5 dest=127.0.0.1:8443 tls=1 requests=4
ts=2026-12-10T09:00:00.010Z pid=700 event=park fd=5 dest=127.0.0.1:8443 requests=2
LOG
run "$KS" summary "$TMP/two-pids.log"
expect_row "trace: a tls line moves its own pid's dial" "https://127.0.0.1:8443 4 1 0 0.000 - - - - - - -"
expect_row "trace: another pid's dial on that fd stays plain, moved once" \
	"127.0.0.1:8443 2 1 0 0.000 - - - - - - -"

sed '4s/ tls=1 / tls=yes /' "$FIX/trace.log" >"$TMP/tls-yes.log"
run "$KS" summary "$TMP/tls-yes.log"
if [ "$RC" -eq 1 ] && grep -qF "keepwarm-stat: $TMP/tls-yes.log:4: tls=yes is not 1" "$TMP/err"
then pass "trace: tls=yes is refused with its line"
else fail "trace tls=yes: exit $RC, stderr: $(cat "$TMP/err")"; fi

finish
