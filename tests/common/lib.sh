# lib.sh - shared by the behaviour and analysis scripts (and tools/demo.sh):
# PASS/FAIL and setup accounting, a scratch directory removed at exit, a clean
# environment, and the kwtestd test server, started on a free 127.0.0.1 port
# and stopped by pid.
# Source it after setting BUILD_DIR (and KW_TMP_NAME, the scratch directory's
# name under /tmp, default kw-it).

passed=0
failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
# check DESCRIPTION COMMAND...: PASS when COMMAND succeeds, else FAIL.
check() {
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}
# setup WHAT COMMAND...: a step a check needs (an install, a build), not a
# check itself: its success prints "setup: WHAT" and counts nothing; its
# failure is a FAIL with the end of its output. Returns the command's status.
setup() {
	local what=$1 log
	shift
	log=$(mktemp "${KW_TMP:-/tmp}/setup.XXXXXX")
	if "$@" >"$log" 2>&1; then
		echo "setup: $what"
		return 0
	fi
	fail "setup: $what:"
	tail -n 20 "$log" | sed 's/^/    /'
	return 1
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

KW_TMP=$(mktemp -d "/tmp/${KW_TMP_NAME:-kw-it}.XXXXXX")
# A runtime directory of the test's own: the broker's default socket
# ($XDG_RUNTIME_DIR/keepwarm/broker), where the launcher starts one when
# none answers, is the test's, and that broker is stopped at exit by its pid.
KW_RUN=$KW_TMP/run
export XDG_RUNTIME_DIR=$KW_RUN
mkdir -m 700 "$KW_RUN"
SERVER_PID=
SERVER_PORT=
SERVER_LOG=

# start_server [kwtestd options...]: sets SERVER_PID, SERVER_PORT, SERVER_LOG.
start_server() {
	SERVER_LOG=$KW_TMP/server.$RANDOM.log
	local portfile=$KW_TMP/port.$RANDOM
	"$BUILD_DIR/kwtestd" --port 0 --port-file "$portfile" --log "$SERVER_LOG" "$@" &
	SERVER_PID=$!
	for _ in $(seq 100); do
		[ -s "$portfile" ] && break
		sleep 0.05
	done
	SERVER_PORT=$(cat "$portfile" 2>/dev/null || true)
	[ -n "$SERVER_PORT" ] || { fail "kwtestd started"; stop_server; return 1; }
	: >>"$SERVER_LOG"
}

# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it. An empty
# PID or one that already exited is fine.
stop_pid() {
	local pid=${1:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

stop_server() {
	stop_pid "$SERVER_PID"
	SERVER_PID=
}

# Nothing inherited may change what the shim does: unset LD_PRELOAD and
# every KEEPWARM* variable.
clear_shim_env() {
	local v
	for v in $(compgen -e); do
		case "$v" in KEEPWARM*) unset "$v" ;; esac
	done
	unset LD_PRELOAD
}

# kw_version: keepwarm's version, from its one home (debian/changelog's
# first line, as the Makefile reads it).
kw_version() {
	sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../../debian/changelog"
}

# Connections the server has accepted so far.
server_conns() { grep -c '^accept ' "$SERVER_LOG" || true; }

# stop_brokers DIR: every keepwarmd whose lock file is under DIR (the pid
# it wrote there, checked to be a keepwarmd), waited for (bounded).
stop_brokers() {
	local f pid _
	[ -d "$1" ] || return 0
	while IFS= read -r f; do
		pid=$(head -c 16 "$f" | tr -dc 0-9)
		[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = keepwarmd ] || continue
		kill "$pid" 2>/dev/null
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.02
		done
	done < <(find "$1" -name '*.lock' -type f 2>/dev/null)
}

cleanup_lib() {
	stop_server
	stop_brokers "$KW_RUN"
	rm -rf "$KW_TMP"
}
trap cleanup_lib EXIT
trap 'exit 130' INT TERM

# tsan_race_in_keepwarm FILE...: a ThreadSanitizer report in FILEs that is
# keepwarm's. A data race is keepwarm's when one of its two accesses happens
# in keepwarm's own code: the first frame of the access's stack outside the
# TSan runtime (its interceptors, memcmp and malloc) is libkeepwarm's. A race
# inside an uninstrumented library (OpenSSL's certificate cache, which TSan
# reports without keepwarm too) may pass through keepwarm's wrapper lower in
# the stack and is not. Any other kind of report counts if a frame of it is
# keepwarm's.
tsan_race_in_keepwarm() {
	awk '
		/WARNING: ThreadSanitizer: data race/ { race = 1; other = 0; next }
		/WARNING: ThreadSanitizer/ { other = 1; race = 0; next }
		/^SUMMARY: ThreadSanitizer/ { race = other = 0; next }
		other && /libkeepwarm/ { found = 1 }
		race && /^  [A-Z].* of size [0-9]+ at / { top = 1; next }
		race && top && /^ *#[0-9]+ / && !/libtsan\.so/ { if (/libkeepwarm/) found = 1; top = 0 }
		END { exit !found }' "$@"
}
