#!/bin/bash
# clients.sh BUILD_DIR - run the test clients (BUILD_DIR/clients/*) against the
# test server (BUILD_DIR/kwtestd), each scenario once without and once with
# LD_PRELOAD=BUILD_DIR/libkeepwarm.so, and compare the number of connections
# the server accepted with what the scenario expects.
#
# One line per check: "PASS|FAIL clients/<client> <what> <arm> ...", then
# exactly one "N passed, M failed" line (read by CI). Exit 1 if any failed.
#
# Environment:
#   KW_CLIENTS_FILTER  only scenarios whose description matches this ERE
#   KW_CLIENTS_N       requests per scenario (default 20)
#   KW_CLIENT_TIMEOUT  seconds one client run may take (default 60)
#   KW_VERBOSE=1       print the client's stderr even when a check passes
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
SERVER="$BUILD/kwtestd"
LIB="$BUILD/libkeepwarm.so"
CLIENTS="$BUILD/clients"
N=${KW_CLIENTS_N:-20}
FILTER=${KW_CLIENTS_FILTER:-}
CLIENT_TIMEOUT=${KW_CLIENT_TIMEOUT:-60}
VERBOSE=${KW_VERBOSE:-0}

# Nothing inherited may change what the shim does (or preload it in the "no-shim" arm).
unset LD_PRELOAD
while read -r v; do unset "$v"; done < <(compgen -e | grep '^KEEPWARM' || true)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kw-clients.XXXXXX") || exit 2
SERVER_PID=""
PASSED=0
FAILED=0

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	local i
	for ((i = 0; i < 100; i++)); do                 # at most 5 s
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "    | kwtestd (pid $SERVER_PID) ignored SIGTERM for 5 s, killing it"
		kill -KILL "$SERVER_PID" 2>/dev/null
	fi
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
}

cleanup() {
	stop_server
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server OPTIONS... : sets SERVER_PID and PORT, or prints why not and returns 1.
start_server() {
	rm -f "$TMP/port" "$TMP/server.log" "$TMP/server.out"
	PORT=""
	if [ ! -x "$SERVER" ]; then
		START_ERR="test server $SERVER is missing"
		return 1
	fi
	"$SERVER" --port 0 --port-file "$TMP/port" --log "$TMP/server.log" "$@" \
		>"$TMP/server.out" 2>&1 </dev/null &
	SERVER_PID=$!
	local i content
	for ((i = 0; i < 100; i++)); do                 # at most 5 s
		if [ -s "$TMP/port" ]; then
			content=$(cat "$TMP/port"; echo x)
			# complete once the newline is there
			if [[ $content == *$'\n'x ]]; then
				PORT=${content%$'\n'x}
				break
			fi
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			wait "$SERVER_PID" 2>/dev/null
			SERVER_PID=""
			START_ERR="kwtestd $* exited at start: $(head -c 300 "$TMP/server.out")"
			return 1
		fi
		sleep 0.05
	done
	if ! [[ $PORT =~ ^[0-9]+$ ]] || [ "$PORT" -eq 0 ]; then
		stop_server
		START_ERR="kwtestd $* wrote no usable port to its port file within 5 s"
		return 1
	fi
	return 0
}

count_conns() {
	local c
	c=$(grep -c '^accept ' "$TMP/server.log" 2>/dev/null)
	echo "${c:-0}"
}

# conns_ok ACTUAL EXPECT: EXPECT is "K", "<=K", "A..B" or "any".
conns_ok() {
	local a=$1 e=$2
	case $e in
	any) return 0 ;;
	"<="*) [ "$a" -le "${e#<=}" ] ;;
	*..*) [ "$a" -ge "${e%..*}" ] && [ "$a" -le "${e#*..}" ] ;;
	*) [ "$a" -eq "$e" ] ;;
	esac
}

pass() {
	PASSED=$((PASSED + 1))
	echo "PASS $*"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $*"
}

# Indented detail lines (never mistaken for PASS/FAIL or the summary line).
details() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "    | $(basename "$f"):"
		tail -n 8 "$f" | sed 's/^/    |   /'
	done
}

