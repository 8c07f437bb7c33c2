#!/usr/bin/env bash
# config.sh BUILD_DIR - every KEEPWARM_* setting changes what the server sees
# the way the README says, malformed values warn once and fall back, the trace
# is well-formed logfmt, descriptor pressure is relieved, and the program's
# view of its sockets (numbers, flags, options, hidden parked fds) holds.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: config.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../common/lib.sh"
for v in $(compgen -e); do case "$v" in KEEPWARM*) unset "$v" ;; esac; done
unset LD_PRELOAD

LIB=$BUILD_DIR/libkeepwarm.so
CL=$BUILD_DIR/clients

# expect_conns NAME WANT ENV... -- CLIENT ARGS...: run CLIENT with the shim and
# the given environment; it must exit 0 and the server must count WANT new
# connections (a number, or a range LO-HI where threads race). The client's stderr is kept in $KW_TMP/stderr.
# HOST (default 127.0.0.1) is the address the client connects to.
expect_conns() {
	local name=$1 want=$2 before rc got
	shift 2
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	before=$(server_conns)
	timeout 60 env "${envs[@]}" LD_PRELOAD="$LIB" "$@" --host "${HOST:-127.0.0.1}" --port "$SERVER_PORT" \
		>"$KW_TMP/stdout" 2>"$KW_TMP/stderr"
	rc=$?
	got=$(( $(server_conns) - before ))
	local lo=${want%-*} hi=${want#*-} # WANT is a count or a range LO-HI
	if [ "$rc" -eq 0 ] && [ "$got" -ge "$lo" ] && [ "$got" -le "$hi" ]; then
		pass "config $name conns=$got (expected $want)"
	else
		fail "config $name conns=$got (expected $want) rc=$rc: $(head -c 300 "$KW_TMP/stderr")"
	fi
}

start_server || { finish; exit; }
B="$CL/blocking --path /gen/1000"

expect_conns "defaults" 1 X=1 -- $B --requests 10
expect_conns "KEEPWARM=off" 10 KEEPWARM=off KEEPWARM_TRACE="$KW_TMP/off.trace" -- $B --requests 10
if [ "$(grep -vc 'event=start arm=off version=[^ ]* build_id=[0-9a-f]*$' "$KW_TMP/off.trace")" -eq 0 ] && [ "$(wc -l <"$KW_TMP/off.trace")" -eq 1 ]; then
	pass "KEEPWARM=off traces only its start line (arm=off)"
else
	fail "KEEPWARM=off trace: $(cat "$KW_TMP/off.trace")"
fi
expect_conns "KEEPWARM=0" 10 KEEPWARM=0 -- $B --requests 10
expect_conns "KEEPWARM_MAX_REQUESTS=5" 4 KEEPWARM_MAX_REQUESTS=5 -- $B --requests 20
expect_conns "KEEPWARM_MAX_IDLE=0" 5 KEEPWARM_MAX_IDLE=0 -- $B --requests 5
expect_conns "KEEPWARM_MAX_IDLE_PER_HOST=0" 5 KEEPWARM_MAX_IDLE_PER_HOST=0 -- $B --requests 5
expect_conns "KEEPWARM_IDLE_TIMEOUT=50ms, 150 ms pauses" 4 KEEPWARM_IDLE_TIMEOUT=50ms \
	KEEPWARM_TRACE="$KW_TMP/expire.trace" -- $B --requests 4 --sleep-ms 150
if [ "$(grep -c 'event=expire' "$KW_TMP/expire.trace")" -eq 3 ]; then
	pass "idle timeout traces 3 expire events"
else
	fail "idle timeout traces 3 expire events: $(grep -c 'event=expire' "$KW_TMP/expire.trace")"
fi
expect_conns "KEEPWARM_IDLE_TIMEOUT=2m, 150 ms pauses" 1 KEEPWARM_IDLE_TIMEOUT=2m -- $B --requests 4 --sleep-ms 150
expect_conns "KEEPWARM_IDLE_TIMEOUT=0 (no idle limit), 150 ms pauses" 1 KEEPWARM_IDLE_TIMEOUT=0 -- $B --requests 4 --sleep-ms 150
expect_conns "KEEPWARM_IDLE_TIMEOUT=500us: refused, the default kept" 1 KEEPWARM_IDLE_TIMEOUT=500us -- $B --requests 4
grep -q 'keepwarm: KEEPWARM_IDLE_TIMEOUT="500us" is not a duration of 1ms or more, or 0 .*default 90s' "$KW_TMP/stderr" &&
	pass "a nonzero duration under 1ms is refused in one line, not read as 0" ||
	fail "KEEPWARM_IDLE_TIMEOUT=500us: $(cat "$KW_TMP/stderr")"
expect_conns "KEEPWARM=maybe: off (a typo never switches a control arm on)" 10 KEEPWARM=maybe -- $B --requests 10
grep -q 'keepwarm: KEEPWARM="maybe" is not on or off; using off' "$KW_TMP/stderr" &&
	pass "KEEPWARM=maybe warns that it is using off" || fail "KEEPWARM=maybe: $(cat "$KW_TMP/stderr")"
expect_conns "KEEPWARM_MAX_LIFETIME=10ms, 40 ms pauses" 4 KEEPWARM_MAX_LIFETIME=10ms -- $B --requests 4 --sleep-ms 40
expect_conns "KEEPWARM_TCP_KEEPALIVE=0" 1 KEEPWARM_TCP_KEEPALIVE=0 -- $B --requests 5

# A malformed value: one line naming the variable, the value and the default.
expect_conns "malformed KEEPWARM_IDLE_TIMEOUT" 1 KEEPWARM_IDLE_TIMEOUT=soon -- $B --requests 5
warn=$(grep -c 'keepwarm: KEEPWARM_IDLE_TIMEOUT="soon" .*default 90s' "$KW_TMP/stderr")
if [ "$warn" -eq 1 ] && [ "$(wc -l <"$KW_TMP/stderr")" -eq 1 ]; then
	pass "malformed value warns once on stderr"
else
	fail "malformed value warns once on stderr: $(cat "$KW_TMP/stderr")"
fi
expect_conns "malformed KEEPWARM_MAX_IDLE" 1 KEEPWARM_MAX_IDLE=-3 -- $B --requests 5
grep -q 'KEEPWARM_MAX_IDLE="-3".*default 100' "$KW_TMP/stderr" && pass "KEEPWARM_MAX_IDLE warning names the default" \
	|| fail "KEEPWARM_MAX_IDLE warning: $(cat "$KW_TMP/stderr")"
# A typo in a name is reported with the nearest setting; a script's
# commands do not repeat what their shell said (once per process tree).
timeout 60 env LD_PRELOAD="$LIB" KEEPWARM_MAX_IDEL=3 KEEPWARM_IDLE_TIMEOUT=soon KEEPWARM_SAMPLE=2 \
	KEEPWARM_DRAIN=lots KEEPWARM_REUSE=never sh -c 'true; true' 2>"$KW_TMP/stderr"
if [ "$(wc -l <"$KW_TMP/stderr")" -eq 5 ] &&
	grep -q '^keepwarm: KEEPWARM_MAX_IDEL is not a keepwarm setting (did you mean KEEPWARM_MAX_IDLE?); ignored$' "$KW_TMP/stderr"; then
	pass "5 bad settings under sh -c 'true; true': 5 lines, the unknown name with a hint"
else
	fail "bad settings under sh -c: $(wc -l <"$KW_TMP/stderr") lines: $(head -c 600 "$KW_TMP/stderr")"
fi
# The broker's settings: a socket that is not absolute and a bad linger each
# warn once, naming the value and the default used.
timeout 60 env LD_PRELOAD="$LIB" KEEPWARM_BROKER=relative/path KEEPWARM_BROKER_LINGER=soon \
	/bin/true 2>"$KW_TMP/stderr"
if [ "$(wc -l <"$KW_TMP/stderr")" -eq 2 ] &&
	grep -q '^keepwarm: KEEPWARM_BROKER="relative/path" is not .*; using the default auto$' "$KW_TMP/stderr" &&
	grep -q '^keepwarm: KEEPWARM_BROKER_LINGER="soon" is not a duration .*; using the default 600s$' "$KW_TMP/stderr"; then
	pass "bad KEEPWARM_BROKER and KEEPWARM_BROKER_LINGER: one line each, the defaults used"
else
	fail "bad broker settings: $(head -c 600 "$KW_TMP/stderr")"
fi

# KEEPWARM_DESTINATIONS: the first matching rule decides, default allow; a
# denied destination is passed straight through (traced dest-rule), an
# IPv4-mapped address matches IPv4 rules; a bad rule is named in one line
# and no rule applies.
P=$SERVER_PORT
expect_conns "KEEPWARM_DESTINATIONS deny this server" 10 KEEPWARM_DESTINATIONS="deny 127.0.0.1:$P" \
	KEEPWARM_TRACE="$KW_TMP/dest.trace" -- $B --requests 10
[ "$(grep -c 'event=passthrough .*reason=dest-rule' "$KW_TMP/dest.trace")/$(grep -cE 'event=(park|reuse|dial)' "$KW_TMP/dest.trace")" = "10/0" ] &&
	pass "a denied destination: 10 passthrough reason=dest-rule lines, nothing parked or reused" ||
	fail "denied destination trace: $(grep -v event=start "$KW_TMP/dest.trace" | head -n 3)"
expect_conns "KEEPWARM_DESTINATIONS first match wins (allow before deny *)" 1 \
	KEEPWARM_DESTINATIONS="deny 127.0.0.1:1, allow 127.0.0.0/8, deny *" -- $B --requests 10
expect_conns "KEEPWARM_DESTINATIONS deny *:port" 10 KEEPWARM_DESTINATIONS="allow 10.0.0.0/8; deny *:$P" -- $B --requests 10
expect_conns "KEEPWARM_DESTINATIONS deny another port" 1 KEEPWARM_DESTINATIONS="deny *:$((P == 65535 ? 1 : P + 1))" -- $B --requests 10
HOST=::ffff:127.0.0.1 expect_conns "KEEPWARM_DESTINATIONS IPv4-mapped address, IPv4 rule" 10 \
	KEEPWARM_DESTINATIONS="deny 127.0.0.0/8" -- $B --requests 10
HOST=::ffff:127.0.0.1 expect_conns "KEEPWARM_DESTINATIONS IPv4-mapped address, allowed" 1 \
	KEEPWARM_DESTINATIONS="deny 10.0.0.0/8" -- $B --requests 10
expect_conns "KEEPWARM_DESTINATIONS with a bad rule: no rule applies" 1 \
	KEEPWARM_DESTINATIONS="deny 127.0.0.1:$P, deny 127.0.0.1:99999" -- $B --requests 10
if [ "$(wc -l <"$KW_TMP/stderr")" -eq 1 ] &&
	grep -q "^keepwarm: KEEPWARM_DESTINATIONS=\"deny 127.0.0.1:$P, deny 127.0.0.1:99999\": rule 2 \"deny 127.0.0.1:99999\": the port is not 1 to 65535, nor \*; using the default (none: every destination followed)\$" "$KW_TMP/stderr"; then
	pass "a bad KEEPWARM_DESTINATIONS rule: one line naming rule 2 and its fault"
else
	fail "bad KEEPWARM_DESTINATIONS: $(head -c 600 "$KW_TMP/stderr")"
fi
for bad in "permit 10.0.0.1" "deny" "deny 10.0.0.0/33" "deny [::1:80" "deny 10.0.0.1 allow 10.0.0.2" "deny example.com"; do
	timeout 60 env LD_PRELOAD="$LIB" KEEPWARM_DESTINATIONS="$bad" /bin/true 2>"$KW_TMP/stderr"
	if [ "$(wc -l <"$KW_TMP/stderr")" -eq 1 ] && grep -q "^keepwarm: KEEPWARM_DESTINATIONS=\".*\": rule 1 \".*\": .*; using the default" "$KW_TMP/stderr"; then
		pass "KEEPWARM_DESTINATIONS=\"$bad\": one line naming rule 1"
	else
		fail "KEEPWARM_DESTINATIONS=\"$bad\": $(head -c 400 "$KW_TMP/stderr")"
	fi
done

# KEEPWARM_CONNECT_TIMEOUT against a listener that never answers (its
# backlog full): a blocking connect() fails with ETIMEDOUT, SO_ERROR 0, and
# may connect again; a shorter SO_SNDTIMEO of the program's wins (the
# kernel's EINPROGRESS, as without keepwarm), a longer one does not; a
# non-blocking connect and one a signal interrupts are the program's.
cat >"$KW_TMP/connect_timeout.py" <<'PYEOF'
import errno, signal, socket, struct, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(0)
port = l.getsockname()[1]
fill = []
for i in range(3):
    s = socket.socket(); s.setblocking(False)
    try: s.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(s)
time.sleep(0.2)
good = socket.socket(); good.bind(("127.0.0.1", 0)); good.listen(8)
class Alarm(Exception): pass
def on_alarm(sig, frame): raise Alarm()
signal.signal(signal.SIGALRM, on_alarm)
def attempt(case):
    s = socket.socket()
    if case.startswith("sndtimeo"):
        ms = int(case[8:])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", ms // 1000, ms % 1000 * 1000))
    if case == "nonblocking":
        s.setblocking(False)
    if case == "signal":
        signal.setitimer(signal.ITIMER_REAL, 0.15)
    try:
        s.connect(("127.0.0.1", port)); r = "connected"
    except Alarm:
        r = "interrupted"
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    s.setblocking(True)
    # bounded: an attempt still in progress makes this one wait for it
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 0, 200000))
    try:
        s.connect(good.getsockname()); again = "connects again"
    except OSError as e:
        again = "again: " + errno.errorcode.get(e.errno, str(e.errno))
    print(case, r, "SO_ERROR=%d" % err, again)
    s.close()
