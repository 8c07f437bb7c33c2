#!/usr/bin/env bash
# deb.sh BUILD_DIR - the Debian package, built, checked, installed, used and
# purged on this machine (root; the machine is left as it was: the test
# refuses to run where keepwarm is installed, puts back an /etc/keepwarm.conf
# it found, and never touches the real /etc/ld.so.preload):
#   - make deb twice (two source copies): the same bytes; the version of
#     dpkg-parsechangelog, of both packages and of every installed tool agree
#   - lintian: no error and no warning
#   - the packages: the library alone in keepwarm-preload (Multi-Arch: same)
#     at /usr/lib/TRIPLET/keepwarm/, the tools in keepwarm (Multi-Arch:
#     foreign), /etc/keepwarm.conf a conffile, dependencies from shlibs with
#     no GnuTLS or OpenSSL
#   - apt install ./keepwarm_*.deb ./keepwarm-preload_*.deb; the user units
#     not enabled; man -w keepwarm; python3's urllib (a new connection per
#     request) through /usr/bin/keepwarm against nginx: 20 requests on 1
#     connection, 20 on 20 without; a setting in /etc/keepwarm.conf honoured
#   - /etc/ld.so.preload naming /usr/$LIB/keepwarm/libkeepwarm.so, inside a
#     private mount namespace (an overlay on /etc): every program loads the
#     library and the same client reuses without the launcher; prerm refuses
#     the removal with a clear message, the package stays, the file is
#     unchanged
#   - apt purge: no file, directory, conffile or process of the package left
# shellcheck disable=SC2016 # the checks eval single-quoted tests on purpose
set -uo pipefail
BUILD_DIR=$(cd "${1:?usage: deb.sh BUILD_DIR}" && pwd -P)
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
# shellcheck disable=SC2034 # read by lib.sh
KW_TMP_NAME=kw-deb
# shellcheck disable=SC1091 # sourced at run time
. "$(dirname "$0")/../common/lib.sh"
# shellcheck disable=SC1091
. "$(dirname "$0")/../common/nginx.sh"
clear_shim_env
unset http_proxy HTTP_PROXY no_proxy NO_PROXY
TMP=$KW_TMP
PY=/usr/bin/python3
PKGS=(keepwarm keepwarm-preload)
CONF=/etc/keepwarm.conf
INSTALLED=0
CONF_SAVED=

# Whatever happens, the machine goes back: the package purged, the
# configuration file found put back.
restore() {
	nginx_stop
	stop_brokers "$KW_RUN"
	if [ "$INSTALLED" = 1 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${PKGS[@]}" >>"$TMP/purge.log" 2>&1 ||
			dpkg --purge --force-depends "${PKGS[@]}" >>"$TMP/purge.log" 2>&1
		INSTALLED=0
	fi
	if [ -n "$CONF_SAVED" ]; then
		cp -p "$CONF_SAVED" "$CONF"
		CONF_SAVED=
	fi
}
trap 'restore; cleanup_lib' EXIT

pkg_status() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' '; }
not_installed() { case "$(pkg_status "$1")" in "" | un | pn) return 0 ;; esac; return 1; }

[ "$(id -u)" = 0 ] || { fail "setup: deb.sh runs as root (it installs the package)"; finish; exit; }
for p in "${PKGS[@]}"; do
	not_installed "$p" && continue
	fail "setup: $p is installed ($(pkg_status "$p")); deb.sh leaves an installed package alone"
	finish
	exit
done
preload_before=$(stat -c '%i %s %Y' /etc/ld.so.preload 2>/dev/null || echo none)
if [ -e "$CONF" ]; then # not the package's (it is not installed): kept aside, put back
	CONF_SAVED=$TMP/keepwarm.conf.saved
	cp -p "$CONF" "$CONF_SAVED" && rm -f "$CONF"
fi

# --- build, twice -------------------------------------------------------------
echo "setup: make deb (twice)"
if ! make -C "$ROOT" --no-print-directory BUILD="$BUILD_DIR" deb >"$TMP/deb1.log" 2>&1; then
	fail "make deb: $(tail -n 20 "$TMP/deb1.log")"
	finish
	exit
