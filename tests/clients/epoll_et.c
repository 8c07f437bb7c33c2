/* epoll_et - edge-triggered epoll, the nginx/libuv style: non-blocking
 * connect, EPOLL_CTL_ADD once with EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, write
 * until done or EAGAIN, then recv() until EAGAIN after every edge (and once
 * right after writing, since the edge may already have been consumed). One
 * epoll instance for the whole run, unless --epoll-per-request; the socket is
 * simply close()d (EPOLL_CTL_DEL first with --epoll-del). An event for an
 * earlier request's connection is an error. */
#include "client_common.h"

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	return kc_epoll_exchange(o, q, i, KC_EPOLL_EDGE);
}

int main(int argc, char **argv)
{
	return kc_main(argc, argv, "epoll_et", KC_OPT_EPOLL, one, kc_epoll_done);
}
