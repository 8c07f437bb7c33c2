#!/usr/bin/env bash
# real-programs.sh BUILD_DIR - unmodified programs against Debian's nginx,
# without and with LD_PRELOAD=BUILD_DIR/libkeepwarm.so.
#
# For each program: N sequential requests per arm; both arms must exit 0 and
# fetch bodies whose sha256 equals the served files'; nginx's access log must
# show N distinct connections without the shim and 1 with it. nginx's error
# log must stay free of [error]/[crit]/[alert]/[emerg].
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD_DIR=$(cd "$1" && pwd)
LIB=$BUILD_DIR/libkeepwarm.so
PY=/usr/bin/python3          # Debian's, with python3-requests (not a pyenv one)
N=20
ARM_TIMEOUT=60               # seconds, per program run

# PASS/FAIL accounting and the scratch directory TMP; nginx is stopped at exit.
KW_TMP_NAME=kw-real
# shellcheck source=SCRIPTDIR/../common/lib.sh
. "$(dirname "$0")/../common/lib.sh"
TMP=$KW_TMP
# shellcheck source=../common/nginx.sh
. "$(dirname "$0")/../common/nginx.sh"
trap 'nginx_stop; cleanup_lib' EXIT

# A clean environment: no inherited shim settings, no proxies for requests.
clear_shim_env
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'

for f in "$PY" /usr/sbin/nginx; do
	[ -x "$f" ] || { fail "prerequisite $f present"; finish; exit; }
done
"$PY" -c 'import requests' 2>/dev/null || { fail "prerequisite python3-requests importable by $PY"; finish; exit; }

# --- docroot -----------------------------------------------------------------
mkdir -p "$TMP/www"
head -c 1024 /dev/urandom >"$TMP/www/1k.bin"
head -c 1048576 /dev/urandom >"$TMP/www/1m.bin"
SHA_1K=$(sha256sum <"$TMP/www/1k.bin" | cut -d' ' -f1)
SHA_1M=$(sha256sum <"$TMP/www/1m.bin" | cut -d' ' -f1)
# The clients fetch 1k, 1m, 1k, 1m, ... and print one sha256 per body.
for ((i = 0; i < N; i++)); do
	if ((i % 2 == 0)); then echo "$SHA_1K"; else echo "$SHA_1M"; fi
done >"$TMP/expected"

nginx_servers() { # PORT
	cat <<EOF
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$1;
		server_name localhost;
		root $TMP/www;
	}
EOF
}
if ! nginx_start "$TMP" 1; then
	fail "nginx starts on 127.0.0.1"
	tail -n 20 "$TMP/nginx.out" 2>/dev/null | sed 's/^/    /'
	finish
	exit
fi
PORT=$NGINX_PORTS
ACCESS=$NGINX_ACCESS
echo "setup: nginx on 127.0.0.1:$PORT (pid $NGINX_PID)"
# (The readiness probe's connection carries no request, so it is never logged.)

# --- clients -----------------------------------------------------------------
cat >"$TMP/client_httpclient.py" <<'EOF'
# Legacy idiom: a new HTTPConnection per request, closed after the body is read.
import hashlib, http.client, sys
host, port, n, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
paths = ["/1k.bin", "/1m.bin"]
for i in range(n):
    conn = http.client.HTTPConnection(host, port)
    conn.request("GET", "%s?run=%s&i=%d" % (paths[i % 2], tag, i))
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200:
        sys.exit("request %d: status %d" % (i, resp.status))
    sys.stdout.write(hashlib.sha256(body).hexdigest() + "\n")
EOF

cat >"$TMP/client_requests.py" <<'EOF'
# requests.get() makes (and closes) a fresh Session, hence a fresh connection, per call.
import hashlib, sys
import requests
host, port, n, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
paths = ["/1k.bin", "/1m.bin"]
for i in range(n):
    r = requests.get("http://%s:%d%s?run=%s&i=%d" % (host, port, paths[i % 2], tag, i))
    if r.status_code != 200:
        sys.exit("request %d: status %d" % (i, r.status_code))
    sys.stdout.write(hashlib.sha256(r.content).hexdigest() + "\n")