fi
DEB=$BUILD_DIR/deb
"$ROOT/tools/deb/build.sh" "$TMP/deb2" >"$TMP/deb2.log" 2>&1 || fail "a second build: $(tail -n 5 "$TMP/deb2.log")"
VERSION=$(cd "$ROOT" && dpkg-parsechangelog -SVersion)
ARCH=$(dpkg --print-architecture)
TRIPLET=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
TOOLS_DEB=$DEB/keepwarm_${VERSION}_$ARCH.deb
LIB_DEB=$DEB/keepwarm-preload_${VERSION}_$ARCH.deb
check "make deb leaves build/deb/keepwarm_${VERSION}_$ARCH.deb and keepwarm-preload_${VERSION}_$ARCH.deb" \
	test -f "$TOOLS_DEB" -a -f "$LIB_DEB"
for f in "$TOOLS_DEB" "$LIB_DEB"; do
	check "$(basename "$f") is reproducible: two builds, the same bytes" \
		cmp -s "$f" "$TMP/deb2/$(basename "$f")"
done
check "dpkg-parsechangelog's version is the packages' ($VERSION)" \
	test "$(dpkg-deb -f "$TOOLS_DEB" Version)" = "$VERSION" -a "$(dpkg-deb -f "$LIB_DEB" Version)" = "$VERSION"
check "... and the one the Makefile compiles in (tests' kw_version: $(kw_version))" test "$(kw_version)" = "$VERSION"
check "the build used dpkg-buildflags with the project's -Werror" \
	eval 'grep -q -- "-fstack-protector-strong.*-Werror\|-Werror.*-fstack-protector-strong" "$DEB/build.log" &&
		grep -q -- "-D_FORTIFY_SOURCE=2" "$DEB/build.log"'

# --- lintian and the packages' fields --------------------------------------------
lintian --pedantic -I "$TOOLS_DEB" "$LIB_DEB" >"$TMP/lintian.out" 2>&1
grep -v '^running with root privileges' "$TMP/lintian.out" | sed 's/^/    /'
check "lintian: no error, no warning ($(grep -c '^[EW]: ' "$TMP/lintian.out"))" \
	test "$(grep -c '^[EW]: ' "$TMP/lintian.out")" = 0
check "keepwarm-preload: Multi-Arch: same; keepwarm: Multi-Arch: foreign" \
	test "$(dpkg-deb -f "$LIB_DEB" Multi-Arch) $(dpkg-deb -f "$TOOLS_DEB" Multi-Arch)" = "same foreign"
deps="$(dpkg-deb -f "$TOOLS_DEB" Depends), $(dpkg-deb -f "$LIB_DEB" Depends)"
check "dependencies from shlibs, no GnuTLS or OpenSSL ($deps)" \
	eval '[[ "$deps" == *libc6* && "$deps" != *gnutls* && "$deps" != *ssl* ]]'
check "keepwarm depends on keepwarm-preload of its own version" \
	eval '[[ "$deps" == *"keepwarm-preload (= $VERSION)"* ]]'
lib_files=$(dpkg-deb -c "$LIB_DEB" | awk '$1 !~ /^d/ { print $6 }' | grep -v '^\./usr/share/doc/' | tr '\n' ' ')
check "keepwarm-preload holds the library alone, in /usr/lib/$TRIPLET/keepwarm/ ($lib_files)" \
	test "$lib_files" = "./usr/lib/$TRIPLET/keepwarm/libkeepwarm.so "
check "/etc/keepwarm.conf is a conffile of keepwarm" \
	eval 'dpkg-deb --ctrl-tarfile "$TOOLS_DEB" | tar -xOf - ./conffiles | grep -qx /etc/keepwarm.conf'
check "... with every setting commented out at its default (it is examples/keepwarm.conf)" \
	eval 'dpkg-deb --fsys-tarfile "$TOOLS_DEB" | tar -xOf - ./etc/keepwarm.conf | cmp -s - "$ROOT/examples/keepwarm.conf"'
check "a machine-readable copyright: LGPL-2.1-or-later" \
	eval 'dpkg-deb --fsys-tarfile "$TOOLS_DEB" | tar -xOf - ./usr/share/doc/keepwarm/copyright |
		grep -q "^License: LGPL-2.1-or-later$"'

# --- install with apt -------------------------------------------------------------
echo "setup: apt-get install ./$(basename "$TOOLS_DEB") ./$(basename "$LIB_DEB")"
INSTALLED=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$TOOLS_DEB" "$LIB_DEB" \
	>"$TMP/install.log" 2>&1
