#!/usr/bin/env bash
# tools.sh BUILD_DIR - the launcher (keepwarm): options to environment,
# LD_PRELOAD prepending, finding the library, exit statuses, a real run;
# keepwarm-stat on hand-checked fixtures (tests/fixtures/README.md gives the
# arithmetic) and on malformed ones; the stats file the library writes, read
# by keepwarm-stat and by promtool or a parser of our own; make install and
# make uninstall.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: tools.sh BUILD_DIR}" && pwd -P)
. "$(dirname "$0")/../common/lib.sh"
for v in $(compgen -e); do case "$v" in KEEPWARM*) unset "$v" ;; esac; done
unset LD_PRELOAD
export HOME=$KW_TMP/home # no ~/.config/keepwarm/keepwarm.conf of the user's
mkdir -p "$HOME"

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
FIX=$ROOT/tests/fixtures
KW=$BUILD_DIR/keepwarm
KS=$BUILD_DIR/keepwarm-stat
LIB=$(realpath "$BUILD_DIR/libkeepwarm.so")
TMP=$(cd "$KW_TMP" && pwd -P)
BLOCKING=$BUILD_DIR/clients/blocking

# run CMD...: status in RC, stdout and stderr in $TMP/out and $TMP/err.
run() { "$@" >"$TMP/out" 2>"$TMP/err"; RC=$?; }
# The value of a variable in the output of `env`.
env_value() { sed -n "s/^$1=//p" "$TMP/out" | head -n 1; }
expect_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', expected '$3'"; fi
}
# expect_status NAME WANT [GREP-PATTERN-IN-STDERR]
expect_status() {
	if [ "$RC" -ne "$2" ]; then
		fail "$1: exit $RC, expected $2: $(head -c 300 "$TMP/err")"
	elif [ $# -ge 3 ] && ! grep -qF -- "$3" "$TMP/err"; then
		fail "$1: stderr lacks '$3': $(head -c 300 "$TMP/err")"
	else
		pass "$1"
	fi
}
# Rows of a table with runs of spaces squeezed, for comparing with known text.
squeezed() { awk '{ $1 = $1; print }' "$TMP/out"; }
expect_row() { # NAME EXPECTED-SQUEEZED-LINE
	if squeezed | grep -qxF -- "$2"; then pass "$1"; else
		fail "$1: no line '$2' in: $(squeezed | tr '\n' '|')"
	fi
}

# ---------------------------------------------------------------- launcher

run "$KW" --version
VERSION=$(kw_version)
expect_eq "keepwarm --version is debian/changelog's ($VERSION)" "$(cat "$TMP/out")" "keepwarm $VERSION"
expect_eq "the man page's version is debian/changelog's" \
	"$(sed -n 's/^\.TH KEEPWARM 1 "[^"]*" "keepwarm \([^"]*\)".*/\1/p' "$ROOT/docs/keepwarm.1")" "$VERSION"
run "$KW" --help
missing=
for o in off max-idle max-idle-per-host idle-timeout max-lifetime max-requests tcp-keepalive \
         trace stats stats-interval sample tls-handshake-timeout no-tls-reuse broker no-broker \
         broker-linger connect-timeout destinations library help version; do
	grep -q -- "--$o\b" "$TMP/out" || missing="$missing --$o"
done
[ "$RC" -eq 0 ] && [ -z "$missing" ] && pass "keepwarm --help lists every option" \
	|| fail "keepwarm --help: exit $RC, missing:$missing"

# Every option sets its variable; relative paths become absolute.
cd "$TMP"
run "$KW" --off --max-idle 7 --max-idle-per-host 3 --idle-timeout 1m30s --max-lifetime 2m \
	--max-requests 50 --tcp-keepalive 0 --trace rel.trace --stats "stats.%p.prom" \
	--stats-interval 500ms --sample 0.25 --tls-handshake-timeout 10s --no-tls-reuse \
	--broker "$TMP/broker.sock" --broker-linger 1m --destinations "deny 10.0.0.1:80, allow *" \
	--connect-timeout 5s -- env
cd - >/dev/null
for pair in KEEPWARM=off KEEPWARM_MAX_IDLE=7 KEEPWARM_MAX_IDLE_PER_HOST=3 \
            KEEPWARM_IDLE_TIMEOUT=1m30s KEEPWARM_MAX_LIFETIME=2m KEEPWARM_MAX_REQUESTS=50 \
            KEEPWARM_TCP_KEEPALIVE=0 "KEEPWARM_TRACE=$TMP/rel.trace" \
            "KEEPWARM_STATS=$TMP/stats.%p.prom" KEEPWARM_STATS_INTERVAL=500ms KEEPWARM_SAMPLE=0.25 \
            KEEPWARM_TLS_HANDSHAKE_TIMEOUT=10s KEEPWARM_TLS_REUSE=off \
            "KEEPWARM_BROKER=$TMP/broker.sock" KEEPWARM_BROKER_LINGER=1m \
            "KEEPWARM_DESTINATIONS=deny 10.0.0.1:80, allow *" KEEPWARM_CONNECT_TIMEOUT=5s \
            "LD_PRELOAD=$LIB"; do
	expect_eq "option sets ${pair%%=*}" "$(env_value "${pair%%=*}")" "${pair#*=}"
done
[ "$RC" -eq 0 ] || fail "keepwarm with every option: exit $RC"
run "$KW" --trace stderr --sample=1 env
expect_eq "--trace stderr stays stderr" "$(env_value KEEPWARM_TRACE)" stderr
expect_eq "--sample=1 (and no --)" "$(env_value KEEPWARM_SAMPLE)" 1
run "$KW" --broker auto --no-broker -- env
expect_eq "--no-broker sets KEEPWARM_BROKER=off, the last option winning" "$(env_value KEEPWARM_BROKER)" off
run "$KW" --max-idle 2 -- sh -c 'echo "$*"' sh --max-idle 9 --off
expect_eq "options after the program are the program's" "$(cat "$TMP/out")" "--max-idle 9 --off"

for d in 90s 500ms 2m 1m30s 1.5s 10 0; do
	run "$KW" --idle-timeout "$d" -- true
	expect_status "--idle-timeout $d accepted" 0
done
for d in 5x -1s 1.5.s ms "" 1m30 500us 1ns; do
	run "$KW" --idle-timeout "$d" -- true
	expect_status "--idle-timeout '$d' rejected" 2 "--idle-timeout"
done
for bad in "--max-idle abc" "--max-requests -3" "--max-idle-per-host 99999999999" \
           "--sample 1.5" "--sample abc" "--stats-interval 1h2x" "--tcp-keepalive soon"; do
	run "$KW" $bad -- true
	expect_status "$bad rejected" 2 "${bad%% *}"
