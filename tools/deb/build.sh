#!/usr/bin/env bash
# build.sh OUTDIR - the Debian packages of this source tree, built with
# `dpkg-buildpackage -us -uc -b` from a copy of the tree in OUTDIR/src (git's
# files, tracked and untracked but not ignored, as they are in the working
# tree; outside git every file but build/), so nothing is written beside the
# tree: the packages, their .buildinfo and .changes land in OUTDIR, the log
# in OUTDIR/build.log. Installs what the build needs first.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
OUT=${1:?usage: build.sh OUTDIR}

bash "$ROOT/tools/install-deps.sh" deb
rm -rf "$OUT"
mkdir -p "$OUT/src"
OUT=$(cd "$OUT" && pwd -P)
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# (A tracked file deleted in the working tree is left out.)
	(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$OUT/src" -xf -
else
	tar -C "$ROOT" --exclude=./build -cf - . | tar -C "$OUT/src" -xf -
fi
# A clean environment: nothing of a make that ran this (make deb BUILD=...
# exports BUILD), of the user's CFLAGS or of the caller's shell reaches
# debian/rules, so every build of one tree is the same (DEB_BUILD_OPTIONS,
# nocheck say, passes).
if ! (cd "$OUT/src" && env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="${HOME:-/root}" \
	LC_ALL=C.UTF-8 ${DEB_BUILD_OPTIONS:+DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS"} \
	dpkg-buildpackage -us -uc -b -Jauto) >"$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log" >&2
	echo "build.sh: dpkg-buildpackage failed; the whole log is $OUT/build.log" >&2
	exit 1
fi
ls "$OUT"/*.deb
