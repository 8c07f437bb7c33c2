/* tls_route.c - a trampoline for every other GnuTLS function that takes a
 * session first (service/gnutls_routed.h, generated from the library), and
 * for every other OpenSSL function that takes an SSL * first
 * (service/openssl_routed.h): it asks kw_tls_route (kw_tls_route_ssl)
 * which session the call is for and which function to jump to, and jumps there with the program's own arguments, return
 * address and stack. Whatever the function's signature: the six integer
 * argument registers are kept, the stack is left as it came, and the
 * generator refuses variadic and floating-point parameters (their
 * registers are not kept). Reached only through redirected GOT slots. */
#include "service/tls_real.h"
#include "wrap/wrap.h"

#ifdef KW_TLS_ROUTES
/* One entry per name: its index in r11 (free at a call: no argument
 * travels there), then the common part of its library. */
#define KW_TRAMPOLINE_OF(prefix, name, i)                                    \
	".globl " prefix #name "\n"                                          \
	".hidden " prefix #name "\n"                                         \
	".type " prefix #name ", @function\n"                                \
	prefix #name ":\n"                                                   \
	"	mov $" #i ", %r11d\n"                                       \
	"	jmp " prefix "common\n"                                     \
	".size " prefix #name ", .-" prefix #name "\n"
#define KW_TRAMPOLINE(name, version, i) KW_TRAMPOLINE_OF("kw_tls_route_", name, i)
#define KW_SSL_TRAMPOLINE(name, version, i) KW_TRAMPOLINE_OF("kw_ssl_route_", name, i)

/* The common part: the call's own argument registers kept, route(session,
 * index) asked which session and function, and a jump there. */
#define KW_ROUTE_COMMON(prefix, route)                                       \
	".type " prefix "common, @function\n"                                \
	prefix "common:\n"                                                   \
	"	push %rdi\n"                                                \
	"	push %rsi\n"                                                \
	"	push %rdx\n"                                                \
	"	push %rcx\n"                                                \
	"	push %r8\n"                                                 \
	"	push %r9\n"                                                 \
	"	sub $8, %rsp\n"            /* the call on a 16-byte boundary */ \
	"	mov %r11d, %esi\n"         /* route(session, index) */         \
	"	call " route "\n"          /* rax: the session, rdx: the function */ \
	"	add $8, %rsp\n"                                             \
	"	mov %rdx, %r11\n"                                           \
	"	pop %r9\n"                                                  \
	"	pop %r8\n"                                                  \
	"	pop %rcx\n"                                                 \
	"	pop %rdx\n"                                                 \
	"	pop %rsi\n"                                                 \
	"	add $8, %rsp\n"            /* the program's session... */      \
	"	mov %rax, %rdi\n"          /* ...or the one the call is for */ \
	"	jmp *%r11\n"               /* as if the program had called it */ \
	".size " prefix "common, .-" prefix "common\n"

__asm__(".text\n"
        KW_ROUTE_COMMON("kw_tls_route_", "kw_tls_route")
        KW_GNUTLS_ROUTED(KW_TRAMPOLINE)
        KW_ROUTE_COMMON("kw_ssl_route_", "kw_tls_route_ssl")
        KW_OPENSSL_ROUTED(KW_SSL_TRAMPOLINE));
#endif