# run_arm ARM CLIENT SERVER_OPTS CLIENT_ARGS... : sets RC, CONNS, ARM_ERR.
run_arm() {
	local arm=$1 client=$2 sopts=$3
	shift 3
	RC=""
	CONNS=0
	ARM_ERR=""
	rm -f "$TMP/client.out" "$TMP/client.err" "$TMP/trace"
	if [ ! -x "$CLIENTS/$client" ]; then
		ARM_ERR="client $CLIENTS/$client is missing"
		return
	fi
	if [ "$arm" = shim ] && [ ! -f "$LIB" ]; then
		ARM_ERR="library $LIB is missing"
		return
	fi
	# shellcheck disable=SC2086  # server options are plain words
	if ! start_server $sopts; then
		ARM_ERR=$START_ERR
		return
	fi
	local -a env_args=(env)
	if [ "$arm" = shim ]; then
		env_args+=("LD_PRELOAD=$LIB" "KEEPWARM_TRACE=$TMP/trace")
		# shellcheck disable=SC2206  # SHIM_ENV holds plain NAME=value words
		[ -n "${SHIM_ENV:-}" ] && env_args+=($SHIM_ENV)
	fi
	"${env_args[@]}" timeout -k 5 $((CLIENT_TIMEOUT + 10)) "$CLIENTS/$client" \
		--port "$PORT" --timeout "$CLIENT_TIMEOUT" "$@" \
		>"$TMP/client.out" 2>"$TMP/client.err" </dev/null
	RC=$?
	stop_server
	CONNS=$(count_conns)
	cp "$TMP/server.log" "$TMP/server-$arm.log" 2>/dev/null
}

# describe CLIENT SERVER_OPTS ARGS... : "clients/<client> [METHOD] PATH flags [server opts]"
describe() {
	local client=$1 sopts=$2
	shift 2
	local method="" path="" rest=""
	while [ $# -gt 0 ]; do
		case $1 in
		--method) [ "$2" = GET ] || method="$2 "; shift 2 ;;
		--path) path=$2; shift 2 ;;
		--requests | --host) shift 2 ;;
		--*) if [ $# -gt 1 ] && [[ $2 != --* ]]; then rest+=" $1 $2"; shift 2
		     else rest+=" $1"; shift; fi ;;
		*) rest+=" $1"; shift ;;
		esac
	done
	local d="clients/$client ${method}${path:-/gen/1000}$rest"
	[ -z "$sopts" ] || d+=" [server $sopts]"
	echo "$d"
}

# scenario EXIT EXPECT_NOSHIM EXPECT_SHIM "SERVER_OPTS" CLIENT ARGS...
#   EXIT is "ok" (both arms exit 0) or "fail" (both exit with the same non-zero code).
scenario() {
	local exit_mode=$1 exp_none=$2 exp_shim=$3 sopts=$4 client=$5
	shift 5
	local desc
	desc=$(describe "$client" "$sopts" "$@")
	[ -n "${SHIM_ENV:-}" ] && desc="$desc {$SHIM_ENV}"
	if [ -n "$FILTER" ] && ! [[ $desc =~ $FILTER ]]; then
		return
	fi
	local rc_none="" arm exp
	for arm in no-shim shim; do
		if [ "$arm" = shim ]; then exp=$exp_shim; else exp=$exp_none; fi
		run_arm "$arm" "$client" "$sopts" "$@"
		if [ -n "$ARM_ERR" ]; then
			fail "$desc $arm: $ARM_ERR"
			continue
		fi
		[ "$arm" = no-shim ] && rc_none=$RC
		local why=""
		if [ "$RC" -eq 124 ] || [ "$RC" -ge 128 ]; then
			why="client hung or died from a signal (exit $RC)"
		elif [ "$RC" -eq 3 ]; then
			why="client gave up after ${CLIENT_TIMEOUT}s (exit 3)"
		elif [ "$exit_mode" = ok ] && [ "$RC" -ne 0 ]; then
			why="client exit=$RC (expected 0)"
		elif [ "$exit_mode" = fail ] && [ "$RC" -eq 0 ]; then
			why="client exit=0 (expected a failure)"
		elif [ "$exit_mode" = fail ] && [ "$arm" = shim ] && [ "$RC" != "$rc_none" ]; then
			why="client exit=$RC (expected $rc_none as without the shim)"
		elif ! conns_ok "$CONNS" "$exp"; then
			why="conns=$CONNS (expected $exp)"
		fi
		if [ -z "$why" ]; then
			pass "$desc $arm conns=$CONNS (expected $exp)$([ "$exit_mode" = fail ] && echo " exit=$RC")"
			[ "$VERBOSE" = 1 ] && details "$TMP/client.err"
		else
			fail "$desc $arm $why"
			details "$TMP/client.err" "$TMP/client.out" "$TMP/trace"
		fi
	done
}

