/* delayproxy - a user-space round-trip-time emulator for 127.0.0.1.
 *
 *   delayproxy --listen-port N --port-file F --target-port P --rtt-ms R
 *              [--handshake-in-connect]
 *
 * Listens on 127.0.0.1:N (0 = a free port, written to F followed by a newline
 * once listening) and relays every accepted connection to 127.0.0.1:P over a
 * connection of its own (one upstream connection per client connection, so a
 * client that reuses its connection also reuses the upstream one).
 *
 * Why: this kernel has no netem qdisc. Each chunk read from one side is
 * stamped with its arrival time and written to the other side RTT/2 later,
 * in order. connect() to the proxy completes at once, so the first bytes of a
 * connection (in whichever direction) wait one more RTT: that is the TCP
 * handshake a real client would have waited for before sending. A fresh
 * request/response therefore costs 2 RTT and one on a reused connection 1 RTT.
 * With --handshake-in-connect the first bytes wait no longer than any others:
 * the client pays the handshake in connect() instead, through
 * tools/bench/connectdelay.so, so that a request's own latency is one RTT on
 * a fresh connection and on a reused one alike, as over a real link.
 * A FIN is a chunk too: when it comes due the proxy shuts down the write side
 * towards the other peer (TCP half-close), and a pair ends when both
 * directions have delivered their FIN. An error or reset on either side drops
 * the pair at once.
 *
 * Single-threaded ppoll() loop with nanosecond timeouts. Each direction
 * queues at most QUEUE_LIMIT bytes; beyond that the proxy stops reading from
 * the source, so a fast sender is slowed down instead of filling memory. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK   65536
#define QUEUE_LIMIT  (1u << 20)
#define MAX_PAIRS    4096

struct chunk {
	struct chunk *next;
	uint64_t due_ns;        /* arrival + RTT/2 (+ RTT for the first bytes) */
	size_t len, off;        /* len 0 = FIN */
	char data[];
};

struct dir {
	int from, to;           /* read from, write to */
	struct chunk *head, *tail;
	size_t queued;
	bool eof_in;            /* read() returned 0: FIN queued */
	bool fin_out;           /* FIN delivered (shutdown(to, SHUT_WR) done) */
	bool blocked;           /* last write hit EAGAIN: wait for POLLOUT */
};

struct pair {
	int cfd, sfd;
	bool first;             /* no byte or FIN has crossed yet: handshake pending */
	struct dir d[2];        /* 0: client -> server, 1: server -> client */
};

static uint64_t half_ns, rtt_ns;
static bool handshake_in_connect; /* the client's connect() waits the RTT */
static struct pair *pairs[MAX_PAIRS];
static unsigned npairs;
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "delayproxy: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void set_nonblock_nodelay(int fd)
{
	int one = 1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* The proxy forwards whole chunks; Nagle would add delays of its own. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void free_pair(unsigned i)
{
	struct pair *p = pairs[i];
	for (int k = 0; k < 2; k++) {
		struct chunk *c = p->d[k].head;
		while (c) {
			struct chunk *n = c->next;
			free(c);
			c = n;
		}
	}
	close(p->cfd);
	close(p->sfd);
	free(p);
	pairs[i] = pairs[--npairs];
}

/* Stamp what just arrived on direction k. Chunks keep their order: a chunk is
 * never due before the one queued ahead of it. */
static int enqueue(struct pair *p, int k, const char *buf, size_t len, uint64_t now)
{
	struct dir *d = &p->d[k];
	struct chunk *c = malloc(sizeof *c + len);
	if (!c)
		return -1;
	c->next = NULL;
	c->len = len;
	c->off = 0;
	memcpy(c->data, buf, len);
	c->due_ns = now + half_ns + (p->first && !handshake_in_connect ? rtt_ns : 0);
	p->first = false;
	if (d->tail && c->due_ns < d->tail->due_ns)
		c->due_ns = d->tail->due_ns;
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += len;
	if (!len)
		d->eof_in = true;
	return 0;
}

/* Read what the source has for direction k. Returns -1 if the pair is dead. */
static int pull(struct pair *p, int k, uint64_t now)
{
	static char buf[READ_CHUNK];
	struct dir *d = &p->d[k];
	ssize_t n = read(d->from, buf, sizeof buf);

	if (n > 0)
		return enqueue(p, k, buf, (size_t)n, now);
	if (n == 0)
		return enqueue(p, k, buf, 0, now);
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	return -1; /* reset or error: drop both sides */
}

/* Deliver the due chunks of direction k. Returns -1 if the pair is dead. */
static int push(struct pair *p, int k, uint64_t now)
{
	struct dir *d = &p->d[k];

	d->blocked = false;
	while (d->head && d->head->due_ns <= now) {
		struct chunk *c = d->head;
		if (!c->len) {
			if (shutdown(d->to, SHUT_WR) < 0 && errno != ENOTCONN)
				return -1;
			d->fin_out = true;
		} else {
			ssize_t w = send(d->to, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					d->blocked = true;
					return 0;
				}
				return -1;
			}
			c->off += (size_t)w;
			d->queued -= (size_t)w;
			if (c->off < c->len) {
				d->blocked = true;
				return 0;
			}
		}
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		free(c);
	}
	return 0;
}

