/* epoll_before - EPOLL_CTL_ADD (EPOLLOUT) right after socket(), BEFORE the
 * non-blocking connect(); then wait for the connection, SO_ERROR, send,
 * EPOLL_CTL_MOD to EPOLLIN, recv() on every level-triggered EPOLLIN. The shim
 * must keep this registration working when connect() hands back a parked
 * connection. One epoll instance for the whole run, unless --epoll-per-request;
 * the socket is simply close()d (EPOLL_CTL_DEL first with --epoll-del). An
 * event for an earlier request's connection is an error. */
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
	uint64_t token = kc_token(i, fd);
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = token };
	if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		FAIL("request %u: epoll_ctl ADD fd %d: %s", i + 1, fd, strerror(errno));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
		FAIL("request %u: connect: %s", i + 1, strerror(errno));
	uint32_t got;
	if (kc_epoll_wait_token(o, g_epfd, token, i, &got) < 0)
		goto fail;
	int soerr = 0;
	socklen_t el = sizeof soerr;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) < 0)
		FAIL("request %u: getsockopt SO_ERROR: %s", i + 1, strerror(errno));
	if (soerr)
		FAIL("request %u: connect (SO_ERROR): %s", i + 1, strerror(soerr));
	if (!(got & EPOLLOUT))
		FAIL("request %u: woke up with events 0x%x, no EPOLLOUT", i + 1, (unsigned)got);

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

	ev.events = EPOLLIN | EPOLLRDHUP;
	if (epoll_ctl(g_epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		FAIL("request %u: epoll_ctl MOD fd %d: %s", i + 1, fd, strerror(errno));

	struct kc_resp r;
	kc_resp_init(&r, o);
	char buf[8192];
	while (!kc_resp_done(&r)) {
		if (kc_epoll_wait_token(o, g_epfd, token, i, &got) < 0)
			goto fail;
		ssize_t n = recv(fd, buf, kc_read_len(&r, sizeof buf), 0);  /* __recv_chk */
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			FAIL("request %u: recv: %s", i + 1, strerror(errno));
		}
		if (n == 0)
			kc_resp_eof(&r);
		else
			kc_resp_feed(&r, buf, (size_t)n);
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
	kc_parse_args(&o, argc, argv, "epoll_before", KC_OPT_EPOLL);
	kc_request_build(&o, &q);
	int rc = kc_run_loop(&o, &q, one);
	kc_request_free(&q);
	if (g_epfd >= 0)
		close(g_epfd);
	return rc < 0 ? KC_EXIT_FAIL : kc_ok(o.requests);
}
