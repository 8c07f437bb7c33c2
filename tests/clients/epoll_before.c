/* epoll_before - EPOLL_CTL_ADD (EPOLLOUT) right after socket(), BEFORE the
 * non-blocking connect(); then wait for the connection, SO_ERROR, send,
 * EPOLL_CTL_MOD to EPOLLIN, recv() on every level-triggered EPOLLIN. The shim
 * must keep this registration working when connect() hands back a parked
 * connection. One epoll instance for the whole run, unless --epoll-per-request;
 * the socket is simply close()d (EPOLL_CTL_DEL first with --epoll-del). An
 * event for an earlier request's connection is an error. */
#include "client_common.h"

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	return kc_epoll_exchange(o, q, i, KC_EPOLL_BEFORE);
}

int main(int argc, char **argv)
{
	return kc_main(argc, argv, "epoll_before", KC_OPT_EPOLL, one, kc_epoll_done);
}
