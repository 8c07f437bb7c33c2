#!/usr/bin/env bash
# tls-clients.sh BUILD_DIR - our own C HTTPS clients (tests/tls/, built by
# make into BUILD_DIR/tls) run exactly as without keepwarm: the programs the
# TLS steps will be tested with. nginx serves TLS 1.3 and TLS 1.2 (one port
# each) with a certificate from a private CA generated here; the URLs are a
# 1 KiB file, a 1 MiB file and a chunked response (SSI on a text file).
#   - the GnuTLS and OpenSSL clients, every mode (blocking, poll, epoll,
#     threads, fork) x a new connection per request or keep-alive x TLS 1.3/1.2
#   - the same two built with ASan/UBSan (make tls-asan), the runtime first
#     in LD_PRELOAD; no sanitizer report either way
#   - the libcurl client linked against libcurl4 (OpenSSL) and libcurl3-gnutls
#   - a program on the system libssl that loads an object linked against a
#     private, renamed copy of it (as Python wheels bring), plain and
#     RTLD_DEEPBIND
#   - route_check and route_check_ssl: a GnuTLS session's and an OpenSSL
#     SSL's other calls through keepwarm's trampolines give what the
#     library's own functions give (found with dlvsym), the same number of
#     answers without and with keepwarm
#   - every client refusing a server its CA file does not vouch for
# Each pair of runs, without and with keepwarm: exit 0 both, output equal and
# the bodies' sha256 as expected, the same number of connections at nginx
# (distinct connection numbers in its access log; without keepwarm, the
# number the client's mode makes), keepwarm loaded (its trace has a start
# line), no sanitizer report. A run with keepwarm writes its trace to
# $TMP/NAME.trace and its stats to $TMP/NAME.stats ($TMP/NAME.stats.PID in
# fork mode, one file per process), whose keepwarm_requests_total with
# tls="1" must count every request the run made.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: tls-clients.sh BUILD_DIR}" && pwd -P)
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
LIB=$BUILD_DIR/libkeepwarm.so
T=$BUILD_DIR/tls
PY=/usr/bin/python3
N=6
# shellcheck disable=SC2034 # read by lib.sh
KW_TMP_NAME=kw-tlsc
# shellcheck disable=SC1091
. "$(dirname "$0")/../common/lib.sh"
TMP=$KW_TMP
# shellcheck disable=SC1091
. "$(dirname "$0")/../common/nginx.sh"
# shellcheck disable=SC1091
. "$(dirname "$0")/../common/tlsca.sh"
trap 'nginx_stop; cleanup_lib' EXIT
clear_shim_env
tls_test_env
# Following, not reuse (tls-reuse.sh's): every connection the client opens
# must reach nginx, as without keepwarm.
export KEEPWARM_TLS_REUSE=off
SECONDS=0

for f in /usr/bin/openssl /usr/sbin/nginx "$PY" "$LIB" "$T/gnutls_client" "$T/openssl_client" \
	"$T/curl_client-openssl" "$T/curl_client-gnutls" "$T/privssl_driver" "$T/route_check" \
	"$T/route_check_ssl"; do
	[ -x "$f" ] || [ -f "$f" ] || { fail "prerequisite $f present (make builds it)"; finish; exit; }
done

# ---- a private CA and a server certificate for 127.0.0.1 and localhost;
# another CA, which signed nothing here
CA=$TMP/ca
setup "a private CA, a server certificate and another CA (openssl)" make_test_ca "$CA" ||
	{ finish; exit; }

# ---- the bodies: URL i is 1k.bin, 1m.bin, chunked/text.txt for i % 3 = 0, 1, 2
tls_bodies "$N"
head -n 2 "$TMP/expected" >"$TMP/expected.two"

nginx_servers() { # PORT13 PORT12
	echo "	default_type application/octet-stream;"
	tls_server "$1" TLSv1.3 "" "location /chunked/ { ssi on; ssi_types *; }"
	tls_server "$2" TLSv1.2 "" "location /chunked/ { ssi on; ssi_types *; }"
}
nginx_start "$TMP/nginx" 2 || { fail "nginx with TLS started: $(tail -n 5 "$TMP/nginx/nginx.out")"; finish; exit; }
read -r PORT13 PORT12 <<<"$NGINX_PORTS"

