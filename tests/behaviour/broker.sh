#!/usr/bin/env bash
# broker.sh BUILD_DIR - keepwarmd, the per-user broker, with programs run once
# per request.
#
# Loops of curl, wget, lynx, w3m and our C client against Debian's nginx (or
# kwtestd) reach 1 server connection for 20 processes with the broker and
# fetch byte-identical bodies; without it (KEEPWARM_BROKER=off, KEEPWARM=off,
# the off arm) each process dials. Another user can neither reach our broker
# nor make us use one it created; two network namespaces with a server each
# on the same address and port keep their connections apart; killing the
# broker (-9) in the middle of a 1,000-request loop costs no request; a new
# broker replaces a dead one's socket; unsafe directories are refused by both
# sides with a clear line; malformed messages and descriptors are refused
# and leak nothing; a seccomp-filtered process never uses the broker; the
# broker runs clean under ASan/UBSan and valgrind (its warm pool on).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD_DIR=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$BUILD_DIR/libkeepwarm.so
BROKER=$BUILD_DIR/keepwarmd
RAW=$ROOT/tests/clients/broker_raw.py
PY=/usr/bin/python3
N=20

KW_TMP_NAME=kw-broker
# shellcheck source=SCRIPTDIR/../common/lib.sh
. "$(dirname "$0")/../common/lib.sh"
TMP=$KW_TMP
# shellcheck source=SCRIPTDIR/../common/nginx.sh
. "$(dirname "$0")/../common/nginx.sh"

BROKER_PID=
NOBODY_PID=
NETNS=()
NOBODY_DIR=
FALLBACK_MADE=
cleanup() {
	stop_pid "$BROKER_PID"
	stop_pid "$NOBODY_PID"
	for ns in "${NETNS[@]}"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns delete "$ns" 2>/dev/null || true; done
	[ -z "$FALLBACK_MADE" ] || rm -rf "$FALLBACK_MADE"
	[ -z "$NOBODY_DIR" ] || rm -rf "$NOBODY_DIR"
	nginx_stop
	cleanup_lib
}
trap cleanup EXIT

clear_shim_env
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY XDG_RUNTIME_DIR
export no_proxy='*' NO_PROXY='*'

for f in "$BROKER" "$LIB" /usr/sbin/nginx /usr/bin/curl /usr/bin/wget /usr/bin/lynx /usr/bin/w3m; do
	[ -x "$f" ] || [ -f "$f" ] || { fail "prerequisite $f present"; finish; exit; }
done

# --- nginx, and the broker ------------------------------------------------------
mkdir -p "$TMP/www"
head -c 65536 /dev/urandom >"$TMP/www/64k.bin"
printf '<html><body><p>keepwarm broker page</p></body></html>\n' >"$TMP/www/page.html"
nginx_servers() { # PORT
	cat <<EOF
	default_type application/octet-stream;
	types { text/html html; }
	server {
		listen 127.0.0.1:$1;
		server_name localhost;
		root $TMP/www;
	}
EOF
}
if ! nginx_start "$TMP" 1; then
	fail "nginx starts on 127.0.0.1"
	tail -n 20 "$TMP/nginx.out" 2>/dev/null | sed 's/^/    /'
	finish
	exit
fi
PORT=$NGINX_PORTS
echo "setup: nginx on 127.0.0.1:$PORT (pid $NGINX_PID)"

log_lines() { if [ -f "$NGINX_ACCESS" ]; then wc -l <"$NGINX_ACCESS"; else echo 0; fi; }
# Distinct connections in the access log after its first $1 lines, once $2
# more lines are there (nginx logs a request after its response is sent).
conns_after() {
	local from=$1 want=$2
	for _ in $(seq 100); do
		[ "$(log_lines)" -ge $((from + want)) ] && break
		sleep 0.05
	done
	tail -n +"$((from + 1))" "$NGINX_ACCESS" | cut -d' ' -f1 | sort -u | wc -l
}

