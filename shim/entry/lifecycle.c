/* lifecycle.c - a followed socket's life as the program sees it: socket(),
 * connect() (a handback or a dial), the calls that pin or taint it, close()
 * (park or close), and the calls that close, claim or copy many descriptors
 * at once (close_range, dup2 onto our numbers, fork). */
#include "entry/entry.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "feature/closestyle.h"
#include "feature/tlsreuse.h"
#include "primitive/follow.h"
#include "primitive/handback.h"
#include "primitive/park.h"
#include "service/forkwatch.h"
#include "service/listeners.h"
#include "service/private.h"
#include "service/tcp.h"
#include "service/tls_keep.h"
#include "sink/report.h"

/* ---- following sockets ---- */

void kw_on_listen(int fd)
{
	int saved = errno;

	if (kw_init())
		kw_listeners_add(fd);
	errno = saved;
}

void kw_on_socket(int fd, int domain, int type, int protocol)
{
	struct kw_fd *s;
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	/* Whatever this number was before, it is a new socket now. */
	kw_fd_set_kind(fd, KW_FD_NONE);
	if (!kw_init())
		return;
	kw_forkwatch_check();
	if ((domain != AF_INET && domain != AF_INET6) || base != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return;
	if (!(s = kw_fd_slot(fd)))
		return;
	kw_slot_lock(s);
	/* Its inode is read when it dials: a handback brings the parked one's. */
	kw_conn_reset(&s->conn, kw_pid, 0, &kw_tcp_transport);
	s->conn.file_flags = O_RDWR | (type & SOCK_NONBLOCK ? O_NONBLOCK : 0);
	s->conn.fd_flags = type & SOCK_CLOEXEC ? FD_CLOEXEC : 0;
	atomic_store_explicit(&s->kind, KW_FD_SOCKET, memory_order_release);
	kw_slot_unlock(s);
}

bool kw_relieve_fd_pressure(void)
{
	if (!kw_init())
		return false;
	kw_park_flush(KW_REASON_FD_PRESSURE);
	return true;
}

/* No parked connection here: ask the broker, with no lock held across its
 * round trip (slot lock held on entry and on return). 1: the descriptor
 * holds one; 0: dial (*slow: the broker did not answer in time); -1: the
 * program closed or replaced the socket meanwhile, and the kernel answers
 * its connect(). */
static int ask_far(struct kw_fd *s, int fd, bool *slow)
{
	struct kw_conn *c = &s->conn;
	struct kw_dest d = c->dest;
	struct kw_idle_meta m;
	uint32_t opts = kw_conn_opts_hash(c);
	int h;

	atomic_store_explicit(&s->kind, KW_FD_CONNECTING, memory_order_release);
	kw_slot_unlock(s);
	h = kw_handback_ask_far(&d, opts, fd, &m);
	*slow = h == -2;
	kw_slot_lock(s);
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_CONNECTING) {
		if (h >= 0)
			kw_tcp_transport.close(h);
		return -1;
	}
	atomic_store_explicit(&s->kind, KW_FD_SOCKET, memory_order_release);
	return h >= 0 && kw_handback_give(s, h, &m) ? 1 : 0;
}

