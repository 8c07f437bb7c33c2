/* fd_holder - a connection with a second holder. Each round:
 *   1. connect, one ordinary exchange (/gen/(1000+i)), then give the socket a
 *      second holder:
 *        --mode scm   sent to ourselves over a socketpair (SCM_RIGHTS): the
 *                     received number is one keepwarm never saw
 *        --mode fork  inherited by a forked child (no close-on-exec), which
 *                     waits on a pipe
 *   2. close it, connect again (keepwarm would hand the first connection
 *      back here if it had parked it), and let the second holder write a
 *      request (/gen/(5000+i)) on its copy; the child exits after writing;
 *   3. one ordinary exchange on the new socket (/gen/(2000+i)): its response
 *      must be its own, not the second holder's.
 *
 * With --mode scm-eof or fork-eof, each round instead writes a close-style
 * request (Connection: close, which keepwarm upgrades), gives the socket its
 * second holder before the response is read, and reads to end-of-file: it
 * must come (keepwarm lets go of the socket, yet still ends the response
 * with end-of-file, as the server would have).
 *
 *   fd_holder --port P --mode scm|fork|scm-eof|fork-eof [--host H] [--requests ROUNDS]
 *             [--timeout S]
 * Exit 0, 1 when a response is not its own, 2 on bad usage. */
#include "client_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static int port, rounds = 10;

static int dial(void)
{
	int fd = kc_dial(host, port);

	if (fd < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static void send_request(int fd, long n)
{
	char req[256];
	int len = snprintf(req, sizeof req, "GET /gen/%ld HTTP/1.1\r\nHost: %s\r\n\r\n", n, host);

	if (write(fd, req, (size_t)len) != len) {
		perror("write");
		exit(1);
	}
}

static void exchange(int fd, long n, int round)
{
	long got;

	send_request(fd, n);
	got = kc_read_sized(fd, NULL);
	if (got != n) {
		fprintf(stderr, "round %d: the response is not its own: Content-Length %ld, asked %ld\n",
		        round, got, n);
		exit(1);
	}
}

/* A copy of fd under a number received over SCM_RIGHTS. */
static int scm_copy(int fd)
{
	int sv[2], copy = -1;
	char byte = 'x', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		            .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	memset(cbuf, 0, sizeof cbuf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	if (sendmsg(sv[0], &m, 0) != 1)
		return -1;
	m.msg_controllen = sizeof cbuf;
	if (recvmsg(sv[1], &m, 0) == 1 && (cm = CMSG_FIRSTHDR(&m)) && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&copy, CMSG_DATA(cm), sizeof copy);
	close(sv[0]);
	close(sv[1]);
	return copy;
}

/* A close-style exchange read to end-of-file, the second holder made between
 * the request and the response. */
static void eof_round(const char *mode, int i)
{
	char req[256], buf[65536];
	int fd = dial(), copy = -1, len;
	size_t have = 0;
	ssize_t n;
	pid_t child = -1;

	len = snprintf(req, sizeof req, "GET /gen/%d HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
	               1000 + i, host);
	if (write(fd, req, (size_t)len) != len)
		exit(1);
	if (!strcmp(mode, "scm-eof")) {
		copy = scm_copy(fd);
	} else if ((child = fork()) == 0) {
		_exit(0); /* inherits the socket and leaves */
	}
	while ((n = read(fd, buf + have, sizeof buf - have)) > 0)
		have += (size_t)n;
	if (n < 0 || have < (size_t)(1000 + i) || !memmem(buf, have, "\r\n\r\n", 4)) {
		fprintf(stderr, "round %d: no whole response before end-of-file (%zd bytes)\n", i,
		        (ssize_t)have);
		exit(1);
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	if (copy >= 0)
		close(copy);
	close(fd);
}

static void round_trip(const char *mode, int i)
{
	int fd = dial(), fd2, copy = -1, go[2] = { -1, -1 };
	pid_t child = -1;

	exchange(fd, 1000 + i, i);
	if (!strcmp(mode, "scm")) {
		if ((copy = scm_copy(fd)) < 0) {
			perror("SCM_RIGHTS");
			exit(1);
		}
	} else {
		if (pipe(go) < 0 || (child = fork()) < 0) {
			perror("fork");
			exit(1);
		}
		if (child == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) == 1)
				send_request(fd, 5000 + i);
			_exit(0);
		}
		close(go[0]);
	}
	close(fd);
	fd2 = dial();
	if (copy >= 0) {
		send_request(copy, 5000 + i);
	} else {
		int status;
		if (write(go[1], "g", 1) != 1 || waitpid(child, &status, 0) != child) {
			perror("child");
			exit(1);
		}
		close(go[1]);
	}
	exchange(fd2, 2000 + i, i);
	close(fd2);
	if (copy >= 0)
		close(copy);
}

int main(int argc, char **argv)
{
	struct kc_script o;
	const char *mode;

	if (kc_script_args(&o, argc, argv, NULL, NULL) < 0 || !(mode = o.mode) ||
	    (strcmp(mode, "scm") && strcmp(mode, "fork") && strcmp(mode, "scm-eof") &&
	     strcmp(mode, "fork-eof"))) {
		fprintf(stderr, "usage: fd_holder --port P --mode scm|fork|scm-eof|fork-eof [--host H] "
		                "[--requests N] [--timeout S]\n");
		return 2;
	}
	host = o.host;
	port = o.port;
	rounds = o.requests > 0 ? o.requests : 10;
	for (int i = 1; i <= rounds; i++) {
		if (strstr(mode, "-eof"))
			eof_round(mode, i);
		else
			round_trip(mode, i);
	}
	return 0;
}
