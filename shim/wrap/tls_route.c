/* tls_route.c - a trampoline for every other GnuTLS function that takes a
 * session first (service/gnutls_routed.h, generated from the library): it
 * asks kw_tls_route which session the call is for and which function to
 * jump to, and jumps there with the program's own arguments, return
 * address and stack. Whatever the function's signature: the six integer
 * argument registers are kept, the stack is left as it came, and the
 * generator refuses variadic and floating-point parameters (their
 * registers are not kept). Reached only through redirected GOT slots. */
#include "service/tls_real.h"
#include "wrap/wrap.h"

#ifdef KW_TLS_ROUTES
/* One entry per name: its index in r11 (free at a call: no argument
 * travels there), then the common part. */
#define KW_TRAMPOLINE(name, version, i)                                      \
	".globl kw_tls_route_" #name "\n"                                    \
	".hidden kw_tls_route_" #name "\n"                                   \
	".type kw_tls_route_" #name ", @function\n"                          \
	"kw_tls_route_" #name ":\n"                                          \
	"	mov $" #i ", %r11d\n"                                       \
	"	jmp kw_tls_route_common\n"                                  \
	".size kw_tls_route_" #name ", .-kw_tls_route_" #name "\n"

__asm__(".text\n"
        ".type kw_tls_route_common, @function\n"
        "kw_tls_route_common:\n"
        "	push %rdi\n"
        "	push %rsi\n"
        "	push %rdx\n"
        "	push %rcx\n"
        "	push %r8\n"
        "	push %r9\n"
        "	sub $8, %rsp\n"            /* the call below on a 16-byte boundary */
        "	mov %r11d, %esi\n"         /* kw_tls_route(session, index) */
        "	call kw_tls_route\n"       /* rax: the session, rdx: the function */
        "	add $8, %rsp\n"
        "	mov %rdx, %r11\n"
        "	pop %r9\n"
        "	pop %r8\n"
        "	pop %rcx\n"
        "	pop %rdx\n"
        "	pop %rsi\n"
        "	add $8, %rsp\n"            /* the program's session... */
        "	mov %rax, %rdi\n"          /* ...or the one the call is for */
        "	jmp *%r11\n"               /* as if the program had called it */
        ".size kw_tls_route_common, .-kw_tls_route_common\n"
        KW_GNUTLS_ROUTED(KW_TRAMPOLINE));
#endif
