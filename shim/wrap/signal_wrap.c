/* signal_wrap.c - the calls that install a signal handler: sigaction() and
 * the signal() family. Watched, never changed: the first handler makes
 * keepwarm block signals while it holds its pool lock (service/private.h);
 * until then no handler can run inside it, and the lock costs no system
 * call. */
#include <signal.h>

#include "service/private.h"
#include "wrap/wrap.h"

/* glibc exports these without declaring all of them. */
int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
__sighandler_t bsd_signal(int sig, __sighandler_t handler);
__sighandler_t ssignal(int sig, __sighandler_t handler);
__sighandler_t __sysv_signal(int sig, __sighandler_t handler);
__sighandler_t sysv_signal(int sig, __sighandler_t handler);

/* A disposition that runs the program's code (not default, ignore, hold). */
static void note(__sighandler_t h)
{
	if (h != SIG_DFL && h != SIG_IGN && h != SIG_ERR && h != SIG_HOLD)
		kw_private_handler_installed();
}

KW_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	KW_REAL_OR_FAIL(sigaction, -1);
	if (act)
		note(act->sa_handler); /* sa_sigaction shares its storage */
	return kw_real.sigaction(sig, act, old);
}

KW_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	KW_REAL_OR_FAIL(__sigaction, -1);
	if (act)
		note(act->sa_handler);
	return kw_real.__sigaction(sig, act, old);
}

#define SIGNAL_LIKE(name)                                          \
	KW_EXPORT __sighandler_t name(int sig, __sighandler_t h)    \
	{                                                          \
		KW_REAL_OR_FAIL(name, SIG_ERR);                    \
		note(h);                                           \
		return kw_real.name(sig, h);                       \
	}
SIGNAL_LIKE(signal)
SIGNAL_LIKE(bsd_signal)
SIGNAL_LIKE(ssignal)
SIGNAL_LIKE(sysv_signal)
SIGNAL_LIKE(__sysv_signal)
SIGNAL_LIKE(sigset)
#undef SIGNAL_LIKE
