/* fortified - reads the response with read(), recv() and recvfrom() in turn,
 * each into its own fixed-size stack buffer with a length the compiler cannot
 * bound, so that with -D_FORTIFY_SOURCE=2 the calls become __read_chk,
 * __recv_chk and __recvfrom_chk (check: nm fortified | grep _chk). */
#include "client_common.h"

#include <sys/socket.h>
#include <unistd.h>

static unsigned g_calls;

/* A kc_read_fn: the next of read(), recv(), recvfrom(). */
static ssize_t read_some(int fd, struct kc_resp *r, void *ctx, const char **call)
{
	(void)ctx;
	ssize_t n;
	switch (g_calls++ % 3) {
	case 0: {
		char buf[4096];
		*call = "read";
		n = read(fd, buf, kc_read_len(r, sizeof buf));               /* __read_chk */
		if (n > 0)
			kc_resp_feed(r, buf, (size_t)n);
		break;
	}
	case 1: {
		char buf[3000];
		*call = "recv";
		n = recv(fd, buf, kc_read_len(r, sizeof buf), 0);            /* __recv_chk */
		if (n > 0)
			kc_resp_feed(r, buf, (size_t)n);
		break;
	}
	default: {
		char buf[2048];
		*call = "recvfrom";
		n = recvfrom(fd, buf, kc_read_len(r, sizeof buf), 0, NULL, NULL); /* __recvfrom_chk */
		if (n > 0)
			kc_resp_feed(r, buf, (size_t)n);
		break;
	}
	}
	return n;
}

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	int fd = kc_connect_send(o, q, i);
	if (fd < 0)
		return -1;
	return kc_receive_finish(o, i, fd, read_some, NULL);
}

int main(int argc, char **argv)
{
	return kc_main(argc, argv, "fortified", 0, one, NULL);
}
