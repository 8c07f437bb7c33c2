/* client_nonblock.c - the non-blocking exchanges of the test clients: socket
 * and connect() that may be in progress, SO_ERROR, send() and recv() loops
 * that wait with poll() or epoll_wait() (struct kc_waiter), and the whole
 * epoll exchange of epoll_after, epoll_before and epoll_et. See
 * client_common.h. */
#include "client_common.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------------------------------------------------------------- waiting */

int kc_poll_one(const struct kc_opts *o, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ms = o->timeout_s ? (int)o->timeout_s * 1000 : -1;
	for (;;) {
		int n = poll(&p, 1, ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kc_err(o, "poll: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			kc_err(o, "poll: timed out waiting for %s",
			       events & POLLOUT ? "POLLOUT" : "POLLIN");
			return -1;
		}
		if (p.revents & POLLNVAL) {
			kc_err(o, "poll: POLLNVAL on fd %d", fd);
			return -1;
		}
		return p.revents;
	}
}

int kc_epoll_wait_token(const struct kc_opts *o, int epfd, uint64_t token, unsigned i,
                        uint32_t *got)
{
	struct epoll_event ev[8];
	int ms = o->timeout_s ? (int)o->timeout_s * 1000 : -1;
	*got = 0;
	for (;;) {
		int n = epoll_wait(epfd, ev, 8, ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kc_err(o, "request %u: epoll_wait: %s", i + 1, strerror(errno));
			return -1;
		}
		if (n == 0) {
			kc_err(o, "request %u: epoll_wait timed out", i + 1);
			return -1;
		}
		for (int k = 0; k < n; k++) {
			if (ev[k].data.u64 != token) {
				kc_err(o, "request %u: epoll_wait returned events 0x%x for a connection "
				       "the program already closed (request %u, fd %u)",
				       i + 1, (unsigned)ev[k].events,
				       (unsigned)(ev[k].data.u64 >> 32),
				       (unsigned)(ev[k].data.u64 & 0xffffffffu));
				return -1;
			}
			*got |= ev[k].events;
		}
		return 0;
	}
}

/* Wait until fd is ready for events (POLLIN or POLLOUT; with epoll, for
 * whatever the connection is registered for). Returns 0 or -1 (printed). */
static int wait_ready(const struct kc_opts *o, int fd, unsigned i, struct kc_waiter *w,
                      short events)
{
	if (w->epfd < 0)
		return kc_poll_one(o, fd, events) < 0 ? -1 : 0;
	return kc_epoll_wait_token(o, w->epfd, w->token, i, &w->got);
}

/* ---------------------------------------------------------------- the exchange */

int kc_nb_socket(const struct kc_opts *o, unsigned i, int type_flags,
                 struct sockaddr_storage *ss, socklen_t *sl)
{
	int fam = kc_sockaddr(o, ss, sl);
	int fd = socket(fam, SOCK_STREAM | type_flags, 0);
	if (fd < 0)
		kc_err(o, "request %u: socket: %s", i + 1, strerror(errno));
	return fd;
}

int kc_nb_connect(const struct kc_opts *o, unsigned i, int fd,
                  const struct sockaddr_storage *ss, socklen_t sl, bool *pending)
{
	*pending = false;
	if (connect(fd, (const struct sockaddr *)ss, sl) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		kc_err(o, "request %u: connect: %s", i + 1, strerror(errno));
		return -1;
	}
	*pending = true;
	return 0;
}

int kc_check_connected(const struct kc_opts *o, unsigned i, int fd)
{
	int soerr = 0;
	socklen_t el = sizeof soerr;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) < 0) {
		kc_err(o, "request %u: getsockopt SO_ERROR: %s", i + 1, strerror(errno));
		return -1;
	}
	if (soerr) {
		kc_err(o, "request %u: connect (SO_ERROR): %s", i + 1, strerror(soerr));
		return -1;
	}
	return 0;
}

