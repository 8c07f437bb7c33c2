#!/usr/bin/env bash
# soak.sh BUILD_DIR - SOAK_SECONDS (default 600) of mixed traffic and injected
# faults under the normal library (`make soak`; not part of `make check`).
#
# Servers: one plain, one closing idle connections (--idle-close), one
# resetting them (--idle-rst), one resetting the 3rd request on every
# connection (--rst-on-request 3), one advertising Keep-Alive: timeout=1,
# max=3. Four loops run at once until the time is up, each starting one test
# client after another on a random server with random options: the threads
# client, forker (a fork in the middle), blocking and poll-driven clients,
# close-style ones (--connection-close / --http10, reading to EOF), POSTs,
# pauses around the servers' idle limits, targets /gen, /chunked, /slow,
# /close and HEAD. A fifth loop, every few seconds, requests /malformed from
# its own server without and with the shim: only the exit status must match.
#
# At the end it prints the requests made; the errors the clients saw (goal
# 0); duplicated POSTs, comparing the servers' POST lines with the POSTs made
# (goal 0); bytes from another response, i.e. bodies that differ from the
# pattern or run long (goal 0); and the servers' request lines against the
# requests made. Exits 0 when every goal is met.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: soak.sh BUILD_DIR}" && pwd)
KW_TMP_NAME=kw-soak
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
SOAK_SECONDS=${SOAK_SECONDS:-600}
LIB=$BUILD_DIR/libkeepwarm.so
CL=$BUILD_DIR/clients
for p in threads forker blocking nonblock_poll epoll_et; do
	[ -x "$CL/$p" ] || { fail "missing $CL/$p (make tests)"; finish; exit; }
done
[ -f "$LIB" ] || { fail "missing $LIB (make lib)"; finish; exit; }

PIDS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	PIDS=()
}
trap 'stop_all; cleanup_lib' EXIT

# Fault servers: NAME:options. Their logs are counted; /malformed has its own.
declare -A PORT LOG
for spec in "plain:" "idleclose:--idle-close 40" "idlerst:--idle-rst 40" \
	"rst3:--rst-on-request 3" "kahdr:--keepalive-header 1,3" "malformed:"; do
	name=${spec%%:*}
	# shellcheck disable=SC2086
	start_server ${spec#*:} || { finish; exit; }
	PIDS+=("$SERVER_PID")
	PORT[$name]=$SERVER_PORT
	LOG[$name]=$SERVER_LOG
	SERVER_PID=
done
SERVERS=(plain idleclose idlerst rst3 kahdr)

export KEEPWARM_MAX_IDLE=16 KEEPWARM_MAX_IDLE_PER_HOST=4
DEADLINE=$(( $(date +%s) + SOAK_SECONDS ))
pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }

# loop N: run clients until the deadline. Each run appends one line to
# $KW_TMP/runs.N: "<exit> <requests made> <POSTs made> <command>"; its stderr
# goes to $KW_TMP/err.N.
loop() {
	local n=$1 runs=$KW_TMP/runs.$1 err=$KW_TMP/err.$1
	while [ "$(date +%s)" -lt "$DEADLINE" ]; do
		local srv port path sleep kind cmd=() reqs posts=0 r
		srv=$(pick "${SERVERS[@]}")
		port=${PORT[$srv]}
		path=$(pick /gen/100 /gen/3000 /gen/70000 /chunked/5000 /slow/2000 /close/500 /gen/1000)
		sleep=$(pick 0 0 0 2 35 45)
		r=$(pick 10 20 30)
		kind=$(pick threads threads forker blocking nonblock_poll epoll_et closestyle http10 post post-threads head)
		local common=(--host 127.0.0.1 --port "$port" --timeout 120 --sleep-ms "$sleep")
		case $kind in
		threads) cmd=("$CL/threads" "${common[@]}" --threads 4 --requests "$r" --path "$path"); reqs=$((4 * r)) ;;
		forker) cmd=("$CL/forker" "${common[@]}" --requests "$r" --path "$path"); reqs=$((3 * r)) ;;
		blocking | nonblock_poll | epoll_et)
			cmd=("$CL/$kind" "${common[@]}" --requests "$r" --path "$path"); reqs=$r ;;
		closestyle)
			cmd=("$CL/$(pick blocking nonblock_poll)" "${common[@]}" --requests "$r" --path "$path"
				--connection-close --read-to-eof); reqs=$r ;;
		http10)
			cmd=("$CL/blocking" "${common[@]}" --requests "$r" --path "$path" --http10 --read-to-eof); reqs=$r ;;
		post)
			cmd=("$CL/blocking" "${common[@]}" --requests "$r" --path "/gen/200?post" --method POST
				--body-bytes "$(pick 0 100 5000)"); reqs=$r; posts=$r ;;
		post-threads)
			cmd=("$CL/threads" "${common[@]}" --threads 3 --requests "$r" --path /gen/300 --method POST
				--body-bytes 700); reqs=$((3 * r)); posts=$reqs ;;
		head)
			cmd=("$CL/blocking" "${common[@]}" --requests "$r" --path /gen/4000 --method HEAD); reqs=$r ;;
		esac
		LD_PRELOAD=$LIB timeout -k 5 180 "${cmd[@]}" >/dev/null 2>>"$err"
		echo "$? $reqs $posts ${cmd[*]}" >>"$runs"
	done
}

