#!/usr/bin/env bash
# install-deps.sh - install what the fuzz harnesses need (Debian 12): clang
# (clang-14) and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes),
# plus libhttp-parser-dev for the tracker. Fast when everything is present
# (dpkg -s only); otherwise apt-get, as root (sudo if not root).
set -euo pipefail

pkgs=(clang libclang-rt-14-dev libhttp-parser-dev)

installed() {
	dpkg -s "$1" 2>/dev/null | grep -qx 'Status: install ok installed'
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
else
	echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