# The connection nginx served the last request on, once $1 lines are logged.
last_conn() {
	for _ in $(seq 100); do
		[ "$(log_lines)" -ge "$1" ] && break
		sleep 0.05
	done
	tail -n 1 "$NGINX_ACCESS" | cut -d' ' -f1
}

SOCK=$TMP/b/broker
# start_broker [SOCKET [env...]]: sets BROKER_PID, BROKER_LOG; waits for it.
start_broker() {
	local sock=${1:-$SOCK}
	shift || true
	BROKER_LOG=$TMP/broker.$RANDOM.log
	env KEEPWARM_BROKER="$sock" "$@" "$BROKER" 2>"$BROKER_LOG" &
	BROKER_PID=$!
	for _ in $(seq 100); do
		grep -q '^keepwarmd: serving' "$BROKER_LOG" 2>/dev/null && return 0
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "keepwarmd starts on $sock"
	sed 's/^/    /' "$BROKER_LOG"
	return 1
}
stop_broker() { stop_pid "$BROKER_PID"; BROKER_PID=; }

# with_shim COMMAND...: one process under the shim, with the broker at $SOCK,
# tracing to $TRACE. A take the broker answers after the shim's 1 ms (a
# loaded machine) dials, traced `dial ... reason=broker-slow`: the checks
# count those as the dials they are (slow_dials).
TRACE=$TMP/trace.loops
with_shim() { env LD_PRELOAD="$LIB" KEEPWARM_BROKER="$SOCK" KEEPWARM_TRACE="$TRACE" "$@"; }
slow_dials() { grep -c 'event=dial .*reason=broker-slow' "$TRACE" 2>/dev/null || true; }

# loop NAME FILE COMMAND...: run COMMAND (with URL replaced by the URL of
# FILE) N times, each a new process; the bodies must equal FILE's bytes.
# Sets CONNS (server connections for the N requests, less the dials of
# takes the broker answered late), BAD (processes that failed or printed
# another body) and SLOW (those late answers).
loop() {
	local name=$1 file=$2 before i
	shift 2
	before=$(log_lines)
	BAD=0
	rm -f "$TRACE"
	for ((i = 0; i < N; i++)); do
		local argv=() a
		for a in "$@"; do argv+=("${a//URL/http://127.0.0.1:$PORT/$file}"); done
		if ! "${argv[@]}" >"$TMP/out.$name" 2>"$TMP/err.$name" ||
			! cmp -s "$TMP/out.$name" "$TMP/www/$file"; then
			BAD=$((BAD + 1))
		fi
	done
	SLOW=$(slow_dials)
	CONNS=$(($(conns_after "$before" "$N") - SLOW))
}

start_broker || { finish; exit; }
check "the broker's directory is made 0700 and its socket 0600" \
	test "$(stat -c %a "$TMP/b")/$(stat -c %a "$SOCK")" = "700/600"

# --- legacy programs, one process per request ---------------------------------
loop curl 64k.bin with_shim curl -s URL
# At most 1: the first process's take may be a late answer too (it dials).
check "curl loop with the broker: $N requests, bodies identical, 1 connection (got $CONNS and $SLOW late answers, $BAD bad)" \
	test "$BAD" = 0 -a "$CONNS" -le 1 -a "$SLOW" -lt "$N"
loop wget 64k.bin with_shim wget -q -O - URL
check "wget loop (exits without closing) reuses the same connection: 0 new connections (got $CONNS, $BAD bad)" \
	test "$BAD" = 0 -a "$CONNS" -le 1
loop lynx page.html with_shim lynx -source URL
check "lynx -source loop: bodies identical, at most 1 connection (got $CONNS, $BAD bad)" \
	test "$BAD" = 0 -a "$CONNS" -le 1
loop w3m page.html with_shim w3m -dump_source URL
check "w3m -dump_source loop: bodies identical, at most 1 connection (got $CONNS, $BAD bad)" \
	test "$BAD" = 0 -a "$CONNS" -le 1