for case in sys.argv[1:]:
    attempt(case)
PYEOF
ct() { # ENV... -- CASES...: the script's output, under keepwarm with ENV
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	timeout 60 env "${envs[@]}" /usr/bin/python3 "$KW_TMP/connect_timeout.py" "$@" 2>&1
}
got=$(ct LD_PRELOAD="$LIB" KEEPWARM_CONNECT_TIMEOUT=300ms KEEPWARM_TRACE="$KW_TMP/ct.trace" -- blocking sndtimeo5000)
want="blocking ETIMEDOUT SO_ERROR=0 connects again
sndtimeo5000 ETIMEDOUT SO_ERROR=0 connects again"
expect_eq() { [ "$2" = "$3" ] && pass "$1" || fail "$1: got '$(echo "$2" | tr '\n' '|')', want '$(echo "$3" | tr '\n' '|')'"; }
expect_eq "KEEPWARM_CONNECT_TIMEOUT=300ms: ETIMEDOUT, SO_ERROR 0, connect() again; a longer SO_SNDTIMEO does not win" "$got" "$want"
expect_eq "KEEPWARM_CONNECT_TIMEOUT: 2 discard reason=connect-timeout lines" \
	"$(grep -c 'event=discard .*reason=connect-timeout' "$KW_TMP/ct.trace")" 2
