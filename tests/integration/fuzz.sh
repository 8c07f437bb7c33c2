#!/usr/bin/env bash
# fuzz.sh BUILD_DIR - the libFuzzer harnesses (tests/fuzz/): installs clang and
# libclang-rt-14-dev if missing, builds $BUILD_DIR/fuzz/<harness>, replays
# every regression input (tests/fuzz/regress/<harness>/) and the seed corpus,
# then fuzzes each harness for FUZZ_CHECK_SECONDS (default 50) on a scratch
# copy of its seed corpus. A crash, hang, leak or property failure fails the
# check and prints the reproducer's path ($BUILD_DIR/fuzz/artifacts/...).
# About 2.5 minutes on 2 cores.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: fuzz.sh BUILD_DIR}" && pwd -P)
KW_TMP_NAME=kw-fuzz
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
SECONDS_EACH=${FUZZ_CHECK_SECONDS:-50}
HARNESSES=(fuzz_track fuzz_upgrade fuzz_config)
OPTS=(-rss_limit_mb=2048 -timeout=10)

if "$ROOT/tests/fuzz/install-deps.sh" >"$KW_TMP/deps.log" 2>&1; then
	pass "fuzz: clang and libclang-rt-14-dev installed"
else
	fail "fuzz: installing clang/libclang-rt-14-dev: $(tail -n 3 "$KW_TMP/deps.log")"
	finish
	exit 1
fi

if make -C "$ROOT" --no-print-directory BUILD="$BUILD_DIR" fuzz-build >"$KW_TMP/build.log" 2>&1; then
	pass "fuzz: harnesses built (${HARNESSES[*]})"
else
	fail "fuzz: build failed:"
	tail -n 20 "$KW_TMP/build.log"
	finish
	exit 1
fi

ART=$BUILD_DIR/fuzz/artifacts
for h in "${HARNESSES[@]}"; do
	bin=$BUILD_DIR/fuzz/$h
	mkdir -p "$ART/$h"
	# Regression inputs first, then the seeds: each must pass as it is.
	for set in regress corpus; do
		dir=$ROOT/tests/fuzz/$set/$h
		files=("$dir"/*)
		[ -e "${files[0]}" ] || continue
		if "$bin" "${OPTS[@]}" "${files[@]}" >"$KW_TMP/$h.$set.log" 2>&1; then
			pass "$h: ${#files[@]} $set inputs replayed"
		else
			bad=$(sed -n 's/^Running: //p' "$KW_TMP/$h.$set.log" | tail -n 1)
			fail "$h: $set input fails: $bad"
			grep -E "^$h:|ERROR|SUMMARY" "$KW_TMP/$h.$set.log" | head -n 5
		fi
	done

	work=$KW_TMP/corpus/$h
	mkdir -p "$work"
	cp "$ROOT/tests/fuzz/corpus/$h/"* "$work/" 2>/dev/null
	before=$(ls "$ART/$h" | wc -l)
	log=$KW_TMP/$h.fuzz.log
	timeout -k 10 $((SECONDS_EACH + 60)) "$bin" "${OPTS[@]}" -max_total_time="$SECONDS_EACH" \
		-print_final_stats=1 -artifact_prefix="$ART/$h/" "$work" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	repro=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -z "$repro" ] && [ "$(ls "$ART/$h" | wc -l)" -eq "$before" ]; then
		pass "$h: ${SECONDS_EACH}s fuzzing, ${execs:-?} executions (${rate:-?}/s), corpus $(ls "$work" | wc -l) inputs"
	else
		fail "$h: fuzzing failed (exit $rc) after ${execs:-?} executions; reproducer: ${repro:-none written}"
		grep -E "^$h:|ERROR: |SUMMARY" "$log" | head -n 5
		[ -n "$repro" ] && echo "    replay: $bin $repro"
	fi
done

finish
