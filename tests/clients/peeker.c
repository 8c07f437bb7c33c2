/* peeker - wget's way of reading: before every real read it looks at the data
 * with recv(MSG_PEEK). While reading a line (status line, headers, chunk-size
 * line, trailers) it peeks a buffer-full and then consumes exactly through the
 * end of the header block (or of the line); in a body it peeks --peek-bytes
 * bytes and then reads at most what the body still needs. */
#include "client_common.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How many of the n peeked bytes to consume now. */
static size_t consume_len(const struct kc_resp *r, const char *p, size_t n)
{
	if (r->state == KC_ST_STATUS || r->state == KC_ST_HEADERS) {
		/* Through the blank line ending the header block, if it is there. */
		for (size_t k = 0; k + 1 < n; k++) {
			if (p[k] == '\n' && (p[k + 1] == '\n' ||
			    (p[k + 1] == '\r' && k + 2 < n && p[k + 2] == '\n')))
				return k + (p[k + 1] == '\n' ? 2 : 3);
		}
		return n;
	}
	/* Other lines: through the first LF. */
	const char *lf = memchr(p, '\n', n);
	return lf ? (size_t)(lf - p) + 1 : n;
}

static unsigned long g_peeks;

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
	char peek[4096];
	char buf[4096];
	while (!kc_resp_done(&r)) {
		bool line = kc_resp_in_line(&r);
		size_t plen = kc_read_len(&r, sizeof peek);
		size_t need = kc_resp_need(&r);
		if (!line) {
			if (plen > o->peek_bytes)
				plen = o->peek_bytes;
			if (need && need < plen)
				plen = need;
		}
		ssize_t p = recv(fd, peek, plen, MSG_PEEK);     /* __recv_chk */
		g_peeks++;
		if (p < 0) {
			if (errno == EINTR)
				continue;
			kc_err(o, "request %u: recv(MSG_PEEK): %s", i + 1, strerror(errno));
			close(fd);
			return -1;
		}
		if (p == 0) {
			kc_resp_eof(&r);
			continue;
		}
		size_t want;
		if (line) {
			want = consume_len(&r, peek, (size_t)p);
		} else {
			want = kc_read_len(&r, sizeof buf);
			if (need && need < want)
				want = need;
		}
		ssize_t n = recv(fd, buf, want, 0);              /* __recv_chk */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kc_err(o, "request %u: recv: %s", i + 1, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0) {
			kc_err(o, "request %u: recv returned EOF after MSG_PEEK saw %zd bytes",
			       i + 1, p);
			close(fd);
			return -1;
		}
		if (memcmp(buf, peek, (size_t)n < (size_t)p ? (size_t)n : (size_t)p) != 0) {
			kc_err(o, "request %u: recv returned other bytes than MSG_PEEK showed", i + 1);
			close(fd);
			return -1;
		}
		kc_resp_feed(&r, buf, (size_t)n);
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
	kc_parse_args(&o, argc, argv, "peeker", KC_OPT_PEEK);
	kc_request_build(&o, &q);
	int rc = kc_run_loop(&o, &q, one);
	kc_request_free(&q);
	if (o.verbose)
		kc_err(&o, "%lu peeks", g_peeks);
	return rc < 0 ? KC_EXIT_FAIL : kc_ok(o.requests);
}
