#!/usr/bin/env bash
# drive.sh - run one program of the compatibility suite in its usual idiom.
#
#   drive.sh run PROGRAM RESPONSE ARM TAG STATUS_FILE
#       Makes the N requests of RESPONSE with PROGRAM, as PROGRAM is usually
#       used; ARM is "without" or "with" (LD_PRELOAD of the shim, on the
#       program only). The program's output goes to stdout; the exit status of
#       every program process is appended to STATUS_FILE, one per line.
#       Request URLs carry "run=TAG" in their query so that the suite can find
#       this run's lines in nginx's access log.
#   drive.sh shape PROGRAM RESPONSE
#       Prints "REQUESTS PROCESSES LONG_PAUSES IN_PROCESS_LONG_PAUSES", or
#       "n/a REASON" when PROGRAM cannot make that request.
#   drive.sh expect PROGRAM RESPONSE
#       Prints what PROGRAM's output must be, byte for byte, or exits 1 when
#       the output is only compared between the arms (headers, reports).
#   drive.sh normalize PROGRAM TAG
#       Filter (stdin to stdout) applied to the output of both arms before
#       they are compared: drops Date headers and timings, hides the run tag.
#
# Settings come from the environment, exported by suite.sh: KWC_N, KWC_LIB,
# KWC_TMP, KWC_PORT_MAIN, KWC_PORT_GZ, KWC_PORT_KA, KWC_IMS,
# KWC_POST_FILE, KWC_BODIES, KWC_FORTIFIED, KWC_PROC_TIMEOUT; for the HTTPS
# programs (https_program) KWC_PORT_MAIN_TLS, KWC_PORT_GZ_TLS,
# KWC_PORT_KA_TLS (the same servers over TLS), KWC_CA (the private CA that
# signed their certificate), KWC_CURL_GNUTLS and KWC_CURL_OPENSSL.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CLIENTS=$HERE/clients
N=${KWC_N:-20}
HOST=127.0.0.1
PY=/usr/bin/python3

# The keep-alive-timeout response: the server (keepalive_timeout 1s) sees
# pauses after request 6 (0.5 s, shorter than its timeout) and after request 13
# (1.5 s, longer). Programs that cannot pause between their own requests run
# the three stretches 0-6, 7-13 and 14-19 as three processes.
KA_PAUSES=("6:0.5" "13:1.5")
KA_LONG=1            # pauses longer than the server's keep-alive timeout

# ---------------------------------------------------------------- responses
# resp RESPONSE: sets METHOD, PORT, PATH_ (no query), IMS (If-Modified-Since to
# send, or empty), GZIP (1: ask for gzip where the program can), POST (1: send
# KWC_POST_FILE), CODE (the status nginx answers), BODY (file holding the
# body the program should end up with, after gzip decoding), KA (1 for the
# keep-alive-timeout response). The HTTPS programs get the same response from
# the TLS twin of the same server (https_program).
resp() {
	METHOD=GET PORT=$KWC_PORT_MAIN PATH_=/gen/1024 IMS='' GZIP=0 POST=0 CODE=200
	BODY=$KWC_BODIES/1k KA=0
	case "$1" in
	1k) ;;
	1m) PATH_=/gen/1048576 BODY=$KWC_BODIES/1m ;;
	chunked) PORT=$KWC_PORT_GZ PATH_=/gen/1048576 GZIP=1 BODY=$KWC_BODIES/1m ;;
	204) PATH_=/status/204 CODE=204 BODY=$KWC_BODIES/empty ;;
	304) IMS=$KWC_IMS CODE=304 BODY=$KWC_BODIES/empty ;;
	head) METHOD=HEAD BODY=$KWC_BODIES/empty ;;
	post) METHOD=POST PATH_=/post POST=1 BODY=$KWC_BODIES/post ;;
	close) PATH_=/close/1024 ;;
	ka-timeout) PORT=$KWC_PORT_KA KA=1 ;;
	*) echo "drive.sh: unknown response $1" >&2; exit 2 ;;
	esac
	local scheme=http
	if https_program "$PROGRAM"; then
		scheme=https
		case "$PORT" in
		"$KWC_PORT_MAIN") PORT=$KWC_PORT_MAIN_TLS ;;
		"$KWC_PORT_GZ") PORT=$KWC_PORT_GZ_TLS ;;
		"$KWC_PORT_KA") PORT=$KWC_PORT_KA_TLS ;;
		esac
	fi
	BASE=$scheme://$HOST:$PORT$PATH_
}

