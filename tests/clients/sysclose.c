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
	return kc_main(argc, argv, "sysclose", 0, one, NULL);
}
