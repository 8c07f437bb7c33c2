/* core.c - initialisation, tracing, fork, close_range and the followed-socket
 * bookkeeping shared by the wrappers. Parking and handing back live in
 * reuse.c. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "reuse.h"
#include "closestyle.h"
#include "upgrade.h"
#include "report.h"
#include "trace.h"

struct kw_config kw_cfg;
__thread int kw_depth __attribute__((tls_model("initial-exec")));
int kw_private_base = 1024;

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
static _Atomic int init_state = INIT_NONE;
enum kw_mode kw_mode = KW_MODE_OFF;

uint64_t kw_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t kw_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void warn_stderr(const char *line)
{
	(void)kw_real.write(2, line, strlen(line));
}

static const char *env_lookup(const char *name)
{
	return secure_getenv(name); /* setuid programs ignore the environment */
}

/* Private numbers sit high, in the top eighth of the descriptor limit (below
 * 65536), where programs that take the lowest free number never reach. */
static unsigned size_private_range(void)
{
	struct rlimit rl;
	size_t lim = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		lim = rl.rlim_cur;
	if (lim > 65536)
		lim = 65536;
	if (lim > kw_fd_table_size)
		lim = kw_fd_table_size;
	kw_private_base = (int)(lim - lim / 8);
	return lim / 8 > 1 ? (unsigned)(lim / 8 - 1) : 0; /* one number for the trace file */
}

/* /etc/keepwarm.conf, then ~/.config/keepwarm/keepwarm.conf: under the
 * environment, which is applied last. */
static void apply_file(const char *path)
{
	char text[64 * 1024];
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while (len < sizeof text - 1 && (n = kw_real.read(fd, text + len, sizeof text - 1 - len)) > 0)
		len += (size_t)n;
	kw_real.close(fd);
	text[len] = '\0';
	kw_config_apply_text(&kw_cfg, text, path, warn_stderr);
}

static void load_config(void)
{
	const char *home = secure_getenv("HOME");
	char user[1024];

	kw_config_defaults(&kw_cfg);
	if (getauxval(AT_SECURE))
		return; /* setuid: neither files nor environment */
	apply_file("/etc/keepwarm.conf");
	if (home && snprintf(user, sizeof user, "%s/.config/keepwarm/keepwarm.conf", home) < (int)sizeof user)
		apply_file(user);
	kw_config_apply_env(&kw_cfg, env_lookup, warn_stderr);
}

/* KEEPWARM_SAMPLE: this process joins the on arm with that probability. */
static bool in_on_arm(void)
{
	uint64_t r;

	if (!kw_cfg.enabled || kw_cfg.sample <= 0.0)
		return false;
	if (kw_cfg.sample >= 1.0)
		return true;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ kw_now_ms();
	return (double)(r >> 11) / (double)(1ULL << 53) < kw_cfg.sample;
}

bool kw_init(void)
{
	int expected = INIT_NONE;

	if (atomic_load_explicit(&init_state, memory_order_acquire) == INIT_DONE)
		return kw_mode != KW_MODE_OFF;
	if (!atomic_compare_exchange_strong(&init_state, &expected, INIT_RUNNING)) {
		if (kw_depth)
			return false; /* re-entered from our own initialisation */
		while (atomic_load_explicit(&init_state, memory_order_acquire) != INIT_DONE)
			sched_yield();
		return kw_mode != KW_MODE_OFF;
	}
	kw_depth++;
	if (kw_real_resolve() == 0) {
		bool on;
		load_config();
		on = in_on_arm();
		if ((on || kw_cfg.stats[0]) && kw_fd_table_init() == 0) {
			unsigned cap = size_private_range();
			unsigned total = kw_cfg.max_idle < cap ? kw_cfg.max_idle : cap;
			if (kw_pool_local_init(total, kw_cfg.max_idle_per_host) == 0)
				kw_mode = on ? KW_MODE_REUSE : KW_MODE_OBSERVE;
		}
		kw_report_init(&kw_cfg, on ? "on" : "off");
	}
	kw_depth--;
	atomic_store_explicit(&init_state, INIT_DONE, memory_order_release);
	return kw_mode != KW_MODE_OFF;
}

__attribute__((constructor)) static void kw_constructor(void)
{
	kw_init();
}

/* ---- following sockets ---- */

