#!/usr/bin/env bash
# preload.sh BUILD_DIR - keepwarm under other preload libraries and before its
# own constructor: a library whose constructor makes 3 requests (each on a new
# socket) must see 1 server connection whatever the LD_PRELOAD order, also
# with a second interposing library (stacker.so) above or below keepwarm;
# and keepwarm giving up cleanly when it cannot put a connection on the
# program's descriptor (faildup3.so).
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: preload.sh BUILD_DIR}" && pwd)
. "$(dirname "$0")/../common/lib.sh"

K=$BUILD_DIR/libkeepwarm.so
E=$BUILD_DIR/preload/early.so
S=$BUILD_DIR/preload/stacker.so

start_server || { finish; exit; }
run() { # run EXPECTED_CONNS LD_PRELOAD-value
	local want=$1 pre=$2 before out
	before=$(server_conns)
	out=$(KW_EARLY_PORT=$SERVER_PORT KW_EARLY_REQUESTS=3 LD_PRELOAD="$pre" /bin/true 2>&1)
	local got=$(( $(server_conns) - before ))
	local name=${pre//$BUILD_DIR\//}
	if [ "$out" = "early ok 3" ] && [ "$got" -eq "$want" ]; then
		pass "preload [$name] conns=$got (expected $want)"
	else
		fail "preload [$name] conns=$got (expected $want) output: $out"
	fi
}
run 3 "$E"
run 1 "$K $E"
run 1 "$E $K"
run 1 "$S $K $E"
run 1 "$K $S $E"
run 1 "$E $S $K"

# Fault injection: every dup3() onto a socket fails (faildup3.so, below
# keepwarm), so keepwarm can never put a connection on the program's
# descriptor. It gives up cleanly: a close-style client still reads its
# end-of-file (its socket shut for reading, never left open on its number
# and parked as well), and nothing is handed back (one connection each).
F=$BUILD_DIR/preload/faildup3.so
for args in "--connection-close --read-to-eof" "--http10 --read-to-eof" ""; do
	before=$(server_conns)
	# shellcheck disable=SC2086 # args are words
	timeout 60 env LD_PRELOAD="$K $F" "$BUILD_DIR/clients/blocking" --host 127.0.0.1 \
		--port "$SERVER_PORT" --requests 10 --path /gen/1000 --timeout 20 $args \
		>/dev/null 2>"$KW_TMP/err"
	rc=$?
	got=$(( $(server_conns) - before ))
	if [ "$rc" -eq 0 ] && [ "$got" -eq 10 ]; then
		pass "dup3 always failing, blocking ${args:-keep-alive}: exit 0, conns=$got (expected 10)"
	else
		fail "dup3 always failing, blocking ${args:-keep-alive}: exit $rc, conns=$got (expected 10): $(head -c 200 "$KW_TMP/err")"
	fi
done
stop_server
finish
