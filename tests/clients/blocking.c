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
	struct kc_opts o;
	struct kc_req q;
	kc_parse_args(&o, argc, argv, "blocking", 0);
	kc_request_build(&o, &q);
	int rc = kc_run_loop(&o, &q, one);
	kc_request_free(&q);
	return rc < 0 ? KC_EXIT_FAIL : kc_ok(o.requests);
}
