#!/usr/bin/env bash
# tls-reuse-openssl.sh BUILD_DIR - TLS connection reuse for real OpenSSL
# programs (libssl.so.3): python3, perl, PHP, ruby and libcurl4, each making
# N=6 requests in one process, a new connection object per request, trusting
# only a private CA made here. The OpenSSL counterpart of tls-reuse.sh
# (GnuTLS); the clients are tests/clients/ossl/ (their headers say what each
# style does) and tests/tls/curl_client.c, and our own C client on OpenSSL 3
# (tests/tls/openssl_client.c). nginx serves TLS 1.3 on one port, TLS 1.2 on
# another, TLS 1.3 with keepalive_timeout 1s on a third and TLS 1.3 with
# keepalive_timeout 3ms on a fourth; each answers POST /post with "posted".
# Three of our own servers (tests/tls/tls_server.c, GnuTLS) send TLS records
# while a connection is idle or drop requests. The URLs are a 1 KiB file, a
# 1 MiB file and a chunked response (SSI on a text file), in turn.
#   - the positive matrix: python3 http.client (an HTTPSConnection per
#     request with an SSLContext from ssl.create_default_context(cafile=CA),
#     and one with no context, trust from SSL_CERT_FILE), urllib.request
#     .urlopen and requests.get per request; perl LWP::UserAgent and
#     HTTP::Tiny, a new one per request; PHP file_get_contents with a stream
#     context and php-curl with a new handle per request; ruby Net::HTTP.start
#     (ca_file) and Net::HTTP.get_response (SSL_CERT_FILE) per request; our
#     libcurl4 (OpenSSL) client with a new easy handle per request. Each on
#     TLS 1.3 and TLS 1.2 by address (127.0.0.1, no SNI), and on TLS 1.3 by
#     name (localhost, which resolves to 127.0.0.1: SNI and the verified
#     name). Three checks per case: the pair (the same exit status 0, the
#     expected sha256s on stdout, the same stderr, with and without
#     keepwarm); "followed" (N connections at nginx without keepwarm,
#     keepwarm tied OpenSSL sessions to them, the stats count N HTTPS
#     requests; php-curl: its RTLD_DEEPBIND libcurl redirected, as the
#     README says); and "[reuse]": with keepwarm one connection at nginx for
#     the N requests, N-1 reuse lines with tls=1, no fresh line, the stats
#     count N-1 reused connections.
#   - the negative matrix ("[no-reuse]"), each warm: the first request
#     verifies the server and its connection may be parked, every later one
#     differs: another trust file, another host name (SNI and verification),
#     a client certificate, another SNI per request (chain verified, no host
#     check), an ALPN offer of h2 alone (nginx refuses it). The program sees
#     exactly what it sees without keepwarm (exit status, stdout, stderr),
#     nginx logs the same requests, and no session takes another's
#     connection over (reuse lines less fresh lines: 0). Every client that
#     can set a variation, on both ports: python http.client, perl LWP and
#     HTTP::Tiny, PHP file_get_contents, ruby Net::HTTP.start all five;
#     php-curl and our libcurl4 client (--second-ca, --second-host,
#     --second-cert/--second-key, --sni-each) all but ALPN h2 alone, which
#     libcurl cannot offer (it adds http/1.1): instead three requests with
#     three offers, h2,http/1.1 (libcurl's default), http/1.1 alone and
#     none, all served; urllib the trust file, a client certificate and h2;
#     requests the trust file and a client certificate (neg_args says what
#     each cannot set, and why)
#   - stale ("[stale]"): 1.3 s before each request after the first, longer
#     than the server's keepalive_timeout (1 s): 0 client errors, no dead
#     connection handed to the program, 3 connections both ways
#   - POST ("[post]"): python http.client POSTs, a connection each: every
#     POST line once in nginx's access log, with and without keepwarm, and
#     no POST on a reused connection (N connections)
#   - openssl_client with --fresh (an SSL and a connection per request,
#     closed after a keep-alive response), blocking, poll and epoll, TLS 1.3
#     and 1.2 ("[reuse]"): the pair, then one connection at nginx for the N
#     requests (N without), N-1 reuse lines with tls=1, no fresh line, the
#     stats count N requests and N-1 reused connections, the last session
#     parked at exit (keepwarm_tls_parked 1); in threads mode (N requests)
#     and fork mode (N+1: the parent's first, the child's, the parent's
#     again): fewer connections than requests, at least one reuse line, the
#     stats count the requests
#   - the same checks with the socket closed before SSL_free
#     (KW_TEST_CLOSE_FIRST; and no tls-not-pooled discard) and with a second
#     reference to the SSL taken and dropped (KW_TEST_OPENSSL_UP_REF)
#   - tls_server sending a session ticket and a KeyUpdate after every
#     response ("[idle]"), 300 ms before each next request, python
#     http.client (--pause-ms) and openssl_client (KW_TEST_PAUSE_MS), four
#     requests: 1 connection at tls_server with keepwarm (4 without), 3
#     reuse lines, no fresh or stale line; tls_server closing connections
#     idle 200 ms (close_notify), 500 ms pauses ("[stale]"): 4 connections
#     both ways, 3 stale lines, no reuse line, no error line on the
#     program's stdout, nothing on its stderr, 0 errors in the stats
#   - the program's callbacks (openssl_client KW_TEST_OPENSSL_CALLBACKS: a
#     new-session callback, an info callback, ex_data), tls_server sending
#     tickets before each response or while idle ("[callbacks]"): each
#     called with the program's own open SSL only, the same stderr, 1
#     connection, 3 reuse lines; with tickets before each response the
#     new-session callback runs for taken-over sessions too, with idle ones
#     it never runs for a parked session
#   - the handshake left to the first SSL_write ("[implicit]", python,
#     tests/clients/ossl/py_implicit.py): 1 connection for N requests
#   - the socket closed under a taken-over SSL mid-response
#     ("[close-mid]", python, tests/clients/ossl/py_close_mid.py): the
#     same output as without keepwarm, at least 2 takeovers; also under
#     the ASan build (case 13)
#   - tls_server dropping every connection's second request (close_notify,
#     no answer; "[replay]"), python http.client and openssl_client
#     blocking, poll and epoll, four requests: the pair (the program sees
#     the same success), 4 connections both ways, 3 requests dropped (status
#     0 in tls_server's log), 3 reuse lines and 3 replay lines
#   - KEEPWARM_TLS_REUSE=off ("[reuse-off]"), python http.client, both
#     ports: N connections both ways, no park line with tls=1, no reuse
#     line, N discard lines with reason=tls-not-pooled, N requests in the
#     stats
#   - stale races ("[race]"): openssl_client (TCP_NODELAY) to the 3 ms port,
#     RACE_N GETs of the 1 KiB file, then RACE_N POSTs (KW_TEST_POST): the
#     pair, at least one reuse or stale line, for the POSTs RACE_N POST lines
#     at nginx both ways, each POST request line exactly once per run; the
#     PASS lines count the reuse, stale, replay and fresh lines (they vary)
#   - a private libssl copy in the same process ("[privssl]"):
#     privssl_driver GETs through the system libssl, then privssl.so
#     (RTLD_DEEPBIND, its own renamed copy, made here as tls-clients.sh
#     makes it) GETs from the same server: the pair, 2 connections both
#     ways, no takeover (reuse lines less fresh lines: 0), 1 fresh line
#     with reason=tls-not-hello, 1 passthrough line with reason=tls-unbound
#   - openssl_client built with ASan and UBSan (make tls-asan), the
#     --fresh cases above with the runtime first in LD_PRELOAD: the same
#     checks and no sanitizer report (leaks checked)
#   - keepwarm built with ASan and UBSan (make asan, built here:
#     BUILD_DIR/asan/libkeepwarm.so), the runtime first in LD_PRELOAD,
#     UBSan halting on error ("[asan]"): python http.client (leaks not
#     checked: python leaks at exit), our libcurl4 client, and the libcurl4
#     client built here with ASan and UBSan (leaks checked), six requests on
#     TLS 1.3: the pair, no sanitizer report, 1 connection at nginx, N-1
#     reuse lines with tls=1, the stats agree; the libcurl4 client's
#     negative matrix on TLS 1.3 under it, the checks of "[no-reuse]"
# Connections are distinct connection numbers in nginx's or tls_server's
# access log (a line per request; a connection whose handshake failed has
# none). Every pair also checks that neither run's stderr has a sanitizer
# report. A run with keepwarm writes its trace to $TMP/NAME.trace and its
# stats to $TMP/NAME.stats ($TMP/NAME.stats.PID in fork mode).
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: tls-reuse-openssl.sh BUILD_DIR}" && pwd -P)
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
LIB=$BUILD_DIR/libkeepwarm.so
T=$BUILD_DIR/tls
CL=$ROOT/tests/clients/ossl
PY=/usr/bin/python3
PHP=/usr/bin/php
RUBY=/usr/bin/ruby
PERL=/usr/bin/perl
N=6
# shellcheck disable=SC2034 # read by lib.sh
KW_TMP_NAME=kw-tlso
# shellcheck disable=SC1091
. "$(dirname "$0")/../common/lib.sh"
TMP=$KW_TMP
# shellcheck disable=SC1091
. "$(dirname "$0")/../common/nginx.sh"
# shellcheck disable=SC1091
. "$(dirname "$0")/../common/tlsca.sh"
# Our own TLS servers (tls_server), stopped by their pids.
TSRV_PIDS=()
stop_tls_servers() {
	local p
	for p in "${TSRV_PIDS[@]}"; do stop_pid "$p"; done
	TSRV_PIDS=()
}
trap 'stop_tls_servers; nginx_stop; cleanup_lib' EXIT
clear_shim_env
tls_test_env
SECONDS=0

