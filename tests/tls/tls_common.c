/* tls_common.c - the TLS-library-independent half of the test clients
 * (tls_common.h): arguments, TCP, waits, HTTP/1.1 and the five modes.
 *
 *   CLIENT --ca FILE [--mode blocking|poll|epoll|threads|fork]
 *          [--new-conn|--fresh|--keep-alive] URL...
 *
 * --new-conn: a connection per request, asking for Connection: close;
 * --fresh: a connection per request, closed after a keep-alive response
 * (as a program that opens one per request and just closes it). The
 * environment's KW_TEST_CLOSE_FIRST=1 closes the socket before the TLS
 * session is shut down and freed; KW_TEST_NODELAY=1 sets TCP_NODELAY on
 * each socket before connect(); KW_TEST_PAUSE_MS=N sleeps N milliseconds
 * before every request of the process after its first (before its
 * connection is opened, if it needs one: a server's keep-alive timeout can
 * pass meanwhile). The TLS halves read more KW_TEST_* variables (their
 * files say which).
 *
 * Prints one sha256 per body in URL order (fork mode: the first URL's again
 * at the end) and exits 0; any error is one line on stderr and exit 1. */
#include "tls_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 20000 /* a stalled test fails instead of hanging */
#define NTHREADS 4
#define MAX_BODY (256u << 20)
#define MAX_URLS 1024

static const struct tls_ops *ops;
static enum io_mode mode = IO_BLOCKING;
static int new_conn; /* 1: --new-conn, 2: --fresh */

static void err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tls-client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int parse_url(const char *s, struct url *u)
{
	const char *h, *p;
	size_t n;
	struct in_addr a;

	if (strncmp(s, "https://", 8) != 0)
		return -1;
	h = s + 8;
	n = strcspn(h, ":/");
	if (n == 0 || n >= sizeof u->host)
		return -1;
	memcpy(u->host, h, n);
	u->host[n] = '\0';
	p = h + n;
	if (*p == ':') {
		n = strspn(p + 1, "0123456789");
		if (n == 0 || n >= sizeof u->port)
			return -1;
		memcpy(u->port, p + 1, n);
		u->port[n] = '\0';
		p += 1 + n;
	} else {
		strcpy(u->port, "443");
	}
	if (*p == '\0')
		p = "/";
	if (*p != '/' || strlen(p) >= sizeof u->path)
		return -1;
	strcpy(u->path, p);
	u->host_is_ip = inet_pton(AF_INET, u->host, &a) == 1;
	return 0;
}

static int same_dest(const struct url *a, const struct url *b)
{
	return strcmp(a->host, b->host) == 0 && strcmp(a->port, b->port) == 0;
}

int sock_wait(struct sock *s, int want_write)
{
	int r;

	if (!s->nonblock) {
		/* A blocking socket never asks to wait: the TLS library failed. */
		errno = EIO;
		return -1;
	}
	if (s->mode == IO_EPOLL) {
		struct epoll_event ev = { .events = want_write ? EPOLLOUT : EPOLLIN };

		ev.data.fd = s->fd;
		if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->fd, &ev) != 0)
			return -1;
		do
			r = epoll_wait(s->epfd, &ev, 1, IO_TIMEOUT_MS);
		while (r < 0 && errno == EINTR);
	} else {
		struct pollfd p = { .fd = s->fd, .events = want_write ? POLLOUT : POLLIN };

		do
			r = poll(&p, 1, IO_TIMEOUT_MS);
		while (r < 0 && errno == EINTR);
		if (r > 0 && (p.revents & POLLNVAL))
			r = -1;
	}
	if (r == 0)
		errno = ETIMEDOUT;
	/* Readiness or an error condition: the next call tells which. */
	return r > 0 ? 0 : -1;
}

/* A TCP connection to u; the socket is non-blocking in the poll and epoll
 * modes (made so in two different ways: programs do both). */
static int tcp_connect(const struct url *u, struct sock *s)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	int r, e = 0;
	socklen_t el = sizeof e;

	s->fd = s->epfd = -1;
	s->mode = mode;
	s->nonblock = mode == IO_POLL || mode == IO_EPOLL;
	r = getaddrinfo(u->host, u->port, &hints, &ai);
	if (r != 0) {
		err("%s: %s", u->host, gai_strerror(r));
		return -1;
	}
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (mode == IO_EPOLL ? SOCK_NONBLOCK : 0), 0);
	if (s->fd < 0)
		goto fail;
	if (getenv("KW_TEST_NODELAY")) {
		int one = 1;
		if (setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
			goto fail;
	}
	if (mode == IO_POLL && fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK) != 0)
		goto fail;
	if (mode == IO_EPOLL) {
		struct epoll_event ev = { .events = EPOLLOUT, .data.fd = s->fd };

		s->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->fd, &ev) != 0)
			goto fail;
	}
	if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (!s->nonblock || errno != EINPROGRESS || sock_wait(s, 1) != 0)
			goto fail;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
			errno = e ? e : errno;
			goto fail;
		}
	}
	freeaddrinfo(ai);
	return 0;