url() { echo "$BASE?run=$TAG&i=$1"; }

# ---------------------------------------------------------------- programs
# The programs that speak HTTPS: curl-gnutls and wget-list-https on GnuTLS,
# the others on the system OpenSSL (libssl.so.3). Their "with" arm also sets
# KEEPWARM_TLS_REUSE=on.
https_program() {
	case "$1" in
	curl-gnutls|wget-list-https) return 0 ;;
	curl-openssl|py-urllib-https|py-httpclient-https|py-requests-https|pl-httptiny-https|rb-nethttp-https) return 0 ;;
	*) return 1 ;;
	esac
}

# How each program can pause: "proc" (one process per request, the shell
# pauses between them), "inproc" (pauses between its own requests), "seg"
# (one process for many requests, cannot pause: three processes for ka-timeout).
pause_style() {
	case "$1" in
	curl-loop|wget-loop|lynx|w3m) echo proc ;;
	py-urllib|py-httpclient|py-requests|rb-nethttp|pl-lwp|pl-httptiny|php-fgc|php-curl) echo inproc ;;
	py-urllib-https|py-httpclient-https|py-requests-https|pl-httptiny-https|rb-nethttp-https) echo inproc ;;
	curl-multi|wget-list|ab|ab-k|fortified|aria2c|curl-gnutls|wget-list-https|curl-openssl) echo seg ;;
	*) echo "drive.sh: unknown program $1" >&2; exit 2 ;;
	esac
}

# Requests the program cannot make in its usual idiom.
not_applicable() { # PROGRAM RESPONSE -> prints a reason, or nothing
	case "$1:$2" in
	lynx:304) echo "lynx cannot send If-Modified-Since" ;;
	aria2c:head) echo "aria2c only downloads (GET)" ;;
	aria2c:post) echo "aria2c only downloads (GET)" ;;
	curl-gnutls:204|curl-gnutls:304|curl-gnutls:head|curl-gnutls:post|\
	curl-openssl:204|curl-openssl:304|curl-openssl:head|curl-openssl:post)
		echo "curl_client makes plain GETs and takes anything but a 200 for an error" ;;
	esac
}

# Run one program process: timeout-bounded, with the shim on the "with" arm
# (and KEEPWARM_TLS_REUSE=on for the HTTPS programs). Its exit status is
# appended to STATUS_FILE.
runp() {
	local rc=0 tls=()
	https_program "$PROGRAM" && tls=(KEEPWARM_TLS_REUSE=on)
	if [ "$ARM" = with ]; then
		timeout -k 2 "$KWC_PROC_TIMEOUT" env LD_PRELOAD="$KWC_LIB" \
			KEEPWARM_TRACE="$KWC_TMP/trace.$TAG" "${tls[@]}" "$@" || rc=$?
	else
		timeout -k 2 "$KWC_PROC_TIMEOUT" "$@" || rc=$?
	fi
	echo "$rc" >>"$STATUS_FILE"
	return 0
}

# After request i (0-based): the ka-timeout pause, if any.
pause_after() {
	[ "$KA" = 1 ] || return 0
	local p
	for p in "${KA_PAUSES[@]}"; do
		[ "${p%%:*}" = "$1" ] && sleep "${p#*:}"
	done
	return 0
}

# Stretches of request indices run by one process: "first last" per line.
segments() {
	if [ "$KA" = 1 ]; then
		local first=0 p
		for p in "${KA_PAUSES[@]}"; do
			echo "$first ${p%%:*}"
			first=$((${p%%:*} + 1))
		done
		echo "$first $((N - 1))"
	else
		echo "0 $((N - 1))"
	fi
}

# Run the stretches, each with "$@" FIRST LAST, pausing between them.
run_segments() {
	local first last
	while read -r first last; do
		"$@" "$first" "$last"
		pause_after "$last"
	done < <(segments)
}

