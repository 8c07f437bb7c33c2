/* peeker - wget's way of reading: before every real read it looks at the data
 * with recv(MSG_PEEK). While reading a line (status line, headers, chunk-size
 * line, trailers) it peeks a buffer-full and then consumes exactly through the
 * end of the header block (or of the line); in a body it peeks --peek-bytes
 * bytes and then reads at most what the body still needs. */
#include "client_common.h"

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

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

/* A kc_read_fn: recv(MSG_PEEK), then recv() of what to consume; ctx points
 * to the request index. */
static ssize_t peek_read(int fd, struct kc_resp *r, void *ctx, const char **call)
{
	const struct kc_opts *o = r->opts;
	unsigned i = *(const unsigned *)ctx;
	char peek[4096];
	char buf[4096];
	bool line = kc_resp_in_line(r);
	size_t plen = kc_read_len(r, sizeof peek);
	size_t need = kc_resp_need(r);
	if (!line) {
		if (plen > o->peek_bytes)
			plen = o->peek_bytes;
		if (need && need < plen)
			plen = need;
	}
	*call = "recv(MSG_PEEK)";
	ssize_t p = recv(fd, peek, plen, MSG_PEEK);     /* __recv_chk */
	g_peeks++;
	if (p <= 0)
		return p;
	size_t want;
	if (line) {
		want = consume_len(r, peek, (size_t)p);
	} else {
		want = kc_read_len(r, sizeof buf);
		if (need && need < want)
			want = need;
	}
	*call = "recv";
	ssize_t n = recv(fd, buf, want, 0);              /* __recv_chk */
	if (n < 0)
		return n;
	if (n == 0) {
		kc_err(o, "request %u: recv returned EOF after MSG_PEEK saw %zd bytes", i + 1, p);
		return KC_READ_REPORTED;
	}
	if (memcmp(buf, peek, (size_t)n < (size_t)p ? (size_t)n : (size_t)p) != 0) {
		kc_err(o, "request %u: recv returned other bytes than MSG_PEEK showed", i + 1);
		return KC_READ_REPORTED;
	}
	kc_resp_feed(r, buf, (size_t)n);
	return n;
}

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	int fd = kc_connect_send(o, q, i);
	if (fd < 0)
		return -1;
	return kc_receive_finish(o, i, fd, peek_read, &i);
}

static void report(const struct kc_opts *o)
{
	if (o->verbose)
		kc_err(o, "%lu peeks", g_peeks);
}

int main(int argc, char **argv)
{
	return kc_main(argc, argv, "peeker", KC_OPT_PEEK, one, report);
}
