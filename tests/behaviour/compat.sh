#!/usr/bin/env bash
# compat.sh BUILD_DIR - the compatibility suite (tests/compat/): real programs
# from Debian, each in its usual one-request-per-call idiom, against Debian's
# nginx, without and with the shim. Installs what it needs first
# (tests/compat/install-deps.sh), then runs tests/compat/suite.sh, which
# prints the matrix and the "N passed, M failed" line.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
COMPAT=$(cd "$(dirname "$0")/../compat" && pwd)

if ! "$COMPAT/install-deps.sh"; then
	echo "FAIL compat: tests/compat/install-deps.sh could not install the programs"
	echo "0 passed, 1 failed"
	exit 1
fi
exec "$COMPAT/suite.sh" "$1"
