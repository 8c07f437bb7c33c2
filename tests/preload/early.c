/* early.so - makes HTTP requests from its constructor, before keepwarm's own
 * constructor may have run (the order of preloaded constructors is the
 * loader's business). Each request uses a new socket and closes it; with the
 * shim the test server sees one connection. Target: KW_EARLY_PORT on
 * 127.0.0.1, KW_EARLY_REQUESTS requests (default 3). Prints "early ok N". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int one_request(int port)
{
	static const char req[] = "GET /gen/100 HTTP/1.1\r\nHost: x\r\n\r\n";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char buf[4096];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -1;
	if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
		return -1;
	/* The response is headers + 100 body bytes; read until the blank line and body. */
	for (int rounds = 0; rounds < 100; rounds++) {
		ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
		char *end;
		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end && got - (size_t)(end + 4 - buf) >= 100)
			break;
	}
	return close(fd);
}

__attribute__((constructor)) static void early_requests(void)
{
	const char *port = getenv("KW_EARLY_PORT");
	const char *count = getenv("KW_EARLY_REQUESTS");
	int n = count ? atoi(count) : 3, ok = 0;

	if (!port)
		return;
	for (int i = 0; i < n; i++)
		ok += one_request(atoi(port)) == 0;
	fprintf(stderr, "early %s %d\n", ok == n ? "ok" : "FAILED", ok);
}
