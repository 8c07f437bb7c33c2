/* closestyle.c - upgrade, end-of-file, drain, fresh-for-unsafe and replay. */
#include "closestyle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "real.h"
#include "report.h"
#include "reuse.h"
#include "upgrade.h"

#define DRAIN_BUDGET_US 5000     /* the longest close() waits for a remainder */
#define REDIAL_TIMEOUT_MS 3000   /* connect + resend of a replay */

void kw_learn(const struct kw_dest *d, uint64_t idle_ms)
{
	kw_pool_local.learn(d, idle_ms);
	kw_event("learn", -1, d, NULL, (int64_t)idle_ms, -1);
}

/* Wait up to ms for events on fd. */
static bool wait_for(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	return poll(&p, 1, ms) == 1 && !(p.revents & (POLLERR | POLLNVAL));
}

/* Replace the socket on the program's number fd with nfd, keeping the
 * program's flags and epoll registrations. The old socket's last reference
 * goes (unless it was parked first). nfd is closed. */
static int swap_socket(struct kw_conn *c, int fd, int nfd)
{
	int fl = kw_real.fcntl(fd, F_GETFL), fdfl = kw_real.fcntl(fd, F_GETFD), ret;
	struct stat st;

	for (unsigned i = 0; i < c->nregs; i++)
		kw_real.epoll_ctl(c->regs[i].epfd, EPOLL_CTL_DEL, fd, NULL);
	if (fl >= 0)
		kw_real.fcntl(nfd, F_SETFL, fl);
	ret = kw_real.dup3(nfd, fd, fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
	kw_real.close(nfd);
	if (ret >= 0 && fstat(fd, &st) == 0)
		c->ino = st.st_ino; /* it is our socket now */
	for (unsigned i = 0; i < c->nregs; i++)
		kw_real.epoll_ctl(c->regs[i].epfd, EPOLL_CTL_ADD, fd, &c->regs[i].ev);
	return ret < 0 ? -1 : 0;
}

/* A new TCP socket to c's destination carrying the program's options;
 * connect() started (non-blocking) or done. Returns the fd, or -1. */
static int dial(struct kw_conn *c, int fd, bool *in_progress)
{
	struct sockaddr_storage ss;
	socklen_t len = kw_dest_to_sockaddr(&c->dest, &ss);
	int nfd = kw_real.socket(c->dest.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (nfd < 0)
		return -1;
	kw_carry_options(c, fd, nfd, c->touched);
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

static bool connected(int nfd, int ms)
{
	int err = 0;
	socklen_t len = sizeof err;

	return wait_for(nfd, POLLOUT, ms) &&
	       getsockopt(nfd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

/* Send all of buf on a non-blocking socket within ms. */
static bool send_all(int fd, const char *buf, size_t len, int ms)
{
	uint64_t deadline = kw_now_ms() + (uint64_t)ms;

	while (len) {
		ssize_t n = kw_real.send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		uint64_t now = kw_now_ms();
		if (now >= deadline || !wait_for(fd, POLLOUT, (int)(deadline - now)))
			return false;
	}
	return true;
}

/* ---- a fresh connection for a request that must not be replayed ---- */

/* Returns true when handled (*result is -1/EAGAIN while the dial goes on). */
static bool go_fresh(struct kw_fd *s, int fd, ssize_t *result)
{
	struct kw_conn *c = &s->conn;
	int fl = kw_real.fcntl(fd, F_GETFL);
	bool in_progress;
	int nfd = dial(c, fd, &in_progress);

	if (nfd < 0)
		return false; /* keep the reused one rather than fail */
	if (in_progress && !(fl & O_NONBLOCK) && !connected(nfd, REDIAL_TIMEOUT_MS)) {
		kw_real.close(nfd);
		return false;
	}
	if (kw_park(s, fd, true)) {
		/* Could not park the unused connection: it simply closes. */
	}
	if (swap_socket(c, fd, nfd) < 0)
		return false;
	c->reused = false;
	c->born_ms = kw_now_ms();
	kw_follow(s);
	kw_event("fresh", fd, &c->dest, "request-not-replayable", -1, -1);
	if (in_progress && (fl & O_NONBLOCK)) {
		*result = -1;
		errno = EAGAIN; /* writable once connected, as after a connect() */
		return true;
	}
	return false;
}

/* ---- request upgrade ---- */

static void account_sent(struct kw_conn *c, const void *buf, size_t len)
{
	kw_track_request(&c->track, buf, len);
	if (c->replayable)
		kw_conn_keep_replay(c, buf, len);
}

/* Send the upgraded head and the rest of the program's bytes (those after
 * its original head, which may span several iovecs). The program is told how
 * many of its own bytes went out. */
static ssize_t send_upgraded(struct kw_fd *s, int fd, const struct iovec *iov, int iovcnt,
                             int flags, const struct kw_head *h, const char *head,
                             size_t head_len)
{
	struct kw_conn *c = &s->conn;
	struct iovec v[IOV_MAX];
	struct msghdr m = { .msg_iov = v };
	size_t skip = h->len, sent_rest;
	ssize_t r;
	int n = 0;

	v[n++] = (struct iovec){ (void *)head, head_len };
	for (int i = 0; i < iovcnt && n < IOV_MAX; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		v[n++] = (struct iovec){ (char *)iov[i].iov_base + skip, iov[i].iov_len - skip };
		skip = 0;
	}
	m.msg_iovlen = (size_t)n;
	if (kw_report_latency)
		c->track.now_us = kw_now_us();
	r = kw_real.sendmsg(fd, &m, flags);
	if (r < 0)
		return r; /* nothing went out: the program retries, we rewrite again */
	if ((size_t)r < head_len) {
		/* The program must never wait on bytes we hold: finish the head now. */
		if (!send_all(fd, head + r, head_len - (size_t)r, REDIAL_TIMEOUT_MS)) {
			kw_let_go_locked(s, "discard", "write-error");
			errno = EPIPE;
			return -1;
		}
		r = (ssize_t)head_len;
	}
	account_sent(c, head, head_len);
	sent_rest = (size_t)r - head_len;
	for (int i = 1, left = (int)sent_rest; i < n && left > 0; i++) {
		size_t take = v[i].iov_len < (size_t)left ? v[i].iov_len : (size_t)left;
		account_sent(c, v[i].iov_base, take);
		left -= (int)take;
	}
	c->eof_after_response = true;
	c->restore_close = true;
	kw_event("upgrade", fd, &c->dest, h->minor == 0 ? "http10-keep-alive" : "close-removed", -1,
	         -1);
	return (ssize_t)(h->len + sent_rest);
}

/* The first bytes of iov, up to cap, in one buffer. */
static size_t gather(const struct iovec *iov, int iovcnt, char *buf, size_t cap)
{
	size_t len = 0;

	for (int i = 0; i < iovcnt && len < cap; i++) {
		size_t n = iov[i].iov_len < cap - len ? iov[i].iov_len : cap - len;
		memcpy(buf + len, iov[i].iov_base, n);
		len += n;
	}
	return len;
}

/* May this request travel on a reused connection (and be replayed)? */
static bool replayable(enum kw_head_status st, const struct kw_head *h, const char *buf,
                       size_t len)
{
	const char *sp;

	if (st == KW_HEAD_OK)
		return (h->idempotent || h->idempotency_key) && !h->chunked &&
		       h->len + (size_t)(h->content_length > 0 ? h->content_length : 0) <= KW_REPLAY_MAX;
	/* A head still being written: its method decides; the copy kept for a
	 * replay stops being one if the request outgrows it. */
	return st == KW_HEAD_INCOMPLETE && (sp = memchr(buf, ' ', len)) &&
	       kw_method_idempotent(buf, (size_t)(sp - buf));
}

bool kw_send_hook(struct kw_fd *s, int fd, const struct iovec *iov, int iovcnt, int flags,
                  ssize_t *result)
{
	struct kw_conn *c = &s->conn;
	char flat[KW_HEAD_MAX], head[KW_HEAD_MAX + 64];
	struct kw_head h;
	enum kw_head_status st;
	size_t len, head_len;
	bool handled = false;
	int saved = errno;

	if (kw_mode != KW_MODE_REUSE || iovcnt < 1)
		return false;
	kw_slot_lock(s);
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_HTTP ||
	    c->track.status != KW_TRACK_FOLLOWING || c->track.request_open ||
	    !(len = gather(iov, iovcnt, flat, sizeof flat)))
		goto out;
	st = kw_head_parse(flat, len, &h);
	if (c->reused && !c->track.requests) {
		/* The first request on a handed-back connection: replayable ones only. */
		bool ok = replayable(st, &h, flat, len);
		if (ok || kw_cfg.reuse_always) {
			c->replayable = ok;
		} else if (go_fresh(s, fd, result)) {
			handled = true;
			goto out;
		}
	}
	if (kw_cfg.upgrade && st == KW_HEAD_OK && h.close_style &&
	    (head_len = kw_head_upgrade(flat, &h, head, sizeof head))) {
		*result = send_upgraded(s, fd, iov, iovcnt, flags, &h, head, head_len);
		handled = true;
		saved = errno;
	}
out:
	kw_slot_unlock(s);
	if (handled && *result >= 0)
		errno = saved;
	return handled;
}

/* ---- end of an upgraded response ---- */

/* The program's fd becomes a socket whose peer has gone: reads return 0 and
 * poll/select/epoll report it readable, as after the server's close. */
static void end_with_eof(struct kw_fd *s, int fd, bool park)
{
	struct kw_conn *c = &s->conn;
	int pair[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		kw_real.shutdown(fd, SHUT_RD); /* still EOF, without reuse */
		kw_let_go_locked(s, "discard", "no-fd-for-eof");
		return;
	}
	kw_real.close(pair[1]);
	if (park) {
		const char *why = kw_park(s, fd, false);
		if (why)
			kw_event("discard", fd, &c->dest, why, -1,
			         c->requests_before + c->track.responses);
	}
	swap_socket(c, fd, pair[0]);
	kw_event("eof", fd, &c->dest, park ? "response-complete" : "server-kept-talking", -1,
	         c->requests_before + c->track.responses);
	atomic_store_explicit(&s->kind, KW_FD_NONE, memory_order_release);
}

bool kw_eof_check(struct kw_fd *s, int fd)
{
	struct kw_conn *c = &s->conn;
	int unread = 0;

	if (!c->eof_after_response)
		return false;
	if (kw_track_reusable(&c->track)) {
		end_with_eof(s, fd, true);
		return true;
	}
	if (c->track.status != KW_TRACK_LET_GO || !strcmp(c->track.reason, "response-close") ||
	    !strcmp(c->track.reason, "server-closed"))
		return false; /* still mid-response, or the server closes by itself */
	/* The server sent more than the response and will not close: end it
	 * once the program has what was sent. */
	if (kw_real.ioctl(fd, FIONREAD, &unread) == 0 && unread == 0)
		end_with_eof(s, fd, false);
	return true;
}

/* ---- drain at close ---- */

void kw_drain(struct kw_fd *s, int fd)
{
	struct kw_conn *c = &s->conn;
	const http_parser *p = &c->track.response;
	uint64_t deadline = kw_now_us() + DRAIN_BUDGET_US, total = 0;
	char buf[16384];

	/* A Content-Length remainder we already know is too big: not worth it. */
	if (c->track.response_open && !(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
	    p->content_length > kw_cfg.drain_bytes)
		return;
	while (c->track.status == KW_TRACK_FOLLOWING && !kw_track_reusable(&c->track) &&
	       total < kw_cfg.drain_bytes) {
		uint64_t now = kw_now_us();
		size_t want = sizeof buf;
		ssize_t n;

		if (now >= deadline)
			break;
		if (want > kw_cfg.drain_bytes - total)
			want = (size_t)(kw_cfg.drain_bytes - total);
		n = kw_real.recv(fd, buf, want, MSG_DONTWAIT);
		if (n > 0) {
			total += (uint64_t)n;
			kw_track_response(&c->track, buf, (size_t)n);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			break;
		} else if (!wait_for(fd, POLLIN, (int)((deadline - now + 999) / 1000))) {
			break;
		}
	}
	kw_event("drain", fd, &c->dest, kw_track_reusable(&c->track) ? "complete" : "gave-up",
	         -1, (int64_t)total);
}

/* ---- replay ---- */

bool kw_replay(struct kw_fd *s, int fd, const char *why)
{
	struct kw_conn *c = &s->conn;
	bool in_progress;
	int nfd, saved = errno;

	if (!c->reused || c->answered || !c->replayable || c->replayed || !c->replay_len)
		return false;
	nfd = dial(c, fd, &in_progress);
	if (nfd < 0 || (in_progress && !connected(nfd, REDIAL_TIMEOUT_MS)) ||
	    !send_all(nfd, c->replay, c->replay_len, REDIAL_TIMEOUT_MS) || swap_socket(c, fd, nfd) < 0) {
		if (nfd >= 0)
			kw_real.close(nfd);
		errno = saved;
		return false; /* the program sees the original failure */
	}
	c->reused = false;
	c->replayed = true;
	c->born_ms = kw_now_ms();
	kw_follow(s);
	kw_track_request(&c->track, c->replay, c->replay_len);
	kw_event("replay", fd, &c->dest, why, (int64_t)c->parked_idle_ms, -1);
	errno = saved;
	return true;
}