done
# The broker's socket as the library reads it: auto, off or an absolute path
# that fits a Unix socket address (107 bytes at most), not a directory.
long_sock=/$(printf 'a%.0s' $(seq 107))
shown() { if [ ${#1} -gt 20 ]; then echo "a ${#1}-byte path"; else echo "'$1'"; fi; }
# (A broker the launcher starts at an accepted path is under $KW_RUN, stopped
# at exit.)
for b in auto off OFF no 0 "$KW_RUN/x/sock" "${long_sock%a}"; do
	run "$KW" --broker "$b" -- true
	expect_status "--broker $(shown "$b") accepted" 0
done
for b in relative/path ./sock /trailing/ maybe on "" "$long_sock"; do
	run "$KW" --broker "$b" -- true
	if [ "$RC" -eq 2 ] && [ "$(grep -c '^keepwarm: ' "$TMP/err")" -eq 1 ] &&
		grep -qF -- "--broker: \"$b\" is not auto, off, or an absolute socket path" "$TMP/err"; then
		pass "--broker $(shown "$b") rejected in one line"
	else
		fail "--broker $(shown "$b"): exit $RC: $(head -c 300 "$TMP/err")"
	fi
done
run "$KW" --broker-linger soon -- true
expect_status "--broker-linger soon rejected" 2 '--broker-linger: "soon" is not a duration'
run "$KW" --connect-timeout soon -- true
expect_status "--connect-timeout soon rejected" 2 '--connect-timeout: "soon" is not a duration'
run "$KW" --destinations "allow 127.0.0.0/8, deny 10.1.2.3:99999" -- true
expect_status "--destinations with a bad rule rejected, naming it" 2 \
	'--destinations: rule 2 "deny 10.1.2.3:99999": the port is not 1 to 65535'
run "$KW" --bogus -- true
expect_status "unknown option" 2 "--bogus"
run "$KW" --max-idle
expect_status "option without its value" 2 "--max-idle"
run "$KW"
expect_status "no program" 2 "no program"
# "--" is never a value: --trace -- prog is a missing value, not a file "--".
cd "$TMP" && run "$KW" --trace -- true; cd - >/dev/null || exit 1
expect_status "--trace -- true: a missing value" 2 "--trace needs a value"
[ ! -e "$TMP/--" ] && pass "--trace -- true leaves no file named --" || fail "a file named -- was made"
run "$KW" --stats=-- -- true
expect_status "--stats=--: a missing value" 2 "--stats needs a value"
run "$KW" --stats --off -- true
expect_status "--stats --off: an option is not a value" 2 '"--off" looks like an option'
run "$KW" --library -- true
expect_status "--library --: a missing value" 2 "--library needs a value"
# --help fits 80 columns.
run "$KW" --help
long=$(awk 'length($0) > 80' "$TMP/out")
[ "$RC" -eq 0 ] && [ -z "$long" ] && pass "keepwarm --help fits 80 columns" ||
	fail "keepwarm --help: lines over 80 columns: $long"

# keepwarm config: what the library would read, and where each value came from.
mkdir -p "$TMP/cfg/keepwarm"
printf 'KEEPWARM_MAX_IDLE = 7\nexport KEEPWARM_IDLE_TIMEOUT="30s"\n' >"$TMP/cfg/keepwarm/keepwarm.conf"
XDG_CONFIG_HOME=$TMP/cfg KEEPWARM_TRACE=stderr run "$KW" --stats "$TMP/s.prom" --off config
expect_status "keepwarm config: exit 0" 0
expect_row "keepwarm config: a default" "KEEPWARM_MAX_IDLE_PER_HOST=20 # default"
expect_row "keepwarm config: the user file (XDG_CONFIG_HOME) with its line" \
	"KEEPWARM_IDLE_TIMEOUT=30s # $TMP/cfg/keepwarm/keepwarm.conf:2"
expect_row "keepwarm config: the environment" "KEEPWARM_TRACE=stderr # environment"
expect_row "keepwarm config: an option" "KEEPWARM_STATS=$TMP/s.prom # option --stats"
expect_row "keepwarm config: a flag" "KEEPWARM=off # option --off"
expect_row "keepwarm config: the broker's default" "KEEPWARM_BROKER=auto # default"
expect_row "keepwarm config: the broker's linger's default" "KEEPWARM_BROKER_LINGER=600s # default"
[ "$(grep -c '^KEEPWARM' "$TMP/out")" -eq 22 ] && pass "keepwarm config: all 22 settings" ||
	fail "keepwarm config: $(grep -c '^KEEPWARM' "$TMP/out") settings"
run "$KW" --broker=/tmp/x/sock --broker-linger 0 config
expect_row "keepwarm config: --broker=/tmp/x/sock" "KEEPWARM_BROKER=/tmp/x/sock # option --broker"
expect_row "keepwarm config: --broker-linger 0" "KEEPWARM_BROKER_LINGER=0 # option --broker-linger"
run "$KW" --destinations "DENY 10.1.2.3/8:443;allow [::1]" config
expect_row "keepwarm config: --destinations, canonical" \
	"KEEPWARM_DESTINATIONS=deny 10.0.0.0/8:443, allow [::1] # option --destinations"
run "$KW" --no-broker config
expect_row "keepwarm config: --no-broker" "KEEPWARM_BROKER=off # option --no-broker"
run "$KW" --broker=relative/sock config
if [ "$RC" -eq 2 ] && [ ! -s "$TMP/out" ] && [ "$(grep -c '^keepwarm: ' "$TMP/err")" -eq 1 ]; then
	pass "keepwarm --broker=relative/sock config: one error line, exit 2, no settings shown"
else
	fail "keepwarm --broker=relative/sock config: exit $RC: $(head -c 300 "$TMP/err")"
fi
KEEPWARM_BROKER=maybe run "$KW" config
if [ "$RC" -eq 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
	grep -q '^keepwarm: KEEPWARM_BROKER="maybe" is not .*; using the default auto$' "$TMP/err"; then
	pass "keepwarm config: a bad KEEPWARM_BROKER warns once, the default used"
else
	fail "keepwarm config with KEEPWARM_BROKER=maybe: exit $RC: $(head -c 300 "$TMP/err")"
fi
expect_row "keepwarm config: the bad KEEPWARM_BROKER left at its default" "KEEPWARM_BROKER=auto # default"
KEEPWARM_CONFIG=$TMP/named.conf run "$KW" config
expect_status "keepwarm config: KEEPWARM_CONFIG naming a missing file is said" 0 \
	"configuration file $TMP/named.conf cannot be read: No such file or directory"
run "$KW" config extra
expect_status "keepwarm config takes no arguments" 2 "config takes no arguments"
run "$KW" -- config
expect_status "keepwarm -- config runs a program named config" 127 "cannot run config"

# LD_PRELOAD: the library goes first, the old value stays.
LD_PRELOAD=/nonexistent/other.so run "$KW" -- env
expect_eq "LD_PRELOAD prepended, old value kept" "$(env_value LD_PRELOAD)" "$LIB:/nonexistent/other.so"
LD_PRELOAD="/nonexistent/a.so /nonexistent/b.so" run "$KW" -- env
expect_eq "LD_PRELOAD with spaces kept" "$(env_value LD_PRELOAD)" "$LIB:/nonexistent/a.so /nonexistent/b.so"
LD_PRELOAD="$LIB" run "$KW" -- env
expect_eq "library already in LD_PRELOAD: not added twice" "$(env_value LD_PRELOAD)" "$LIB"

# Finding the library.
mkdir -p "$TMP/lonely/bin"
cp "$KW" "$TMP/lonely/bin/keepwarm"
run "$TMP/lonely/bin/keepwarm" -- true
expect_status "library not found: exit 2" 2 "cannot find libkeepwarm.so"
grep -qF "$TMP/lonely/bin/libkeepwarm.so" "$TMP/err" &&
	grep -qF "$TMP/lonely/lib/$(gcc -print-multiarch)/keepwarm/libkeepwarm.so" "$TMP/err" &&
	grep -qF "$TMP/lonely/lib/keepwarm/libkeepwarm.so" "$TMP/err" &&
	pass "library not found: names the three places looked at" ||
	fail "library not found: $(cat "$TMP/err")"
KEEPWARM_LIBRARY=$LIB run "$TMP/lonely/bin/keepwarm" -- env
expect_eq "KEEPWARM_LIBRARY is used" "$(env_value LD_PRELOAD)" "$LIB"
run "$TMP/lonely/bin/keepwarm" --library "$LIB" -- env
expect_eq "--library is used" "$(env_value LD_PRELOAD)" "$LIB"
KEEPWARM_LIBRARY=$TMP/nonexistent.so run "$KW" -- true
expect_status "KEEPWARM_LIBRARY that does not exist" 2 "$TMP/nonexistent.so"
# --library must be a shared library keepwarm's programs can load.
run "$KW" --library /bin/true -- true
expect_status "--library with a program" 2 "it is a program, not a shared library"
run "$KW" --library "$FIX/trace.log" -- true
expect_status "--library with a text file" 2 "it is not an ELF file"
if [ -r /usr/lib/i386-linux-gnu/libc.so.6 ] || [ -r /lib32/libc.so.6 ]; then
	lib32=/usr/lib/i386-linux-gnu/libc.so.6
	[ -r "$lib32" ] || lib32=/lib32/libc.so.6
	run "$KW" --library "$lib32" -- true
	expect_status "--library with a 32-bit library" 2 "it is a 32-bit library"
fi

# Exit statuses.
run "$KW" -- sh -c 'exit 7'
expect_status "exit status passed through" 7
run "$KW" -- "$TMP/no-such-program"
expect_status "program not found: 127" 127 "no-such-program"
run "$KW" -- "$FIX/trace.log"
expect_status "program not executable: 126" 126 "trace.log"

# A real run: ten requests on one connection.
start_server || { finish; exit; }
before=$(server_conns)
run "$KW" -- "$BLOCKING" --host 127.0.0.1 --port "$SERVER_PORT" --requests 10
expect_eq "keepwarm -- blocking --requests 10: 1 connection (exit $RC)" $(( $(server_conns) - before )) 1
before=$(server_conns)
run "$KW" --off -- "$BLOCKING" --host 127.0.0.1 --port "$SERVER_PORT" --requests 10
expect_eq "keepwarm --off -- blocking --requests 10: 10 connections (exit $RC)" $(( $(server_conns) - before )) 10

# ------------------------------------------------- keepwarm-stat, fixtures

# expect_line NAME TEXT: a squeezed row that is TEXT or TEXT then the
# interval column (the intervals are checked as properties, not values).
expect_line() {
	if squeezed | awk -v t="$2" '$0 == t || index($0, t " ") == 1 { found = 1 } END { exit !found }'
	then pass "$1"; else fail "$1: no line '$2[ interval]' in: $(squeezed | tr '\n' '|')"; fi
}
# The interval of the first row starting with ROW, as "LO HI" (percent), or "-".
interval_of() {
	squeezed | awk -v row="$1" 'index($0, row " ") == 1 {
		iv = $NF; if (iv !~ /^\[.*\]$/) { print "-"; exit }
		gsub(/[][%+]/, "", iv); split(iv, p, ","); print p[1], p[2]; exit }'
}
# expect_interval NAME ROW TEST: TEST is "contains V", "excludes V", "straddles V"
# (lo < V < hi; V a change in percent) or "none".
expect_interval() {
	local iv ok=1
	iv=$(interval_of "$2")
	case $3 in
	none) [ "$iv" = "-" ] && ok=0 ;;
	*) [ -n "$iv" ] && [ "$iv" != "-" ] && awk -v t="${3%% *}" -v v="${3#* }" -v lo="${iv% *}" -v hi="${iv#* }" \
		'BEGIN { inside = lo + 0 <= v + 0 && v + 0 <= hi + 0; strictly = lo + 0 < v + 0 && v + 0 < hi + 0
		       exit !(t == "contains" ? inside : t == "straddles" ? strictly : !inside) }' && ok=0 ;;
	esac
	if [ "$ok" -eq 0 ]; then pass "$1 ($2: ${iv/ /..})"; else fail "$1: interval '$iv' of '$2', expected $3"; fi
}
# keep_block HEADING: narrow $TMP/out to one --by-dest block (its heading to the next one).
keep_block() {
	awk -v h="$1" '$0 == h { on = 1; next } on && (/^destination / || /^warning: /) { on = 0 } on' \
		"$TMP/out" >"$TMP/block"
	cp "$TMP/block" "$TMP/out"
}
warnings_of() { grep '^warning: ' "$TMP/out"; }

