/* fd_semantics - what a program can observe about its sockets must not change
 * under keepwarm: fd numbers, O_NONBLOCK and FD_CLOEXEC, socket options
 * (its own, and defaults it did not touch), EISCONN on a second connect(),
 * SO_ERROR, and that keepwarm's parked descriptors are invisible: close(),
 * dup2(), close_range() and closefrom() over their numbers behave as for
 * numbers never opened, and the parked connection survives.
 *
 * Runs the same checks with and without the shim; the invisibility checks
 * only find something to check when a parked descriptor exists. Every
 * exchange is on a new socket; with the shim the server sees 1 connection. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "client_common.h"

static struct kc_opts o;
static struct kc_req q;
static unsigned exchanges;
static int failures;

#define CHECK(cond, ...)                                  \
	do {                                              \
		if (!(cond)) {                            \
			kc_err(&o, __VA_ARGS__);          \
			failures++;                       \
		}                                         \
	} while (0)

static int get_int_opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof v;
	getsockopt(fd, level, name, &v, &len);
	return v;
}

/* socket() + options + connect(), as a program would, before any request. */
static int open_socket(int type_flags)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int family = kc_sockaddr(&o, &ss, &len);
	int fd = socket(family, SOCK_STREAM | type_flags, 0);
	int r;

	if (fd < 0) {
		kc_err(&o, "socket: %s", strerror(errno));
		exit(KC_EXIT_FAIL);
	}
	r = connect(fd, (struct sockaddr *)&ss, len);
	if (r < 0 && errno == EINPROGRESS) {
		if (kc_poll_one(&o, fd, POLLOUT) < 0)
			exit(KC_EXIT_FAIL);
	} else if (r < 0) {
		kc_err(&o, "connect: %s", strerror(errno));
		exit(KC_EXIT_FAIL);
	}
	return fd;
}

/* One request/response on fd (made blocking for the exchange), then close. */
static void exchange_and_close(int fd)
{
	struct kc_resp r;
	char buf[4096];
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if (kc_write_all(fd, q.data, q.len) < 0) {
		kc_err(&o, "write: %s", strerror(errno));
		exit(KC_EXIT_FAIL);
	}
	kc_resp_init(&r, &o);
	while (!kc_resp_done(&r)) {
		ssize_t n = read(fd, buf, kc_read_len(&r, sizeof buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			kc_err(&o, "read: %s", strerror(errno));
			exit(KC_EXIT_FAIL);
		}
		if (n == 0)
			kc_resp_eof(&r);
		else
			kc_resp_feed(&r, buf, (size_t)n);
	}
	CHECK(close(fd) == 0, "close: %s", strerror(errno));
	if (kc_finish(&o, exchanges, &r) < 0)
		exit(KC_EXIT_FAIL);
	exchanges++;
}

/* A socket descriptor above stderr that the program does not hold: keepwarm's. */
static int find_hidden_socket(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);
		struct stat st;
		if (fd > 2 && fd != dirfd(d) && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
			found = fd;
	}
	if (d)
		closedir(d);
	return found;
}

static void check_hidden(const char *when)
{
	int hidden = find_hidden_socket();
	char c;

	if (hidden < 0)
		return; /* without the shim, nothing is hidden */
	if (o.verbose)
		kc_err(&o, "%s: checking hidden descriptor %d", when, hidden);
	errno = 0;
	CHECK(close(hidden) == -1 && errno == EBADF, "%s: close(parked %d) should fail EBADF", when, hidden);
	errno = 0;
	CHECK(fcntl(hidden, F_GETFL) == -1 && errno == EBADF, "%s: fcntl(parked) should fail EBADF", when);
	errno = 0;
	CHECK(read(hidden, &c, kc_read_len(NULL, 1)) == -1 && errno == EBADF, "%s: read(parked) should fail EBADF", when);
	errno = 0;
	CHECK(write(hidden, "x", 1) == -1 && errno == EBADF, "%s: write(parked) should fail EBADF", when);
}

