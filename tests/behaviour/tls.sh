#!/usr/bin/env bash
# tls.sh BUILD_DIR - HTTPS programs run exactly as without keepwarm: the
# safety net the TLS steps build on. nginx serves TLS 1.3 and TLS 1.2 (one
# port each) with a certificate from a private CA generated here (openssl);
# each program fetches 6 URLs (1 KiB and 1 MiB files) in one process, a new
# connection per request where it can, trusting only that CA. Without and
# with keepwarm: the same output (one sha256 per body, checked against the
# files), the same exit status, the same number of connections at nginx
# (TLS reuse is switched off here, KEEPWARM_TLS_REUSE=off: this is the
# following alone; tls-reuse.sh and tls-reuse-openssl.sh test the reuse);
# keepwarm's trace ties a session to each connection (event=tls) and parks
# none, and its stats count every request, labelled tls="1".
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: tls.sh BUILD_DIR}" && pwd -P)
LIB=$BUILD_DIR/libkeepwarm.so
PY=/usr/bin/python3
N=6
KW_TMP_NAME=kw-tls
. "$(dirname "$0")/../common/lib.sh"
TMP=$KW_TMP
. "$(dirname "$0")/../common/nginx.sh"
. "$(dirname "$0")/../common/tlsca.sh"
trap 'nginx_stop; cleanup_lib' EXIT
clear_shim_env
tls_test_env

for f in /usr/bin/openssl /usr/sbin/nginx "$PY"; do
	[ -x "$f" ] || { fail "prerequisite $f present"; finish; exit; }
done

# ---- a private CA and a server certificate for 127.0.0.1 and localhost
CA=$TMP/ca
setup "a private CA and a server certificate (openssl)" make_test_ca "$CA" || { finish; exit; }

mkdir -p "$TMP/www"
head -c 1024 /dev/urandom >"$TMP/www/1k.bin"
head -c 1048576 /dev/urandom >"$TMP/www/1m.bin"
for ((i = 0; i < N; i++)); do
	if ((i % 2 == 0)); then sha256sum <"$TMP/www/1k.bin"; else sha256sum <"$TMP/www/1m.bin"; fi
done | cut -d' ' -f1 >"$TMP/expected"

nginx_servers() { # PORT13 PORT12 PORT2
	echo "	default_type application/octet-stream;"
	tls_server "$1" TLSv1.3
	tls_server "$2" TLSv1.2
	tls_server "$3" "" http2
}
nginx_start "$TMP/nginx" 3 || { fail "nginx with TLS started: $(tail -n 5 "$TMP/nginx/nginx.out")"; finish; exit; }
read -r PORT13 PORT12 PORT2 <<<"$NGINX_PORTS"

# The URLs of one run: 1k, 1m, 1k, ... on PORT.
urls() { for ((i = 0; i < N; i++)); do
	if ((i % 2 == 0)); then echo "https://127.0.0.1:$1/1k.bin?i=$i"; else echo "https://127.0.0.1:$1/1m.bin?i=$i"; fi
done; }

# ---- the programs: each prints one sha256 per body, in order
cat >"$TMP/py_urllib.py" <<'EOF'
import hashlib, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
for url in sys.argv[2:]:
    with urllib.request.urlopen(url, context=ctx) as r:
        print(hashlib.sha256(r.read()).hexdigest())
EOF
cat >"$TMP/py_httpclient.py" <<'EOF'
import hashlib, http.client, ssl, sys, urllib.parse
ctx = ssl.create_default_context(cafile=sys.argv[1])
for url in sys.argv[2:]:
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx)
    c.request("GET", u.path + "?" + u.query)
    print(hashlib.sha256(c.getresponse().read()).hexdigest())
    c.close()
EOF
cat >"$TMP/py_requests.py" <<'EOF'
import hashlib, sys, requests
for url in sys.argv[2:]:
    print(hashlib.sha256(requests.get(url, verify=sys.argv[1]).content).hexdigest())
