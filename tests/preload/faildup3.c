/* faildup3.so - fault injection: every dup3() onto a descriptor that holds a
 * TCP socket fails with EBUSY (the kernel's answer when the number is being
 * opened by another thread). Loaded after libkeepwarm.so, it is the "real"
 * dup3 keepwarm finds, so each of keepwarm's attempts to put a connection on
 * the program's descriptor (a handback, the end-of-file stand-in, a fresh
 * connection) fails, and keepwarm has to give up cleanly. */
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>

int dup3(int oldfd, int newfd, int flags)
{
	static int (*real)(int, int, int);
	struct stat st;
	int type;
	socklen_t len = sizeof type;

	if (!real)
		real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "dup3");
	if (fstat(newfd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    getsockopt(newfd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM) {
		errno = EBUSY;
		return -1;
	}
	return real(oldfd, newfd, flags);
}
