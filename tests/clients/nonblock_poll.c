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

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = kc_nb_socket(o, i, o->use_fcntl ? 0 : SOCK_NONBLOCK, &ss, &sl);
	if (fd < 0)
		return -1;
	if (o->use_fcntl) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			kc_err(o, "request %u: fcntl O_NONBLOCK: %s", i + 1, strerror(errno));
			goto fail;
		}
	}

	bool pending;
	if (kc_nb_connect(o, i, fd, &ss, sl, &pending) < 0)
		goto fail;
	if (pending) {
		g_inprogress++;
		if (kc_poll_one(o, fd, POLLOUT) < 0)
			goto fail;
	} else {
		g_immediate++;
	}
	struct kc_waiter w = { .epfd = -1 };
	struct kc_resp r;
	if (kc_check_connected(o, i, fd) < 0 || kc_send_nb(o, q, i, fd, &w) < 0 ||
	    kc_recv_level(o, i, fd, &w, &r) < 0)
		goto fail;
	return kc_close_finish(o, i, fd, &r);
fail:
	close(fd);
	return -1;
}

static void report(const struct kc_opts *o)
{
	if (o->verbose)
		kc_err(o, "connect: %u immediate, %u EINPROGRESS", g_immediate, g_inprogress);
}

int main(int argc, char **argv)
{
	return kc_main(argc, argv, "nonblock_poll", KC_OPT_FCNTL, one, report);
}