expect_eq "KEEPWARM_CONNECT_TIMEOUT: a shorter SO_SNDTIMEO, a non-blocking connect and a signal as without keepwarm" \
	"$(ct LD_PRELOAD="$LIB" KEEPWARM_CONNECT_TIMEOUT=1s -- sndtimeo100 nonblocking signal)" \
	"$(ct X=1 -- sndtimeo100 nonblocking signal)"
expect_eq "KEEPWARM_CONNECT_TIMEOUT unset: a shorter SO_SNDTIMEO as without keepwarm" \
	"$(ct LD_PRELOAD="$LIB" -- sndtimeo100)" "$(ct X=1 -- sndtimeo100)"
expect_conns "malformed KEEPWARM_CONNECT_TIMEOUT" 1 KEEPWARM_CONNECT_TIMEOUT=soon -- $B --requests 5
grep -q '^keepwarm: KEEPWARM_CONNECT_TIMEOUT="soon" is not a duration .*; using the default 0 (off)$' "$KW_TMP/stderr" &&
	pass "malformed KEEPWARM_CONNECT_TIMEOUT: one line, the default used" ||
	fail "malformed KEEPWARM_CONNECT_TIMEOUT: $(cat "$KW_TMP/stderr")"

# The trace: logfmt, known events, one line per write even from many threads.
expect_conns "trace to a file, 4 threads" 1-4 KEEPWARM_TRACE="$KW_TMP/t.trace" -- \
	"$CL/threads" --threads 4 --requests 50 --path /gen/100