# The /malformed loop: exit status without the shim, then with it.
malformed_loop() {
	local out=$KW_TMP/malformed
	while [ "$(date +%s)" -lt "$DEADLINE" ]; do
		local cl off on args
		cl=$(pick blocking nonblock_poll epoll_et)
		args=(--host 127.0.0.1 --port "${PORT[malformed]}" --timeout 60 --requests 1 --path /malformed)
		"$CL/$cl" "${args[@]}" >/dev/null 2>&1
		off=$?
		LD_PRELOAD=$LIB "$CL/$cl" "${args[@]}" >/dev/null 2>&1
		on=$?
		echo "$off $on $cl" >>"$out"
		sleep 3
	done
}

echo "# soak: ${SOAK_SECONDS}s, 4 client loops and a /malformed loop, servers: ${SERVERS[*]}"
LOOP_PIDS=()
for n in 1 2 3 4; do
	loop "$n" &
	LOOP_PIDS+=($!)
done
malformed_loop &
LOOP_PIDS+=($!)
for p in "${LOOP_PIDS[@]}"; do wait "$p"; done

# ---------------------------------------------------------------- tally
cat "$KW_TMP"/runs.* >"$KW_TMP/runs" 2>/dev/null
cat "$KW_TMP"/err.* >"$KW_TMP/err" 2>/dev/null || : >"$KW_TMP/err"
runs=$(wc -l <"$KW_TMP/runs")
failed_runs=$(awk '$1 != 0' "$KW_TMP/runs" | wc -l)
made=$(awk '{s += $2} END {print s + 0}' "$KW_TMP/runs")
posts=$(awk '{s += $3} END {print s + 0}' "$KW_TMP/runs")
# Every failed exchange prints one "<client>: request ..." line.
errors=$(grep -c ': request ' "$KW_TMP/err" || true)
mismatch=$(grep -cE 'body differs from the pattern|body length [0-9]+, expected|unexpected bytes after the response' \
	"$KW_TMP/err" || true)
logs=()
for s in "${SERVERS[@]}"; do logs+=("${LOG[$s]}"); done
served=$(cat "${logs[@]}" | grep -c '^request ' || true)
served_posts=$(cat "${logs[@]}" | grep -c '^request .*method=POST' || true)
conns=$(cat "${logs[@]}" | grep -c '^accept ' || true)
resets=$(cat "${logs[@]}" | grep -c '^reset ' || true)
mal_runs=$(wc -l <"$KW_TMP/malformed" 2>/dev/null || echo 0)
mal_diff=$(awk '$1 != $2' "$KW_TMP/malformed" 2>/dev/null | wc -l)

echo "# client runs:                    $runs ($failed_runs exited non-zero)"
echo "# requests made:                  $made ($posts POSTs)"
echo "# requests the servers answered:  $served on $conns connections ($resets resets injected)"
echo "# errors surfaced to the clients: $errors"
echo "# duplicated POSTs:               $((served_posts - posts)) ($served_posts served, $posts made)"
echo "# bodies with foreign bytes:      $mismatch"
echo "# /malformed exit status differs: $mal_diff of $mal_runs"

[ "$runs" -gt 0 ] && [ "$made" -gt 0 ] && pass "$runs client runs, $made requests" || fail "no traffic"
if [ "$errors" -eq 0 ] && [ "$failed_runs" -eq 0 ]; then
	pass "0 errors surfaced to the clients"
else
	fail "$errors errors surfaced to the clients, $failed_runs runs failed; first:"
	grep -v '^ok ' "$KW_TMP/err" | head -20
	awk '$1 != 0' "$KW_TMP/runs" | head -5
fi
[ "$served_posts" -eq "$posts" ] && pass "every POST served exactly once ($posts)" \
	|| fail "POSTs served $served_posts times, $posts made"
[ "$mismatch" -eq 0 ] && pass "no body with another response's bytes" \
	|| fail "$mismatch bodies with foreign bytes"
[ "$served" -eq "$made" ] && pass "servers answered exactly the $made requests made" \
	|| fail "servers answered $served requests, $made made"
[ "$mal_runs" -gt 0 ] && [ "$mal_diff" -eq 0 ] && pass "/malformed: same exit status with the shim ($mal_runs runs)" \
	|| fail "/malformed: exit status differs in $mal_diff of $mal_runs runs"
finish