# ------------------------------------------------------------------ scenarios
L4=(--host 127.0.0.1)

# Reusable exchanges: the shim should need exactly one connection for all N.
for client in blocking nonblock_poll epoll_after epoll_before epoll_et fortified vectored peeker sysclose; do
	scenario ok "$N" 1 "" "$client" "${L4[@]}" --requests "$N" --path /gen/1000
	scenario ok "$N" 1 "" "$client" "${L4[@]}" --requests "$N" --path /chunked/5000
	scenario ok "$N" 1 "" "$client" "${L4[@]}" --requests "$N" --path /slow/3000
	scenario ok "$N" 1 "" "$client" "${L4[@]}" --requests "$N" --method HEAD --path /gen/100
	scenario ok "$N" 1 "" "$client" "${L4[@]}" --requests "$N" --path /status/204
	scenario ok "$N" 1 "" "$client" "${L4[@]}" --requests "$N" --path /status/304
	scenario ok "$N" 1 "" "$client" "${L4[@]}" --requests "$N" --path /continue/100
	# A POST is not replayable: by default it never travels on a reused
	# connection (each gets a fresh one); KEEPWARM_REUSE=always allows it.
	scenario ok "$N" "$N" "" "$client" "${L4[@]}" --requests "$N" --method POST --body-bytes 100 --path /gen/100
done
SHIM_ENV="KEEPWARM_REUSE=always" scenario ok "$N" 1 "" blocking "${L4[@]}" --requests "$N" --method POST --body-bytes 100 --path /gen/100
scenario ok "$N" 1 "" blocking "${L4[@]}" --requests "$N" --method PUT --body-bytes 100 --path /gen/100

# Variants of the reusable ones (other system calls or read patterns).
scenario ok "$N" 1 "" blocking      "${L4[@]}" --requests "$N" --path /status/404
scenario ok "$N" 1 "" blocking      "${L4[@]}" --requests "$N" --plain-read --path /gen/1000
scenario ok "$N" 1 "" blocking      "${L4[@]}" --requests "$N" --read-size 7 --path /chunked/5000
scenario ok "$N" 1 "" blocking      "${L4[@]}" --requests "$N" --http10 --keep-alive --path /gen/1000
scenario ok "$N" 1 "" nonblock_poll "${L4[@]}" --requests "$N" --fcntl --path /gen/1000
scenario ok "$N" 1 "" epoll_after   "${L4[@]}" --requests "$N" --epoll-del --path /gen/1000
scenario ok "$N" 1 "" epoll_before  "${L4[@]}" --requests "$N" --epoll-per-request --path /gen/1000
scenario ok "$N" 1 "" epoll_et      "${L4[@]}" --requests "$N" --epoll-del --path /chunked/5000
scenario ok "$N" 1 "" vectored      "${L4[@]}" --requests "$N" --use-msg --path /gen/1000
scenario ok "$N" 1 "" vectored      "${L4[@]}" --requests "$N" --use-msg --path /chunked/5000
scenario ok "$N" "$N" "" vectored   "${L4[@]}" --requests "$N" --use-msg --method POST --body-bytes 100 --path /gen/100
scenario ok "$N" 1 "" peeker        "${L4[@]}" --requests "$N" --peek-bytes 1 --path /chunked/5000

# Not reusable: the server closes, the body ends at EOF, or junk follows it.
scenario ok "$N" "$N" "" blocking "${L4[@]}" --requests "$N" --path /close/100
scenario ok "$N" "$N" "" blocking "${L4[@]}" --requests "$N" --http10 --read-to-eof --path /http10/100
scenario ok "$N" "$N" "" blocking "${L4[@]}" --requests "$N" --read-to-eof --path /eof/100
scenario ok "$N" "$N" "" blocking "${L4[@]}" --requests "$N" --path /extra/100

