#!/usr/bin/env bash
# service.sh BUILD_DIR - the broker run like a service:
#   - the launcher starts keepwarmd when none answers at the configured
#     socket: detached (a session of its own, its parent gone), no descriptor
#     of the program's, no LD_PRELOAD, and the program it runs has no child
#     of it; a second launcher uses the same broker (one server connection
#     for both programs); none is started with the broker off, with keepwarm
#     off, or where the socket's directory is not the user's alone
#   - socket activation: keepwarmd serves the socket LISTEN_FDS gives it (a
#     harness does what systemd does, and systemd-socket-activate where it
#     is installed), leaves that socket in place at SIGTERM, and refuses
#     LISTEN_FDS it cannot use in one line
#   - keepwarm status: exit 3 and one line without a broker, the table and
#     exit 0 with one, --raw as Prometheus text
#   - the broker's KEEPWARM_BROKER_STATS file (on schedule and at stop) and
#     its KEEPWARM_TRACE lines, both read by keepwarm-stat summary
#   - the warm pool (KEEPWARM_WARM): the first request of a fresh process
#     reuses a connection the broker dialled (server-side count, the trace),
#     within KEEPWARM_MAX_IDLE_PER_HOST and KEEPWARM_MAX_IDLE; none for a
#     destination the broker's KEEPWARM_DESTINATIONS denies, nor again for
#     a server that closed warm connections before their use
#   - the user units make install puts in place (tools.sh checks the paths)
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: service.sh BUILD_DIR}" && pwd -P)
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
# shellcheck disable=SC2034 # read by lib.sh
KW_TMP_NAME=kw-service
# shellcheck disable=SC1091 # sourced at run time
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
TMP=$KW_TMP
KW=$BUILD_DIR/keepwarm
BROKER=$BUILD_DIR/keepwarmd
PY=/usr/bin/python3
BLOCKING=$BUILD_DIR/clients/blocking
ACT_PID=
DENY_PID=
IDLE_SERVER_PID=

cleanup() {
	stop_pid "$ACT_PID"
	stop_pid "$DENY_PID"
	stop_pid "$IDLE_SERVER_PID"
	stop_brokers "$TMP"
	cleanup_lib
}
trap cleanup EXIT

for f in "$KW" "$BROKER" "$BLOCKING"; do
	[ -x "$f" ] || { fail "setup: $f is built (make tools tests)"; finish; exit; }
done
start_server || { finish; exit; }

lock_pid() { head -c 16 "$1/keepwarm/broker.lock" 2>/dev/null | tr -dc 0-9; }
# requests RUNDIR N [ENV...]: one run of the launcher, N requests on fresh
# connections; prints the server's new connections.
requests() {
	local run=$1 n=$2 before
	shift 2
	before=$(server_conns)
	env XDG_RUNTIME_DIR="$run" "$@" "$KW" -- "$BLOCKING" --host 127.0.0.1 --port "$SERVER_PORT" \
		--requests "$n" >"$TMP/out" 2>"$TMP/err" || echo "exit $?" >>"$TMP/err"
	echo $(($(server_conns) - before))
}

# --- the launcher starts the broker -----------------------------------------
RUN=$TMP/run-a
mkdir -m 700 "$RUN"
exec 7>"$TMP/marker"
first=$(requests "$RUN" 3)
exec 7>&-
pid=$(lock_pid "$RUN")
check "a launcher with no broker answering starts keepwarmd at \$XDG_RUNTIME_DIR/keepwarm/broker" \
	test -S "$RUN/keepwarm/broker" -a -n "$pid" -a "$(cat "/proc/${pid:-0}/comm" 2>/dev/null)" = keepwarmd
check "... and the program runs (3 requests, exit 0: $(cat "$TMP/err"))" test ! -s "$TMP/err"
check "... detached: its own session, its parent gone" \
	test "$(ps -o sid= -p "${pid:-0}" | tr -d ' ')" = "${pid:-x}" -a \
	"$(ps -o ppid= -p "${pid:-0}" | tr -d ' ')" != "$$"
