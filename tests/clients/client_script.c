/* client_script.c - the pieces shared by the clients that script their own
 * socket calls (unseen_io, fd_holder, escape, forks, own_server,
 * parked_number, sockopt_reset) rather than run kc_main's exchanges. */
#include "client_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int kc_script_args(struct kc_script *o, int argc, char **argv, const char *const *flags,
                   bool *seen)
{
	o->host = "127.0.0.1";
	o->mode = NULL;
	o->port = 0;
	o->requests = 0;
	o->timeout_s = 0;
	for (int i = 1; i < argc; i++) {
		bool flag = false;
		for (int k = 0; flags && flags[k]; k++)
			if (!strcmp(argv[i], flags[k]))
				flag = seen[k] = true;
		if (flag)
			continue;
		if (i + 1 >= argc)
			return -1;
		if (!strcmp(argv[i], "--port"))
			o->port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--host"))
			o->host = argv[++i];
		else if (!strcmp(argv[i], "--requests"))
			o->requests = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mode"))
			o->mode = argv[++i];
		else if (!strcmp(argv[i], "--timeout"))
			o->timeout_s = atoi(argv[++i]);
		else
			return -1;
	}
	if (o->timeout_s > 0)
		alarm((unsigned)o->timeout_s);
	return o->port ? 0 : -1;
}

int kc_dial(const char *host, int port)
{
	return kc_dial_opt(host, port, 0, 0, NULL, 0);
}

int kc_dial_opt(const char *host, int port, int level, int name, const void *val, socklen_t vlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof ss);
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, host, &a->sin6_addr);
		len = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, host, &a->sin_addr);
		len = sizeof *a;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd >= 0 && val)
		setsockopt(fd, level, name, val, vlen);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static long plain_read(int fd, void *buf, size_t len)
{
	return read(fd, buf, len);
}

long kc_read_sized(int fd, long (*rd)(int fd, void *buf, size_t len))
{
	static __thread char buf[65536];
	size_t have = 0, head = 0;
	long cl = -1;

	if (!rd)
		rd = plain_read;
	for (;;) {
		long n;
		if (!head) {
			char *end = have >= 4 ? memmem(buf, have, "\r\n\r\n", 4) : NULL;
			if (end) {
				char *p = memmem(buf, (size_t)(end - buf), "Content-Length: ", 16);
				head = (size_t)(end - buf) + 4;
				if (!p)
					return -1;
				cl = strtol(p + 16, NULL, 10);
			}
		}
		if (head && have >= head + (size_t)cl)
			return have == head + (size_t)cl ? cl : -1;
		if (have == sizeof buf || (n = rd(fd, buf + have, sizeof buf - have)) <= 0)
			return -1;
		have += (size_t)n;
	}
}

int kc_get_sized(int fd, const char *host, long n)
{
	char req[256];
	int len = snprintf(req, sizeof req, "GET /gen/%ld HTTP/1.1\r\nHost: %s\r\n\r\n", n, host);

	if (write(fd, req, (size_t)len) != len)
		return -1;
	return kc_read_sized(fd, NULL) == n ? 0 : -1;
}
