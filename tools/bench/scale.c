/* scale - cost of connect()/close() while many idle connections are held,
 * and the resident memory they take.
 *
 *   scale --port-file F --idle K --calls M --idle-by close|hold
 *
 * F lists benchserv's ports, one a line: the first MISS_PORTS are "miss"
 * destinations that never get an idle connection, the rest are the
 * destinations the K idle connections are spread over (round robin).
 *
 *  1. Open K connections, one request each, and keep them open: VmRSS
 *     growth per connection = the cost of a tracked connection.
 *  2. --idle-by close: close() them all; under keepwarm they are parked
 *     (the idle pool). --idle-by hold: keep them open, as a program with its
 *     own pool would (the control arm without the shim). VmRSS again, and the
 *     number of descriptors actually held (parked ones are real descriptors
 *     in this process, so /proc/self/fd counts them; the shim caps its pool).
 *  3. M "miss" cycles: socket(), connect() to a miss port, close(), no
 *     request (the shim finds no idle entry, dials, and closes for real).
 *  4. M "hit" cycles to the idle destinations: socket(), connect(), a
 *     request, close(); under keepwarm connect() takes a parked connection
 *     and close() parks it again. The request itself is not timed.
 *
 * Prints one line of key=value: idle (descriptors held), the VmRSS in KiB at
 * each step, and the median ns of connect() + close() per cycle. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MISS_PORTS 8
#define MAX_PORTS  1024

static unsigned ports[MAX_PORTS], nports;
static const char request[] = "GET /s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "scale: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static long vmrss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static long open_fds(void)
{
	long n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own descriptor */
}

static int new_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	return fd;
}

static void do_connect(int fd, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("connect");
}

/* One request; benchserv answers "HTTP/1.1 200 OK", Content-Length: 2, "xx". */
static void exchange(int fd)
{
	char buf[512];
	size_t have = 0;
	if (write(fd, request, sizeof request - 1) != (ssize_t)(sizeof request - 1))
		die("write");
	/* The whole response is small: read until the 2-byte body is in. */
	for (int i = 0; i < 100; i++) {
		ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
		if (r <= 0)
			die("read");
		have += (size_t)r;
		buf[have] = 0;
		char *end = strstr(buf, "\r\n\r\n");
		if (end && have >= (size_t)(end + 4 - buf) + 2)
			return;
	}
	errno = 0;
	die("response");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	const char *port_file = NULL, *idle_by = NULL;
	unsigned long k = 0, calls = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port-file"))
			port_file = argv[i + 1];
		else if (!strcmp(argv[i], "--idle"))
			k = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--calls"))
			calls = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--idle-by"))
			idle_by = argv[i + 1];
	}
	if (!port_file || !k || !calls || k > 1000000 || calls > 10000000 || !idle_by ||
	    (strcmp(idle_by, "close") && strcmp(idle_by, "hold"))) {
		fprintf(stderr, "usage: scale --port-file F --idle K --calls M --idle-by close|hold\n");
		return 2;
	}
	bool hold = !strcmp(idle_by, "hold");

	FILE *pf = fopen(port_file, "r");
	if (!pf)
		die("port file");
	while (nports < MAX_PORTS && fscanf(pf, "%u", &ports[nports]) == 1)
		nports++;
	fclose(pf);
	if (nports <= MISS_PORTS) {
		errno = 0;
		die("need more than 8 ports");
	}
	unsigned ndest = nports - MISS_PORTS;
	const unsigned *dest = ports + MISS_PORTS;

	int *fds = malloc(k * sizeof *fds);
	uint64_t *miss = malloc(calls * sizeof *miss), *hit = malloc(calls * sizeof *hit);
	if (!fds || !miss || !hit)
		die("malloc");
	/* Touch the arrays now so their pages are not counted as per-connection. */
	memset(fds, 0, k * sizeof *fds);
	memset(miss, 0, calls * sizeof *miss);
	memset(hit, 0, calls * sizeof *hit);

	long fds0 = open_fds(), rss0 = vmrss_kb();
	for (unsigned long i = 0; i < k; i++) {
		fds[i] = new_socket();
		do_connect(fds[i], dest[i % ndest]);
		exchange(fds[i]);
	}
	long rss_tracked = vmrss_kb();
	if (!hold)
		for (unsigned long i = 0; i < k; i++)
			close(fds[i]);
	long rss_idle = vmrss_kb(), idle = open_fds() - fds0;

	for (unsigned long i = 0; i < calls; i++) {
		int fd = new_socket();
		uint64_t t0 = now_ns();
		do_connect(fd, ports[i % MISS_PORTS]);
		uint64_t t1 = now_ns();
		close(fd);
		miss[i] = now_ns() - t1 + (t1 - t0);
	}
	/* Hits go to destinations that have idle connections (all of them when
	 * K >= the number of destinations). */
	unsigned used = k < ndest ? (unsigned)k : ndest;
	for (unsigned long i = 0; i < calls; i++) {
		int fd = new_socket();
		uint64_t t0 = now_ns();
		do_connect(fd, dest[i % used]);
		uint64_t t1 = now_ns();
		exchange(fd);
		uint64_t t2 = now_ns();
		close(fd);
		hit[i] = (now_ns() - t2) + (t1 - t0);
	}
	long idle_after = open_fds() - fds0;

	printf("idle=%ld idle_after=%ld rss_kb_base=%ld rss_kb_tracked=%ld rss_kb_idle=%ld "
	       "miss_ns=%llu hit_ns=%llu\n",
	       idle, idle_after, rss0, rss_tracked, rss_idle,
	       (unsigned long long)median(miss, (unsigned)calls),
	       (unsigned long long)median(hit, (unsigned)calls));
	return 0;
}
