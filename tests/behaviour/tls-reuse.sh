#!/usr/bin/env bash
# tls-reuse.sh BUILD_DIR - TLS connection reuse for GnuTLS programs
# (KEEPWARM_TLS_REUSE, on by default): a session's clean connection is parked at
# gnutls_deinit and close and handed to the program's next session to the
# same server, whose ClientHello decides: a takeover (its handshake succeeds
# at once; trace event=reuse, no event=fresh) or, when the takeover rules
# refuse, a fresh connection and the library's own handshake (event=fresh
# with the reason). nginx serves TLS 1.3 and TLS 1.2 (one port each), on a
# third port TLS 1.3 with keepalive_timeout 1s and on a fourth TLS 1.3 with
# keepalive_timeout 3ms; each answers POST /post with "posted". Two of our
# own servers (tests/tls/tls_server.c) send TLS records while a connection
# is idle. The certificate comes from a private CA generated here; the URLs
# are a 1 KiB file, a 1 MiB file and a chunked response (SSI on a text
# file), in turn.
#   - our GnuTLS client with --fresh (a session and a connection per
#     request, closed after a keep-alive response), blocking, poll and
#     epoll, TLS 1.3 and 1.2, in five styles (the socket as transport;
#     push/pull functions; no gnutls_bye and verification after the
#     handshake only; as libcurl: push/pull and GNUTLS_NO_TICKETS;
#     verification disabled): one connection at nginx for six requests,
#     the last session parked at exit (keepwarm_tls_parked 1)
#   - the same in threads and fork mode: fewer connections, some reuse
#   - libcurl3-gnutls (an easy handle per URL), by address and by name (SNI)
#   - the negative matrix: the first session verifies the server and is
#     parked, the later ones differ (KW_TEST_SECOND_*: SNI, trust file,
#     verified host name, ALPN, priorities, a client certificate; with
#     late verification, host name and trust file): no takeover, the fresh
#     reason in the trace, and the program sees what it sees without
#     keepwarm, success or the same failure
#   - the socket closed before the session (KW_TEST_CLOSE_FIRST): parked
#     with its session all the same, and taken over
#   - the switch off: every TLS connection closed (tls-not-pooled)
#   - parked connections the server closes while they wait (its keep-alive
#     timeout passes, KW_TEST_PAUSE_MS): never handed to the program
#   - close-style requests (--new-conn: Connection: close on every request),
#     blocking, poll and epoll, TLS 1.3 and 1.2, in three styles (the socket
#     as transport; push/pull functions; no gnutls_bye): sent as keep-alive
#     (event=upgrade, close-removed), the response head put back and the
#     program made to read end-of-file where each response ends (event=eof,
#     response-complete), one connection at nginx for six requests
#   - the safe policy: POSTs (KW_TEST_POST) with --fresh, never sent on a
#     connection taken over (event=fresh, request-not-replayable), every
#     POST once at nginx
#   - a server that sends session tickets and key updates while a connection
#     is idle: taken over all the same; one that closes idle connections
#     (close_notify after 200 ms): stale, never handed to the program; one
#     that drops every connection's second request (close_notify, no
#     answer): each taken-over session's request replayed on a fresh
#     connection (event=replay), blocking, poll and epoll, two styles; one
#     that sends tickets and key updates before each response: the
#     program's keylog, alert and hook functions called with its own handle
#   - stale races: 1000 requests, GETs and then POSTs, to the server with a
#     keep-alive timeout of 3 ms: the same output, every POST once; the PASS
#     line counts the reuse, stale, replay and fresh lines (they vary)
#   - wget -i, URLs alternating between the TLS 1.3 and TLS 1.2 ports (by
#     name): one connection per port, the same file written
#   - the client built with ASan/UBSan (make tls-asan): no sanitizer report;
#     threads under TSan with keepwarm built with it (make tls-tsan): no race
#     reported in keepwarm's code
# Each pair of runs, without and with keepwarm (the same KW_TEST_* settings):
# the same exit status (the one the case expects), byte-identical stdout
# (the bodies' sha256, as expected when the run succeeds; for wget, the
# file it wrote) and stderr, keepwarm loaded (its trace has a start line).
# Then what keepwarm did: the connections the server saw (distinct
# connection numbers in nginx's or tls_server's access log, which has a
# line per request: a connection whose handshake failed has none), the
# trace's reuse, fresh, stale, upgrade, eof, park and discard lines, the
# stats ($TMP/NAME.stats, $TMP/NAME.stats.PID in fork mode), and for the
# POSTs the POST lines in nginx's access log. A run with keepwarm writes its
# trace to $TMP/NAME.trace.
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: tls-reuse.sh BUILD_DIR}" && pwd -P)
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
LIB=$BUILD_DIR/libkeepwarm.so
T=$BUILD_DIR/tls
N=6
# shellcheck disable=SC2034 # read by lib.sh
KW_TMP_NAME=kw-tlsr
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

