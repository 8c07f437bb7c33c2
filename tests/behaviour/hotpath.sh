#!/usr/bin/env bash
# hotpath.sh BUILD_DIR - what a reused request costs in system calls, counted
# (strace), not timed:
#   - tools/bench/reqloop, a new connection per request: under keepwarm a
#     reused request makes at most 10 system calls, the program's own 4
#     (socket, write, read, close) included, and no rt_sigprocmask
#   - keepwarm blocks signals around its pool lock only once the program has
#     a signal handler (tests/clients/sig_install): none before it, some
#     after it, for each way a handler can be installed (sigaction,
#     __sigaction, signal, bsd_signal, ssignal, sysv_signal, __sysv_signal,
#     sigset); with no handler at all, none; one connection per run, every
#     body right, the handler ran
#   - a handler installed by another thread while the main thread makes 300
#     requests, then 200 signals sent to it: every request succeeds
#   - KEEPWARM_MAX_IDLE above an eighth of the descriptor limit widens
#     keepwarm's private range (tools/bench/scale, 2,000 idle under 4,096)
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: hotpath.sh BUILD_DIR}" && pwd -P)
# shellcheck disable=SC2034 # read by lib.sh
KW_TMP_NAME=kw-hotpath
# shellcheck disable=SC1091 # sourced at run time
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
TMP=$KW_TMP
LIB=$BUILD_DIR/libkeepwarm.so
RQ=$BUILD_DIR/bench/reqloop
SI=$BUILD_DIR/clients/sig_install
command -v strace >/dev/null || { fail "strace is installed (tools/install-deps.sh check)"; finish; exit; }
setup "reqloop, scale and benchserv built (make bench-tools)" env -u MAKEFLAGS -u MFLAGS \
	make -C "$(dirname "$0")/../.." --no-print-directory BUILD="$BUILD_DIR" "$RQ" \
	"$BUILD_DIR/bench/scale" "$BUILD_DIR/bench/benchserv" || { finish; exit; }
[ -x "$SI" ] || { fail "sig_install is built (make tests)"; finish; exit; }
start_server || { finish; exit; }
# lib.sh stops the server and removes the scratch directory at exit.

# ---- reqloop: tools/bench/syscalls.sh's count (runs of 20 and 120
# requests, the difference per request)
bash "$(dirname "$0")/../../tools/bench/syscalls.sh" "$BUILD_DIR" 100 '^reqloop\.keepwarm$' \
	>"$TMP/rq.out" 2>&1 || fail "syscalls.sh on reqloop: $(tail -n 2 "$TMP/rq.out")"
per=$(sed -n 's/^reqloop\.keepwarm total=//p' "$TMP/rq.out")
per=${per:-999}
by=$(grep -v ' total=' "$TMP/rq.out" | sed 's/^reqloop\.keepwarm //; s/=/ /' | tr '\n' ',' | sed 's/,/, /g')
if awk -v p="$per" 'BEGIN { exit !(p <= 10) }'; then
	pass "reqloop: a reused request makes $per system calls under keepwarm (at most 10): ${by%, }"
else
	fail "reqloop: a reused request makes $per system calls under keepwarm, more than 10: ${by%, }"
fi
# The whole run, start-up and exit included. The pool lock blocks signals
# with SIG_BLOCK and every signal but glibc's own two (~[RTMIN RT_1]);
# glibc's pthread_create, which starts keepwarm's helper thread at the first
# park, blocks everything (~[]) around its clone and sets the new thread's
# mask (SIG_SETMASK): not counted.
LOCK_MASK='rt_sigprocmask(SIG_BLOCK, ~\[RTMIN RT_1\]'
timeout 120 strace -f -o "$TMP/rq.st" -e trace=rt_sigprocmask env LD_PRELOAD="$LIB" KEEPWARM_BROKER=off \
	"$RQ" --port "$SERVER_PORT" --path /gen/1000 --requests 20 --mode fresh >/dev/null 2>&1
if grep -q "$LOCK_MASK" "$TMP/rq.st"; then
	fail "reqloop installs no signal handler, yet keepwarm's pool lock blocked signals $(grep -c "$LOCK_MASK" "$TMP/rq.st") times"
else
	pass "reqloop installs no signal handler: keepwarm's pool lock never blocks signals ($(grep -c 'rt_sigprocmask(' "$TMP/rq.st") rt_sigprocmask in all, glibc's start of the helper thread)"
