/* handoff - what one connect() costs the program, timed by itself.
 *
 *   handoff --port P [--path T] [--requests N] [--timeout S]
 *
 * N times: socket(), connect() to 127.0.0.1:P, one GET, read of the whole
 * response (200 with a Content-Length body), close(): the calls of
 * tests/clients/blocking. Only the connect() call is timed (CLOCK_MONOTONIC
 * around it). Under keepwarm, what that call does depends on the settings
 * the benchmark runs it with: a fresh dial, a hand-back from the process's
 * own pool, or (KEEPWARM_MAX_IDLE=0 and a broker) a connection taken from
 * keepwarmd, which the previous close() gave it.
 *
 * The first connect() is left out of the figures (it dials, or it is the
 * first to reach the broker); of the others it prints the nearest-rank median
 * and 90th percentile. After each connect() (untimed) it reads the socket's
 * local port: a connection handed back keeps its port, so the count of
 * distinct ports is the number of connections the run used. One line:
 *   requests=N connections=K timed=N-1 median_ns=M p90_ns=Q min_ns=A max_ns=B
 *   mean_ns=C */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 65536

static char buf[BUF_SIZE];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what, unsigned i)
{
	fprintf(stderr, "handoff: request %u: %s%s%s\n", i + 1, what, errno ? ": " : "",
	        errno ? strerror(errno) : "");
	exit(1);
}

static void write_all(int fd, const char *p, size_t len, unsigned i)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fail("write", i);
		p += w;
		len -= (size_t)w;
	}
}

/* Read one response to the end of its Content-Length body. */
static void read_response(int fd, unsigned i)
{
	size_t have = 0;
	char *end = NULL;
	long long cl = -1, got;

	errno = 0;
	while (!end) {
		ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail(r == 0 ? "server closed before the response head" : "read", i);
		have += (size_t)r;
		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end && have == sizeof buf - 1)
			fail("response head too long", i);
	}
	if (strncmp(buf, "HTTP/1.", 7) || strncmp(buf + 8, " 200", 4)) {
		errno = 0;
		fail("status is not 200", i);
	}
	for (char *line = strstr(buf, "\r\n") + 2; line < end;) {
		char *eol = strstr(line, "\r\n");

		*eol = 0;
		if (!strncasecmp(line, "Content-Length:", 15))
			cl = strtoll(line + 15, NULL, 10);
		*eol = '\r';
		line = eol + 2;
	}
	if (cl < 0) {
		errno = 0;
		fail("no Content-Length", i);
	}
	got = (long long)(have - (size_t)(end + 4 - buf));
	while (got < cl) {
		size_t want = cl - got < (long long)sizeof buf ? (size_t)(cl - got) : sizeof buf;
		ssize_t r = read(fd, buf, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail(r == 0 ? "server closed mid-body" : "read body", i);
		got += r;
	}
	if (got != cl) {
		errno = 0;
		fail("bytes after the body", i);
	}
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long min,
                               unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v < min || v > max) {
		fprintf(stderr, "handoff: bad %s '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

/* The nearest-rank percentile of n sorted values. */
static uint64_t pct(const uint64_t *v, unsigned n, unsigned p)
{
	unsigned k = (unsigned)(((unsigned long long)n * p + 99) / 100);

	return v[k ? k - 1 : 0];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port",     required_argument, 0, 'p' },
		{ "path",     required_argument, 0, 't' },
		{ "requests", required_argument, 0, 'n' },
		{ "timeout",  required_argument, 0, 'T' },
		{ 0, 0, 0, 0 },
	};
	unsigned port = 0, requests = 1000, timeout = 300;
	const char *path = "/";
	struct sockaddr_in sa = { .sin_family = AF_INET }, me;
	socklen_t me_len = sizeof me;
	static uint8_t seen[65536 / 8]; /* local ports seen */
	unsigned conns = 0, lport;
	char req[4096];
	uint64_t *ns, sum = 0;
	unsigned timed;
	int c, len;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': port = (unsigned)parse_num("--port", optarg, 1, 65535); break;
		case 't': path = optarg; break;
		case 'n': requests = (unsigned)parse_num("--requests", optarg, 2, 10000000); break;
		case 'T': timeout = (unsigned)parse_num("--timeout", optarg, 1, 86400); break;
		default:
			fprintf(stderr, "usage: handoff --port P [--path T] [--requests N] "
			                "[--timeout S]\n");
			return 2;
		}
	}
	if (!port || optind < argc) {
		fprintf(stderr, "handoff: --port is required\n");
		return 2;
	}
	alarm(timeout); /* a stuck run must not stall the whole benchmark */
	len = snprintf(req, sizeof req,
	               "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: keepwarm-bench\r\n\r\n",
	               path, port);
	if (len < 0 || (size_t)len >= sizeof req) {
		fprintf(stderr, "handoff: request too long\n");
		return 2;
	}
	ns = calloc(requests, sizeof *ns);
	if (!ns) {
		fprintf(stderr, "handoff: out of memory\n");
		return 1;
	}
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (unsigned i = 0; i < requests; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		uint64_t t0, t1;
		int rc;

		if (fd < 0)
			fail("socket", i);
		t0 = now_ns();
		rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
		t1 = now_ns();
		if (rc < 0)
			fail("connect", i);
		ns[i] = t1 - t0;
		/* A connection handed back keeps its local port: each port seen
		 * is one connection (the kernel hands out ephemeral ports in
		 * turn, so a run's dials do not meet an old port again). */
		if (getsockname(fd, (struct sockaddr *)&me, &me_len) < 0)
			fail("getsockname", i);
		me_len = sizeof me;
		lport = ntohs(me.sin_port);
		if (!(seen[lport / 8] & (1u << (lport % 8)))) {
			seen[lport / 8] |= (uint8_t)(1u << (lport % 8));
			conns++;
		}
		write_all(fd, req, (size_t)len, i);
		read_response(fd, i);
		if (close(fd) < 0)
			fail("close", i);
	}
	timed = requests - 1;
	for (unsigned i = 1; i < requests; i++)
		sum += ns[i];
	qsort(ns + 1, timed, sizeof *ns, cmp_u64);
	printf("requests=%u connections=%u timed=%u median_ns=%llu p90_ns=%llu min_ns=%llu "
	       "max_ns=%llu mean_ns=%llu\n", requests, conns, timed,
	       (unsigned long long)pct(ns + 1, timed, 50), (unsigned long long)pct(ns + 1, timed, 90),
	       (unsigned long long)ns[1], (unsigned long long)ns[requests - 1],
	       (unsigned long long)(sum / timed));
	free(ns);
	return 0;
}
