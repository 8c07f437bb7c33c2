/* fakesock.c - libkwfakesock.so, a second definition of names keepwarm
 * wraps (socket, connect, close: counting, then the system calls): a
 * library whose own scope binds them here must keep binding them here
 * under keepwarm, which redirects only references into the libc.so.6 it
 * loaded. libkwdeepfake.so is libkwdeep.so linked against it. */
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static int calls;

EXPORT int socket(int domain, int type, int protocol)
{
	calls++;
	return (int)syscall(SYS_socket, domain, type, protocol);
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	calls++;
	return (int)syscall(SYS_connect, fd, addr, len);
}

EXPORT int close(int fd)
{
	calls++;
	return (int)syscall(SYS_close, fd);
}

EXPORT int kwfake_calls(void)
{
	return calls;
}