fds=$(for f in /proc/"${pid:-0}"/fd/*; do readlink "$f"; done 2>/dev/null | sort | tr '\n' ' ')
check "... holding none of the program's descriptors (the launcher had $TMP/marker open)" \
	eval '[[ "$fds" != *marker* && "$fds" != *server.* ]]'
check "... stdin, stdout and stderr on /dev/null" \
	test "$(readlink "/proc/${pid:-0}/fd/0")$(readlink "/proc/${pid:-0}/fd/1")$(readlink "/proc/${pid:-0}/fd/2")" = \
	/dev/null/dev/null/dev/null
check "... without LD_PRELOAD" eval '! tr "\0" "\n" <"/proc/${pid:-0}/environ" | grep -q "^LD_PRELOAD="'
second=$(requests "$RUN" 3)
check "a second launcher uses that broker: the same pid ($pid, then $(lock_pid "$RUN"))" \
	test "$(lock_pid "$RUN")" = "$pid"
check "... and the two programs' 6 requests took one connection (first $first, then $second)" \
	test "$first" = 1 -a "$second" = 0
got=$(env XDG_RUNTIME_DIR="$RUN" "$KW" -- "$PY" -c '
import os
try:
    os.wait()
    print("a child")
except ChildProcessError:
    print("none")')
check "the program has no child of the launcher's (got $got)" test "$got" = none
env XDG_RUNTIME_DIR="$RUN" "$KW" -- sh -c 'exit 7'
rc=$?
check "the exit status is still the program's (7, got $rc)" test "$rc" = 7

# --- keepwarm status --------------------------------------------------------
"$KW" status >"$TMP/st.out" 2>"$TMP/st.err" </dev/null
rc=$?
check "keepwarm status with no broker: exit 3 and one line saying so (rc $rc: $(cat "$TMP/st.err"))" \
	test "$rc" = 3 -a ! -s "$TMP/st.out" -a "$(wc -l <"$TMP/st.err")" = 1 -a \
	"$(grep -c "^keepwarm: no broker answers at $KW_RUN/keepwarm/broker: " "$TMP/st.err")" = 1
"$KW" --no-broker status >"$TMP/st.out" 2>"$TMP/st.err"
rc=$?
check "keepwarm --no-broker status: exit 3, the broker is off (rc $rc: $(cat "$TMP/st.err"))" \
	test "$rc" = 3 -a "$(cat "$TMP/st.err")" = "keepwarm: no broker: KEEPWARM_BROKER is off"
XDG_RUNTIME_DIR=$RUN "$KW" status >"$TMP/st.out" 2>"$TMP/st.err"
rc=$?
sed 's/^/    /' "$TMP/st.out"
check "keepwarm status with the broker: exit 0 (rc $rc), its version, pid and socket" \
	test "$rc" = 0 -a ! -s "$TMP/st.err" -a \
	"$(grep -c "^keepwarmd $(kw_version) (pid $pid) at $RUN/keepwarm/broker: up " "$TMP/st.out")" = 1
row=$(awk -v d="127.0.0.1:$SERVER_PORT" '$1 == d { print $2, $5, $6, $7 }' "$TMP/st.out")
check "... a row for the server: 1 idle, 2 given, 1 hit, 1 miss (idle given hits misses: $row)" \
	test "$row" = "1 2 1 1"
XDG_RUNTIME_DIR=$RUN "$KW" status --raw >"$TMP/st.prom" 2>"$TMP/st.err"
rc=$?
# Prometheus text: each sample line a name, optional labels and a number,
# each family's TYPE before its samples.
bad=$(awk '/^# TYPE / { typed[$3] = 1; next } /^#/ { next }
	{ name = $1; sub(/\{.*/, "", name)
	  if ($0 !~ /^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$/ || !typed[name]) print NR": "$0 }' \
	"$TMP/st.prom")
check "keepwarm status --raw: exit 0 (rc $rc), Prometheus text (${bad:-every line well formed})" \
	test "$rc" = 0 -a -z "$bad" -a -s "$TMP/st.prom"
if [ -x /usr/bin/promtool ]; then
	check "... promtool check metrics accepts it" eval '/usr/bin/promtool check metrics <"$TMP/st.prom"'
fi
XDG_RUNTIME_DIR=$RUN "$KW" status extra >/dev/null 2>"$TMP/st.err"
rc=$?
check "keepwarm status with an argument: a usage error, exit 2 (rc $rc)" test "$rc" = 2