# The URLs of one run on PORT.
urls() { for ((i = 0; i < N; i++)); do echo "https://127.0.0.1:$1/${FILES[i % 3]}?i=$i"; done; }

if curl -s --cacert "$CA/ca.pem" -D "$TMP/chunked.head" -o /dev/null \
	"https://127.0.0.1:$PORT13/chunked/text.txt" &&
	grep -qi '^transfer-encoding: *chunked' "$TMP/chunked.head" &&
	! grep -qi '^content-length' "$TMP/chunked.head"; then
	pass "nginx answers /chunked/ with Transfer-Encoding: chunked and no Content-Length"
else
	fail "nginx's /chunked/ response is not chunked: $(tr '\r\n' '  ' <"$TMP/chunked.head")"
fi

# tls_requests NAME: the HTTPS requests keepwarm's stats of the run NAME
# count (keepwarm_requests_total with tls="1", over $TMP/NAME.stats*).
tls_requests() {
	cat "$TMP/$1".stats* 2>/dev/null |
		awk '/^keepwarm_requests_total\{/ && /tls="1"/ { s += $NF } END { print s + 0 }'
}

log_lines() { wc -l <"$NGINX_ACCESS"; }
# Distinct connections in the access log's lines after line $1.
conns_since() { tail -n "+$(($1 + 1))" "$NGINX_ACCESS" | awk '{ print $1 }' | sort -u | wc -l; }
REPORT_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'

# has_report FILE...: a sanitizer's report in them. Under TSan only one of
# keepwarm's races (tsan_race_in_keepwarm): the TLS libraries are not built
# with it, and their lock-free code is reported now and then without keepwarm.
has_report() {
	if [ -n "${TSAN_OPTIONS:-}" ]; then
		tsan_race_in_keepwarm "$@"
	else
		grep -qE "$REPORT_RE" "$@"
	fi
}

# run NAME with|without REQUESTS CMD...: sets RC, OUT, ERR, CONNS. Waits
# (up to 5 s) for nginx to log REQUESTS more requests.
PRELOAD=$LIB
run() {
	local name=$1 shim=$2 reqs=$3 before stats
	shift 3
	before=$(log_lines)
	OUT=$TMP/$name.$shim.out
	ERR=$TMP/$name.$shim.err
	if [ "$shim" = with ]; then
		stats=$TMP/$name.stats
		case $name in *.fork.*) stats=$TMP/$name.stats.%p ;; esac
		timeout 120 env LD_PRELOAD="$PRELOAD" KEEPWARM_TRACE="$TMP/$name.trace" \
			KEEPWARM_STATS="$stats" "$@" >"$OUT" 2>"$ERR"
	else
		timeout 120 "$@" >"$OUT" 2>"$ERR"
	fi
	RC=$?
	for _ in $(seq 50); do
		[ "$(log_lines)" -ge $((before + reqs)) ] && break
		sleep 0.1
	done
	CONNS=$(conns_since "$before")
}

