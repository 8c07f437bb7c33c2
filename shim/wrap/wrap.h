/* wrap.h - shared by the interposed wrappers (one file per call family). */
#ifndef KW_WRAP_H
#define KW_WRAP_H

#include <errno.h>

#include "entry/entry.h"

#define KW_EXPORT __attribute__((visibility("default")))

/* Code that may run while ThreadSanitizer's runtime starts (signal_wrap.c):
 * not instrumented in the TSan build. */
#ifdef __SANITIZE_THREAD__
#define KW_NO_TSAN __attribute__((no_sanitize_thread))
#else
#define KW_NO_TSAN
#endif

/* The trampolines of routed TLS calls (tls_route.c) exist on x86_64 only;
 * elsewhere those calls are left as they are. */
#if defined(__x86_64__)
#define KW_TLS_ROUTES 1
#endif

/* A real function missing (re-entered during our own dlsym): fail the call. */
#define KW_REAL_OR_FAIL(name, fail)                  \
	do {                                         \
		if (__builtin_expect(!KW_REAL(name), 0)) { \
			errno = ENOSYS;              \
			return fail;                 \
		}                                    \
	} while (0)

#endif
