#!/usr/bin/env bash
# docs.sh BUILD_DIR - README.md, the man page and docs/formats.md agree with
# the code's tables (settings, events, reasons, options, accepted values):
# tests/analysis/docs.py says how each side is read.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: docs.sh BUILD_DIR}" && pwd -P)
exec python3 "$(dirname "$0")/docs.py" "$BUILD_DIR"
