/* own_server - a program that runs its own HTTP server, as test suites do
 * (a pytest fixture's server thread, Django's live server, a forked child
 * server). The server takes one connection at a time: it answers the first
 * request, then reads until the client closes (as a one-request-at-a-time
 * server or a loop on recv() until EOF does), then takes the next. The client
 * side makes --requests requests, each on its own connection closed after the
 * response; then the program waits for its server to finish.
 *
 *   own_server --mode thread|fork [--any] [--requests N] [--timeout S]
 *     --mode thread  the server is a thread of this process
 *     --mode fork    the server is a forked child (listening after the fork)
 *     --any          listen on 0.0.0.0 (the client still dials 127.0.0.1)
 * (--host and --port are accepted and ignored: the server is our own.)
 * Exit 0; 1 when an exchange fails; the --timeout alarm ends a hang. */
#include "client_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int requests = 10, any;

static int listen_socket(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = any ? htonl(INADDR_ANY) : htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("listen");
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* One connection at a time: answer the first request, then read to EOF. */
static void serve(int lfd)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

	for (int i = 0; i < requests; i++) {
		char buf[4096];
		size_t have = 0;
		ssize_t n;
		int c = accept(lfd, NULL, NULL);

		if (c < 0) {
			perror("accept");
			exit(1);
		}
		while (have < 4 || !memmem(buf, have, "\r\n\r\n", 4)) {
			if ((n = read(c, buf + have, sizeof buf - have)) <= 0)
				break;
			have += (size_t)n;
		}
		if (write(c, resp, sizeof resp - 1) != (ssize_t)sizeof resp - 1)
			perror("write");
		while ((n = read(c, buf, sizeof buf)) > 0)
			; /* until the client closes */
		close(c);
	}
}

static void *server_thread(void *arg)
{
	serve(*(int *)arg);
	return NULL;
}

static int client(uint16_t port)
{
	for (int i = 1; i <= requests; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		static const char req[] = "GET /x HTTP/1.1\r\nHost: self\r\n\r\n";
		char buf[256];
		size_t have = 0;
		ssize_t n;
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
		    write(fd, req, sizeof req - 1) != (ssize_t)sizeof req - 1) {
			perror("client");
			return 1;
		}
		while (have < 40 && (n = read(fd, buf + have, sizeof buf - have)) > 0)
			have += (size_t)n;
		if (have != 40 || memcmp(buf + have - 2, "ok", 2)) {
			fprintf(stderr, "request %d: a short or wrong response (%zu bytes)\n", i, have);
			return 1;
		}
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = NULL;
	uint16_t port;
	int lfd, rc;

	static const char *const flags[] = { "--any", NULL };
	bool seen[1] = { false };
	struct kc_script o;

	/* --host and --port are accepted and ignored (the server is our own),
	 * so a missing --port is no error here. */
	(void)kc_script_args(&o, argc, argv, flags, seen);
	mode = o.mode;
	any = seen[0];
	if (o.requests > 0)
		requests = o.requests;
	if (!mode || (strcmp(mode, "thread") && strcmp(mode, "fork"))) {
		fprintf(stderr, "usage: own_server --mode thread|fork [--any] [--requests N] [--timeout S]\n");
		return 2;
	}
	if (!strcmp(mode, "thread")) {
		pthread_t t;
		lfd = listen_socket(&port);
		pthread_create(&t, NULL, server_thread, &lfd);
		rc = client(port);
		pthread_join(t, NULL); /* a program waits for its server at exit */
		close(lfd);
		return rc;
	} else {
		int ready[2], status;
		pid_t child;
		if (pipe(ready) < 0 || (child = fork()) < 0)
			return 1;
		if (child == 0) {
			/* The child makes its own listener: the parent never calls listen(). */
			lfd = listen_socket(&port);
			if (write(ready[1], &port, sizeof port) != sizeof port)
				_exit(1);
			serve(lfd);
			_exit(0);
		}
		if (read(ready[0], &port, sizeof port) != sizeof port)
			return 1;
		rc = client(port);
		if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
			rc = 1;
		return rc;
	}
}
