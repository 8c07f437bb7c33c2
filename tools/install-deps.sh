#!/usr/bin/env bash
# install-deps.sh check|demo - install the Debian 12 packages a target needs.
#
# Fast when everything is present (dpkg -s only). Otherwise apt-get update and
# apt-get install -y --no-install-recommends, as root (sudo if not root).
# Installing nginx must not leave the distribution's nginx service running on
# port 80: our tests start their own nginx with their own configuration.
set -euo pipefail

usage() { echo "usage: $0 check|demo" >&2; exit 2; }
[ $# -eq 1 ] || usage

case "$1" in
check) pkgs=(build-essential pkg-config libhttp-parser-dev check libgnutls28-dev nginx
             python3 python3-requests curl wget apache2-utils iproute2 procps) ;;
demo)  pkgs=(build-essential pkg-config libhttp-parser-dev python3) ;;
*)     usage ;;
esac

installed() {
	# dpkg -s also succeeds for removed packages whose config files remain,
	# so look at the Status line.
	dpkg -s "$1" 2>/dev/null | grep -qx 'Status: install ok installed'
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
else
	echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"

want_nginx=0
for p in "${missing[@]}"; do [ "$p" = nginx ] && want_nginx=1; done

# Keep maintainer scripts from starting services (nginx would take port 80).
# Only when no policy is in place already; removed again afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
cleanup() {
	if [ "$own_policy" -eq 1 ]; then
		"${SUDO[@]}" rm -f "$policy" || true
	fi
}
trap cleanup EXIT
if [ "$want_nginx" -eq 1 ] && [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from keepwarm tools/install-deps.sh\nexit 101\n' |
		"${SUDO[@]}" tee "$policy" >/dev/null
	"${SUDO[@]}" chmod 755 "$policy"
	own_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}"

stop_system_nginx() {
	# Through the init system when there is one, then by pid as a fallback.
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		"${SUDO[@]}" systemctl stop nginx >/dev/null 2>&1 || true
		"${SUDO[@]}" systemctl disable nginx >/dev/null 2>&1 || true
	fi
	if command -v service >/dev/null 2>&1; then
		"${SUDO[@]}" service nginx stop >/dev/null 2>&1 || true
	fi
	local pidfile=/run/nginx.pid pid
	if [ -r "$pidfile" ]; then
		pid=$(tr -dc '0-9' <"$pidfile")
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		   [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = nginx ]; then
			"${SUDO[@]}" kill -QUIT "$pid" 2>/dev/null || true
			for _ in $(seq 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			if kill -0 "$pid" 2>/dev/null; then
				"${SUDO[@]}" kill -TERM "$pid" 2>/dev/null || true
			fi
		fi
	fi
}
if [ "$want_nginx" -eq 1 ]; then
	stop_system_nginx
fi

for p in "${pkgs[@]}"; do
	if ! installed "$p"; then
		echo "install-deps: $p is still not installed" >&2
		exit 1
	fi
done
