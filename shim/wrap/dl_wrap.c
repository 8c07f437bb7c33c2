/* dl_wrap.c - dlopen, and the table of every wrapped name for the
 * redirection of objects that bind past keepwarm (entry/redirect.c): the
 * exported libc names, and the TLS names that are never exported.
 *
 * dlopen is a jump, not a call: libc's dlopen searches with its caller's
 * RUNPATH and expands $ORIGIN from its caller, so it must see the
 * program's return address, not keepwarm's. The trampoline asks
 * kw_redirect_dlopen_route where to go with the program's own arguments. */
#include <stddef.h>

#include "service/tls_real.h"
#include "wrap/wrap.h"

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl dlopen\n"
        ".type dlopen, @function\n"
        "dlopen:\n"
        "	push %rdi\n"
        "	push %rsi\n"
        "	sub $8, %rsp\n"              /* the call below on a 16-byte boundary */
        "	call kw_redirect_dlopen_route\n"
        "	add $8, %rsp\n"
        "	pop %rsi\n"
        "	pop %rdi\n"
        "	test %rax, %rax\n"
        "	jz 1f\n"
        "	jmp *%rax\n"                 /* as if the program had called it */
        "1:	ret\n"                       /* no libc dlopen found: NULL */
        ".size dlopen, .-dlopen\n");
#define KW_DLOPEN(X) X(dlopen)
#else
#define KW_DLOPEN(X) /* no trampoline here: objects loaded later are not redirected */
#endif

/* Every exported wrapper, by symbol name (a declaration per name through an
 * asm label, whatever its C type): its address is what the global scope
 * resolves the name to, keepwarm's wrapper when keepwarm comes first. */
#define KW_WRAPPED_NAMES(X)                                                          \
	X(socket) X(connect) X(bind) X(listen) X(setsockopt) X(close) X(close_range)    \
	X(closefrom) X(syscall) X(shutdown) X(read) X(write) X(recv) X(send)            \
	X(recvfrom) X(sendto) X(recvmsg) X(sendmsg) X(readv) X(writev) X(__read_chk)    \
	X(__recv_chk) X(__recvfrom_chk) X(sendfile) X(sendfile64) X(splice) X(dup)      \
	X(dup2) X(dup3) X(fcntl) X(fcntl64) X(ioctl) X(epoll_ctl) X(fdopen) X(fclose)   \
	X(getsockopt) X(getsockname) X(getpeername) X(fstat) X(fstat64) X(fstatat)      \
	X(fstatat64) X(statx) X(__fxstat) X(__fxstat64) X(__fxstatat) X(__fxstatat64)   \
	X(poll) X(__poll_chk) X(ppoll) X(__ppoll_chk) X(select) X(pselect)              \
	X(sigaction) X(__sigaction) X(signal) X(bsd_signal) X(ssignal) X(sysv_signal)   \
	X(__sysv_signal) X(sigset)                                                      \
	KW_DLOPEN(X)

#define KW_DECLARE(name) extern void kw_sym_##name(void) __asm__(#name);
KW_WRAPPED_NAMES(KW_DECLARE)
#undef KW_DECLARE

/* The TLS wrappers (tls_gnutls.c, tls_openssl.c): kw_tls_wrap_<name>,
 * hidden, reached only through redirected slots. */
#define KW_TLS_DECLARE(name, ret, args) ret kw_tls_wrap_##name args;
KW_GNUTLS_WRAPPED(KW_TLS_DECLARE)
KW_OPENSSL_WRAPPED(KW_TLS_DECLARE)
#undef KW_TLS_DECLARE

/* The trampolines of the other GnuTLS calls that take a session, and of
 * the other OpenSSL calls that take an SSL * (tls_route.c), where there
 * are. */
#ifdef KW_TLS_ROUTES
#define KW_ROUTE_DECLARE(name, version, i) void kw_tls_route_##name(void);
KW_GNUTLS_ROUTED(KW_ROUTE_DECLARE)
#undef KW_ROUTE_DECLARE
#define KW_ROUTE_DECLARE(name, version, i) void kw_ssl_route_##name(void);
KW_OPENSSL_ROUTED(KW_ROUTE_DECLARE)
#undef KW_ROUTE_DECLARE
#endif

static struct kw_wrapped wrapped[] = {
#define KW_ENTRY(name) { #name, NULL, -1, NULL },
	KW_WRAPPED_NAMES(KW_ENTRY)
#undef KW_ENTRY
#define KW_TLS_ENTRY(name, ret, args) \
	{ #name, (void *)kw_tls_wrap_##name, LIB, (void *const *)&kw_tls_real.name },
#define LIB KW_TLS_GNUTLS
	KW_GNUTLS_WRAPPED(KW_TLS_ENTRY)
#undef LIB
#define LIB KW_TLS_OPENSSL
	KW_OPENSSL_WRAPPED(KW_TLS_ENTRY)
#undef LIB
#undef KW_TLS_ENTRY
#ifdef KW_TLS_ROUTES
#define KW_ROUTE_ENTRY(name, version, i) \
	{ #name, (void *)kw_tls_route_##name, KW_TLS_GNUTLS, &kw_gnutls_routed_real[i] },
	KW_GNUTLS_ROUTED(KW_ROUTE_ENTRY)
#undef KW_ROUTE_ENTRY
#define KW_ROUTE_ENTRY(name, version, i) \
	{ #name, (void *)kw_ssl_route_##name, KW_TLS_OPENSSL, &kw_openssl_routed_real[i] },
	KW_OPENSSL_ROUTED(KW_ROUTE_ENTRY)
#undef KW_ROUTE_ENTRY
#endif
};

__attribute__((constructor)) static void kw_redirect_constructor(void)
{
	size_t i = 0;

#define KW_FILL(name) wrapped[i++].fn = (void *)kw_sym_##name;
	KW_WRAPPED_NAMES(KW_FILL)
#undef KW_FILL
	kw_redirect_setup(wrapped, sizeof wrapped / sizeof wrapped[0]);
}
