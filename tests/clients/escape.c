/* escape - leaving a blocking call early must leave keepwarm working. One
 * way out per run, then --requests ordinary requests to the server (a new
 * socket each, closed after the response), which keepwarm should serve on
 * one connection:
 *   --mode longjmp-connect  siglongjmp from a SIGALRM handler out of a
 *                           connect() to an address that never answers
 *   --mode longjmp-read     the same out of a read() the server never answers
 *   --mode shutdown         a watchdog thread's shutdown() must abort a
 *                           connect() that never completes (within 5 s)
 *   --mode cancel-connect   pthread_cancel of a thread blocked in connect()
 *   --mode cancel-read      pthread_cancel of a thread blocked in read()
 * The address that never answers is a listener of our own whose accept
 * queue is full (its SYNs are dropped). The socket left behind is closed,
 * so its number is reused by the requests that follow.
 *
 *   escape --port P --mode M [--host H] [--requests N] [--timeout S]
 * Exit 0; 1 when a request fails or the way out did not work; the --timeout
 * alarm (default 30 s) ends a hang. */
#include "client_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static int port, requests = 20, timeout_s = 30;
static struct sockaddr_in blackhole;
static sigjmp_buf out;
static volatile int in_call;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A listener whose accept queue is full: a connect() to it never completes. */
static void make_blackhole(void)
{
	socklen_t len = sizeof blackhole;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	blackhole.sin_family = AF_INET;
	blackhole.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&blackhole, sizeof blackhole) < 0 || listen(l, 0) < 0 ||
	    getsockname(l, (struct sockaddr *)&blackhole, &len) < 0) {
		perror("listen");
		exit(1);
	}
	for (int i = 0; i < 16; i++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct pollfd p = { s, POLLOUT, 0 };
		if (connect(s, (struct sockaddr *)&blackhole, sizeof blackhole) == 0)
			continue;
		if (errno != EINPROGRESS) {
			perror("fill");
			exit(1);
		}
		if (poll(&p, 1, 200) == 0)
			return; /* this one hangs: the queue is full */
	}
	fprintf(stderr, "could not fill the accept queue\n");
	exit(1);
}

static void on_alarm(int sig)
{
	(void)sig;
	if (in_call)
		siglongjmp(out, 1);
	_exit(3); /* the hang guard */
}

static void arm(long ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

static int request(int i)
{
	int fd = kc_dial(host, port);

	if (fd < 0 || kc_get_sized(fd, host, 100) < 0) {
		fprintf(stderr, "request %d failed\n", i);
		return 1;
	}
	close(fd);
	return 0;
}

/* A socket whose read() the server never answers (no request sent). */
static int silent_socket(void)
{
	int fd = kc_dial(host, port);

	if (fd < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static int victim = -1;

static void *blocked_connect(void *arg)
{
	(void)arg;
	connect(victim, (struct sockaddr *)&blackhole, sizeof blackhole);
	return NULL;
}

static void *blocked_read(void *arg)
{
	char c;
	(void)arg;
	if (read(victim, &c, 1) > 0)
		fprintf(stderr, "read returned data\n");
	return NULL;
}

static void *watchdog(void *arg)
{
	(void)arg;
	usleep(100000);
	shutdown(victim, SHUT_RDWR);
	return NULL;
}

static int way_out(const char *mode)
{
	pthread_t t;
	double t0;

	if (!strncmp(mode, "longjmp", 7)) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;
		sigaction(SIGALRM, &sa, NULL);
		victim = !strcmp(mode, "longjmp-read") ? silent_socket() : socket(AF_INET, SOCK_STREAM, 0);
		if (sigsetjmp(out, 1) == 0) {
			in_call = 1;
			arm(100);
			if (!strcmp(mode, "longjmp-read")) {
				char c;
				(void)!read(victim, &c, 1);
			} else {
				connect(victim, (struct sockaddr *)&blackhole, sizeof blackhole);
			}
			in_call = 0;
			fprintf(stderr, "the call returned before the alarm\n");
			return 1;
		}
		in_call = 0;
		alarm((unsigned)timeout_s); /* the hang guard again */
	} else if (!strcmp(mode, "shutdown")) {
		victim = socket(AF_INET, SOCK_STREAM, 0);
		pthread_create(&t, NULL, watchdog, NULL);
		t0 = now();
		connect(victim, (struct sockaddr *)&blackhole, sizeof blackhole);
		pthread_join(t, NULL);
		if (now() - t0 > 5) {
			fprintf(stderr, "shutdown() took %.1f s to abort the connect()\n", now() - t0);
			return 1;
		}
	} else {
		int is_read = !strcmp(mode, "cancel-read");
		victim = is_read ? silent_socket() : socket(AF_INET, SOCK_STREAM, 0);
		pthread_create(&t, NULL, is_read ? blocked_read : blocked_connect, NULL);
		usleep(100000);
		pthread_cancel(t);
		pthread_join(t, NULL);
	}
	close(victim); /* its number is reused by the requests below */
	return 0;
}

int main(int argc, char **argv)
{
	struct kc_script o;

	if (kc_script_args(&o, argc, argv, NULL, NULL) < 0 || !o.mode) {
		fprintf(stderr, "usage: escape --port P --mode longjmp-connect|longjmp-read|shutdown|"
		                "cancel-connect|cancel-read [--requests N] [--timeout S]\n");
		return 2;
	}
	host = o.host;
	port = o.port;
	requests = o.requests > 0 ? o.requests : 20;
	timeout_s = o.timeout_s > 0 ? o.timeout_s : 30;
	alarm((unsigned)timeout_s);
	make_blackhole();
	if (way_out(o.mode))
		return 1;
	for (int i = 1; i <= requests; i++)
		if (request(i))
			return 1;
	return 0;
}