# pair NAME EXPECTED REQUESTS CONNECTIONS CMD...: without, then with
# keepwarm; without it, nginx must see CONNECTIONS connections.
pair() {
	local name=$1 expected=$2 reqs=$3 conns=$4 rc0 out0 err0 c0 seen summed why=
	shift 4
	run "$name" without "$reqs" "$@"
	rc0=$RC out0=$OUT err0=$ERR c0=$CONNS
	run "$name" with "$reqs" "$@"
	seen=$(tls_requests "$name")
	summed=$("$BUILD_DIR/keepwarm-stat" summary "$TMP/$name.trace" 2>/dev/null |
		awk '$1 ~ /^https:\/\// { n += $2 } END { print n + 0 }')
	[ "$rc0" -eq 0 ] && [ "$RC" -eq 0 ] || why="$why exit $rc0/$RC;"
	cmp -s "$out0" "$expected" || why="$why output without keepwarm wrong;"
	cmp -s "$OUT" "$out0" || why="$why output differs with keepwarm;"
	[ "$c0" -eq "$conns" ] || why="$why $c0 connections without keepwarm, not $conns;"
	[ "$CONNS" -eq "$c0" ] || why="$why connections $c0/$CONNS;"
	grep -q 'event=start' "$TMP/$name.trace" 2>/dev/null || why="$why no keepwarm trace;"
	[ "$summed" -eq "${TLS_REQS:-$reqs}" ] ||
		why="$why keepwarm-stat summary of its trace shows $summed HTTPS requests, not ${TLS_REQS:-$reqs};"
	[ "$seen" -eq "${TLS_REQS:-$reqs}" ] ||
		why="$why the stats count $seen HTTPS requests, not ${TLS_REQS:-$reqs} (trace: $(grep -oE 'event=(discard|passthrough|taint) .*reason=[a-z0-9-]+( requests=[0-9]+)?' "$TMP/$name.trace" | sort | uniq -c | tr '\n' '|'));"
	if has_report "$err0" "$ERR"; then why="$why sanitizer report;"; fi
	if [ -z "$why" ]; then
		pass "$name: $(wc -l <"$out0") bodies as expected, exit 0, $c0 connections, with and without keepwarm; $seen HTTPS requests in the stats and the trace's summary"
	else
		fail "$name:$why $(cat "$err0" "$ERR" | grep -v '^$' | head -n 4 | tr '\n' '|' | head -c 400)"
	fi
}

tls_name() { [ "$1" = "$PORT13" ] && echo tls13 || echo tls12; }

# ---- the GnuTLS and OpenSSL clients: every mode, both connection styles
clients_all_modes() { # DIR PREFIX
	local dir=$1 prefix=$2 c m k port name exp reqs conns
	for c in gnutls openssl; do
		for m in blocking poll epoll threads fork; do
			for k in new-conn keep-alive; do
				for port in "$PORT13" "$PORT12"; do
					name=$prefix$c.$m.$k.$(tls_name "$port")
					exp=$TMP/expected reqs=$N
					[ "$m" = fork ] && exp=$TMP/expected.fork reqs=$((N + 1))
					# Keep-alive: one per thread; in fork mode the parent's
					# first, the child's, the parent's second.
					conns=$reqs
					if [ "$k" = keep-alive ]; then
						case $m in threads) conns=4 ;; fork) conns=3 ;; *) conns=1 ;; esac
					fi
					# shellcheck disable=SC2046 # the URLs are words
					pair "$name" "$exp" "$reqs" "$conns" "$dir/${c}_client" --ca "$CA/ca.pem" \
						--mode "$m" "--$k" $(urls "$port")
				done
			done
		done
	done
}
clients_all_modes "$T" ""
# An SSL with a second reference (SSL_up_ref after the handshake, dropped
# again at once): followed to its last SSL_free, every request counted.
for port in "$PORT13" "$PORT12"; do
	# shellcheck disable=SC2046 # the URLs are words
	pair "openssl.up-ref.$(tls_name "$port")" "$TMP/expected" "$N" "$N" env KW_TEST_OPENSSL_UP_REF=1 \
		"$T/openssl_client" --ca "$CA/ca.pem" --mode blocking --new-conn $(urls "$port")
done