rc=$?
check "apt-get install of the two packages: exit 0 (rc $rc), both installed" \
	test "$rc" = 0 -a "$(pkg_status keepwarm)$(pkg_status keepwarm-preload)" = iiii ||
	tail -n 20 "$TMP/install.log" | sed 's/^/    /'
dpkg -L "${PKGS[@]}" 2>/dev/null | sort -u >"$TMP/files"
LIB=/usr/lib/$TRIPLET/keepwarm/libkeepwarm.so
check "the library at $LIB, the tools in /usr/bin" \
	test -f "$LIB" -a -x /usr/bin/keepwarm -a -x /usr/bin/keepwarm-stat -a -x /usr/bin/keepwarmd
versions="$(/usr/bin/keepwarm --version) / $(/usr/bin/keepwarm-stat --version) / $(/usr/bin/keepwarmd --version)"
check "keepwarm --version (and keepwarm-stat's, keepwarmd's) is dpkg-parsechangelog -SVersion ($versions)" \
	test "$versions" = "keepwarm $VERSION / keepwarm-stat $VERSION / keepwarmd $VERSION"
check "the installed launcher finds the packaged library" \
	test "$(/usr/bin/keepwarm -- printenv LD_PRELOAD)" = "$LIB"
check "man -w keepwarm: $(man -w keepwarm 2>&1)" test "$(man -w keepwarm 2>/dev/null)" = /usr/share/man/man1/keepwarm.1.gz
check "man -w keepwarmd and keepwarm-stat too" eval 'man -w keepwarmd >/dev/null && man -w keepwarm-stat >/dev/null'
check "the user units are installed, not enabled" \
	eval 'test -f /usr/lib/systemd/user/keepwarmd.socket -a -f /usr/lib/systemd/user/keepwarmd.service &&
		! find /etc/systemd/user -name "keepwarmd*" 2>/dev/null | grep -q .'
check "README and NEWS in /usr/share/doc/keepwarm" \
	test -f /usr/share/doc/keepwarm/README.md.gz -a -f /usr/share/doc/keepwarm/NEWS.gz

# --- use it -----------------------------------------------------------------------
mkdir -p "$TMP/www/gen"
head -c 2000 /dev/urandom >"$TMP/www/gen/2000"
nginx_servers() {
	cat <<EOF
	default_type application/octet-stream;
	server { listen 127.0.0.1:$1; root $TMP/www; }
EOF
}
if nginx_start "$TMP/nginx" 1; then
	PORT=$NGINX_PORTS
	# conns: distinct connections in the lines nginx logged since line $1
	conns() { tail -n +"$(($1 + 1))" "$NGINX_ACCESS" | awk '{ print $1 }' | sort -u | wc -l; }
	lines() { wc -l <"$NGINX_ACCESS"; }
	fetch() { "$@" "$PY" "$ROOT/examples/fetch.py" 20 "$PORT" 2>>"$TMP/fetch.err" || echo "exit $?" >>"$TMP/fetch.err"; }
	l=$(lines); fetch env
	check "python3 urllib without keepwarm: 20 requests, $(conns "$l") connections" test "$(conns "$l")" = 20
	l=$(lines); fetch /usr/bin/keepwarm --
	check "... through /usr/bin/keepwarm: 20 requests on $(conns "$l") connection" \
		test "$(conns "$l")" = 1 -a "$(($(lines) - l))" = 20
	printf 'KEEPWARM_MAX_REQUESTS = 5\n' >>"$CONF"
	l=$(lines); fetch /usr/bin/keepwarm --
	check "KEEPWARM_MAX_REQUESTS = 5 in /etc/keepwarm.conf: 20 requests on $(conns "$l") connections" \
		test "$(conns "$l")" = 4
	check "... and keepwarm config names the file" \
		eval '/usr/bin/keepwarm config | grep -q "^KEEPWARM_MAX_REQUESTS=5 *# /etc/keepwarm.conf:"'
	sed -i '$d' "$CONF"
	check "no program failed ($(head -c 300 "$TMP/fetch.err"))" test ! -s "$TMP/fetch.err"

	# System-wide, as README shows it, in a private mount namespace: an
	# overlay on /etc holds this ld.so.preload; the real one is untouched.
	cat >"$TMP/ns.sh" <<'EOF'
set -u
mount -t tmpfs kw-deb "$TMP_NS" && mkdir "$TMP_NS/up" "$TMP_NS/work" &&
	mount -t overlay kw-deb -o "lowerdir=/etc,upperdir=$TMP_NS/up,workdir=$TMP_NS/work" /etc || exit 90
