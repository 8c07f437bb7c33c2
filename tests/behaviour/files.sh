#!/usr/bin/env bash
# files.sh BUILD_DIR - the files keepwarm writes (KEEPWARM_TRACE,
# KEEPWARM_STATS) are safe in shared directories: a planted symbolic link
# (at the path, or at the stats file's old predictable temporary name
# PATH.tmp.PID) or a planted file of another user is never written through;
# keepwarm says so in one line and the program runs as without it. The
# fs.protected_* sysctls are left as the test finds them (the scratch
# directory is not sticky, so they do not apply). The stats file's mode
# follows the program's umask. A file that cannot be written (a missing
# directory) or a configuration file that cannot be read is named, with the
# system's error, in one line.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: files.sh BUILD_DIR}" && pwd)
KW_TMP_NAME=kw-files
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
LIB=$BUILD_DIR/libkeepwarm.so
CLIENT=$BUILD_DIR/clients/blocking
D=$KW_TMP/shared
mkdir -p "$D"

start_server || { finish; exit; }

# run ENV...: the client with the shim and ENV (not timeout: it would load the
# library too); stderr in $KW_TMP/err.
run() {
	timeout 60 env "$@" LD_PRELOAD="$LIB" "$CLIENT" --host 127.0.0.1 --port "$SERVER_PORT" \
		--requests 3 --path /gen/100 >/dev/null 2>"$KW_TMP/err"
}

# victim NAME: a file with known bytes, another program's data.
victim() {
	printf 'precious data\n' >"$D/$1"
	echo "$D/$1"
}

untouched() { [ "$(cat "$1")" = "precious data" ]; }
said_once() { [ "$(grep -c "^keepwarm: $1=.*$2; not written$" "$KW_TMP/err")" -eq 1 ]; }

# ---- the trace through a symbolic link
v=$(victim trace-victim)
ln -s "$v" "$D/trace.log"
run KEEPWARM_TRACE="$D/trace.log"
rc=$?
if [ "$rc" -eq 0 ] && untouched "$v" && said_once KEEPWARM_TRACE "is a symbolic link"; then
	pass "a trace path that is a symbolic link is refused, in one line; the program exits 0"
else
	fail "trace through a symbolic link: exit $rc, victim now '$(head -c 60 "$v")', stderr: $(head -c 300 "$KW_TMP/err")"
fi

# ---- the stats file through a symbolic link
v=$(victim stats-victim)
ln -s "$v" "$D/stats.prom"
run KEEPWARM_STATS="$D/stats.prom"
rc=$?
if [ "$rc" -eq 0 ] && untouched "$v" && said_once KEEPWARM_STATS "is a symbolic link"; then
	pass "a stats path that is a symbolic link is refused, in one line; the program exits 0"
else
	fail "stats through a symbolic link: exit $rc, victim now '$(head -c 60 "$v")', stderr: $(head -c 300 "$KW_TMP/err")"
fi

# ---- the old predictable temporary name, planted before the program starts
# (exec keeps the pid the link was named after)
v=$(victim tmp-victim)
rm -f "$D/stats2.prom"
timeout 60 bash -c 'ln -s "$1" "$2.tmp.$$" && exec env KEEPWARM_STATS="$2" LD_PRELOAD="$3" "${@:4}"' _ \
	"$v" "$D/stats2.prom" "$LIB" "$CLIENT" --host 127.0.0.1 --port "$SERVER_PORT" \
	--requests 3 --path /gen/100 >/dev/null 2>"$KW_TMP/err"
rc=$?
if [ "$rc" -eq 0 ] && untouched "$v" && [ -f "$D/stats2.prom" ] && [ ! -L "$D/stats2.prom" ] &&
	grep -q '^keepwarm_info' "$D/stats2.prom" && [ ! -s "$KW_TMP/err" ]; then
	pass "a link planted at PATH.tmp.PID is never written through; the stats file is written"