# ---- libcurl, OpenSSL and GnuTLS flavours (ldd's output read whole: grep -q
# leaving a pipe early would fail the pipeline under pipefail)
lo=$(ldd "$T/curl_client-openssl") bo=$("$T/curl_client-openssl" --backend)
if grep -q 'libcurl\.so\.4 ' <<<"$lo" && grep -q 'libssl\.so\.3' <<<"$lo" && [[ $bo == OpenSSL/* ]]; then
	pass "curl_client-openssl: linked to libcurl.so.4, libssl.so.3 loaded, libcurl says $bo"
else
	fail "curl_client-openssl: libcurl says $bo; $(grep -E 'curl|ssl|tls' <<<"$lo" | tr '\n\t' '  ')"
fi
lg=$(ldd "$T/curl_client-gnutls") bg=$("$T/curl_client-gnutls" --backend)
if grep -q 'libcurl-gnutls\.so\.4' <<<"$lg" && grep -q 'libgnutls\.so' <<<"$lg" &&
	! grep -q 'libssl\.so' <<<"$lg" && [[ $bg == GnuTLS/* ]]; then
	pass "curl_client-gnutls: linked to libcurl-gnutls.so.4 and libgnutls, no libssl, libcurl says $bg"
else
	fail "curl_client-gnutls: libcurl says $bg; $(grep -E 'curl|ssl|tls' <<<"$lg" | tr '\n\t' '  ')"
fi
for c in openssl gnutls; do
	for port in "$PORT13" "$PORT12"; do
		# shellcheck disable=SC2046 # the URLs are words
		pair "curl-$c.$(tls_name "$port")" "$TMP/expected" "$N" "$N" "$T/curl_client-$c" --ca "$CA/ca.pem" $(urls "$port")
	done
done

# ---- a private copy of libssl beside the system's: the copy's DT_SONAME
# rewritten in place to a name of the same length, symbol versions untouched
PRIV=$TMP/priv
mkdir -p "$PRIV"
SYS_SSL=/usr/lib/x86_64-linux-gnu/libssl.so.3
if setup "a private copy of libssl with DT_SONAME libssl.kw.3, and privssl.so linked against it" \
	make_private_libssl "$PRIV"; then
	dc=$(readelf -d "$PRIV/libssl.kw.3") dp=$(readelf -d "$PRIV/privssl.so")
	if grep -q 'Library soname: \[libssl.kw.3\]' <<<"$dc" &&
		grep -q 'Shared library: \[libssl.kw.3\]' <<<"$dp" && ! grep -q 'libssl.so.3' <<<"$dp" &&
		[ "$(readelf -V "$PRIV/libssl.kw.3" | grep -c OPENSSL_3)" = "$(readelf -V "$SYS_SSL" | grep -c OPENSSL_3)" ]; then
		pass "the private libssl copy is named libssl.kw.3 with the system's symbol versions; privssl.so needs it, not libssl.so.3"
	else
		fail "the private libssl copy: $(grep -E 'NEEDED|SONAME' <<<"$dc$dp" | tr '\n' ' ')"
	fi
	# Plain dlopen: privssl.so binds the system libssl (the program's, first
	# in the global scope), and both GETs are followed. RTLD_DEEPBIND: it
	# binds its own copy, which keepwarm leaves alone (tls-unbound).
	for b in plain deepbind; do
		for port in "$PORT13" "$PORT12"; do
			name=privssl.$b.$(tls_name "$port")
			TLS_REQS=2
			[ "$b" = deepbind ] && TLS_REQS=1
			# shellcheck disable=SC2046 # the URLs are words
			pair "$name" "$TMP/expected.two" 2 2 "$T/privssl_driver" "$CA/ca.pem" \
				"$PRIV/privssl.so" "$b" $(urls "$port" | head -n 2)
			unset TLS_REQS
			if [ "$b" = plain ] || grep -q ' reason=tls-unbound' "$TMP/$name.trace"; then
				[ "$b" = plain ] || pass "$name: the private copy's connection is let go (tls-unbound)"
			else
				fail "$name: no tls-unbound for the private copy's connection"
			fi
		done
	done
fi

# ---- the clients under ASan and UBSan. The ASan runtime must be the first
# object ("ASan runtime does not come first" otherwise): it comes before
# keepwarm in LD_PRELOAD (ASAN_OPTIONS=verify_asan_link_order=0 works too,
# but hides the order). Leaks are checked: the clients free what they take.
if setup "make tls-asan: the GnuTLS and OpenSSL clients with -fsanitize=address,undefined" \
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -C "$ROOT" -j2 BUILD="$BUILD_DIR" tls-asan; then
	PRELOAD="$(gcc -print-file-name=libasan.so) $LIB"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	clients_all_modes "$T/asan" asan-
	unset ASAN_OPTIONS UBSAN_OPTIONS
	PRELOAD=$LIB
fi

# ---- the threaded and non-blocking clients under ThreadSanitizer, the
# library built with it too: no data race reported in keepwarm's code (its
# TLS session table, its redirection passes, its streams).
if setup "make tls-tsan: the GnuTLS and OpenSSL clients and keepwarm with -fsanitize=thread" \
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -C "$ROOT" -j2 BUILD="$BUILD_DIR" tls-tsan; then
	PRELOAD=$BUILD_DIR/tsan/libkeepwarm.so
	export TSAN_OPTIONS="halt_on_error=0 exitcode=0"
	for c in gnutls openssl; do
		for m in threads poll; do
			for port in "$PORT13" "$PORT12"; do
				# shellcheck disable=SC2046 # the URLs are words
				pair "tsan-$c.$m.new-conn.$(tls_name "$port")" "$TMP/expected" "$N" "$N" \
					"$T/tsan/${c}_client" --ca "$CA/ca.pem" --mode "$m" --new-conn $(urls "$port")
			done
		done
	done
	unset TSAN_OPTIONS
	PRELOAD=$LIB
fi

# ---- KEEPWARM_TLS_HANDSHAKE_TIMEOUT against a server that accepts and never
# answers: the program's handshake ends at keepwarm's limit or its own,
# whichever is shorter; a session GnuTLS cannot wait on with a limit
# (libcurl's own pull function) is left as it is; a blocking OpenSSL
# handshake ends when one wait reaches the limit (errno ETIMEDOUT), one
# that does not block is left to the program. Exit statuses only: 124 is
# "still waiting when timeout(1) ended it".
SILENT_PORT=$(nginx_free_ports 1)
"$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); s.settimeout(1)
held, end = [], time.time() + 300
while time.time() < end:
    try: held.append(s.accept()[0])
    except socket.timeout: pass
' "$SILENT_PORT" &
SILENT_PID=$!
for _ in $(seq 50); do nginx_port_open "$SILENT_PORT" && break; sleep 0.1; done
su=https://127.0.0.1:$SILENT_PORT/x
# limited NAME EXPECTED-RC KNOB [ENV=VALUE...] -- CMD...: KNOB "" is no setting.
limited() {
	local name=$1 want=$2 knob=$3 rc envs=()
	shift 3
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	[ -n "$knob" ] && envs+=("KEEPWARM_TLS_HANDSHAKE_TIMEOUT=$knob")
	timeout 4 env "${envs[@]}" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$name: exit $rc$(grep -qi 'timed out' "$TMP/$name.err" && echo ', the handshake timed out')"
	else
		fail "$name: exit $rc, not $want: $(head -c 200 "$TMP/$name.err")"
	fi
}
limited "handshake limit: gnutls without keepwarm waits" 124 "" -- \
	"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking "$su"
limited "handshake limit: gnutls under keepwarm, no setting, waits the same" 124 "" LD_PRELOAD="$LIB" -- \
	"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking "$su"
limited "handshake limit: 300ms ends gnutls' handshake (its own is 40s)" 1 300ms LD_PRELOAD="$LIB" -- \
	"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking "$su"
limited "handshake limit: the program's own 300ms wins over 30s" 1 30s LD_PRELOAD="$LIB" \
	KW_TEST_HANDSHAKE_MS=300 -- "$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking "$su"
limited "handshake limit: ... as without keepwarm" 1 "" KW_TEST_HANDSHAKE_MS=300 -- \
	"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking "$su"
limited "handshake limit: libcurl-gnutls (its own pull function) is left alone" 124 300ms \
	LD_PRELOAD="$LIB" -- "$T/curl_client-gnutls" --ca "$CA/ca.pem" "$su"
limited "handshake limit: openssl without keepwarm waits" 124 "" -- \
	"$T/openssl_client" --ca "$CA/ca.pem" --mode blocking "$su"
limited "handshake limit: 300ms ends a blocking OpenSSL handshake (each wait bounded)" 1 300ms \
	LD_PRELOAD="$LIB" -- "$T/openssl_client" --ca "$CA/ca.pem" --mode blocking "$su"
limited "handshake limit: an OpenSSL program that does not block keeps its own time" 124 300ms \
	LD_PRELOAD="$LIB" -- "$T/openssl_client" --ca "$CA/ca.pem" --mode poll "$su"
limited "handshake limit: python's blocking handshake ends at 300ms too (TimeoutError)" 1 300ms \
	LD_PRELOAD="$LIB" -- "$PY" -c '
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
try:
    ctx.wrap_socket(s, server_hostname="localhost")
except TimeoutError as e:
    print("timed out:", e, file=sys.stderr)
    sys.exit(1)
' "$CA/ca.pem" "$SILENT_PORT"
kill "$SILENT_PID" 2>/dev/null
wait "$SILENT_PID" 2>/dev/null

# ---- every other GnuTLS call on a session goes through keepwarm's
# trampolines (shim/wrap/tls_route.c): the same answers as the library's
# own functions, for one to eight arguments.
for port in "$PORT13" "$PORT12"; do
	name=route_check.$(tls_name "$port")
	"$T/route_check" "$CA/ca.pem" "$port" >"$TMP/$name.without" 2>&1
	rc0=$?
	LD_PRELOAD=$LIB "$T/route_check" "$CA/ca.pem" "$port" >"$TMP/$name.with" 2>&1
	rc1=$?
	if [ "$rc0" -eq 0 ] && [ "$rc1" -eq 0 ] && grep -q 'answers the same.* is in .*libgnutls' "$TMP/$name.without" &&
		grep -q 'answers the same.* is in .*libkeepwarm.so' "$TMP/$name.with"; then
		pass "$name: $(grep -o '[0-9]* answers the same' "$TMP/$name.with") through keepwarm's trampolines as from the library"
	else
		fail "$name: exit $rc0/$rc1: $(cat "$TMP/$name.without" "$TMP/$name.with" | tr '\n' '|' | head -c 400)"
	fi
done

# ---- the same for every other OpenSSL call on an SSL (the SSL * first):
# one to eight arguments, SSL_ctrl's commands, settings read back the other
# way; as many answers agreed without keepwarm as with it.
for port in "$PORT13" "$PORT12"; do
	name=route_check_ssl.$(tls_name "$port")
	"$T/route_check_ssl" "$CA/ca.pem" "$port" >"$TMP/$name.without" 2>&1
	rc0=$?
	LD_PRELOAD=$LIB "$T/route_check_ssl" "$CA/ca.pem" "$port" >"$TMP/$name.with" 2>&1
	rc1=$?
	n0=$(grep -o '[0-9]* answers agreed' "$TMP/$name.without")
	n1=$(grep -o '[0-9]* answers agreed' "$TMP/$name.with")
	if [ "$rc0" -eq 0 ] && [ "$rc1" -eq 0 ] && [ -n "$n0" ] && [ "$n0" = "$n1" ] &&
		grep -q 'answers agreed.* is in .*libssl\.so' "$TMP/$name.without" &&
		grep -q 'answers agreed.* is in .*libkeepwarm\.so' "$TMP/$name.with"; then
		pass "$name: $n1 through keepwarm's trampolines as from libssl, as many as without keepwarm"
	else
		fail "$name: exit $rc0/$rc1: $(cat "$TMP/$name.without" "$TMP/$name.with" | tr '\n' '|' | head -c 400)"
	fi
done

# ---- a server the CA file does not vouch for: refused, with and without
refuse() { # NAME CMD...
	local name=$1 rc0 out0
	shift
	run "$name" without 0 "$@"
	rc0=$RC out0=$OUT
	run "$name" with 0 "$@"
	if [ "$rc0" -ne 0 ] && [ "$RC" -eq "$rc0" ] && [ ! -s "$out0" ] && [ ! -s "$OUT" ]; then
		pass "$name: refuses the server (exit $rc0, no body), with and without keepwarm"
	else
		fail "$name: exit $rc0/$RC, output $(wc -c <"$out0")/$(wc -c <"$OUT") bytes"
	fi
}
u=$(urls "$PORT13" | head -n 1)
refuse gnutls.wrong-ca "$T/gnutls_client" --ca "$CA/other.pem" "$u"
refuse openssl.wrong-ca "$T/openssl_client" --ca "$CA/other.pem" --mode poll "$u"
refuse curl-openssl.wrong-ca "$T/curl_client-openssl" --ca "$CA/other.pem" "$u"
refuse curl-gnutls.wrong-ca "$T/curl_client-gnutls" --ca "$CA/other.pem" "$u"

if nginx_errors "$TMP/nginx.errors"; then
	fail "nginx error log: $(head -n 3 "$TMP/nginx.errors")"
else
	pass "nginx's error log has no errors"
fi
echo "    | ${SECONDS}s"
finish
