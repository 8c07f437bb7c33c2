/* vectored - writev() the request in 3 pieces (request line, header lines,
 * blank line + body) and readv() the response into 3 buffers of odd sizes;
 * with --use-msg the same through sendmsg()/recvmsg(). */
#include "client_common.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Write all iovecs, advancing over short writes. */
static int send_iov(const struct kc_opts *o, int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t n;
		if (o->use_msg) {
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
			n = sendmsg(fd, &m, MSG_NOSIGNAL);
		} else {
			n = writev(fd, iov, cnt);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		size_t left = (size_t)n;
		while (cnt > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

/* A kc_read_fn: readv() (recvmsg() with --use-msg) into 3 buffers of odd
 * sizes, --read-size split over them in order. */
static ssize_t read_iov(int fd, struct kc_resp *r, void *ctx, const char **call)
{
	(void)ctx;
	bool use_msg = r->opts->use_msg;
	char a[13], b[1000], c[4096];
	size_t budget = kc_read_len(r, sizeof a + sizeof b + sizeof c);
	struct iovec in[3];
	char *bufs[3] = { a, b, c };
	size_t sizes[3] = { sizeof a, sizeof b, sizeof c };
	int cnt = 0;
	for (int k = 0; k < 3 && budget; k++) {
		size_t l = sizes[k] < budget ? sizes[k] : budget;
		in[cnt].iov_base = bufs[k];
		in[cnt].iov_len = l;
		cnt++;
		budget -= l;
	}
	ssize_t n;
	*call = use_msg ? "recvmsg" : "readv";
	if (use_msg) {
		struct msghdr m = { .msg_iov = in, .msg_iovlen = (size_t)cnt };
		n = recvmsg(fd, &m, 0);
	} else {
		n = readv(fd, in, cnt);
	}
	size_t left = n > 0 ? (size_t)n : 0;
	for (int k = 0; k < cnt && left; k++) {
		size_t l = in[k].iov_len < left ? in[k].iov_len : left;
		kc_resp_feed(r, in[k].iov_base, l);
		left -= l;
	}
	return n;
}

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	int fd = kc_connect_blocking(o, i);
	if (fd < 0)
		return -1;
	/* request line | header lines | "\r\n" + body */
	struct iovec out[3] = {
		{ q->data, q->line_len },
		{ q->data + q->line_len, q->head_len - 2 - q->line_len },
		{ q->data + q->head_len - 2, q->len - (q->head_len - 2) },
	};
	if (send_iov(o, fd, out, 3) < 0) {
		kc_err(o, "request %u: %s: %s", i + 1, o->use_msg ? "sendmsg" : "writev",
		       strerror(errno));
		close(fd);
		return -1;
	}
	return kc_receive_finish(o, i, fd, read_iov, NULL);
}

int main(int argc, char **argv)
{
	return kc_main(argc, argv, "vectored", KC_OPT_USE_MSG, one, NULL);
}