EOF
cat >"$TMP/php_fgc.php" <<'EOF'
<?php
$ctx = stream_context_create(['ssl' => ['cafile' => $argv[1], 'verify_peer' => true]]);
foreach (array_slice($argv, 2) as $url) {
	$b = file_get_contents($url, false, $ctx);
	if ($b === false) exit(1);
	echo hash('sha256', $b), "\n";
}
EOF
cat >"$TMP/php_curl.php" <<'EOF'
<?php
foreach (array_slice($argv, 2) as $url) {
	$h = curl_init($url);
	curl_setopt($h, CURLOPT_RETURNTRANSFER, true);
	curl_setopt($h, CURLOPT_CAINFO, $argv[1]);
	$b = curl_exec($h);
	if ($b === false) exit(1);
	echo hash('sha256', $b), "\n";
	curl_close($h);
}
EOF
cat >"$TMP/rb_nethttp.rb" <<'EOF'
require 'digest'; require 'net/http'; require 'openssl'
ca = ARGV.shift
ARGV.each do |url|
  u = URI(url)
  Net::HTTP.start(u.host, u.port, use_ssl: true, ca_file: ca, verify_mode: OpenSSL::SSL::VERIFY_PEER) do |h|
    puts Digest::SHA256.hexdigest(h.get(u.request_uri).body)
  end
end
EOF
cat >"$TMP/pl_lwp.pl" <<'EOF'
use strict; use Digest::SHA qw(sha256_hex); use LWP::UserAgent;
my $ca = shift;
for my $url (@ARGV) {
	my $ua = LWP::UserAgent->new(ssl_opts => { SSL_ca_file => $ca, verify_hostname => 1 });
	my $r = $ua->get($url);
	exit 1 unless $r->is_success;
	print sha256_hex($r->content), "\n";
}
EOF
cat >"$TMP/pl_httptiny.pl" <<'EOF'
use strict; use Digest::SHA qw(sha256_hex); use HTTP::Tiny;
my $ca = shift;
for my $url (@ARGV) {
	my $r = HTTP::Tiny->new(verify_SSL => 1, SSL_options => { SSL_ca_file => $ca })->get($url);
	exit 1 unless $r->{success};
	print sha256_hex($r->{content}), "\n";
}
EOF
# curl and wget: a process per URL.
curl_each() { local ca=$1 u; shift; for u in "$@"; do curl -sf --cacert "$ca" "$u" | sha256sum | cut -d' ' -f1 || return 1; done; }
wget_each() { local ca=$1 u; shift; for u in "$@"; do wget -q --ca-certificate="$ca" -O - "$u" | sha256sum | cut -d' ' -f1 || return 1; done; }

# program NAME: the command line for it (the CA, then the URLs follow).
program() {
	case $1 in
	py-urllib) echo "$PY $TMP/py_urllib.py" ;;
	py-httpclient) echo "$PY $TMP/py_httpclient.py" ;;
	py-requests) echo "$PY $TMP/py_requests.py" ;;
	php-fgc) echo "php $TMP/php_fgc.php" ;;
	php-curl) echo "php $TMP/php_curl.php" ;;
	rb-nethttp) echo "ruby $TMP/rb_nethttp.rb" ;;
	pl-lwp) echo "perl $TMP/pl_lwp.pl" ;;
	pl-httptiny) echo "perl $TMP/pl_httptiny.pl" ;;
	curl-loop) echo "curl_each" ;;
	wget-loop) echo "wget_each" ;;
	esac
}
available() { # NAME: can this machine run it? (a missing module is a setup gap, not a failure)
	case $1 in
	py-requests) "$PY" -c 'import requests' 2>/dev/null ;;
	php-*) command -v php >/dev/null && { [ "$1" != php-curl ] || php -m | grep -x curl >/dev/null; } ;;
	rb-*) command -v ruby >/dev/null ;;
	pl-lwp) perl -MLWP::Protocol::https -e 1 2>/dev/null ;;
	pl-httptiny) perl -MIO::Socket::SSL -e 1 2>/dev/null ;;
	curl-*) command -v curl >/dev/null ;;
	wget-*) command -v wget >/dev/null ;;
	*) true ;;
	esac
}

log_lines() { wc -l <"$NGINX_ACCESS"; }
# Distinct connections in the access log's lines after line $1.
conns_since() { tail -n "+$(($1 + 1))" "$NGINX_ACCESS" | awk '{ print $1 }' | sort -u | wc -l; }

