#!/usr/bin/env bash
# suite.sh BUILD_DIR [NAME...] - the compatibility suite: real programs from
# Debian (and our fortified C client) against Debian's nginx, each in its
# usual one-request-per-call idiom, once without and once with
# LD_PRELOAD=BUILD_DIR/libkeepwarm.so. Eight of them speak HTTPS to the same
# nginx, whose servers each have a TLS twin with a certificate from a private
# CA made at start (tests/common/tlsca.sh), trusting only that CA: on GnuTLS
# curl-gnutls (our libcurl3-gnutls client, BUILD_DIR/tls/curl_client-gnutls)
# and wget-list-https; on the system OpenSSL curl-openssl (the same client
# on libcurl4, BUILD_DIR/tls/curl_client-openssl), py-urllib-https (urlopen
# per request, Connection: close, with create_default_context(cafile=CA)),
# py-httpclient-https (a new HTTPSConnection per request, the same context),
# py-requests-https (requests.get(verify=CA) per request),
# pl-httptiny-https (a new HTTP::Tiny per request, IO::Socket::SSL) and
# rb-nethttp-https (Net::HTTP.get_response & co., SSL_CERT_FILE=CA). Their
# "with" arm also sets KEEPWARM_TLS_REUSE=on.
#
# For every program x response (NAME... keeps only the programs and responses
# named, for debugging):
#   - every program process exits with the same status in both arms, the one
#     expected.tsv expects (0 unless noted);
#   - the output is byte-identical in both arms (sha256, after drive.sh
#     normalize drops Date headers and timings; expected.tsv may allow the
#     documented Connection header change only) and, where the program
#     prints what it received, equal to what nginx serves;
#   - nginx's access log shows every request of the run, as many distinct
#     $connection values as expected.tsv says without and with the shim, and
#     $connection_requests running 1, 2, ... on each connection;
#   - nginx's error log has no [error]/[crit]/[alert]/[emerg] line for it;
#   - with the shim, every process's trace starts with event=start arm=on
#     (the library really was loaded).
# Prints the matrix as a table, a PASS/FAIL line per cell, and
# "N passed, M failed"; exits 1 on any failure.
#
# Programs and responses are listed below; drive.sh runs them, expected.tsv
# holds the expected connection counts (and what is still to win).
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [PROGRAM|RESPONSE...]" >&2; exit 2; }
BUILD_DIR=$(cd "$1" && pwd) || exit 2
shift
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVE=$HERE/drive.sh
EXPECTED=$HERE/expected.tsv
PY=/usr/bin/python3

PROGRAMS=(curl-loop curl-multi wget-loop wget-list py-urllib py-httpclient py-requests
	ab ab-k fortified rb-nethttp pl-lwp pl-httptiny php-fgc php-curl aria2c lynx w3m
	curl-gnutls wget-list-https
	curl-openssl py-urllib-https py-httpclient-https py-requests-https pl-httptiny-https
	rb-nethttp-https)
RESPONSES=(1k 1m chunked 204 304 head post close ka-timeout)

# A clean environment: no inherited shim settings, no proxies.
for v in $(compgen -e); do
	case "$v" in KEEPWARM*) unset "$v" ;; esac
done
unset LD_PRELOAD http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY ftp_proxy
export no_proxy='*' NO_PROXY='*' LC_ALL=C PYTHONDONTWRITEBYTECODE=1
export KWC_N=20
export KWC_LIB=$BUILD_DIR/libkeepwarm.so
export KWC_FORTIFIED=$BUILD_DIR/clients/fortified
export KWC_CURL_GNUTLS=$BUILD_DIR/tls/curl_client-gnutls
export KWC_CURL_OPENSSL=$BUILD_DIR/tls/curl_client-openssl
export KWC_PROC_TIMEOUT=30          # seconds, per program process
export KWC_IMS='Wed, 01 Jan 2020 00:00:00 GMT'   # the served files' mtime
ARM_TIMEOUT=120                     # seconds, per arm (all its processes)
LOG_WAIT=50                         # tenths of a second to wait for log lines

