/* dup_client - writes the request on the socket, dup()s it, reads the response
 * through the duplicate, then closes the original and the duplicate. The shim
 * is expected to let go of a connection that has more than one descriptor. */
#include "client_common.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	int fd = kc_connect_send(o, q, i);
	if (fd < 0)
		return -1;
	int d = dup(fd);
	if (d < 0) {
		kc_err(o, "request %u: dup: %s", i + 1, strerror(errno));
		close(fd);
		return -1;
	}
	struct kc_resp r;
	const char *call;
	if (kc_read_response(o, d, &r, kc_read_chk, NULL, &call) < 0) {  /* __read_chk */
		kc_err(o, "request %u: %s: %s", i + 1, call, strerror(errno));
		close(fd);
		close(d);
		return -1;
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
	return kc_main(argc, argv, "dup_client", 0, one, NULL);
}