if [ -x "$CL/threads" ]; then
	bad=$(grep -Evc '^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z pid=[0-9]+ event=(start|dial|reuse|park|expire|evict|stale|discard|passthrough|taint|upgrade|eof|drain|fresh|replay|learn|request)( fd=[0-9]+)?( dest=[^ ]+)?( reason=[a-z0-9-]+)?( arm=(on|off))?( version=[0-9A-Za-z.+~-]+)?( build_id=[0-9a-f]+)?( idle_ms=[0-9]+)?( requests=[0-9]+)?( ms=[0-9]+\.[0-9]{3} request_ms=[0-9]+\.[0-9]{3})?$' "$KW_TMP/t.trace")
	[ "$bad" -eq 0 ] && [ "$(grep -c event=reuse "$KW_TMP/t.trace")" -ge 196 ] \
		&& pass "trace lines are well-formed logfmt ($(wc -l <"$KW_TMP/t.trace") lines)" \
		|| fail "trace lines are well-formed logfmt: $bad bad lines"
	n=$(grep -c ' event=request .* ms=' "$KW_TMP/t.trace")
	[ "$n" -eq 200 ] && pass "a request line with its latencies per answered request (200)" \
		|| fail "request lines: $n, expected 200"
fi
expect_conns "trace to stderr" 1 KEEPWARM_TRACE=stderr -- $B --requests 3
[ "$(grep -c 'event=reuse' "$KW_TMP/stderr")" -eq 2 ] && pass "trace to stderr shows 2 reuses" \
	|| fail "trace to stderr: $(cat "$KW_TMP/stderr")"