for f in /usr/bin/openssl /usr/sbin/nginx /usr/bin/curl "$LIB" "$T/gnutls_client" "$T/curl_client-gnutls"; do
	[ -x "$f" ] || [ -f "$f" ] || { fail "prerequisite $f present (make builds it)"; finish; exit; }
done

# ---- a private CA and a server certificate for 127.0.0.1 and localhost;
# another CA, which signed nothing here
CA=$TMP/ca
setup "a private CA, a server certificate and another CA (openssl)" make_test_ca "$CA" ||
	{ finish; exit; }

# ---- the bodies: URL i is 1k.bin, 1m.bin, chunked/text.txt for i % 3 = 0, 1, 2
tls_bodies "$N"
head -n 4 "$TMP/expected" >"$TMP/expected.four"

printf 'posted\n' >"$TMP/posted"
tls_reuse_nginx || { finish; exit; }

# The server's access log, a line per request, its first field the
# connection: nginx's, or a tls_server's (ACCESS_LOG set for its cases).
ACCESS_LOG=$NGINX_ACCESS
log_lines() { wc -l <"$ACCESS_LOG"; }
# Distinct connections in the access log's lines after line $1.
conns_since() { tail -n "+$(($1 + 1))" "$ACCESS_LOG" | awk '{ print $1 }' | sort -u | wc -l; }
# POST requests in the access log's lines after line $1.
posts_since() { tail -n "+$(($1 + 1))" "$ACCESS_LOG" | grep -c '"POST ' || true; }
REPORT_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'
# Under TSan only one of keepwarm's races (tsan_race_in_keepwarm): the TLS
# library is not built with it (as in tls-clients.sh).
has_report() {
	if [ -n "${TSAN_OPTIONS:-}" ]; then
		tsan_race_in_keepwarm "$@"
	else
		grep -qE "$REPORT_RE" "$@"
	fi
}

# ev NAME EVENT [REASON]: the lines of event EVENT (with that reason) in
# the trace of the run NAME. EVENT may be a regular expression (park.* tls=1).
ev() {
	grep -cE " event=$2( |\$)${3:+.* reason=$3( |\$)}" "$TMP/$1.trace" 2>/dev/null || true
}
# stat_sum NAME METRIC-REGEX: the sum of the matching series with tls="1"
# over the run's stats files.
stat_sum() {
	cat "$TMP/$1".stats* 2>/dev/null |
		awk -v re="$2" '$0 ~ re && /tls="1"/ { s += $NF } END { print s + 0 }'
}
# The events and reasons of a trace, counted, on one line.
trace_summary() {
	grep -oE 'event=[a-z]+( .* reason=[a-z0-9-]+)?' "$TMP/$1.trace" 2>/dev/null |
		sed -E 's/ .* reason=/ reason=/' | sort | uniq -c | awk '{ $1 = $1; print }' | tr '\n' '|'
}

# run NAME with|without REQUESTS [VAR=VALUE...] -- CMD...: sets RC, OUT,
# ERR, CONNS, POSTS. Waits (up to 5 s) for the server to log REQUESTS more
# requests. With keepwarm: $PRELOAD, $REUSE_ENV (none: TLS reuse is on by default), its
# trace and stats files. RUN_FILE set: a file the command writes, renamed to
# RUN_FILE.with or RUN_FILE.without after the run.
PRELOAD=$LIB
REUSE_ENV=()
run() {
	local name=$1 shim=$2 reqs=$3 before stats envs=()
	shift 3
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	before=$(log_lines)
	OUT=$TMP/$name.$shim.out
	ERR=$TMP/$name.$shim.err
	if [ "$shim" = with ]; then
		stats=$TMP/$name.stats
		case $name in *.fork.*) stats=$TMP/$name.stats.%p ;; esac
		timeout 120 env LD_PRELOAD="$PRELOAD" "${REUSE_ENV[@]}" KEEPWARM_TRACE="$TMP/$name.trace" \
			KEEPWARM_STATS="$stats" "${envs[@]}" "$@" >"$OUT" 2>"$ERR"
	else
		timeout 120 env "${envs[@]}" "$@" >"$OUT" 2>"$ERR"
	fi
	RC=$?
	if [ -n "${RUN_FILE:-}" ]; then
		rm -f "$RUN_FILE.$shim"
		[ -e "$RUN_FILE" ] && mv "$RUN_FILE" "$RUN_FILE.$shim"
	fi
	for _ in $(seq 50); do
		[ "$(log_lines)" -ge $((before + reqs)) ] && break
		sleep 0.1
	done
	CONNS=$(conns_since "$before")
	POSTS=$(posts_since "$before")
}

