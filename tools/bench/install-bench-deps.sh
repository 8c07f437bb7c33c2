#!/usr/bin/env bash
# install-bench-deps.sh - the Debian 12 packages `make bench` uses, installed
# only when missing (dpkg -s first), by tools/install-deps.sh. Packages that
# start a system service on installation (squid on 3128, nginx on 80,
# haproxy) are stopped again: the benchmark runs its own instances with its
# own configurations on free 127.0.0.1 ports and never relies on the system
# ones.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# Scenario 6 (TLS reuse): openssl makes its certificate; GnuTLS's and
# libcurl's headers build its server and client (tests/tls/, mk/tls.mk), which
# runs against libcurl3-gnutls. Scenario 7 (python3 over HTTPS on OpenSSL)
# uses openssl's certificate too, served by nginx.
pkgs=(build-essential pkg-config libhttp-parser-dev python3 squid haproxy nginx apache2-utils
      openssl libgnutls28-dev libcurl4-openssl-dev libcurl3-gnutls strace valgrind)

exec "$ROOT/tools/install-deps.sh" --name install-bench-deps \
	--packages "${pkgs[@]}" --stop-services squid nginx haproxy
