#!/usr/bin/env bash
# install-bench-deps.sh - the Debian 12 packages `make bench` uses, installed
# only when missing (dpkg -s first). Packages that start a system service on
# installation (squid on 3128, nginx on 80, haproxy) are stopped again: the
# benchmark runs its own instances with its own configurations on free
# 127.0.0.1 ports and never relies on the system ones.
set -euo pipefail

pkgs=(build-essential pkg-config libhttp-parser-dev python3 squid haproxy nginx apache2-utils)

installed() {
	# dpkg -s also succeeds for removed packages whose config files remain.
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
	echo "install-bench-deps: need root (or sudo) to install: ${missing[*]}" >&2
	exit 1
fi
echo "install-bench-deps: installing ${missing[*]}"

# Keep maintainer scripts from starting services, when no policy is in place
# already; removed again afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
cleanup() { [ "$own_policy" -eq 1 ] && "${SUDO[@]}" rm -f "$policy"; return 0; }
trap cleanup EXIT
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from keepwarm tools/bench/install-bench-deps.sh\nexit 101\n' |
		"${SUDO[@]}" tee "$policy" >/dev/null
	"${SUDO[@]}" chmod 755 "$policy"
	own_policy=1
fi

"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"

# In case a service started anyway (no policy honoured): stop it through the
# init system, then by the pid in its pid file, checking the process name.
stop_service() { # stop_service NAME PIDFILE...
	local name=$1 pidfile pid
	shift
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		"${SUDO[@]}" systemctl stop "$name" >/dev/null 2>&1 || true
		"${SUDO[@]}" systemctl disable "$name" >/dev/null 2>&1 || true
	fi
	if command -v service >/dev/null 2>&1; then
		"${SUDO[@]}" service "$name" stop >/dev/null 2>&1 || true
	fi
	for pidfile in "$@"; do
		[ -r "$pidfile" ] || continue
		pid=$(tr -dc '0-9' <"$pidfile")
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
		case "$(ps -o comm= -p "$pid" 2>/dev/null)" in
		"$name"*) ;;
		*) continue ;;
		esac
		"${SUDO[@]}" kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && "${SUDO[@]}" kill -KILL "$pid" 2>/dev/null
	done
	return 0
}
for p in "${missing[@]}"; do
	case "$p" in
	squid)   stop_service squid /run/squid.pid /var/run/squid.pid ;;
	nginx)   stop_service nginx /run/nginx.pid ;;
	haproxy) stop_service haproxy /run/haproxy.pid ;;
	esac
done

for p in "${pkgs[@]}"; do
	installed "$p" || { echo "install-bench-deps: $p is still not installed" >&2; exit 1; }
done