# pair NAME EXPECTED ok|fail REQUESTS [VAR=VALUE...] -- CMD...: without,
# then with keepwarm; one check that the program sees the same: exit 0
# (ok) or non-zero (fail) both times and the same status, stdout (EXPECTED
# when ok) and stderr byte for byte, keepwarm's trace started, no sanitizer
# report. Sets C0 and C1 (connections without and with), P0 and P1 (POST
# requests without and with), and REQS.
pair() {
	local name=$1 expected=$2 want=$3 rc0 out0 err0 why=
	REQS=$4
	shift 4
	run "$name" without "$REQS" "$@"
	rc0=$RC out0=$OUT err0=$ERR C0=$CONNS P0=$POSTS
	run "$name" with "$REQS" "$@"
	C1=$CONNS P1=$POSTS
	if [ "$want" = ok ]; then
		[ "$rc0" -eq 0 ] || why="$why exit $rc0 without keepwarm, not 0;"
		cmp -s "$out0" "$expected" || why="$why output without keepwarm not the expected sha256s;"
	else
		[ "$rc0" -ne 0 ] && [ "$rc0" -ne 124 ] || why="$why exit $rc0 without keepwarm, not a failure;"
	fi
	[ "$RC" -eq "$rc0" ] || why="$why exit $rc0 without keepwarm, $RC with;"
	cmp -s "$OUT" "$out0" || why="$why stdout differs with keepwarm;"
	cmp -s "$ERR" "$err0" || why="$why stderr differs with keepwarm;"
	grep -q 'event=start' "$TMP/$name.trace" 2>/dev/null || why="$why no keepwarm trace;"
	if has_report "$err0" "$ERR"; then why="$why sanitizer report;"; fi
	if [ -z "$why" ]; then
		if [ "$want" = ok ] && [ ! -s "$expected" ]; then
			pass "$name: exit 0, no output on stdout, stderr the same, with and without keepwarm"
		elif [ "$want" = ok ]; then
			pass "$name: exit 0 and the $(wc -l <"$out0") expected bodies, stderr the same, with and without keepwarm"
		else
			pass "$name: exit $rc0 with and without keepwarm, the same stdout ($(wc -l <"$out0") lines) and stderr ($(head -n 1 "$err0" | head -c 100))"
		fi
	else
		fail "$name:$why $(cat "$err0" "$ERR" | grep -v '^$' | head -n 4 | tr '\n' '|' | head -c 400)"
	fi
}

# The second check of a pair, what keepwarm did: expect records one
# condition (WHAT GOT =|<=|>= WANT, GOT a count); verdict NAME SUMMARY
# passes when all held, else fails with them and the trace.
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
		pass "$1: $2"
	else
		fail "$1:$why trace: $(trace_summary "$1")"
		sed -E 's/^ts=[^ ]+ //; s/ ms=[0-9.]+ request_ms=[0-9.]+//' "$TMP/$1.trace" 2>/dev/null |
			grep -v ' event=start' | head -n 40 | sed 's/^/    /'
	fi
	why=
}

# takeovers NAME CONNS0: six requests on one connection, five takeovers, no
# fresh connection; nginx saw CONNS0 without keepwarm; the stats agree.
takeovers() {
	local name=$1
	expect "connections without keepwarm" "$C0" = "$2"
	expect "connections with keepwarm" "$C1" = 1
	expect "reuse lines" "$(ev "$name" reuse)" = $((N - 1))
	expect "fresh lines" "$(ev "$name" fresh)" = 0
	expect "HTTPS requests in the stats" "$(stat_sum "$name" '^keepwarm_requests_total[{]')" = "$N"
	expect "reused connections in the stats" \
		"$(stat_sum "$name" '^keepwarm_connections_total[{].*how="reused"')" = $((N - 1))
	# The last request (Connection: close, sent as keep-alive) left its
	# connection parked at exit.
	expect "parked TLS sessions at exit (keepwarm_tls_parked)" \
		"$(cat "$TMP/$name".stats* 2>/dev/null | awk '/^keepwarm_tls_parked[{]/ { s += $NF } END { print s + 0 }')" = 1
	verdict "$name" "1 connection with keepwarm ($C0 without), $((N - 1)) takeovers, no fresh connection, the stats agree"
}

tls_name() { [ "$1" = "$PORT13" ] && echo tls13 || echo tls12; }

