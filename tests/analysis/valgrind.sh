#!/usr/bin/env bash
# valgrind.sh BUILD_DIR - valgrind memcheck of our C clients with the ordinary
# library (BUILD_DIR/libkeepwarm.so) preloaded: LD_PRELOAD=... valgrind ...
# client (valgrind passes LD_PRELOAD on to the client). Each run must exit
# as the client would, the server must see the connections clients.sh
# expects, memcheck must find no invalid access (any error that is not a
# leak), and no definitely lost block may have libkeepwarm.so on its stack.
# keepwarm never frees its per-fd slots and idle table (they live as long as
# the process): they are "still reachable", which is not checked. Definite
# leaks of the clients themselves are shown but do not fail.
# Installs valgrind (apt-get) if it is missing.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: valgrind.sh BUILD_DIR}" && pwd)
# shellcheck disable=SC2034  # read by lib.sh
KW_TMP_NAME=kw-valgrind
# shellcheck disable=SC1091
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
LIB=$BUILD_DIR/libkeepwarm.so
CL=$BUILD_DIR/clients
PY=/usr/bin/python3

details() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "    | $(basename "$f"):"
		head -n 60 "$f" | sed 's/^/    |   /'
	done
}

if ! command -v valgrind >/dev/null 2>&1; then
	SUDO=()
	[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
	echo "    | valgrind is missing: apt-get install valgrind"
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$KW_TMP/apt.log" 2>&1
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		valgrind >>"$KW_TMP/apt.log" 2>&1
	if ! command -v valgrind >/dev/null 2>&1; then
		fail "valgrind installed"
		details "$KW_TMP/apt.log"
		finish
		exit
	fi
fi
VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--trace-children=no --num-callers=30 --track-origins=yes)

# vgcheck.py XML...: classify memcheck's errors. Prints one line per error
# worth showing, then "invalid=I shimleak=S otherleak=O". A fork child
# (followed too) writes its own XML document into its parent's file, in the
# middle of the parent's (valgrind 3.19 reopens --log-file per pid, not
# --xml-file): so each <error> record is parsed on its own, and every
# document must be complete.
cat >"$KW_TMP/vgcheck.py" <<'PYEOF'
import re, sys
import xml.etree.ElementTree as ET
text = "".join(open(p, errors="replace").read() for p in sys.argv[1:])
docs, ends = text.count("<?xml"), text.count("</valgrindoutput>")
if docs == 0 or docs != ends:
    sys.exit("%d XML documents, %d complete" % (docs, ends))
counts = {"invalid": 0, "shimleak": 0, "otherleak": 0}
errors = []
for rec in re.findall(r"<error>.*?</error>", text, re.S):
    try:
        errors.append(ET.fromstring(rec))
    except ET.ParseError:
        counts["invalid"] += 1
        print("invalid: an unreadable error record:\n" + rec[:2000])
for e in errors:
    kind = e.findtext("kind", "")
    what = e.findtext("what") or e.findtext("xwhat/text") or ""
    frames = []
    for st in e.findall("stack")[:1]:
        for f in st.findall("frame"):
            obj = f.findtext("obj", "")
            loc = f.findtext("fn", "?")
            if f.findtext("file"):
                loc += " (%s:%s)" % (f.findtext("file"), f.findtext("line", "?"))
            frames.append((obj, loc + " [" + obj.rsplit("/", 1)[-1] + "]"))
    ours = any(obj.endswith("libkeepwarm.so") for obj, _ in frames)
    if kind.startswith("Leak_"):
        if kind != "Leak_DefinitelyLost":
            continue
        key = "shimleak" if ours else "otherleak"
    else:
        key = "invalid"
    counts[key] += 1
    print("%s %s: %s" % (key, kind, what))
    for _, loc in frames[:12]:
        print("    at " + loc)
print("invalid=%(invalid)d shimleak=%(shimleak)d otherleak=%(otherleak)d" % counts)
PYEOF