void kw_on_socket(int fd, int domain, int type, int protocol)
{
	struct kw_fd *s;
	struct stat st;
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	/* Whatever this number was before, it is a new socket now. */
	kw_fd_set_kind(fd, KW_FD_NONE);
	if (!kw_init())
		return;
	if ((domain != AF_INET && domain != AF_INET6) || base != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return;
	if (fstat(fd, &st) < 0 || !(s = kw_fd_slot(fd)))
		return;
	pthread_mutex_lock(&s->lock);
	kw_conn_reset(&s->conn, getpid(), st.st_ino);
	atomic_store_explicit(&s->kind, KW_FD_SOCKET, memory_order_release);
	pthread_mutex_unlock(&s->lock);
}

bool kw_relieve_fd_pressure(void)
{
	if (!kw_init())
		return false;
	kw_pool_local.flush("fd-pressure");
	return true;
}

void kw_slot_lock(struct kw_fd *s)
{
	kw_depth++;
	pthread_mutex_lock(&s->lock);
}

void kw_slot_unlock(struct kw_fd *s)
{
	pthread_mutex_unlock(&s->lock);
	kw_depth--;
}

static const char *event_for_reason(const char *reason)
{
	static const char *const passthrough[] = { "not-http", "not-http1", "server-spoke-first",
	                                           "upgrade", "connect" };
	for (size_t i = 0; i < sizeof passthrough / sizeof passthrough[0]; i++)
		if (!strcmp(reason, passthrough[i]))
			return "passthrough";
	return "discard";
}

void kw_let_go_locked(struct kw_fd *s, const char *event, const char *reason)
{
	int kind = atomic_load_explicit(&s->kind, memory_order_relaxed);

	if (kind != KW_FD_SOCKET && kind != KW_FD_HTTP)
		return;
	atomic_store_explicit(&s->kind, KW_FD_NONE, memory_order_release);
	if (!event)
		event = event_for_reason(reason);
	kw_event(event, s->fd, kind == KW_FD_HTTP ? &s->conn.dest : NULL, reason, -1,
	         kind == KW_FD_HTTP ? (int64_t)(s->conn.requests_before + s->conn.track.responses) : -1);
}

void kw_taint(int fd, const char *reason)
{
	struct kw_fd *s = kw_fd_lookup(fd);
	int saved = errno;

	if (!s || kw_depth)
		return;
	kw_slot_lock(s);
	kw_let_go_locked(s, "taint", reason);
	kw_slot_unlock(s);
	errno = saved;
}

void kw_pin(struct kw_fd *s, const char *reason)
{
	int saved = errno;

	kw_slot_lock(s);
	kw_let_go_locked(s, "passthrough", reason);
	kw_slot_unlock(s);
	errno = saved;
}

void kw_note_sockopt(struct kw_fd *s, int level, int name, const void *val, socklen_t len)
{
	int saved = errno;

	if (kw_sockopt_pins_socket(level, name)) {
		kw_pin(s, "pinned-by-sockopt");
		return;
	}
	kw_slot_lock(s);
	s->conn.touched |= kw_copied_opt_bit(level, name);
	/* Before connect() they must follow the socket onto a handed-back
	 * connection; afterwards they are already on the real one. */
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_SOCKET &&
	    !kw_conn_record_opt(&s->conn, level, name, val, len))
		kw_let_go_locked(s, "taint", "sockopt-not-replayable");
	kw_slot_unlock(s);
	errno = saved;
}

void kw_note_epoll(struct kw_fd *s, int epfd, int op, const struct epoll_event *ev)
{
	int saved = errno;

	kw_slot_lock(s);
	if (!kw_conn_record_epoll(&s->conn, epfd, op, ev))
		kw_let_go_locked(s, "taint", "epoll-sets");
	kw_slot_unlock(s);
	errno = saved;
}

static bool soft_error(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* A reused connection that failed before answering gets one replay. */
static bool replay_worthy(const struct kw_conn *c, ssize_t ret, int err)
{
	return c->reused && !c->answered && c->replayable && !c->replayed &&
	       (ret == 0 || (ret < 0 && (err == ECONNRESET || err == EPIPE)));
}

/* The response to an upgraded request begins in this read: give the program
 * the head a close-style request gets (Connection: close, no Keep-Alive).
 * Only a head complete in the first buffer is touched. Returns the new length. */
static ssize_t restore_close(struct kw_conn *c, void *buf, const struct iovec *iov, ssize_t ret)
{
	char *data = iov ? iov[0].iov_base : buf;
	size_t len = (size_t)ret, head = 0;

	c->restore_close = false;
	if (iov && len > iov[0].iov_len)
		return ret;
	for (size_t i = 0; i + 3 < len; i++)
		if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n') {
			head = i + 4;
			break;
		}
	if (!head || (len > 9 && data[9] == '1'))
		return ret; /* incomplete, or an interim 1xx: leave it be */
	return (ssize_t)kw_response_restore_close(data, head, len);
}