for f in /usr/bin/openssl /usr/sbin/nginx /usr/bin/curl "$PY" "$PHP" "$RUBY" "$PERL" "$LIB" \
	"$T/curl_client-openssl" "$T/openssl_client" "$T/tls_server" "$T/privssl_driver" "$CL/py_client.py" "$CL/pl_client.pl" "$CL/php_client.php" "$CL/rb_client.rb"; do
	[ -x "$f" ] || [ -f "$f" ] ||
		{ fail "prerequisite $f present (make builds it; tools/install-deps.sh check installs it)"; finish; exit; }
done
mods_ok=1
"$PY" -c 'import requests' 2>/dev/null || { fail "prerequisite: python3 requests (python3-requests)"; mods_ok=0; }
# php -m's output read whole: grep -q leaving the pipe early would fail the
# pipeline under pipefail.
php_mods=$("$PHP" -m 2>/dev/null)
grep -qx curl <<<"$php_mods" || { fail "prerequisite: php-curl"; mods_ok=0; }
"$PERL" -MLWP::Protocol::https -MIO::Socket::SSL -MHTTP::Tiny -e 1 2>/dev/null ||
	{ fail "prerequisite: perl LWP::Protocol::https, IO::Socket::SSL (liblwp-protocol-https-perl)"; mods_ok=0; }
"$RUBY" -ropenssl -rnet/http -e 1 2>/dev/null || { fail "prerequisite: ruby openssl and net/http"; mods_ok=0; }
[ "$mods_ok" = 1 ] || { finish; exit; }

# ---- a private CA and a server certificate for 127.0.0.1 and localhost;
# another CA, which signed nothing here
CA=$TMP/ca
setup "a private CA, a server certificate and another CA (openssl)" make_test_ca "$CA" ||
	{ finish; exit; }

# ---- the bodies: URL i is 1k.bin, 1m.bin, chunked/text.txt for i % 3 = 0, 1, 2
tls_bodies "$N"
STALE_N=3
head -n "$STALE_N" "$TMP/expected" >"$TMP/expected.stale"
printf 'posted\n' >"$TMP/posted"
for ((i = 0; i < N; i++)); do sha256sum <"$TMP/posted" | cut -d' ' -f1; done >"$TMP/expected.post"

tls_reuse_nginx || { finish; exit; }
if [ "$(getent ahosts localhost | awk '{ print $1 }' | sort -u)" = 127.0.0.1 ]; then
	pass "localhost resolves to 127.0.0.1 alone (the by-name cases stay on 127.0.0.1)"
else
	fail "localhost resolves to $(getent ahosts localhost | awk '{ print $1 }' | sort -u | tr '\n' ' '), not 127.0.0.1 alone"
fi

# The server's access log, a line per request, its first field the
# connection: nginx's, or a tls_server's (ACCESS_LOG set for its cases).
ACCESS_LOG=$NGINX_ACCESS
log_lines() { wc -l <"$ACCESS_LOG"; }
# Distinct connections, requests and POSTs in the access log after line $1.
conns_since() { tail -n "+$(($1 + 1))" "$ACCESS_LOG" | awk '{ print $1 }' | sort -u | wc -l; }
reqs_since() { tail -n "+$(($1 + 1))" "$ACCESS_LOG" | wc -l; }
posts_since() { tail -n "+$(($1 + 1))" "$ACCESS_LOG" | grep -c '"POST ' || true; }
# A sanitizer's report on a run's stderr (ASan, LeakSanitizer, UBSan).
REPORT_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'
has_report() { grep -qE "$REPORT_RE" "$@"; }

# ev NAME EVENT [REASON]: the lines of event EVENT (with that reason) in
# the trace of the run NAME. EVENT may be a regular expression (reuse .*tls=1).
ev() {
	grep -cE " event=$2( |\$)${3:+.* reason=$3( |\$)}" "$TMP/$1.trace" 2>/dev/null || true
}
# stat_sum NAME METRIC-REGEX: the sum of the matching series with tls="1"
# over the run's stats files ($TMP/NAME.stats, or one per process in fork
# mode).
stat_sum() {
	cat "$TMP/$1".stats* 2>/dev/null |
		awk -v re="$2" '$0 ~ re && /tls="1"/ { s += $NF } END { print s + 0 }'
}
# The events and reasons of a trace, counted, on one line (redirects left out).
trace_summary() {
	grep -v ' event=redirect ' "$TMP/$1.trace" 2>/dev/null |
		grep -oE 'event=[a-z]+( .* reason=[a-z0-9-]+)?' |
		sed -E 's/ .* reason=/ reason=/' | sort | uniq -c | awk '{ $1 = $1; print }' | tr '\n' '|'
}