# Close-style requests (Connection: close, HTTP/1.0 without keep-alive) are
# upgraded to keep-alive; clients that read to EOF see one where the response
# ends. KEEPWARM_UPGRADE=off leaves them alone.
for client in blocking nonblock_poll epoll_after epoll_before epoll_et fortified vectored peeker; do
	scenario ok "$N" 1 "" "$client" "${L4[@]}" --requests "$N" --connection-close --read-to-eof --path /gen/1000
	scenario ok "$N" 1 "" "$client" "${L4[@]}" --requests "$N" --http10 --read-to-eof --path /gen/1000
done
scenario ok "$N" 1 "" blocking "${L4[@]}" --requests "$N" --connection-close --path /gen/1000
scenario ok "$N" 1 "" blocking "${L4[@]}" --requests "$N" --http10 --path /gen/1000
scenario ok "$N" 1 "" blocking "${L4[@]}" --requests "$N" --connection-close --read-to-eof --path /chunked/5000
scenario ok "$N" 1 "" blocking "${L4[@]}" --requests "$N" --connection-close --read-to-eof --method HEAD --path /gen/100
scenario ok "$N" 1 "" vectored "${L4[@]}" --requests "$N" --use-msg --connection-close --read-to-eof --path /gen/1000
SHIM_ENV="KEEPWARM_UPGRADE=off" scenario ok "$N" "$N" "" blocking "${L4[@]}" --requests "$N" --connection-close --path /gen/1000
SHIM_ENV="KEEPWARM_UPGRADE=off" scenario ok "$N" "$N" "" blocking "${L4[@]}" --requests "$N" --http10 --path /gen/1000
scenario ok "$N" "$N" "" epoll_et "${L4[@]}" --requests "$N" --path /close/100

# The shim lets go of sockets read through stdio or through a dup().
scenario ok "$N" "$N" "" fdopen_client "${L4[@]}" --requests "$N" --path /gen/1000
scenario ok "$N" "$N" "" fdopen_client "${L4[@]}" --requests "$N" --path /chunked/5000
scenario ok "$N" "$N" "" dup_client    "${L4[@]}" --requests "$N" --path /gen/1000
scenario ok "$N" "$N" "" dup_client    "${L4[@]}" --requests "$N" --path /chunked/5000

# Threads: 8 threads x 200 requests; the shim needs at most one connection per thread.
scenario ok $((8 * 200)) "<=8" "" threads "${L4[@]}" --threads 8 --requests 200 --path /gen/100

# fork: N in the parent, then N in the child and N more in the parent at once.
# The child must not take the parent's idle connection, and the parent's must
# survive the child's exit: 2 connections with the shim.
scenario ok $((3 * N)) 2 "" forker "${L4[@]}" --requests "$N" --path /gen/1000

# The server closes idle connections (FIN or RST) before the next request.
for client in blocking nonblock_poll epoll_after; do
	scenario ok 10 10 "--idle-close 50" "$client" "${L4[@]}" --requests 10 --sleep-ms 100 --path /gen/1000
	scenario ok 10 10 "--idle-rst 50"   "$client" "${L4[@]}" --requests 10 --sleep-ms 100 --path /gen/1000
done

# IPv6.
for client in blocking nonblock_poll epoll_before; do
	scenario ok "$N" 1 "--ipv6" "$client" --host ::1 --requests "$N" --path /gen/1000
done

# Keep-Alive: timeout=5, max=2 on every response; whatever the shim makes of
# max=, the client must succeed.
scenario ok "$N" "1..$N" "--keepalive-header 5,2" blocking "${L4[@]}" --requests "$N" --path /gen/1000

# The server closes after every 3rd request on a connection.
scenario ok "$N" $(((N + 2) / 3)) "--max-requests 3" blocking "${L4[@]}" --requests "$N" --path /gen/1000
scenario ok "$N" $(((N + 2) / 3)) "--max-requests 3" epoll_et "${L4[@]}" --requests "$N" --path /gen/1000

