/* epoll_et - edge-triggered epoll, the nginx/libuv style: non-blocking
 * connect, EPOLL_CTL_ADD once with EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, write
 * until done or EAGAIN, then recv() until EAGAIN after every edge (and once
 * right after writing, since the edge may already have been consumed). One
 * epoll instance for the whole run, unless --epoll-per-request; the socket is
 * simply close()d (EPOLL_CTL_DEL first with --epoll-del). An event for an
 * earlier request's connection is an error. */
#include "client_common.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAIL(...) do { kc_err(o, __VA_ARGS__); goto fail; } while (0)

static int g_epfd = -1;

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam = kc_sockaddr(o, &ss, &sl);
	if (g_epfd < 0 && (g_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		kc_err(o, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		kc_err(o, "request %u: socket: %s", i + 1, strerror(errno));
		return -1;
	}
	bool pending = false;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != EINPROGRESS)
			FAIL("request %u: connect: %s", i + 1, strerror(errno));
		pending = true;
	}

	uint64_t token = kc_token(i, fd);
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = token
	};
	if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		FAIL("request %u: epoll_ctl ADD fd %d: %s", i + 1, fd, strerror(errno));

	uint32_t got = 0;
	while (pending) {
		if (kc_epoll_wait_token(o, g_epfd, token, i, &got) < 0)
			goto fail;
		if (got & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			pending = false;
	}
	int soerr = 0;
	socklen_t el = sizeof soerr;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) < 0)
		FAIL("request %u: getsockopt SO_ERROR: %s", i + 1, strerror(errno));
	if (soerr)
		FAIL("request %u: connect (SO_ERROR): %s", i + 1, strerror(soerr));

	size_t off = 0;
	while (off < q->len) {
		ssize_t n = send(fd, q->data + off, q->len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (kc_epoll_wait_token(o, g_epfd, token, i, &got) < 0)
					goto fail;
				continue;
			}
			if (errno == EINTR)
				continue;
			FAIL("request %u: send: %s", i + 1, strerror(errno));
		}
		off += (size_t)n;
	}

	struct kc_resp r;
	kc_resp_init(&r, o);
	char buf[8192];
	for (;;) {
		/* Drain until EAGAIN (or EOF). */
		for (;;) {
			ssize_t n = recv(fd, buf, kc_read_len(&r, sizeof buf), 0);  /* __recv_chk */
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				FAIL("request %u: recv: %s", i + 1, strerror(errno));
			}
			if (n == 0) {
				kc_resp_eof(&r);
				break;
			}
			kc_resp_feed(&r, buf, (size_t)n);
			if (r.failed)
				break;
		}
		if (kc_resp_done(&r))
			break;
		if (kc_epoll_wait_token(o, g_epfd, token, i, &got) < 0)
			goto fail;
	}
	if (o->epoll_del && epoll_ctl(g_epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
		FAIL("request %u: epoll_ctl DEL fd %d: %s", i + 1, fd, strerror(errno));
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

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_req q;
	kc_parse_args(&o, argc, argv, "epoll_et", KC_OPT_EPOLL);
	kc_request_build(&o, &q);
	int rc = kc_run_loop(&o, &q, one);
	kc_request_free(&q);
	if (g_epfd >= 0)
		close(g_epfd);
	return rc < 0 ? KC_EXIT_FAIL : kc_ok(o.requests);
}