run "$KS" --version
expect_eq "keepwarm-stat --version is debian/changelog's" "$(cat "$TMP/out")" "keepwarm-stat $VERSION"
run "$KS" --help
grep -q -- '--by-dest' "$TMP/out" && grep -q 'req-p50' "$TMP/out" && pass "keepwarm-stat --help names --by-dest and req-p50" \
	|| fail "keepwarm-stat --help: $(cat "$TMP/out")"
# Each command explains itself: its usage on stdout, nothing on stderr, exit 0.
for how in "summary --help" "summary -h" "help summary" "compare --help" "compare -h" "help compare"; do
	run "$KS" $how
	cmd=${how#help }
	cmd=${cmd%% *}
	case $cmd in
	summary) want='req-p50' other='--by-dest' ;;
	*) want='--plot FILE.svg' other='req-p50' ;;
	esac
	if [ "$RC" -eq 0 ] && [ ! -s "$TMP/err" ] && head -n 1 "$TMP/out" | grep -q "^usage: keepwarm-stat $cmd " &&
		grep -qF -- "$want" "$TMP/out" && grep -qF -- '-h, --help' "$TMP/out" && ! grep -qF -- "$other" "$TMP/out"
	then pass "keepwarm-stat $how: $cmd's usage on stdout, exit 0"
	else fail "keepwarm-stat $how: exit $RC, stdout: $(head -c 200 "$TMP/out"), stderr: $(head -c 200 "$TMP/err")"; fi
done
for how in "--help" "summary --help" "compare --help"; do
	run "$KS" $how
	long=$(awk 'length($0) > 80' "$TMP/out")
	[ -z "$long" ] && pass "keepwarm-stat $how fits 80 columns" || fail "keepwarm-stat $how: over 80 columns: $long"
done

# summary: lat columns are the wait, req-p50 the request alone.
run "$KS" summary "$FIX/trace.log"
[ "$RC" -eq 0 ] || fail "summary trace.log: exit $RC $(cat "$TMP/err")"
expect_row "trace: off arm row (request line: one exact sample)" \
	"127.0.0.1:8080 off 1 1 0 0.000 - - - 2.65ms 2.65ms 2.65ms 1.3ms"
expect_row "trace: on arm row (requests per period, not per request line; nearest rank)" \
	"127.0.0.1:8080 on 11 3 5 0.625 20ms 100ms 100ms 2.48ms 4.21ms 5.32ms 2.21ms"
expect_row "trace: not-HTTP destination" "[::1]:9090 on 0 1 0 0.000 - - - - - - -"
expect_row "trace: total" "total - 12 5 5 0.500 20ms 100ms 100ms 2.48ms 4.21ms 5.32ms 2.13ms"

run "$KS" summary "$FIX/stats-on.prom"
[ "$RC" -eq 0 ] || fail "summary stats-on.prom: exit $RC $(cat "$TMP/err")"
expect_row "stats: fine-bucket quantiles, interpolated idle" \
	"127.0.0.1:8080 21 1 20 0.952 29.2ms 87.5ms 220ms 1.51ms 7.16ms 17ms 1.51ms"
expect_row "stats: no idle data" "[::1]:9090 3 3 0 0.000 - - - 162ms 648ms 648ms 162ms"
expect_row "stats: total merges fine buckets" "total 24 4 20 0.833 29.2ms 87.5ms 220ms 1.79ms 68.2ms 648ms 1.79ms"

