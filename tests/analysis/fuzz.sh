#!/usr/bin/env bash
# fuzz.sh BUILD_DIR - the libFuzzer harnesses (tests/fuzz/) on the inputs kept
# in git, no random fuzzing: installs clang and libclang-rt-14-dev if missing
# and builds $BUILD_DIR/fuzz/<harness> (setup, not counted), then replays
# every regression input (tests/fuzz/regress/<harness>/) and every seed
# (tests/fuzz/corpus/<harness>/) through each harness's properties, under
# ASan and UBSan. Random-time fuzzing is `make fuzz`; a crash it finds goes
# into regress/ with its fix and is replayed here from then on.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: fuzz.sh BUILD_DIR}" && pwd -P)
KW_TMP_NAME=kw-fuzz
. "$(dirname "$0")/../common/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
HARNESSES=(fuzz_track fuzz_upgrade fuzz_config fuzz_broker)
OPTS=(-rss_limit_mb=2048 -timeout=10)

setup "clang and libclang-rt-14-dev installed" "$ROOT/tests/fuzz/install-deps.sh" || { finish; exit 1; }
setup "harnesses built (${HARNESSES[*]})" \
	make -C "$ROOT" --no-print-directory BUILD="$BUILD_DIR" fuzz-build || { finish; exit 1; }

for h in "${HARNESSES[@]}"; do
	bin=$BUILD_DIR/fuzz/$h
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
done

finish
