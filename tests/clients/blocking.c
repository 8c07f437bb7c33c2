/* blocking - the plainest legacy client: blocking socket, connect, write(),
 * read() into a fixed-size buffer until the response is complete, close().
 * One new connection per request. */
#include "client_common.h"

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	return kc_exchange_blocking(o, q, i, NULL);
}

int main(int argc, char **argv)
{
	return kc_main(argc, argv, "blocking", 0, one, NULL);
}