# ---- 1. the GnuTLS client, a session per request: every later session
# takes the first one's connection over
STYLES=(default pushpull deinit-late libcurl-like no-verify)
style_env() {
	case $1 in
	default) ;;
	pushpull) echo KW_TEST_GNUTLS_TRANSPORT=pushpull ;;
	deinit-late) echo KW_TEST_GNUTLS_TEARDOWN=deinit KW_TEST_GNUTLS_VERIFY=late ;;
	deinit) echo KW_TEST_GNUTLS_TEARDOWN=deinit ;;
	# As libcurl: push/pull functions, GNUTLS_NO_TICKETS, bye then deinit.
	libcurl-like) echo KW_TEST_GNUTLS_TRANSPORT=pushpull KW_TEST_GNUTLS_NO_TICKETS=1 ;;
	# Verification disabled: no authority, no check: taken over unverified.
	no-verify) echo KW_TEST_GNUTLS_VERIFY=none ;;
	esac
}
# positive DIR PREFIX STYLE...: case 1 for the client in DIR.
positive() {
	local dir=$1 prefix=$2 s m port name
	shift 2
	for s in "$@"; do
		for m in blocking poll epoll; do
			for port in "$PORT13" "$PORT12"; do
				name=${prefix}gnutls.$s.$m.$(tls_name "$port")
				# shellcheck disable=SC2046 # the settings and the URLs are words
				pair "$name" "$TMP/expected" ok "$N" $(style_env "$s") -- \
					"$dir/gnutls_client" --ca "$CA/ca.pem" --mode "$m" --fresh $(urls "$port")
				takeovers "$name" "$N"
			done
		done
	done
}
positive "$T" "" "${STYLES[@]}"

# ---- 2. threads (four, each a session per request) and fork (the parent's
# first request, the child's five, the parent's again): fewer connections
for m in threads fork; do
	for port in "$PORT13" "$PORT12"; do
		name=gnutls.$m.$(tls_name "$port")
		exp=$TMP/expected reqs=$N
		[ "$m" = fork ] && exp=$TMP/expected.fork reqs=$((N + 1))
		# shellcheck disable=SC2046 # the URLs are words
		pair "$name" "$exp" ok "$reqs" -- "$T/gnutls_client" --ca "$CA/ca.pem" --mode "$m" --fresh $(urls "$port")
		expect "connections without keepwarm" "$C0" = "$reqs"
		expect "connections with keepwarm" "$C1" "<=" "$C0"
		expect "reuse lines" "$(ev "$name" reuse)" ">=" 1
		expect "HTTPS requests in the stats" "$(stat_sum "$name" '^keepwarm_requests_total[{]')" = "$reqs"
		verdict "$name" "$C1 connections with keepwarm ($C0 without), $(ev "$name" reuse) takeovers, the stats count $reqs HTTPS requests"
	done
done

# ---- 3. libcurl3-gnutls, a new easy handle per URL, by address and by name
for h in 127.0.0.1 localhost; do
	for port in "$PORT13" "$PORT12"; do
		[ "$h" = localhost ] && [ "$port" = "$PORT12" ] && continue
		name=curl-gnutls.$(tls_name "$port")
		[ "$h" = localhost ] && name=$name.sni-localhost
		# shellcheck disable=SC2046 # the URLs are words
		pair "$name" "$TMP/expected" ok "$N" -- "$T/curl_client-gnutls" --ca "$CA/ca.pem" $(HOST=$h urls "$port")
		takeovers "$name" "$N"
	done
done

# ---- 4. the negative matrix: the first session verifies the server and is
# parked; the later ones (KW_TEST_SECOND_*) differ, so no takeover. The
# failures are the second session's handshake or verification: nginx logs
# the first session's request alone, with keepwarm and without.
# negative NAME PORT ok|fail FRESH-REASON FRESH-COUNT CONNS0 CONNS1
# VAR=VALUE...: FRESH-COUNT fresh lines, all with FRESH-REASON; CONNS0
# connections at nginx without keepwarm, CONNS1 with.
negative() {
	local name=$1 port=$2 want=$3 reason=$4 count=$5 conns0=$6 conns1=$7 reqs=$N
	shift 7
	[ "$want" = fail ] && reqs=1
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected" "$want" "$reqs" "$@" -- \
		"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(urls "$port")
	expect "connections without keepwarm" "$C0" = "$conns0"
	expect "connections with keepwarm" "$C1" = "$conns1"
	expect "fresh lines" "$(ev "$name" fresh)" = "$count"
	expect "fresh lines with reason=$reason" "$(ev "$name" fresh "$reason")" = "$count"
	verdict "$name" "$count fresh connection(s), reason=$reason; $conns1 connection(s) at nginx with keepwarm, $conns0 without"
}
for port in "$PORT13" "$PORT12"; do
	v=$(tls_name "$port")
	# Another SNI: its own connection, which the later sessions take over.
	negative "neg.sni.$v" "$port" ok tls-server-name 1 "$N" 2 KW_TEST_SECOND_SNI=other.example
	negative "neg.ca.$v" "$port" fail tls-verify 1 1 1 "KW_TEST_SECOND_CA=$CA/other.pem"
	negative "neg.verify-host.$v" "$port" fail tls-policy 1 1 1 KW_TEST_SECOND_VERIFY_HOST=wrong.example
	negative "neg.alpn-h2.$v" "$port" fail tls-alpn-offer 1 1 1 KW_TEST_SECOND_ALPN=h2
	# Other gnutls_init flags (GNUTLS_NO_TICKETS): its own connection.
	negative "neg.init-flags.$v" "$port" ok tls-policy 1 "$N" 2 KW_TEST_SECOND_NO_TICKETS=1
	# No TLS 1.3: refused by the TLS 1.3 listener, TLS 1.2 from the other.
	if [ "$port" = "$PORT13" ]; then
		negative "neg.prio-no-tls13.$v" "$port" fail tls-policy 1 1 1 KW_TEST_SECOND_PRIO=NORMAL:-VERS-TLS1.3
	else
		negative "neg.prio-no-tls13.$v" "$port" ok tls-policy 1 "$N" 2 KW_TEST_SECOND_PRIO=NORMAL:-VERS-TLS1.3
	fi
	# A client certificate: never taken over, never handed over.
	negative "neg.client-cert.$v" "$port" ok tls-client-auth $((N - 1)) "$N" "$N" "KW_TEST_CA=$CA/ca.pem" \
		"KW_TEST_SECOND_CLIENT_CERT=$CA/server.pem:$CA/server.key"
	# Late verification (gnutls_certificate_verify_peers3 after the
	# handshake): nothing set on the session says which host it wants, so
	# the connection is taken over, and the program's own check of the
	# kept session's real chain refuses the wrong name.
	name=neg.late.verify-host.$v
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected" fail 1 KW_TEST_GNUTLS_VERIFY=late KW_TEST_SECOND_VERIFY_HOST=wrong.example -- \
		"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(urls "$port")
	expect "connections without keepwarm" "$C0" = 1
	expect "connections with keepwarm" "$C1" = 1
	expect "reuse lines" "$(ev "$name" reuse)" = 1
	expect "fresh lines" "$(ev "$name" fresh)" = 0
	verdict "$name" "taken over, then refused by the program's own late check, as without keepwarm"
	negative "neg.late.ca.$v" "$port" fail tls-verify 1 1 1 KW_TEST_GNUTLS_VERIFY=late "KW_TEST_SECOND_CA=$CA/other.pem"