run "$KS" summary "$FIX/coarse-only/stats-on.prom"
expect_row "older stats file: no wait (lat -), req-p50 interpolated" \
	"127.0.0.1:8080 21 1 20 0.952 29.2ms 87.5ms 220ms - - - 1.75ms"
expect_row "older stats file: second destination" "[::1]:9090 3 3 0 0.000 - - - - - - 175ms"
expect_row "older stats file: total" "total 24 4 20 0.833 29.2ms 87.5ms 220ms - - - 2ms"

run "$KS" summary "$FIX/stats-off.prom" "$FIX/trace.log"
expect_row "mixed stats and trace: off arm rows added up, samples in fine buckets" \
	"127.0.0.1:8080 off 22 22 0 0.000 - - - 5.07ms 14.3ms 34.1ms 3.58ms"

# A trace sent to stderr holds the program's own lines: skipped, counted
# after the table; the rows are trace.log's.
run "$KS" summary "$FIX/trace-mixed.log"
"$KS" summary "$FIX/trace.log" >"$TMP/want" 2>/dev/null
[ "$RC" -eq 0 ] && cmp -s "$TMP/out" "$TMP/want" && pass "trace-mixed.log: the summary of trace.log, exit 0" ||
	fail "trace-mixed.log: exit $RC, $(head -c 300 "$TMP/err"), diff: $(diff "$TMP/want" "$TMP/out" | head -n 5)"
expect_eq "trace-mixed.log: the skipped lines counted, on stderr" "$(cat "$TMP/err")" \
	"keepwarm-stat: $FIX/trace-mixed.log: skipped 5 lines that are not trace lines (first at line 7)"
run "$KS" summary - "$FIX/stats-on.prom" <"$FIX/trace-mixed.log"
expect_eq "trace-mixed.log on standard input" "$(cat "$TMP/err")" \
	"keepwarm-stat: (stdin): skipped 5 lines that are not trace lines (first at line 7)"
{ cat "$FIX/trace.log"; echo "done."; } >"$TMP/one-foreign.log"
run "$KS" summary "$TMP/one-foreign.log"
expect_eq "one foreign line: said in the singular (exit $RC)" "$(cat "$TMP/err")" \
	"keepwarm-stat: $TMP/one-foreign.log: skipped 1 line that is not a trace line (line 38)"
{ echo; echo "starting the job"; cat "$FIX/trace.log"; } >"$TMP/foreign-first.log"
run "$KS" summary "$TMP/foreign-first.log"
expect_status "a foreign first line: neither a trace nor a stats file" 1 \
	"keepwarm-stat: $TMP/foreign-first.log:2: neither a trace line (ts=...) nor a stats line"
{ cat "$FIX/trace-mixed.log"; echo "ts=2026-11-24T02:41:00.000Z pid=100 event=dial fd=x"; } >"$TMP/mixed-bad.log"
run "$KS" summary "$TMP/mixed-bad.log"
expect_status "among foreign lines, a malformed trace line is still an error" 1 \
	"keepwarm-stat: $TMP/mixed-bad.log:44: fd=x is not a whole number"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && pass "a malformed trace line: no count of skipped lines" ||
	fail "a malformed trace line: $(cat "$TMP/err")"

# "-" is standard input, told apart by its content like any file; a pipe
# (the input is read once, never rewound).
same_as_file() { # NAME FILE ARGS-WITH-DASH...: stdout the same as with FILE in place of -
	local name=$1 file=$2 arg with=()
	shift 2
	for arg in "$@"; do [ "$arg" = - ] && with+=("$file") || with+=("$arg"); done
	"$KS" "${with[@]}" >"$TMP/want" 2>&1
	run "$KS" "$@" < <(cat "$file")
	if [ "$RC" -eq 0 ] && [ ! -s "$TMP/err" ] && cmp -s "$TMP/out" "$TMP/want"; then pass "$name"
	else fail "$name: exit $RC, $(head -c 300 "$TMP/err"), diff: $(diff "$TMP/want" "$TMP/out" | head -n 5)"; fi
}
same_as_file "summary - reads a trace on standard input" "$FIX/trace.log" summary -
same_as_file "summary - reads a stats file on standard input" "$FIX/stats-on.prom" summary -
same_as_file "summary FILE - mixes a file and standard input" "$FIX/trace.log" summary "$FIX/stats-off.prom" -
same_as_file "compare A -: B on standard input" "$FIX/stats-on.prom" compare "$FIX/stats-off.prom" -
same_as_file "compare --a - --a FILE --b FILE" "$FIX/coarse-only/stats-off.prom" \
	compare --a - --a "$FIX/stats-off.prom" --b "$FIX/stats-on.prom"
run "$KS" compare - "$FIX/stats-on.prom" <"$FIX/stats-off.prom"
expect_line "compare - B: A on standard input (a regular file)" "latency p50 5.07ms 1.79ms -3.27ms -64.6%"
run "$KS" compare "$FIX/stats-off.prom" - <"$FIX/trace.log"
expect_status "compare rejects a trace log on standard input, naming it (stdin)" 1 \
	"keepwarm-stat: (stdin):1: a trace log, not a stats file"
run "$KS" compare "$FIX/stats-off.prom" - </dev/null
expect_status "compare: empty standard input" 1 "keepwarm-stat: (stdin): empty, not a stats file"
run "$KS" summary - <"$FIX/malformed/bad-ms.log"
expect_status "a malformed trace on standard input: (stdin):LINE" 1 "keepwarm-stat: (stdin):4: ms=2.48.0"

# compare: two files, one process each (redrawn by request).
run "$KS" compare "$FIX/stats-off.prom" "$FIX/stats-on.prom" --plot "$TMP/fixtures.svg"
[ "$RC" -eq 0 ] || fail "compare fixtures: exit $RC $(cat "$TMP/err")"
expect_row "compare: header names the arms" "A (off) B (on) B-A change 95% interval"
expect_line "compare: latency p50 (the wait, fine buckets)" "latency p50 5.07ms 1.79ms -3.27ms -64.6%"
expect_line "compare: latency p90" "latency p90 14.3ms 68.2ms +53.8ms +375.7%"
expect_line "compare: latency p99" "latency p99 34.1ms 648ms +614ms +1802.7%"
expect_row "compare: job time (one process an arm: no interval)" "job time 612ms 421ms -191ms -31.2% -"
expect_line "compare: request-only p50" "request-only p50 3.58ms 1.79ms -1.79ms -50.0%"
expect_line "compare: request-only p90" "request-only p90 14.3ms 68.2ms +53.8ms +375.7%"
expect_line "compare: request-only p99" "request-only p99 34.1ms 648ms +614ms +1802.7%"
expect_row "compare: stats files" "stats files 1 1"
expect_row "compare: processes" "processes 1 1"
expect_row "compare: requests" "requests 21 24 +3 +14.3%"
expect_row "compare: connections" "connections 21 4 -17 -81.0%"
expect_row "compare: connections/request" "connections/request 1.000 0.167 -0.833 -83.3%"
expect_row "compare: reuse ratio" "reuse ratio 0.000 0.833 +0.833 -"
expect_row "compare: errors" "errors 2 1 -1 -50.0%"
expect_interval "compare: latency p50 interval holds its change" "latency p50" "contains -64.6"
expect_interval "compare: latency p90 interval holds its change" "latency p90" "contains 375.7"
expect_interval "compare: request-only p50 interval holds its change" "request-only p50" "contains -50.0"
expect_row "compare: warning, A too thin for p90 and p99" \
	"warning: A (off) has 21 requests: p90 and p99 rest on fewer than 10 requests above them (they need 100 and 1000)"
