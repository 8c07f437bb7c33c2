/* benchserv - a minimal keep-alive HTTP/1.1 origin for the bulk and scale
 * benchmarks, 127.0.0.1 only.
 *
 *   benchserv --ports K --port-file F [--body-bytes N]
 *
 * Listens on K free ports (written to F, one per line, once all listen) and
 * answers every request head (everything up to a blank line; request bodies
 * are not supported) with 200 and an N-byte Content-Length body (default 2)
 * taken from one static buffer, so a 1 GiB response costs no generation
 * time: the benchmark measures the client side. Connections stay open until
 * the client closes. Why not kwtestd: it has one port and a thread per
 * connection; the scale benchmark holds thousands of idle connections across
 * many destinations (ports), which one epoll loop handles cheaply. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS   1024
#define STATIC_BODY (1u << 20)

struct conn {
	bool listener;
	bool open;
	bool want_out;          /* EPOLLOUT registered */
	unsigned match;         /* bytes of "\r\n\r\n" matched so far */
	uint64_t pending;       /* complete request heads not yet answered */
	size_t head_off;        /* of the current response's head */
	uint64_t body_left;     /* of the current response */
	bool in_response;
};

static struct conn *conns;
static size_t nconns;
static char head[128];
static size_t head_len;
static uint64_t body_bytes = 2;
static char body[STATIC_BODY];
static int epfd;
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "benchserv: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void drop(int fd)
{
	conns[fd].open = false;
	close(fd); /* also leaves the epoll set */
}

static void set_out(int fd, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.fd = fd };
	if (conns[fd].want_out != on) {
		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
		conns[fd].want_out = on;
	}
}

/* Send as much of the pending responses as the socket takes. */
static void answer(int fd)
{
	struct conn *c = &conns[fd];

	while (c->pending) {
		if (!c->in_response) {
			c->in_response = true;
			c->head_off = 0;
			c->body_left = body_bytes;
		}
		ssize_t w;
		if (c->head_off < head_len) {
			/* Head and the start of the body in one call, like real servers. */
			struct iovec iov[2] = {
				{ head + c->head_off, head_len - c->head_off },
				{ body, c->body_left < STATIC_BODY ? c->body_left : STATIC_BODY },
			};
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
			w = sendmsg(fd, &m, MSG_NOSIGNAL);
			if (w > 0) {
				size_t h = (size_t)w < iov[0].iov_len ? (size_t)w : iov[0].iov_len;
				c->head_off += h;
				c->body_left -= (uint64_t)w - h;
			}
		} else {
			size_t n = c->body_left < STATIC_BODY ? (size_t)c->body_left : STATIC_BODY;
			w = n ? send(fd, body, n, MSG_NOSIGNAL) : 0;
			if (w > 0)
				c->body_left -= (uint64_t)w;
		}
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				set_out(fd, true);
				return;
			}
			drop(fd);
			return;
		}
		if (c->head_off == head_len && !c->body_left) {
			c->in_response = false;
			c->pending--;
		}
	}
	set_out(fd, false);
}

static void on_readable(int fd)
{
	static char buf[65536];
	static const char end[] = "\r\n\r\n";
	struct conn *c = &conns[fd];

	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			drop(fd);
			return;
		}
		if (r < 0)
			break;
		/* Count request heads: each ends with the first blank line. */
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] == end[c->match])
				c->match++;
			else
				c->match = buf[i] == '\r' ? 1 : 0;
			if (c->match == 4) {
				c->pending++;
				c->match = 0;
			}
		}
		if (r < (ssize_t)sizeof buf)
			break;
	}
	answer(fd);
}

static void accept_all(int lfd)
{
	for (int i = 0; i < 256; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if ((size_t)fd >= nconns) {
			close(fd);
			continue;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		memset(&conns[fd], 0, sizeof conns[fd]);
		conns[fd].open = true;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			drop(fd);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ports",      required_argument, 0, 'k' },
		{ "port-file",  required_argument, 0, 'f' },
		{ "body-bytes", required_argument, 0, 'b' },
		{ 0, 0, 0, 0 },
	};
	const char *port_file = NULL;
	unsigned nports = 1;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *e;
		switch (c) {
		case 'k':
			nports = (unsigned)strtoul(optarg, &e, 10);
			if (*e || !nports || nports > MAX_PORTS) {
				fprintf(stderr, "benchserv: --ports 1..%d\n", MAX_PORTS);
				return 2;
			}
			break;
		case 'f': port_file = optarg; break;
		case 'b':
			body_bytes = strtoull(optarg, &e, 10);
			if (*e || !*optarg) {
				fprintf(stderr, "benchserv: bad --body-bytes\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: benchserv --ports K --port-file F [--body-bytes N]\n");
			return 2;
		}
	}
	if (!port_file) {
		fprintf(stderr, "benchserv: --port-file is required\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	nconns = rl.rlim_cur > (1u << 20) ? (1u << 20) : (size_t)rl.rlim_cur;
	conns = calloc(nconns, sizeof *conns);
	if (!conns)
		die("calloc");
	memset(body, 'x', sizeof body);
	head_len = (size_t)snprintf(head, sizeof head,
	                            "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
	                            (unsigned long long)body_bytes);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
	FILE *pf = fopen(tmp, "w");
	if (!pf)
		die("port file");
	for (unsigned i = 0; i < nports; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		socklen_t alen = sizeof a;
		int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
		    listen(lfd, 4096) < 0 || getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
			die("listen");
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
			die("epoll_ctl");
		if ((size_t)lfd >= nconns)
			die("descriptor limit");
		conns[lfd].listener = true;
		fprintf(pf, "%u\n", ntohs(a.sin_port));
	}
	if (fclose(pf) != 0 || rename(tmp, port_file) < 0)
		die("port file");

	struct epoll_event evs[256];
	while (!stopping) {
		int n = epoll_wait(epfd, evs, 256, 1000);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (conns[fd].listener) {
				accept_all(fd);
			} else if (conns[fd].open) {
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					on_readable(fd);
				else if (evs[i].events & EPOLLOUT)
					answer(fd);
			}
		}
	}
	return 0;
}
