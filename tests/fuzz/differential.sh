#!/bin/bash
# differential.sh [--base REV] [--build DIR] [DIR...] - the decisions of the
# pure HTTP code (request head, upgrade, replay, response head, tracker) at
# revision REV and in the working tree, over the fuzz seeds, the regression
# inputs and any further directories of inputs (a corpus grown by `make fuzz`
# in build/fuzz/corpus-work/<harness>/, say; a directory named fuzz_track
# holds tracker inputs). Prints every input whose decisions differ,
# as "- REV" and "+ tree" lines, and a count; exits 1 when any differ.
#
# REV defaults to 19c58e7, the last revision whose upgrade.c had its own
# request parser. tests/fuzz/decide.c says what is compared.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BASE=19c58e7
BUILD=$ROOT/build
DIRS=()
while [ $# -gt 0 ]; do
	case $1 in
	--base) BASE=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) DIRS+=("$1"); shift ;;
	esac
done

mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd) || exit 2
OUT=$BUILD/fuzz/differential
rm -rf "$OUT"
mkdir -p "$OUT/base" || exit 2
git -C "$ROOT" archive "$BASE" shim/logic | tar -x -C "$OUT/base" || {
	echo "differential: cannot read shim/logic at $BASE" >&2
	exit 2
}

# build NAME TREE: decide.c against TREE's shim/logic.
build() {
	local flags=()
	grep -q kw_response_head_final "$2/shim/logic/upgrade.h" || flags+=(-DKW_DECIDE_BEFORE_ONE_PARSER)
	${CC:-cc} -O1 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE "${flags[@]}" -I"$2/shim" \
		-o "$OUT/decide-$1" "$HERE/decide.c" "$2/shim/logic/upgrade.c" \
		"$2/shim/logic/http_track.c" "$2/shim/logic/catalog.c" -lhttp_parser
}
build base "$OUT/base" && build tree "$ROOT" || exit 2

# run NAME: every input set through one build, in a fixed order; a directory
# named fuzz_track holds tracker inputs, any other request or response bytes.
run() {
	local d mode
	for d in tests/fuzz/corpus/* tests/fuzz/regress/* "${DIRS[@]}"; do
		case $(basename "$d") in
		fuzz_config) continue ;;
		fuzz_track) mode=--track ;;
		*) mode=--bytes ;;
		esac
		find "$d" -type f | LC_ALL=C sort | xargs -r "$OUT/decide-$1" $mode
	done
}
for i in "${!DIRS[@]}"; do DIRS[i]=$(cd "${DIRS[i]}" && pwd) || exit 2; done
cd "$ROOT" || exit 2
run base >"$OUT/base.txt" && run tree >"$OUT/tree.txt" || exit 2

inputs=$(wc -l <"$OUT/tree.txt")
if diff "$OUT/base.txt" "$OUT/tree.txt" >"$OUT/diff.txt"; then
	echo "differential: $inputs inputs, the same decisions at $BASE and in the tree"
	exit 0
fi
grep -E '^[<>]' "$OUT/diff.txt" | sed -e "s/^< /- $BASE /" -e 's/^> /+ tree /'
echo "differential: $(grep -c '^<' "$OUT/diff.txt") of $inputs inputs decided differently at $BASE and in the tree"
exit 1
