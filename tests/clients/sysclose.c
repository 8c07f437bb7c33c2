/* sysclose - like blocking, but closes every socket with syscall(SYS_close),
 * bypassing the libc close() symbol (as statically linked helpers, Go-style
 * runtimes or code calling the raw syscall do). */
#include "client_common.h"

#include <sys/syscall.h>
#include <unistd.h>

static int raw_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	return kc_exchange_blocking(o, q, i, raw_close);
}

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_req q;
	kc_parse_args(&o, argc, argv, "sysclose", 0);
	kc_request_build(&o, &q);
	int rc = kc_run_loop(&o, &q, one);
	kc_request_free(&q);
	return rc < 0 ? KC_EXIT_FAIL : kc_ok(o.requests);
}