echo '/usr/$LIB/keepwarm/libkeepwarm.so' >/etc/ld.so.preload
cp /etc/ld.so.preload "$TMP_NS/before"
grep -q "/usr/lib/$TRIPLET/keepwarm/libkeepwarm\.so" /proc/self/maps && echo loaded >"$OUT_DIR/maps"
"$PY" "$FETCH" 20 "$PORT" 2>>"$OUT_DIR/ns.err" || echo "fetch exit $?" >>"$OUT_DIR/ns.err"
dpkg -r --force-depends keepwarm-preload >"$OUT_DIR/prerm.out" 2>&1
echo $? >"$OUT_DIR/prerm.rc"
cmp -s /etc/ld.so.preload "$TMP_NS/before" && echo same >"$OUT_DIR/preload" || echo changed >"$OUT_DIR/preload"
EOF
	mkdir -p "$TMP/ns"
	l=$(lines)
	env TMP_NS="$TMP/ns" OUT_DIR="$TMP" PY="$PY" TRIPLET="$TRIPLET" FETCH="$ROOT/examples/fetch.py" PORT="$PORT" \
		unshare -m --propagation private bash "$TMP/ns.sh" 2>>"$TMP/ns.err"
	rc=$?
	check "/etc/ld.so.preload with /usr/\$LIB/keepwarm/libkeepwarm.so (a private namespace: rc $rc): every program loads the library" \
		test "$rc" = 0 -a "$(cat "$TMP/maps" 2>/dev/null)" = loaded
	check "... and the same client reuses without the launcher: 20 requests on $(conns "$l") connection" \
		test "$(conns "$l")" = 1 -a ! -s "$TMP/ns.err"
	check "... prerm refuses to remove the library while the file names it: still installed (rc $(cat "$TMP/prerm.rc" 2>/dev/null), status $(pkg_status keepwarm-preload))" \
		eval '[ "$(cat "$TMP/prerm.rc" 2>/dev/null)" != 0 ] && [[ "$(pkg_status keepwarm-preload)" == ?i ]]'
	sed 's/^/    /' "$TMP/prerm.out"
	check "... saying why and what to do" \
		grep -q "^keepwarm-preload: /etc/ld.so.preload names libkeepwarm.so" "$TMP/prerm.out"
	check "... without editing the file ($(cat "$TMP/preload" 2>/dev/null))" test "$(cat "$TMP/preload" 2>/dev/null)" = same
	check "the real /etc/ld.so.preload is untouched" \
		test "$(stat -c '%i %s %Y' /etc/ld.so.preload 2>/dev/null || echo none)" = "$preload_before"
	nginx_stop
else
	fail "nginx starts: $(tail -n 5 "$TMP/nginx/nginx.out" 2>/dev/null)"
fi

# --- purge ---------------------------------------------------------------------------
stop_brokers "$KW_RUN"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${PKGS[@]}" >"$TMP/purge.log" 2>&1
rc=$?
INSTALLED=0
check "apt-get purge: exit 0 (rc $rc), neither package known to dpkg any more" \
	eval '[ "$rc" = 0 ] && not_installed keepwarm && not_installed keepwarm-preload'
left=
while IFS= read -r f; do
	case "$f" in /. | /etc | /usr | /usr/bin | /usr/lib | /usr/lib/"$TRIPLET" | /usr/share | /usr/share/doc | \
		/usr/share/man | /usr/share/man/man1 | /usr/lib/systemd | /usr/lib/systemd/user | \
		/usr/share/bash-completion | /usr/share/bash-completion/completions) continue ;;
	esac
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done <"$TMP/files"
check "nothing of the package left (${left:-no file, no directory} of $(wc -l <"$TMP/files") paths)" test -z "$left"
check "no conffile left: /etc/keepwarm.conf gone" test ! -e "$CONF"
check "no maintainer script left" eval '! ls /var/lib/dpkg/info/keepwarm* >/dev/null 2>&1'
check "no keepwarmd of the package running" eval '! pgrep -x keepwarmd -a | grep -q /usr/bin/keepwarmd'
restore
check "the machine as it was: /etc/keepwarm.conf $([ -e "$TMP/keepwarm.conf.saved" ] && echo put back || echo absent, as before)" \
	eval '[ ! -e "$TMP/keepwarm.conf.saved" ] || cmp -s "$TMP/keepwarm.conf.saved" "$CONF"'

finish