before=$(log_lines)
rm -f "$TRACE"
for ((i = 0; i < N; i++)); do with_shim curl -s -o /dev/null "http://127.0.0.1:$PORT/64k.bin"; done
check "all of them shared one connection: the next $N curl processes dial none (but for $(slow_dials) late answers)" \
	test "$(($(conns_after "$before" "$N") - $(slow_dials)))" -le 1

# Without the broker each process dials: what keepwarm did before it.
loop off 64k.bin env LD_PRELOAD="$LIB" KEEPWARM_BROKER=off curl -s URL
check "KEEPWARM_BROKER=off: $N connections for $N curl processes (got $CONNS, $BAD bad)" \
	test "$CONNS/$BAD" = "$N/0"
loop disabled 64k.bin env LD_PRELOAD="$LIB" KEEPWARM_BROKER="$SOCK" KEEPWARM=off curl -s URL
check "KEEPWARM=off never talks to the broker: $N connections (got $CONNS, $BAD bad)" \
	test "$CONNS/$BAD" = "$N/0"
loop offarm 64k.bin env LD_PRELOAD="$LIB" KEEPWARM_BROKER="$SOCK" KEEPWARM_SAMPLE=0 curl -s URL
check "the off arm (KEEPWARM_SAMPLE=0) never talks to the broker: $N connections (got $CONNS, $BAD bad)" \
	test "$CONNS/$BAD" = "$N/0"
# A destination a KEEPWARM_DESTINATIONS rule denies is never taken from the
# broker nor given to it, though the broker holds one for it.
loop denied 64k.bin with_shim env KEEPWARM_DESTINATIONS="allow 10.0.0.0/8, deny *:$PORT" curl -s URL
check "a denied destination: $N connections for $N curl processes, none from or to the broker (got $CONNS, $BAD bad, $(grep -c 'reason=dest-rule' "$TRACE") dest-rule lines)" \
	test "$CONNS/$BAD/$(grep -c 'reason=dest-rule' "$TRACE")/$(grep -cE 'event=(park|reuse|handoff)' "$TRACE")" = "$N/0/$N/0"

# A process whose KEEPWARM_MAX_REQUESTS the broker's connection has served
# past does not use it: it gives it back (for a process it suits) and dials.
idle_held() { "$BUILD_DIR/keepwarm" --broker "$SOCK" status | awk -v d="127.0.0.1:$PORT" '$1 == d { print $2 }'; }
held=$(last_conn "$(log_lines)")
was=$(idle_held)
before=$(log_lines)
rm -f "$TRACE"
with_shim env KEEPWARM_MAX_REQUESTS=2 curl -s -o /dev/null "http://127.0.0.1:$PORT/64k.bin"
now=$(last_conn $((before + 1)))
check "KEEPWARM_MAX_REQUESTS=2 against the broker's well-used connection ($held): a new one ($now), no reuse" 	test "$now" != "$held" -a "$(grep -c 'event=reuse' "$TRACE")" = 0 -a "$(grep -c 'event=dial' "$TRACE")" = 1
check "... the broker holds the old one still, and the new one too (idle $was, then $(idle_held))" 	test "$(idle_held)" = $((was + 1))

# The trace says where a connection came from and where it went.
rm -f "$TMP/trace"
env LD_PRELOAD="$LIB" KEEPWARM_BROKER="$SOCK" KEEPWARM_TRACE="$TMP/trace" curl -s -o /dev/null "http://127.0.0.1:$PORT/64k.bin"
check "trace: a reuse from the broker (reason=broker)" grep -q 'event=reuse .*reason=broker' "$TMP/trace"
check "trace: a handoff at exit (reason=exit)" grep -q 'event=handoff .*reason=exit' "$TMP/trace"