done

# ---- 5. the socket closed before the session is shut down and freed
# (KW_TEST_CLOSE_FIRST): keepwarm keeps the still open session with the
# socket at close() and parks it (the program's handle, freed after, is
# left a zombie), so it is taken over as in case 1
for port in "$PORT13" "$PORT12"; do
	name=close-first.$(tls_name "$port")
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected" ok "$N" KW_TEST_CLOSE_FIRST=1 -- \
		"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(urls "$port")
	expect "discard lines with reason=tls-not-pooled" "$(ev "$name" discard tls-not-pooled)" = 0
	takeovers "$name" "$N"
done

# ---- 6. KEEPWARM_TLS_REUSE=off: TLS followed and measured, never parked
REUSE_ENV=(KEEPWARM_TLS_REUSE=off)
for port in "$PORT13" "$PORT12"; do
	name=reuse-off.$(tls_name "$port")
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected" ok "$N" -- \
		"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(urls "$port")
	expect "connections without keepwarm" "$C0" = "$N"
	expect "connections with keepwarm" "$C1" = "$N"
	expect "park lines with tls=1" "$(ev "$name" 'park .*tls=1')" = 0
	expect "reuse lines" "$(ev "$name" reuse)" = 0
	expect "discard lines with reason=tls-not-pooled" "$(ev "$name" discard tls-not-pooled)" = $((N - 1))
	expect "HTTPS requests in the stats" "$(stat_sum "$name" '^keepwarm_requests_total[{]')" = "$N"
	expect "tls-not-pooled discards with tls=1 in keepwarm_reasons_total" \
		"$(stat_sum "$name" '^keepwarm_reasons_total[{].*event="discard",reason="tls-not-pooled"')" = $((N - 1))
	verdict "$name" "$N connections with and without keepwarm, $((N - 1)) closed as tls-not-pooled, none parked"
done
REUSE_ENV=()

# ---- 6b. KEEPWARM_DESTINATIONS denies the server: TLS passed straight
# through (no takeover, nothing parked), the program's bytes unchanged
name=dest-denied.tls13
# shellcheck disable=SC2046 # the URLs are words
pair "$name" "$TMP/expected" ok "$N" KEEPWARM_DESTINATIONS="deny 127.0.0.1:$PORT13" -- \
	"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(urls "$PORT13")
expect "connections without keepwarm" "$C0" = "$N"
expect "connections with keepwarm" "$C1" = "$N"
expect "passthrough lines with reason=dest-rule" "$(ev "$name" passthrough dest-rule)" = "$N"
expect "tls, park or reuse lines" "$(grep -cE ' event=(tls|park|reuse)( |$)' "$TMP/$name.trace")" = 0
verdict "$name" "$N connections with and without keepwarm, each passed through as dest-rule, no TLS takeover"