EOF

log_lines() { if [ -f "$ACCESS" ]; then wc -l <"$ACCESS"; else echo 0; fi; }

# run_arm NAME SCRIPT ARM(without|with) -> sets RC, OUT, CONNS, REQS
run_arm() {
	local name=$1 script=$2 arm=$3 tag="$1-$3" before after
	OUT=$TMP/out.$tag
	before=$(log_lines)
	RC=0
	if [ "$arm" = with ]; then
		env LD_PRELOAD="$LIB" KEEPWARM_TRACE="$TMP/trace.$tag" \
			timeout "$ARM_TIMEOUT" "$PY" "$TMP/$script" 127.0.0.1 "$PORT" "$N" "$tag" \
			>"$OUT" 2>"$TMP/err.$tag" || RC=$?
	else
		timeout "$ARM_TIMEOUT" "$PY" "$TMP/$script" 127.0.0.1 "$PORT" "$N" "$tag" \
			>"$OUT" 2>"$TMP/err.$tag" || RC=$?
	fi
	# nginx logs a request once its response is sent; wait (bounded) for all N.
	for _ in $(seq 50); do
		after=$(log_lines)
		[ $((after - before)) -ge "$N" ] && break
		sleep 0.1
	done
	tail -n "+$((before + 1))" "$ACCESS" | grep -F "?run=$tag&" >"$TMP/access.$tag" || true
	REQS=$(wc -l <"$TMP/access.$tag")
	CONNS=$(cut -d' ' -f1 "$TMP/access.$tag" | sort -u | wc -l)
}

show() { # indent the last lines of a file, for diagnostics
	[ -s "$1" ] && tail -n "${2:-10}" "$1" | sed 's/^/    /'
	return 0
}

lib_ok=1
if [ ! -f "$LIB" ]; then
	fail "library $LIB present"
	lib_ok=0
fi

for prog in "http.client:client_httpclient.py" "requests:client_requests.py"; do
	name=${prog%%:*}
	script=${prog#*:}
	for arm in without with; do
		what="$name $arm shim"
		if [ "$arm" = with ] && [ "$lib_ok" -eq 0 ]; then
			fail "$what: not run (library missing)"
			continue
		fi
		run_arm "$name" "$script" "$arm"
		if [ "$RC" -eq 0 ]; then pass "$what: exit status 0"; else
			fail "$what: exit status $RC (want 0)"; show "$TMP/err.$name-$arm"
		fi
		if cmp -s "$OUT" "$TMP/expected"; then pass "$what: $N bodies match sha256 of the files"; else
			fail "$what: bodies differ from the files ($(wc -l <"$OUT") of $N sha256 lines)"
			show "$TMP/err.$name-$arm"
		fi
		check "$what: nginx logged $REQS requests (want $N)" [ "$REQS" -eq "$N" ]
		if [ "$arm" = with ]; then want=1; else want=$N; fi
		if [ "$CONNS" -eq "$want" ]; then pass "$what: $CONNS distinct connections (want $want)"; else
			fail "$what: $CONNS distinct connections (want $want)"
			show "$TMP/access.$name-$arm" 5
			if [ "$arm" = with ]; then show "$TMP/trace.$name-$arm" 10; fi
		fi
	done
	# The same bytes with and without the shim.
	if [ "$lib_ok" -eq 1 ]; then
		check "$name: identical output without and with shim" \
			cmp -s "$TMP/out.$name-without" "$TMP/out.$name-with"
	fi
done

if nginx_errors "$TMP/errlines"; then
	fail "nginx error log has no [error]/[crit]/[alert]/[emerg] lines"
	show "$TMP/errlines" 10
else
	pass "nginx error log has no [error]/[crit]/[alert]/[emerg] lines"
fi

finish