# vg_run NAME WANT "SERVER_OPTS" CMD... : CMD may use @PORT@. WANT is the
# number of connections the server must accept (a count or LO-HI), or "-"
# for no server.
vg_run() {
	local name=$1 want=$2 sopts=$3 rc got=0
	shift 3
	if [ "$want" != - ]; then
		# shellcheck disable=SC2086  # server options are plain words
		start_server $sopts || return
	fi
	local args=() a
	for a in "$@"; do args+=("${a//@PORT@/${SERVER_PORT:-0}}"); done
	rm -f "$KW_TMP"/vg.*.xml "$KW_TMP"/vg.*.log
	rm -f "$KW_TMP/trace" "$KW_TMP"/stats.*
	timeout -k 5 300 env LD_PRELOAD="$LIB" KEEPWARM_TRACE="$KW_TMP/trace" \
		KEEPWARM_STATS="$KW_TMP/stats.%p" "${VG[@]}" --xml=yes --xml-file="$KW_TMP/vg.%p.xml" \
		--log-file="$KW_TMP/vg.%p.log" "${args[@]}" >"$KW_TMP/out" 2>"$KW_TMP/err" </dev/null
	rc=$?
	if [ "$want" != - ]; then
		stop_server
		got=$(server_conns)
	fi
	"$PY" "$KW_TMP/vgcheck.py" "$KW_TMP"/vg.*.xml >"$KW_TMP/vg.summary" 2>&1
	cat "$KW_TMP"/vg.*.log >"$KW_TMP/vg.log" 2>/dev/null
	local summary
	summary=$(tail -n 1 "$KW_TMP/vg.summary")
	local inv=-1 shim=-1 other=-1
	if [[ $summary =~ ^invalid=([0-9]+)\ shimleak=([0-9]+)\ otherleak=([0-9]+)$ ]]; then
		inv=${BASH_REMATCH[1]} shim=${BASH_REMATCH[2]} other=${BASH_REMATCH[3]}
	fi
	VG_RC=$rc VG_INVALID=$inv VG_SHIMLEAK=$shim VG_OTHERLEAK=$other
	[ "$want" = - ] && return
	local lo=${want%-*} hi=${want#*-} why=""
	if [ "$inv" -lt 0 ]; then
		why="memcheck's XML could not be read (exit $rc)"
	elif [ "$inv" -gt 0 ]; then
		why="$inv invalid access(es)"
	elif [ "$shim" -gt 0 ]; then
		why="$shim definite leak(s) with libkeepwarm.so on the stack"
	elif [ "$rc" -ne 0 ] && ! { [ "$rc" -eq 99 ] && [ "$other" -gt 0 ]; }; then
		why="exit $rc"
	elif ! [ "$got" -ge "$lo" ] || ! [ "$got" -le "$hi" ]; then
		why="conns=$got (expected $want)"
	fi
	if [ -z "$why" ]; then
		local note=""
		[ "$other" -gt 0 ] && note=", $other definite leak(s) of the client itself (shown below)"
		pass "valgrind $name: conns=$got (expected $want), no invalid access, no leak of the shim$note"
		[ "$other" -gt 0 ] && details "$KW_TMP/vg.summary"
	else
		fail "valgrind $name: $why"
		details "$KW_TMP/vg.summary" "$KW_TMP/err" "$KW_TMP/vg.log"
	fi
}

# Control: memcheck's findings reach the classifier. A program with an
# invalid read and a definite leak of its own.
cat >"$KW_TMP/control.c" <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	char *volatile p = malloc(8);
	char *volatile q = malloc(32);
	printf("%d\n", p[8]);   /* invalid read */
	q = NULL;               /* definitely lost */
	free(p);
	return q != NULL;
}
CEOF
if gcc -O0 -g -o "$KW_TMP/control" "$KW_TMP/control.c" 2>"$KW_TMP/cc.err"; then
	vg_run "control" - "" "$KW_TMP/control"
	if [ "$VG_RC" -eq 99 ] && [ "$VG_INVALID" -eq 1 ] && [ "$VG_SHIMLEAK" -eq 0 ] && [ "$VG_OTHERLEAK" -eq 1 ]; then
		pass "valgrind control: an invalid read and the program's own definite leak are told apart"
	else
		fail "valgrind control: rc=$VG_RC invalid=$VG_INVALID shimleak=$VG_SHIMLEAK otherleak=$VG_OTHERLEAK (want 99 1 0 1)"
		details "$KW_TMP/vg.summary" "$KW_TMP/vg.log"
	fi