# A/B arms: KEEPWARM_SAMPLE decides once per process; the off arm with a
# stats file is measured but never reused.
expect_conns "KEEPWARM_SAMPLE=0" 5 KEEPWARM_SAMPLE=0 KEEPWARM_TRACE="$KW_TMP/s0.trace" -- $B --requests 5
grep -q 'event=start arm=off' "$KW_TMP/s0.trace" && pass "KEEPWARM_SAMPLE=0 is the off arm" || fail "KEEPWARM_SAMPLE=0 arm: $(head -1 "$KW_TMP/s0.trace")"
expect_conns "KEEPWARM_SAMPLE=1" 1 KEEPWARM_SAMPLE=1 KEEPWARM_TRACE="$KW_TMP/s1.trace" -- $B --requests 5
grep -q 'event=start arm=on' "$KW_TMP/s1.trace" && pass "KEEPWARM_SAMPLE=1 is the on arm" || fail "KEEPWARM_SAMPLE=1 arm"
on=0
for i in $(seq 40); do
	KEEPWARM_SAMPLE=0.5 KEEPWARM_TRACE="$KW_TMP/half.trace" LD_PRELOAD="$LIB" /bin/true
done
on=$(grep -c 'arm=on' "$KW_TMP/half.trace"); off=$(grep -c 'arm=off' "$KW_TMP/half.trace")
[ $((on + off)) -eq 40 ] && [ "$on" -ge 5 ] && [ "$off" -ge 5 ] && pass "KEEPWARM_SAMPLE=0.5 splits 40 processes ($on on, $off off)" \
	|| fail "KEEPWARM_SAMPLE=0.5 split: $on on, $off off"
