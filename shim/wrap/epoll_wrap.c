/* epoll_wrap.c - epoll_ctl(): remember the program's registrations of followed
 * sockets, so they can be removed before parking and restored on handback. */
#include "wrap/wrap.h"

KW_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct kw_fd *s = kw_fd_lookup(fd);
	struct kw_fd *e = kw_fd_lookup(epfd);
	int ret;

	KW_REAL_OR_FAIL(epoll_ctl, -1);
	if (__builtin_expect(!s && !e, 1))
		return kw_real.epoll_ctl(epfd, op, fd, ev);
	if ((s && kw_is_private(s)) || (e && kw_is_private(e)))
		return kw_ebadf();
	ret = kw_real.epoll_ctl(epfd, op, fd, ev);
	if (ret == 0 && s && !kw_depth)
		kw_note_epoll(s, epfd, op, ev);
	return ret;
}