int kw_connect(struct kw_fd *s, int fd, const struct sockaddr *addr, socklen_t len)
{
	struct kw_conn *c = &s->conn;
	int saved = errno, ret, err;
	bool slow = false, blocking, timed_out;

	kw_forkwatch_check(); /* before any lock: a child resets them all */
	kw_slot_lock(s);
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_SOCKET) {
		kw_slot_unlock(s);
		return kw_real.connect(fd, addr, len); /* a second connect(): the kernel answers */
	}
	if (kw_dest_from_sockaddr(&c->dest, addr, len) < 0) {
		kw_let_go(s, KW_REASON_NOT_INET);
		kw_slot_unlock(s);
		return kw_real.connect(fd, addr, len);
	}
	/* A denied destination is the program's alone: no handback, no broker,
	 * nothing followed (so no parking and no TLS takeover either). */
	if (!kw_dest_rules_allow(&kw_cfg.destinations, &c->dest)) {
		kw_let_go(s, KW_REASON_DEST_RULE);
		kw_slot_unlock(s);
		return kw_real.connect(fd, addr, len);
	}
	kw_report_tick();
	c->asked_us = kw_report_latency ? kw_now_us() : 0;
	if (kw_mode == KW_MODE_REUSE && kw_handback(s)) {
		kw_slot_unlock(s);
		errno = saved;
		return 0;
	}
	if (kw_mode == KW_MODE_REUSE && kw_pool_far.ops) {
		int far = ask_far(s, fd, &slow);
		if (far) {
			kw_slot_unlock(s);
			if (far > 0) {
				errno = saved;
				return 0;
			}
			return kw_real.connect(fd, addr, len);
		}
	}
	if (!c->ino && !(c->ino = kw_tcp_inode(fd))) {
		kw_let_go(s, KW_REASON_NOT_OUR_SOCKET);
		kw_slot_unlock(s);
		return kw_real.connect(fd, addr, len);
	}
	blocking = kw_cfg.connect_timeout_ms && (c->file_flags >= 0 ? !(c->file_flags & O_NONBLOCK)
	                                                            : c->tp->blocking(fd));
	/* The real connect() may block for minutes, be left by siglongjmp or
	 * cancelled: no lock across it. Meanwhile a close(), shutdown() or new
	 * socket() on the number changes the kind, and then nothing is followed. */
	atomic_store_explicit(&s->kind, KW_FD_CONNECTING, memory_order_release);
	kw_slot_unlock(s);
	ret = kw_tcp_connect_bounded(fd, addr, len, blocking, &timed_out);
	err = errno;
	kw_slot_lock(s);
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_CONNECTING) {
		if (timed_out) {
			/* Unconnected again, as after the kernel's own timeout: a
			 * second connect() is followed (and bounded) like the first. */
			kw_report(KW_EVENT_DISCARD, fd, &c->dest, KW_REASON_CONNECT_TIMEOUT, -1, -1);
			atomic_store_explicit(&s->kind, KW_FD_SOCKET, memory_order_release);
		} else if (ret == 0 || err == EINPROGRESS || err == EINTR) {
			kw_conn_dialled(c, kw_now_ms());
			kw_follow(s);
			kw_report(KW_EVENT_DIAL, fd, &c->dest,
			          slow ? KW_REASON_BROKER_SLOW : KW_REASON_NONE, -1, -1);
		} else {
			kw_let_go(s, KW_REASON_CONNECT_FAILED);
		}
	}
	kw_slot_unlock(s);
	errno = err;
	return ret;
}

void kw_taint(int fd, enum kw_reason reason)
{
	struct kw_fd *s = kw_fd_lookup(fd);
	int saved = errno;

	if (!s || kw_depth)
		return;
	kw_slot_lock(s);
	kw_let_go(s, reason);
	kw_slot_unlock(s);
	errno = saved;
}

void kw_fds_sent(const struct msghdr *msg)
{
	struct msghdr *m = (struct msghdr *)msg; /* the CMSG macros want it writable */

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof fd, sizeof fd);
			kw_taint(fd, KW_REASON_FD_PASSED);
		}
	}
}

void kw_pin(struct kw_fd *s, enum kw_reason reason)
{
	int saved = errno;

	kw_slot_lock(s);
	kw_let_go(s, reason);
	kw_slot_unlock(s);
	errno = saved;
}

void kw_note_sockopt(struct kw_fd *s, int level, int name, const void *val, socklen_t len)
{
	int saved = errno;
	uint32_t bit;

	if (kw_sockopt_pins_socket(level, name)) {
		kw_pin(s, KW_REASON_PINNED_BY_SOCKOPT);
		return;
	}
	kw_slot_lock(s);
	bit = kw_copied_opt_bit(level, name);
	s->conn.meta.touched |= bit;
	/* Before connect() they must follow the socket onto a handed-back
	 * connection; afterwards they are already on the real one, where only a
	 * copied option can be put back for its next user. */
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_SOCKET) {
		if (!kw_conn_record_opt(&s->conn, level, name, val, len))
			kw_let_go(s, KW_REASON_SOCKOPT_NOT_REPLAYABLE);
	} else if (!bit) {
		kw_let_go(s, KW_REASON_SOCKOPT_NOT_RESETTABLE); /* connecting or connected */
	}
	kw_slot_unlock(s);
	errno = saved;
}

