/* sock_connect.c - socket(), connect(), bind(), listen(), setsockopt(). */
#include "wrap/wrap.h"

KW_EXPORT int socket(int domain, int type, int protocol)
{
	int fd;

	KW_REAL_OR_FAIL(socket, -1);
	kw_redirect_check();
	fd = kw_real.socket(domain, type, protocol);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && kw_relieve_fd_pressure())
		fd = kw_real.socket(domain, type, protocol);
	if (fd >= 0) {
		int saved = errno;
		kw_on_socket(fd, domain, type, protocol);
		errno = saved;
	}
	return fd;
}

KW_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct kw_fd *s = kw_fd_lookup(fd);

	KW_REAL_OR_FAIL(connect, -1);
	kw_redirect_check();
	if (!s || kw_depth)
		return kw_real.connect(fd, addr, len);
	if (kw_is_private(s))
		return kw_ebadf();
	return kw_connect(s, fd, addr, len);
}

KW_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct kw_fd *s = kw_fd_lookup(fd);

	KW_REAL_OR_FAIL(bind, -1);
	if (s && kw_is_private(s))
		return kw_ebadf();
	if (s)
		kw_pin(s, KW_REASON_BOUND);
	return kw_real.bind(fd, addr, len);
}

KW_EXPORT int listen(int fd, int backlog)
{
	struct kw_fd *s = kw_fd_lookup(fd);
	int ret;

	KW_REAL_OR_FAIL(listen, -1);
	if (s && kw_is_private(s))
		return kw_ebadf();
	ret = kw_real.listen(fd, backlog);
	if (ret == 0)
		kw_on_listen(fd);
	return ret;
}

KW_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct kw_fd *s = kw_fd_lookup(fd);
	int ret;

	KW_REAL_OR_FAIL(setsockopt, -1);
	if (!s || kw_depth)
		return kw_real.setsockopt(fd, level, name, val, len);
	if (kw_is_private(s))
		return kw_ebadf();
	ret = kw_real.setsockopt(fd, level, name, val, len);
	if (ret == 0)
		kw_note_sockopt(s, level, name, val, len);
	return ret;
}