# --- the broker's stats file and trace ----------------------------------------
RUN=$TMP/run-stats
mkdir -m 700 "$RUN"
for _ in 1 2 3; do
	env XDG_RUNTIME_DIR="$RUN" KEEPWARM_TRACE="$TMP/kw.trace" KEEPWARM_STATS_INTERVAL=100ms \
		KEEPWARM_BROKER_STATS="$TMP/broker.%p.prom" "$KW" -- "$BLOCKING" --host 127.0.0.1 \
		--port "$SERVER_PORT" --requests 2 >/dev/null 2>>"$TMP/stats.err"
done
spid=$(lock_pid "$RUN")
SOCK=$RUN/keepwarm/broker
out=$("$PY" "$ROOT/tests/clients/broker_raw.py" "$SOCK" garbage 2>&1 | tail -n 1)
for _ in $(seq 100); do
	grep -q 'keepwarm_broker_refused_total{reason="message"} [1-9]' "$TMP/broker.$spid.prom" 2>/dev/null &&
		break
	sleep 0.05
done
check "KEEPWARM_BROKER_STATS: the broker (pid $spid) rewrites $TMP/broker.%p.prom on schedule" \
	test -s "$TMP/broker.$spid.prom" -a ! -s "$TMP/stats.err"
check "... counting the malformed messages it refused ($out)" \
	grep -q 'keepwarm_broker_refused_total{reason="message"} [1-9]' "$TMP/broker.$spid.prom"
"$BUILD_DIR/keepwarm-stat" summary "$TMP/broker.$spid.prom" >"$TMP/sum" 2>&1
row=$(awk -v d="127.0.0.1:$SERVER_PORT" '$1 == d { print $2, $3, $4, $5 }' "$TMP/sum")
check "keepwarm-stat summary reads the broker's stats file (parked given hits misses: $row)" \
	test "$row" = "1 3 2 1"
stop_pid "$spid"
check "... the file written when it stops holds nothing parked" \
	grep -q "^keepwarm_broker_parked_total 0\$" "$TMP/broker.$spid.prom"
events=$(grep " pid=$spid " "$TMP/kw.trace" | sed -n 's/.* event=\([a-z-]*\).*/\1/p' | sort | uniq -c |
	awk '{ printf "%s %s,", $2, $1 }')
# (The malformed messages add refusals, and a take of their own: a miss.)
check "KEEPWARM_TRACE: the broker's lines in the programs' trace ($events)" \
	eval '[[ "$events" =~ ^broker-give\ 2,broker-miss\ [1-9][0-9]*,broker-put\ 3,broker-refuse\ [1-9][0-9]*,broker-start\ 1,broker-stop\ 1,$ ]]'
"$BUILD_DIR/keepwarm-stat" summary "$TMP/kw.trace" >"$TMP/sum" 2>&1
row=$(awk -v d="127.0.0.1:$SERVER_PORT" '/^broker destination/ { b = 1 } b && $1 == d { print $3, $4, $5 }' "$TMP/sum")
check "keepwarm-stat summary reads the broker's trace lines (given hits misses: $row)" \
	test "$row" = "3 2 1"

# --- when none is started ----------------------------------------------------
none_started() { # LABEL RUNDIR CONNS ENV...: the launcher starts no broker
	local label=$1 run=$2 want=$3 n
	shift 3
	n=$(requests "$run" 2 "$@")
	check "$label: no broker started, the program runs ($n connection(s) for 2 requests)" \
		test ! -e "$run/keepwarm/broker" -a ! -s "$TMP/err" -a "$n" = "$want"
}
mkdir -m 700 "$TMP/run-off" "$TMP/run-kwoff" "$TMP/run-sample" "$TMP/run-nostart"
none_started "KEEPWARM_BROKER=off" "$TMP/run-off" 1 KEEPWARM_BROKER=off
none_started "KEEPWARM=off" "$TMP/run-kwoff" 2 KEEPWARM=off
n=$(env XDG_RUNTIME_DIR="$TMP/run-off" "$KW" --no-broker -- true; echo $?)
check "--no-broker: no broker started (exit $n)" test "$n" = 0 -a ! -e "$TMP/run-off/keepwarm"
n=$(env XDG_RUNTIME_DIR="$TMP/run-sample" KEEPWARM_SAMPLE=0 "$KW" -- true; echo $?)
check "KEEPWARM_SAMPLE=0 (every process in the off arm): none started (exit $n)" \
	test "$n" = 0 -a ! -e "$TMP/run-sample/keepwarm"
