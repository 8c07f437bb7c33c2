/* fortified - reads the response with read(), recv() and recvfrom() in turn,
 * each into its own fixed-size stack buffer with a length the compiler cannot
 * bound, so that with -D_FORTIFY_SOURCE=2 the calls become __read_chk,
 * __recv_chk and __recvfrom_chk (check: nm fortified | grep _chk). */
#include "client_common.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static ssize_t read_some(int fd, const struct kc_resp *r, unsigned k, struct kc_resp *feed)
{
	ssize_t n;
	switch (k % 3) {
	case 0: {
		char buf[4096];
		n = read(fd, buf, kc_read_len(r, sizeof buf));               /* __read_chk */
		if (n > 0)
			kc_resp_feed(feed, buf, (size_t)n);
		break;
	}
	case 1: {
		char buf[3000];
		n = recv(fd, buf, kc_read_len(r, sizeof buf), 0);            /* __recv_chk */
		if (n > 0)
			kc_resp_feed(feed, buf, (size_t)n);
		break;
	}
	default: {
		char buf[2048];
		n = recvfrom(fd, buf, kc_read_len(r, sizeof buf), 0, NULL, NULL); /* __recvfrom_chk */
		if (n > 0)
			kc_resp_feed(feed, buf, (size_t)n);
		break;
	}
	}
	return n;
}

static unsigned g_calls;

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	int fd = kc_connect_blocking(o, i);
	if (fd < 0)
		return -1;
	if (kc_write_all(fd, q->data, q->len) < 0) {
		kc_err(o, "request %u: write: %s", i + 1, strerror(errno));
		close(fd);
		return -1;
	}
	struct kc_resp r;
	kc_resp_init(&r, o);
	while (!kc_resp_done(&r)) {
		unsigned k = g_calls++;
		ssize_t n = read_some(fd, &r, k, &r);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kc_err(o, "request %u: %s: %s", i + 1,
			       k % 3 == 0 ? "read" : k % 3 == 1 ? "recv" : "recvfrom", strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			kc_resp_eof(&r);
	}
	if (close(fd) < 0) {
		kc_err(o, "request %u: close: %s", i + 1, strerror(errno));
		return -1;
	}
	return kc_finish(o, i, &r);
}

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_req q;
	kc_parse_args(&o, argc, argv, "fortified", 0);
	kc_request_build(&o, &q);
	int rc = kc_run_loop(&o, &q, one);
	kc_request_free(&q);
	return rc < 0 ? KC_EXIT_FAIL : kc_ok(o.requests);
}
