# lib.sh - shared by the integration scripts: PASS/FAIL accounting and the
# kwtestd test server, started on a free 127.0.0.1 port and stopped by pid.
# Source it after setting BUILD_DIR.

passed=0
failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

KW_TMP=$(mktemp -d /tmp/kw-it.XXXXXX)
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

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# Connections the server has accepted so far.
server_conns() { grep -c '^accept ' "$SERVER_LOG" || true; }

cleanup_lib() { stop_server; rm -rf "$KW_TMP"; }
trap cleanup_lib EXIT
trap 'exit 130' INT TERM
