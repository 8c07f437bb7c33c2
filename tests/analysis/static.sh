#!/usr/bin/env bash
# static.sh BUILD_DIR - static analysis: cppcheck over the library, the
# tools and the test server, clang-tidy (the checks in .clang-tidy, every
# warning an error) over the library, and no string comparison against the
# catalogue's names. Each must be clean. About a minute on 2 cores. (The
# -Wall -Wextra -Werror build is every build: the Makefile always adds it.)
#
# A false positive is suppressed inline where it is (cppcheck-suppress,
# NOLINT), with a comment saying why; nothing is listed here.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: static.sh BUILD_DIR}" && pwd)
KW_TMP_NAME=kw-static
. "$(dirname "$0")/../common/lib.sh"
cd "$(dirname "$0")/../.." || exit 2
JOBS=$(nproc 2>/dev/null || echo 2)

# ---------------------------------------------------------------- cppcheck
cppcheck_run() {
	local name=$1
	shift
	if command -v cppcheck >/dev/null; then
		if cppcheck -q -j "$JOBS" --enable=warning,portability,performance --error-exitcode=1 \
			--inline-suppr "$@" >"$KW_TMP/cppcheck.out" 2>&1; then
			pass "cppcheck $name"
		else
			fail "cppcheck $name:"
			cat "$KW_TMP/cppcheck.out"
		fi
	else
		fail "cppcheck $name: cppcheck not installed"
	fi
}
cppcheck_run "shim/*/*.c" -I shim shim/*/*.c
cppcheck_run "tools/*.c" -I shim -I tools tools/*.c
cppcheck_run "tests/server/*.c" -I tests/server -I tests/common tests/server/*.c

# ---------------------------------------------------------------- clang-tidy
TIDY=$(command -v clang-tidy || command -v clang-tidy-14 || true)
if [ -z "$TIDY" ]; then
	fail "clang-tidy: not installed"
else
	# One process per file, JOBS at a time; each file's diagnostics in its own file.
	mkdir -p "$KW_TMP/tidy"
	printf '%s\n' shim/*/*.c | xargs -P "$JOBS" -I{} sh -c \
		'n=$(echo "$2" | tr / _); "$1" --quiet --warnings-as-errors="*" "$2" -- -std=gnu11 -D_GNU_SOURCE -Ishim \
			>"$3/$n.out" 2>&1; echo $? >"$3/$n.rc"' \
		_ "$TIDY" {} "$KW_TMP/tidy"
	for f in shim/*/*.c; do
		n=$(echo "$f" | tr / _)
		out=$KW_TMP/tidy/$n.out
		rc=$(cat "$KW_TMP/tidy/$n.rc" 2>/dev/null || echo missing)
		# Findings: "PATH:LINE:COL: error|warning: MESSAGE [CHECK,...]".
		new=$(grep -cE '^(/?[^:]+):[0-9]+:[0-9]+: (error|warning): .*\[[A-Za-z0-9.,-]+\]$' "$out")
		if [ "$new" -eq 0 ] && [ "$rc" = 0 ] &&
			! grep -q 'error: .*\(no such file\|unknown argument\|Error while processing\)' "$out"; then
			pass "clang-tidy $f"
		else
			fail "clang-tidy $f (exit $rc, $new finding(s)):"
			grep -v '^[0-9]* warnings\? generated' "$out" | head -60
		fi
	done
fi

# ---------------------------------------------------------------- catalogue strings
# Events and reasons are compared by their enum (shim/logic/catalog.h), never
# as strings: a str*cmp against any catalogue name anywhere in shim/ fails.
names=$(grep -oE '^[[:space:]]*X\([A-Z0-9_]+, "[^"]+"' shim/logic/catalog.h | sed -E 's/.*"([^"]+)"/\1/' | sort -u)
if [ -z "$names" ]; then
	fail "catalogue strings: no names found in shim/logic/catalog.h"
else
	alt=$(echo "$names" | sed 's/[.]/\\./g' | paste -sd '|')
	hits=$(grep -nE "str(n)?(case)?cmp[[:space:]]*\([^;]*\"($alt)\"" shim/*/*.c shim/*/*.h || true)
	if [ -z "$hits" ]; then
		pass "catalogue strings: no strcmp against any of $(echo "$names" | wc -l) names in shim/"
	else
		fail "catalogue strings compared with strcmp (compare the enum instead):"
		echo "$hits"
	fi
fi

finish