expect_conns "off arm with stats" 5 KEEPWARM=off KEEPWARM_STATS="$KW_TMP/off.%p.prom" -- $B --requests 5
f=$(ls "$KW_TMP"/off.*.prom 2>/dev/null | head -1)
if [ -n "$f" ] && grep -q 'keepwarm_requests_total{arm="off",pid="[0-9]*",dest="127.0.0.1:'"$SERVER_PORT"'"} 5$' "$f" \
	&& grep -q 'event="reused"} 0$' "$f" && grep -q 'event="dialed"} 5$' "$f"; then
	pass "off arm stats: 5 requests, 5 dialed, 0 reused"
else
	fail "off arm stats: $(grep -E 'requests_total|dialed|reused' "$f" 2>/dev/null)"
fi
# A process that follows no connection (a wrapped script's shell, grep, ...)
# writes no stats file, so a comparison counts only the processes that did.
timeout 60 env LD_PRELOAD="$LIB" KEEPWARM_STATS="$KW_TMP/bystander.%p.prom" KEEPWARM_STATS_INTERVAL=1ms \
	sh -c 'echo x | grep -q x; sleep 0.05; true'
if ! ls "$KW_TMP"/bystander.*.prom >/dev/null 2>&1; then
	pass "processes that follow no connection write no stats file"
else
	fail "bystander stats files: $(ls "$KW_TMP"/bystander.*.prom)"
fi
expect_conns "on arm with stats" 1 KEEPWARM_STATS="$KW_TMP/on.prom" -- $B --requests 5
if grep -q 'keepwarm_requests_total{arm="on",pid="[0-9]*",dest="127.0.0.1:'"$SERVER_PORT"'"} 5$' "$KW_TMP/on.prom" \
	&& grep -q 'event="reused"} 4$' "$KW_TMP/on.prom" && grep -q 'event="dialed"} 1$' "$KW_TMP/on.prom" \
	&& grep -q 'keepwarm_request_duration_seconds_count{arm="on",pid="[0-9]*",dest="[^"]*"} 5$' "$KW_TMP/on.prom"; then
	pass "on arm stats: 5 requests, 1 dialed, 4 reused, 5 latencies"
else
	fail "on arm stats: $(grep -E 'requests_total|dialed|reused|_count' "$KW_TMP/on.prom")"
fi
ls "$KW_TMP"/on.prom.tmp.* >/dev/null 2>&1 && fail "stats temp file left behind" || pass "stats written by rename, no temp file left"
# keepwarm's version and build id (the library's own NT_GNU_BUILD_ID) on the
# trace's start line and in keepwarm_info; reasons counted by event and
# reason, TLS and plain apart (close-style requests not upgraded: each
# connection is discarded with its reason).
BUILD_ID=$(readelf -n "$LIB" | sed -n 's/^ *Build ID: *//p')
VERSION=$(kw_version)
expect_conns "stats and trace with version and build id" 3 KEEPWARM_STATS="$KW_TMP/why.prom" \
	KEEPWARM_TRACE="$KW_TMP/why.trace" KEEPWARM_UPGRADE=off -- $B --requests 3 --connection-close