fail:
	err("connect %s:%s: %s", u->host, u->port, strerror(errno));
	freeaddrinfo(ai);
	if (s->fd >= 0)
		close(s->fd);
	if (s->epfd >= 0)
		close(s->epfd);
	s->fd = s->epfd = -1;
	return -1;
}

/* One connection: the socket, the TLS session and a read buffer kept
 * across the responses of a keep-alive connection. */
struct conn {
	struct sock s;
	void *tls;
	int server_closes; /* the last response said Connection: close */
	size_t off, len;
	char buf[16384];
};

static struct conn *conn_open(const struct url *u)
{
	struct conn *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	if (tcp_connect(u, &c->s) != 0) {
		free(c);
		return NULL;
	}
	c->tls = ops->open(&c->s, u);
	if (!c->tls) {
		close(c->s.fd);
		if (c->s.epfd >= 0)
			close(c->s.epfd);
		free(c);
		return NULL;
	}
	return c;
}

/* The TLS shutdown and free (ops->close), then close(). */
static void conn_close(struct conn *c)
{
	if (!c)
		return;
	if (getenv("KW_TEST_CLOSE_FIRST")) {
		close(c->s.fd);
		ops->close(c->tls);
	} else {
		ops->close(c->tls);
		close(c->s.fd);
	}
	if (c->s.epfd >= 0)
		close(c->s.epfd);
	free(c);
}

/* More bytes into the buffer: >0, 0 at the end of the stream, -1. */
static ssize_t fill(struct conn *c)
{
	ssize_t n;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == sizeof c->buf) {
		err("response line longer than %zu bytes", sizeof c->buf);
		return -1;
	}
	n = ops->read(c->tls, c->buf + c->len, sizeof c->buf - c->len);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

/* One line without its CRLF into line (NUL-terminated); -1 at EOF. */
static int read_line(struct conn *c, char *line, size_t max)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);

		if (nl) {
			size_t n = (size_t)(nl - (c->buf + c->off));

			if (n > 0 && c->buf[c->off + n - 1] == '\r')
				n--;
			if (n >= max) {
				err("header line too long");
				return -1;
			}
			memcpy(line, c->buf + c->off, n);
			line[n] = '\0';
			c->off = (size_t)(nl - c->buf) + 1;
			return 0;
		}
		if (fill(c) <= 0) {
			err("connection ended inside the response head");
			return -1;
		}
	}
}

struct body {
	unsigned char *p;
	size_t len, cap;
};

