#!/usr/bin/env bash
# preload.sh BUILD_DIR - keepwarm under other preload libraries and before its
# own constructor: a library whose constructor makes 3 requests (each on a new
# socket) must see 1 server connection whatever the LD_PRELOAD order, also
# with a second interposing library (stacker.so) above or below keepwarm.
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
stop_server
finish