# ---- 7. stale: 1.5 s before every request after the first, longer than
# the server's keep-alive timeout (1 s), so every parked connection has been
# closed by the server (close_notify and FIN) when the next session wants it
name=stale.keepalive-timeout
# shellcheck disable=SC2046 # the URLs are words
pair "$name" "$TMP/expected.four" ok 4 KW_TEST_PAUSE_MS=1500 -- \
	"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(COUNT=4 urls "$PORTKA")
expect "connections without keepwarm" "$C0" = 4
expect "connections with keepwarm" "$C1" = 4
expect "reuse lines" "$(ev "$name" reuse)" = 0
expect "bytes on the client's stderr" "$(wc -c <"$TMP/$name.with.err")" = 0
expect "errors in the stats" \
	"$(awk '/^keepwarm_events_total[{].*event="errors"/ { print $NF }' "$TMP/$name.stats" 2>/dev/null)" = 0
expect "HTTPS requests in the stats" "$(stat_sum "$name" '^keepwarm_requests_total[{]')" = 4
verdict "$name" "4 requests on 4 connections with and without keepwarm, no dead connection handed back ($(ev "$name" stale) stale), 0 errors"

# ---- 8. close-style requests (--new-conn: Connection: close on each): sent
# as keep-alive, the response head restored, and the program made to read
# end-of-file where the response ends; the connection is parked and the next
# session takes it over
for s in default pushpull deinit; do
	for m in blocking poll epoll; do
		for port in "$PORT13" "$PORT12"; do
			name=close.gnutls.$s.$m.$(tls_name "$port")
			# shellcheck disable=SC2046 # the settings and the URLs are words
			pair "$name" "$TMP/expected" ok "$N" $(style_env "$s") -- \
				"$T/gnutls_client" --ca "$CA/ca.pem" --mode "$m" --new-conn $(urls "$port")
			expect "connections without keepwarm" "$C0" = "$N"
			expect "connections with keepwarm" "$C1" = 1
			expect "upgrade lines" "$(ev "$name" upgrade)" = "$N"
			expect "upgrade lines with reason=close-removed" "$(ev "$name" upgrade close-removed)" = "$N"
			expect "eof lines with reason=response-complete" "$(ev "$name" eof response-complete)" = "$N"
			expect "reuse lines" "$(ev "$name" reuse)" = $((N - 1))
			verdict "$name" "1 connection with keepwarm ($C0 without), $N requests upgraded (close-removed), $N end-of-file at the response's end, $((N - 1)) takeovers"
		done
	done
done

# ---- 9. the safe policy: a POST is never sent on a connection taken over
# (the server may have closed it as the request left: a POST is not
# replayed); the session gets a fresh connection instead, every POST reaches
# nginx once
for ((i = 0; i < N; i++)); do sha256sum <"$TMP/posted" | cut -d' ' -f1; done >"$TMP/expected.post"
for port in "$PORT13" "$PORT12"; do
	name=post.fresh.$(tls_name "$port")
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected.post" ok "$N" KW_TEST_POST=1 -- \
		"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh \
		$(for ((i = 0; i < N; i++)); do echo "https://127.0.0.1:$port/post?i=$i"; done)
	expect "connections without keepwarm" "$C0" = "$N"
	expect "connections with keepwarm" "$C1" = "$N"
	expect "fresh lines with reason=request-not-replayable" "$(ev "$name" fresh request-not-replayable)" = $((N - 1))
	expect "POST lines at nginx without keepwarm" "$P0" = "$N"
	expect "POST lines at nginx with keepwarm" "$P1" = "$N"
	verdict "$name" "$N connections with and without keepwarm, $((N - 1)) fresh (request-not-replayable), each of the $N POSTs once at nginx"
done

# ---- 10. our own server, which sends TLS records while a connection is
# idle. start_tls_server NAME OPTION...: tls_server with the test CA's
# certificate on $TMP/www; sets TSRV_PORT, its access log $TMP/NAME.access.
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
# Session tickets and key updates after every response (TLS 1.3), 300 ms
# before each next request: the parked connection's session reads them, the
# connection is taken over all the same.
if start_tls_server tsrv-idle --idle-ticket --idle-key-update; then
	ACCESS_LOG=$TMP/tsrv-idle.access
	name=idle-records.ticket-key-update
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected.four" ok 4 KW_TEST_PAUSE_MS=300 -- \
		"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(COUNT=4 urls "$TSRV_PORT")
	expect "connections without keepwarm" "$C0" = 4
	expect "connections with keepwarm" "$C1" = 1
	expect "reuse lines" "$(ev "$name" reuse)" = 3
	expect "stale lines" "$(ev "$name" stale)" = 0
	verdict "$name" "1 connection with keepwarm ($C0 without), 3 takeovers after tickets and key updates, none stale"
	ACCESS_LOG=$NGINX_ACCESS
