/* tcp.c - the TCP transport: every socket operation keepwarm makes on the
 * program's behalf, through the real functions. */
#include "service/tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "logic/conn.h"
#include "service/private.h"
#include "service/real.h"
#include "service/state.h"
#include "service/tcpinfo.h"

ino_t kw_tcp_inode(int fd)
{
	struct stat st;

	return kw_real.fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* What a fresh socket reads for each copied option, learned from the first
 * program socket that had not changed it: one getsockopt per option and
 * process instead of one per handback. Each copied option is either
 * family-independent or of one family, so one value per option. They are the
 * kernel's defaults when learned; a sysctl changed later (tcp_keepalive_time)
 * is not seen by connections handed back afterwards. state: 0 unknown, 1
 * being written by the thread that claimed it, 2 known. */
static struct fresh_default {
	atomic_uint state;
	socklen_t len;
	unsigned char val[KW_CONN_OPT_MAX_LEN];
} fresh_defaults[32];

/* Option i as the program's socket from reads it, into val/len (its size on
 * entry). own: the program changed it on from (read it from there). */
static bool read_option(unsigned i, int from, bool own, unsigned char *val, socklen_t *len)
{
	const struct kw_copied_opt *o = &kw_copied_opts[i];
	struct fresh_default *f = i < 32 ? &fresh_defaults[i] : NULL;
	unsigned unknown = 0;

	if (!own && f && atomic_load_explicit(&f->state, memory_order_acquire) == 2) {
		memcpy(val, f->val, f->len);
		*len = f->len;
		return true;
	}
	if (kw_real.getsockopt(from, o->level, o->name, val, len) < 0)
		return false;
	if (!own && f && *len <= sizeof f->val &&
	    atomic_compare_exchange_strong(&f->state, &unknown, 1)) {
		memcpy(f->val, val, *len);
		f->len = *len;
		atomic_store_explicit(&f->state, 2, memory_order_release);
	}
	return true;
}

/* Set copied option i on to as the program's socket from has it. SO_LINGER:
 * with l_onoff 0 the kernel keeps the previous linger time, so it is set on
 * first, then off. */
static bool copy_option(unsigned i, int from, bool own, int to)
{
	const struct kw_copied_opt *o = &kw_copied_opts[i];
	unsigned char val[KW_CONN_OPT_MAX_LEN];
	socklen_t len = sizeof val;

	if (!read_option(i, from, own, val, &len))
		return false;
	if (o->level == SOL_SOCKET && o->name == SO_LINGER && len == sizeof(struct linger)) {
		struct linger l;
		memcpy(&l, val, sizeof l);
		if (!l.l_onoff) {
			struct linger on = { 1, l.l_linger };
			if (kw_real.setsockopt(to, SOL_SOCKET, SO_LINGER, &on, sizeof on) < 0)
				return false;
		}
	}
	return kw_real.setsockopt(to, o->level, o->name, val, len) == 0;
}

/* The value the program gave option o before connect(), when keepwarm
 * recorded it; NULL for SO_LINGER, whose off value leaves the previous linger
 * time in place (copy_option reads it back instead). */
static const struct kw_sockopt *recorded(const struct kw_conn *c, const struct kw_copied_opt *o)
{
	if (o->level == SOL_SOCKET && o->name == SO_LINGER)
		return NULL;
	for (unsigned i = c->nopts; i-- > 0;)
		if (c->opts[i].level == o->level && c->opts[i].name == o->name)
			return &c->opts[i];
	return NULL;
}

/* Copy the program's socket options from one socket to another: the copied
 * ones in touched by value (so defaults travel too), the rest as the program
 * set them before connect(). Only options changed on either socket can
 * differ, so a program that sets none costs no system call here. unconnected:
 * from is the program's socket before its connect(), whose own values are
 * the ones it recorded. False when one could not be set: the connection
 * would not read as the program's. */
static bool carry_options(const struct kw_conn *c, int from, int to, uint32_t touched,
                          bool unconnected)
{
	bool ok = true;

	for (unsigned i = 0; i < kw_ncopied_opts; i++) {
		const struct kw_copied_opt *o = &kw_copied_opts[i];
		bool own = (c->meta.touched & (1u << i)) != 0;
		const struct kw_sockopt *set = own && unconnected ? recorded(c, o) : NULL;

		if (!(touched & (1u << i)) || (o->family && o->family != c->dest.family))
			continue;
		/* What the program set on its still unconnected socket, set
		 * again: the state its own call made, without reading it back
		 * (once connected, it may have changed it since). */
		if (set ? kw_real.setsockopt(to, o->level, o->name, set->value, set->len) < 0
		        : !copy_option(i, from, own, to))
			ok = false;
	}
	for (unsigned i = 0; i < c->nopts; i++)
		if (!kw_copied_opt_bit(c->opts[i].level, c->opts[i].name) &&
		    kw_real.setsockopt(to, c->opts[i].level, c->opts[i].name, c->opts[i].value,
		                       c->opts[i].len) < 0)
			ok = false;
	return ok;
}

static bool tcp_wait(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	return kw_real.poll(&p, 1, ms) == 1 && !(p.revents & (POLLERR | POLLNVAL));
}

static ssize_t tcp_send(int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	return kw_real.sendmsg(fd, &m, flags);
}

static bool tcp_send_all(int fd, const void *buf, size_t len, int ms)
{
	const char *p = buf;
	uint64_t deadline = kw_now_ms() + (uint64_t)ms;

	while (len) {
		ssize_t n = kw_real.send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		uint64_t now = kw_now_ms();
		if (now >= deadline || !tcp_wait(fd, POLLOUT, (int)(deadline - now)))
			return false;
	}
	return true;
}

static ssize_t tcp_recv(int fd, void *buf, size_t len)
{
	return kw_real.recv(fd, buf, len, MSG_DONTWAIT);
}

static int tcp_unread(int fd)
{
	int unread = 0;
	return kw_real.ioctl(fd, FIONREAD, &unread) == 0 ? unread : -1;
}

static bool tcp_alive(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	return fd >= 0 && kw_real.poll(&p, 1, 0) == 0;
}

/* One getsockopt(TCP_INFO) in place of a poll and a FIONREAD: open and
 * established, every byte received consumed by the program, every byte sent
 * acknowledged, and not one more in either direction than keepwarm saw. A
 * second system call only to name a failure. */
static enum kw_reason tcp_settled(const struct kw_conn *c, int fd)
{
	struct kw_tcp_counters k;
	uint64_t sent = c->meta.wire_sent, received = c->meta.wire_received;

	if (!kw_tcp_counters(fd, &k)) /* no counters: the old checks */
		return tcp_alive(fd) ? KW_REASON_NONE
		                     : tcp_unread(fd) > 0 ? KW_REASON_UNREAD_BYTES : KW_REASON_SERVER_CLOSED;
	if (k.received > received) {
		if (tcp_unread(fd) > 0)
			return KW_REASON_UNREAD_BYTES;
		return !k.established && k.received == received + 1 ? KW_REASON_SERVER_CLOSED
		                                                     : KW_REASON_UNSEEN_IO;
	}
	if (!k.established)
		return KW_REASON_SERVER_CLOSED;
	if (k.received != received)
		return KW_REASON_UNSEEN_IO;
	if (k.unacked || k.notsent || k.acked < sent + 1)
		return KW_REASON_UNACKED;
	return k.acked == sent + 1 ? KW_REASON_NONE : KW_REASON_UNSEEN_IO;
}

static bool tcp_same(const struct kw_conn *c, int fd)
{
	struct stat st;
	return kw_real.fstat(fd, &st) == 0 && st.st_ino == c->ino;
}

static int tcp_dial(struct kw_conn *c, int fd, bool *in_progress)
{
	struct sockaddr_storage ss;
	socklen_t len = kw_dest_to_sockaddr(&c->dest, &ss);
	int nfd = kw_real.socket(c->dest.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (nfd < 0)
		return -1;
	carry_options(c, fd, nfd, c->meta.touched, false);
	*in_progress = false;
	if (kw_real.connect(nfd, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS) {
			kw_real.close(nfd);
			return -1;
		}
		*in_progress = true;
	}
	return nfd;
}

int kw_tcp_connect_bounded(int fd, const struct sockaddr *addr, socklen_t len, bool blocking,
                           bool *timed_out)
{
	uint64_t ms = kw_cfg.connect_timeout_ms;
	struct timeval mine, ours = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };
	socklen_t mlen = sizeof mine;
	int ret, err, e;

	*timed_out = false;
	if (!ms || !blocking ||
	    kw_real.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &mine, &mlen) < 0 || mlen != sizeof mine ||
	    ((mine.tv_sec || mine.tv_usec) &&
	     (uint64_t)mine.tv_sec * 1000000 + (uint64_t)mine.tv_usec <= ms * 1000) ||
	    kw_real.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &ours, sizeof ours) < 0)
		return kw_real.connect(fd, addr, len);
	ret = kw_real.connect(fd, addr, len);
	err = errno;
	kw_real.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &mine, sizeof mine);
	/* A blocking connect() its send timeout ended says EINPROGRESS. */
	if (ret < 0 && err == EINPROGRESS) {
		struct sockaddr unspec = { .sa_family = AF_UNSPEC };
		mlen = sizeof e;
		kw_real.connect(fd, &unspec, sizeof unspec);
		/* The abort leaves ECONNRESET pending; the kernel's timeout leaves none. */
		kw_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &mlen);
		*timed_out = true;
		err = ETIMEDOUT;
	}
	errno = err;
	return ret;
}

