/* kwdeep.c - libkwdeep.so, a library its program loads with RTLD_DEEPBIND
 * (as PHP loads its extensions): kwdeep_fetch makes N HTTP requests, a new
 * socket for each (socket, connect, write, read to the end, close), and
 * kwdeep_which says where its scope binds kwtest_which. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

const char *kwtest_which(void); /* in libkwdeepdep.so and in the program */

EXPORT const char *kwdeep_which(void)
{
	return kwtest_which();
}

/* One GET /gen/SIZE on a new connection, read to the end of its body.
 * Returns the body length, -1 on an error. */
static long fetch_one(int port, int size)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	char req[128], buf[8192];
	long got = 0, body = -1, want = -1;
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;
	size_t used = 0;

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	n = snprintf(req, sizeof req, "GET /gen/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", size);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 || write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	while (want < 0 || body < want) {
		ssize_t r = read(fd, buf + used, sizeof buf - 1 - used);
		if (r <= 0)
			break;
		used += (size_t)r;
		got += r;
		buf[used] = '\0';
		if (want < 0) {
			char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
			if (!end)
				continue;
			if (!cl) {
				close(fd);
				return -1;
			}
			want = atol(cl + 16);
			body = (long)(used - (size_t)(end + 4 - buf));
		} else {
			body += r;
		}
		used = 0;
	}
	close(fd);
	return body == want ? body : -1;
}

EXPORT int kwdeep_fetch(int port, int n, int size)
{
	for (int i = 0; i < n; i++)
		if (fetch_one(port, size) != size)
			return -1;
	return 0;
}
