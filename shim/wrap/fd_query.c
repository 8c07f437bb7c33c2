/* fd_query.c - the calls that ask what a number is: getsockopt(),
 * getsockname(), getpeername() and the fstat family. On a number where
 * keepwarm keeps one of its own descriptors (a parked connection) they fail
 * with EBADF, as on a number the program never opened. */
#include <sys/stat.h>

#include "wrap/wrap.h"

/* A call with a plain fd argument: EBADF on keepwarm's numbers. */
#define FD_QUERY(name, fail, fd, ...)                                    \
	KW_REAL_OR_FAIL(name, fail);                                     \
	if (__builtin_expect(kw_fd_is_private(fd), 0))                   \
		return kw_ebadf();                                       \
	return kw_real.name(__VA_ARGS__)

/* dirfd is only looked at for a relative or empty path (or none, as Linux
 * allows statx with AT_EMPTY_PATH). */
static bool __attribute__((noinline)) not_absolute(const char *path)
{
	return !path || path[0] != '/';
}

#define AT_QUERY(name, fail, dirfd, path, ...)                               \
	KW_REAL_OR_FAIL(name, fail);                                         \
	if (__builtin_expect(kw_fd_is_private(dirfd), 0) && not_absolute(path)) \
		return kw_ebadf();                                           \
	return kw_real.name(__VA_ARGS__)

KW_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	FD_QUERY(getsockopt, -1, fd, fd, level, name, val, len);
}

KW_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	FD_QUERY(getsockname, -1, fd, fd, addr, len);
}

KW_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	FD_QUERY(getpeername, -1, fd, fd, addr, len);
}

KW_EXPORT int fstat(int fd, struct stat *st)
{
	FD_QUERY(fstat, -1, fd, fd, st);
}

KW_EXPORT int fstat64(int fd, struct stat64 *st)
{
	FD_QUERY(fstat64, -1, fd, fd, st);
}

KW_EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	FD_QUERY(__fxstat, -1, fd, ver, fd, st);
}

KW_EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	FD_QUERY(__fxstat64, -1, fd, ver, fd, st);
}

KW_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	AT_QUERY(fstatat, -1, dirfd, path, dirfd, path, st, flags);
}

KW_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	AT_QUERY(fstatat64, -1, dirfd, path, dirfd, path, st, flags);
}

KW_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	AT_QUERY(__fxstatat, -1, dirfd, path, ver, dirfd, path, st, flags);
}

KW_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
	AT_QUERY(__fxstatat64, -1, dirfd, path, ver, dirfd, path, st, flags);
}

KW_EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	AT_QUERY(statx, -1, dirfd, path, dirfd, path, flags, mask, stx);
}
