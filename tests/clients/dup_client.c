/* dup_client - writes the request on the socket, dup()s it, reads the response
 * through the duplicate, then closes the original and the duplicate. The shim
 * is expected to let go of a connection that has more than one descriptor. */
#include "client_common.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

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
	int d = dup(fd);
	if (d < 0) {
		kc_err(o, "request %u: dup: %s", i + 1, strerror(errno));
		close(fd);
		return -1;
	}
	struct kc_resp r;
	kc_resp_init(&r, o);
	char buf[4096];
	while (!kc_resp_done(&r)) {
		ssize_t n = read(d, buf, kc_read_len(&r, sizeof buf));   /* __read_chk */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kc_err(o, "request %u: read: %s", i + 1, strerror(errno));
			close(fd);
			close(d);
			return -1;
		}
		if (n == 0)
			kc_resp_eof(&r);
		else
			kc_resp_feed(&r, buf, (size_t)n);
	}
	int c1 = close(fd), e1 = errno;
	int c2 = close(d), e2 = errno;
	if (c1 < 0 || c2 < 0) {
		kc_err(o, "request %u: close: %s", i + 1, strerror(c1 < 0 ? e1 : e2));
		return -1;
	}
	return kc_finish(o, i, &r);
}

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_req q;
	kc_parse_args(&o, argc, argv, "dup_client", 0);
	kc_request_build(&o, &q);
	int rc = kc_run_loop(&o, &q, one);
	kc_request_free(&q);
	return rc < 0 ? KC_EXIT_FAIL : kc_ok(o.requests);
}
