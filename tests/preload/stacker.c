/* stacker.so - another preload library interposing the same calls as
 * keepwarm and forwarding them with dlsym(RTLD_NEXT), as tracing and
 * socks-style shims do. keepwarm must work above or below it. Counts the
 * calls it forwarded and prints them at exit when KW_STACKER_REPORT is set. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static _Atomic unsigned long calls;

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int connect(int fd, const struct sockaddr *a, socklen_t l)
{
	calls++;
	return NEXT(connect)(fd, a, l);
}

int close(int fd)
{
	calls++;
	return NEXT(close)(fd);
}

ssize_t read(int fd, void *b, size_t n)
{
	calls++;
	return NEXT(read)(fd, b, n);
}

ssize_t write(int fd, const void *b, size_t n)
{
	calls++;
	return NEXT(write)(fd, b, n);
}

ssize_t recv(int fd, void *b, size_t n, int f)
{
	calls++;
	return NEXT(recv)(fd, b, n, f);
}

ssize_t send(int fd, const void *b, size_t n, int f)
{
	calls++;
	return NEXT(send)(fd, b, n, f);
}

__attribute__((destructor)) static void report(void)
{
	if (getenv("KW_STACKER_REPORT"))
		fprintf(stderr, "stacker forwarded %lu calls\n", (unsigned long)calls);
}
