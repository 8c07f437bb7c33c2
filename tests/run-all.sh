#!/bin/bash
# run-all.sh BUILD_DIR [SECTION...] - the tests `make check` runs, section by
# section (default: all four, in this order):
#   unit       the Check suites, BUILD_DIR/unit/test_* (one pass per check)
#   behaviour  tests/behaviour/*.sh: what a program sees, with and without
#              keepwarm (clients, real programs, settings, tools)
#   analysis   tests/analysis/*.sh: the code examined rather than run for
#              its behaviour (static analysis, the level check, sanitizers,
#              valgrind, the fuzz corpus replayed, thread stress under TSan)
#   package    tests/package/*.sh: the Debian package built, checked,
#              installed, used and purged (root; the host left as it was)
# Each script gets BUILD_DIR and prints PASS/FAIL lines and "N passed, M
# failed"; setup steps (installs, builds) print "setup: ..." and count
# nothing. Prints "== SECTION/script: N passed, M failed" per script,
# "== SECTION: N passed, M failed" per section, and the total last as the
# only line of the form "N passed, M failed". Exits 1 if anything failed.
#
# A script that prints no summary line counts as 1 failure; so does one that
# exits non-zero while reporting no failures. KW_SCRIPT_TIMEOUT (seconds,
# default 1800) bounds each script.
set -u

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR [unit|behaviour|analysis|package...]" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
shift
HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPT_TIMEOUT=${KW_SCRIPT_TIMEOUT:-1800}
SECTIONS=("$@")
[ ${#SECTIONS[@]} -gt 0 ] || SECTIONS=(unit behaviour analysis package)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kw-run-all.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

summary_re='^([0-9]+) passed, ([0-9]+) failed$'
total_pass=0
total_fail=0
report=()

# unit: every Check suite; "P%: Checks: N, Failures: F, Errors: E".
run_unit() {
	local t name out rc n f e
	sec_pass=0
	sec_fail=0
	for t in "$BUILD"/unit/test_*; do
		case $t in *.d) continue ;; esac
		[ -x "$t" ] || continue
		name=$(basename "$t")
		out=$TMP/unit.$name
		timeout -k 10 "$SCRIPT_TIMEOUT" "$t" >"$out" 2>&1 </dev/null
		rc=$?
		if [[ $(grep -E '^[0-9]+%: Checks: ' "$out" | tail -n 1) =~ Checks:\ ([0-9]+),\ Failures:\ ([0-9]+),\ Errors:\ ([0-9]+) ]]; then
			n=${BASH_REMATCH[1]}
			f=$((BASH_REMATCH[2] + BASH_REMATCH[3]))
		else
			n=1
			f=1
		fi
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
		e=$((n - f))
		[ "$e" -lt 0 ] && e=0
		if [ "$f" -ne 0 ]; then
			echo "FAIL unit/$name (exit $rc):"
			grep -vE '^(Running suite|[0-9]+%: Checks)' "$out" | head -n 40 | sed 's/^/    /'
		fi
		echo "== unit/$name: $e passed, $f failed"
		sec_pass=$((sec_pass + e))
		sec_fail=$((sec_fail + f))
	done
	if [ "$sec_pass" -eq 0 ] && [ "$sec_fail" -eq 0 ]; then
		echo "== no unit tests in $BUILD/unit (make all builds them)"
		sec_fail=1
	fi
}

# A directory of scripts: each with BUILD, its summary line renamed.
run_scripts() {
	local dir=$1 section=$2 script name out rc line p f ran=0
	sec_pass=0
	sec_fail=0
	for script in "$dir"/*.sh; do
		[ -e "$script" ] || continue
		name=$(basename "$script")
		# Sourced helpers have no #! line; only scripts are run.
		[ "$(head -c 2 "$script")" = '#!' ] || continue
		ran=$((ran + 1))
		echo "== $section/$name"
		out=$TMP/$section.$name.out
		timeout -k 10 "$SCRIPT_TIMEOUT" bash "$script" "$BUILD" 2>&1 </dev/null | tee "$out" |
			sed -E "s/$summary_re/== $section\\/$name: \\1 passed, \\2 failed/"
		rc=${PIPESTATUS[0]}
		line=$(grep -E "$summary_re" "$out" | tail -n 1)
		if [[ $line =~ $summary_re ]]; then
			p=${BASH_REMATCH[1]}
			f=${BASH_REMATCH[2]}
		else
			p=0
			f=1
			echo "== $section/$name: printed no 'N passed, M failed' line (exit $rc), counted as 1 failure"
		fi
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
				echo "== $section/$name: timed out after ${SCRIPT_TIMEOUT}s, counted as 1 failure"
			else
				echo "== $section/$name: exited $rc but reported no failures, counted as 1 failure"
			fi
		fi
		sec_pass=$((sec_pass + p))
		sec_fail=$((sec_fail + f))
	done
	if [ "$ran" -eq 0 ]; then
		echo "== no scripts in $dir"
		sec_fail=$((sec_fail + 1))
	fi
}

for section in "${SECTIONS[@]}"; do
	SECONDS=0
	case $section in
	unit) run_unit ;;
	behaviour | analysis | package) run_scripts "$HERE/$section" "$section" ;;
	*) echo "run-all.sh: unknown section '$section'" >&2; exit 2 ;;
	esac
	echo "== $section: $sec_pass passed, $sec_fail failed (${SECONDS}s)"
	report+=("$(printf '%-10s %6d passed, %d failed  (%ds)' "$section" "$sec_pass" "$sec_fail" "$SECONDS")")
	total_pass=$((total_pass + sec_pass))
	total_fail=$((total_fail + sec_fail))
done

echo
printf '%s\n' "${report[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
