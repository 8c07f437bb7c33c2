#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages the compatibility suite
# drives: nginx and the client programs.
#
# Quick when everything is there (dpkg -s only). Otherwise apt-get update and
# apt-get install -y --no-install-recommends, non-interactive, as root (sudo
# if not root). No package may leave a service running: maintainer scripts
# are kept from starting any (policy-rc.d), and nginx is stopped should one
# be running anyway. The suite starts its own nginx with its own
# configuration.
set -euo pipefail

PKGS=(
	nginx                 # the server
	curl wget             # curl and wget, loops and in-process URL lists
	python3 python3-requests   # urllib, http.client, requests
	apache2-utils         # ab
	ruby                  # net/http
	perl libwww-perl      # LWP::UserAgent, HTTP::Tiny (perl's own)
	php-cli               # file_get_contents
	aria2                 # aria2c -i
	lynx w3m              # text browsers, one page per process
	coreutils             # timeout, sha256sum
)

installed() {
	# dpkg -s also succeeds for removed packages whose config files remain,
	# so look at the Status line.
	dpkg -s "$1" 2>/dev/null | grep -qx 'Status: install ok installed'
}

missing=()
for p in "${PKGS[@]}"; do
	installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo -n)
else
	echo "compat install-deps: need root (or sudo) to install: ${missing[*]}" >&2
	exit 1
fi

echo "compat install-deps: installing ${missing[*]}"

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
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from keepwarm tests/compat/install-deps.sh\nexit 101\n' |
		"${SUDO[@]}" tee "$policy" >/dev/null
	"${SUDO[@]}" chmod 755 "$policy"
	own_policy=1
fi

"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}"

# Should the distribution's nginx be running anyway (a policy was already in
# place and allowed it): stop it, through the init system, then by its pid.
stop_system_nginx() {
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
for p in "${missing[@]}"; do
	if [ "$p" = nginx ]; then stop_system_nginx; fi
done

for p in "${PKGS[@]}"; do
	if ! installed "$p"; then
		echo "compat install-deps: $p is still not installed" >&2
		exit 1
	fi
done