int kc_send_nb(const struct kc_opts *o, const struct kc_req *q, unsigned i, int fd,
               struct kc_waiter *w)
{
	size_t off = 0;
	while (off < q->len) {
		ssize_t n = send(fd, q->data + off, q->len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (wait_ready(o, fd, i, w, POLLOUT) < 0)
					return -1;
				continue;
			}
			if (errno == EINTR)
				continue;
			kc_err(o, "request %u: send: %s", i + 1, strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

int kc_recv_level(const struct kc_opts *o, unsigned i, int fd, struct kc_waiter *w,
                  struct kc_resp *r)
{
	kc_resp_init(r, o);
	char buf[8192];
	while (!kc_resp_done(r)) {
		if (wait_ready(o, fd, i, w, POLLIN) < 0)
			return -1;
		ssize_t n = recv(fd, buf, kc_read_len(r, sizeof buf), 0);  /* __recv_chk */
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			kc_err(o, "request %u: recv: %s", i + 1, strerror(errno));
			return -1;
		}
		if (n == 0)
			kc_resp_eof(r);
		else
			kc_resp_feed(r, buf, (size_t)n);
	}
	return 0;
}

/* Edge-triggered: recv() until EAGAIN after every edge, and once before the
 * first wait, since that edge may already have been consumed. */
static int recv_edge(const struct kc_opts *o, unsigned i, int fd, struct kc_waiter *w,
                     struct kc_resp *r)
{
	kc_resp_init(r, o);
	char buf[8192];
	for (;;) {
		for (;;) {
			ssize_t n = recv(fd, buf, kc_read_len(r, sizeof buf), 0);  /* __recv_chk */
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				kc_err(o, "request %u: recv: %s", i + 1, strerror(errno));
				return -1;
			}
			if (n == 0) {
				kc_resp_eof(r);
				break;
			}
			kc_resp_feed(r, buf, (size_t)n);
			if (r->failed)
				break;
		}
		if (kc_resp_done(r))
			return 0;
		if (wait_ready(o, fd, i, w, POLLIN) < 0)
			return -1;
	}
}

/* ---------------------------------------------------------------- epoll */

/* The epoll instance of the run (one per request with --epoll-per-request). */
static int g_epfd = -1;

static int epoll_ctl_fd(const struct kc_opts *o, unsigned i, int op, int fd,
                        struct epoll_event *ev)
{
	if (epoll_ctl(g_epfd, op, fd, ev) == 0)
		return 0;
	kc_err(o, "request %u: epoll_ctl %s fd %d: %s", i + 1,
	       op == EPOLL_CTL_ADD ? "ADD" : op == EPOLL_CTL_MOD ? "MOD" : "DEL", fd,
	       strerror(errno));
	return -1;
}

int kc_epoll_exchange(const struct kc_opts *o, const struct kc_req *q, unsigned i,
                      enum kc_epoll_mode mode)
{
	bool edge = mode == KC_EPOLL_EDGE;
	if (g_epfd < 0 && (g_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		kc_err(o, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = kc_nb_socket(o, i, SOCK_NONBLOCK, &ss, &sl);
	if (fd < 0)
		return -1;
	struct kc_waiter w = { .epfd = g_epfd, .token = kc_token(i, fd) };
	struct epoll_event ev = {
		.events = edge ? EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET : EPOLLOUT,
		.data.u64 = w.token,
	};
	bool pending;
	if (mode == KC_EPOLL_BEFORE && epoll_ctl_fd(o, i, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	if (kc_nb_connect(o, i, fd, &ss, sl, &pending) < 0)
		goto fail;
	if (mode != KC_EPOLL_BEFORE && epoll_ctl_fd(o, i, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;

	/* Level-triggered: one wait, EPOLLOUT comes even if connect() succeeded
	 * at once. Edge-triggered: wait only while the connect is in progress. */
	if (!edge || pending) {
		do {
			if (wait_ready(o, fd, i, &w, POLLOUT) < 0)
				goto fail;
		} while (edge && !(w.got & (EPOLLOUT | EPOLLERR | EPOLLHUP)));
	}
	if (kc_check_connected(o, i, fd) < 0)
		goto fail;
	if (!edge && !(w.got & EPOLLOUT)) {
		kc_err(o, "request %u: woke up with events 0x%x, no EPOLLOUT", i + 1, (unsigned)w.got);
		goto fail;
	}
	if (kc_send_nb(o, q, i, fd, &w) < 0)
		goto fail;

	struct kc_resp r;
	if (edge) {
		if (recv_edge(o, i, fd, &w, &r) < 0)
			goto fail;
	} else {
		ev.events = EPOLLIN | EPOLLRDHUP;
		if (epoll_ctl_fd(o, i, EPOLL_CTL_MOD, fd, &ev) < 0 ||
		    kc_recv_level(o, i, fd, &w, &r) < 0)
			goto fail;
	}
	if (o->epoll_del && epoll_ctl_fd(o, i, EPOLL_CTL_DEL, fd, NULL) < 0)
		goto fail;
	if (close(fd) < 0) {
		kc_err(o, "request %u: close: %s", i + 1, strerror(errno));
		return -1;
	}
	if (o->epoll_per_request) {
		close(g_epfd);
		g_epfd = -1;
	}
	return kc_finish(o, i, &r);
fail:
	close(fd);
	return -1;
}

void kc_epoll_done(const struct kc_opts *o)
{
	(void)o;
	if (g_epfd >= 0)
		close(g_epfd);
}
