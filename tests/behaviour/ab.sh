#!/usr/bin/env bash
# ab.sh BUILD_DIR - an A/B run through an emulated 10 ms link, as a team
# would run one in staging: python3 http.client, a new connection per
# request, 30 requests per process, three processes per arm, the off arm with
# KEEPWARM=off. The link is tools/bench/delayproxy (--handshake-in-connect)
# with tools/bench/connectdelay.so, so a dial's handshake costs one round trip
# in connect(), where a program meets it.
#
# What must hold, by construction of the link rather than by speed: the off
# arm waits a round trip more per request (its connect()), so its wait p50
# exceeds the on arm's by at least one RTT; the exchange alone costs one round
# trip in both arms, so the request-only latencies agree within the fine
# buckets' resolution; the off arm's processes run longer; and keepwarm-stat
# compare says so, with an interval that excludes 0 for the gain and
# contains 0 when an arm is compared with itself.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: ab.sh BUILD_DIR}" && pwd -P)
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
KW_TMP_NAME=kw-ab
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
export HOME=$KW_TMP/home # no ~/.config/keepwarm/keepwarm.conf of the user's
mkdir -p "$HOME"
TMP=$KW_TMP
RTT_MS=10
PROXY_PID=

cleanup() { stop_pid "$PROXY_PID"; cleanup_lib; }
trap cleanup EXIT

MAKE_BUILD=$BUILD_DIR
case $BUILD_DIR in "$ROOT"/*) MAKE_BUILD=${BUILD_DIR#"$ROOT"/} ;; esac
setup "the link emulation built (make bench-tools)" env -u MAKEFLAGS -u MFLAGS \
	make -C "$ROOT" --no-print-directory BUILD="$MAKE_BUILD" lib tools bench-tools ||
	{ finish; exit; }

start_server || { finish; exit; }
"$BUILD_DIR/bench/delayproxy" --listen-port 0 --port-file "$TMP/proxy.port" \
	--target-port "$SERVER_PORT" --rtt-ms "$RTT_MS" --handshake-in-connect &
PROXY_PID=$!
for _ in $(seq 100); do [ -s "$TMP/proxy.port" ] && break; sleep 0.05; done
PORT=$(cat "$TMP/proxy.port" 2>/dev/null)
[ -n "$PORT" ] || { fail "delayproxy started"; finish; exit; }

cat >"$TMP/client.py" <<'EOF'
import http.client, sys
port = int(sys.argv[1])
for i in range(30):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/gen/512")
    body = c.getresponse().read()
    assert len(body) == 512, len(body)
    c.close()
EOF

mkdir -p "$TMP/stats"
for run in 1 2 3; do
	for arm in off on; do
		off=
		[ "$arm" = off ] && off=--off
		# keepwarm first in LD_PRELOAD: its dials go through connectdelay.
		LD_PRELOAD=$BUILD_DIR/bench/connectdelay.so CONNECT_DELAY_MS=$RTT_MS \
			"$BUILD_DIR/keepwarm" $off --stats "$TMP/stats/$arm.%p.prom" \
			--trace "$TMP/$arm.trace" -- python3 "$TMP/client.py" "$PORT" \
			>"$TMP/client.out" 2>&1 ||
			fail "run $run, arm $arm: client exit $? $(tail -n 3 "$TMP/client.out")"
	done
done

# Exact values from the trace: the median of a field of the request lines.
median() { # TRACE FIELD
	sed -n "s/.* event=request .*\\b$2=\\([0-9.]*\\).*/\\1/p" "$1" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "none" }'
}
n_off=$(grep -c ' event=request ' "$TMP/off.trace")
n_on=$(grep -c ' event=request ' "$TMP/on.trace")
expect() { # NAME CONDITION-FOR-AWK
	if awk "BEGIN { exit !($2) }"; then pass "$1"; else fail "$1 ($2)"; fi
}
[ "$n_off" -eq 90 ] && [ "$n_on" -eq 90 ] && pass "a request line per answered request: 90 per arm" ||
	fail "request lines: off $n_off, on $n_on, expected 90 each"
wait_off=$(median "$TMP/off.trace" ms) wait_on=$(median "$TMP/on.trace" ms)
req_off=$(median "$TMP/off.trace" request_ms) req_on=$(median "$TMP/on.trace" request_ms)
echo "trace medians: wait off $wait_off ms, on $wait_on ms; request-only off $req_off ms, on $req_on ms"
expect "trace: the off arm's wait p50 exceeds the on arm's by at least one RTT" \
	"$wait_off - $wait_on >= $RTT_MS"
# One fine bucket is 19 % wide.
expect "trace: request-only p50s agree within a fine bucket (19 %)" \
	"$req_off / $req_on < 1.19 && $req_on / $req_off < 1.19"

