/* fd_lifecycle.c - calls that close, duplicate, reconfigure or hand out
 * descriptor numbers. */
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "service/private.h"
#include "wrap/wrap.h"

KW_EXPORT int close(int fd)
{
	struct kw_fd *s = kw_fd_lookup(fd);

	KW_REAL_OR_FAIL(close, -1);
	kw_redirect_check();
	if (__builtin_expect(!s, 1))
		return kw_real.close(fd);
	return kw_close(s, fd);
}

KW_EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
	KW_REAL_OR_FAIL(close_range, -1);
	return kw_close_range(lo, hi, flags);
}

KW_EXPORT void closefrom(int lo)
{
	if (lo < 0 || !KW_REAL(close_range))
		return;
	/* Like glibc: close_range, and on failure the slow way. */
	if (kw_close_range((unsigned)lo, ~0U, 0) < 0 && KW_REAL(closefrom)) {
		int saved = errno;
		for (int fd = lo; fd < (int)kw_fd_table_size; fd++) {
			struct kw_fd *s = kw_fd_lookup(fd);
			if (!s || !kw_is_private(s))
				close(fd);
		}
		errno = saved;
	}
}

/* libuv and others close with syscall(SYS_close, fd), bypassing close(). */
KW_EXPORT long syscall(long number, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	KW_REAL_OR_FAIL(syscall, -1);
	if (number == SYS_close)
		return close((int)a[0]);
	if (number == SYS_close_range)
		return close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
	if (number == SYS_rt_sigaction && a[1]) {
		const struct sigaction *act = (const struct sigaction *)a[1];
		if (act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN)
			kw_private_handler_installed();
	}
	if (number == SYS_fcntl || number == SYS_ioctl) {
		struct kw_fd *s = kw_fd_lookup((int)a[0]);
		long ret;
		int saved;

		if (__builtin_expect(!s, 1) || kw_is_private(s))
			return kw_real.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
		ret = kw_real.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
		saved = errno;
		kw_note_flags(s, -1, 0); /* read them back at a handback */
		errno = saved;
		return ret;
	}
	return kw_real.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

KW_EXPORT int shutdown(int fd, int how)
{
	struct kw_fd *s = kw_fd_lookup(fd);

	KW_REAL_OR_FAIL(shutdown, -1);
	if (s && kw_is_private(s))
		return kw_ebadf();
	if (s)
		kw_taint(fd, KW_REASON_SHUTDOWN);
	return kw_real.shutdown(fd, how);
}

/* The source of a duplicate can no longer be followed: two numbers, one
 * connection, and we see only one close. */
static int before_dup(int from)
{
	struct kw_fd *s = kw_fd_lookup(from);

	if (s && kw_is_private(s))
		return -1;
	if (s)
		kw_taint(from, KW_REASON_DUP);
	return 0;
}

KW_EXPORT int dup(int fd)
{
	int saved = errno, ret;

	KW_REAL_OR_FAIL(dup, -1);
	if (before_dup(fd) < 0)
		return kw_ebadf();
	ret = kw_real.dup(fd);
	if (ret >= 0) {
		kw_fd_set_kind(ret, KW_FD_NONE); /* a stale slot from a number closed behind us */
		errno = saved;
	}
	return ret;
}

static int dup_onto(int from, int to, int flags, bool is_dup3)
{
	int saved = errno, ret;

	if (from == to && !is_dup3) {
		struct kw_fd *s = kw_fd_lookup(from);
		if (s && kw_is_private(s))
			return kw_ebadf();
		return kw_real.dup2(from, to); /* no-op on a valid fd */
	}
	if (before_dup(from) < 0)
		return kw_ebadf();
	if (from != to)
		kw_claim_number(to);
	errno = saved;
	ret = is_dup3 ? kw_real.dup3(from, to, flags) : kw_real.dup2(from, to);
	return ret;
}

KW_EXPORT int dup2(int from, int to)
{
	KW_REAL_OR_FAIL(dup2, -1);
	return dup_onto(from, to, 0, false);
}

KW_EXPORT int dup3(int from, int to, int flags)
{
	KW_REAL_OR_FAIL(dup3, -1);
	return dup_onto(from, to, flags, true);
}

/* fcntl commands that change how the socket delivers data or signals: not
 * modelled, so the connection is let go. */
static bool fcntl_taints(int cmd, long arg)
{
	switch (cmd) {
	case F_SETFL:
		return arg & O_ASYNC;
	case F_SETOWN: case F_SETOWN_EX: case F_SETSIG: case F_SETLEASE: case F_NOTIFY:
		return true;
	default:
		return false;
	}
}

static int do_fcntl(int (*real)(int, int, ...), int fd, int cmd, long arg)
{
	struct kw_fd *s = kw_fd_lookup(fd);
	int saved = errno, ret;

	if (__builtin_expect(!s, 1)) {
		ret = real(fd, cmd, arg);
		if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && ret >= 0) {
			kw_fd_set_kind(ret, KW_FD_NONE);
			errno = saved;
		}
		return ret;
	}
	if (kw_is_private(s))
		return kw_ebadf();
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		kw_taint(fd, KW_REASON_DUP);
	else if (fcntl_taints(cmd, arg))
		kw_taint(fd, KW_REASON_FCNTL);
	ret = real(fd, cmd, arg);
	if (ret >= 0 && (cmd == F_SETFL || cmd == F_SETFD)) {
		saved = errno;
		kw_note_flags(s, cmd, arg);
		errno = saved;
	}
	return ret;
}

