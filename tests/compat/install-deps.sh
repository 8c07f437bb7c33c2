#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages the compatibility suite
# drives: nginx and the client programs (and what the HTTPS cells need).
#
# A thin caller of tools/install-deps.sh, which does the installing: quick
# when everything is there (dpkg -s only), otherwise apt-get update and
# apt-get install -y --no-install-recommends, non-interactive, as root (sudo
# -n if not root). No package may leave a service running: maintainer scripts
# are kept from starting any (policy-rc.d), and nginx is stopped should one
# be running anyway. The suite starts its own nginx with its own
# configuration.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

PKGS=(
	nginx                 # the server
	curl wget             # curl and wget, loops and in-process URL lists
	python3 python3-requests   # urllib, http.client, requests
	apache2-utils         # ab
	ruby                  # net/http
	perl libwww-perl      # LWP::UserAgent, HTTP::Tiny (perl's own)
	libio-socket-ssl-perl # HTTP::Tiny over HTTPS (pl-httptiny-https)
	php-cli               # file_get_contents
	php-curl              # curl_init: libcurl loaded with RTLD_DEEPBIND
	aria2                 # aria2c -i
	lynx w3m              # text browsers, one page per process
	libcurl3-gnutls       # curl-gnutls: build/tls/curl_client-gnutls's libcurl
	libcurl4              # curl-openssl: build/tls/curl_client-openssl's libcurl
	openssl               # the HTTPS servers' private CA (tests/common/tlsca.sh)
	coreutils             # timeout, sha256sum
)

exec "$ROOT/tools/install-deps.sh" --name "compat install-deps" --sudo-noprompt \
	--packages "${PKGS[@]}" --stop-services nginx