# --- our C client in a shell loop, against kwtestd ------------------------------
# shellcheck disable=SC2119 # kwtestd with its defaults
start_server
: >"$TMP/c-bad"
rm -f "$TRACE"
for ((i = 0; i < N; i++)); do
	with_shim "$BUILD_DIR/clients/blocking" --host 127.0.0.1 --port "$SERVER_PORT" --requests 1 \
		>/dev/null 2>&1 || echo bad >>"$TMP/c-bad"
done
check "a shell loop of our C client: $N processes, 1 connection (got $(server_conns), $(slow_dials) late answers), 0 failures" \
	test "$(($(server_conns) - $(slow_dials)))/$(wc -l <"$TMP/c-bad")" = "1/0"

# Overflow: a process's own pool of 0 hands every close to the broker.
rm -f "$TMP/trace"
with_shim KEEPWARM_MAX_IDLE=0 KEEPWARM_TRACE="$TMP/trace" "$BUILD_DIR/clients/blocking" \
	--host 127.0.0.1 --port "$SERVER_PORT" --requests 5 >"$TMP/overflow.out" 2>&1 || true
got="$(grep -c 'event=handoff .*reason=overflow' "$TMP/trace" || true)/$(grep -c 'event=reuse .*reason=broker\|event=dial .*reason=broker-slow' "$TMP/trace" || true)"
check "KEEPWARM_MAX_IDLE=0: each of 5 closes goes to the broker (handoff reason=overflow) and each connect comes back from it, or dials after a late answer (got $got)" \
	test "$got" = "5/5"

# --- kill -9 of the broker in a 1,000-request loop ----------------------------
errors=0
for ((i = 0; i < 1000; i++)); do
	[ "$i" = 300 ] && kill -9 "$BROKER_PID"
	with_shim "$BUILD_DIR/clients/blocking" --host 127.0.0.1 --port "$SERVER_PORT" --requests 1 \
		>/dev/null 2>"$TMP/k9.err" || errors=$((errors + 1))
done
wait "$BROKER_PID" 2>/dev/null || true
BROKER_PID=
check "kill -9 of the broker during a 1,000-request loop: 0 client errors (got $errors)" test "$errors" = 0
check "... and no keepwarm line on stderr about it" test ! -s "$TMP/k9.err"
check "the dead broker left its socket" test -S "$SOCK"

# --- restart: a new broker takes over the dead one's path ---------------------
start_broker || true
check "a new broker replaces the stale socket" test -S "$SOCK"
before=$(server_conns)
rm -f "$TRACE"
for ((i = 0; i < 5; i++)); do
	with_shim "$BUILD_DIR/clients/blocking" --host 127.0.0.1 --port "$SERVER_PORT" >/dev/null 2>&1
done
check "after the restart 5 processes share 1 new connection (got $(($(server_conns) - before)), $(slow_dials) late answers)" \
	test "$(($(server_conns) - before - $(slow_dials)))" = 1
"$BROKER" --socket "$SOCK" 2>"$TMP/second.err" && rc=0 || rc=$?
check "a second broker on the same path exits 1 with one line naming the first (rc $rc)" \
	grep -q "another broker (pid $BROKER_PID) serves $SOCK" "$TMP/second.err"
check "... exit status 1" test "$rc" = 1
stop_broker
check "SIGTERM: the socket is removed" test ! -e "$SOCK"