void kw_note_flags(struct kw_fd *s, long how, long arg)
{
	struct kw_conn *c = &s->conn;

	if (kw_depth) {
		/* Re-entered (a signal handler's fcntl while this thread may hold
		 * the slot's lock): no lock, and the kernel is asked again. */
		__atomic_store_n(&c->file_flags, -1, __ATOMIC_RELAXED);
		__atomic_store_n(&c->fd_flags, -1, __ATOMIC_RELAXED);
		return;
	}
	kw_slot_lock(s);
	switch (how) {
	case F_SETFL:
		/* A socket's settable flags: O_NONBLOCK is followed; O_ASYNC lets
		 * go; any other is read back from the kernel at a handback. */
		c->file_flags = arg & ~(long)(O_NONBLOCK | O_ACCMODE) ? -1
		                                                      : O_RDWR | (int)(arg & O_NONBLOCK);
		break;
	case F_SETFD:
		c->fd_flags = (int)(arg & FD_CLOEXEC);
		break;
	case FIONBIO:
		if (c->file_flags >= 0)
			c->file_flags = arg ? c->file_flags | O_NONBLOCK : c->file_flags & ~O_NONBLOCK;
		break;
	case FIOCLEX:
	case FIONCLEX:
		c->fd_flags = how == FIOCLEX ? FD_CLOEXEC : 0;
		break;
	default:
		c->file_flags = c->fd_flags = -1;
	}
	kw_slot_unlock(s);
}

void kw_note_epoll(struct kw_fd *s, int epfd, int op, const struct epoll_event *ev)
{
	int saved = errno;

	kw_slot_lock(s);
	if (!kw_conn_record_epoll(&s->conn, epfd, op, ev))
		kw_let_go(s, KW_REASON_EPOLL_SETS);
	kw_slot_unlock(s);
	errno = saved;
}

int kw_close(struct kw_fd *s, int fd)
{
	int saved = errno, ret;
	enum kw_reason why;
	bool followed;

	if (atomic_load_explicit(&s->kind, memory_order_acquire) == KW_FD_PRIVATE)
		return kw_ebadf();
	if (kw_depth) /* re-entered (signal handler): no decisions, just close */
		return kw_real.close(fd);
	kw_report_tick();
	kw_forkwatch_check();
	kw_slot_lock(s);
	followed = atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_HTTP;
	if (followed && kw_mode == KW_MODE_REUSE) {
		if (s->conn.dest.tls && !s->conn.tls_kept && !s->conn.tls_pending)
			(void)kw_tlsreuse_keep_now(s, false);
		why = kw_park(s, -1, false);
		if (kw_cfg.drain_bytes &&
		    (why == KW_REASON_RESPONSE_INCOMPLETE || why == KW_REASON_RESPONSE_PENDING)) {
			kw_closestyle_drain(s);
			why = kw_park(s, -1, false);
		}
		if (why)
			kw_report(KW_EVENT_DISCARD, fd, &s->conn.dest, why, -1, kw_conn_requests(&s->conn));
		/* A TLS session keepwarm held for this connection ends with it. */
		if (why && (s->conn.tls_kept || s->conn.tls_pending))
			kw_tls_keep_end_ino(s->conn.ino);
		s->conn.tls_kept = s->conn.tls_pending = false;
		s->conn.tls = NULL;
	}
	atomic_store_explicit(&s->kind, KW_FD_NONE, memory_order_release);
	kw_slot_unlock(s);
	errno = saved;
	ret = kw_real.close(fd);
	if (followed)
		kw_report_closed(); /* keeps errno */
	return ret;
}