# run NAME with|without REQUESTS [VAR=VALUE...] -- CMD...: sets RC, OUT,
# ERR, CONNS, REQS_SEEN, POSTS. Waits (up to 5 s) for the server to log
# REQUESTS more requests. With keepwarm: $PRELOAD, $REUSE_ENV (none: TLS
# reuse is on by default), its trace and stats files (NAME.stats.PID, one
# per process, for a NAME with .fork. in it). Each run is killed after
# $RUN_TIMEOUT seconds (exit 124).
PRELOAD=$LIB
REUSE_ENV=()
RUN_TIMEOUT=60
run() {
	local name=$1 shim=$2 reqs=$3 before stats envs=()
	shift 3
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	before=$(log_lines)
	OUT=$TMP/$name.$shim.out
	ERR=$TMP/$name.$shim.err
	if [ "$shim" = with ]; then
		rm -f "$TMP/$name.trace" "$TMP/$name".stats*
		stats=$TMP/$name.stats
		case $name in *.fork.*) stats=$TMP/$name.stats.%p ;; esac
		timeout "$RUN_TIMEOUT" env LD_PRELOAD="$PRELOAD" "${REUSE_ENV[@]}" KEEPWARM_TRACE="$TMP/$name.trace" \
			KEEPWARM_STATS="$stats" "${envs[@]}" "$@" >"$OUT" 2>"$ERR"
	else
		timeout "$RUN_TIMEOUT" env "${envs[@]}" "$@" >"$OUT" 2>"$ERR"
	fi
	RC=$?
	for _ in $(seq 50); do
		[ "$(log_lines)" -ge $((before + reqs)) ] && break
		sleep 0.1
	done
	CONNS=$(conns_since "$before")
	REQS_SEEN=$(reqs_since "$before")
	POSTS=$(posts_since "$before")
}

# pair NAME EXPECTED ok|fail REQUESTS [VAR=VALUE...] -- CMD...: without,
# then with keepwarm; one check that the program sees the same: exit 0
# (ok, stdout EXPECTED) or the same failure (fail), the same status, stdout
# and stderr byte for byte, keepwarm's trace started, no sanitizer report
# on either run's stderr. Sets C0 and C1 (connections without and with), R0
# and R1 (requests the server logged), P0 and P1 (POSTs), OUT0 (stdout
# without keepwarm).
pair() {
	local name=$1 expected=$2 want=$3 reqs=$4 rc0 err0 why=
	shift 4
	run "$name" without "$reqs" "$@"
	rc0=$RC OUT0=$OUT err0=$ERR C0=$CONNS R0=$REQS_SEEN P0=$POSTS
	run "$name" with "$reqs" "$@"
	C1=$CONNS R1=$REQS_SEEN P1=$POSTS
	if [ "$want" = ok ]; then
		[ "$rc0" -eq 0 ] || why="$why exit $rc0 without keepwarm, not 0;"
		cmp -s "$OUT0" "$expected" || why="$why output without keepwarm not the expected sha256s;"
	else
		[ "$rc0" -ne 0 ] && [ "$rc0" -ne 124 ] || why="$why exit $rc0 without keepwarm, not a failure;"
	fi
	[ "$RC" -eq "$rc0" ] || why="$why exit $rc0 without keepwarm, $RC with;"
	cmp -s "$OUT" "$OUT0" || why="$why stdout differs with keepwarm;"
	cmp -s "$ERR" "$err0" || why="$why stderr differs with keepwarm;"
	grep -q 'event=start' "$TMP/$name.trace" 2>/dev/null || why="$why no keepwarm trace;"
	if has_report "$err0" "$ERR"; then why="$why sanitizer report;"; fi
	if [ -z "$why" ]; then
		if [ "$want" = ok ]; then
			pass "$name: exit 0 and the $(wc -l <"$OUT0") expected bodies, stderr the same, with and without keepwarm"
		else
			pass "$name: exit $rc0 with and without keepwarm, the same stdout ($(grep -c '^error ' "$OUT0") errors: $(grep -m 1 '^error ' "$OUT0" | head -c 90)) and stderr"
		fi
	else
		fail "$name:$why $( { diff "$OUT0" "$OUT" | head -n 4; cat "$err0" "$ERR"; } | grep -v '^$' | head -n 6 | tr '\n' '|' | head -c 500)"
	fi
}

# What keepwarm did: expect records one condition (WHAT GOT =|<=|>= WANT,
# GOT a count); verdict LABEL NAME SUMMARY passes when all held, else fails
# with them, the trace's summary and its first lines.
why=
expect() {
	local got=$2
	[[ $got =~ ^[0-9]+$ ]] && case $3 in
		'=') ((got == $4)) ;;
		'<=') ((got <= $4)) ;;
		'>=') ((got >= $4)) ;;
		*) false ;;
		esac || why="$why $1 ${got:-none}, want $3 $4;"
}
verdict() {
	if [ -z "$why" ]; then
		pass "$1: $3"
	else
		fail "$1:$why trace: $(trace_summary "$2")"
		sed -E 's/^ts=[^ ]+ //; s/ ms=[0-9.]+ request_ms=[0-9.]+//' "$TMP/$2.trace" 2>/dev/null |
			grep -vE ' event=(start|redirect|request) ' | head -n 12 | sed 's/^/    /'
	fi
	why=
}
# takeovers NAME: the sessions that took a parked connection over: reuse
# lines (a parked connection handed back at connect) less fresh lines (the
# next session refused it and got a fresh connection).
takeovers() { echo $(($(ev "$1" reuse) - $(ev "$1" fresh))); }

tls_name() { [ "$1" = "$PORT13" ] && echo tls13 || echo tls12; }

# client NAME: sets CMD (the program and its fixed arguments: the options
# and the URLs follow) and CENV (its environment).
CLIENTS=(py-httpclient py-httpclient-noctx py-urllib py-requests pl-lwp pl-httptiny
	php-fgc php-curl rb-start rb-get-response curl-openssl)
client() {
	CENV=()
	case $1 in
	py-httpclient) CMD=("$PY" "$CL/py_client.py" httpclient --ca "$CA/ca.pem") ;;
	py-httpclient-noctx)
		CENV=("SSL_CERT_FILE=$CA/ca.pem")
		CMD=("$PY" "$CL/py_client.py" httpclient-noctx)
		;;
	py-urllib) CMD=("$PY" "$CL/py_client.py" urllib --ca "$CA/ca.pem") ;;
	py-requests) CMD=("$PY" "$CL/py_client.py" requests --ca "$CA/ca.pem") ;;
	pl-lwp) CMD=("$PERL" "$CL/pl_client.pl" lwp --ca "$CA/ca.pem") ;;
	pl-httptiny) CMD=("$PERL" "$CL/pl_client.pl" httptiny --ca "$CA/ca.pem") ;;
	php-fgc) CMD=("$PHP" "$CL/php_client.php" fgc --ca "$CA/ca.pem") ;;
	php-curl) CMD=("$PHP" "$CL/php_client.php" curl --ca "$CA/ca.pem") ;;
	rb-start) CMD=("$RUBY" "$CL/rb_client.rb" start --ca "$CA/ca.pem") ;;
	rb-get-response)
		CENV=("SSL_CERT_FILE=$CA/ca.pem")
		CMD=("$RUBY" "$CL/rb_client.rb" get_response)
		;;
	curl-openssl) CMD=("$T/curl_client-openssl" --ca "$CA/ca.pem") ;;
	*) return 1 ;;
	esac
}