static int connect_upstream(unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	/* Blocking: a loopback connect to a listening server completes at once. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	set_nonblock_nodelay(fd);
	return fd;
}

static void accept_all(int lfd, unsigned target)
{
	for (int i = 0; i < 64; i++) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), sfd;
		if (cfd < 0)
			return;
		if (npairs == MAX_PAIRS || (sfd = connect_upstream(target)) < 0) {
			close(cfd);
			continue;
		}
		set_nonblock_nodelay(cfd);
		struct pair *p = calloc(1, sizeof *p);
		if (!p) {
			close(cfd);
			close(sfd);
			continue;
		}
		p->cfd = cfd;
		p->sfd = sfd;
		p->first = true;
		p->d[0].from = cfd;
		p->d[0].to = sfd;
		p->d[1].from = sfd;
		p->d[1].to = cfd;
		pairs[npairs++] = p;
	}
}

static unsigned parse_uint(const char *opt, const char *s, unsigned max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || v > max) {
		fprintf(stderr, "delayproxy: bad %s '%s'\n", opt, s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen-port", required_argument, 0, 'l' },
		{ "port-file",   required_argument, 0, 'f' },
		{ "target-port", required_argument, 0, 't' },
		{ "rtt-ms",      required_argument, 0, 'r' },
		{ "handshake-in-connect", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	unsigned listen_port = 0, target = 0;
	const char *port_file = NULL;
	double rtt_ms = -1;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_port = parse_uint("--listen-port", optarg, 65535); break;
		case 'f': port_file = optarg; break;
		case 't': target = parse_uint("--target-port", optarg, 65535); break;
		case 'h': handshake_in_connect = true; break;
		case 'r': {
			char *end;
			rtt_ms = strtod(optarg, &end);
			if (!*optarg || *end || rtt_ms < 0 || rtt_ms > 10000) {
				fprintf(stderr, "delayproxy: bad --rtt-ms '%s'\n", optarg);
				return 2;
			}
			break;
		}
		default:
			fprintf(stderr, "usage: delayproxy --listen-port N --port-file F "
			                "--target-port P --rtt-ms R [--handshake-in-connect]\n");
			return 2;
		}
	}
	if (!target || rtt_ms < 0) {
		fprintf(stderr, "delayproxy: --target-port and --rtt-ms are required\n");
		return 2;
	}
	rtt_ns = (uint64_t)(rtt_ms * 1e6);
	half_ns = rtt_ns / 2;

	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port) };
	socklen_t llen = sizeof la;
	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&la, sizeof la) < 0 || listen(lfd, 1024) < 0)
		die("bind/listen");
	if (getsockname(lfd, (struct sockaddr *)&la, &llen) < 0)
		die("getsockname");
	if (port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", ntohs(la.sin_port)) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) < 0)
			die("port file");
	}

	static struct pollfd pfd[1 + 2 * MAX_PAIRS];
	while (!stopping) {
		uint64_t now = now_ns(), next = UINT64_MAX;
		unsigned n = 0;

		/* Deliver what is due; drop dead or finished pairs. */
		for (unsigned i = 0; i < npairs;) {
			struct pair *p = pairs[i];
			if (push(p, 0, now) < 0 || push(p, 1, now) < 0 ||
			    (p->d[0].fin_out && p->d[1].fin_out)) {
				free_pair(i);
				continue;
			}
			i++;
		}
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (unsigned i = 0; i < npairs; i++) {
			struct pair *p = pairs[i];
			short ev[2] = { 0, 0 }; /* for cfd, sfd */
			for (int k = 0; k < 2; k++) {
				struct dir *d = &p->d[k];
				if (!d->eof_in && d->queued < QUEUE_LIMIT)
					ev[k] |= POLLIN;          /* d->from is cfd for k 0 */
				if (d->blocked)
					ev[1 - k] |= POLLOUT;     /* d->to */
				else if (d->head && d->head->due_ns < next)
					next = d->head->due_ns;
			}
			/* An fd with nothing wanted is left out (fd -1): a half-closed
			 * socket reports POLLHUP forever and would make this loop spin. */
			pfd[n++] = (struct pollfd){ .fd = ev[0] ? p->cfd : -1, .events = ev[0] };
			pfd[n++] = (struct pollfd){ .fd = ev[1] ? p->sfd : -1, .events = ev[1] };
		}
		struct timespec ts, *tsp = NULL;
		if (next != UINT64_MAX) {
			uint64_t wait = next > now ? next - now : 0;
			ts.tv_sec = (time_t)(wait / 1000000000u);
			ts.tv_nsec = (long)(wait % 1000000000u);
			tsp = &ts;
		}
		int r = ppoll(pfd, n, tsp, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("ppoll");
		}
		now = now_ns();
		/* Pairs are only added after this pass, so pfd[1 + 2i] is pairs[i]. */
		unsigned have = npairs;
		for (unsigned i = 0; i < have && r > 0; i++) {
			struct pair *p = pairs[i];
			for (int k = 0; k < 2; k++) {
				short re = pfd[1 + 2 * i + k].revents; /* fd = d[k].from */
				if ((re & (POLLIN | POLLHUP | POLLERR)) && !p->d[k].eof_in &&
				    p->d[k].queued < QUEUE_LIMIT && pull(p, k, now) < 0) {
					p->d[0].fin_out = p->d[1].fin_out = true; /* reaped next pass */
					break;
				}
			}
		}
		if (pfd[0].revents & POLLIN)
			accept_all(lfd, target);
	}
	while (npairs)
		free_pair(npairs - 1);
	close(lfd);
	return 0;
}
