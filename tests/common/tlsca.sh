# shellcheck shell=bash
# tlsca.sh - sourced by the TLS behaviour tests: a private CA made at test
# time (openssl), what nginx needs to serve TLS with it, and the test bodies.
#
# tls_test_env: the TLS programs' environment: no proxy, and a HOME of their
# own in $TMP (no user's trust settings or dotfiles).
tls_test_env() {
	unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
	export no_proxy='*' NO_PROXY='*' HOME=$TMP/home
	mkdir -p "$HOME"
}

# make_test_ca DIR: DIR/ca.pem (the CA the clients trust), DIR/server.pem and
# DIR/server.key (a certificate for 127.0.0.1 and localhost it signed), and
# DIR/other.pem (another CA, which signed nothing here). Returns non-zero
# when openssl failed; its output goes to DIR/openssl.out.
make_test_ca() {
	local d=$1
	mkdir -p "$d" || return 1
	{
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" \
			-days 2 -subj '/CN=keepwarm test CA' &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/other.key" -out "$d/other.pem" \
			-days 2 -subj '/CN=keepwarm other CA' &&
		openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
			-subj '/CN=localhost' &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$d/ext" &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
			-CAcreateserial -out "$d/server.pem" -days 2 -extfile "$d/ext"
	} >"$d/openssl.out" 2>&1
}

# tls_server PORT PROTOCOLS [LISTEN-FLAGS [MORE]]: an nginx server block on
# 127.0.0.1:PORT with the certificate of make_test_ca $CA, serving $TMP/www
# (PROTOCOLS: "TLSv1.3", "TLSv1.2", or "" for nginx's default; MORE: more
# directives for the block).
tls_server() {
	cat <<CONF
	server {
		listen 127.0.0.1:$1 ssl ${3:-};
		server_name localhost;
		ssl_certificate $CA/server.pem;
		ssl_certificate_key $CA/server.key;
		${2:+ssl_protocols $2;}
		root $TMP/www;
		${4:-}
	}
CONF
}

# tls_bodies N: the test bodies in $TMP/www, URL i being FILES[i % 3]
# (1k.bin, 1m.bin, chunked/text.txt: text without SSI commands, which SSI
# passes through chunked); $TMP/expected, the sha256 of URL i's body for
# i < N; $TMP/expected.fork, the same and then the first URL's again (fork
# mode's parent fetches it after the child).
tls_bodies() {
	local i
	mkdir -p "$TMP/www/chunked" || return 1
	head -c 1024 /dev/urandom >"$TMP/www/1k.bin"
	head -c 1048576 /dev/urandom >"$TMP/www/1m.bin"
	head -c 150000 /dev/urandom | base64 >"$TMP/www/chunked/text.txt"
	FILES=(1k.bin 1m.bin chunked/text.txt)
	for ((i = 0; i < $1; i++)); do
		sha256sum <"$TMP/www/${FILES[i % 3]}" | cut -d' ' -f1
	done >"$TMP/expected"
	{ cat "$TMP/expected"; head -n 1 "$TMP/expected"; } >"$TMP/expected.fork"
}

# make_private_libssl DIR: DIR/libssl.kw.3, a copy of the system's
# libssl.so.3 whose DT_SONAME is rewritten in place to a name of the same
# length (tests/tls/soname.py; symbol versions untouched), as a Python
# wheel ships its own; and DIR/privssl.so (tests/tls/privssl.c) linked
# against that copy. Non-zero when a step failed.
make_private_libssl() {
	local d=$1 root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
	mkdir -p "$d" &&
		cp /usr/lib/x86_64-linux-gnu/libssl.so.3 "$d/libssl.kw.3" &&
		/usr/bin/python3 "$root/tests/tls/soname.py" "$d/libssl.kw.3" libssl.kw.3 &&
		"${CC:-cc}" -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -fPIC -shared \
			-o "$d/privssl.so" "$root/tests/tls/privssl.c" "$d/libssl.kw.3" -lcrypto -ldl \
			-Wl,-rpath,"$d"
}

# tls_reuse_nginx: the nginx of the TLS reuse tests (tls-reuse.sh,
# tls-reuse-openssl.sh), started with nginx_start in $TMP/nginx on four
# ports, each with the certificate of make_test_ca $CA and POST /post
# answered "posted" ($POST_LOC): TLS 1.3 ($PORT13) and TLS 1.2 ($PORT12)
# with SSI on /chunked/, TLS 1.3 with keepalive_timeout 1s ($PORTKA), TLS
# 1.3 with keepalive_timeout 3ms ($PORTRACE); then a check (pass or fail)
# that /chunked/ is chunked. Non-zero when nginx did not start.
# shellcheck disable=SC2034 # read by the callers and by nginx_servers
POST_LOC='location /post { return 200 "posted\n"; }'
tls_reuse_nginx() {
	# shellcheck disable=SC2317 # called by nginx_start
	nginx_servers() { # PORT13 PORT12 PORTKA PORTRACE
		echo "	default_type application/octet-stream;"
		tls_server "$1" TLSv1.3 "" "location /chunked/ { ssi on; ssi_types *; } $POST_LOC"
		tls_server "$2" TLSv1.2 "" "location /chunked/ { ssi on; ssi_types *; } $POST_LOC"
		# An idle connection is closed after a second (with a close_notify).
		tls_server "$3" TLSv1.3 "" "keepalive_timeout 1s; location /chunked/ { ssi on; ssi_types *; } $POST_LOC"
		# ... or after 3 ms: a parked connection races the server's close.
		tls_server "$4" TLSv1.3 "" "keepalive_timeout 3ms; $POST_LOC"
	}
	nginx_start "$TMP/nginx" 4 || { fail "nginx with TLS started: $(tail -n 5 "$TMP/nginx/nginx.out")"; return 1; }
	# shellcheck disable=SC2034 # the callers' ports
	read -r PORT13 PORT12 PORTKA PORTRACE <<<"$NGINX_PORTS"
	if curl -s --cacert "$CA/ca.pem" -D "$TMP/chunked.head" -o /dev/null \
		"https://127.0.0.1:$PORT13/chunked/text.txt" &&
		grep -qi '^transfer-encoding: *chunked' "$TMP/chunked.head" &&
		! grep -qi '^content-length' "$TMP/chunked.head"; then
		pass "nginx answers /chunked/ with Transfer-Encoding: chunked and no Content-Length"
	else
		fail "nginx's /chunked/ response is not chunked: $(tr '\r\n' '  ' <"$TMP/chunked.head")"
	fi
}

# urls PORT: the URLs of one run (HOST: 127.0.0.1 unless set; COUNT: $N),
# URL i the body tls_bodies made for i % 3.
urls() {
	for ((i = 0; i < ${COUNT:-$N}; i++)); do
		echo "https://${HOST:-127.0.0.1}:$1/${FILES[i % 3]}?i=$i"
	done
}