expect_row "compare: warning, B too thin for p90 and p99" \
	"warning: B (on) has 24 requests: p90 and p99 rest on fewer than 10 requests above them (they need 100 and 1000)"
expect_row "compare: warning, job time needs more processes" \
	"warning: job time has no interval with fewer than 2 processes in an arm (A (off) has 1, B (on) 1): run each arm several times, its stats files into the same directory"
expect_eq "compare: only those three warnings" "$(warnings_of | wc -l)" 3
svg_ok() { # FILE: well-formed XML with both arms in the legend and labelled axes
	python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1" 2>/dev/null &&
		grep -q '<polyline' "$1" && grep -q 'log scale' "$1" && grep -q 'fraction of requests' "$1"
}
svg_ok "$TMP/fixtures.svg" && grep -q 'A (off): 21 requests' "$TMP/fixtures.svg" &&
	grep -q 'B (on): 24 requests' "$TMP/fixtures.svg" &&
	pass "compare --plot: SVG with axes and a legend naming the arms" ||
	fail "compare --plot: $(head -c 300 "$TMP/fixtures.svg")"
grep -q 'A (off) request only: 21 requests' "$TMP/fixtures.svg" &&
	grep -q 'B (on) request only: 24 requests' "$TMP/fixtures.svg" &&
	[ "$(grep -c '<polyline[^>]*stroke-opacity="0.45"' "$TMP/fixtures.svg")" -eq 2 ] &&
	[ "$(grep -c '<polyline' "$TMP/fixtures.svg")" -eq 4 ] &&
	grep -q '>10us<' "$TMP/fixtures.svg" && grep -q '>100s<' "$TMP/fixtures.svg" &&
	pass "compare --plot: light request-only curves named in the legend, axis 10us to 100s" ||
	fail "compare --plot: request-only curves: $(grep -c '<polyline' "$TMP/fixtures.svg") polylines"
mkdir -p "$TMP/both"
cp "$FIX/stats-on.prom" "$FIX/stats-off.prom" "$TMP/both/"
: >"$TMP/both/stats-on.prom.tmp.99" # a file being written: skipped
run "$KS" compare --by-arm "$TMP/both"
expect_row "compare --by-arm splits one directory by arm" "connections 21 4 -17 -81.0%"
expect_line "compare --by-arm: latency" "latency p50 5.07ms 1.79ms -3.27ms -64.6%"

# --by-dest: a block per destination, sorted.
run "$KS" compare --by-dest "$FIX/stats-off.prom" "$FIX/stats-on.prom"
expect_eq "compare --by-dest: one heading per destination, sorted" \
	"$(grep '^destination ' "$TMP/out" | tr '\n' '|')" "destination 127.0.0.1:8080|destination [::1]:9090|"
expect_line "compare --by-dest: the main table stays" "latency p50 5.07ms 1.79ms -3.27ms -64.6%"
cp "$TMP/out" "$TMP/by-dest.out"
keep_block "destination 127.0.0.1:8080"
expect_line "--by-dest 127.0.0.1:8080: latency p50" "latency p50 5.07ms 1.51ms -3.56ms -70.3%"
expect_line "--by-dest 127.0.0.1:8080: latency p90" "latency p90 14.3ms 7.16ms -7.16ms -50.0%"
expect_line "--by-dest 127.0.0.1:8080: latency p99" "latency p99 34.1ms 17ms -17ms -50.0%"
expect_line "--by-dest 127.0.0.1:8080: request-only p50" "request-only p50 3.58ms 1.51ms -2.08ms -58.0%"
expect_row "--by-dest 127.0.0.1:8080: requests" "requests 21 21 +0 +0.0%"
expect_row "--by-dest 127.0.0.1:8080: connections" "connections 21 1 -20 -95.2%"
expect_row "--by-dest 127.0.0.1:8080: reuse ratio" "reuse ratio 0.000 0.952 +0.952 -"
expect_interval "--by-dest 127.0.0.1:8080: p50 interval holds its change" "latency p50" "contains -70.3"
expect_eq "--by-dest: a block has no job time, files or processes" \
	"$(grep -cE '^(job time|stats files|processes) ' "$TMP/out")" 0
cp "$TMP/by-dest.out" "$TMP/out"
keep_block "destination [::1]:9090"
expect_row "--by-dest [::1]:9090: A never went there" "latency p50 - 162ms - - -"
expect_row "--by-dest [::1]:9090: request-only p90" "request-only p90 - 648ms - - -"
expect_row "--by-dest [::1]:9090: requests" "requests 0 3 +3 -"

# A side compared with itself: both redrawn independently, every interval holds 0.
run "$KS" compare "$FIX/stats-off.prom" "$FIX/stats-off.prom"
for row in "latency p50" "latency p90" "latency p99" "request-only p50" "request-only p90" "request-only p99"; do
	expect_interval "self-comparison (by request)" "$row" "contains 0"
done
expect_interval "self-comparison: p50's interval is not a point" "latency p50" "straddles 0"

# ab-many: 12 processes an arm, redrawn by process.
MANY=$FIX/ab-many
run "$KS" compare "$MANY/off" "$MANY/on"
[ "$RC" -eq 0 ] || fail "compare ab-many: exit $RC $(cat "$TMP/err")"
expect_line "ab-many: latency p50" "latency p50 5.07ms 4.26ms -806us -15.9%"
expect_line "ab-many: latency p90" "latency p90 7.16ms 6.02ms -1.14ms -15.9%"
expect_line "ab-many: latency p99" "latency p99 10.1ms 8.52ms -1.61ms -15.9%"
expect_line "ab-many: job time (run seconds added up)" "job time 2.83s 2.09s -743ms -26.2%"
expect_line "ab-many: request-only p50" "request-only p50 3.58ms 3.58ms +0 +0.0%"
expect_line "ab-many: request-only p90" "request-only p90 6.02ms 6.02ms +0 +0.0%"
expect_line "ab-many: request-only p99" "request-only p99 8.52ms 8.52ms +0 +0.0%"
expect_row "ab-many: stats files" "stats files 12 12"
expect_row "ab-many: processes" "processes 12 12"
expect_row "ab-many: requests" "requests 120 120 +0 +0.0%"
expect_row "ab-many: connections" "connections 120 12 -108 -90.0%"
expect_row "ab-many: connections/request" "connections/request 1.000 0.100 -0.900 -90.0%"
expect_row "ab-many: reuse ratio" "reuse ratio 0.000 0.900 +0.900 -"
expect_interval "ab-many: latency p50 interval holds its change" "latency p50" "contains -15.9"
expect_interval "ab-many: a clear latency gain excludes 0" "latency p50" "excludes 0"
expect_interval "ab-many: job time interval holds its change" "job time" "contains -26.2"
expect_interval "ab-many: a clear job-time gain excludes 0" "job time" "excludes 0"
expect_interval "ab-many: the same request-only latency holds 0" "request-only p50" "contains 0"
expect_interval "ab-many: request-only p90 holds 0" "request-only p90" "contains 0"
expect_eq "ab-many: the one warning is p99's, per arm" "$(warnings_of | tr '\n' '|')" \
"warning: A (off) has 120 requests: p99 rests on fewer than 10 requests above it (it needs 1000)|warning: B (on) has 120 requests: p99 rests on fewer than 10 requests above it (it needs 1000)|"
cp "$TMP/out" "$TMP/many.out"
run "$KS" compare "$MANY/off" "$MANY/on"
cmp -s "$TMP/out" "$TMP/many.out" && pass "ab-many: the same files print the same intervals" \
	|| fail "ab-many: a second run differs"
