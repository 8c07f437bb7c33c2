/* io_wrappers.c - the byte path: every read and write family call. Untracked
 * fds cost one lock-free lookup; followed sockets feed the HTTP tracker with
 * exactly the bytes the call moved. */
#include <sys/sendfile.h>

#include "wrap/wrap.h"

/* A plain buffer as a one-entry iovec, made only on the slow path: a local
 * whose address escapes before the fast path's call would cost the wrapper
 * its tail call. */
#define ONE(buf, n) (&(struct iovec){ (void *)(buf), (n) })

/* Receive-side wrapper body: call, then hand the outcome to the stream.
 * iov/iovcnt: where the bytes land (ONE() for a plain buffer). */
#define RECV_BODY(name, fail, asked, flags, iov, iovcnt, ...)                      \
	struct kw_fd *s = kw_fd_lookup(fd);                                      \
	ssize_t r;                                                               \
	KW_REAL_OR_FAIL(name, fail);                                             \
	if (__builtin_expect(!s || kw_depth, 1))                                 \
		return kw_real.name(__VA_ARGS__);                                \
	if (kw_is_private(s))                                                    \
		return kw_ebadf();                                               \
	r = kw_real.name(__VA_ARGS__);                                           \
	if (kw_stream_received(s, &r, errno, iov, iovcnt, asked, flags)) {       \
		r = kw_real.name(__VA_ARGS__); /* on the replayed connection */  \
		kw_stream_received(s, &r, errno, iov, iovcnt, asked, flags);     \
	}                                                                        \
	return r

/* Send-side: iov/iovcnt are the bytes offered; hook 0 skips
 * kw_stream_before_send (which may upgrade the request head or redial). */
#define SEND_BODY(name, fail, flags, iov, iovcnt, hook, ...)                       \
	struct kw_fd *s = kw_fd_lookup(fd);                                      \
	ssize_t r;                                                               \
	KW_REAL_OR_FAIL(name, fail);                                             \
	if (__builtin_expect(!s || kw_depth, 1))                                 \
		return kw_real.name(__VA_ARGS__);                                \
	if (kw_is_private(s))                                                    \
		return kw_ebadf();                                               \
	if ((hook) && kw_stream_before_send(s, iov, iovcnt, flags, &r))          \
		return r;                                                        \
	r = kw_real.name(__VA_ARGS__);                                           \
	if (kw_stream_sent(s, r, errno, iov, iovcnt, flags)) {                   \
		r = kw_real.name(__VA_ARGS__); /* on the replayed connection */  \
		kw_stream_sent(s, r, errno, iov, iovcnt, flags);                 \
	}                                                                        \
	return r

/* Define wrapper name: an untracked descriptor (no slot) goes straight to the
 * real function, a tail call that saves no register; a followed or private
 * one, and every call before the real functions are resolved, takes
 * name##_slow, whose body follows the macro. */
#define WRAPPER(name, ret, params, args, fd)                                         \
	static ret name##_slow params __attribute__((noinline));                     \
	KW_EXPORT ret name params                                                    \
	{                                                                            \
		if (__builtin_expect(!kw_fd_lookup(fd) && kw_real_ready() && kw_real.name, 1)) \
			return kw_real.name args;                                    \
		return name##_slow args;                                             \
	}                                                                            \
	static ret name##_slow params

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;
	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

WRAPPER(read, ssize_t, (int fd, void *buf, size_t n),
        (fd, buf, n), fd)
{
	RECV_BODY(read, -1, n, 0, ONE(buf, n), 1, fd, buf, n);
}

WRAPPER(__read_chk, ssize_t, (int fd, void *buf, size_t n, size_t buflen),
        (fd, buf, n, buflen), fd)
{
	RECV_BODY(__read_chk, -1, n, 0, ONE(buf, n), 1, fd, buf, n, buflen);
}

WRAPPER(recv, ssize_t, (int fd, void *buf, size_t n, int flags),
        (fd, buf, n, flags), fd)
{
	RECV_BODY(recv, -1, n, flags, ONE(buf, n), 1, fd, buf, n, flags);
}

WRAPPER(__recv_chk, ssize_t, (int fd, void *buf, size_t n, size_t buflen, int flags),
        (fd, buf, n, buflen, flags), fd)
{
	RECV_BODY(__recv_chk, -1, n, flags, ONE(buf, n), 1, fd, buf, n, buflen, flags);
}