bool kw_after_recv(struct kw_fd *s, ssize_t *retp, int err, void *buf,
                   const struct iovec *iov, int iovcnt, size_t asked, int flags)
{
	struct kw_conn *c = &s->conn;
	ssize_t ret = *retp;
	bool retry = false;

	kw_slot_lock(s);
	if (flags & MSG_PEEK) {
		/* Nothing consumed: the tracker must not advance; and a program that
		 * peeks sees the server's own head from then on. */
		if (ret > 0)
			c->restore_close = false;
	} else if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_HTTP) {
		/* Unconnected: nothing to follow yet. */
	} else if (flags & (MSG_OOB | MSG_TRUNC | MSG_ERRQUEUE)) {
		kw_let_go_locked(s, "taint", "recv-flags");
	} else if (ret > 0) {
		bool starts_response = !c->track.response_open;
		c->answered = true;
		if (kw_report_latency)
			c->track.now_us = kw_now_us();
		if (iov)
			kw_track_response_iov(&c->track, iov, iovcnt, (size_t)ret);
		else
			kw_track_response(&c->track, buf, (size_t)ret);
		if (c->restore_close && starts_response && kw_cfg.upgrade)
			*retp = restore_close(c, buf, iov, ret);
		if (!kw_eof_check(s, s->fd) && c->track.status == KW_TRACK_LET_GO)
			kw_let_go_locked(s, NULL, c->track.reason);
	} else if (replay_worthy(c, ret, err) && kw_replay(s, s->fd, ret ? "reset" : "eof")) {
		retry = true;
	} else if (ret == 0 && asked > 0) {
		kw_track_response_eof(&c->track);
		kw_let_go_locked(s, "discard", "server-closed");
	} else if (ret < 0 && !soft_error(err)) {
		kw_let_go_locked(s, "discard", "read-error");
	}
	kw_slot_unlock(s);
	errno = err;
	return retry;
}

bool kw_after_send(struct kw_fd *s, ssize_t ret, int err, const void *buf,
                   const struct iovec *iov, int iovcnt, int flags)
{
	struct kw_conn *c = &s->conn;
	bool retry = false;

	kw_slot_lock(s);
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_HTTP) {
		/* Unconnected (sendto with an address, TCP Fast Open): not modelled. */
		if (ret > 0)
			kw_let_go_locked(s, "taint", "send-before-connect");
	} else if (flags & MSG_OOB) {
		kw_let_go_locked(s, "taint", "send-oob");
	} else if (ret > 0) {
		if (kw_report_latency)
			c->track.now_us = kw_now_us();
		if (iov)
			kw_track_request_iov(&c->track, iov, iovcnt, (size_t)ret);
		else
			kw_track_request(&c->track, buf, (size_t)ret);
		if (c->replayable && !c->answered)
			kw_conn_keep_replay_iov(c, iov ? iov : &(struct iovec){ (void *)buf, (size_t)ret },
			                        iov ? iovcnt : 1, (size_t)ret);
		if (c->track.status == KW_TRACK_LET_GO)
			kw_let_go_locked(s, NULL, c->track.reason);
	} else if (replay_worthy(c, ret, err) && kw_replay(s, s->fd, "reset")) {
		retry = true;
	} else if (ret < 0 && !soft_error(err)) {
		kw_let_go_locked(s, "discard", "write-error");
	}
	kw_slot_unlock(s);
	errno = err;
	return retry;
}

/* ---- private descriptors ---- */

void kw_private_close(int fd)
{
	int saved = errno;

	if (fd < 0)
		return;
	kw_fd_set_kind(fd, KW_FD_NONE);
	kw_real.close(fd);
	errno = saved;
}

int kw_private_move(int fd)
{
	int saved = errno;
	int moved = kw_real.fcntl(fd, F_DUPFD_CLOEXEC, kw_private_base);

	if (moved >= 0 && !kw_fd_set_kind(moved, KW_FD_PRIVATE)) {
		kw_real.close(moved);
		moved = -1;
	}
	kw_fd_set_kind(fd, KW_FD_NONE);
	kw_real.close(fd);
	errno = saved;
	return moved;
}

void kw_claim_number(int fd)
{
	struct kw_fd *s = kw_fd_lookup(fd);

	if (!s)
		return;
	if (atomic_load_explicit(&s->kind, memory_order_acquire) == KW_FD_PRIVATE) {
		if (fd == kw_trace_fd()) {
			int moved = kw_private_move(fd);
			kw_trace_set_sink(moved, kw_real.write);
		} else {
			kw_pool_local.relocate(fd);
		}
		return;
	}
	/* The program's own followed socket is closed implicitly: never parked. */
	kw_slot_lock(s);
	kw_let_go_locked(s, "discard", "replaced-by-dup");
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
	                                     : (kind == KW_FD_SOCKET || kind == KW_FD_HTTP);

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
	kw_pool_local.lock();
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
	kw_pool_local.unlock();
	free(l.fds);
	errno = err ? err : errno;
	return ret;
}

/* ---- fork ---- */

pid_t kw_fork(void)
{
	pid_t pid;
	int err;

	if (!kw_init())
		return kw_real.fork();
	kw_pool_local.fork_prepare();
	pid = kw_real.fork();
	err = errno;
	if (pid == 0) {
		kw_fd_after_fork_child();
		kw_pool_local.fork_child();
		kw_report_after_fork_child();
	} else {
		kw_pool_local.fork_parent();
	}
	errno = err;
	return pid;
}