else
	fail "planted temporary name: exit $rc, victim now '$(head -c 60 "$v")', stats: $(ls -l "$D/stats2.prom" 2>&1)"
fi
if ! ls -a "$D" | grep -q '^\.stats2\.prom\.'; then
	pass "no temporary file is left beside the stats file"
else
	fail "temporary files left: $(ls -a "$D" | grep '^\.stats2')"
fi

# ---- the stats file's mode: 0666 less the program's umask
rm -f "$D/m.prom"
(umask 077 && run KEEPWARM_STATS="$D/m.prom")
m077=$(stat -c %a "$D/m.prom" 2>/dev/null)
rm -f "$D/m.prom"
(umask 022 && run KEEPWARM_STATS="$D/m.prom")
m022=$(stat -c %a "$D/m.prom" 2>/dev/null)
if [ "$m077" = 600 ] && [ "$m022" = 644 ]; then
	pass "the stats file's mode follows the umask (077: 600, 022: 644)"
else
	fail "stats file mode: umask 077 gave '$m077' (want 600), 022 gave '$m022' (want 644)"
fi

# ---- a file another user owns (needs root to plant)
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	for what in TRACE STATS; do
		v=$(victim "owned-$what")
		chown nobody "$v"
		run "KEEPWARM_$what=$v"
		rc=$?
		if [ "$rc" -eq 0 ] && untouched "$v" && said_once "KEEPWARM_$what" "is a file another user owns"; then
			pass "a KEEPWARM_$what file owned by nobody is left alone, in one line"
		else
			fail "KEEPWARM_$what owned by nobody: exit $rc, now '$(head -c 60 "$v")', stderr: $(head -c 300 "$KW_TMP/err")"
		fi
	done
else
	echo "SKIP a file another user owns: planting one needs root and a 'nobody' user (not counted)"
fi

# ---- files that cannot be written or read say so, once, with the system's error
run KEEPWARM_TRACE="$D/missing/trace.log" KEEPWARM_STATS="$D/missing/stats.prom"
rc=$?
if [ "$rc" -eq 0 ] &&
	said_once KEEPWARM_TRACE "cannot be opened: No such file or directory" &&
	said_once KEEPWARM_STATS "cannot be created: No such file or directory" &&
	[ "$(wc -l <"$KW_TMP/err")" -eq 2 ]; then
	pass "a trace and a stats path in a missing directory: one line each, naming the variable, path and error; exit 0"
else
	fail "missing directory: exit $rc, stderr: $(head -c 400 "$KW_TMP/err")"
fi
# A configuration file that is there but cannot be read (a directory here:
# root reads any file).
mkdir -p "$KW_TMP/home/.config/keepwarm/keepwarm.conf"
run HOME="$KW_TMP/home"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(grep -c "^keepwarm: configuration file $KW_TMP/home/.config/keepwarm/keepwarm.conf cannot be read: Is a directory; skipped$" "$KW_TMP/err")" -eq 1 ]; then
	pass "an unreadable configuration file is named with its error, once; exit 0"
else
	fail "unreadable configuration file: exit $rc, stderr: $(head -c 300 "$KW_TMP/err")"
fi
rm -rf "$KW_TMP/home"

# ---- the ordinary case still works
rm -f "$D/plain.trace" "$D/plain.prom"
run KEEPWARM_TRACE="$D/plain.trace" KEEPWARM_STATS="$D/plain.prom"
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'event=start' "$D/plain.trace" && grep -q '^keepwarm_info' "$D/plain.prom" &&
	[ ! -s "$KW_TMP/err" ]; then
	pass "a plain trace and stats path are written, nothing said"
else
	fail "plain files: exit $rc, trace $(wc -c <"$D/plain.trace" 2>&1), stats $(wc -c <"$D/plain.prom" 2>&1), stderr: $(head -c 200 "$KW_TMP/err")"
fi

finish
