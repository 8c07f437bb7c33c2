/* fdopen_client - stdio over the socket: fdopen(fd, "r+"), fprintf the
 * request, fflush, then fgets() for the status line, headers, chunk-size lines
 * and trailers and fread() for exactly the body bytes, and fclose(). The
 * reads happen inside libc, out of the shim's sight, so the shim is expected
 * to let go of such a connection. */
#include "client_common.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	int fd = kc_connect_blocking(o, i);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "r+");
	if (!f) {
		kc_err(o, "request %u: fdopen: %s", i + 1, strerror(errno));
		close(fd);
		return -1;
	}
	/* The pattern body has no NUL bytes, so %.*s sends it whole. */
	if (fprintf(f, "%.*s", (int)q->len, q->data) < 0 || fflush(f) == EOF) {
		kc_err(o, "request %u: fprintf/fflush: %s", i + 1, strerror(errno));
		fclose(f);
		return -1;
	}

	struct kc_resp r;
	kc_resp_init(&r, o);
	char line[KC_LINE_MAX];
	char buf[4096];
	while (!kc_resp_done(&r)) {
		if (kc_resp_in_line(&r)) {
			if (!fgets(line, sizeof line, f)) {
				if (ferror(f)) {
					kc_err(o, "request %u: fgets: %s", i + 1, strerror(errno));
					fclose(f);
					return -1;
				}
				kc_resp_eof(&r);
				continue;
			}
			kc_resp_feed(&r, line, strlen(line));
			continue;
		}
		size_t want = kc_read_len(&r, sizeof buf);
		size_t need = kc_resp_need(&r);
		if (need && need < want)
			want = need;
		size_t n = fread(buf, 1, want, f);   /* __fread_chk */
		if (n)
			kc_resp_feed(&r, buf, n);
		if (n < want) {
			if (ferror(f)) {
				kc_err(o, "request %u: fread: %s", i + 1, strerror(errno));
				fclose(f);
				return -1;
			}
			kc_resp_eof(&r);
		}
	}
	if (fclose(f) == EOF) {
		kc_err(o, "request %u: fclose: %s", i + 1, strerror(errno));
		return -1;
	}
	return kc_finish(o, i, &r);
}

int main(int argc, char **argv)
{
	return kc_main(argc, argv, "fdopen_client", 0, one, NULL);
}
