/* signal_wrap.c - the calls that install a signal handler: sigaction() and
 * the signal() family. Watched, never changed: the first handler makes
 * keepwarm block signals while it holds its pool lock (service/private.h);
 * until then no handler can run inside it, and the lock costs no system
 * call.
 *
 * These run earlier than any other wrapper: a sanitizer's runtime installs
 * its handlers while it starts, before keepwarm's constructor and before
 * its own is ready. So they use nothing that needs either: the next
 * definition is looked up here with dlsym until the real-function table is
 * ready, and under ThreadSanitizer this file is not instrumented. */
#include <dlfcn.h>
#include <signal.h>

#include "service/private.h"
#include "wrap/wrap.h"

/* glibc exports these without declaring all of them. */
int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
__sighandler_t bsd_signal(int sig, __sighandler_t handler);
__sighandler_t ssignal(int sig, __sighandler_t handler);
__sighandler_t __sysv_signal(int sig, __sighandler_t handler);
__sighandler_t sysv_signal(int sig, __sighandler_t handler);

/* The next definition of name: the table's once it is ready (read here, not
 * through kw_real_ready(), which is instrumented where it is not inlined). */
#define NEXT(name)                                                                    \
	(__atomic_load_n((int *)&kw_real_state, __ATOMIC_ACQUIRE) == KW_REAL_RESOLVED  \
	         ? kw_real.name                                                        \
	         : (__typeof__(kw_real.name))dlsym(RTLD_NEXT, #name))

/* A disposition that runs the program's code (not default, ignore, hold). */
static KW_NO_TSAN void note(__sighandler_t h)
{
	if (h != SIG_DFL && h != SIG_IGN && h != SIG_ERR && h != SIG_HOLD)
		kw_private_handler_installed();
}

#define SIGACTION_LIKE(name)                                                           \
	KW_EXPORT KW_NO_TSAN int name(int sig, const struct sigaction *act,            \
	                              struct sigaction *old)                           \
	{                                                                              \
		__typeof__(kw_real.name) next = NEXT(name);                            \
		if (!next) {                                                           \
			errno = ENOSYS;                                                \
			return -1;                                                     \
		}                                                                      \
		if (act)                                                               \
			note(act->sa_handler); /* sa_sigaction shares its storage */   \
		return next(sig, act, old);                                            \
	}
SIGACTION_LIKE(sigaction)
SIGACTION_LIKE(__sigaction)
#undef SIGACTION_LIKE

#define SIGNAL_LIKE(name)                                                              \
	KW_EXPORT KW_NO_TSAN __sighandler_t name(int sig, __sighandler_t h)            \
	{                                                                              \
		__typeof__(kw_real.name) next = NEXT(name);                            \
		if (!next) {                                                           \
			errno = ENOSYS;                                                \
			return SIG_ERR;                                                \
		}                                                                      \
		note(h);                                                               \
		return next(sig, h);                                                   \
	}
SIGNAL_LIKE(signal)
SIGNAL_LIKE(bsd_signal)
SIGNAL_LIKE(ssignal)
SIGNAL_LIKE(sysv_signal)
SIGNAL_LIKE(__sysv_signal)
SIGNAL_LIKE(sigset)
#undef SIGNAL_LIKE
