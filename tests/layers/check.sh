#!/usr/bin/env bash
# check.sh BUILD_DIR LEVEL... - hold shim/ to its levels (shim/README.md).
#
# LEVEL... are the Makefile's SHIM_LEVELS, lowest first; the objects are
# BUILD_DIR/shim/<level>/*.o, built from shim/<level>/*.c. Checks, each a
# PASS or FAIL line:
#   - shim/README.md lists the same levels in the same order and names each
#     level's files as they are in its folder; every folder
#     of shim/ is a level and no source sits outside one;
#   - a file includes only headers of its own or lower levels;
#   - each level links with only the levels below it (-Wl,-z,defs): a call
#     upward is an undefined symbol;
#   - below the wrappers, no object calls by name a function of the
#     real-function table (shim/service/real.h) or an exported one
#     (shim/wrap/exports.map): keepwarm reaches libc only through kw_real;
#   - no circle between files in the symbol graph (symbol_graph.py).
# KW_LAYERS_EXTRA="level:object ..." adds objects to levels (the self-test
# uses it to plant a back-call). Exits 1 when anything failed.
set -uo pipefail
BUILD=${1:?usage: check.sh BUILD_DIR LEVEL...}
shift
LEVELS=("$@")
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/../.." || exit 2
CC=${CC:-cc}
LIBS=(-lhttp_parser -ldl -lpthread)

passed=0
failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kw-layers.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT

[ ${#LEVELS[@]} -gt 0 ] || { echo "check.sh: no levels given" >&2; exit 2; }

level_index() {
	local i
	for i in "${!LEVELS[@]}"; do
		[ "${LEVELS[$i]}" = "$1" ] && { echo "$i"; return; }
	done
	echo -1
}

objects_of() { # objects of one level, the planted ones included
	local l=$1 e
	ls "$BUILD"/shim/"$l"/*.o 2>/dev/null
	for e in ${KW_LAYERS_EXTRA:-}; do
		[ "${e%%:*}" = "$l" ] && echo "${e#*:}"
	done
}

# ---- the levels as documented and as laid out
readme=$(sed -n 's/^| *[0-9][0-9]* *| *`\([a-z]*\)`.*/\1/p' shim/README.md 2>/dev/null | paste -sd ' ')
if [ "$readme" = "${LEVELS[*]}" ]; then
	pass "shim/README.md lists the Makefile's levels: ${LEVELS[*]}"
else
	fail "shim/README.md lists levels '$readme', the Makefile '${LEVELS[*]}'"
fi
# The files each level's row names: a source by its stem, a header or other
# file without a source of its own by its whole name.
for l in "${LEVELS[@]}"; do
	row=$(grep -E "^\| *[0-9]+ *\| *\`$l\` *\|" shim/README.md | head -n 1)
	listed=$(echo "${row%|}" | awk -F'|' '{print $NF}' | grep -oE '`[^`]+`' | tr -d '`' | sort | paste -sd ' ')
	present=$(for f in shim/"$l"/*; do
		b=$(basename "$f")
		case "$b" in
		*.c) echo "${b%.c}" ;;
		*.h) [ -e "${f%.h}.c" ] || echo "$b" ;;
		*) echo "$b" ;;
		esac
	done | sort | paste -sd ' ')
	if [ "$listed" = "$present" ]; then
		pass "shim/README.md names the files of $l"
	else
		fail "shim/README.md names '$listed' for $l; shim/$l/ holds '$present'"
	fi
done
stray=$(find shim -maxdepth 1 -type f ! -name README.md | sort)
for d in shim/*/; do
	d=${d%/}
	[ "$(level_index "${d#shim/}")" -ge 0 ] || stray="$stray $d/"
done
if [ -z "${stray// /}" ]; then
	pass "every file of shim/ sits in a level's folder"
else
	fail "outside the levels' folders:$stray"
fi

# ---- includes point down
bad=
for f in shim/*/*.[ch]; do
	lvl=$(level_index "$(basename "$(dirname "$f")")")
	[ "$lvl" -ge 0 ] || continue
	while IFS= read -r inc; do
		il=$(level_index "${inc%%/*}")
		if [ "$il" -lt 0 ] || [ "$il" -gt "$lvl" ]; then
			bad="$bad
  $f includes $inc"
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
if [ -z "$bad" ]; then
	pass "every #include names a header of its own level or a lower one"
else
	fail "includes that point up (or outside the levels):$bad"
fi

# ---- each level links with only the levels below it
below=()   # every object, level by level, once the loop is done
nowrap=()  # those below the wrappers (the last level)
for l in "${LEVELS[@]}"; do
	mapfile -t objs < <(objects_of "$l")
	if [ ${#objs[@]} -eq 0 ]; then
		fail "level $l: no objects in $BUILD/shim/$l (build first: make lib)"
		continue
	fi
	if $CC -shared -Wl,-z,defs -o "$TMP/$l.so" "${below[@]}" "${objs[@]}" "${LIBS[@]}" \
		>"$TMP/$l.log" 2>&1; then
		pass "level $l links with only the levels below it (${#objs[@]} files)"
	else
		fail "level $l calls up (linked with -Wl,-z,defs and only the levels before it):"
		grep -E 'undefined reference|error' "$TMP/$l.log" | sed 's/^/  /' | sort -u | head -20
	fi
	below+=("${objs[@]}")
	[ "$l" = "${LEVELS[-1]}" ] || nowrap+=("${objs[@]}")
done

# ---- libc only through the real-function table, below the wrappers
mapfile -t real_names < <(sed -n 's/^[[:space:]]*X(\([A-Za-z0-9_]*\),.*/\1/p' shim/service/real.h)
mapfile -t exported < <(sed -n '/global:/,/local:/p' shim/wrap/exports.map | tr ';' '\n' |
	sed -E 's/global://; s/^[[:space:]]+//; s/[[:space:]]+$//' | grep -E '^[A-Za-z_][A-Za-z0-9_]*$')
forbidden=" ${real_names[*]} ${exported[*]} "
bad=
for o in "${nowrap[@]}"; do
	for sym in $(nm -u "$o" | awk '{print $NF}' | sed 's/@.*//'); do
		case "$forbidden" in *" $sym "*) bad="$bad
  ${o#"$BUILD"/} calls $sym by name" ;; esac
	done
done
if [ ${#real_names[@]} -lt 10 ]; then
	fail "read only ${#real_names[@]} names from shim/service/real.h"
elif [ -z "$bad" ]; then
	pass "below the wrappers no call by name to the ${#real_names[@]} real functions (kw_real only)"
else
	fail "calls by name of functions keepwarm wraps or may wrap (use kw_real.NAME):$bad"
fi

# ---- no circles between files
if python3 "$HERE/symbol_graph.py" "${below[@]}" >"$TMP/graph.txt" 2>&1; then
	pass "no circle between files: $(tail -n 1 "$TMP/graph.txt")"
else
	fail "circles in the symbol graph:"
	grep -A 20 '^CIRCLE' "$TMP/graph.txt" | sed 's/^/  /' | head -40
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