# Bytes moved behind keepwarm's back (raw system calls, io_uring): the
# kernel's byte counters tell, so such a connection is never parked and every
# response stays its own (unseen_io checks each one's length).
scenario ok 10 10 "" unseen_io "${L4[@]}" --requests 10 --mode raw-write
scenario ok 10 10 "" unseen_io "${L4[@]}" --requests 10 --mode raw-read
if [ -x "$CLIENTS/unseen_io" ] && "$CLIENTS/unseen_io" --probe-io-uring; then
	scenario ok 10 10 "" unseen_io "${L4[@]}" --requests 10 --mode io-uring
else
	echo "SKIP clients/unseen_io --mode io-uring: io_uring_setup is refused here (not counted)"
fi

# Socket options a connection's previous user set after connect() never show
# to its next user: each option of the table reads as on a fresh socket
# (sockopt_reset checks them one by one, and SO_RCVBUF before and after
# connect); the table options share one reused connection.
scenario ok "45..51" 4 "" sockopt_reset "${L4[@]}"
scenario ok "45..51" 4 "--ipv6" sockopt_reset --host ::1

# TCP keepalive probes go on for a connection that stays parked (at the
# pool's next operation after a second: the second close 1.5 s later), not
# for one parked just now; both read as fresh sockets once handed back.
SHIM_ENV="KEEPWARM_TCP_KEEPALIVE=7s" scenario ok 4 2 "" idle_probes "${L4[@]}" --idle-s 7

# A number where keepwarm keeps a parked connection answers like a free one
# (getsockopt/getsockname/getpeername/fstat/fstatat/statx EBADF, poll and
# ppoll POLLNVAL at once, select and pselect EBADF).
scenario ok 1 1 "" parked_number "${L4[@]}"

# Leaving a blocking call early (siglongjmp from an alarm, a watchdog's
# shutdown(), pthread_cancel) leaves keepwarm working: no keepwarm lock is
# held across connect() or read(); the 20 requests after it share one
# connection (the read modes keep one silent connection open besides).
for m in longjmp-connect shutdown cancel-connect; do
	scenario ok 20 1 "" escape "${L4[@]}" --requests 20 --mode "$m"
done
for m in longjmp-read cancel-read; do
	scenario ok 21 2 "" escape "${L4[@]}" --requests 20 --mode "$m"
done

# A child never hands out a connection its parent can also hand out, however
# it was made: daemon(), forkpty(), _Fork() (no fork handlers), and raw
# clones taken while another thread parks and takes all the time (a child may
# copy keepwarm's lock held: it must neither hang nor reuse the parent's).
scenario ok 3 3 "" forks "${L4[@]}" --mode daemon
scenario ok 3 2 "" forks "${L4[@]}" --mode forkpty
scenario ok 3 2 "" forks "${L4[@]}" --mode _Fork
scenario ok any "21..60" "" forks "${L4[@]}" --mode clone --requests 20

# A second holder of a followed socket (sent over SCM_RIGHTS, inherited by a
# fork child) could move bytes on it after it is parked: never parked.
scenario ok 20 11 "" fd_holder "${L4[@]}" --requests 10 --mode scm
scenario ok 20 11 "" fd_holder "${L4[@]}" --requests 10 --mode fork
# ... and one that gets it mid upgraded exchange still reads its end-of-file.
scenario ok 10 10 "" fd_holder "${L4[@]}" --requests 10 --mode scm-eof
scenario ok 10 10 "" fd_holder "${L4[@]}" --requests 10 --mode fork-eof

# A server inside the program (a thread, or a forked child that listens
# after the fork) that reads until the client closes: its connections are
# never parked, or the program would hang waiting for its server. kwtestd
# sees none of this traffic (0 connections in both arms); a hang is a
# failure when the client's alarm ends it.
for m in thread fork; do
	scenario ok 0 0 "" own_server --mode "$m" --requests 10
	scenario ok 0 0 "" own_server --mode "$m" --any --requests 10
done

# Errors must look the same with and without the shim (the client stops at the
# first failure, so one connection either way).
scenario fail 1 1 "" blocking "${L4[@]}" --requests 5 --path /malformed
scenario fail 1 1 "" blocking "${L4[@]}" --requests 5 --path /reset

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