# -- curl
curl_opts() {
	CURL=(curl -sS -w '%{http_code}\n')
	[ "$METHOD" = HEAD ] && CURL+=(-I)
	[ -n "$IMS" ] && CURL+=(-z "$IMS")
	[ "$GZIP" = 1 ] && CURL+=(--compressed)
	[ "$POST" = 1 ] && CURL+=(--data-binary "@$KWC_POST_FILE" -H 'Content-Type: application/octet-stream')
	return 0
}
drv_curl_loop() {
	curl_opts
	local i
	for ((i = 0; i < N; i++)); do
		runp "${CURL[@]}" "$(url "$i")"
		pause_after "$i"
	done
}
curl_multi_seg() { # FIRST LAST: one curl with all those URLs
	local i urls=()
	for ((i = $1; i <= $2; i++)); do urls+=("$(url "$i")"); done
	runp "${CURL[@]}" "${urls[@]}"
}
drv_curl_multi() { curl_opts; run_segments curl_multi_seg; }

# -- wget (HEAD: -S prints the response headers on stderr, which is the output)
wget_opts() {
	WGET=(wget -q -O-)
	[ "$METHOD" = HEAD ] && WGET+=(-S --method=HEAD)
	[ -n "$IMS" ] && WGET+=(--header "If-Modified-Since: $IMS")
	[ "$GZIP" = 1 ] && WGET+=(--compression=gzip)
	[ "$POST" = 1 ] && WGET+=(--post-file="$KWC_POST_FILE" --header 'Content-Type: application/octet-stream')
	https_program "$PROGRAM" && WGET+=(--ca-certificate="$KWC_CA")
	return 0
}
drv_wget_loop() {
	wget_opts
	local i
	for ((i = 0; i < N; i++)); do
		if [ "$METHOD" = HEAD ]; then runp "${WGET[@]}" "$(url "$i")" 2>&1
		else runp "${WGET[@]}" "$(url "$i")"; fi
		pause_after "$i"
	done
}
wget_list_seg() {
	local i list=$KWC_TMP/wget-list.$TAG.$1
	for ((i = $1; i <= $2; i++)); do url "$i"; done >"$list"
	if [ "$METHOD" = HEAD ]; then runp "${WGET[@]}" -i "$list" 2>&1
	else runp "${WGET[@]}" -i "$list"; fi
}
drv_wget_list() { wget_opts; run_segments wget_list_seg; }

# -- curl_client-gnutls and curl_client-openssl (tests/tls/curl_client.c):
# libcurl3-gnutls and libcurl4 (OpenSSL), a new easy handle per URL
# (curl_easy_cleanup closes its connection); one sha256 line per body. Only
# GETs of a 200, so only the 1k, 1m, chunked (SSI, it does not ask for
# gzip), close and ka-timeout responses.
curl_client_seg() { # FIRST LAST: one process with all those URLs ($CURL_CLIENT)
	local i urls=()
	for ((i = $1; i <= $2; i++)); do urls+=("$(url "$i")"); done
	runp "$CURL_CLIENT" --ca "$KWC_CA" "${urls[@]}"
}

# -- our scripts (python, ruby, perl, php): one process, N requests, pauses
# inside. Over HTTPS the python and perl scripts take --ca; ruby's
# Net::HTTP.get_response has no CA argument, so ruby gets SSL_CERT_FILE.
drv_script() { # INTERPRETER... SCRIPT
	local args=("$METHOD" "$BASE" "$N" "$TAG") p
	case "$PROGRAM" in
	py-*-https|pl-*-https) args+=(--ca "$KWC_CA") ;;
	rb-*-https) set -- env SSL_CERT_FILE="$KWC_CA" "$@" ;;
	esac
	[ -n "$IMS" ] && args+=(--ims "$IMS")
	[ "$GZIP" = 1 ] && args+=(--gzip)
	[ "$POST" = 1 ] && args+=(--body "$KWC_POST_FILE")
	if [ "$KA" = 1 ]; then
		for p in "${KA_PAUSES[@]}"; do args+=(--pause "$p"); done
	fi
	runp "$@" "${args[@]}"
}