mkdir -m 755 "$TMP/run-nostart/keepwarm"
n=$(requests "$TMP/run-nostart" 2)
check "a socket directory open to others: none started, the program runs ($n connection, its own pool)" \
	test ! -e "$TMP/run-nostart/keepwarm/broker" -a "$n" = 1
check "... and the library says why, once" \
	test "$(grep -c 'not using the broker at .*open to others' "$TMP/err")" = 1

# --- the warm pool --------------------------------------------------------------
# warm_run RUNDIR PORT [ENV...]: one request to /close/100 through the
# launcher (the server closes that connection: it never returns to the
# broker, so what a later process takes is a connection the broker dialled).
warm_run() {
	local run=$1 port=$2
	shift 2
	env XDG_RUNTIME_DIR="$run" "$@" "$KW" -- "$BLOCKING" --host 127.0.0.1 --port "$port" \
		--path /close/100 >/dev/null 2>>"$TMP/warm.err" || echo "exit $?" >>"$TMP/warm.err"
}
# status_of SOCKET PORT: "idle given hits misses warmed" of 127.0.0.1:PORT
# (given: handed to the broker by programs; hits: takes it answered)
status_of() {
	KEEPWARM_BROKER=$1 "$KW" status 2>/dev/null |
		awk -v d="127.0.0.1:$2" '$1 == d { print $2, $5, $6, $7, $9 }'
}
# wait_status SOCKET PORT PATTERN: until status_of matches (at most 5 s)
wait_status() {
	for _ in $(seq 100); do
		[[ "$(status_of "$1" "$2")" =~ ^$3$ ]] && return 0
		sleep 0.05
	done
	return 1
}
RUN=$TMP/run-warm
mkdir -m 700 "$RUN"
SOCK=$RUN/keepwarm/broker
before=$(server_conns)
warm_run "$RUN" "$SERVER_PORT" KEEPWARM_WARM=2
wait_status "$SOCK" "$SERVER_PORT" "2 0 0 1 2"
check "KEEPWARM_WARM=2: after a process's miss the broker holds 2 connections it dialled ($(status_of "$SOCK" "$SERVER_PORT"); server: $(($(server_conns) - before)) connections)" \
	test "$(status_of "$SOCK" "$SERVER_PORT")" = "2 0 0 1 2" -a "$(($(server_conns) - before))" = 3
warm_run "$RUN" "$SERVER_PORT" KEEPWARM_TRACE="$TMP/warm.trace"
check "... a fresh process's first request reuses one: no dial, a broker connection with no request before ($(grep -o ' event=[a-z]* .*' "$TMP/warm.trace" | head -n 2 | tr '\n' ';'))" \
	test "$(grep -c ' event=reuse fd=[0-9]* dest=127\.0\.0\.1:'"$SERVER_PORT"' reason=broker idle_ms=[0-9]* requests=0$' "$TMP/warm.trace")" = 1 -a \
	"$(grep -c ' event=dial ' "$TMP/warm.trace")" = 0
wait_status "$SOCK" "$SERVER_PORT" "2 0 1 1 3"
check "... and the broker dials one more to hold 2 again ($(status_of "$SOCK" "$SERVER_PORT"); server: $(($(server_conns) - before)) connections in all)" \
	test "$(status_of "$SOCK" "$SERVER_PORT")" = "2 0 1 1 3" -a "$(($(server_conns) - before))" = 4
check "... every program exited 0 ($(cat "$TMP/warm.err"))" test ! -s "$TMP/warm.err"

# The caps: KEEPWARM_MAX_IDLE_PER_HOST, then KEEPWARM_MAX_IDLE, bound it.
RUN=$TMP/run-warm-host
mkdir -m 700 "$RUN"
SOCK=$RUN/keepwarm/broker
before=$(server_conns)
most=0
for i in 1 2 3 4; do
	warm_run "$RUN" "$SERVER_PORT" KEEPWARM_WARM=5 KEEPWARM_MAX_IDLE_PER_HOST=2
	wait_status "$SOCK" "$SERVER_PORT" "2 .*"
	sleep 0.2
	idle=$(status_of "$SOCK" "$SERVER_PORT" | cut -d' ' -f1)
	[ "${idle:-0}" -gt "$most" ] && most=$idle