/* Every fcntl argument is an int, a long or a pointer: pass one long on. */
KW_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	KW_REAL_OR_FAIL(fcntl, -1);
	return do_fcntl(kw_real.fcntl, fd, cmd, arg);
}

KW_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	KW_REAL_OR_FAIL(fcntl64, -1);
	return do_fcntl(kw_real.fcntl64, fd, cmd, arg);
}

KW_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	struct kw_fd *s;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	KW_REAL_OR_FAIL(ioctl, -1);
	s = kw_fd_lookup(fd);
	if (__builtin_expect(!s, 1))
		return kw_real.ioctl(fd, req, arg);
	if (kw_is_private(s))
		return kw_ebadf();
	/* Non-blocking mode, queue sizes and close-on-exec change nothing we follow. */
	if (req != FIONBIO && req != FIONREAD && req != TIOCOUTQ && req != FIOCLEX &&
	    req != FIONCLEX && req != FIOASYNC)
		kw_taint(fd, KW_REASON_IOCTL);
	else if (req == FIOASYNC)
		kw_taint(fd, KW_REASON_IOCTL_ASYNC);
	ret = kw_real.ioctl(fd, req, arg);
	if (ret >= 0 && ((req == FIONBIO && arg) || req == FIOCLEX || req == FIONCLEX)) {
		int saved = errno;
		kw_note_flags(s, (long)req, req == FIONBIO ? *(const int *)arg : 0);
		errno = saved;
	}
	return ret;
}

/* stdio reads and closes through glibc internals we never see. */
KW_EXPORT FILE *fdopen(int fd, const char *mode)
{
	struct kw_fd *s = kw_fd_lookup(fd);

	KW_REAL_OR_FAIL(fdopen, NULL);
	if (s && kw_is_private(s)) {
		kw_ebadf();
		return NULL;
	}
	if (s)
		kw_taint(fd, KW_REASON_FDOPEN);
	return kw_real.fdopen(fd, mode);
}

KW_EXPORT int fclose(FILE *f)
{
	KW_REAL_OR_FAIL(fclose, EOF);
	if (f) {
		int fd = fileno(f);
		if (fd >= 0 && kw_fd_lookup(fd))
			kw_taint(fd, KW_REASON_FCLOSE); /* closed by __close_nocancel, out of our sight */
	}
	return kw_real.fclose(f);
}
