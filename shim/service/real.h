/* real.h - the functions keepwarm interposes, or may interpose, as the next
 * library defines them.
 *
 * Resolved once, lazily, with dlsym(RTLD_NEXT): a wrapper may run before the
 * library constructor (another library's constructor, early stdio) and the shim
 * must stack with other preload libraries. KW_REAL(name) is the real function.
 * Below the wrappers keepwarm calls these names only through this table, never
 * by name (`make layers` checks it): its own checks must not run into its own
 * wrappers, today's or tomorrow's. */
#ifndef KW_REAL_H
#define KW_REAL_H

#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#define KW_REAL_FUNCTIONS(X)                                                                  \
	X(socket, int, (int, int, int))                                                       \
	X(connect, int, (int, const struct sockaddr *, socklen_t))                             \
	X(bind, int, (int, const struct sockaddr *, socklen_t))                                \
	X(listen, int, (int, int))                                                            \
	X(setsockopt, int, (int, int, int, const void *, socklen_t))                           \
	X(close, int, (int))                                                                  \
	X(syscall, long, (long, ...))                                                         \
	X(close_range, int, (unsigned, unsigned, int))                                        \
	X(closefrom, void, (int))                                                             \
	X(shutdown, int, (int, int))                                                          \
	X(read, ssize_t, (int, void *, size_t))                                               \
	X(write, ssize_t, (int, const void *, size_t))                                        \
	X(recv, ssize_t, (int, void *, size_t, int))                                          \
	X(send, ssize_t, (int, const void *, size_t, int))                                    \
	X(recvfrom, ssize_t, (int, void *, size_t, int, struct sockaddr *, socklen_t *))      \
	X(sendto, ssize_t, (int, const void *, size_t, int, const struct sockaddr *, socklen_t)) \
	X(recvmsg, ssize_t, (int, struct msghdr *, int))                                      \
	X(sendmsg, ssize_t, (int, const struct msghdr *, int))                                \
	X(readv, ssize_t, (int, const struct iovec *, int))                                   \
	X(writev, ssize_t, (int, const struct iovec *, int))                                  \
	X(__read_chk, ssize_t, (int, void *, size_t, size_t))                                 \
	X(__recv_chk, ssize_t, (int, void *, size_t, size_t, int))                            \
	X(__recvfrom_chk, ssize_t, (int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *)) \
	X(sendfile, ssize_t, (int, int, off_t *, size_t))                                     \
	X(sendfile64, ssize_t, (int, int, off_t *, size_t))                                   \
	X(splice, ssize_t, (int, loff_t *, int, loff_t *, size_t, unsigned int))              \
	X(dup, int, (int))                                                                    \
	X(dup2, int, (int, int))                                                              \
	X(dup3, int, (int, int, int))                                                         \
	X(fcntl, int, (int, int, ...))                                                        \
	X(fcntl64, int, (int, int, ...))                                                      \
	X(ioctl, int, (int, unsigned long, ...))                                              \
	X(epoll_ctl, int, (int, int, int, struct epoll_event *))                              \
	X(fdopen, FILE *, (int, const char *))                                                \
	X(fclose, int, (FILE *))                                                              \
	/* what a number answers: EBADF on keepwarm's own (fd_query.c, poll_select.c) */      \
	X(getsockopt, int, (int, int, int, void *, socklen_t *))                              \
	X(getsockname, int, (int, struct sockaddr *, socklen_t *))                            \
	X(getpeername, int, (int, struct sockaddr *, socklen_t *))                            \
	X(fstat, int, (int, struct stat *))                                                   \
	X(fstat64, int, (int, struct stat64 *))                                               \
	X(fstatat, int, (int, const char *, struct stat *, int))                              \
	X(fstatat64, int, (int, const char *, struct stat64 *, int))                          \
	X(statx, int, (int, const char *, int, unsigned int, struct statx *))                 \
	X(__fxstat, int, (int, int, struct stat *))                                           \
	X(__fxstat64, int, (int, int, struct stat64 *))                                       \
	X(__fxstatat, int, (int, int, const char *, struct stat *, int))                      \
	X(__fxstatat64, int, (int, int, const char *, struct stat64 *, int))                  \
	X(poll, int, (struct pollfd *, nfds_t, int))                                          \
	X(__poll_chk, int, (struct pollfd *, nfds_t, int, size_t))                            \
	X(ppoll, int, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))   \
	X(__ppoll_chk, int, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *, size_t)) \
	X(select, int, (int, fd_set *, fd_set *, fd_set *, struct timeval *))                 \
	X(pselect, int, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *)) \
	X(dlopen, void *, (const char *, int))                                                \
	/* a handler makes the pool lock block signals (signal_wrap.c) */                     \
	X(sigaction, int, (int, const struct sigaction *, struct sigaction *))                 \
	X(__sigaction, int, (int, const struct sigaction *, struct sigaction *))               \
	X(signal, __sighandler_t, (int, __sighandler_t))                                      \
	X(bsd_signal, __sighandler_t, (int, __sighandler_t))                                  \
	X(ssignal, __sighandler_t, (int, __sighandler_t))                                     \
	X(sysv_signal, __sighandler_t, (int, __sighandler_t))                                 \
	X(__sysv_signal, __sighandler_t, (int, __sighandler_t))                               \
	X(sigset, __sighandler_t, (int, __sighandler_t))                                      \
	/* not wrapped, called by keepwarm itself */                                          \
	X(socketpair, int, (int, int, int, int[2]))

struct kw_real_table {
#define KW_REAL_FIELD(name, ret, args) ret(*name) args;
	KW_REAL_FUNCTIONS(KW_REAL_FIELD)
#undef KW_REAL_FIELD
};

extern struct kw_real_table kw_real;

/* Resolve every real function (once; cheap afterwards). Returns 0, or -1 when
 * called re-entrantly while this thread is resolving (dlsym calling back). */
int kw_real_resolve(void);

/* The real function, resolving first if needed. May be NULL only during a
 * re-entrant call from dlsym itself; wrappers then fail with ENOSYS. */
#define KW_REAL(name) (__builtin_expect(kw_real_ready(), 1) ? kw_real.name : (kw_real_resolve(), kw_real.name))

extern _Atomic int kw_real_state;
#define KW_REAL_RESOLVED 2

/* True once every real function has been looked up. */
static inline int kw_real_ready(void)
{
	return __atomic_load_n((int *)&kw_real_state, __ATOMIC_ACQUIRE) == KW_REAL_RESOLVED;
}

#endif