done
st=$(status_of "$SOCK" "$SERVER_PORT")
check "KEEPWARM_WARM=5, KEEPWARM_MAX_IDLE_PER_HOST=2, 4 processes: never more than 2 held (at most $most; $st)" \
	test "$most" = 2 -a "$st" = "2 0 3 1 5"
check "... the server saw 4 + 5 - 3 = 6 connections ($(($(server_conns) - before)))" \
	test "$(($(server_conns) - before))" = 6
RUN=$TMP/run-warm-all
mkdir -m 700 "$RUN"
SOCK=$RUN/keepwarm/broker
warm_run "$RUN" "$SERVER_PORT" KEEPWARM_WARM=3 KEEPWARM_MAX_IDLE=1
wait_status "$SOCK" "$SERVER_PORT" "1 .*"
sleep 0.3
check "KEEPWARM_WARM=3, KEEPWARM_MAX_IDLE=1: 1 held ($(status_of "$SOCK" "$SERVER_PORT"))" \
	test "$(status_of "$SOCK" "$SERVER_PORT")" = "1 0 0 1 1"

# A destination the broker's rules deny is never warmed.
mkdir -m 700 "$TMP/deny"
SOCK=$TMP/deny/broker
KEEPWARM_WARM=2 KEEPWARM_DESTINATIONS="deny 127.0.0.1:$SERVER_PORT" "$BROKER" --socket "$SOCK" \
	2>"$TMP/deny.log" &
DENY_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
before=$(server_conns)
env LD_PRELOAD="$BUILD_DIR/libkeepwarm.so" KEEPWARM_BROKER="$SOCK" "$BLOCKING" --host 127.0.0.1 \
	--port "$SERVER_PORT" --path /close/100 >/dev/null 2>>"$TMP/warm.err"
wait_status "$SOCK" "$SERVER_PORT" "0 0 0 1 0"
sleep 0.3
check "KEEPWARM_WARM=2 with the broker's rule deny 127.0.0.1:$SERVER_PORT: a miss, nothing dialled ($(status_of "$SOCK" "$SERVER_PORT"); server: $(($(server_conns) - before)))" \
	test "$(status_of "$SOCK" "$SERVER_PORT")" = "0 0 0 1 0" -a "$(($(server_conns) - before))" = 1
stop_pid "$DENY_PID"
DENY_PID=

# A server that closes idle connections before anyone uses them: warmed
# once, then never again.
saved="$SERVER_PID $SERVER_PORT $SERVER_LOG"
if start_server --idle-close 200; then
	IDLE_SERVER_PID=$SERVER_PID
	IDLE_PORT=$SERVER_PORT
	IDLE_LOG=$SERVER_LOG
	read -r SERVER_PID SERVER_PORT SERVER_LOG <<<"$saved"
	RUN=$TMP/run-warm-idle
	mkdir -m 700 "$RUN"
	SOCK=$RUN/keepwarm/broker
	warm_run "$RUN" "$IDLE_PORT" KEEPWARM_WARM=2
	wait_status "$SOCK" "$IDLE_PORT" "0 0 0 1 2"
	warm_run "$RUN" "$IDLE_PORT"
	wait_status "$SOCK" "$IDLE_PORT" "0 0 0 2 2"
	sleep 0.5
	n=$(grep -c '^accept ' "$IDLE_LOG")
	check "a server that closed 2 warm connections after 200 ms idle: the next miss dials none ($(status_of "$SOCK" "$IDLE_PORT"); server: $n)" \
		test "$(status_of "$SOCK" "$IDLE_PORT")" = "0 0 0 2 2" -a "$n" = 4
	stop_pid "$IDLE_SERVER_PID"
	IDLE_SERVER_PID=
fi
check "... every program exited 0 ($(cat "$TMP/warm.err"))" test ! -s "$TMP/warm.err"