# -- ab (-c 1: sequential). One URL for all requests.
ab_seg() { # FIRST LAST
	local ab=(ab -q -c 1 -n $(($2 - $1 + 1)))
	[ "$AB_K" = 1 ] && ab+=(-k)
	[ "$METHOD" = HEAD ] && ab+=(-i)
	[ -n "$IMS" ] && ab+=(-H "If-Modified-Since: $IMS")
	[ "$GZIP" = 1 ] && ab+=(-H 'Accept-Encoding: gzip')
	[ "$POST" = 1 ] && ab+=(-p "$KWC_POST_FILE" -T application/octet-stream)
	runp "${ab[@]}" "$BASE?run=$TAG"
}

# -- fortified: our C client built with -D_FORTIFY_SOURCE=2 (checks bodies
# against tests/common/pattern.h itself; prints "ok requests=N"). It cannot
# send If-Modified-Since: its 304 comes from a location that returns 304.
fortified_seg() { # FIRST LAST
	local f=("$KWC_FORTIFIED" --host "$HOST" --port "$PORT" --requests $(($2 - $1 + 1))
		--timeout "$KWC_PROC_TIMEOUT")
	case "$RESPONSE" in
	304) f+=(--path "/status/304?run=$TAG") ;;
	post) f+=(--path "/post?run=$TAG" --method POST --body-bytes 1024 --expect-status 200) ;;
	*) f+=(--path "$PATH_?run=$TAG" --method "$METHOD") ;;
	esac
	runp "${f[@]}"
}

# -- aria2c -i: one download at a time (-j 1), each into its own file; the
# output is the downloaded files, in order.
aria2c_seg() { # FIRST LAST
	local i list=$KWC_TMP/aria2c-list.$TAG.$1 dir=$KWC_TMP/aria2c-dl.$TAG
	mkdir -p "$dir"
	for ((i = $1; i <= $2; i++)); do
		printf '%s\n  out=%03d\n' "$(url "$i")" "$i"
	done >"$list"
	local a=(aria2c -q -j 1 --allow-overwrite=true --auto-file-renaming=false -d "$dir" -i "$list")
	[ -n "$IMS" ] && a+=(--header "If-Modified-Since: $IMS")
	[ "$GZIP" = 1 ] && a+=(--http-accept-gzip=true)
	runp "${a[@]}"
	for ((i = $1; i <= $2; i++)); do
		[ -f "$dir/$(printf %03d "$i")" ] && cat "$dir/$(printf %03d "$i")"
	done
	return 0
}

# -- lynx and w3m: one process per page, raw source
drv_lynx() {
	local i l=(lynx -source)
	[ "$METHOD" = HEAD ] && l+=(-head)
	for ((i = 0; i < N; i++)); do
		if [ "$POST" = 1 ]; then runp "${l[@]}" -post_data "$(url "$i")" <"$KWC_POST_FILE"
		else runp "${l[@]}" "$(url "$i")" </dev/null; fi
		pause_after "$i"
	done
}
drv_w3m() {
	local i w=(w3m)
	if [ "$METHOD" = HEAD ]; then w+=(-dump_head); else w+=(-dump_source); fi
	[ -n "$IMS" ] && w+=(-header "If-Modified-Since: $IMS")
	[ "$POST" = 1 ] && w+=(-post "$KWC_POST_FILE")
	for ((i = 0; i < N; i++)); do
		runp "${w[@]}" "$(url "$i")" </dev/null
		pause_after "$i"
	done
}

drive() { # PROGRAM
	case "$1" in
	curl-loop) drv_curl_loop ;;
	curl-multi) drv_curl_multi ;;
	wget-loop) drv_wget_loop ;;
	wget-list|wget-list-https) drv_wget_list ;;
	curl-gnutls) CURL_CLIENT=$KWC_CURL_GNUTLS run_segments curl_client_seg ;;
	curl-openssl) CURL_CLIENT=$KWC_CURL_OPENSSL run_segments curl_client_seg ;;
	py-urllib|py-urllib-https) drv_script "$PY" "$CLIENTS/py_urllib.py" ;;
	py-httpclient|py-httpclient-https) drv_script "$PY" "$CLIENTS/py_httpclient.py" ;;
	py-requests|py-requests-https) drv_script "$PY" "$CLIENTS/py_requests.py" ;;
	rb-nethttp|rb-nethttp-https) drv_script ruby "$CLIENTS/rb_nethttp.rb" ;;
	pl-lwp) drv_script perl "$CLIENTS/pl_lwp.pl" ;;
	pl-httptiny|pl-httptiny-https) drv_script perl "$CLIENTS/pl_httptiny.pl" ;;
	php-fgc) drv_script php "$CLIENTS/php_fgc.php" ;;
	php-curl) drv_script php "$CLIENTS/php_curl.php" ;;
	ab) AB_K=0 run_segments ab_seg ;;
	ab-k) AB_K=1 run_segments ab_seg ;;
	fortified) run_segments fortified_seg ;;
	aria2c) run_segments aria2c_seg ;;
	lynx) drv_lynx ;;
	w3m) drv_w3m ;;
	*) echo "drive.sh: unknown program $1" >&2; exit 2 ;;
	esac
}