fi
# close_notify and close after 200 ms idle, 400 ms before each next
# request: every parked connection is stale when wanted.
if start_tls_server tsrv-close --idle-close-notify 200; then
	ACCESS_LOG=$TMP/tsrv-close.access
	name=idle-records.close-notify
	# shellcheck disable=SC2046 # the URLs are words
	pair "$name" "$TMP/expected.four" ok 4 KW_TEST_PAUSE_MS=400 -- \
		"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(COUNT=4 urls "$TSRV_PORT")
	expect "connections without keepwarm" "$C0" = 4
	expect "connections with keepwarm" "$C1" = 4
	expect "stale lines" "$(ev "$name" stale)" = 3
	expect "reuse lines" "$(ev "$name" reuse)" = 0
	verdict "$name" "4 connections with and without keepwarm, 3 closed by the server while parked (stale), none handed to the program"
	ACCESS_LOG=$NGINX_ACCESS
fi
# Session tickets and key updates before every response (TLS 1.3): the
# program's session that took a parked one over meets them while it reads;
# its keylog function, alert function and handshake hook (set on its own
# handle) are called by keepwarm's trampolines with that handle, never with
# the parked one (the client says so on stderr otherwise).
if start_tls_server tsrv-first --idle-ticket --idle-key-update --records-first; then
	ACCESS_LOG=$TMP/tsrv-first.access
	for s in default pushpull; do
		name=callbacks.$s
		rm -f "$TMP/$name.callbacks"
		# shellcheck disable=SC2046 # the settings and the URLs are words
		pair "$name" "$TMP/expected.four" ok 4 $(style_env "$s") KW_TEST_GNUTLS_CALLBACKS=1 \
			KW_TEST_GNUTLS_CALLBACKS_LOG="$TMP/$name.callbacks" -- \
			"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(COUNT=4 urls "$TSRV_PORT")
		hooks=$(grep -c 'handshake hook' "$TMP/$name.callbacks" 2>/dev/null || true)
		expect "connections with keepwarm" "$C1" = 1
		expect "reuse lines" "$(ev "$name" reuse)" = 3
		expect "handshake hook calls over both runs" "${hooks:-0}" ">=" 1
		verdict "$name" "3 takeovers; the program's callbacks called with its own handles ($hooks hook calls over both runs)"
	done
	ACCESS_LOG=$NGINX_ACCESS
fi
# The connection closed when its second request comes (close_notify, no
# answer: as a server whose idle timeout passed just then): every request
# on a taken-over session fails before any response byte and is sent once
# more, after the session's own handshake on a fresh connection (replay);
# without keepwarm no connection carries a second request.
if start_tls_server tsrv-drop --drop-request 2; then
	ACCESS_LOG=$TMP/tsrv-drop.access
	for m in blocking poll epoll; do
		for s in default pushpull; do
			name=replay.$m.$s
			before=$(grep -c ' 0$' "$ACCESS_LOG")
			# shellcheck disable=SC2046 # the URLs are words
			pair "$name" "$TMP/expected.four" ok 4 $(style_env "$s") -- \
				"$T/gnutls_client" --ca "$CA/ca.pem" --mode "$m" --fresh $(COUNT=4 urls "$TSRV_PORT")
			drops=$(($(grep -c ' 0$' "$ACCESS_LOG") - before))
			expect "connections without keepwarm" "$C0" = 4
			expect "connections with keepwarm" "$C1" = 4
			expect "requests the server dropped" "$drops" = 3
			expect "reuse lines" "$(ev "$name" reuse)" = 3
			expect "replay lines" "$(ev "$name" replay)" = 3
			verdict "$name" "3 takeovers, each request dropped by the server and replayed on a fresh connection, the program none the wiser"
		done
	done
	ACCESS_LOG=$NGINX_ACCESS
fi
stop_tls_servers

# ---- 11. stale races: RACE_N requests, a connection per request, to the
# server that closes idle connections after 3 ms: a parked connection may be
# closed before, while or after the next session wants it. GETs of the 1 KiB
# file, then POSTs. Which of reuse, stale, replay and fresh happen depends
# on timing; the program's output and the POSTs at nginx must not.
# The client sets TCP_NODELAY (KW_TEST_NODELAY): else each new TLS 1.3
# connection to nginx costs it some 44 ms, its request held back by Nagle's
# algorithm until nginx's delayed ACK of its Finished.
RACE_N=1000
for ((i = 0; i < RACE_N; i++)); do sha256sum <"$TMP/www/1k.bin" | cut -d' ' -f1; done >"$TMP/expected.race"
for ((i = 0; i < RACE_N; i++)); do sha256sum <"$TMP/posted" | cut -d' ' -f1; done >"$TMP/expected.race-post"
race_urls() { for ((i = 0; i < RACE_N; i++)); do echo "https://127.0.0.1:$PORTRACE/$1?i=$i"; done; }
race_events() {
	echo "$(ev "$1" reuse) reuse, $(ev "$1" stale) stale, $(ev "$1" replay) replay, $(ev "$1" fresh) fresh"
}
name=race.get
# shellcheck disable=SC2046 # the URLs are words
pair "$name" "$TMP/expected.race" ok "$RACE_N" KW_TEST_NODELAY=1 -- \
	"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(race_urls 1k.bin)