# --- malformed messages and descriptors -----------------------------------------
start_broker || true
broker_fds() { find "/proc/$BROKER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
fds_before=$(broker_fds)
check "malformed messages are refused, the broker keeps serving" \
	test "$("$PY" "$RAW" "$SOCK" garbage)" = alive
for kind in pipe udp unconnected claim unread counters; do
	check "a PUT of a bad descriptor ($kind) is refused" \
		test "$("$PY" "$RAW" "$SOCK" put-bad "$kind" "$SERVER_PORT")" = alive
done
sleep 0.2
check "nothing leaks: the broker holds as many descriptors as before ($fds_before)" \
	test "$(broker_fds)" = "$fds_before"
check "each refusal is logged with its reason" \
	test "$(grep -c 'refused a \(message\|connection\)' "$BROKER_LOG")" -ge 20
check "a TAKE for a server nobody parked is a miss" test "$("$PY" "$RAW" "$SOCK" take 9)" = miss

# --- another user -----------------------------------------------------------
NOBODY_DIR=$(mktemp -d /tmp/kw-nobody.XXXXXX)
chmod 755 "$NOBODY_DIR"
cp "$LIB" "$BROKER" "$RAW" "$NOBODY_DIR/"
chmod 755 "$NOBODY_DIR"/*
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# Ours: a connection parked in our broker.
n=$(log_lines)
with_shim curl -s -o /dev/null "http://127.0.0.1:$PORT/64k.bin"
ours=$(last_conn $((n + 1)))
n=$(log_lines)
as_nobody env LD_PRELOAD="$NOBODY_DIR/libkeepwarm.so" KEEPWARM_BROKER="$SOCK" \
	curl -s "http://127.0.0.1:$PORT/64k.bin" >"$TMP/nobody.out" 2>"$TMP/nobody.err" || true
theirs=$(last_conn $((n + 1)))
check "nobody cannot take our connections: its request went on a connection of its own ($theirs, ours $ours)" \
	test -n "$theirs" -a "$theirs" != "$ours"
check "... with the right bytes" cmp -s "$TMP/nobody.out" "$TMP/www/64k.bin"
check "... and it says once on stderr why it works alone" \
	test "$(grep -c 'keepwarm: not using the broker at' "$TMP/nobody.err")" = 1
rm -f "$TRACE"
n=$(log_lines)
with_shim curl -s -o /dev/null "http://127.0.0.1:$PORT/64k.bin"
again=$(last_conn $((n + 1)))
check "our parked connection is still ours: our next process gets it ($again, ours $ours)" \
	test "$again" = "$ours" -o "$(slow_dials)" != 0
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+dac_override \
	--ambient-caps=+dac_override "$PY" "$NOBODY_DIR/broker_raw.py" "$SOCK" hello 2>&1 || true)
check "a client of another uid that reaches the socket is hung up on (got '$out')" test "$out" = closed
check "... and logged" grep -q 'refused a client of uid 65534' "$BROKER_LOG"

FALLBACK=/tmp/keepwarm-$(id -u)
if [ -e "$FALLBACK" ]; then
	echo "note: $FALLBACK exists; the pre-created broker checks are skipped"
else
	FALLBACK_MADE=$FALLBACK
	as_nobody mkdir -m 700 "$FALLBACK"
	# Not through as_nobody: a function in the background is a subshell, and
	# $! must be the broker itself (setpriv and env exec it).
	setpriv --reuid=65534 --regid=65534 --clear-groups env KEEPWARM_BROKER="$FALLBACK/broker" "$NOBODY_DIR/keepwarmd" 2>"$TMP/nobody-broker.log" &
	NOBODY_PID=$!
	for _ in $(seq 100); do [ -S "$FALLBACK/broker" ] && break; sleep 0.05; done
	before=$(log_lines)
	env LD_PRELOAD="$LIB" curl -s -o "$TMP/out.fallback" "http://127.0.0.1:$PORT/64k.bin" 2>"$TMP/fallback.err"
	check "a broker another user made at our fallback path is not used: we dial (got $(conns_after "$before" 1))" \
		test "$(conns_after "$before" 1)" = 1
	check "... the body is right" cmp -s "$TMP/out.fallback" "$TMP/www/64k.bin"
	check "... and we say why, once" grep -q "not using the broker at $FALLBACK/broker: $FALLBACK is owned by uid 65534" "$TMP/fallback.err"
	check "... and nobody's broker saw no client" test "$(grep -c 'refused a client' "$TMP/nobody-broker.log")" = 0
	"$BROKER" 2>"$TMP/ours-at-fallback.err" && rc=0 || rc=$?
	check "our broker refuses that directory with a clear line (rc $rc)" \
		grep -q "refusing the directory: $FALLBACK is owned by uid 65534" "$TMP/ours-at-fallback.err"
	stop_pid "$NOBODY_PID"
	NOBODY_PID=
	rm -rf "$FALLBACK"
	FALLBACK_MADE=
fi

# --- unsafe directories ---------------------------------------------------------
stop_broker
mkdir -p "$TMP/open"
chmod 755 "$TMP/open"
"$BROKER" --socket "$TMP/open/broker" 2>"$TMP/open.err" && rc=0 || rc=$?
check "a directory open to others is refused: exit 1 and one clear line (rc $rc)" \
	grep -q "refusing the directory: $TMP/open is open to others (mode 0755" "$TMP/open.err"
ln -s "$TMP/b" "$TMP/link"
"$BROKER" --socket "$TMP/link/broker" 2>"$TMP/link.err" && rc=0 || rc=$?
check "a symbolic link as the directory is refused (rc $rc)" grep -q "$TMP/link is a symbolic link" "$TMP/link.err"
start_broker || true
chmod 755 "$TMP/b"
with_shim curl -s -o "$TMP/out.open" "http://127.0.0.1:$PORT/64k.bin" 2>"$TMP/open-shim.err"
check "the shim refuses a broker whose directory became open to others, and says so" \
	grep -q "keepwarm: not using the broker at $SOCK: $TMP/b is open to others (mode 0755)" "$TMP/open-shim.err"
check "... and the request still works" cmp -s "$TMP/out.open" "$TMP/www/64k.bin"
chmod 700 "$TMP/b"
chown 65534 "$TMP/b"
with_shim curl -s -o /dev/null "http://127.0.0.1:$PORT/64k.bin" 2>"$TMP/owner-shim.err"
check "the shim refuses a broker directory of another owner" \
	grep -q "$TMP/b is owned by uid 65534" "$TMP/owner-shim.err"
chown 0 "$TMP/b"
stop_broker

# --- the default path ---------------------------------------------------------
mkdir -m 700 "$TMP/xdg"
start_broker auto XDG_RUNTIME_DIR="$TMP/xdg" || true
check "auto: the broker listens at \$XDG_RUNTIME_DIR/keepwarm/broker" test -S "$TMP/xdg/keepwarm/broker"
before=$(log_lines)
for ((i = 0; i < 5; i++)); do
	env LD_PRELOAD="$LIB" XDG_RUNTIME_DIR="$TMP/xdg" curl -s -o /dev/null "http://127.0.0.1:$PORT/64k.bin"
done
check "auto: 5 curl processes share 1 connection (got $(conns_after "$before" 5))" \
	test "$(conns_after "$before" 5)" = 1
stop_broker

# --- fork children, --daemon, linger ------------------------------------------
start_broker || true
cat >"$TMP/forks.py" <<'PYEOF2'
# A parent that fetches, then three children that fetch twice each and exit,
# then the parent again: each child talks to the broker on its own socket.
import http.client, os, sys
port, path, want = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()
def get():
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", path)
    body = c.getresponse().read()
    c.close()
    return body == want
ok = get()
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        sys.exit(0 if get() and get() else 1)
    ok = os.waitpid(pid, 0)[1] == 0 and ok
print("ok" if get() and ok else "bad")
PYEOF2
before=$(log_lines)
rm -f "$TRACE"
out=$(with_shim "$PY" "$TMP/forks.py" "$PORT" /64k.bin "$TMP/www/64k.bin" 2>&1 || true)
got=$(($(conns_after "$before" 8) - $(slow_dials)))
check "fork children fetch through the broker on their own socket: right bytes ('$out'), at most 2 connections for 8 requests (got $got and $(slow_dials) late answers)" \
	test "$out" = ok -a "$got" -le 2
stop_broker

mkdir -m 700 "$TMP/d"
env KEEPWARM_BROKER="$TMP/d/broker" "$BROKER" --daemon 2>"$TMP/daemon.err" && rc=0 || rc=$?
dpid=$(cat "$TMP/d/broker.lock" 2>/dev/null || true)
for _ in $(seq 100); do [ -S "$TMP/d/broker" ] && break; sleep 0.05; done
check "--daemon returns 0 at once, quiet (rc $rc)" test "$rc/$(wc -c <"$TMP/daemon.err")" = "0/0"
check "... the detached broker (pid $dpid, in the lock file) serves the socket" \
	test -n "$dpid" -a -S "$TMP/d/broker"
check "... in a session of its own" test "$(ps -o sid= -p "$dpid" | tr -d ' ')" = "$dpid"
before=$(log_lines)
for ((i = 0; i < 3; i++)); do
	env LD_PRELOAD="$LIB" KEEPWARM_BROKER="$TMP/d/broker" curl -s -o /dev/null "http://127.0.0.1:$PORT/64k.bin"
done
check "... and shares connections (got $(conns_after "$before" 3) for 3 processes)" test "$(conns_after "$before" 3)" = 1
[ -z "$dpid" ] || kill -TERM "$dpid"
for _ in $(seq 100); do [ -e "$TMP/d/broker" ] || break; sleep 0.05; done
check "... SIGTERM stops it and removes the socket" test ! -e "$TMP/d/broker"

start_broker "$SOCK" KEEPWARM_BROKER_LINGER=1s || true
lingered=no
for _ in $(seq 100); do kill -0 "$BROKER_PID" 2>/dev/null || { lingered=yes; break; }; sleep 0.1; done
wait "$BROKER_PID" && rc=0 || rc=$?
BROKER_PID=
check "KEEPWARM_BROKER_LINGER=1s: with nothing parked and no client it exits 0 on its own ($lingered, rc $rc)" \
	test "$lingered/$rc" = "yes/0"
check "... saying why, and its socket is gone" \
	test "$(grep -c 'nothing parked and no clients' "$BROKER_LOG")/$(test -e "$SOCK" && echo left || echo gone)" = "1/gone"

# --- network namespaces -------------------------------------------------------
start_broker || true
NSA=kwb-a-$$ NSB=kwb-b-$$
if ip netns add "$NSA" 2>/dev/null && ip netns add "$NSB" 2>/dev/null; then
	NETNS=("$NSA" "$NSB")
	NSPORT=18080
	for ns in "$NSA" "$NSB"; do
		ip netns exec "$ns" ip link set lo up
		ip netns exec "$ns" "$BUILD_DIR/kwtestd" --port "$NSPORT" --log "$TMP/ns-$ns.log" &
	done
	for _ in $(seq 100); do
		[ -s "$TMP/ns-$NSA.log" ] || [ -e "$TMP/ns-$NSA.log" ] && [ -e "$TMP/ns-$NSB.log" ] && break
		sleep 0.05
	done
	sleep 0.3
	bad=0
	for ((i = 0; i < 5; i++)); do
		for ns in "$NSA" "$NSB"; do
			ip netns exec "$ns" env LD_PRELOAD="$LIB" KEEPWARM_BROKER="$SOCK" \
				"$BUILD_DIR/clients/blocking" --host 127.0.0.1 --port "$NSPORT" >/dev/null 2>&1 ||
				bad=$((bad + 1))
		done
	done
	a=$(grep -c '^accept ' "$TMP/ns-$NSA.log" || true)
	b=$(grep -c '^accept ' "$TMP/ns-$NSB.log" || true)
	ra=$(grep -c '^request ' "$TMP/ns-$NSA.log" || true)
	rb=$(grep -c '^request ' "$TMP/ns-$NSB.log" || true)
	check "two namespaces, a server each on 127.0.0.1:$NSPORT: each served its own 5 requests on 1 connection (A $a/$ra, B $b/$rb, $bad failed)" \
		test "$a/$ra/$b/$rb/$bad" = "1/5/1/5/0"
	for ns in "$NSA" "$NSB"; do
		ip netns pids "$ns" | xargs -r kill 2>/dev/null || true
		ip netns delete "$ns"
	done
	NETNS=()
else
	fail "setup: network namespaces (ip netns add)"
fi

# --- seccomp: never used ------------------------------------------------------
before=$(log_lines)
for ((i = 0; i < 3; i++)); do
	with_shim "$BUILD_DIR/clients/seccomp_exec" curl -s -o /dev/null "http://127.0.0.1:$PORT/64k.bin"
done
check "under a seccomp filter each process dials: 3 connections for 3 (got $(conns_after "$before" 3))" \
	test "$(conns_after "$before" 3)" = 3
stop_broker

# --- the broker under ASan/UBSan and valgrind ---------------------------------
sanitized() { # LABEL COMMAND...: a broker under COMMAND serves processes and stops clean
	local label=$1 rc bad=0
	shift
	BROKER_LOG=$TMP/broker.$label.log
	env KEEPWARM_BROKER="$SOCK" KEEPWARM_WARM=2 "$@" 2>"$BROKER_LOG" &
	BROKER_PID=$!
	for _ in $(seq 200); do grep -q '^keepwarmd: serving' "$BROKER_LOG" 2>/dev/null && break; sleep 0.05; done
	# A slowed broker answers after the shim's 1 ms: processes dial then,
	# so only the answers are counted here, not the connections.
	for ((i = 0; i < 5; i++)); do
		with_shim curl -s -o "$TMP/out.$label" "http://127.0.0.1:$PORT/64k.bin" || bad=$((bad + 1))
		cmp -s "$TMP/out.$label" "$TMP/www/64k.bin" || bad=$((bad + 1))
	done
	check "$label: 5 curl processes with the broker fetch the right bytes ($bad bad)" test "$bad" = 0
	check "$label: a parked connection is given to a patient asker" \
		test "$("$PY" "$RAW" "$SOCK" take "$PORT")" = give
	out=$("$PY" "$RAW" "$SOCK" garbage 2>&1 || true)
	check "$label: malformed messages are refused (got '${out##*$'\n'}')" test "$out" = alive ||
		tail -n 5 "$BROKER_LOG" | sed 's/^/    /'
	check "$label: a bad descriptor is refused" \
		test "$("$PY" "$RAW" "$SOCK" put-bad claim "$PORT" 2>&1)" = alive
	check "$label: keepwarm status gets its report" \
		eval '"$BUILD_DIR/keepwarm" --broker "$SOCK" status --raw | grep -q "^keepwarm_broker_parked_total "'
	check "$label: its warm pool (KEEPWARM_WARM=2) dialled" \
		eval '"$BUILD_DIR/keepwarm" --broker "$SOCK" status --raw |
			grep -q "^keepwarm_broker_warmed_total{dest=\"127.0.0.1:$PORT\"} [1-9]"'
	kill -TERM "$BROKER_PID"
	rc=0
	wait "$BROKER_PID" || rc=$?
	BROKER_PID=
	check "$label: the broker exits 0 on SIGTERM (rc $rc)" test "$rc" = 0
}
if setup "the sanitizer build (make asan)" make -C "$ROOT" --no-print-directory BUILD="$BUILD_DIR" asan; then
	sanitized asan env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
		"$BUILD_DIR/asan/keepwarmd"
	check "asan: no sanitizer report" test "$(grep -c 'ERROR: \|runtime error' "$BROKER_LOG")" = 0
fi
if command -v valgrind >/dev/null; then
	sanitized valgrind valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--track-fds=yes "$BROKER"
	check "valgrind: no errors" grep -q 'ERROR SUMMARY: 0 errors' "$BROKER_LOG"
else
	fail "setup: valgrind installed"
fi

finish