passed=0
failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] || exit 1
	exit 0
}

TMP=$(mktemp -d /tmp/kw-compat.XXXXXX)
export KWC_TMP=$TMP
# Keep the programs away from the user's configuration files.
mkdir "$TMP/home"
export HOME=$TMP/home CURL_HOME=$TMP/home
# shellcheck source=../common/nginx.sh
. "$HERE/../common/nginx.sh"
# shellcheck source=../common/tlsca.sh
. "$HERE/../common/tlsca.sh"
cleanup() {
	nginx_stop
	if [ -n "${KW_COMPAT_KEEP:-}" ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() { # indent the last lines of a file, for diagnostics
	[ -s "$1" ] && tail -n "${2:-10}" "$1" | sed 's/^/    /'
	return 0
}

# ---------------------------------------------------------------- selection
if [ $# -gt 0 ]; then
	sel_p=() sel_r=()
	for name in "$@"; do
		found=0
		for p in "${PROGRAMS[@]}"; do [ "$p" = "$name" ] && sel_p+=("$p") && found=1; done
		for r in "${RESPONSES[@]}"; do [ "$r" = "$name" ] && sel_r+=("$r") && found=1; done
		[ "$found" = 1 ] || { echo "unknown program or response: $name" >&2; exit 2; }
	done
	[ ${#sel_p[@]} -gt 0 ] && PROGRAMS=("${sel_p[@]}")
	[ ${#sel_r[@]} -gt 0 ] && RESPONSES=("${sel_r[@]}")
fi

# ---------------------------------------------------------------- prerequisites
prereq_ok=1
for f in "$NGINX" "$PY" "$KWC_LIB" "$KWC_FORTIFIED" "$KWC_CURL_GNUTLS" "$KWC_CURL_OPENSSL"; do
	[ -x "$f" ] || [ -f "$f" ] || { fail "prerequisite $f present"; prereq_ok=0; }
done
for c in curl wget ab ruby perl php aria2c lynx w3m timeout sha256sum openssl; do
	command -v "$c" >/dev/null 2>&1 || { fail "prerequisite $c installed"; prereq_ok=0; }
done
"$PY" -c 'import requests' 2>/dev/null || { fail "prerequisite python3-requests"; prereq_ok=0; }
perl -MLWP::UserAgent -e 1 2>/dev/null || { fail "prerequisite libwww-perl"; prereq_ok=0; }
perl -MIO::Socket::SSL -e 1 2>/dev/null || { fail "prerequisite libio-socket-ssl-perl"; prereq_ok=0; }
ruby -ropenssl -e 1 2>/dev/null || { fail "prerequisite ruby openssl"; prereq_ok=0; }
[ "$prereq_ok" = 1 ] || finish

# ---------------------------------------------------------------- docroot
# Bodies are the bytes of tests/common/pattern.h (so the fortified client can
# check them itself); the files' mtime is KWC_IMS, for the 304.
mkdir -p "$TMP/www/gen" "$TMP/bodies"
"$PY" - "$TMP/www/gen" <<'EOF'
import sys
A = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
for n in (1024, 1048576):
    with open("%s/%d" % (sys.argv[1], n), "w") as f:
        f.write("".join(A[(i * 7 + n + i // 61) % 62] for i in range(n)))
EOF
touch -d "$KWC_IMS" "$TMP/www/gen/1024" "$TMP/www/gen/1048576"
export KWC_BODIES=$TMP/bodies KWC_POST_FILE=$TMP/www/gen/1024
cp "$TMP/www/gen/1024" "$KWC_BODIES/1k"
cp "$TMP/www/gen/1048576" "$KWC_BODIES/1m"
: >"$KWC_BODIES/empty"
echo "received 1024 bytes" >"$KWC_BODIES/post"

ACCESS=$TMP/logs/access.log # nginx_start's NGINX_ACCESS and NGINX_ERRLOG
ERRLOG=$TMP/logs/error.log

# ---------------------------------------------------------------- the CA
# For the HTTPS servers: a private CA and a certificate for 127.0.0.1 it
# signed (tlsca.sh: $CA/ca.pem, $CA/server.pem, $CA/server.key).
CA=$TMP/ca
if ! make_test_ca "$CA"; then
	fail "a private CA and a server certificate (openssl)"
	show "$CA/openssl.out" 20
	finish
fi
export KWC_CA=$CA/ca.pem

# ---------------------------------------------------------------- nginx
# Three servers: main (the files, 204, 304, POST, and /close/ with
# keepalive_timeout 0: "Connection: close", then the server closes), gz (gzip
# on and SSI, so every response is chunked, gzip-compressed when asked for)
# and ka (keepalive_timeout 1s). Each has a TLS twin on a port of its own
# with the same directives (tlsca.sh tls_server: nginx's default protocols),
# for the HTTPS programs.
main_directives() {
	cat <<EOF
		location = /status/204 { return 204; }
		location = /status/304 { return 304; }
		location = /post {
			add_header X-Body-Length \$content_length always;
			return 200 "received \$content_length bytes\n";
		}
		location /close/ {
			alias $TMP/www/gen/;
			keepalive_timeout 0;
		}
EOF
}
gz_directives() {
	cat <<EOF
		gzip on;
		gzip_types text/plain;
		gzip_min_length 0;
		ssi on;
		ssi_types text/plain;
EOF
}
ka_directives() {
	echo "		keepalive_timeout 1s;"
}
nginx_servers() { # MAIN GZ KA MAIN_TLS GZ_TLS KA_TLS
	cat <<EOF
	default_type text/plain;
	server {
		listen 127.0.0.1:$1;
		server_name main;
		root $TMP/www;
$(main_directives)
	}
	server {
		listen 127.0.0.1:$2;
		server_name gz;
		root $TMP/www;
$(gz_directives)
	}
	server {
		listen 127.0.0.1:$3;
		server_name ka;
		root $TMP/www;
$(ka_directives)
	}
EOF
	tls_server "$4" "" "" "$(main_directives)"
	tls_server "$5" "" "" "$(gz_directives)"
	tls_server "$6" "" "" "$(ka_directives)"
}
if ! nginx_start "$TMP" 6; then
	fail "nginx starts on 127.0.0.1"
	show "$TMP/nginx.out" 20
	finish
fi
read -r p1 p2 p3 p4 p5 p6 <<<"$NGINX_PORTS"
export KWC_PORT_MAIN=$p1 KWC_PORT_GZ=$p2 KWC_PORT_KA=$p3
export KWC_PORT_MAIN_TLS=$p4 KWC_PORT_GZ_TLS=$p5 KWC_PORT_KA_TLS=$p6
echo "setup: nginx on 127.0.0.1 ports $NGINX_PORTS (pid $NGINX_PID; the last three TLS)"

# ---------------------------------------------------------------- expectations
# expected.tsv: "program response without with goal exit output note" (see
# its header).
declare -A EXP
while read -r prog resp wo wi goal ex outmode note; do
	case "$prog" in ''|'#'*) continue ;; esac
	EXP["$prog|$resp"]="$wo $wi $goal $ex $outmode"
	EXP["$prog|$resp|note"]=$note
done <"$EXPECTED"

# The lines that apply to a cell, most specific first.
cell_keys() { # PROGRAM RESPONSE
	local key
	for key in "$1|$2" "*|$2" "$1|*"; do
		[ -n "${EXP[$key]+x}" ] && echo "$key"
	done
	return 0
}
lookup() { # PROGRAM RESPONSE COLUMN(0-4: without with goal exit output) -> value
	local key v keys
	mapfile -t keys < <(cell_keys "$1" "$2")
	for key in "${keys[@]}"; do
		read -ra v <<<"${EXP[$key]}"
		if [ "${v[$3]}" != - ]; then echo "${v[$3]}"; return 0; fi
	done
	echo "?"
}
note_of() { # PROGRAM RESPONSE -> the note of the line that gave "with"
	local key v keys
	mapfile -t keys < <(cell_keys "$1" "$2")
	for key in "${keys[@]}"; do
		read -ra v <<<"${EXP[$key]}"
		if [ "${v[1]}" != - ]; then echo "${EXP[$key|note]}"; return 0; fi
	done
}

# Expected counts are written with letters, resolved per cell from its shape:
#   N  one connection per request
#   P  one per program process
#   R  one per process, plus one after each in-process pause longer than the
#      server's keep-alive timeout (reuse of what the shim can follow)
#   G  one, plus one after each long pause (reuse across processes too: the
#      cross-process broker's goal)
resolve() { # TOKEN REQUESTS PROCESSES LONG INPROC_LONG
	case "$1" in
	N) echo "$2" ;;
	P) echo "$3" ;;
	R) echo $(($3 + $5)) ;;
	G) echo $((1 + $4)) ;;
	[0-9]*) echo "$1" ;;
	*) echo "?" ;;
	esac
}

# ---------------------------------------------------------------- running
log_lines_for() { # TAG -> the access-log lines of that run
	grep -E "[?&]run=${1}[& ]" "$ACCESS" 2>/dev/null || true
}

# run_arm PROGRAM RESPONSE ARM REQUESTS -> sets A_RC A_OUT A_REQS A_CONNS A_SEQ
# A_ERRS A_STARTS
run_arm() {
	local prog=$1 resp=$2 arm=$3 want=$4 tag="${1}_${2}_${3}" got
	local out=$TMP/out.$tag st=$TMP/status.$tag
	: >"$st"
	timeout -k 5 "$ARM_TIMEOUT" "$DRIVE" run "$prog" "$resp" "$arm" "$tag" "$st" \
		>"$out" 2>"$TMP/err.$tag" </dev/null
	local drc=$?
	[ "$drc" -eq 124 ] || [ "$drc" -eq 137 ] && echo "timeout" >>"$st"
	# nginx logs a request once its response is sent; wait (bounded) for all.
	for _ in $(seq "$LOG_WAIT"); do
		got=$(log_lines_for "$tag" | wc -l)
		[ "$got" -ge "$want" ] && break
		sleep 0.1
	done
	log_lines_for "$tag" >"$TMP/access.$tag"
	A_RC=$(tr '\n' ' ' <"$st" | sed 's/ $//')
	A_OUT=$out
	A_REQS=$(wc -l <"$TMP/access.$tag")
	A_CONNS=$(cut -d' ' -f1 "$TMP/access.$tag" | sort -u | wc -l)
	# On each connection, $connection_requests must run 1, 2, ... k: every
	# request it carried belongs to this run and was logged.
	A_SEQ=$(awk '{ n[$1]++; if ($2 != n[$1]) bad++ } END { print bad + 0 }' "$TMP/access.$tag")
	A_ERRS=$(grep -E '\[(error|crit|alert|emerg)\]' "$ERRLOG" | grep -cE "[?&]run=${tag}[& ]")
	# With the shim, each process's trace starts with "event=start arm=on"
	# (a library that cannot be loaded is skipped by ld.so with a warning).
	A_STARTS=$(grep -c 'event=start arm=on' "$TMP/trace.$tag" 2>/dev/null)
}

# "0 0 0 0" -> "0 x4"; mixed lists are shown as they are.
rc_summary() {
	local first=${1%% *} n
	n=$(wc -w <<<"$1")
	if [ "$n" -gt 1 ] && [ -z "$(tr ' ' '\n' <<<"$1" | grep -vx -- "$first")" ]; then
		echo "$first x$n"
	else
		echo "$1"
	fi
}

ROWS=()
GOALS_OPEN=()      # "program: note" for the cells whose goal is below "with"
cell() { # PROGRAM RESPONSE
	local prog=$1 resp=$2 shape reqs procs long inlong
	shape=$("$DRIVE" shape "$prog" "$resp")
	if [ "${shape%% *}" = n/a ]; then
		ROWS+=("$prog|$resp|-|-|-|-|n/a: ${shape#n/a }")
		return
	fi
	read -r reqs procs long inlong <<<"$shape"
	if ! [[ "$reqs $procs $long $inlong" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]]; then
		fail "$prog $resp: drive.sh shape said '$shape'"
		ROWS+=("$prog|$resp|-|-|-|-|FAIL")
		return
	fi
	local t_wo t_wi t_goal ex outmode e_wo e_wi e_goal
	t_wo=$(lookup "$prog" "$resp" 0)
	t_wi=$(lookup "$prog" "$resp" 1)
	t_goal=$(lookup "$prog" "$resp" 2)
	ex=$(lookup "$prog" "$resp" 3)
	outmode=$(lookup "$prog" "$resp" 4)
	e_wo=$(resolve "$t_wo" "$reqs" "$procs" "$long" "$inlong")
	e_wi=$(resolve "$t_wi" "$reqs" "$procs" "$long" "$inlong")
	e_goal=$(resolve "$t_goal" "$reqs" "$procs" "$long" "$inlong")

	run_arm "$prog" "$resp" without "$reqs"
	local rc_wo=$A_RC out_wo=$A_OUT reqs_wo=$A_REQS c_wo=$A_CONNS errs_wo=$A_ERRS seq_wo=$A_SEQ
	run_arm "$prog" "$resp" with "$reqs"
	local rc_wi=$A_RC out_wi=$A_OUT reqs_wi=$A_REQS c_wi=$A_CONNS errs_wi=$A_ERRS seq_wi=$A_SEQ
	local starts=$A_STARTS

	local why=() want_rc s n_wo n_wi sha_exp
	[ "${starts:-0}" -ge "$procs" ] ||
		why+=("the shim started in ${starts:-0} of $procs processes (trace event=start arm=on)")
	# Exit statuses: one per process, all as expected, and the same in both arms.
	want_rc=$(for ((s = 0; s < procs; s++)); do printf '%s ' "$ex"; done | sed 's/ $//')
	[ "$rc_wo" = "$rc_wi" ] ||
		why+=("exit status differs: without [$(rc_summary "$rc_wo")], with [$(rc_summary "$rc_wi")]")
	[ "$rc_wo" = "$want_rc" ] ||
		why+=("exit status without [$(rc_summary "$rc_wo")], expected $ex per process")
	# Output: identical (normalized) in both arms, and as served where known.
	[ "$outmode" = "=" ] || why+=("unknown output mode '$outmode' in expected.tsv (only = exists)")
	n_wo=$("$DRIVE" normalize "$prog" "${prog}_${resp}_without" <"$out_wo" | sha256sum | cut -c1-64)
	n_wi=$("$DRIVE" normalize "$prog" "${prog}_${resp}_with" <"$out_wi" | sha256sum | cut -c1-64)
	[ "$n_wo" = "$n_wi" ] || why+=("output differs: sha256 ${n_wo:0:12} without, ${n_wi:0:12} with")
	if sha_exp=$("$DRIVE" expect "$prog" "$resp" | sha256sum | cut -c1-64); then
		[ "$(sha256sum <"$out_wo" | cut -c1-64)" = "$sha_exp" ] ||
			why+=("output without differs from the served content")
		[ "$(sha256sum <"$out_wi" | cut -c1-64)" = "$sha_exp" ] ||
			why+=("output with differs from the served content")
	fi
	# nginx saw every request; connections as expected.
	[ "$reqs_wo" -eq "$reqs" ] || why+=("nginx logged $reqs_wo requests without (want $reqs)")
	[ "$reqs_wi" -eq "$reqs" ] || why+=("nginx logged $reqs_wi requests with (want $reqs)")
	[ "$seq_wo" -eq 0 ] || why+=("\$connection_requests out of sequence on $seq_wo lines without")
	[ "$seq_wi" -eq 0 ] || why+=("\$connection_requests out of sequence on $seq_wi lines with")
	[ "$c_wo" = "$e_wo" ] || why+=("$c_wo connections without (want $e_wo)")
	[ "$c_wi" = "$e_wi" ] || why+=("$c_wi connections with (want $e_wi)")
	[ "$errs_wo" -eq 0 ] || why+=("$errs_wo nginx error-log lines without")
	[ "$errs_wi" -eq 0 ] || why+=("$errs_wi nginx error-log lines with")

	local result goal_s=$e_goal
	if [ ${#why[@]} -eq 0 ]; then
		result=ok
		pass "$prog $resp: exit $(rc_summary "$rc_wi"), output identical, connections $c_wo without, $c_wi with"
	else
		result=FAIL
		fail "$prog $resp: $(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"
		if [ "$n_wo" != "$n_wi" ]; then
			echo "    diff of the outputs (without <, with >), lines cut at 120 characters:"
			diff <("$DRIVE" normalize "$prog" "${prog}_${resp}_without" <"$out_wo" | cut -c1-120) \
			     <("$DRIVE" normalize "$prog" "${prog}_${resp}_with" <"$out_wi" | cut -c1-120) |
				head -n 8 | sed 's/^/    /'
		fi
		show "$TMP/err.${prog}_${resp}_without" 5
		show "$TMP/err.${prog}_${resp}_with" 5
		[ -f "$TMP/trace.${prog}_${resp}_with" ] && show "$TMP/trace.${prog}_${resp}_with" 8
	fi
	if [ "$e_goal" != "?" ] && [ "$e_wi" != "?" ] && [ "$e_goal" -lt "$e_wi" ]; then
		goal_s="$e_goal *"
		local g x dup=0
		g="$prog: $(note_of "$prog" "$resp")"
		for x in "${GOALS_OPEN[@]}"; do [ "$x" = "$g" ] && dup=1; done
		[ "$dup" = 1 ] || GOALS_OPEN+=("$g")
	fi
	ROWS+=("$prog|$resp|$c_wo|$c_wi|$e_wo/$e_wi|$goal_s|$result")
}

START=$(date +%s)
for prog in "${PROGRAMS[@]}"; do
	for resp in "${RESPONSES[@]}"; do
		cell "$prog" "$resp"
	done
done
ELAPSED=$(($(date +%s) - START))

# nginx's error log as a whole (lines that name no run, e.g. per connection).
if nginx_errors "$TMP/errlines"; then
	fail "nginx error log has no [error]/[crit]/[alert]/[emerg] lines"
	show "$TMP/errlines" 10
else
	pass "nginx error log has no [error]/[crit]/[alert]/[emerg] lines"
fi

# ---------------------------------------------------------------- the matrix
echo
echo "Compatibility matrix: $KWC_N requests per program and response; connections"
echo "counted in nginx's access log (distinct \$connection) without and with the shim."
{
	echo "program|response|conns without|conns with|expected without/with|goal with|result"
	printf '%s\n' "${ROWS[@]}"
} | awk -F'|' '
	{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = NF }
	END {
		for (r = 1; r <= n; r++) {
			line = ""
			for (i = 1; i <= nf; i++) {
				fmt = (i <= 2 || i == nf) ? "%-" w[i] "s" : "%" w[i] "s"
				line = line (i > 1 ? "  " : "") sprintf(fmt, cell[r, i])
			}
			sub(/ +$/, "", line); print line
			if (r == 1) { s = ""; for (i = 1; i <= nf; i++) { t = ""; for (k = 0; k < w[i]; k++) t = t "-"; s = s (i > 1 ? "  " : "") t } print s }
		}
	}'
if [ ${#GOALS_OPEN[@]} -gt 0 ]; then
	echo
	echo "* still to win (goal below what the shim does today):"
	printf '  %s\n' "${GOALS_OPEN[@]}"
fi
echo
echo "compat suite: ${ELAPSED}s for ${#PROGRAMS[@]} programs x ${#RESPONSES[@]} responses"
finish
