#!/usr/bin/env bash
# layers.sh BUILD_DIR - the level check of shim/ (tests/layers/check.sh, what
# `make layers` runs) passes on the library as built, and fails on what it
# exists to catch: a call up a level, a call of a wrapped libc name below the
# wrappers, and two files calling each other in a circle. Each failure is
# planted as an extra object in a level (KW_LAYERS_EXTRA); nothing of shim/ is
# touched. A few seconds.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: layers.sh BUILD_DIR}" && pwd)
KW_TMP_NAME=kw-layers-it
. "$(dirname "$0")/../common/lib.sh"
cd "$(dirname "$0")/../.." || exit 2
LEVELS=$(make -s --no-print-directory -f Makefile -f - print-levels <<<'print-levels: ; @echo $(SHIM_LEVELS)')
CHECK=tests/layers/check.sh

# shellcheck disable=SC2086
if "$CHECK" "$BUILD_DIR" $LEVELS >"$KW_TMP/real.out" 2>&1; then
	pass "make layers: the library holds to its levels ($(grep -c '^PASS' "$KW_TMP/real.out") checks)"
else
	fail "make layers fails on the library as built:"
	grep '^FAIL' -A 12 "$KW_TMP/real.out"
fi

# plant NAME LEVEL:SOURCE... - compile each source into an object of that
# level, run the check with them, and print its output.
plant() {
	local name=$1 extra= spec lvl src obj
	shift
	for spec in "$@"; do
		lvl=${spec%%:*}
		src=${spec#*:}
		obj=$KW_TMP/$name.$(basename "$src" .c).o
		cc -c -fPIC -O2 -o "$obj" "$src" || return 1
		extra="$extra $lvl:$obj"
	done
	# shellcheck disable=SC2086
	KW_LAYERS_EXTRA=$extra "$CHECK" "$BUILD_DIR" $LEVELS
}

expect_fail() { # DESCRIPTION PATTERN NAME SPEC... - the check fails, saying PATTERN
	local what=$1 pattern=$2
	shift 2
	local name=$1
	if plant "$@" >"$KW_TMP/$name.out" 2>&1; then
		fail "$what: the check passed"
	elif grep -q -- "$pattern" "$KW_TMP/$name.out"; then
		pass "$what: $(grep -m1 -- "$pattern" "$KW_TMP/$name.out" | sed "s/^ *//")"
	else
		fail "$what: failed, but not saying '$pattern':"
		grep "^FAIL" -A 5 "$KW_TMP/$name.out"
	fi
}

# Pure logic calling a connection primitive.
cat >"$KW_TMP/backcall.c" <<'C'
extern int kw_park(void *s, int unused);
int kw_planted_backcall(void *s) { return kw_park(s, 0); }
C
expect_fail "a call from logic up to primitive (kw_park)" "undefined reference to .kw_park" \
	backcall "logic:$KW_TMP/backcall.c"

# A service calling poll() by name instead of kw_real.poll.
cat >"$KW_TMP/direct.c" <<'C'
#include <poll.h>
int kw_planted_direct(int fd) { struct pollfd p = { .fd = fd, .events = POLLIN }; return poll(&p, 1, 0); }
C
expect_fail "poll() called by name in service" "calls poll by name" \
	direct "service:$KW_TMP/direct.c"

# Two files of one level calling each other.
cat >"$KW_TMP/ping.c" <<'C'
extern int kw_planted_pong(int);
int kw_planted_ping(int n) { return n ? kw_planted_pong(n - 1) : 0; }
C
cat >"$KW_TMP/pong.c" <<'C'
extern int kw_planted_ping(int);
int kw_planted_pong(int n) { return n ? kw_planted_ping(n - 1) : 1; }
C
expect_fail "two files of feature calling each other" "CIRCLE" \
	circle "feature:$KW_TMP/ping.c" "feature:$KW_TMP/pong.c"

finish