WRAPPER(recvfrom, ssize_t, (int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                           socklen_t *fromlen),
        (fd, buf, n, flags, from, fromlen), fd)
{
	RECV_BODY(recvfrom, -1, n, flags, ONE(buf, n), 1, fd, buf, n, flags, from, fromlen);
}

WRAPPER(__recvfrom_chk, ssize_t, (int fd, void *buf, size_t n, size_t buflen, int flags,
                                 struct sockaddr *from, socklen_t *fromlen),
        (fd, buf, n, buflen, flags, from, fromlen), fd)
{
	RECV_BODY(__recvfrom_chk, -1, n, flags, ONE(buf, n), 1, fd, buf, n, buflen, flags, from,
	          fromlen);
}

WRAPPER(readv, ssize_t, (int fd, const struct iovec *iov, int iovcnt),
        (fd, iov, iovcnt), fd)
{
	RECV_BODY(readv, -1, iov_total(iov, iovcnt), 0, iov, iovcnt, fd, iov, iovcnt);
}

WRAPPER(recvmsg, ssize_t, (int fd, struct msghdr *msg, int flags),
        (fd, msg, flags), fd)
{
	RECV_BODY(recvmsg, -1, iov_total(msg->msg_iov, (int)msg->msg_iovlen), flags, msg->msg_iov,
	          (int)msg->msg_iovlen, fd, msg, flags);
}

WRAPPER(write, ssize_t, (int fd, const void *buf, size_t n),
        (fd, buf, n), fd)
{
	SEND_BODY(write, -1, 0, ONE(buf, n), 1, 1, fd, buf, n);
}

WRAPPER(send, ssize_t, (int fd, const void *buf, size_t n, int flags),
        (fd, buf, n, flags), fd)
{
	SEND_BODY(send, -1, flags, ONE(buf, n), 1, 1, fd, buf, n, flags);
}

WRAPPER(sendto, ssize_t, (int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *to, socklen_t tolen),
        (fd, buf, n, flags, to, tolen), fd)
{
	/* With an address it is not a plain connected-stream write: leave it be. */
	SEND_BODY(sendto, -1, flags, ONE(buf, n), 1, !to, fd, buf, n, flags, to, tolen);
}

WRAPPER(writev, ssize_t, (int fd, const struct iovec *iov, int iovcnt),
        (fd, iov, iovcnt), fd)
{
	SEND_BODY(writev, -1, 0, iov, iovcnt, 1, fd, iov, iovcnt);
}

/* Descriptors sent on any socket (SCM_RIGHTS) matter: no fast path then. */
static ssize_t sendmsg_slow(int fd, const struct msghdr *msg, int flags)
	__attribute__((noinline));
KW_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (__builtin_expect(!kw_fd_lookup(fd) && !msg->msg_controllen && kw_real_ready() &&
	                     kw_real.sendmsg, 1))
		return kw_real.sendmsg(fd, msg, flags);
	return sendmsg_slow(fd, msg, flags);
}

static ssize_t sendmsg_slow(int fd, const struct msghdr *msg, int flags)
{
	if (__builtin_expect(msg->msg_controllen != 0, 0))
		kw_fds_sent(msg); /* SCM_RIGHTS: a followed socket gets another holder */
	SEND_BODY(sendmsg, -1, flags, msg->msg_iov, (int)msg->msg_iovlen,
	          !msg->msg_name && !msg->msg_controllen, fd, msg, flags);
}

/* Bytes that move inside the kernel are invisible to the tracker. */
static int refuse_private(int a, int b)
{
	struct kw_fd *sa = kw_fd_lookup(a), *sb = kw_fd_lookup(b);

	if ((sa && kw_is_private(sa)) || (sb && kw_is_private(sb)))
		return -1;
	if (sa)
		kw_taint(a, KW_REASON_KERNEL_COPY);
	if (sb)
		kw_taint(b, KW_REASON_KERNEL_COPY);
	return 0;
}

KW_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	KW_REAL_OR_FAIL(sendfile, -1);
	if (refuse_private(out, in) < 0)
		return kw_ebadf();
	return kw_real.sendfile(out, in, off, n);
}

KW_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
	KW_REAL_OR_FAIL(sendfile64, -1);
	if (refuse_private(out, in) < 0)
		return kw_ebadf();
	return kw_real.sendfile64(out, in, off, n);
}

KW_EXPORT ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t n,
                         unsigned int flags)
{
	KW_REAL_OR_FAIL(splice, -1);
	if (refuse_private(out, in) < 0)
		return kw_ebadf();
	return kw_real.splice(in, off_in, out, off_out, n, flags);
}