fi

# ---- each way to install a handler turns the blocking on
for how in none sigaction __sigaction signal bsd_signal ssignal sysv_signal __sysv_signal sigset; do
	before_conns=$(server_conns)
	timeout 60 strace -f -o "$TMP/si.$how" -e trace=rt_sigprocmask,rt_sigaction \
		env LD_PRELOAD="$LIB" KEEPWARM_BROKER=off "$SI" --port "$SERVER_PORT" --install "$how" --requests 20 >"$TMP/si.out" 2>&1
	rc=$?
	conns=$(($(server_conns) - before_conns))
	before=$(awk '/rt_sigaction\(SIGUSR1/ { exit } /rt_sigprocmask\(SIG_BLOCK, ~\[RTMIN RT_1\]/ { n++ } END { print n + 0 }' "$TMP/si.$how")
	after=$(awk 'f && /rt_sigprocmask\(SIG_BLOCK, ~\[RTMIN RT_1\]/ { n++ } /rt_sigaction\(SIGUSR1/ { f = 1 } END { print n + 0 }' "$TMP/si.$how")
	if [ "$how" = none ]; then
		ok=$([ "$before$after" = 00 ] && echo y)
		want="no rt_sigprocmask"
	else
		ok=$([ "$before" = 0 ] && [ "$after" -gt 0 ] && echo y)
		want="none before the handler, some after"
	fi
	if [ "$rc" = 0 ] && [ "$conns" = 1 ] && [ -n "$ok" ]; then
		pass "handler by $how: $want ($before before, $after after), 1 connection, $(cat "$TMP/si.out")"
	else
		fail "handler by $how: exit $rc, $conns connections, rt_sigprocmask $before before and $after after the handler (want $want): $(head -c 300 "$TMP/si.out")"
	fi
done

# ---- a handler installed by another thread mid-run, then signals
before_conns=$(server_conns)
timeout 60 env LD_PRELOAD="$LIB" KEEPWARM_BROKER=off "$SI" --port "$SERVER_PORT" --install sigaction --requests 300 --race >"$TMP/race.out" 2>&1
rc=$?
conns=$(($(server_conns) - before_conns))
if [ "$rc" = 0 ] && [ "$conns" -le 3 ]; then
	pass "a handler installed by another thread while requests run, then 200 signals: exit 0, $conns connection(s), $(cat "$TMP/race.out")"
else
	fail "a handler installed by another thread while requests run: exit $rc, $conns connections: $(head -c 300 "$TMP/race.out")"
fi
# ---- the private range: the top eighth of the descriptor limit, or room
# for KEEPWARM_MAX_IDLE connections when that is more (above 1024). Under a
# limit of 4096 (an eighth holds 511): KEEPWARM_MAX_IDLE=2000 parks all of
# 2,000 idle connections, and KEEPWARM_MAX_IDLE=500 still caps at 500.
"$BUILD_DIR/bench/benchserv" --ports 40 --port-file "$TMP/scale.ports" --body-bytes 2 &
BS_PID=$!
for _ in $(seq 100); do [ -s "$TMP/scale.ports" ] && break; sleep 0.05; done
scale_idle() { # MAX_IDLE K: what scale reports parked
	(ulimit -n 4096 && env LD_PRELOAD="$LIB" KEEPWARM_BROKER=off KEEPWARM_MAX_IDLE="$1" \
		KEEPWARM_MAX_IDLE_PER_HOST="$1" timeout 120 "$BUILD_DIR/bench/scale" \
		--port-file "$TMP/scale.ports" --idle "$2" --calls 10 --idle-by close) |
		grep -o 'idle_after=[0-9]*' | cut -d= -f2
}
got=$(scale_idle 2000 2000)
if [ "$got" = 2000 ]; then
	pass "KEEPWARM_MAX_IDLE=2000 under a limit of 4096 descriptors: all 2000 idle connections parked"
else
	fail "KEEPWARM_MAX_IDLE=2000 under a limit of 4096 descriptors: ${got:-no answer} of 2000 parked"
fi
got=$(scale_idle 500 800)
if [ "$got" = 500 ]; then
	pass "KEEPWARM_MAX_IDLE=500 under a limit of 4096: 500 of 800 parked (its cap)"
else
	fail "KEEPWARM_MAX_IDLE=500 under a limit of 4096: ${got:-no answer} of 800 parked, not 500"
fi
stop_pid "$BS_PID"
finish