int kw_tcp_dial_wait_ms(void)
{
	uint64_t ms = kw_cfg.connect_timeout_ms;

	return !ms ? KW_REDIAL_TIMEOUT_MS : ms > INT_MAX ? INT_MAX : (int)ms;
}

static bool tcp_connected(int fd, int ms)
{
	int err = 0;
	socklen_t len = sizeof err;

	return tcp_wait(fd, POLLOUT, ms) &&
	       kw_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

void kw_tcp_probe_idle(int h)
{
	int on = 1, secs = (int)(kw_cfg.tcp_keepalive_ms / 1000);

	if (!kw_cfg.tcp_keepalive_ms)
		return;
	if (secs < 1)
		secs = 1;
	kw_real.setsockopt(h, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	kw_real.setsockopt(h, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof secs);
	kw_real.setsockopt(h, IPPROTO_TCP, TCP_KEEPINTVL, &secs, sizeof secs);
}

static int tcp_detach(struct kw_conn *c, int fd)
{
	int parked;

	/* An epoll set keeps reporting a description until all its fds close. */
	for (unsigned i = 0; i < c->nregs; i++)
		kw_real.epoll_ctl(c->regs[i].epfd, EPOLL_CTL_DEL, fd, NULL);
	parked = kw_private_dup(fd);
	return parked;
}

/* tcp_install; stand_in: h is end_with_eof's end-of-file socket, which
 * keepwarm no longer follows (its inode is not read: c->ino becomes 0). */
static int put_on(struct kw_conn *c, int fd, int h, enum kw_install how, uint32_t carry_opts,
                  int h_flags, bool stand_in)
{
	/* The flags keepwarm saw the program set, else the kernel's. */
	int fl = c->file_flags >= 0 ? c->file_flags : kw_real.fcntl(fd, F_GETFL);
	int fdfl = c->fd_flags >= 0 ? c->fd_flags : kw_real.fcntl(fd, F_GETFD), ret;
	ino_t ino;

	if (how == KW_INSTALL_HANDBACK) {
		if (fl < 0 || fdfl < 0) {
			kw_private_close(h);
			return -1;
		}
		if (!carry_options(c, fd, h, carry_opts, true) ||
		    (h_flags != fl && kw_real.fcntl(h, F_SETFL, fl) < 0)) {
			kw_private_close(h);
			return -1;
		}
		c->file_flags = fl;
		c->fd_flags = fdfl;
	} else {
		for (unsigned i = 0; i < c->nregs; i++)
			kw_real.epoll_ctl(c->regs[i].epfd, EPOLL_CTL_DEL, fd, NULL);
		if (fl >= 0 && fl != h_flags)
			kw_real.fcntl(h, F_SETFL, fl);
	}
	ret = kw_real.dup3(h, fd, fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
	kw_private_close(h);
	if (ret < 0 && how == KW_INSTALL_HANDBACK)
		return -1;
	/* It is this socket now; a handback may know its inode already. */
	if (ret >= 0 && stand_in)
		c->ino = 0;
	else if (ret >= 0 && (how != KW_INSTALL_HANDBACK || !c->ino) && (ino = kw_tcp_inode(fd)))
		c->ino = ino;
	/* The replaced socket's registrations went with it (or were taken off). */
	for (unsigned i = 0; i < c->nregs; i++)
		kw_real.epoll_ctl(c->regs[i].epfd, EPOLL_CTL_ADD, fd, &c->regs[i].ev);
	return ret < 0 ? -1 : 0;
}

static int tcp_install(struct kw_conn *c, int fd, int h, enum kw_install how, uint32_t carry_opts,
                       int h_flags)
{
	return put_on(c, fd, h, how, carry_opts, h_flags, false);
}

static bool tcp_end_with_eof(struct kw_conn *c, int fd, kw_set_aside_fn set_aside, void *arg)
{
	int pair[2], keep = -1;
	ino_t kept_ino;
	/* Made with the program's O_NONBLOCK when keepwarm knows its flags. */
	bool nonblock = c->file_flags >= 0 && (c->file_flags & O_NONBLOCK);
	int pair_flags = c->file_flags >= 0 ? O_RDWR | (nonblock ? O_NONBLOCK : 0) : -1;

	/* A socket whose peer is gone: reads return 0 and poll/select/epoll
	 * report it readable and hung up, as after the server's close. */
	if (kw_real.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0,
	                       pair) == 0) {
		kw_real.close(pair[1]);
		/* Only our own socket is set aside (not one put on fd behind us). */
		if (set_aside && !tcp_same(c, fd))
			set_aside = NULL;
		kept_ino = c->ino; /* the socket keep holds, as tcp_same saw */
		if (set_aside && (keep = kw_private_dup(fd)) < 0) {
			kw_real.close(pair[0]);
		} else if (put_on(c, fd, pair[0], KW_INSTALL_REPLACE, 0, pair_flags, true) == 0) {
			if (set_aside) {
				c->aside_ino = kept_ino;
				set_aside(arg, keep);
			}
			return true;
		} else {
			kw_private_close(keep); /* never both parked and on fd */
		}
	}
	kw_real.shutdown(fd, SHUT_RD); /* still end-of-file, without reuse */
	return false;
}

static bool tcp_blocking(int fd)
{
	int fl = kw_real.fcntl(fd, F_GETFL);
	return fl >= 0 && !(fl & O_NONBLOCK);
}

static int tcp_replace(struct kw_conn *c, int fd, int h, kw_set_aside_fn set_aside, void *arg)
{
	int keep;
	ino_t kept_ino;

	if (!tcp_same(c, fd) || (keep = kw_private_dup(fd)) < 0) {
		kw_real.close(h);
		return -1;
	}
	kept_ino = c->ino; /* the socket keep holds, as tcp_same saw */
	if (tcp_install(c, fd, h, KW_INSTALL_REPLACE, 0, -1) < 0) {
		kw_private_close(keep); /* the program goes on with what it had */
		return -1;
	}
	c->aside_ino = kept_ino;
	set_aside(arg, keep);
	return 0;
}

const struct kw_transport kw_tcp_transport = {
	.name = "tcp",
	.kind = KW_TRANSPORT_PLAIN,
	.send = tcp_send,
	.send_all = tcp_send_all,
	.recv = tcp_recv,
	.wait = tcp_wait,
	.unread = tcp_unread,
	.alive = tcp_alive,
	.settled = tcp_settled,
	.same = tcp_same,
	.dial = tcp_dial,
	.connected = tcp_connected,
	.detach = tcp_detach,
	.install = tcp_install,
	.close = kw_private_close,
	.end_with_eof = tcp_end_with_eof,
	.blocking = tcp_blocking,
	.replace = tcp_replace,
};