# ---- 1. the positive matrix: a new connection object per request; with
# keepwarm every later session takes the first one's connection over
for c in "${CLIENTS[@]}"; do
	client "$c"
	for target in "$PORT13 127.0.0.1 addr" "$PORT12 127.0.0.1 addr" "$PORT13 localhost name"; do
		read -r port host how <<<"$target"
		name=$c.$(tls_name "$port").$how
		# shellcheck disable=SC2046 # the URLs are words
		pair "$name" "$TMP/expected" ok "$N" "${CENV[@]}" -- "${CMD[@]}" $(HOST=$host urls "$port")
		# Followed: what keepwarm does today already.
		expect "connections without keepwarm" "$C0" = "$N"
		expect "tls lines with library=openssl" "$(ev "$name" 'tls .*library=openssl')" ">=" 1
		expect "tls-unbound lines" "$(ev "$name" '[a-z]+' tls-unbound)" = 0
		expect "HTTPS requests in the stats" "$(stat_sum "$name" '^keepwarm_requests_total[{]')" = "$N"
		# php-curl: PHP dlopens the extension (and so libcurl) with
		# RTLD_DEEPBIND; keepwarm redirects libcurl's GOT (README, "How
		# calls are reached"), so its sessions are followed as any other.
		[ "$c" = php-curl ] && expect "redirect lines for libcurl.so.4" \
			"$(grep -c ' event=redirect object=[^ ]*/libcurl\.so\.4 redirected=[1-9]' "$TMP/$name.trace" 2>/dev/null)" ">=" 1
		verdict "$name" "$name" "followed: $N connections at nginx without keepwarm, $(ev "$name" 'tls .*library=openssl') OpenSSL sessions tied, the stats count $N HTTPS requests"
		# Reuse: what OpenSSL reuse must do.
		expect "connections with keepwarm" "$C1" = 1
		expect "reuse lines with tls=1" "$(ev "$name" 'reuse .*tls=1')" = $((N - 1))
		expect "fresh lines" "$(ev "$name" fresh)" = 0
		expect "reused connections in the stats" \
			"$(stat_sum "$name" '^keepwarm_connections_total[{].*how="reused"')" = $((N - 1))
		verdict "[reuse] $name" "$name" "1 connection at nginx with keepwarm for $N requests ($C0 without), $((N - 1)) reuse lines with tls=1, no fresh connection"
	done
done

# ---- 2. the negative matrix: the first request verifies the server (its
# connection parked, once OpenSSL reuse lands), every later one differs, so
# none may take it (or one another's) over. negative NAME CLIENT PORT
# ok|fail OPTION...: COUNT requests ($N unless set); ok, every request
# succeeds, COUNT connections both ways; fail, every later request fails
# before its request reaches nginx, which logs the first alone, with
# keepwarm and without.
negative() {
	local name=$1 port=$3 want=$4 count=${COUNT:-$N} reqs conns first
	client "$2"
	shift 4
	reqs=$count conns=$count
	[ "$want" = fail ] && reqs=1 conns=1
	head -n "$count" "$TMP/expected" >"$TMP/expected.$count"
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected.$count" "$want" "$reqs" "${CENV[@]}" -- "${CMD[@]}" "$@" $(COUNT=$count urls "$port")
	first=$(head -n 1 "$TMP/expected")
	[ "$(head -n 1 "$OUT0")" = "$first" ] || why="$why the first (warm) request failed without keepwarm;"
	[ "$(head -n 1 "$TMP/$name.with.out")" = "$first" ] || why="$why the first (warm) request failed with keepwarm;"
	expect "connections without keepwarm" "$C0" = "$conns"
	expect "connections with keepwarm" "$C1" = "$conns"
	expect "requests at nginx with keepwarm" "$R1" = "$R0"
	expect "takeovers (reuse lines less fresh lines)" "$(takeovers "$name")" = 0
	verdict "[no-reuse] $name" "$name" "the warm request, then $((count - 1)) $([ "$want" = ok ] && echo successes || echo failures) as without keepwarm; $C1 connection(s) at nginx both ways, no takeover ($(ev "$name" reuse) reuse, $(ev "$name" fresh) fresh)"
}
# neg_args VARIATION CLIENT: sets NEG_WANT (ok or fail) and NEG_ARGS (the
# client's options) for the variation, or returns 1 when the client cannot
# express it:
#   ca           another trust file (fail: the chain does not verify)
#   host         another host name, SNI and verified (fail): through the
#                library (python, perl, php-curl, libcurl) or checked by the
#                program itself after the handshake (PHP's peer_name
#                check; ruby's, inside its verify callback)
#   client-cert  a client certificate (ok: nginx asks for none), the
#                server's own certificate and key, the one the CA made
#   sni-each     SNI localhost first, then alt-I.example for request I, the
#                chain verified, no host name checked (for every request;
#                ok)
#   alpn-h2      an ALPN offer of h2 alone (fail: nginx, no http2 on these
#                ports, refuses the handshake). libcurl (php-curl, our
#                libcurl4 client) cannot offer h2 alone (with HTTP/2, even
#                prior knowledge, over TLS it offers h2,http/1.1, and nginx
#                picks http/1.1), so for them:
#   alpn-each    three requests, each with another ALPN offer: libcurl's
#                default (h2,http/1.1), http/1.1 alone
#                (CURL_HTTP_VERSION_1_1), none (CURLOPT_SSL_ENABLE_ALPN 0);
#                all succeed (ok). Three, as libcurl has no more offers to
#                make: a fourth request would repeat the first's offer, and
#                might take the first's connection over by right.
# Not here: another host name or SNI for python urllib and requests, and
# ALPN for requests (they take the name from the URL and make their own
# context: a connection class or adapter of the program's own would be
# needed, which py-httpclient has); the clients that take their trust from
# SSL_CERT_FILE and set nothing per request (python http.client with no
# context, ruby Net::HTTP.get_response).
NEG_VARIATIONS=(ca host client-cert sni-each alpn-h2 alpn-each)
neg_args() {
	local cert=$CA/server.pem key=$CA/server.key
	NEG_WANT=ok NEG_COUNT=$N
	case $1 in ca | host | alpn-h2) NEG_WANT=fail ;; esac
	case $1:$2 in
	ca:curl-openssl | ca:py-* | ca:pl-* | ca:php-* | ca:rb-start) NEG_ARGS=(--second-ca "$CA/other.pem") ;;
	host:curl-openssl | host:py-httpclient | host:pl-* | host:php-* | host:rb-start)
		NEG_ARGS=(--second-host wrong.example) ;;
	client-cert:curl-openssl) NEG_ARGS=(--second-cert "$cert" --second-key "$key") ;;
	client-cert:py-* | client-cert:pl-* | client-cert:php-* | client-cert:rb-start)
		NEG_ARGS=(--second-client-cert "$cert:$key") ;;
	sni-each:curl-openssl | sni-each:py-httpclient | sni-each:pl-* | sni-each:php-* | sni-each:rb-start)
		NEG_ARGS=(--sni-each) ;;
	alpn-h2:py-httpclient | alpn-h2:py-urllib | alpn-h2:pl-* | alpn-h2:php-fgc | alpn-h2:rb-start)
		NEG_ARGS=(--second-alpn h2) ;;
	alpn-each:curl-openssl | alpn-each:php-curl) NEG_ARGS=(--alpn-each) NEG_COUNT=3 ;;
	*) return 1 ;;
	esac
}
# Each run takes a second at most: 15 s shows a stalled one soon enough.
RUN_TIMEOUT=15
for port in "$PORT13" "$PORT12"; do
	v=$(tls_name "$port")
	for c in py-httpclient py-urllib py-requests pl-lwp pl-httptiny php-fgc php-curl rb-start curl-openssl; do
		for var in "${NEG_VARIATIONS[@]}"; do
			neg_args "$var" "$c" || continue
			COUNT=$NEG_COUNT negative "neg.$var.$c.$v" "$c" "$port" "$NEG_WANT" "${NEG_ARGS[@]}"
		done
	done
