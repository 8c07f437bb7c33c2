/* poll_select.c - poll(), ppoll(), select(), pselect(). An array or set that
 * names a number where keepwarm keeps one of its own descriptors answers as
 * for a free number: POLLNVAL for that entry (without waiting for it), or
 * EBADF from select. Below the private range each entry costs one compare. */
#include "wrap/wrap.h"

static inline bool names_private(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (__builtin_expect(fds[i].fd >= kw_private_base, 0) && kw_fd_is_private(fds[i].fd))
			return true;
	return false;
}

KW_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	KW_REAL_OR_FAIL(poll, -1);
	if (__builtin_expect(!names_private(fds, n), 1))
		return kw_real.poll(fds, n, timeout);
	return kw_poll_around_private(fds, n, NULL, false);
}

KW_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	KW_REAL_OR_FAIL(__poll_chk, -1);
	if (__builtin_expect(!names_private(fds, n), 1) || n * sizeof *fds > fdslen)
		return kw_real.__poll_chk(fds, n, timeout, fdslen); /* which also aborts an overflow */
	return kw_poll_around_private(fds, n, NULL, false);
}

KW_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
	KW_REAL_OR_FAIL(ppoll, -1);
	if (__builtin_expect(!names_private(fds, n), 1))
		return kw_real.ppoll(fds, n, tmo, mask);
	return kw_poll_around_private(fds, n, mask, true);
}

KW_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
                          const sigset_t *mask, size_t fdslen)
{
	KW_REAL_OR_FAIL(__ppoll_chk, -1);
	if (__builtin_expect(!names_private(fds, n), 1) || n * sizeof *fds > fdslen)
		return kw_real.__ppoll_chk(fds, n, tmo, mask, fdslen);
	return kw_poll_around_private(fds, n, mask, true);
}

KW_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	KW_REAL_OR_FAIL(select, -1);
	if (__builtin_expect(nfds <= kw_private_base, 1) || !kw_select_names_private(nfds, r, w, e))
		return kw_real.select(nfds, r, w, e, tv);
	return kw_ebadf();
}

KW_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *tmo,
                      const sigset_t *mask)
{
	KW_REAL_OR_FAIL(pselect, -1);
	if (__builtin_expect(nfds <= kw_private_base, 1) || !kw_select_names_private(nfds, r, w, e))
		return kw_real.pselect(nfds, r, w, e, tmo, mask);
	return kw_ebadf();
}