# --- socket activation ---------------------------------------------------------
# What systemd does for ListenSequentialPacket=: the listening socket as
# descriptor 3, LISTEN_PID this process, LISTEN_FDS=1, then exec.
cat >"$TMP/activate.py" <<'EOF'
import os, socket, sys
path, nfds = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
os.umask(0o177)
s.bind(path)
s.listen(16)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS=nfds)
os.execv(sys.argv[3], sys.argv[3:])
EOF
mkdir -m 700 "$TMP/act"
SOCK=$TMP/act/broker
"$PY" "$TMP/activate.py" "$SOCK" 1 "$BROKER" 2>"$TMP/act.log" &
ACT_PID=$!
for _ in $(seq 100); do grep -q '^keepwarmd: serving' "$TMP/act.log" && break; sleep 0.05; done
check "socket activation: keepwarmd serves the socket it was given ($(head -n 1 "$TMP/act.log"))" \
	grep -q "^keepwarmd: serving $SOCK (pid $ACT_PID)" "$TMP/act.log"
before=$(server_conns)
for _ in 1 2 3; do
	env LD_PRELOAD="$BUILD_DIR/libkeepwarm.so" KEEPWARM_BROKER="$SOCK" "$BLOCKING" --host 127.0.0.1 \
		--port "$SERVER_PORT" --requests 2 >/dev/null 2>>"$TMP/act.err"
done
check "... 3 processes share one connection through it (got $(($(server_conns) - before)))" \
	test "$(($(server_conns) - before))" = 1 -a ! -s "$TMP/act.err"
kill -TERM "$ACT_PID"
wait "$ACT_PID"
rc=$?
ACT_PID=
check "... SIGTERM: exit 0 (rc $rc), the socket left to its service manager" test "$rc" = 0 -a -S "$SOCK"
rm -f "$SOCK"
timeout 10 "$PY" "$TMP/activate.py" "$SOCK" 2 "$BROKER" 2>"$TMP/act2.log"
rc=$?
check "LISTEN_FDS=2: refused in one line, exit 2 (rc $rc: $(cat "$TMP/act2.log"))" \
	test "$rc" = 2 -a "$(wc -l <"$TMP/act2.log")" = 1 -a \
	"$(grep -c 'socket activation passed 2 descriptors, not 1' "$TMP/act2.log")" = 1
rm -f "$SOCK"
timeout 10 env LISTEN_PID=1 LISTEN_FDS=1 "$BROKER" --socket "$SOCK" 2>"$TMP/act3.log" &
pid=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
check "LISTEN_PID of another process: ignored, keepwarmd makes its own socket" test -S "$SOCK"
stop_pid "$pid"

# systemd's own socket activation, where its tool is installed (systemd
# --user itself cannot run where systemd is not PID 1): it listens, starts
# keepwarmd at the first connection with the socket as descriptor 3 and
# LISTEN_FDNAMES, as the unit's service would be. It makes the socket 0644
# and has no SocketMode=, so the harness sets the unit's 0600 before any
# client comes.
if command -v systemd-socket-activate >/dev/null; then
	mkdir -m 700 "$TMP/sd"
	SOCK=$TMP/sd/broker
	systemd-socket-activate --seqpacket -l "$SOCK" "$BROKER" >"$TMP/sd.log" 2>&1 &
	ACT_PID=$!
	for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
	chmod 600 "$SOCK"
	before=$(server_conns)
	for _ in 1 2 3 4; do
		env LD_PRELOAD="$BUILD_DIR/libkeepwarm.so" KEEPWARM_BROKER="$SOCK" "$BLOCKING" --host 127.0.0.1 \
			--port "$SERVER_PORT" --requests 2 >/dev/null 2>>"$TMP/sd.err"
	done
	n=$(($(server_conns) - before))
	# The first process's ask starts the broker and gets no answer in time:
	# it dials; the broker then serves the rest (1 or 2 connections).
	check "systemd-socket-activate: keepwarmd started at the first connection serves its socket ($(grep -m 1 serving "$TMP/sd.log"); 4 processes, $n connection(s))" \
		eval 'grep -q "^keepwarmd: serving $SOCK (pid $ACT_PID)" "$TMP/sd.log" && [ "$n" -le 2 ] && [ ! -s "$TMP/sd.err" ]'
	check "... keepwarm status answers through it" \
		eval 'KEEPWARM_BROKER="$SOCK" "$KW" status | grep -q "^keepwarmd .* (pid $ACT_PID) at $SOCK: up "'
	kill -TERM "$ACT_PID"
	wait "$ACT_PID"
	rc=$?
	ACT_PID=
	check "... SIGTERM: exit 0 (rc $rc), the socket left in place" test "$rc" = 0 -a -S "$SOCK"
fi

finish