else
	fail "valgrind control: cannot compile"
	details "$KW_TMP/cc.err"
fi

N=20
H=(--host 127.0.0.1 --port @PORT@)
SECONDS=0
for client in blocking nonblock_poll epoll_et; do
	vg_run "clients/$client /gen/1000" 1 "" "$CL/$client" "${H[@]}" --requests $N --path /gen/1000
	vg_run "clients/$client /chunked/5000" 1 "" "$CL/$client" "${H[@]}" --requests $N --path /chunked/5000
	vg_run "clients/$client --connection-close --read-to-eof" 1 "" "$CL/$client" "${H[@]}" --requests $N --connection-close --read-to-eof --path /gen/1000
	vg_run "clients/$client --http10 --read-to-eof" 1 "" "$CL/$client" "${H[@]}" --requests $N --http10 --read-to-eof --path /gen/1000
	vg_run "clients/$client POST /gen/100" $N "" "$CL/$client" "${H[@]}" --requests $N --method POST --body-bytes 100 --path /gen/100
	vg_run "clients/$client [server --rst-on-request 2]" $N "--rst-on-request 2" "$CL/$client" "${H[@]}" --requests $N --path /gen/100
done
vg_run "clients/blocking --sleep-ms 100 [server --idle-close 50]" 5 "--idle-close 50" "$CL/blocking" "${H[@]}" --requests 5 --sleep-ms 100 --path /gen/1000
vg_run "clients/blocking /close/100" $N "" "$CL/blocking" "${H[@]}" --requests $N --path /close/100
vg_run "clients/blocking /extra/100" $N "" "$CL/blocking" "${H[@]}" --requests $N --path /extra/100
vg_run "clients/blocking --close-after-headers (drain)" 1 "" "$CL/blocking" "${H[@]}" --requests $N --close-after-headers --path /gen/20000
vg_run "clients/epoll_before /gen/1000" 1 "" "$CL/epoll_before" "${H[@]}" --requests $N --path /gen/1000
vg_run "clients/vectored --use-msg /chunked/5000" 1 "" "$CL/vectored" "${H[@]}" --requests $N --use-msg --path /chunked/5000
vg_run "clients/peeker --peek-bytes 1 /chunked/5000" 1 "" "$CL/peeker" "${H[@]}" --requests $N --peek-bytes 1 --path /chunked/5000
vg_run "clients/sysclose /gen/1000" 1 "" "$CL/sysclose" "${H[@]}" --requests $N --path /gen/1000
vg_run "clients/fd_semantics /gen/100" 1 "" "$CL/fd_semantics" "${H[@]}" --path /gen/100
vg_run "clients/fdopen_client /gen/1000" $N "" "$CL/fdopen_client" "${H[@]}" --requests $N --path /gen/1000
vg_run "clients/dup_client /gen/1000" $N "" "$CL/dup_client" "${H[@]}" --requests $N --path /gen/1000
vg_run "clients/forker /gen/1000 (fork children are followed too)" 2 "" "$CL/forker" "${H[@]}" --requests $N --path /gen/1000
vg_run "clients/threads 4x50" 1-4 "" "$CL/threads" "${H[@]}" --threads 4 --requests 50 --path /gen/1000
echo "    | clients under valgrind: ${SECONDS}s"
finish