# ---------------------------------------------------------------- expected output
# One request's expected output, for the programs whose output is known.
expect_one() { # PROGRAM
	case "$1" in
	curl-loop|curl-multi)
		[ "$METHOD" = HEAD ] && return 1        # headers: compared between arms only
		cat "$BODY"; echo "$CODE" ;;
	wget-loop|wget-list|wget-list-https|lynx|w3m)
		[ "$METHOD" = HEAD ] && return 1
		cat "$BODY" ;;
	curl-gnutls|curl-openssl)
		sha256sum <"$BODY" | cut -d' ' -f1 ;;
	aria2c)
		cat "$BODY" ;;
	py-*|rb-*|pl-*|php-*)
		echo "$CODE $(wc -c <"$BODY") $(sha256sum <"$BODY" | cut -d' ' -f1)" ;;
	*) return 1 ;;
	esac
}

expect() { # PROGRAM
	local i first last one=$KWC_TMP/expect-one.$$
	case "$1" in
	fortified)
		# One "ok requests=K" line per process.
		while read -r first last; do echo "ok requests=$((last - first + 1))"; done < <(segments)
		return 0 ;;
	esac
	expect_one "$1" >"$one" || { rm -f "$one"; return 1; }
	for ((i = 0; i < N; i++)); do cat "$one"; done
	rm -f "$one"
}

normalize() { # PROGRAM TAG
	case "$1" in
	ab|ab-k)
		# Keep the counts, drop timings; the document path carries the tag.
		grep -E '^(Server Software|Server Hostname|Document Path|Document Length|Complete requests|Failed requests|Non-2xx responses|Keep-Alive requests|Total transferred|HTML transferred|Write errors):' |
			sed -e "s/$2/@TAG@/g" ;;
	*)
		# Response headers carry the date.
		sed -e '/^[[:space:]]*Date: /d' -e "s/$2/@TAG@/g" ;;
	esac
}

shape() { # PROGRAM -> REQUESTS PROCESSES LONG_PAUSES IN_PROCESS_LONG_PAUSES
	local na style procs long=0 inproc=0
	na=$(not_applicable "$1" "$RESPONSE")
	if [ -n "$na" ]; then echo "n/a $na"; return 0; fi
	style=$(pause_style "$1")
	[ "$KA" = 1 ] && long=$KA_LONG
	case "$style" in
	proc) procs=$N ;;
	inproc) procs=1; inproc=$long ;;
	seg) procs=$(segments | wc -l) ;;
	esac
	echo "$N $procs $long $inproc"
}

[ $# -ge 3 ] || { sed -n '2,25p' "$0" >&2; exit 2; }
cmd=$1 PROGRAM=$2
case "$cmd" in
run)
	[ $# -eq 6 ] || { echo "usage: drive.sh run PROGRAM RESPONSE ARM TAG STATUS_FILE" >&2; exit 2; }
	RESPONSE=$3 ARM=$4 TAG=$5 STATUS_FILE=$6
	resp "$RESPONSE"
	drive "$PROGRAM" ;;
shape) RESPONSE=$3; resp "$RESPONSE"; shape "$PROGRAM" ;;
expect) RESPONSE=$3; resp "$RESPONSE"; expect "$PROGRAM" ;;
normalize) normalize "$PROGRAM" "$3" "${4:-}" ;;
*) echo "drive.sh: unknown command $cmd" >&2; exit 2 ;;
esac