if [ -n "$BUILD_ID" ] &&
	grep -q "event=start arm=on version=$VERSION build_id=$BUILD_ID\$" "$KW_TMP/why.trace" &&
	grep -q "^keepwarm_info{arm=\"on\",pid=\"[0-9]*\",program=\"blocking\",version=\"$VERSION\",build_id=\"$BUILD_ID\"} 1\$" "$KW_TMP/why.prom"; then
	pass "version $VERSION and build id $BUILD_ID on the trace's start line and in keepwarm_info"
else
	fail "version and build id: $(head -n 1 "$KW_TMP/why.trace") / $(grep '^keepwarm_info' "$KW_TMP/why.prom")"
fi
reasons=$(awk '/^keepwarm_reasons_total/ { print $1, $2 }' "$KW_TMP/why.prom")
traced=$(grep -c 'event=discard' "$KW_TMP/why.trace")
if [ -n "$reasons" ] && [ "$(awk '{ s += $2 } END { print s }' <<<"$reasons")" -eq "$traced" ] &&
	! grep -v 'tls="0"' <<<"$reasons" | grep -q .; then
	pass "keepwarm_reasons_total: the $traced traced discards by reason, plain ($(tr '\n' ' ' <<<"$reasons"))"
else
	fail "keepwarm_reasons_total: '$reasons' against $traced discard lines"
fi
# One path without %p for a script's two clients: the second says, once,
# that they replace each other's file.
rm -f "$KW_TMP/shared.prom"
timeout 60 env LD_PRELOAD="$LIB" KEEPWARM_STATS="$KW_TMP/shared.prom" sh -c \
	"$B --host 127.0.0.1 --port $SERVER_PORT --requests 2; $B --host 127.0.0.1 --port $SERVER_PORT --requests 2" \
	>/dev/null 2>"$KW_TMP/stderr"
