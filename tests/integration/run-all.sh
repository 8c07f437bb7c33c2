#!/bin/bash
# run-all.sh BUILD_DIR - run every tests/integration/*.sh except this one, each
# with BUILD_DIR, add up their "N passed, M failed" lines and print the total
# as the only line of that form (the scripts' own summary lines are shown as
# "== <script>: N passed, M failed"). Exits 1 if anything failed.
#
# Files without a #! first line (sourced helpers such as lib.sh) are skipped.
# A script that prints no summary line counts as 1 failure; so does one that
# exits non-zero while reporting no failures. KW_SCRIPT_TIMEOUT (seconds,
# default 1800) bounds each script.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SELF=$(basename "$0")
SCRIPT_TIMEOUT=${KW_SCRIPT_TIMEOUT:-1800}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kw-run-all.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

summary_re='^([0-9]+) passed, ([0-9]+) failed$'
total_pass=0
total_fail=0
ran=0

for script in "$HERE"/*.sh; do
	[ -e "$script" ] || continue
	name=$(basename "$script")
	[ "$name" = "$SELF" ] && continue
	[ "$name" = run-all.sh ] && continue
	# Sourced helpers (lib.sh) have no #! line; only scripts are run.
	if [ "$(head -c 2 "$script")" != '#!' ]; then
		echo "== $name: no #! line, a sourced helper, not run"
		continue
	fi
	ran=$((ran + 1))
	echo "== $name"
	out="$TMP/$name.out"
	# Show the output as it comes, with the script's summary line renamed.
	timeout -k 10 "$SCRIPT_TIMEOUT" bash "$script" "$BUILD" 2>&1 </dev/null | tee "$out" |
		sed -E "s/$summary_re/== $name: \\1 passed, \\2 failed/"
	rc=${PIPESTATUS[0]}

	line=$(grep -E "$summary_re" "$out" | tail -n 1)
	if [[ $line =~ $summary_re ]]; then
		p=${BASH_REMATCH[1]}
		f=${BASH_REMATCH[2]}
	else
		p=0
		f=1
		echo "== $name: printed no 'N passed, M failed' line (exit $rc), counted as 1 failure"
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			echo "== $name: timed out after ${SCRIPT_TIMEOUT}s, counted as 1 failure"
		else
			echo "== $name: exited $rc but reported no failures, counted as 1 failure"
		fi
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
done

if [ "$ran" -eq 0 ]; then
	echo "== no integration scripts found in $HERE"
	total_fail=$((total_fail + 1))
fi

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