# arm NAME PORT with|without: runs it; sets RC, OUT (file), CONNS.
arm() {
	local name=$1 port=$2 shim=$3 cmd before
	cmd=$(program "$name")
	before=$(log_lines)
	OUT=$TMP/$name.$port.$shim.out
	# shellcheck disable=SC2046 # the URLs are words
	if [ "$shim" = with ]; then
		rm -f "$TMP/$name.$port".*.stats
		LD_PRELOAD=$LIB KEEPWARM_TLS_REUSE=off KEEPWARM_TRACE=$TMP/$name.$port.trace \
			KEEPWARM_STATS="$TMP/$name.$port.%p.stats" timeout 120 bash -c \
			"$(declare -f curl_each wget_each); $cmd \"\$@\"" _ "$CA/ca.pem" $(urls "$port") >"$OUT" 2>"$OUT.err"
	else
		timeout 120 bash -c "$(declare -f curl_each wget_each); $cmd \"\$@\"" _ \
			"$CA/ca.pem" $(urls "$port") >"$OUT" 2>"$OUT.err"
	fi
	RC=$?
	sleep 0.2
	CONNS=$(conns_since "$before")
}

for name in py-urllib py-httpclient py-requests php-fgc php-curl rb-nethttp pl-lwp pl-httptiny \
            curl-loop wget-loop; do
	if ! available "$name"; then
		echo "SKIP $name: not installed here (not counted)"
		continue
	fi
	for port in "$PORT13" "$PORT12"; do
		v=TLS1.3
		[ "$port" = "$PORT12" ] && v=TLS1.2
		arm "$name" "$port" without
		rc0=$RC out0=$OUT c0=$CONNS
		arm "$name" "$port" with
		if [ "$rc0" -eq 0 ] && [ "$RC" -eq 0 ] && cmp -s "$out0" "$TMP/expected" && cmp -s "$OUT" "$out0" &&
			[ "$CONNS" -eq "$c0" ]; then
			pass "$name $v: same bodies, exit 0, $c0 connections, with and without keepwarm"
		else
			fail "$name $v: exit $rc0/$RC, connections $c0/$CONNS, output $(cmp -s "$out0" "$TMP/expected" && echo ok || echo wrong)/$(cmp -s "$OUT" "$out0" && echo same || echo differs): $(head -c 300 "$OUT.err")"
		fi
		t=$TMP/$name.$port.trace
		if [ "$(grep -cE ' event=tls .*tls=1 library=(gnutls|openssl)$' "$t" 2>/dev/null)" -ge 1 ] &&
			! grep -qE ' event=(park|reuse) |reason=(not-http|tls-unbound)( |$)' "$t"; then
			pass "$name $v: keepwarm followed its TLS sessions (event=tls), parked none"
		else
			fail "$name $v: trace: $(grep -vE 'event=(start|redirect)' "$t" 2>/dev/null | head -n 3 | tr '\n' '|')"
		fi
		row=$("$BUILD_DIR/keepwarm-stat" summary "$t" 2>&1 | awk -v d="https://127.0.0.1:$port" '$1 == d { print $2 }')
		if [ "$row" = "$N" ]; then
			pass "$name $v: keepwarm-stat summary of its trace shows $N requests to https://127.0.0.1:$port"
		else
			fail "$name $v: keepwarm-stat summary: '$row' requests to https://127.0.0.1:$port: $("$BUILD_DIR/keepwarm-stat" summary "$t" 2>&1 | tail -n 3 | tr '\n' '|')"
		fi
		got=$(cat "$TMP/$name.$port".*.stats 2>/dev/null |
			awk '/^keepwarm_requests_total\{.*tls="1"/ { n += $2 } END { print n + 0 }')
		if [ "$got" -eq "$N" ]; then
			pass "$name $v: the stats count its $N HTTPS requests (tls=\"1\")"
		else
			fail "$name $v: the stats count $got HTTPS requests, not $N"
		fi
	done
done

# ---- sessions keepwarm lets go, and a child that writes on its parent's
# session: the program's output and exit status as without keepwarm, and
# the trace says why.
cat >"$TMP/py_asyncio.py" <<'EOF'
# asyncio's TLS runs over memory BIOs: the program, not the library, sends
# the records, so no session can be tied to the socket.
import asyncio, hashlib, ssl, sys
async def get(port, path):
    ctx = ssl.create_default_context(cafile=sys.argv[1])
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")
    w.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = await r.read()
    w.close()
    return data.split(b"\r\n\r\n", 1)[1]
print(hashlib.sha256(asyncio.run(get(int(sys.argv[2]), "/1k.bin"))).hexdigest())
EOF
cat >"$TMP/py_fork.py" <<'EOF'
# One request, then a child sends the next on the same TLS session and
# connection; the parent waits and closes.
import hashlib, http.client, os, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[2]), context=ctx)
c.request("GET", "/1k.bin")
print(hashlib.sha256(c.getresponse().read()).hexdigest(), flush=True)
pid = os.fork()
if pid == 0:
    c.request("GET", "/1m.bin")
    print(hashlib.sha256(c.getresponse().read()).hexdigest(), flush=True)
    os._exit(0)