if [ "$(grep -c "^keepwarm: KEEPWARM_STATS=$KW_TMP/shared.prom is also written by process [0-9]*: each process replaces the other's; put %p in the path for a file per process$" "$KW_TMP/stderr")" -eq 1 ] &&
	[ "$(wc -l <"$KW_TMP/stderr")" -eq 1 ]; then
	pass "a stats path without %p shared by a script's processes: said once"
else
	fail "shared stats path: $(cat "$KW_TMP/stderr")"
fi
# A process killed before its first interval still leaves its file: it is
# written when the first followed connection closes.
cat >"$KW_TMP/killed.py" <<'EOF'
import http.client, os, signal, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/gen/10")
c.getresponse().read()
c.close()
os.kill(os.getpid(), signal.SIGTERM)
EOF
timeout 60 env LD_PRELOAD="$LIB" KEEPWARM_STATS="$KW_TMP/killed.%p.prom" KEEPWARM_STATS_INTERVAL=1h \
	python3 "$KW_TMP/killed.py" "$SERVER_PORT" 2>/dev/null
f=$(ls "$KW_TMP"/killed.*.prom 2>/dev/null | head -n 1)
if [ -n "$f" ] && grep -q '^keepwarm_requests_total{.*} 1$' "$f" && grep -q '^keepwarm_process_exited{.*} 0$' "$f"; then
	pass "killed by SIGTERM before its first interval: the file written at the first close is there"
else
	fail "killed process: no stats file with its request ($(ls "$KW_TMP"/killed.* 2>&1))"
fi

# Configuration files: the user's file applies, the environment overrides it.
mkdir -p "$KW_TMP/home/.config/keepwarm"
printf '# test\nKEEPWARM_MAX_REQUESTS = 2\n\nKEEPWARM_IDLE_TIMEOUT=2m\nKEEPWARM_BOGUS = 1\n' \
	>"$KW_TMP/home/.config/keepwarm/keepwarm.conf"
expect_conns "user config file (max requests 2)" 3 HOME="$KW_TMP/home" -- $B --requests 6
grep -q "keepwarm.conf:5: unknown setting \"KEEPWARM_BOGUS\"" "$KW_TMP/stderr" \
	&& pass "config file error names file and line" || fail "config file error: $(cat "$KW_TMP/stderr")"
expect_conns "environment overrides config file" 2 HOME="$KW_TMP/home" KEEPWARM_MAX_REQUESTS=3 -- $B --requests 6
# XDG_CONFIG_HOME moves the user file; KEEPWARM_CONFIG names one instead.
mkdir -p "$KW_TMP/xdg/keepwarm"
printf 'export KEEPWARM_MAX_REQUESTS="3"\n' >"$KW_TMP/xdg/keepwarm/keepwarm.conf"
expect_conns "XDG_CONFIG_HOME's keepwarm/keepwarm.conf is the user file (max requests 3)" 2 \
	HOME="$KW_TMP/home" XDG_CONFIG_HOME="$KW_TMP/xdg" -- $B --requests 6
printf 'KEEPWARM_MAX_REQUESTS = 6\n' >"$KW_TMP/named.conf"
expect_conns "KEEPWARM_CONFIG names the user file (max requests 6)" 1 \
	HOME="$KW_TMP/home" XDG_CONFIG_HOME="$KW_TMP/xdg" KEEPWARM_CONFIG="$KW_TMP/named.conf" -- $B --requests 6
expect_conns "KEEPWARM_CONFIG naming a missing file: said, defaults" 1 \
	HOME="$KW_TMP/home" KEEPWARM_CONFIG="$KW_TMP/missing.conf" -- $B --requests 6
grep -q "^keepwarm: configuration file $KW_TMP/missing.conf cannot be read: No such file or directory; skipped$" "$KW_TMP/stderr" &&
	pass "a missing file KEEPWARM_CONFIG names is said" || fail "KEEPWARM_CONFIG missing: $(cat "$KW_TMP/stderr")"

# The server's Keep-Alive header lowers the idle timeout (1 s minus a margin).
stop_server
start_server --keepalive-header 1,100 || { finish; exit; }
expect_conns "Keep-Alive timeout=1, 950 ms pauses" 3 X=1 -- $B --requests 3 --sleep-ms 950
expect_conns "Keep-Alive timeout=1, no pauses" 1 X=1 -- $B --requests 3
stop_server
start_server --keepalive-header 5,0 || { finish; exit; }
expect_conns "Keep-Alive max=0" 3 X=1 -- $B --requests 3
stop_server

# The program's view of its sockets, with and without the shim.
start_server || { finish; exit; }
expect_conns "fd_semantics" 1 X=1 -- "$CL/fd_semantics" --path /gen/100
before=$(server_conns)
"$CL/fd_semantics" --path /gen/100 --host 127.0.0.1 --port "$SERVER_PORT" >/dev/null 2>"$KW_TMP/stderr" \
	&& pass "fd_semantics without the shim" || fail "fd_semantics without the shim: $(cat "$KW_TMP/stderr")"

# Descriptor pressure: socket() after EMFILE succeeds once idle ones are closed.
( ulimit -n 64; "$CL/emfile" --host 127.0.0.1 --port "$SERVER_PORT" --path /gen/100 >/dev/null 2>&1 ); rc=$?
[ "$rc" -eq 3 ] && pass "emfile without the shim: socket() fails with EMFILE" || fail "emfile without the shim: rc=$rc"
( ulimit -n 64; LD_PRELOAD="$LIB" "$CL/emfile" --host 127.0.0.1 --port "$SERVER_PORT" --path /gen/100 >/dev/null 2>"$KW_TMP/stderr" ); rc=$?
[ "$rc" -eq 0 ] && pass "emfile with the shim: idle connections closed, socket() retried" || fail "emfile with the shim: rc=$rc $(cat "$KW_TMP/stderr")"
stop_server
finish