void kw_claim_number(int fd)
{
	struct kw_fd *s = kw_fd_lookup(fd);

	if (!s)
		return;
	if (atomic_load_explicit(&s->kind, memory_order_acquire) == KW_FD_PRIVATE) {
		if (!kw_report_relocate(fd))
			kw_park_relocate(fd);
		return;
	}
	/* The program's own followed socket is closed implicitly: never parked. */
	kw_slot_lock(s);
	kw_let_go(s, KW_REASON_REPLACED_BY_DUP);
	kw_slot_unlock(s);
}

/* ---- close_range ---- */

struct fd_list {
	int *fds;
	size_t n, cap;
	unsigned lo, hi;
	int kind; /* which kind to collect */
};

static void collect(struct kw_fd *s, void *arg)
{
	struct fd_list *l = arg;
	int kind = atomic_load_explicit(&s->kind, memory_order_acquire);
	bool want = l->kind == KW_FD_PRIVATE ? kind == KW_FD_PRIVATE
	                                     : (kind == KW_FD_SOCKET || kind == KW_FD_CONNECTING ||
	                                        kind == KW_FD_HTTP);

	if (!want || (unsigned)s->fd < l->lo || (unsigned)s->fd > l->hi)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		int *grown = realloc(l->fds, cap * sizeof *grown);
		if (!grown)
			return;
		l->fds = grown;
		l->cap = cap;
	}
	l->fds[l->n++] = s->fd;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int kw_close_range(unsigned lo, unsigned hi, int flags)
{
	struct fd_list l = { .lo = lo, .hi = hi, .kind = KW_FD_HTTP };
	unsigned from = lo;
	int ret = 0, err = 0;

	if (!kw_fd_table || (flags & CLOSE_RANGE_CLOEXEC) || lo > hi)
		return kw_real.close_range(lo, hi, flags);
	/* The program's followed sockets first: each may be parked. */
	kw_fd_for_each(collect, &l);
	for (size_t i = 0; i < l.n; i++) {
		struct kw_fd *s = kw_fd_lookup(l.fds[i]);
		if (s)
			kw_close(s, l.fds[i]);
	}
	/* Then everything else in the range, stepping around our own numbers. */
	l.n = 0;
	l.kind = KW_FD_PRIVATE;
	kw_private_lock();
	kw_fd_for_each(collect, &l);
	qsort(l.fds, l.n, sizeof *l.fds, cmp_int);
	for (size_t i = 0; i <= l.n && ret == 0; i++) {
		unsigned to = i < l.n ? (unsigned)l.fds[i] - 1 : hi;
		if (i < l.n && (unsigned)l.fds[i] == from) {
			from++;
			continue;
		}
		if (from <= to && from <= hi) {
			ret = kw_real.close_range(from, to, flags);
			err = errno;
		}
		if (i < l.n)
			from = (unsigned)l.fds[i] + 1;
	}
	kw_private_unlock();
	free(l.fds);
	errno = err ? err : errno;
	return ret;
}

/* ---- exit ---- */

/* A connection the program leaves open at exit, idle between exchanges and
 * settled by the kernel's counters (wget exits without closing): a copy is
 * parked, for the hand-over below. */
static void park_left_open(struct kw_fd *s, void *arg)
{
	struct kw_conn *c = &s->conn;
	int h;

	(void)arg;
	if (atomic_load_explicit(&s->kind, memory_order_acquire) != KW_FD_HTTP)
		return;
	kw_slot_lock(s);
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_HTTP && !c->watch_only &&
	    c->tp == &kw_tcp_transport && !c->dest.tls && c->owner == kw_pid &&
	    (h = kw_private_dup(s->fd)) >= 0)
		(void)kw_park(s, h, false); /* h consumed either way */
	kw_slot_unlock(s);
}

/* At exit, what this process would lose goes to the broker: its parked
 * plain connections and the clean ones it leaves open. A process that ends
 * with _exit() or a signal gives nothing. */
__attribute__((destructor)) static void hand_over_at_exit(void)
{
	int saved = errno;

	if (kw_mode == KW_MODE_REUSE && kw_pool_far.ops) {
		kw_forkwatch_check();
		kw_fd_for_each(park_left_open, NULL);
		kw_park_hand_over();
	}
	errno = saved;
}
