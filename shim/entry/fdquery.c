/* fdquery.c - poll() and select() over arrays and sets that name one of
 * keepwarm's own descriptor numbers: answered as for a free number. */
#include "entry/entry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int kw_poll_around_private(struct pollfd *fds, nfds_t n, const sigset_t *mask, bool is_ppoll)
{
	struct pollfd small[64], *copy = n <= 64 ? small : malloc(n * sizeof *copy);
	static const struct timespec now = { 0, 0 };
	int nval = 0, r;

	if (!copy) {
		errno = ENOMEM;
		return -1;
	}
	for (nfds_t i = 0; i < n; i++) {
		copy[i] = fds[i];
		if (kw_fd_is_private(fds[i].fd)) {
			copy[i].fd = -1; /* the kernel skips it */
			nval++;
		}
	}
	r = is_ppoll ? kw_real.ppoll(copy, n, &now, mask) : kw_real.poll(copy, n, 0);
	if (r >= 0) {
		for (nfds_t i = 0; i < n; i++)
			fds[i].revents = copy[i].fd < 0 && fds[i].fd >= 0 ? POLLNVAL : copy[i].revents;
		r += nval;
	}
	if (copy != small) {
		int saved = errno;
		free(copy);
		errno = saved;
	}
	return r;
}

static bool has(const fd_set *set, int fd)
{
	const unsigned long *bits = (const unsigned long *)set;
	unsigned per = 8 * sizeof *bits;

	return set && (bits[(unsigned)fd / per] >> ((unsigned)fd % per) & 1);
}

bool kw_select_names_private(int nfds, const fd_set *r, const fd_set *w, const fd_set *e)
{
	for (int fd = kw_private_base; fd < nfds; fd++)
		if ((has(r, fd) || has(w, fd) || has(e, fd)) && kw_fd_is_private(fd))
			return true;
	return false;
}
