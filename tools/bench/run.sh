#!/usr/bin/env bash
# run.sh [--smoke] [--build DIR] [--out DIR] [--only 1,2,3,4,5,6,7,8]
# The keepwarm benchmark (`make bench` builds the programs, then runs this).
# Raises the soft descriptor limit to the hard one (the scale scenario holds
# thousands of connections), then hands over to bench.py, which starts and
# stops (by pid) every server it uses.
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec /usr/bin/python3 tools/bench/bench.py "$@"