done
RUN_TIMEOUT=60

# ---- 3. stale: 1.3 s before every request after the first, longer than the
# server's keep-alive timeout (1 s), so every parked connection has been
# closed by the server (close_notify and FIN) when the next request wants it
for c in py-httpclient py-urllib py-requests pl-lwp pl-httptiny php-fgc php-curl rb-start; do
	client "$c"
	name=stale.$c
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected.stale" ok "$STALE_N" "${CENV[@]}" -- "${CMD[@]}" --pause-ms 1300 \
		$(COUNT=$STALE_N urls "$PORTKA")
	expect "connections without keepwarm" "$C0" = "$STALE_N"
	expect "connections with keepwarm" "$C1" = "$STALE_N"
	expect "reuse lines" "$(ev "$name" reuse)" = 0
	expect "error lines on the client's stdout" "$(grep -c '^error ' "$TMP/$name.with.out")" = 0
	expect "bytes on the client's stderr" "$(wc -c <"$TMP/$name.with.err")" = 0
	expect "errors in the stats" \
		"$(awk '/^keepwarm_events_total[{].*event="errors"/ { s += $NF } END { print s + 0 }' "$TMP/$name.stats" 2>/dev/null)" = 0
	verdict "[stale] $name" "$name" "$STALE_N requests on $STALE_N connections with and without keepwarm, no dead connection handed back ($(ev "$name" stale) stale), 0 errors"
done

# ---- 4. POST: a request that cannot be replayed never travels on a reused
# connection (KEEPWARM_REUSE=safe); each POST reaches nginx once
client py-httpclient
for port in "$PORT13" "$PORT12"; do
	name=post.py-httpclient.$(tls_name "$port")
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected.post" ok "$N" -- "${CMD[@]}" --post \
		$(for ((i = 0; i < N; i++)); do echo "https://127.0.0.1:$port/post?i=$i"; done)
	expect "POST lines at nginx without keepwarm" "$P0" = "$N"
	expect "POST lines at nginx with keepwarm" "$P1" = "$N"
	expect "connections with keepwarm" "$C1" = "$N"
	expect "takeovers (reuse lines less fresh lines)" "$(takeovers "$name")" = 0
	verdict "[post] $name" "$name" "each of the $N POSTs once at nginx with and without keepwarm, on $C1 connections, none taken over"
done

# ---- 5. our own OpenSSL client (tests/tls/openssl_client.c) with --fresh:
# a session and a connection per request, closed after a keep-alive
# response (the last request asks for Connection: close, sent as
# keep-alive). taken_over NAME CONNS0: one connection at nginx for the N
# requests with keepwarm (CONNS0 without), N-1 reuse lines with tls=1, no
# fresh line, the stats agree, the last session parked at exit.
OC=("$T/openssl_client" --ca "$CA/ca.pem")
taken_over() {
	local name=$1
	expect "connections without keepwarm" "$C0" = "$2"
	expect "connections with keepwarm" "$C1" = 1
	expect "reuse lines with tls=1" "$(ev "$name" 'reuse .*tls=1')" = $((N - 1))
	expect "fresh lines" "$(ev "$name" fresh)" = 0
	expect "HTTPS requests in the stats" "$(stat_sum "$name" '^keepwarm_requests_total[{]')" = "$N"
	expect "reused connections in the stats" \
		"$(stat_sum "$name" '^keepwarm_connections_total[{].*how="reused"')" = $((N - 1))
	expect "parked TLS sessions at exit (keepwarm_tls_parked)" \
		"$(cat "$TMP/$name".stats* 2>/dev/null | awk '/^keepwarm_tls_parked[{]/ { s += $NF } END { print s + 0 }')" = 1
	verdict "[reuse] $name" "$name" "1 connection at nginx with keepwarm for $N requests ($2 without), $((N - 1)) reuse lines with tls=1, no fresh connection, the stats agree"
}
# oc_positive DIR PREFIX: case 5 for the openssl_client in DIR.
oc_positive() {
	local dir=$1 prefix=$2 m port name
	for m in blocking poll epoll; do
		for port in "$PORT13" "$PORT12"; do
			name=${prefix}openssl.$m.$(tls_name "$port")
			# shellcheck disable=SC2046 # the URLs are words
			pair "$name" "$TMP/expected" ok "$N" -- \
				"$dir/openssl_client" --ca "$CA/ca.pem" --mode "$m" --fresh $(urls "$port")
			taken_over "$name" "$N"
		done
	done
}
oc_positive "$T" ""
# Threads (four, each a session per request) and fork (the parent's first
# request, the child's five, the parent's again): fewer connections than
# requests, some taken over.
for m in threads fork; do
	for port in "$PORT13" "$PORT12"; do
		name=openssl.$m.$(tls_name "$port")
		exp=$TMP/expected reqs=$N
		[ "$m" = fork ] && exp=$TMP/expected.fork reqs=$((N + 1))
		# shellcheck disable=SC2046 # the URLs are words
		pair "$name" "$exp" ok "$reqs" -- "${OC[@]}" --mode "$m" --fresh $(urls "$port")
		expect "connections without keepwarm" "$C0" = "$reqs"
		expect "connections with keepwarm" "$C1" "<=" $((reqs - 1))
		expect "reuse lines with tls=1" "$(ev "$name" 'reuse .*tls=1')" ">=" 1
		expect "HTTPS requests in the stats" "$(stat_sum "$name" '^keepwarm_requests_total[{]')" = "$reqs"
		verdict "[reuse] $name" "$name" "$C1 connections at nginx with keepwarm for $reqs requests ($C0 without), $(ev "$name" reuse) reuse lines, the stats count $reqs HTTPS requests"
	done
done

# ---- 6. the socket closed before SSL_free (KW_TEST_CLOSE_FIRST): the still
# open session is kept with its socket at close() and parked, and taken
# over as in case 5; a second reference to the SSL taken and dropped after
# the handshake (KW_TEST_OPENSSL_UP_REF): parked and taken over all the same
for port in "$PORT13" "$PORT12"; do
	for knob in close-first:KW_TEST_CLOSE_FIRST=1 up-ref:KW_TEST_OPENSSL_UP_REF=1; do
		name=openssl.${knob%%:*}.$(tls_name "$port")
		# shellcheck disable=SC2046 # the URLs are words
		pair "$name" "$TMP/expected" ok "$N" "${knob#*:}" -- "${OC[@]}" --mode blocking --fresh $(urls "$port")
		expect "discard lines with reason=tls-not-pooled" "$(ev "$name" discard tls-not-pooled)" = 0
		taken_over "$name" "$N"
	done
