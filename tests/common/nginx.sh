# nginx.sh - Debian's nginx for one test script (sourced; no #! line): a
# scratch prefix, free 127.0.0.1 ports, started in the foreground and stopped
# by its pid. Used by tests/compat/suite.sh and tests/behaviour/real-programs.sh.
#
#   nginx_start DIR N   start nginx with prefix DIR on N free ports. The
#                       caller defines nginx_servers, called with the ports:
#                       it prints the server blocks and any further
#                       http-level directives (default_type, say). Sets NGINX_PID,
#                       NGINX_PORTS (space-separated), NGINX_ACCESS (access
#                       log: "$connection $connection_requests "$request"
#                       $status $body_bytes_sent") and NGINX_ERRLOG. Retries
#                       with new ports (one may be taken between probe and
#                       bind); returns 1 when nginx never answered on every
#                       port, its output left in DIR/nginx.out.
#   nginx_stop          SIGTERM, up to 5 s, then SIGKILL; reaps it.
#   nginx_errors FILE   write the error log's [error]/[crit]/[alert]/[emerg]
#                       lines to FILE; true when there are any.

NGINX=${NGINX:-/usr/sbin/nginx}
NGINX_PY=${NGINX_PY:-/usr/bin/python3}
NGINX_PID=
NGINX_PORTS=
NGINX_ACCESS=
NGINX_ERRLOG=

# nginx_free_ports N: N distinct ports free on 127.0.0.1 right now.
nginx_free_ports() {
	"$NGINX_PY" -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
for s in ss: s.close()' "$1"
}

nginx_port_open() {
	"$NGINX_PY" -c 'import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1" 2>/dev/null
}

# nginx_conf DIR PORT...: the common frame around the caller's servers.
nginx_conf() {
	local dir=$1
	shift
	cat <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $NGINX_ERRLOG info;
events { worker_connections 512; }
http {
	log_format kw '\$connection \$connection_requests "\$request" \$status \$body_bytes_sent';
	access_log $NGINX_ACCESS kw;
	keepalive_timeout 60s;
	keepalive_requests 1000;
	client_body_temp_path $dir/temp/body;
	proxy_temp_path $dir/temp/proxy;
	fastcgi_temp_path $dir/temp/fastcgi;
	uwsgi_temp_path $dir/temp/uwsgi;
	scgi_temp_path $dir/temp/scgi;
$(nginx_servers "$@")
}
EOF
}

nginx_start() {
	local dir=$1 n=$2 ports p up
	NGINX_ACCESS=$dir/logs/access.log
	NGINX_ERRLOG=$dir/logs/error.log
	mkdir -p "$dir/logs" "$dir/temp" || return 1
	for _ in 1 2 3 4 5; do
		ports=$(nginx_free_ports "$n") || return 1
		# shellcheck disable=SC2086 # the ports are words
		nginx_conf "$dir" $ports >"$dir/nginx.conf"
		: >"$NGINX_ERRLOG"
		"$NGINX" -e "$NGINX_ERRLOG" -p "$dir" -c "$dir/nginx.conf" >"$dir/nginx.out" 2>&1 &
		NGINX_PID=$!
		for _ in $(seq 50); do # up to 5 s
			kill -0 "$NGINX_PID" 2>/dev/null || break
			up=1
			for p in $ports; do
				nginx_port_open "$p" || { up=0; break; }
			done
			[ "$up" = 1 ] && { NGINX_PORTS=$ports; return 0; }
			sleep 0.1
		done
		nginx_stop
	done
	cat "$NGINX_ERRLOG" >>"$dir/nginx.out" 2>/dev/null
	return 1
}

nginx_stop() {
	[ -n "$NGINX_PID" ] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$NGINX_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$NGINX_PID" 2>/dev/null || true
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=
}

nginx_errors() {
	grep -E '\[(error|crit|alert|emerg)\]' "$NGINX_ERRLOG" >"$1"
}
