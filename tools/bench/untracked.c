/* untracked - per-call cost of I/O on sockets keepwarm does not follow.
 *
 *   untracked --kind unix|udp|poll1|poll1000 --pairs N
 *
 * A tight loop of N (1-byte write, 1-byte read) pairs on one socket keepwarm
 * never tracks: an AF_UNIX stream socketpair (write()/read()) or a UDP socket
 * on 127.0.0.1 connected to itself (send()/recv()); or N poll() calls with
 * timeout 0 over 1 or 1,000 entries (an idle pipe). Run with and without
 * LD_PRELOAD, the difference is what every program pays per call on its
 * other descriptors once the shim is loaded.
 *
 * Prints: pairs=N elapsed_ns=E */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "untracked: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *kind = NULL;
	unsigned long pairs = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--kind"))
			kind = argv[i + 1];
		else if (!strcmp(argv[i], "--pairs"))
			pairs = strtoul(argv[i + 1], NULL, 10);
	}
	if (!kind || !pairs || (strcmp(kind, "unix") && strcmp(kind, "udp") &&
	                        strcmp(kind, "poll1") && strcmp(kind, "poll1000"))) {
		fprintf(stderr, "usage: untracked --kind unix|udp|poll1|poll1000 --pairs N\n");
		return 2;
	}
	if (!strncmp(kind, "poll", 4)) {
		static struct pollfd fds[1000];
		int p[2];
		nfds_t n = kind[4] == '1' && kind[5] == '0' ? 1000 : 1;
		if (pipe(p) < 0)
			die("pipe");
		for (nfds_t i = 0; i < n; i++)
			fds[i] = (struct pollfd){ .fd = p[0], .events = POLLIN };
		uint64_t t0 = now_ns();
		for (unsigned long i = 0; i < pairs; i++)
			if (poll(fds, n, 0) != 0)
				die("poll");
		uint64_t t1 = now_ns();
		printf("pairs=%lu elapsed_ns=%llu\n", pairs, (unsigned long long)(t1 - t0));
		return 0;
	}

	int a, b;
	if (!strcmp(kind, "unix")) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			die("socketpair");
		a = sv[0];
		b = sv[1];
	} else {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t len = sizeof sa;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a = b = socket(AF_INET, SOCK_DGRAM, 0);
		if (a < 0 || bind(a, (struct sockaddr *)&sa, sizeof sa) < 0 ||
		    getsockname(a, (struct sockaddr *)&sa, &len) < 0 ||
		    connect(a, (struct sockaddr *)&sa, sizeof sa) < 0)
			die("udp socket");
	}

	char c = 'x';
	int udp = a == b;
	uint64_t t0 = now_ns();
	for (unsigned long i = 0; i < pairs; i++) {
		ssize_t w = udp ? send(a, &c, 1, 0) : write(a, &c, 1);
		ssize_t r = udp ? recv(b, &c, 1, 0) : read(b, &c, 1);
		if (w != 1 || r != 1)
			die("write/read");
	}
	uint64_t t1 = now_ns();
	printf("pairs=%lu elapsed_ns=%llu\n", pairs, (unsigned long long)(t1 - t0));
	return 0;
}