int main(int argc, char **argv)
{
	int fd, first, v, devnull, hidden;
	struct timeval tv = { 3, 0 }, got;
	socklen_t len;

	kc_parse_args(&o, argc, argv, "fd_semantics", 0);
	kc_request_build(&o, &q);

	/* 1. Numbers: the lowest free number every time, as without the shim. */
	fd = open_socket(0);
	first = fd;
	exchange_and_close(fd);
	check_hidden("after the first exchange");
	fd = open_socket(0);
	CHECK(fd == first, "socket number %d, expected %d", fd, first);

	/* 2. A second connect() says EISCONN; SO_ERROR is 0. */
	{
		struct sockaddr_storage ss;
		socklen_t sl;
		kc_sockaddr(&o, &ss, &sl);
		errno = 0;
		CHECK(connect(fd, (struct sockaddr *)&ss, sl) == -1 && errno == EISCONN,
		      "second connect: want EISCONN, got %s", strerror(errno));
		CHECK(get_int_opt(fd, SOL_SOCKET, SO_ERROR) == 0, "SO_ERROR not 0");
	}
	exchange_and_close(fd);

	/* 3. Flags follow the program's socket, not the parked connection's past. */
	fd = open_socket(SOCK_NONBLOCK | SOCK_CLOEXEC);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "O_NONBLOCK lost");
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "FD_CLOEXEC lost");
	exchange_and_close(fd);
	fd = open_socket(0);
	CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK), "O_NONBLOCK carried over");
	CHECK(!(fcntl(fd, F_GETFD) & FD_CLOEXEC), "FD_CLOEXEC carried over");
	exchange_and_close(fd);

	/* 4. Options set before connect() are there after it; untouched ones are
	 * the defaults (including SO_KEEPALIVE, which keepwarm uses while parked). */
	{
		struct sockaddr_storage ss;
		socklen_t sl;
		int one = 1, family = kc_sockaddr(&o, &ss, &sl);
		fd = socket(family, SOCK_STREAM, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		CHECK(connect(fd, (struct sockaddr *)&ss, sl) == 0, "connect: %s", strerror(errno));
		CHECK(get_int_opt(fd, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY lost");
		len = sizeof got;
		getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &len);
		CHECK(got.tv_sec == 3, "SO_RCVTIMEO lost");
		CHECK(get_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE) == 0, "SO_KEEPALIVE not the default");
		exchange_and_close(fd);
	}
	fd = open_socket(0);
	CHECK(get_int_opt(fd, IPPROTO_TCP, TCP_NODELAY) == 0, "TCP_NODELAY carried over");
	len = sizeof got;
	getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &len);
	CHECK(got.tv_sec == 0 && got.tv_usec == 0, "SO_RCVTIMEO carried over");
	CHECK(get_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE) == 0, "SO_KEEPALIVE carried over");
	/* Options set after connect() apply to the real socket. */
	v = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
	CHECK(get_int_opt(fd, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY after connect lost");
	exchange_and_close(fd);

	/* 5. The program's dup2() onto a parked number works and the parked
	 * connection survives; so do close_range() and closefrom(). */
	check_hidden("before dup2");
	hidden = find_hidden_socket();
	if (hidden >= 0) {
		devnull = open("/dev/null", O_RDONLY);
		CHECK(dup2(devnull, hidden) == hidden, "dup2 onto parked number: %s", strerror(errno));
		CHECK(close(hidden) == 0, "close after dup2: %s", strerror(errno));
		close(devnull);
	}
	exchange_and_close(open_socket(0));
	CHECK(close_range(3, ~0U, 0) == 0, "close_range: %s", strerror(errno));
	exchange_and_close(open_socket(0));
	closefrom(3);
	exchange_and_close(open_socket(0));
	CHECK(syscall(SYS_close_range, 3, ~0U, 0) == 0, "syscall(close_range): %s", strerror(errno));
	exchange_and_close(open_socket(0));
	check_hidden("at the end");

	kc_request_free(&q);
	if (failures)
		return KC_EXIT_FAIL;
	return kc_ok(exchanges);
}