# The stats files: three per arm, each with its run time; the fine buckets
# hold the p50s as the trace has them.
for arm in off on; do
	n=$(ls "$TMP"/stats/$arm.*.prom 2>/dev/null | wc -l)
	[ "$n" -eq 3 ] && pass "arm $arm: a stats file per process (3)" || fail "arm $arm: $n stats files"
done
job() { # ARM: the run seconds of its processes, added up
	cat "$TMP"/stats/$1.*.prom | awk '/^keepwarm_process_run_seconds\{/ { t += $2 } END { print t + 0 }'
}
job_off=$(job off) job_on=$(job on)
echo "job time (3 processes): off ${job_off} s, on ${job_on} s"
expect "stats: the off arm's processes ran longer (job time)" "$job_off > $job_on"
fine_p50() { # ARM FROM: the bucket b of the median request
	cat "$TMP"/stats/$1.*.prom |
		sed -n "s/^keepwarm_request_fine_total{.*from=\"$2\",b=\"\(-*[0-9]*\)\"} \([0-9]*\)$/\1 \2/p" |
		sort -n | awk '{ b[NR] = $1; c[NR] = $2; n += $2 }
			END { for (i = 1; i <= NR; i++) { s += c[i]; if (s >= n / 2) { print b[i]; exit } } print "none" }'
}
for from in connect request; do
	b_off=$(fine_p50 off $from) b_on=$(fine_p50 on $from)
	echo "fine p50 bucket, from=$from: off $b_off, on $b_on"
	eval "b_${from}_off=\$b_off b_${from}_on=\$b_on"
done
expect "stats: the wait p50 is at least 3 fine buckets higher in the off arm (2 RTT against 1 is 4)" \
	"$b_connect_off - $b_connect_on >= 3"
expect "stats: request-only p50s within one fine bucket" \
	"$b_request_off - $b_request_on <= 1 && $b_request_on - $b_request_off <= 1"

# keepwarm-stat compare: the report leads with the gain, and says how sure.
row() { # FILE WHAT...: the squeezed row that starts with WHAT
	awk -v what="$2" '{ $1 = $1 } index($0, what " ") == 1 { print substr($0, length(what) + 2) }' "$1"
}
ms_of() { # a keepwarm-stat duration (12.3ms, 456us, 1.2s) in ms
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/) n *= 1000; print n }'
}
mkdir -p "$TMP/off" "$TMP/on"
mv "$TMP"/stats/off.*.prom "$TMP/off/" && mv "$TMP"/stats/on.*.prom "$TMP/on/"
"$BUILD_DIR/keepwarm-stat" compare "$TMP/off" "$TMP/on" >"$TMP/compare" 2>&1 ||
	fail "keepwarm-stat compare off on: exit $? $(head -c 300 "$TMP/compare")"
sed 's/^/    /' "$TMP/compare"
read -r a b _ change interval <<<"$(row "$TMP/compare" "latency p50")"
expect "compare: the off arm's wait p50 ($a) exceeds the on arm's ($b) by one RTT, to a fine bucket" \
	"$(ms_of "$a") - $(ms_of "$b") >= $RTT_MS / 1.19"
lo=${interval#[}; lo=${lo%%,*}; hi=${interval##*,}; hi=${hi%]}
expect "compare: the wait p50's change ($change) has an interval below 0 ($interval)" \
	"\"$interval\" ~ /^\\[/ && ${hi%\%} < 0 && ${lo%\%} <= ${change%\%} && ${change%\%} <= ${hi%\%}"
read -r a b _ change interval <<<"$(row "$TMP/compare" "job time")"
hi=${interval##*,}; hi=${hi%]}
expect "compare: job time falls ($a to $b, $change), with an interval below 0 ($interval)" \
	"\"$interval\" ~ /^\\[/ && ${hi%\%} < 0"
read -r a b _ change interval <<<"$(row "$TMP/compare" "request-only p50")"
expect "compare: request-only p50s within a fine bucket ($a, $b)" \
	"$(ms_of "$a") / $(ms_of "$b") < 1.19 && $(ms_of "$b") / $(ms_of "$a") < 1.19"
read -r a b _ <<<"$(row "$TMP/compare" "connections")"
# The on arm's three processes share one connection through the broker the
# launcher started for the first of them.
[ "$a $b" = "90 1" ] && pass "compare: 90 connections off, 1 on (its processes share through the broker)" ||
	fail "compare connections: $a $b"

# An arm against itself: every interval contains 0.
"$BUILD_DIR/keepwarm-stat" compare "$TMP/on" "$TMP/on" >"$TMP/self" 2>&1
bad=$(awk '{ $1 = $1 } /\[/ { iv = $NF; gsub(/[][%]/, "", iv); split(iv, e, ",");
	if (!(e[1] + 0 <= 0 && e[2] + 0 >= 0)) print }' "$TMP/self")
n=$(grep -c '\[' "$TMP/self")
[ -z "$bad" ] && [ "$n" -ge 7 ] && pass "compare on on: all $n intervals contain 0" ||
	fail "compare on on: intervals without 0: $bad ($n intervals)"

finish
