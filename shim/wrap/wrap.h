/* wrap.h - shared by the interposed wrappers (one file per call family). */
#ifndef KW_WRAP_H
#define KW_WRAP_H

#include <errno.h>

#include "entry/entry.h"

#define KW_EXPORT __attribute__((visibility("default")))

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