done

# ---- 7. our own server (tls_server, GnuTLS), which sends TLS records while
# a connection is idle. start_tls_server NAME OPTION...: tls_server with the
# test CA's certificate on $TMP/www (it serves /chunked/text.txt with a
# Content-Length: the same bytes); sets TSRV_PORT, its access log
# $TMP/NAME.access.
head -n 4 "$TMP/expected" >"$TMP/expected.four"
start_tls_server() {
	local name=$1 portfile=$TMP/$1.port
	shift
	"$T/tls_server" --cert "$CA/server.pem" --key "$CA/server.key" --root "$TMP/www" \
		--port-file "$portfile" --log "$TMP/$name.access" "$@" 2>"$TMP/$name.err" &
	TSRV_PIDS+=($!)
	for _ in $(seq 100); do
		[ -s "$portfile" ] && break
		sleep 0.05
	done
	TSRV_PORT=$(cat "$portfile" 2>/dev/null || true)
	[ -n "$TSRV_PORT" ] || { fail "tls_server $* started: $(head -n 3 "$TMP/$name.err")"; return 1; }
	: >>"$TMP/$name.access"
}
# idle_pair NAME CLIENT PAUSE-MS: a pair of four requests to the tls_server
# on TSRV_PORT, PAUSE-MS before each after the first. CLIENT:
# py-httpclient (--pause-ms) or openssl.MODE (KW_TEST_PAUSE_MS, --fresh).
idle_pair() {
	local name=$1 c=$2 ms=$3
	case $c in
	py-httpclient)
		client py-httpclient
		# shellcheck disable=SC2046 # the URLs are words
		pair "$name" "$TMP/expected.four" ok 4 -- "${CMD[@]}" --pause-ms "$ms" $(COUNT=4 urls "$TSRV_PORT")
		;;
	openssl.*)
		# shellcheck disable=SC2046 # the URLs are words
		pair "$name" "$TMP/expected.four" ok 4 "KW_TEST_PAUSE_MS=$ms" -- \
			"${OC[@]}" --mode "${c#openssl.}" --fresh $(COUNT=4 urls "$TSRV_PORT")
		;;
	esac
}
# Session tickets and key updates after every response (TLS 1.3), 300 ms
# before each next request: the parked connection's session reads them, the
# connection is taken over all the same.
if start_tls_server tsrv-idle --idle-ticket --idle-key-update; then
	ACCESS_LOG=$TMP/tsrv-idle.access
	for c in py-httpclient openssl.blocking; do
		name=idle-records.ticket-key-update.$c
		idle_pair "$name" "$c" 300
		expect "connections without keepwarm" "$C0" = 4
		expect "connections with keepwarm" "$C1" = 1
		expect "reuse lines with tls=1" "$(ev "$name" 'reuse .*tls=1')" = 3
		expect "fresh lines" "$(ev "$name" fresh)" = 0
		expect "stale lines" "$(ev "$name" stale)" = 0
		verdict "[idle] $name" "$name" "1 connection at tls_server with keepwarm ($C0 without), 3 takeovers after tickets and key updates, none stale"
	done
	ACCESS_LOG=$NGINX_ACCESS
fi
# The program's callbacks (KW_TEST_OPENSSL_CALLBACKS: a new-session
# callback on the context, an info callback and the SSL's own object in
# ex_data): called with its own open SSL only, never with a parked one,
# whether the tickets come before each response (read on a taken-over
# session: the callback gets the program's SSL) or while the connection is
# parked (no callback at all).
for opts in "--records-first --idle-ticket" "--idle-ticket"; do
	tag=${opts// /}
	tag=${tag//--/.}
	# shellcheck disable=SC2086 # the options are words
	if start_tls_server "tsrv-cb$tag" $opts; then
		ACCESS_LOG=$TMP/tsrv-cb$tag.access
		name=callbacks$tag
		rm -f "$TMP/$name".cb.*
		# shellcheck disable=SC2046 # the URLs are words
		run "$name" without 4 KW_TEST_OPENSSL_CALLBACKS=1 KW_TEST_CALLBACK_LOG="$TMP/$name.cb.without" \
			KW_TEST_PAUSE_MS=200 -- "${OC[@]}" --mode blocking --fresh $(COUNT=4 urls "$TSRV_PORT")
		rc0=$RC C0=$CONNS
		cmp -s "$OUT" "$TMP/expected.four" || why="$why output without keepwarm not the expected sha256s;"
		err0=$(cat "$ERR")
		# shellcheck disable=SC2046 # the URLs are words
		run "$name" with 4 KW_TEST_OPENSSL_CALLBACKS=1 KW_TEST_CALLBACK_LOG="$TMP/$name.cb.with" \
			KW_TEST_PAUSE_MS=200 -- "${OC[@]}" --mode blocking --fresh $(COUNT=4 urls "$TSRV_PORT")
		expect "exit status without keepwarm" "$rc0" = 0
		expect "exit status with keepwarm" "$RC" = 0
		cmp -s "$OUT" "$TMP/expected.four" || why="$why output with keepwarm not the expected sha256s;"
		[ "$(cat "$ERR")" = "$err0" ] || why="$why stderr differs: $(head -c 200 "$ERR");"
		expect "callbacks with another SSL" "$(grep -o '[0-9]* with another SSL' "$ERR" | cut -d' ' -f1)" = 0
		expect "connections with keepwarm" "$CONNS" = 1
		expect "reuse lines with tls=1" "$(ev "$name" 'reuse .*tls=1')" = 3
		ns=$(awk '{ print $2 }' "$TMP/$name.cb.with" 2>/dev/null)
		case $opts in
		--records-first*) expect "new-session callbacks with keepwarm" "${ns:-0}" '>=' 4 ;;
		*) expect "new-session callbacks with keepwarm (the first connection's only)" "${ns:-0}" '<=' 2 ;;
		esac
		verdict "[callbacks] $name" "$name" "the program's callbacks got its own SSL only ($ns new-session callbacks with keepwarm, $(awk '{ print $2 }' "$TMP/$name.cb.without") without), 1 connection ($C0 without)"
		ACCESS_LOG=$NGINX_ACCESS
	fi
done
# close_notify and close after 200 ms idle, 500 ms before each next
# request: every parked connection is stale when wanted, never handed to
# the program.
if start_tls_server tsrv-close --idle-close-notify 200; then
	ACCESS_LOG=$TMP/tsrv-close.access
	for c in py-httpclient openssl.blocking; do
		name=idle-records.close-notify.$c
		idle_pair "$name" "$c" 500
		expect "connections without keepwarm" "$C0" = 4
		expect "connections with keepwarm" "$C1" = 4
		expect "stale lines" "$(ev "$name" stale)" = 3
		expect "reuse lines" "$(ev "$name" reuse)" = 0
		expect "error lines on the client's stdout" "$(grep -c '^error ' "$TMP/$name.with.out")" = 0
		expect "bytes on the client's stderr" "$(wc -c <"$TMP/$name.with.err")" = 0
		expect "errors in the stats" \
			"$(awk '/^keepwarm_events_total[{].*event="errors"/ { s += $NF } END { print s + 0 }' "$TMP/$name.stats" 2>/dev/null)" = 0
		verdict "[stale] $name" "$name" "4 connections at tls_server with and without keepwarm, 3 closed by the server while parked (stale), none handed to the program, 0 errors"
	done
	ACCESS_LOG=$NGINX_ACCESS
