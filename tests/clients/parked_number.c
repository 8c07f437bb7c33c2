/* parked_number - a number the program never opened, where keepwarm keeps a
 * parked connection, answers like a free number. The client makes one
 * exchange and closes, then finds the numbers it did not open that the
 * kernel says are open (raw fcntl through syscall(), which keepwarm does not
 * look at): with keepwarm loaded there must be one (the parked connection).
 * On it and on a free number alike, these must answer the same:
 * getsockopt, getsockname, getpeername, fstat, fstatat(AT_EMPTY_PATH),
 * statx(AT_EMPTY_PATH) fail with EBADF; poll and ppoll report POLLNVAL for
 * it at once (with a 5 s timeout, beside an idle pipe), leaving fd and
 * events as they were; select and pselect fail with EBADF.
 *
 *   parked_number --port P [--host H] [--timeout S]
 * Exit 0, 1 when a call answers otherwise than on a free number. */
#include "client_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int bad;

static void expect_ebadf(const char *what, int fd, int r)
{
	if (r != -1 || errno != EBADF) {
		printf("FAIL %s on %d: returned %d (errno %d), want EBADF\n", what, fd, r, errno);
		bad = 1;
	}
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Every question, asked of number fd (the parked one or a free one). */
static void ask(int fd, int idle)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct stat st;
	struct statx stx;
	int type;
	socklen_t tl = sizeof type;
	struct pollfd p[2] = { { fd, POLLIN | POLLOUT, 0 }, { idle, POLLIN, 0 } };
	struct timespec five = { 5, 0 };
	double t0;
	int r;
	fd_set rs;
	struct timeval tv = { 0, 100000 };

	expect_ebadf("getsockopt", fd, getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl));
	expect_ebadf("getsockname", fd, getsockname(fd, (struct sockaddr *)&ss, &len));
	len = sizeof ss;
	expect_ebadf("getpeername", fd, getpeername(fd, (struct sockaddr *)&ss, &len));
	expect_ebadf("fstat", fd, fstat(fd, &st));
	expect_ebadf("fstatat", fd, fstatat(fd, "", &st, AT_EMPTY_PATH));
	expect_ebadf("statx", fd, statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx));

	t0 = now();
	r = poll(p, 2, 5000);
	if (r != 1 || p[0].revents != POLLNVAL || p[1].revents || p[0].fd != fd ||
	    p[0].events != (POLLIN | POLLOUT) || now() - t0 > 2.5) {
		printf("FAIL poll on %d: returned %d, revents %#x/%#x, fd %d, after %.2f s\n", fd, r,
		       p[0].revents, p[1].revents, p[0].fd, now() - t0);
		bad = 1;
	}
	p[0].revents = p[1].revents = 0;
	t0 = now();
	r = ppoll(p, 2, &five, NULL);
	if (r != 1 || p[0].revents != POLLNVAL || p[1].revents || now() - t0 > 2.5) {
		printf("FAIL ppoll on %d: returned %d, revents %#x/%#x\n", fd, r, p[0].revents,
		       p[1].revents);
		bad = 1;
	}
	if (fd < FD_SETSIZE) {
		FD_ZERO(&rs);
		FD_SET(fd, &rs);
		expect_ebadf("select", fd, select(fd + 1, &rs, NULL, NULL, &tv));
		FD_ZERO(&rs);
		FD_SET(fd, &rs);
		expect_ebadf("pselect", fd, pselect(fd + 1, &rs, NULL, NULL, &five, NULL));
	}
}

int main(int argc, char **argv)
{
	struct kc_script o;
	int fd, pipefd[2], parked = -1, free_fd = -1;
	struct rlimit rl;
	const char *preload = getenv("LD_PRELOAD");
	static unsigned char open_before[65536]; /* inherited numbers are not ours to judge */
	long top;

	if (kc_script_args(&o, argc, argv, NULL, NULL) < 0)
		return 2;
	getrlimit(RLIMIT_NOFILE, &rl);
	top = rl.rlim_cur > 65536 ? 65536 : (long)rl.rlim_cur;
	for (long n = 0; n < top; n++)
		open_before[n] = syscall(SYS_fcntl, (int)n, F_GETFD) >= 0;
	if (pipe(pipefd) < 0)
		return 2;
	if ((fd = kc_dial(o.host, o.port)) < 0 || kc_get_sized(fd, o.host, 100) < 0)
		return 1;
	close(fd);
	/* The numbers opened behind our back since we started (past the pipe). */
	for (long n = top - 1; n > pipefd[1]; n--) {
		if (open_before[n])
			continue;
		if (syscall(SYS_fcntl, (int)n, F_GETFD) >= 0) {
			if (parked < 0)
				parked = (int)n;
		} else if (free_fd < 0) {
			free_fd = (int)n;
		}
	}
	if (preload && strstr(preload, "keepwarm") && parked < 0) {
		printf("FAIL no parked number found under keepwarm\n");
		return 1;
	}
	if (free_fd >= 0)
		ask(free_fd, pipefd[0]);
	if (parked >= 0)
		ask(parked, pipefd[0]);
	printf("%s: parked number %d, free number %d\n", bad ? "FAIL" : "ok", parked, free_fd);
	return bad;
}