static int body_room(struct body *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 65536;
	unsigned char *p;

	if (more > MAX_BODY - b->len)
		return -1;
	while (cap < b->len + more)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* n bytes of body (or up to the end of the stream when to_eof). */
static int read_body(struct conn *c, struct body *b, size_t n, int to_eof)
{
	while (to_eof || n > 0) {
		size_t want = to_eof ? 65536 : n, have = c->len - c->off;
		ssize_t r;

		if (body_room(b, want) != 0) {
			err("body too large");
			return -1;
		}
		if (have > 0) { /* what the buffer holds first */
			r = (ssize_t)(have < want ? have : want);
			memcpy(b->p + b->len, c->buf + c->off, (size_t)r);
			c->off += (size_t)r;
		} else {
			r = ops->read(c->tls, b->p + b->len, want);
			if (r == 0 && to_eof)
				return 0;
			if (r <= 0) {
				err("connection ended inside a body");
				return -1;
			}
		}
		b->len += (size_t)r;
		if (!to_eof)
			n -= (size_t)r;
	}
	return 0;
}

static int read_chunked(struct conn *c, struct body *b)
{
	char line[1024], *end;

	for (int i = 0; i < 1000000; i++) {
		unsigned long long n;

		if (read_line(c, line, sizeof line) != 0)
			return -1;
		errno = 0;
		n = strtoull(line, &end, 16);
		if (end == line || errno || (*end && *end != ';' && *end != ' ')) {
			err("bad chunk size line '%s'", line);
			return -1;
		}
		if (n == 0) { /* trailers up to the empty line */
			do
				if (read_line(c, line, sizeof line) != 0)
					return -1;
			while (line[0]);
			return 0;
		}
		if (n > MAX_BODY || read_body(c, b, (size_t)n, 0) != 0 ||
		    read_line(c, line, sizeof line) != 0)
			return -1;
		if (line[0]) {
			err("no CRLF after a chunk");
			return -1;
		}
	}
	err("too many chunks");
	return -1;
}

/* GET u on c, the body's sha256 into hex. last: say Connection: close. */
static int fetch_one(struct conn *c, const struct url *u, int last, char hex[65])
{
	char req[4096], line[8192];
	int n, status, chunked = 0, have_len = 0, ret = -1;
	unsigned long long clen = 0;
	struct body b = { 0 };

	/* KW_TEST_POST=1: a POST with a small body (not replayable). */
	int post = getenv("KW_TEST_POST") != NULL;

	n = snprintf(req, sizeof req,
		     "%s %s HTTP/1.1\r\nHost: %s%s%s\r\nUser-Agent: kw-tls-client\r\nAccept: */*\r\n%s%s\r\n%s",
		     post ? "POST" : "GET", u->path, u->host, strcmp(u->port, "443") ? ":" : "",
		     strcmp(u->port, "443") ? u->port : "", last ? "Connection: close\r\n" : "",
		     post ? "Content-Length: 4\r\n" : "", post ? "x=1\n" : "");
	if (n < 0 || (size_t)n >= sizeof req || ops->write(c->tls, req, (size_t)n) != 0) {
		err("sending the request for %s failed", u->path);
		return -1;
	}
	if (read_line(c, line, sizeof line) != 0)
		return -1;
	if (sscanf(line, "HTTP/1.%*d %d", &status) != 1 || status != 200) {
		err("%s: status line '%s'", u->path, line);
		return -1;
	}
	c->server_closes = 0;
	for (int i = 0;; i++) {
		char *v;

		if (i > 200 || read_line(c, line, sizeof line) != 0)
			return -1;
		if (!line[0])
			break;
		v = strchr(line, ':');
		if (!v)
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		if (strcasecmp(line, "Content-Length") == 0) {
			clen = strtoull(v, NULL, 10);
			have_len = 1;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0 && strcasestr(v, "chunked")) {
			chunked = 1;
		} else if (strcasecmp(line, "Connection") == 0 && strcasestr(v, "close")) {
			c->server_closes = 1;
		}
	}
	if (chunked)
		ret = read_chunked(c, &b);
	else if (have_len)
		ret = clen > MAX_BODY ? -1 : read_body(c, &b, (size_t)clen, 0);
	else /* delimited by the end of the connection */
		ret = (c->server_closes = 1, read_body(c, &b, 0, 1));
	if (ret == 0)
		ret = ops->sha256_hex(b.p ? b.p : (unsigned char *)"", b.len, hex);
	free(b.p);
	return ret;
}

/* KW_TEST_PAUSE_MS: the pause before every request after the process's
 * first (threads count together; a fork child counts on from its parent). */
static void pause_before_request(void)
{
	static int requests;
	const char *ms = getenv("KW_TEST_PAUSE_MS");
	long n = ms ? strtol(ms, NULL, 10) : 0;
	struct timespec ts;

	if (__atomic_fetch_add(&requests, 1, __ATOMIC_RELAXED) == 0 || n <= 0)
		return;
	ts.tv_sec = n / 1000;
	ts.tv_nsec = n % 1000 * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Fetch n URLs: a connection each (--new-conn), or one per run of URLs to
 * the same place. keep != NULL: the last connection stays open (no
 * Connection: close) and is handed back. */
static int fetch_list(const struct url *u, int n, char (*hex)[65], struct conn **keep)
{
	struct conn *c = NULL;

	for (int i = 0; i < n; i++) {
		int last;

		if (c && (c->server_closes || !same_dest(&u[i - 1], &u[i]))) {
			conn_close(c);
			c = NULL;
		}
		pause_before_request();
		if (!c && !(c = conn_open(&u[i])))
			return -1;
		last = new_conn == 1 || (i == n - 1 ? keep == NULL : !same_dest(&u[i], &u[i + 1]));
		if (fetch_one(c, &u[i], last, hex[i]) != 0) {
			conn_close(c);
			return -1;
		}
		if (last || (new_conn == 2 && (i < n - 1 || !keep))) {
			conn_close(c);
			c = NULL;
		}
	}
	if (keep)
		*keep = c;
	else
		conn_close(c);
	return 0;
}

static void print_hex(char (*hex)[65], int n)
{
	for (int i = 0; i < n; i++)
		printf("%s\n", hex[i]);
	fflush(stdout);
}

struct share {
	pthread_t t;
	int first, n, rc;
	const struct url *u;
	char (*hex)[65];
};

/* Thread k takes URLs k, k+4, k+8...: copied together, fetched, put back. */
static void *thread_main(void *arg)
{
	struct share *s = arg;
	struct url *mine = calloc((size_t)s->n / NTHREADS + 1, sizeof *mine);
	char (*h)[65] = calloc((size_t)s->n / NTHREADS + 1, sizeof *h);
	int m = 0;

	s->rc = -1;
	if (!mine || !h)
		goto out;
	for (int i = s->first; i < s->n; i += NTHREADS)
		mine[m++] = s->u[i];
	if (fetch_list(mine, m, h, NULL) != 0)
		goto out;
	for (int i = s->first, j = 0; i < s->n; i += NTHREADS, j++)
		memcpy(s->hex[i], h[j], 65);
	s->rc = 0;
out:
	free(mine);
	free(h);
	return NULL;
}

static int run_threads(const struct url *u, int n, char (*hex)[65])
{
	struct share s[NTHREADS];
	int rc = 0;

	for (int k = 0; k < NTHREADS; k++) {
		s[k] = (struct share){ .first = k, .n = n, .u = u, .hex = hex, .rc = -1 };
		if (pthread_create(&s[k].t, NULL, thread_main, &s[k]) != 0) {
			err("pthread_create failed");
			return -1; /* exit() ends the others */
		}
	}
	for (int k = 0; k < NTHREADS; k++) {
		pthread_join(s[k].t, NULL);
		rc |= s[k].rc;
	}
	if (rc == 0)
		print_hex(hex, n);
	return rc;
}

/* The parent's connection (kept open when keeping alive) is never the
 * child's: the child connects anew, and the parent once more after it. */
static int run_fork(const struct url *u, int n, char (*hex)[65])
{
	struct conn *keep = NULL;
	int st;
	pid_t pid;

	if (fetch_list(u, 1, hex, new_conn ? NULL : &keep) != 0)
		return -1;
	print_hex(hex, 1);
	pid = fork();
	if (pid < 0) {
		err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int rc = fetch_list(u + 1, n - 1, hex + 1, NULL);

		if (rc == 0)
			print_hex(hex + 1, n - 1);
		exit(rc == 0 ? 0 : 1);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			err("waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		err("the child failed (status 0x%x)", st);
		return -1;
	}
	if (fetch_list(u, 1, hex, NULL) != 0)
		return -1;
	print_hex(hex, 1);
	conn_close(keep);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: CLIENT --ca FILE [--mode blocking|poll|epoll|threads|fork] "
			"[--new-conn|--fresh|--keep-alive] https://HOST:PORT/PATH...\n");
	return 2;
}

int tls_client_main(int argc, char **argv, const struct tls_ops *o)
{
	static const char *const names[] = { "blocking", "poll", "epoll", "threads", "fork" };
	const char *ca = NULL;
	struct url *u;
	char (*hex)[65];
	int i, n, rc;

	ops = o;
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) {
			ca = argv[++i];
		} else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			int m;

			i++;
			for (m = 0; m < 5 && strcmp(argv[i], names[m]) != 0; m++)
				;
			if (m == 5)
				return usage();
			mode = (enum io_mode)m;
		} else if (strcmp(argv[i], "--new-conn") == 0) {
			new_conn = 1;
		} else if (strcmp(argv[i], "--fresh") == 0) {
			new_conn = 2;
		} else if (strcmp(argv[i], "--keep-alive") == 0) {
			new_conn = 0;
		} else {
			return usage();
		}
	}
	n = argc - i;
	if (!ca || n < 1 || n > MAX_URLS)
		return usage();
	u = calloc((size_t)n, sizeof *u);
	hex = calloc((size_t)n, sizeof *hex);
	if (!u || !hex)
		return 1;
	for (int k = 0; k < n; k++)
		if (parse_url(argv[i + k], &u[k]) != 0) {
			err("not an https://HOST[:PORT]/PATH URL: %s", argv[i + k]);
			return 2;
		}
	/* A write to a connection the server closed is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (ops->init(ca) != 0)
		return 1;
	if (mode == IO_THREADS) {
		rc = run_threads(u, n, hex);
	} else if (mode == IO_FORK) {
		rc = run_fork(u, n, hex);
	} else {
		rc = fetch_list(u, n, hex, NULL);
		if (rc == 0)
			print_hex(hex, n);
	}
	free(u);
	free(hex);
	return rc == 0 ? 0 : 1;
}