fi

# ---- 8. the connection closed when its second request comes (close_notify,
# no answer: as a server whose idle timeout passed just then): every request
# on a taken-over session fails before any response byte and is sent once
# more on a fresh connection, after the session's own handshake (replay);
# without keepwarm no connection carries a second request
if start_tls_server tsrv-drop --drop-request 2; then
	ACCESS_LOG=$TMP/tsrv-drop.access
	for c in py-httpclient openssl.blocking openssl.poll openssl.epoll; do
		name=replay.$c
		before=$(grep -c ' 0$' "$ACCESS_LOG")
		idle_pair "$name" "$c" 0
		drops=$(($(grep -c ' 0$' "$ACCESS_LOG") - before))
		expect "connections without keepwarm" "$C0" = 4
		expect "connections with keepwarm" "$C1" = 4
		expect "requests the server dropped" "$drops" = 3
		expect "reuse lines with tls=1" "$(ev "$name" 'reuse .*tls=1')" = 3
		expect "replay lines" "$(ev "$name" replay)" = 3
		verdict "[replay] $name" "$name" "3 takeovers, each request dropped by the server and replayed on a fresh connection, the program none the wiser"
	done
	ACCESS_LOG=$NGINX_ACCESS
fi
stop_tls_servers

# ---- 9. KEEPWARM_TLS_REUSE=off: TLS followed and measured, never parked
REUSE_ENV=(KEEPWARM_TLS_REUSE=off)
client py-httpclient
for port in "$PORT13" "$PORT12"; do
	name=reuse-off.py-httpclient.$(tls_name "$port")
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected" ok "$N" -- "${CMD[@]}" $(urls "$port")
	expect "connections without keepwarm" "$C0" = "$N"
	expect "connections with keepwarm" "$C1" = "$N"
	expect "park lines with tls=1" "$(ev "$name" 'park .*tls=1')" = 0
	expect "reuse lines" "$(ev "$name" reuse)" = 0
	expect "discard lines with reason=tls-not-pooled" "$(ev "$name" discard tls-not-pooled)" = "$N"
	expect "HTTPS requests in the stats" "$(stat_sum "$name" '^keepwarm_requests_total[{]')" = "$N"
	verdict "[reuse-off] $name" "$name" "$N connections with and without keepwarm, each closed as tls-not-pooled, none parked"
done
REUSE_ENV=()

# ---- 10. stale races: RACE_N requests, a connection per request, to the
# nginx port that closes idle connections after 3 ms: a parked connection
# may be closed before, while or after the next session wants it. GETs of
# the 1 KiB file, then POSTs. Which of reuse, stale, replay and fresh happen
# depends on timing; the program's output and the POSTs at nginx must not.
# The client sets TCP_NODELAY (KW_TEST_NODELAY), as in tls-reuse.sh.
RACE_N=300
h=$(sha256sum <"$TMP/www/1k.bin" | cut -d' ' -f1)
for ((i = 0; i < RACE_N; i++)); do echo "$h"; done >"$TMP/expected.race"
h=$(sha256sum <"$TMP/posted" | cut -d' ' -f1)
for ((i = 0; i < RACE_N; i++)); do echo "$h"; done >"$TMP/expected.race-post"
race_urls() { for ((i = 0; i < RACE_N; i++)); do echo "https://127.0.0.1:$PORTRACE/$1?i=$i"; done; }
race_events() {
	echo "$(ev "$1" reuse) reuse, $(ev "$1" stale) stale, $(ev "$1" replay) replay, $(ev "$1" fresh) fresh"
}
# posts_once FROM TO: the distinct POST request lines among the access
# log's lines FROM+1 to TO, each seen exactly once (else "dup").
posts_once() {
	local lines
	lines=$(sed -n "$(($1 + 1)),$2p" "$ACCESS_LOG" | grep -o '"POST [^"]*"' | sort)
	if [ -n "$(uniq -d <<<"$lines")" ]; then echo dup; else grep -c . <<<"$lines" || true; fi
}
name=race.get
# shellcheck disable=SC2046 # the URLs are words
pair "$name" "$TMP/expected.race" ok "$RACE_N" KW_TEST_NODELAY=1 -- \
	"${OC[@]}" --mode blocking --fresh $(race_urls 1k.bin)
expect "reuse and stale lines" $(($(ev "$name" reuse) + $(ev "$name" stale))) ">=" 1
verdict "[race] $name" "$name" "$RACE_N GETs: $(race_events "$name"); connections at nginx: $C1 with keepwarm, $C0 without"
name=race.post
l0=$(log_lines)
# shellcheck disable=SC2046 # the URLs are words
pair "$name" "$TMP/expected.race-post" ok "$RACE_N" KW_TEST_POST=1 KW_TEST_NODELAY=1 -- \
	"${OC[@]}" --mode blocking --fresh $(race_urls post)
l2=$(log_lines)
l1=$((l0 + R0))
expect "POST lines at nginx without keepwarm" "$P0" = "$RACE_N"
expect "POST lines at nginx with keepwarm" "$P1" = "$RACE_N"
expect "distinct POSTs at nginx without keepwarm, each once" "$(posts_once "$l0" "$l1")" = "$RACE_N"
expect "distinct POSTs at nginx with keepwarm, each once" "$(posts_once "$l1" "$l2")" = "$RACE_N"
verdict "[race] $name" "$name" "$RACE_N POSTs, each once at nginx with and without keepwarm: $(race_events "$name"); connections at nginx: $C1 with keepwarm, $C0 without"

# ---- 11. a private copy of libssl in the same process (as a Python
# wheel's extension brings its own): privssl_driver GETs the first URL
# through the system libssl, then has privssl.so, dlopened with
# RTLD_DEEPBIND and bound to its own copy (libssl.kw.3), GET the second.
# The first connection is parked (its Connection: close sent as
# keep-alive) and handed back at the copy's connect() (a reuse line); the
# copy's ClientHello is not from a session keepwarm follows, so a fresh
# connection takes it (fresh, reason=tls-not-hello) and the copy's session
# is left alone (passthrough, reason=tls-unbound): no takeover, and both
# GETs succeed as without keepwarm. The copy is made as tls-clients.sh
# makes it (DT_SONAME rewritten).
PRIV=$TMP/priv
mkdir -p "$PRIV"
head -n 2 "$TMP/expected" >"$TMP/expected.two"
if setup "a private copy of libssl with DT_SONAME libssl.kw.3, and privssl.so linked against it" \
	make_private_libssl "$PRIV"; then
	for port in "$PORT13" "$PORT12"; do
		name=privssl.deepbind.$(tls_name "$port")
		# shellcheck disable=SC2046 # the URLs are words
		pair "$name" "$TMP/expected.two" ok 2 -- "$T/privssl_driver" "$CA/ca.pem" \
			"$PRIV/privssl.so" deepbind $(urls "$port" | head -n 2)
		expect "connections without keepwarm" "$C0" = 2
		expect "connections with keepwarm" "$C1" = 2
		expect "takeovers (reuse lines less fresh lines)" "$(takeovers "$name")" = 0
		expect "fresh lines with reason=tls-not-hello" "$(ev "$name" fresh tls-not-hello)" = 1
		expect "passthrough lines with reason=tls-unbound" "$(ev "$name" passthrough tls-unbound)" = 1
		verdict "[privssl] $name" "$name" "the private copy's ClientHello on a fresh connection (tls-not-hello), its session let go (tls-unbound), no takeover: 2 connections both ways"
	done