_, st = os.waitpid(pid, 0)
c.close()
sys.exit(os.waitstatus_to_exitcode(st))
EOF
# safety NAME EXPECTED-REASON COMMAND...: with and without keepwarm alike,
# and the trace has the reason.
safety() {
	local name=$1 reason=$2 t=$TMP/$1.trace rc0 rc1
	shift 2
	timeout 60 "$@" >"$TMP/$name.without" 2>"$TMP/$name.without.err"
	rc0=$?
	rm -f "$TMP/$name".*.stats
	LD_PRELOAD=$LIB KEEPWARM_TRACE=$t KEEPWARM_STATS="$TMP/$name.%p.stats" timeout 60 "$@" \
		>"$TMP/$name.with" 2>"$TMP/$name.with.err"
	rc1=$?
	if [ "$rc0" -eq 0 ] && [ "$rc1" -eq 0 ] && [ -s "$TMP/$name.with" ] &&
		cmp -s "$TMP/$name.with" "$TMP/$name.without"; then
		pass "$name: the same output and exit status with and without keepwarm"
	else
		fail "$name: exit $rc0/$rc1, output $(cmp -s "$TMP/$name.with" "$TMP/$name.without" && echo same || echo differs): $(head -c 300 "$TMP/$name.with.err")"
	fi
	if [ -z "$reason" ]; then
		return
	elif grep -qE " reason=$reason( |$)" "$t" && ! grep -qE ' event=(park|reuse) ' "$t"; then
		pass "$name: keepwarm let its TLS connection go (reason=$reason)"
	else
		fail "$name: no reason=$reason in the trace: $(grep -vE 'event=(start|redirect)' "$t" | head -n 4 | tr '\n' '|')"
	fi
}
safety py-asyncio tls-unbound "$PY" "$TMP/py_asyncio.py" "$CA/ca.pem" "$PORT13"
if curl -V | grep -qw HTTP2; then
	safety curl-h2 tls-alpn curl -sf --http2 --cacert "$CA/ca.pem" -o /dev/stdout \
		"https://127.0.0.1:$PORT2/1k.bin"
else
	echo "SKIP curl-h2: this curl has no HTTP/2 (not counted)"
fi
safety py-fork "" "$PY" "$TMP/py_fork.py" "$CA/ca.pem" "$PORT13"
parent=$(awk '/ event=tls /{ sub("pid=", "", $2); print $2; exit }' "$TMP/py-fork.trace")
if [ -n "$parent" ] && grep -q "pid=$parent event=request .* tls=1 requests=1 " "$TMP/py-fork.trace" &&
	! grep -E ' event=request ' "$TMP/py-fork.trace" | grep -vq "pid=$parent "; then
	pass "py-fork: the child's request on its parent's session is not followed (the parent's is)"
else
	fail "py-fork: trace: $(grep -E 'event=(request|tls|discard|taint)' "$TMP/py-fork.trace" | head -n 5 | tr '\n' '|')"
fi

# The off arm of an A/B test follows and measures the same, changing nothing.
rm -f "$TMP"/off.*.stats
# shellcheck disable=SC2046 # the URLs are words
KEEPWARM_SAMPLE=0 LD_PRELOAD=$LIB KEEPWARM_STATS="$TMP/off.%p.stats" timeout 120 \
	"$PY" "$TMP/py_httpclient.py" "$CA/ca.pem" $(urls "$PORT13") >"$TMP/off.out" 2>"$TMP/off.err"
rc=$?
got=$(cat "$TMP"/off.*.stats 2>/dev/null |
	awk '/^keepwarm_requests_total\{arm="off",.*tls="1"/ { n += $2 } END { print n + 0 }')
if [ "$rc" -eq 0 ] && cmp -s "$TMP/off.out" "$TMP/expected" && [ "$got" -eq "$N" ]; then
	pass "py-httpclient, off arm: the same bodies, and its stats count its $N HTTPS requests (arm=\"off\", tls=\"1\")"
else
	fail "py-httpclient, off arm: exit $rc, $got HTTPS requests counted: $(head -c 300 "$TMP/off.err")"
fi

nginx_errors "$TMP/nginx.errors" && fail "nginx error log: $(head -n 3 "$TMP/nginx.errors")" ||
	pass "nginx's error log has no errors"
finish
