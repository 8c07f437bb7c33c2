#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages a target needs. The one
# place that installs packages: tests/compat/install-deps.sh and
# tools/bench/install-bench-deps.sh call it with their own lists.
#
#   install-deps.sh check|demo|deb
#       the packages `make check` / `make demo` / `make deb` need (check's
#       include deb's: `make check` builds and checks the package).
#   install-deps.sh [--name NAME] [--sudo-noprompt] --packages PKG...
#                   [--stop-services SERVICE...]
#       the packages given. NAME prefixes the messages (default install-deps);
#       --sudo-noprompt runs sudo -n; each SERVICE whose package of the same
#       name was installed now is stopped again afterwards.
#
# Fast when everything is present (dpkg -s only). Otherwise apt-get update and
# apt-get install -y --no-install-recommends, non-interactive, as root (sudo
# if not root). Installing nginx (squid, haproxy) must not leave the
# distribution's service running: our tests and the benchmark start their own
# instances with their own configurations. Maintainer scripts are kept from
# starting services (a temporary policy-rc.d), and services that started
# anyway are stopped.
set -euo pipefail

usage() {
	echo "usage: $0 check|demo|deb" >&2
	echo "       $0 [--name NAME] [--sudo-noprompt] --packages PKG... [--stop-services SERVICE...]" >&2
	exit 2
}
[ $# -ge 1 ] || usage

name=install-deps
sudo_opts=()
pkgs=()
services=()
# check|demo put the policy in place only when nginx is missing; an explicit
# package list always does (when something is missing).
policy_always=1

# What dpkg-buildpackage and debian/control's Build-Depends need, and lintian.
deb_pkgs=(build-essential dpkg-dev debhelper lintian pkgconf libhttp-parser-dev check libgnutls28-dev
          libssl-dev)
case "$1" in
check|demo|deb)
	[ $# -eq 1 ] || usage
	policy_always=0
	services=(nginx)
	if [ "$1" = check ]; then
		pkgs=(build-essential pkg-config libhttp-parser-dev check libgnutls28-dev libssl-dev nginx
		      python3 python3-requests curl wget apache2-utils iproute2 procps
		      openssl libio-socket-ssl-perl liblwp-protocol-https-perl
		      libssl-dev libcurl4-openssl-dev libcurl4 libcurl3-gnutls
		      php-cli php-curl ruby libwww-perl lynx w3m valgrind util-linux strace
		      "${deb_pkgs[@]}")
	elif [ "$1" = deb ]; then
		pkgs=("${deb_pkgs[@]}")
		services=()
	else
		pkgs=(build-essential pkg-config libhttp-parser-dev libgnutls28-dev libssl-dev python3)
	fi
	;;
--*)
	list=
	while [ $# -gt 0 ]; do
		case "$1" in
		--name)           [ $# -ge 2 ] || usage; name=$2; list=; shift 2; continue ;;
		--sudo-noprompt)  sudo_opts=(-n); list= ;;
		--packages)       list=pkgs ;;
		--stop-services)  list=services ;;
		--*)              usage ;;
		*)
			case "$list" in
			pkgs)     pkgs+=("$1") ;;
			services) services+=("$1") ;;
			*)        usage ;;
			esac
			;;
		esac
		shift
	done
	[ ${#pkgs[@]} -gt 0 ] || usage
	;;
*)	usage ;;
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
	SUDO=(sudo ${sudo_opts[@]+"${sudo_opts[@]}"})
else
	echo "$name: need root (or sudo) to install: ${missing[*]}" >&2
	exit 1
fi

echo "$name: installing ${missing[*]}"

is_missing() { # is_missing PKG: PKG is about to be installed now
	local p
	for p in "${missing[@]}"; do [ "$p" = "$1" ] && return 0; done
	return 1
}

want_policy=$policy_always
is_missing nginx && want_policy=1

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
if [ "$want_policy" -eq 1 ] && [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from keepwarm tools/install-deps.sh (%s)\nexit 101\n' "$name" |
		"${SUDO[@]}" tee "$policy" >/dev/null
	"${SUDO[@]}" chmod 755 "$policy"
	own_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}"

# In case a service started anyway (no policy honoured): stop it through the
# init system, then by the pid in its pid file, checking the process name.
# nginx is asked to quit gracefully (SIGQUIT, then SIGTERM after 5 s); other
# services get SIGTERM, then SIGKILL after 10 s.
stop_service() { # stop_service NAME
	local svc=$1 pidfile pid sig1=TERM sig2=KILL tries=100
	local pidfiles=("/run/$svc.pid")
	case "$svc" in
	nginx) sig1=QUIT sig2=TERM tries=50 ;;
	squid) pidfiles=(/run/squid.pid /var/run/squid.pid) ;;
	esac
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		"${SUDO[@]}" systemctl stop "$svc" >/dev/null 2>&1 || true
		"${SUDO[@]}" systemctl disable "$svc" >/dev/null 2>&1 || true
	fi
	if command -v service >/dev/null 2>&1; then
		"${SUDO[@]}" service "$svc" stop >/dev/null 2>&1 || true
	fi
	for pidfile in "${pidfiles[@]}"; do
		[ -r "$pidfile" ] || continue
		pid=$(tr -dc '0-9' <"$pidfile")
		if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then continue; fi
		case "$(ps -o comm= -p "$pid" 2>/dev/null)" in
		"$svc"*) ;;
		*) continue ;;
		esac
		"${SUDO[@]}" kill -"$sig1" "$pid" 2>/dev/null || true
		for _ in $(seq "$tries"); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			"${SUDO[@]}" kill -"$sig2" "$pid" 2>/dev/null || true
		fi
	done
	return 0
}
for s in ${services[@]+"${services[@]}"}; do
	if is_missing "$s"; then stop_service "$s"; fi
done

for p in "${pkgs[@]}"; do
	if ! installed "$p"; then
		echo "$name: $p is still not installed" >&2
		exit 1
	fi
done