fi

# ---- 12. case 5 with openssl_client built with ASan and UBSan (make
# tls-asan), the runtime first in LD_PRELOAD (before keepwarm), leaks
# checked: no sanitizer report, the same takeovers. keepwarm itself is the
# ordinary build here, as in tls-reuse.sh (which builds it with a sanitizer
# for TSan alone), so the python clients are not run under ASan.
if setup "make tls-asan: openssl_client with -fsanitize=address,undefined" \
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -C "$ROOT" -j2 BUILD="$BUILD_DIR" tls-asan &&
	[ -x "$T/asan/openssl_client" ]; then
	PRELOAD="$(gcc -print-file-name=libasan.so) $LIB"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	oc_positive "$T/asan" asan-
	unset ASAN_OPTIONS UBSAN_OPTIONS
	PRELOAD=$LIB
fi

# ---- 12b. the socket closed (os.close) under a taken-over SSL in the
# middle of a response, the SSL used once more and freed only then
# (tests/clients/ossl/py_close_mid.py): the program sees what it sees
# without keepwarm, the parked session it took over is never freed before
# the program lets go of its SSL (case 13 runs it under ASan too)
close_mid() { # NAME
	local name=$1
	pair "$name" "$TMP/close_mid.expected" ok 4 -- "$PY" "$ROOT/tests/clients/ossl/py_close_mid.py" \
		--ca "$CA/ca.pem" 127.0.0.1 "$PORT13" /1k.bin /1m.bin
	expect "reuse lines with tls=1" "$(ev "$name" 'reuse .*tls=1')" '>=' 2
	verdict "[close-mid] $name" "$name" "the socket closed under a taken-over SSL mid-response: the same output, $C1 connections with keepwarm ($C0 without)"
}
"$PY" "$ROOT/tests/clients/ossl/py_close_mid.py" --ca "$CA/ca.pem" 127.0.0.1 "$PORT13" /1k.bin /1m.bin \
	>"$TMP/close_mid.expected" 2>/dev/null
close_mid close-mid.py.tls13

# ---- 12c. the handshake left to the first SSL_write
# (tests/clients/ossl/py_implicit.py, do_handshake_on_connect=False): the
# ClientHello that takes the parked session over comes from inside the
# write, which is then made on the session taken over
h1k=$(sha256sum <"$TMP/www/1k.bin" | cut -d' ' -f1)
for ((i = 0; i < N; i++)); do echo "$h1k"; done >"$TMP/implicit.expected"
name=implicit-handshake.py.tls13
pair "$name" "$TMP/implicit.expected" ok "$N" -- "$PY" "$ROOT/tests/clients/ossl/py_implicit.py" \
	--ca "$CA/ca.pem" 127.0.0.1 "$PORT13" /1k.bin "$N"
expect "connections without keepwarm" "$C0" = "$N"
expect "connections with keepwarm" "$C1" = 1
expect "reuse lines with tls=1" "$(ev "$name" 'reuse .*tls=1')" = $((N - 1))
expect "fresh lines" "$(ev "$name" fresh)" = 0
verdict "[implicit] $name" "$name" "the handshake inside the first SSL_write: 1 connection at nginx for $N requests ($C0 without), $((N - 1)) takeovers"

# ---- 13. keepwarm itself built with ASan and UBSan (make asan:
# BUILD_DIR/asan/libkeepwarm.so), the runtime first in LD_PRELOAD: python
# http.client (case 1, TLS 1.3 by address; leaks not checked: python leaks
# at exit), our libcurl4 client (case 1, and the client itself built here
# with -fsanitize=address,undefined: leaks checked) and the libcurl4
# client's negative matrix on TLS 1.3 (case 2, every variation): the same
# checks as there, and no sanitizer report on stderr (a UBSan error stops
# the program: halt_on_error).
asan_positive() { # NAME CLIENT-WORDS...
	local name=$1
	shift
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected" ok "$N" -- "$@" $(urls "$PORT13")
	expect "connections without keepwarm" "$C0" = "$N"
	expect "connections with keepwarm" "$C1" = 1
	expect "reuse lines with tls=1" "$(ev "$name" 'reuse .*tls=1')" = $((N - 1))
	expect "fresh lines" "$(ev "$name" fresh)" = 0
	expect "reused connections in the stats" \
		"$(stat_sum "$name" '^keepwarm_connections_total[{].*how="reused"')" = $((N - 1))
	verdict "[asan] $name" "$name" "keepwarm under ASan/UBSan: no sanitizer report, 1 connection at nginx for $N requests ($C0 without), $((N - 1)) reuse lines with tls=1"
}
ASAN_RT=$(gcc -print-file-name=libasan.so)
if setup "make asan: libkeepwarm.so with -fsanitize=address,undefined" \
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -C "$ROOT" -j2 BUILD="$BUILD_DIR" asan &&
	[ -f "$BUILD_DIR/asan/libkeepwarm.so" ]; then
	PRELOAD="$ASAN_RT $BUILD_DIR/asan/libkeepwarm.so"
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export ASAN_OPTIONS=detect_leaks=0
	client py-httpclient
	asan_positive asan-lib.py-httpclient.tls13.addr "${CMD[@]}"
	close_mid asan-lib.close-mid.py.tls13
	export ASAN_OPTIONS=detect_leaks=1
	asan_positive asan-lib.curl-openssl.tls13.addr "$T/curl_client-openssl" --ca "$CA/ca.pem"
	if setup "curl_client (libcurl4) with -fsanitize=address,undefined" \
		"${CC:-cc}" -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
		-Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -o "$TMP/asan-curl_client" "$ROOT/tests/tls/curl_client.c" -lcurl; then
		# The runtime it links stays first in LD_PRELOAD (ASan insists).
		asan_positive asan-lib.asan-curl-openssl.tls13.addr "$TMP/asan-curl_client" --ca "$CA/ca.pem"
	fi
	RUN_TIMEOUT=15
	for var in "${NEG_VARIATIONS[@]}"; do
		neg_args "$var" curl-openssl || continue
		COUNT=$NEG_COUNT negative "asan-lib.neg.$var.curl-openssl.tls13" curl-openssl "$PORT13" "$NEG_WANT" "${NEG_ARGS[@]}"
	done
	RUN_TIMEOUT=60
	unset ASAN_OPTIONS UBSAN_OPTIONS
	PRELOAD=$LIB
fi

if nginx_errors "$TMP/nginx.errors"; then
	fail "nginx error log: $(head -n 3 "$TMP/nginx.errors")"
else
	pass "nginx's error log has no errors"
fi
echo "    | ${SECONDS}s"
finish
