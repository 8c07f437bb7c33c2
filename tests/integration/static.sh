#!/usr/bin/env bash
# static.sh BUILD_DIR - static analysis: cppcheck over the library and the
# test server, clang-tidy (the checks in .clang-tidy, every warning an error)
# over the library, and the library built from scratch with
# -Wall -Wextra -Werror. Each must be clean. About a minute on 2 cores.
#
# A false positive is suppressed inline where it is, with a comment saying
# why. The two below sit in shim/ and are listed here until they are; each
# is matched narrowly (tool, check, file and, for clang-tidy, the text of the
# flagged line), so any new finding still fails.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: static.sh BUILD_DIR}" && pwd)
KW_TMP_NAME=kw-static
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.." || exit 2
JOBS=$(nproc 2>/dev/null || echo 2)

# Known false positives are suppressed inline in the sources, with a reason
# (cppcheck-suppress, NOLINT). TIDY_KNOWN can list "FILE|CHECK|flagged line"
# for one that cannot be.
TIDY_KNOWN=()

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
		new=0
		known=0
		while IFS= read -r diag; do
			[[ $diag =~ ^(/?[^:]+):([0-9]+):[0-9]+:\ (error|warning):\ .*\[([A-Za-z0-9.-]+)(,-warnings-as-errors)?\]$ ]] || continue
			path=${BASH_REMATCH[1]#"$PWD/"}
			line=$(sed -n "${BASH_REMATCH[2]}p" "$path" | sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//')
			key="$path|${BASH_REMATCH[4]}|$line"
			is_known=0
			for k in ${TIDY_KNOWN[@]+"${TIDY_KNOWN[@]}"}; do
				[ "$k" = "$key" ] && is_known=1
			done
			if [ "$is_known" -eq 1 ]; then
				known=$((known + 1))
			else
				new=$((new + 1))
				echo "  $diag"
			fi
		done <"$out"
		# clang-tidy's exit status is 1 when it printed an error; with
		# nothing but listed false positives that is fine.
		if [ "$new" -eq 0 ] && { [ "$rc" = 0 ] || { [ "$rc" = 1 ] && [ "$known" -gt 0 ]; }; } &&
			! grep -q 'error: .*\(no such file\|unknown argument\|Error while processing\)' "$out"; then
			note=
			[ "$known" -gt 0 ] && note=" ($known listed false positive(s))"
			pass "clang-tidy $f$note"
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

# ---------------------------------------------------------------- -Werror build
# The Makefile always adds -Wall -Wextra -Werror; -B rebuilds every object.
if make -B --no-print-directory -j "$JOBS" lib BUILD="$KW_TMP/werror" CFLAGS="-O2 -g" \
	>"$KW_TMP/werror.out" 2>&1 && [ -f "$KW_TMP/werror/libkeepwarm.so" ]; then
	pass "make lib with -Wall -Wextra -Werror"
else
	fail "make lib with -Wall -Wextra -Werror:"
	tail -40 "$KW_TMP/werror.out"
fi

finish