run "$KS" compare --by-arm "$MANY/off" "$MANY/on"
expect_line "ab-many --by-arm: job time" "job time 2.83s 2.09s -743ms -26.2%"
run "$KS" compare "$MANY/off" "$MANY/off"
for row in "latency p50" "latency p90" "job time" "request-only p50"; do
	expect_interval "ab-many self-comparison (by process)" "$row" "contains 0"
done
expect_interval "ab-many self-comparison: job time's interval is not a point" "job time" "straddles 0"

# A few thousand processes: sparse buckets keep the bootstrap fast.
mkdir -p "$TMP/many/off" "$TMP/many/on"
for arm in off on; do
	awk -v dir="$TMP/many/$arm" '
		function copies(   base, i, f) {
			base = name; sub(/.*\//, "", base)
			for (i = 0; i < 125; i++) { f = dir "/" i "-" base; printf "%s", text > f; close(f) }
		}
		FNR == 1 && NR > 1 { copies(); text = "" }
		{ name = FILENAME; text = text $0 "\n" }
		END { copies() }' "$MANY/$arm"/*.prom
done
start_ns=$(date +%s%N)
run "$KS" compare "$TMP/many/off" "$TMP/many/on"
took_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
[ "$RC" -eq 0 ] && [ "$took_ms" -lt 3000 ] && pass "compare of 2 x 1500 processes: ${took_ms} ms" \
	|| fail "compare of 2 x 1500 processes: exit $RC, ${took_ms} ms"
expect_line "2 x 1500 processes: same quantiles" "latency p50 5.07ms 4.26ms -806us -15.9%"

# Files from an older keepwarm: coarse buckets only.
run "$KS" compare "$FIX/coarse-only/stats-off.prom" "$FIX/coarse-only/stats-on.prom"
expect_row "older files: no wait latency" "latency p50 - - - - -"
expect_row "older files: no job time" "job time - - - - -"
expect_row "older files: request-only p50 interpolated, no interval" "request-only p50 4.82ms 2ms -2.82ms -58.5% -"
expect_row "older files: request-only p90" "request-only p90 24.5ms 80ms +55.5ms +226.5% -"
expect_row "older files: request-only p99" "request-only p99 47.4ms 880ms +833ms +1757.5% -"
expect_row "older files: connections as before" "connections 21 4 -17 -81.0%"
for arm in "A (off)" "B (on)"; do
	expect_row "older files: $arm falls back, with a warning" \
		"warning: $arm has no fine buckets (stats files from an older keepwarm): its quantiles interpolate the coarse buckets, may be off by a whole bucket, and have no interval"
	expect_row "older files: $arm has no wait" \
		"warning: $arm has no wait latency (keepwarm_request_wait_seconds; stats files from an older keepwarm): the latency lines are -"
	expect_row "older files: $arm has no run time" \
		"warning: $arm has no process run time (keepwarm_process_run_seconds; stats files from an older keepwarm): job time is -"
done
run "$KS" compare --a "$FIX/coarse-only/stats-off.prom" --a "$FIX/stats-off.prom" --b "$FIX/stats-on.prom"
expect_row "older and newer files in one side: a warning" \
	"warning: A (off): some of its stats files have no fine buckets (from an older keepwarm): its quantiles interpolate the coarse buckets, may be off by a whole bucket, and have no interval"
expect_interval "older and newer files in one side: no interval" "request-only p50" "none"

# A process still running when its stats file was last written.
sed 's/^\(keepwarm_process_exited{.*}\) 1$/\1 0/' "$FIX/stats-on.prom" >"$TMP/running.prom"
run "$KS" compare "$FIX/stats-off.prom" "$TMP/running.prom"
expect_row "compare: a process that had not exited" \
	"warning: B (on): 1 of 1 processes had not exited when their stats file was last written: job time counts their run so far"

for f in "bad-value.prom:7" "bad-line.prom:4" "bad-label.prom:2" "bad-buckets.prom:5" \
         "short-histogram.prom:5" "no-pid.log:2" "bad-idle.log:4" "bucket-after-inf.prom:17" \
         "bad-fine-bucket.prom:3" "bad-fine-fraction.prom:2" "bad-ms.log:4" "bad-request-ms.log:3"; do
	file=$FIX/malformed/${f%%:*}
	run "$KS" summary "$file"
	if [ "$RC" -eq 1 ] && head -n 1 "$TMP/err" | grep -qF "keepwarm-stat: $file:${f#*:}: " &&
		! grep -qv '^keepwarm-stat: ' "$TMP/err"; then
		pass "malformed ${f%%:*}: $(head -n 1 "$TMP/err" | sed "s|$FIX/malformed/||")"
	else
		fail "malformed $f: exit $RC, stderr: $(cat "$TMP/err")"
	fi
done
run "$KS" compare "$FIX/stats-on.prom" "$FIX/trace.log"
expect_status "compare rejects a trace log" 1 "$FIX/trace.log:1: "
# Usage errors: exit 2, nothing on stdout, every line of stderr starting
# "keepwarm-stat: ", the first naming what was wrong.
expect_usage_error() { # NAME FIRST-LINE ARGS...
	local name=$1 want=$2
	shift 2
	run "$KS" "$@"
	if [ "$RC" -eq 2 ] && [ ! -s "$TMP/out" ] && [ "$(head -n 1 "$TMP/err")" = "$want" ] &&
		! grep -qv '^keepwarm-stat: ' "$TMP/err"; then
		pass "$name: $want"
	else
		fail "$name: exit $RC, stderr: $(tr '\n' '|' <"$TMP/err"), expected first line '$want'"
	fi
}
A=$FIX/stats-off.prom
B=$FIX/stats-on.prom
expect_usage_error "keepwarm-stat without a command" \
	"keepwarm-stat: a command is needed: summary or compare"
expect_usage_error "unknown command" \
	"keepwarm-stat: unknown command 'frobnicate'; use summary or compare" frobnicate
expect_usage_error "help for an unknown command" \
	"keepwarm-stat: unknown command 'frobnicate'; use summary or compare" help frobnicate
expect_usage_error "an option before the command" \
	"keepwarm-stat: unknown option '--by-dest'; a command comes first: summary or compare" --by-dest "$A" "$B"
expect_usage_error "unknown option to compare" \
	"keepwarm-stat: unknown option '--frob' to compare" compare --frob "$A" "$B"
expect_usage_error "unknown option to compare, with a value" \
	"keepwarm-stat: unknown option '--frob' to compare" compare --frob=3 "$A" "$B"
expect_usage_error "unknown short option to compare" \
	"keepwarm-stat: unknown option '-x' to compare" compare -x "$A" "$B"
expect_usage_error "unknown option to summary" \
	"keepwarm-stat: unknown option '--frob' to summary" summary --frob "$FIX/trace.log"
expect_usage_error "an ambiguous abbreviation" \
	"keepwarm-stat: option '--by' of compare is ambiguous: --by-arm or --by-dest" compare --by "$A" "$B"
expect_usage_error "a value to an option that takes none" \
	"keepwarm-stat: --by-dest takes no value" compare --by-dest=yes "$A" "$B"
expect_usage_error "--help with a value" "keepwarm-stat: --help takes no value" summary --help=yes
expect_usage_error "--plot without its value" \
	"keepwarm-stat: --plot needs a file name" compare "$A" "$B" --plot
cd "$TMP" || exit 1
expect_usage_error "--plot takes only a .svg name" \
	"keepwarm-stat: --plot needs a file name ending in .svg, not 'off'" compare --plot off "$B"
[ ! -e "$TMP/off" ] && pass "--plot off: no file named off" || fail "--plot off wrote a file named off"
cd - >/dev/null || exit 1
expect_usage_error "--plot=FILE takes only a .svg name" \
	"keepwarm-stat: --plot needs a file name ending in .svg, not 'plot.png'" compare --plot=plot.png "$A" "$B"
expect_usage_error "--plot does not take the next option" \
	"keepwarm-stat: --plot needs a file name ending in .svg, not '--by-dest'" compare --plot --by-dest "$A" "$B"
expect_usage_error "--a without its value" "keepwarm-stat: --a needs a path" compare --b "$B" --a
expect_usage_error "--b without its value" "keepwarm-stat: --b needs a path" compare --a "$A" --b
expect_usage_error "summary reads standard input once" \
	"keepwarm-stat: standard input (-) can be read once, not for two FILEs" summary - -
expect_usage_error "compare reads standard input for one side at most" \
	"keepwarm-stat: standard input (-) can be read once, for one side at most" compare - -
expect_usage_error "compare --a - --b -" \
	"keepwarm-stat: standard input (-) can be read once, for one side at most" compare --a - --b -
expect_usage_error "summary without a file" "keepwarm-stat: summary needs at least one FILE" summary
expect_usage_error "compare with one side" "keepwarm-stat: compare needs two paths, A and B" compare "$A"
expect_usage_error "compare --a without --b" \
	"keepwarm-stat: compare needs --a and --b paths, and nothing else" compare --a "$A"
expect_usage_error "compare --by-arm with --a" \
	"keepwarm-stat: compare --by-arm takes paths, and no --a or --b" compare --by-arm --a "$A" "$B"
grep -qxF "keepwarm-stat: try 'keepwarm-stat compare --help'" "$TMP/err" &&
	pass "a usage error of compare points at compare --help" || fail "usage error hint: $(cat "$TMP/err")"
run "$KS" summary "$TMP/nonexistent"
expect_status "missing file" 1 "keepwarm-stat: $TMP/nonexistent: No such file or directory"
run "$KS" compare "$FIX/stats-on.prom" "$TMP/nonexistent"
expect_status "compare, missing side" 1 "keepwarm-stat: $TMP/nonexistent: No such file or directory"
mkdir -p "$TMP/empty-dir"
run "$KS" compare "$FIX/stats-on.prom" "$TMP/empty-dir"
expect_status "compare, a directory without stats files" 1 \
	"keepwarm-stat: $TMP/empty-dir: no stats files in this directory"
: >"$TMP/empty.prom"
run "$KS" compare "$FIX/stats-on.prom" "$TMP/empty.prom"
expect_status "compare, an empty file" 1 "keepwarm-stat: $TMP/empty.prom: empty, not a stats file"
run "$KS" compare --plot "$TMP/no-such-dir/plot.svg" "$FIX/stats-off.prom" "$FIX/stats-on.prom"
expect_status "compare --plot into a missing directory" 1 \
	"keepwarm-stat: $TMP/no-such-dir/plot.svg: No such file or directory"

# ------------------------------------ the stats file the library writes

# requests, dialed, reused and reuse ratio of the kwtestd row of a summary.
counts() { squeezed | awk -v dest="127.0.0.1:$SERVER_PORT" '$1 == dest { print $2, $3, $4, $5 }'; }

# A parser of our own for the Prometheus text format, used when promtool is
# not installed: the line grammar, TYPE before samples, and histograms whose
# buckets are cumulative, end in +Inf and agree with _count.
prom_check() {
	awk '
	function bad(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"; failed = 1 }
	FNR == 1 { split("", type); split("", inf); last_key = "" } # each file on its own
	/^[ \t]*$/ { next }
	/^# TYPE / {
		if ($0 !~ /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/) bad("bad TYPE")
		if ($3 in type) bad("second TYPE for " $3)
		type[$3] = $4; next
	}
	/^# HELP / { if ($0 !~ /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]*( .*)?$/) bad("bad HELP"); next }
	/^#/ { next }
	{
		label = "[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
		if ($0 !~ ("^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{(" label "(," label ")*,?)?\\})? (NaN|[+-]?Inf|[+-]?[0-9]+(\\.[0-9]*)?([eE][+-]?[0-9]+)?|[+-]?\\.[0-9]+([eE][+-]?[0-9]+)?)( -?[0-9]+)?$")) {
			bad("not a sample: " $0); next
		}
		name = $0; sub(/[{ ].*/, "", name)
		family = name; sub(/_(bucket|sum|count)$/, "", family)
		if (!(name in type) && !(family in type && type[family] == "histogram")) bad("no TYPE before " name)
		if (name ~ /^keepwarm_/ && ($0 !~ /[{,]arm="/ || $0 !~ /[{,]pid="/)) bad("no arm or pid label")
		value = $NF; series = $0; sub(/ [^ ]*$/, "", series)
		if (name ~ /_bucket$/) {
			le = series; sub(/.*le="/, "", le); sub(/".*/, "", le)
			key = series; sub(/,?le="[^"]*"/, "", key); sub(/_bucket/, "", key)
			if (key == last_key && value + 0 < last_value + 0) bad("bucket count decreases")
			last_key = key; last_value = value
			if (le == "+Inf") inf[key] = value
		} else if (name ~ /_count$/ && family in type && type[family] == "histogram") {
			key = series; sub(/_count/, "", key)
			if (!(key in inf)) bad("histogram without a +Inf bucket")
			else if (inf[key] != value) bad("_count differs from the +Inf bucket")
		}
	}
	END { exit failed }' "$@"
}
run prom_check "$FIX/stats-on.prom" "$FIX/stats-off.prom"
expect_status "our Prometheus parser accepts the fixtures" 0
run prom_check "$FIX/malformed/bad-buckets.prom"
expect_status "our Prometheus parser rejects decreasing buckets" 1 "bucket count decreases"

mkdir -p "$TMP/stats"
before=$(server_conns)
# One process's own counts: no broker (another run's parked connections).
run "$KW" --no-broker --stats "$TMP/stats/on.%p.prom" --trace "$TMP/real.trace" -- \
	"$BLOCKING" --host 127.0.0.1 --port "$SERVER_PORT" --requests 10
run "$KW" --no-broker --sample 0 --stats "$TMP/stats/off.%p.prom" -- \
	"$BLOCKING" --host 127.0.0.1 --port "$SERVER_PORT" --requests 10
expect_eq "--stats and --sample 0 runs: 1 + 10 connections" $(( $(server_conns) - before )) 11
on_file=$(ls "$TMP"/stats/on.*.prom 2>/dev/null | head -n 1)
off_file=$(ls "$TMP"/stats/off.*.prom 2>/dev/null | head -n 1)
if [ -n "$on_file" ] && [ -n "$off_file" ]; then
	pass "the library wrote a stats file per process (%p expanded)"
	grep -q "^keepwarm_info{.*,version=\"$VERSION\",build_id=\"[0-9a-f]*\"} 1\$" "$on_file" &&
		pass "the stats file's version label is debian/changelog's" ||
		fail "stats version label: $(grep keepwarm_info "$on_file")"
	grep -q '^keepwarm_info{arm="off"' "$off_file" && pass "--sample 0: the process is in the off arm" \
		|| fail "--sample 0: $(grep keepwarm_info "$off_file")"
	# Counts only: the percentiles depend on timing.
	run "$KS" summary "$on_file"
	expect_eq "keepwarm-stat reads the library's stats file (exit $RC)" "$(counts)" "10 1 9 0.900"
	run "$KS" summary "$TMP/real.trace"
	expect_eq "keepwarm-stat reads the library's trace (exit $RC)" "$(counts)" "10 1 9 0.900"
	run "$KS" compare --by-arm --plot "$TMP/real.svg" "$TMP/stats"
	expect_row "compare --by-arm on the library's files: connections" "connections 10 1 -9 -90.0%"
	expect_row "compare --by-arm on the library's files: requests" "requests 10 10 +0 +0.0%"
	svg_ok "$TMP/real.svg" && pass "compare --plot on the library's files" || fail "real.svg"
	if [ -x /usr/bin/promtool ]; then
		run /usr/bin/promtool check metrics <"$on_file"
		expect_status "promtool check metrics accepts the stats file" 0
	else
		run prom_check "$on_file" "$off_file"
		expect_status "the stats files parse (own parser; promtool is not installed)" 0
	fi
else
	fail "the library wrote no stats files: $(ls "$TMP/stats")"
fi

# A trace sent to stderr with the program's own lines, piped into summary -.
"$KW" --no-broker --trace stderr -- sh -c 'echo starting >&2; "$@"; echo done' sh \
	"$BLOCKING" --host 127.0.0.1 --port "$SERVER_PORT" --requests 10 2>&1 |
	"$KS" summary - >"$TMP/out" 2>"$TMP/err"
RC=${PIPESTATUS[1]}
expect_eq "keepwarm --trace stderr ... 2>&1 | keepwarm-stat summary - (exit $RC)" "$(counts)" "10 1 9 0.900"
grep -qxE 'keepwarm-stat: \(stdin\): skipped [0-9]+ lines that are not trace lines \(first at line [0-9]+\)' "$TMP/err" &&
	pass "the program's own lines in the trace: skipped and counted" ||
	fail "the program's own lines in the trace: $(cat "$TMP/err")"

# ------------------------------------------------------ install/uninstall

DEST=$TMP/dest
INSTALLED="usr/lib/keepwarm/libkeepwarm.so usr/bin/keepwarm usr/bin/keepwarm-stat usr/bin/keepwarmd
	usr/share/man/man1/keepwarm.1 usr/share/man/man1/keepwarm-stat.1 usr/share/man/man1/keepwarmd.1
	usr/share/bash-completion/completions/keepwarm usr/share/bash-completion/completions/keepwarm-stat
	usr/lib/systemd/user/keepwarmd.socket usr/lib/systemd/user/keepwarmd.service"
run make -C "$ROOT" --no-print-directory install BUILD="$BUILD_DIR" DESTDIR="$DEST" PREFIX=/usr
[ "$RC" -eq 0 ] || fail "make install: exit $RC $(tail -c 500 "$TMP/err")"
missing=
for f in $INSTALLED; do [ -f "$DEST/$f" ] || missing="$missing $f"; done
expect_eq "make install puts the eleven files in place" "${missing:-none missing}" "none missing"
expect_eq "the installed user service runs the installed broker" \
	"$(grep '^ExecStart=' "$DEST/usr/lib/systemd/user/keepwarmd.service")" "ExecStart=/usr/bin/keepwarmd"
# systemd's own check of the two units (it runs here without systemd
# running), the broker's path moved to where DESTDIR put it.
if command -v systemd-analyze >/dev/null; then
	mkdir "$TMP/units"
	cp "$DEST/usr/lib/systemd/user/keepwarmd.socket" "$TMP/units/"
	sed "s|^ExecStart=/usr/bin/|ExecStart=$DEST/usr/bin/|" "$DEST/usr/lib/systemd/user/keepwarmd.service" \
		>"$TMP/units/keepwarmd.service"
	run env MANPATH="$DEST/usr/share/man" timeout 60 systemd-analyze --user verify \
		"$TMP/units/keepwarmd.socket" "$TMP/units/keepwarmd.service"
	expect_eq "systemd-analyze --user verify accepts the installed units (exit $RC: $(head -c 300 "$TMP/err"))" \
		"$RC" 0
fi
run "$DEST/usr/bin/keepwarm" -- env
expect_eq "installed launcher finds the installed library" "$(env_value LD_PRELOAD)" \
	"$DEST/usr/lib/keepwarm/libkeepwarm.so"
before=$(server_conns)
mkdir -m 700 "$KW_RUN/installed" # a runtime directory with no broker yet
XDG_RUNTIME_DIR=$KW_RUN/installed run "$DEST/usr/bin/keepwarm" -- "$BLOCKING" --host 127.0.0.1 \
	--port "$SERVER_PORT" --requests 5
expect_eq "installed launcher: 5 requests on 1 connection (exit $RC)" $(( $(server_conns) - before )) 1
pid=$(head -c 16 "$KW_RUN/installed/keepwarm/broker.lock" 2>/dev/null | tr -dc 0-9)
expect_eq "installed launcher starts the installed broker" "$(readlink "/proc/${pid:-0}/exe")" \
	"$DEST/usr/bin/keepwarmd"
if command -v man >/dev/null; then
	run man -l "$DEST/usr/share/man/man1/keepwarm.1"
	grep -q 'KEEPWARM_SAMPLE' "$TMP/out" && pass "installed man page renders" || fail "man -l: $(cat "$TMP/err")"
	run man -M "$DEST/usr/share/man" keepwarm-stat
	grep -q 'KEEPWARM-STAT' "$TMP/out" && pass "man keepwarm-stat works after make install" ||
		fail "man keepwarm-stat: $(head -c 300 "$TMP/err")"
fi
# Completion, as bash-completion would load it: options, subcommands, the
# program's own words after the program.
complete_words() { # WORD...: what TAB offers for the last word
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); f=_keepwarm
		[ "$1" = keepwarm-stat ] && f=_keepwarm_stat; $f; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$DEST/usr/share/bash-completion/completions/keepwarm" "$@"
}
[ "$(complete_words keepwarm --idle)" = "--idle-timeout" ] && pass "completion: keepwarm --idle<TAB>" ||
	fail "completion keepwarm --idle: $(complete_words keepwarm --idle | tr '\n' ' ')"
[ "$(complete_words keepwarm --reuse a)" = "always" ] && pass "completion: keepwarm --reuse a<TAB>" ||
	fail "completion --reuse: $(complete_words keepwarm --reuse a)"
# (In /, where no file starts with "au".)
got=$(cd / && complete_words keepwarm --broker au)
expect_eq "completion: keepwarm --broker au<TAB>" "$got" auto
expect_eq "completion: the value of --broker-linger skipped, --no-b<TAB>" \
	"$(complete_words keepwarm --broker-linger 1m --no-b)" --no-broker
[ "$(complete_words keepwarm-stat comp)" = "compare" ] && pass "completion: keepwarm-stat comp<TAB>" ||
	fail "completion keepwarm-stat: $(complete_words keepwarm-stat comp)"
[ "$(complete_words keepwarm-stat compare --by-d)" = "--by-dest" ] && pass "completion: compare --by-d<TAB>" ||
	fail "completion compare: $(complete_words keepwarm-stat compare --by-d)"
# Every option --help lists is offered, and nothing else.
help_opts=$("$KW" --help | grep -oE '^  (-h, )?--[a-z-]+' | sed 's/.*--/--/' | sort | tr '\n' ' ')
comp_opts=$(complete_words keepwarm - | grep -v '^--$' | sort | tr '\n' ' ')
expect_eq "completion offers exactly the options keepwarm --help lists" "$comp_opts" "$help_opts"
run make -C "$ROOT" --no-print-directory uninstall BUILD="$BUILD_DIR" DESTDIR="$DEST" PREFIX=/usr
left=$(cd "$DEST" && find . -type f | sort | tr '\n' ' ')
expect_eq "make uninstall removes them (exit $RC)" "${left:-nothing left}" "nothing left"

stop_server
finish