expect "reuse and stale lines" $(($(ev "$name" reuse) + $(ev "$name" stale))) ">=" 1
verdict "$name" "$RACE_N GETs: $(race_events "$name"); connections at nginx: $C1 with keepwarm, $C0 without"
name=race.post
# shellcheck disable=SC2046 # the URLs are words
pair "$name" "$TMP/expected.race-post" ok "$RACE_N" KW_TEST_POST=1 KW_TEST_NODELAY=1 -- \
	"$T/gnutls_client" --ca "$CA/ca.pem" --mode blocking --fresh $(race_urls post)
expect "reuse and stale lines" $(($(ev "$name" reuse) + $(ev "$name" stale))) ">=" 1
expect "POST lines at nginx without keepwarm" "$P0" = "$RACE_N"
expect "POST lines at nginx with keepwarm" "$P1" = "$RACE_N"
verdict "$name" "$RACE_N POSTs, each once at nginx: $(race_events "$name"); connections at nginx: $C1 with keepwarm, $C0 without"

# ---- 12. wget -i, the URLs alternating between the TLS 1.3 and TLS 1.2
# ports (by name): wget closes its connection whenever the port changes;
# keepwarm parks each and hands it to the next session to that port
for ((i = 0; i < N; i++)); do
	port=$PORT13
	((i % 2)) && port=$PORT12
	echo "https://localhost:$port/1k.bin?i=$i"
done >"$TMP/wget.list"
for ((i = 0; i < N; i++)); do cat "$TMP/www/1k.bin"; done >"$TMP/expected.wget-file"
: >"$TMP/empty"
if [ -x /usr/bin/wget ]; then
	name=wget-i.alternating
	RUN_FILE=$TMP/wget.file pair "$name" "$TMP/empty" ok "$N" -- \
		/usr/bin/wget -q "--ca-certificate=$CA/ca.pem" -O "$TMP/wget.file" -i "$TMP/wget.list"
	cmp -s "$TMP/wget.file.without" "$TMP/expected.wget-file" ||
		why="$why the file written without keepwarm not the $N bodies;"
	cmp -s "$TMP/wget.file.with" "$TMP/wget.file.without" ||
		why="$why the file written with keepwarm differs;"
	expect "connections without keepwarm" "$C0" = "$N"
	expect "connections with keepwarm" "$C1" = 2
	expect "reuse lines" "$(ev "$name" reuse)" ">=" 1
	verdict "$name" "the same $(wc -c <"$TMP/wget.file.without")-byte file both ways; 2 connections with keepwarm ($C0 without), $(ev "$name" reuse) takeovers"
else
	fail "prerequisite /usr/bin/wget present"
fi

# ---- 13. case 1's default style with the client built with ASan and UBSan,
# the runtime first in LD_PRELOAD (before keepwarm)
if setup "make tls-asan: the GnuTLS client with -fsanitize=address,undefined" \
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -C "$ROOT" -j2 BUILD="$BUILD_DIR" tls-asan &&
	[ -x "$T/asan/gnutls_client" ]; then
	PRELOAD="$(gcc -print-file-name=libasan.so) $LIB"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	positive "$T/asan" asan- default
	unset ASAN_OPTIONS UBSAN_OPTIONS
	PRELOAD=$LIB
fi

# ---- 14. threads under ThreadSanitizer, keepwarm built with it too: no
# data race reported in keepwarm's code (the session table, takeovers,
# parking, routing), a session per request and close-style requests
if setup "make tls-tsan: the GnuTLS client and keepwarm with -fsanitize=thread" \
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -C "$ROOT" -j2 BUILD="$BUILD_DIR" tls-tsan &&
	[ -x "$T/tsan/gnutls_client" ]; then
	PRELOAD=$BUILD_DIR/tsan/libkeepwarm.so
	export TSAN_OPTIONS="halt_on_error=0 exitcode=0"
	for how in --fresh --new-conn; do
		name=tsan-gnutls.threads$how
		# shellcheck disable=SC2046 # the URLs are words
		pair "$name" "$TMP/expected" ok "$N" -- \
			"$T/tsan/gnutls_client" --ca "$CA/ca.pem" --mode threads "$how" $(urls "$PORT13")
		expect "reuse lines" "$(ev "$name" reuse)" ">=" 1
		verdict "$name" "$(ev "$name" reuse) takeovers, no race reported in keepwarm"
	done
	unset TSAN_OPTIONS
	PRELOAD=$LIB
fi

if nginx_errors "$TMP/nginx.errors"; then
	fail "nginx error log: $(head -n 3 "$TMP/nginx.errors")"
else
	pass "nginx's error log has no errors"
fi
echo "    | ${SECONDS}s"
finish
