/* reqloop - the benchmark's C HTTP client: N sequential GETs, timed.
 *
 *   reqloop --port P --path T --requests N [--mode fresh|keep]
 *           [--host-header H] [--timeout S] [--pause-ms MS]
 *
 * --mode fresh (the default) is the legacy idiom of tests/clients/blocking:
 * socket(), connect(), write(), read() until the response is complete,
 * close(), one new connection per request. --mode keep keeps one connection
 * for all requests (native reuse; it reconnects only if the server says
 * Connection: close). --pause-ms sleeps that long before the first request
 * (tools/bench/syscalls.sh: a process that has run a while, whatever keepwarm
 * starts once then started in every run). The request target T is sent as given, so an absolute
 * URL makes a forward-proxy request. Responses must be 200 with a
 * Content-Length body (every server in the benchmark frames that way).
 *
 * Prints one line: requests=N bytes=B elapsed_ns=E first_ns=F
 * (wall time of the whole loop and of its first request, CLOCK_MONOTONIC). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
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
	fprintf(stderr, "reqloop: request %u: %s%s%s\n", i + 1, what, errno ? ": " : "",
	        errno ? strerror(errno) : "");
	exit(1);
}

static int dial(unsigned port, unsigned i)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		fail("socket", i);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		fail("connect", i);
	return fd;
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

/* Read one response; returns its body length. *close_after is set when the
 * server announced Connection: close. */
static long long read_response(int fd, unsigned i, bool *close_after)
{
	size_t have = 0;
	char *end = NULL;

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
	long long cl = -1;
	*close_after = !strncmp(buf + 5, "1.0", 3);
	for (char *line = strstr(buf, "\r\n") + 2; line < end;) {
		char *eol = strstr(line, "\r\n");
		*eol = 0; /* look at this header line only */
		if (!strncasecmp(line, "Content-Length:", 15))
			cl = strtoll(line + 15, NULL, 10);
		else if (!strncasecmp(line, "Connection:", 11))
			*close_after = strcasestr(line, "close") != NULL;
		*eol = '\r';
		line = eol + 2;
	}
	if (cl < 0) {
		errno = 0;
		fail("no Content-Length", i);
	}
	long long got = (long long)(have - (size_t)(end + 4 - buf));
	while (got < cl) {
		size_t want = cl - got < (long long)sizeof buf ? (size_t)(cl - got) : sizeof buf;
		ssize_t r = read(fd, buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fail(r == 0 ? "server closed mid-body" : "read body", i);
		}
		got += r;
	}
	if (got != cl) {
		errno = 0;
		fail("bytes after the body", i);
	}
	return cl;
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || v > max) {
		fprintf(stderr, "reqloop: bad %s '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port",        required_argument, 0, 'p' },
		{ "path",        required_argument, 0, 't' },
		{ "requests",    required_argument, 0, 'n' },
		{ "mode",        required_argument, 0, 'm' },
		{ "host-header", required_argument, 0, 'H' },
		{ "timeout",     required_argument, 0, 'T' },
		{ "pause-ms",    required_argument, 0, 'P' },
		{ 0, 0, 0, 0 },
	};
	unsigned port = 0, requests = 1, timeout = 300, pause_ms = 0;
	const char *path = "/", *host = NULL;
	bool keep = false;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': port = (unsigned)parse_num("--port", optarg, 65535); break;
		case 't': path = optarg; break;
		case 'n': requests = (unsigned)parse_num("--requests", optarg, 100000000); break;
		case 'm':
			if (strcmp(optarg, "fresh") && strcmp(optarg, "keep")) {
				fprintf(stderr, "reqloop: --mode fresh|keep\n");
				return 2;
			}
			keep = !strcmp(optarg, "keep");
			break;
		case 'H': host = optarg; break;
		case 'T': timeout = (unsigned)parse_num("--timeout", optarg, 86400); break;
		case 'P': pause_ms = (unsigned)parse_num("--pause-ms", optarg, 60000); break;
		default:
			fprintf(stderr, "usage: reqloop --port P --path T --requests N "
			                "[--mode fresh|keep] [--host-header H] [--timeout S] "
			                "[--pause-ms MS]\n");
			return 2;
		}
	}
	if (!port) {
		fprintf(stderr, "reqloop: --port is required\n");
		return 2;
	}
	alarm(timeout); /* a stuck run must not stall the whole benchmark */
	if (pause_ms) {
		struct timespec ts = { pause_ms / 1000, (long)(pause_ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}

	char req[4096], hostbuf[64];
	if (!host) {
		snprintf(hostbuf, sizeof hostbuf, "127.0.0.1:%u", port);
		host = hostbuf;
	}
	int len = snprintf(req, sizeof req,
	                   "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: keepwarm-bench\r\n\r\n",
	                   path, host);
	if (len < 0 || (size_t)len >= sizeof req) {
		fprintf(stderr, "reqloop: request too long\n");
		return 2;
	}

	long long bytes = 0;
	int fd = -1;
	uint64_t t0 = now_ns(), first = 0;
	for (unsigned i = 0; i < requests; i++) {
		bool close_after = false;
		if (fd < 0)
			fd = dial(port, i);
		write_all(fd, req, (size_t)len, i);
		bytes += read_response(fd, i, &close_after);
		if (!keep || close_after) {
			close(fd);
			fd = -1;
		}
		if (i == 0)
			first = now_ns() - t0;
	}
	if (fd >= 0)
		close(fd);
	uint64_t t1 = now_ns();
	printf("requests=%u bytes=%lld elapsed_ns=%llu first_ns=%llu\n", requests, bytes,
	       (unsigned long long)(t1 - t0), (unsigned long long)first);
	return 0;
}
