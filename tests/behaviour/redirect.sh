#!/usr/bin/env bash
# redirect.sh BUILD_DIR - calls from libraries loaded with RTLD_DEEPBIND
# reach keepwarm (their GOT slots into libc.so.6 are redirected), and
# nothing else changes: the library still binds its other names in its own
# scope, a second definition of wrapped names in its scope is left alone,
# dlopen/dlclose from 4 threads at once is safe, an object keepwarm cannot
# pin is left alone with a trace line, KEEPWARM=off redirects nothing; the
# routed GnuTLS calls are what the installed library exports, and no TLS
# name leaves libkeepwarm.so.
# Programs: tests/redirect/ (deepbind_client and its libraries); php-curl,
# the real case, is in the compatibility suite.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: redirect.sh BUILD_DIR}" && pwd -P)
KW_TMP_NAME=kw-redirect
. "$(dirname "$0")/../common/lib.sh"
clear_shim_env
TMP=$KW_TMP
R=$BUILD_DIR/redirect
LIB=$BUILD_DIR/libkeepwarm.so
C=$R/deepbind_client
[ -x "$C" ] || { fail "deepbind_client is built (make tests)"; finish; exit; }
start_server || { finish; exit; }
# lib.sh stops the server and removes the scratch directory at exit.

# expect NAME CONNS OUTPUT -- ENV... -- MODE LIB N
expect() {
	local name=$1 want=$2 want_out=$3 before out rc got
	shift 3
	[ "$1" = -- ] && shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	before=$(server_conns)
	out=$(timeout 60 env "${envs[@]}" "$C" "$1" "$2" "$SERVER_PORT" "$3" 2>"$TMP/err")
	rc=$?
	got=$(($(server_conns) - before))
	if [ "$rc" -eq 0 ] && [ "$got" -eq "$want" ] && [ "$out" = "$want_out" ]; then
		pass "$name: $got connections, '$out'"
	else
		fail "$name: exit $rc, $got connections (want $want), '$out' (want '$want_out'): $(head -c 300 "$TMP/err")"
	fi
}

expect "RTLD_DEEPBIND library, no keepwarm" 10 "ok which=dep" -- X=1 -- fetch "$R/libkwdeep.so" 10
expect "RTLD_DEEPBIND library under keepwarm: its calls reach keepwarm, its own scope still binds its other names" \
	1 "ok which=dep" -- LD_PRELOAD="$LIB" KEEPWARM_TRACE="$TMP/t.trace" -- fetch "$R/libkwdeep.so" 10
if [ "$(grep -c " event=redirect object=$R/libkwdeep.so redirected=[0-9]*$" "$TMP/t.trace")" -eq 1 ] &&
	! grep -q "event=redirect object=$R/libkwdeepdep.so" "$TMP/t.trace"; then
	pass "the trace names the redirected object once (and not its dependency, which makes no wrapped call)"
else
	fail "redirect trace: $(grep redirect "$TMP/t.trace")"
fi
# A bare name is found through the caller's RUNPATH ($ORIGIN here): libc's
# dlopen must still see the program as its caller (a dlopen wrapper that
# calls instead of jumping finds nothing).
expect "a bare name found through the program's RUNPATH: found, and redirected at the program's next call" \
	1 "ok which=dep" -- LD_PRELOAD="$LIB" -- bare libkwdeep.so 10
expect "a second definition of socket/connect/close in the library's scope is left alone" \
	10 "ok which=dep calls=30" -- LD_PRELOAD="$LIB" -- fake "$R/libkwdeepfake.so" 10
expect "... as without keepwarm" 10 "ok which=dep calls=30" -- X=1 -- fake "$R/libkwdeepfake.so" 10
expect "4 threads x 200 dlopen/dlclose (unmapped after the last: no pin left), then requests" 1 "ok which=dep" -- LD_PRELOAD="$LIB" -- \
	loop "$R/libkwdeep.so" 10
expect "KEEPWARM=off redirects nothing" 10 "ok which=dep" -- LD_PRELOAD="$LIB" KEEPWARM=off \
	KEEPWARM_TRACE="$TMP/off.trace" -- fetch "$R/libkwdeep.so" 10
grep -q 'event=redirect' "$TMP/off.trace" && fail "KEEPWARM=off traced a redirect" ||
	pass "KEEPWARM=off: no redirect in the trace"

# An object whose path is too long to pin by name: left alone, said once.
D=$TMP
for part in a b c d e f g h i; do D=$D/$(printf "$part%.0s" $(seq 1 60)); done
mkdir -p "$D" && cp "$R/libkwdeep.so" "$R/libkwdeepdep.so" "$D/"
expect "an object keepwarm cannot pin is left alone" 10 "ok which=dep" -- LD_PRELOAD="$LIB" \
	KEEPWARM_TRACE="$TMP/long.trace" -- fetch "$D/libkwdeep.so" 10
[ "$(grep -c ' event=redirect reason=object-unreadable object=' "$TMP/long.trace")" -ge 1 ] &&
	pass "... with a trace line (reason=object-unreadable)" ||
	fail "long path: $(grep redirect "$TMP/long.trace" | cut -c1-200)"

# The table of redirected names is exactly what the library exports.
exported=$(sed -n '/global:/,/local:/p' "$(dirname "$0")/../../shim/wrap/exports.map" |
	tr -s ' \t\n;' '\n' | grep -vE '^(global:|local:|\*|)$' | sort | tr '\n' ' ')
table=$(grep -oE 'X\([a-z_0-9]+\)' "$(dirname "$0")/../../shim/wrap/dl_wrap.c" |
	sed 's/X(\(.*\))/\1/' | grep -v '^name$' | sort -u | tr '\n' ' ')
[ "$exported" = "$table" ] && pass "the redirect table names every exported wrapper" ||
	fail "exports.map: $exported / dl_wrap.c table: $table"

# The GnuTLS and OpenSSL calls routed through trampolines are every function the
# installed libraries export with a session first (tools/gen-tls-calls.py),
# and none of them leaves the library under its own name.
if diff=$(python3 "$(dirname "$0")/../../tools/gen-tls-calls.py" --check 2>&1); then
	pass "shim/service/gnutls_routed.h and openssl_routed.h list what the installed libgnutls.so.30 and libssl.so.3 export with a session first ($(grep -c '^	X(' "$(dirname "$0")/../../shim/service/gnutls_routed.h") and $(grep -c '^	X(' "$(dirname "$0")/../../shim/service/openssl_routed.h") functions)"
else
	fail "the routed lists are not what tools/gen-tls-calls.py makes of these libraries: $(echo "$diff" | head -n 5 | tr '\n' '|')"
fi
leaked=$(nm -D --defined-only "$BUILD_DIR/libkeepwarm.so" | grep -cE ' (gnutls_|SSL_|DTLS|kw_tls_|kw_ssl_)' || true)
[ "$leaked" -eq 0 ] && pass "no TLS name and no trampoline is exported by libkeepwarm.so" ||
	fail "libkeepwarm.so exports $leaked TLS names"

finish
