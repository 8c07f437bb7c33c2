/* nonblock_poll - non-blocking socket (SOCK_NONBLOCK, or O_NONBLOCK through
 * fcntl with --fcntl), connect() returning 0 or EINPROGRESS, poll() for
 * POLLOUT, getsockopt(SO_ERROR), then send()/recv() driven by poll(), as
 * libcurl-style clients do. */
#include "client_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned g_inprogress, g_immediate;

#define FAIL(...) do { kc_err(o, __VA_ARGS__); goto fail; } while (0)

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam = kc_sockaddr(o, &ss, &sl);
	int fd = socket(fam, SOCK_STREAM | (o->use_fcntl ? 0 : SOCK_NONBLOCK), 0);
	if (fd < 0) {
		kc_err(o, "request %u: socket: %s", i + 1, strerror(errno));
		return -1;
	}
	if (o->use_fcntl) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			FAIL("request %u: fcntl O_NONBLOCK: %s", i + 1, strerror(errno));
	}

	if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
		g_immediate++;
	} else {
		if (errno != EINPROGRESS)
			FAIL("request %u: connect: %s", i + 1, strerror(errno));
		g_inprogress++;
		if (kc_poll_one(o, fd, POLLOUT) < 0)
			goto fail;
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
				if (kc_poll_one(o, fd, POLLOUT) < 0)
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
	while (!kc_resp_done(&r)) {
		if (kc_poll_one(o, fd, POLLIN) < 0)
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
	if (close(fd) < 0) {
		kc_err(o, "request %u: close: %s", i + 1, strerror(errno));
		return -1;
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
	kc_parse_args(&o, argc, argv, "nonblock_poll", KC_OPT_FCNTL);
	kc_request_build(&o, &q);
	int rc = kc_run_loop(&o, &q, one);
	kc_request_free(&q);
	if (o.verbose)
		kc_err(&o, "connect: %u immediate, %u EINPROGRESS", g_immediate, g_inprogress);
	return rc < 0 ? KC_EXIT_FAIL : kc_ok(o.requests);
}
