/* tls_server.c - a small HTTPS/1.1 test server on GnuTLS, for the TLS
 * behaviour tests: it can send TLS records while a kept-alive connection
 * is idle, which the servers the tests otherwise use (nginx) do not.
 *
 *   tls_server --cert FILE --key FILE --root DIR --port-file FILE
 *              [--log FILE] [--idle-ticket] [--idle-key-update]
 *              [--idle-close-notify MS] [--tls12] [--nodelay]
 *              [--drop-request N] [--records-first]
 *
 * Listens on 127.0.0.1, on a port of the kernel's choosing, and writes its
 * number to the port file once listening (atomically: written beside it,
 * then renamed). Serves until SIGTERM, then stops its connections and exits
 * 0. Each accepted connection is served by a child process: GnuTLS's default
 * priorities (--tls12: TLS 1.2 only), the certificate of --cert/--key, no
 * client certificate asked for, ALPN "http/1.1" chosen when offered. Then
 * HTTP/1.1 with keep-alive: GET and HEAD of files under --root (a path
 * ending in '/' names its index.html; none may hold ".."), 200 with
 * Content-Length or 404; the connection is closed after a response to a
 * request that asked for it (Connection: close, or HTTP/1.0 without
 * keep-alive), after other errors, after 1000 requests or after 60 s with
 * no request. --nodelay sets TCP_NODELAY on every accepted connection (as
 * nginx does on keep-alive connections): a response's body record then goes
 * out at once instead of waiting, under Nagle's algorithm, for the peer's
 * (delayed) acknowledgement of its head, some 40 ms (the benchmark uses it).
 *
 * After each response, with no next request already received:
 *   --idle-ticket       sends a TLS 1.3 NewSessionTicket;
 *   --idle-key-update   sends a TLS 1.3 KeyUpdate asking the peer to update
 *                       its keys too (both only on TLS 1.3 connections);
 *   --idle-close-notify MS  when no request comes within MS milliseconds,
 *                       sends close_notify and closes the connection.
 * --records-first: those records go out before each response instead (a
 * client then meets them while it reads the response).
 * --drop-request N: the N-th request on each connection is not answered:
 * close_notify and close, as a server that closed the idle connection just
 * as the request came (logged with status 0). A client that reuses a
 * connection sees it fail before any response byte.
 *
 * Every request appends the line "<connection> <path> <status>" to the log
 * (default: ROOT/../tls_server.access), before its response is sent;
 * <connection> counts the accepted connections from 1. Errors go to stderr. */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IDLE_MS 60000         /* longest wait for a request */
#define IO_TIMEOUT_S 60       /* longest stall in a read or write */
#define MAX_REQUESTS 1000     /* per connection */
#define MAX_HEAD 16384        /* request line and headers */
#define MAX_CHILDREN 256      /* connections served at once */
#define HANDSHAKE_MS 20000

static struct {
	const char *cert, *key, *root, *port_file, *log;
	int idle_ticket, idle_key_update, tls12, nodelay;
	long idle_close_ms; /* -1: none */
	long drop_request;  /* 0: none */
	int records_first;
} opt = { .idle_close_ms = -1 };

static volatile sig_atomic_t got_term, got_chld;
static pid_t children[MAX_CHILDREN];
static int nchildren;
static int root_fd = -1, log_fd = -1;
static unsigned long conn_no; /* the connection a child serves */

static void err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tls_server: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(void)
{
	fputs("usage: tls_server --cert FILE --key FILE --root DIR --port-file FILE\n"
	      "                  [--log FILE] [--idle-ticket] [--idle-key-update]\n"
	      "                  [--idle-close-notify MS] [--tls12] [--nodelay]\n"
	      "                  [--drop-request N] [--records-first]\n", stderr);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static char deflog[4096];
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--idle-ticket") == 0) {
			opt.idle_ticket = 1;
			continue;
		}
		if (strcmp(a, "--idle-key-update") == 0) {
			opt.idle_key_update = 1;
			continue;
		}
		if (strcmp(a, "--tls12") == 0) {
			opt.tls12 = 1;
			continue;
		}
		if (strcmp(a, "--records-first") == 0) {
			opt.records_first = 1;
			continue;
		}
		if (strcmp(a, "--nodelay") == 0) {
			opt.nodelay = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--cert") == 0) {
			opt.cert = v;
		} else if (strcmp(a, "--key") == 0) {
			opt.key = v;
		} else if (strcmp(a, "--root") == 0) {
			opt.root = v;
		} else if (strcmp(a, "--port-file") == 0) {
			opt.port_file = v;
		} else if (strcmp(a, "--log") == 0) {
			opt.log = v;
		} else if (strcmp(a, "--drop-request") == 0) {
			char *end;

			errno = 0;
			opt.drop_request = strtol(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || opt.drop_request < 1)
				usage();
		} else if (strcmp(a, "--idle-close-notify") == 0) {
			char *end;

			errno = 0;
			opt.idle_close_ms = strtol(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || opt.idle_close_ms < 0 ||
			    opt.idle_close_ms > IDLE_MS)
				usage();
		} else {
			usage();
		}
	}
	if (!opt.cert || !opt.key || !opt.root || !opt.port_file)
		usage();
	if (opt.log == NULL) {
		if ((size_t)snprintf(deflog, sizeof deflog, "%s/../tls_server.access", opt.root) >=
		    sizeof deflog)
			usage();
		opt.log = deflog;
	}
}

/* ---- one connection (in a child) ---- */

struct conn {
	gnutls_session_t s;
	int fd;
	char buf[MAX_HEAD];
	size_t len; /* bytes received, not yet used */
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits up to ms for the connection to be readable (data already in
 * GnuTLS's buffer counts): 1 readable, 0 timed out, -1 error. */
static int wait_readable(struct conn *c, int ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int r;

	if (gnutls_record_check_pending(c->s) > 0)
		return 1;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : r > 0;
}

/* What recv_more found. */
enum { RECV_DATA, RECV_NONE, RECV_CLOSED, RECV_ERROR };

/* More request bytes into c->buf. RECV_NONE: a record without application
 * data (a post-handshake message, a warning alert) or a read timeout:
 * wait and try again. */
static int recv_more(struct conn *c)
{
	ssize_t n;

	if (c->len >= sizeof c->buf)
		return RECV_ERROR;
	do
		n = gnutls_record_recv(c->s, c->buf + c->len, sizeof c->buf - c->len);
	while (n == GNUTLS_E_INTERRUPTED);
	if (n > 0) {
		c->len += (size_t)n;
		return RECV_DATA;
	}
	if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
		return RECV_CLOSED;
	if (n == GNUTLS_E_AGAIN || !gnutls_error_is_fatal((int)n))
		return RECV_NONE;
	err("connection %lu: receiving: %s", conn_no, gnutls_strerror((int)n));
	return RECV_ERROR;
}

static int send_all(struct conn *c, const void *p, size_t n)
{
	const char *b = p;

	while (n > 0) {
		ssize_t r = gnutls_record_send(c->s, b, n);

		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r < 0) {
			if (r != GNUTLS_E_PUSH_ERROR)
				err("connection %lu: sending: %s", conn_no, gnutls_strerror((int)r));
			return -1;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void log_request(const char *path, int status)
{
	char line[MAX_HEAD + 64];
	int n = snprintf(line, sizeof line, "%lu %s %d\n", conn_no, path, status);

	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	/* One write to a file opened O_APPEND: the lines of concurrent
	 * connections do not interleave. */
	if (write(log_fd, line, (size_t)n) != n)
		err("writing the log: %s", strerror(errno));
}

/* Token tok in the comma-separated header value v (ending at end)? */
static int has_token(const char *v, const char *end, const char *tok)
{
	size_t tl = strlen(tok);

	while (v < end) {
		const char *e;

		while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
			v++;
		e = v;
		while (e < end && *e != ',')
			e++;
		size_t n = (size_t)(e - v);
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == tl && strncasecmp(v, tok, tl) == 0)
			return 1;
		v = e;
	}
	return 0;
}

static int send_response(struct conn *c, int status, const char *reason, int keep,
			 int head_only, int file_fd, off_t size, const char *body)
{
	char h[512];
	int n;

	if (file_fd < 0)
		size = (off_t)strlen(body);
	n = snprintf(h, sizeof h,
		     "HTTP/1.1 %d %s\r\n"
		     "Server: keepwarm-tls-server\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %lld\r\n"
		     "Connection: %s\r\n"
		     "\r\n",
		     status, reason, file_fd >= 0 ? "application/octet-stream" : "text/plain",
		     (long long)size, keep ? "keep-alive" : "close");
	if (send_all(c, h, (size_t)n) != 0)
		return -1;
	if (head_only)
		return 0;
	if (file_fd < 0)
		return send_all(c, body, (size_t)size);
	while (size > 0) {
		char b[16384];
		ssize_t r = read(file_fd, b, sizeof b < (size_t)size ? sizeof b : (size_t)size);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err("connection %lu: reading a file: %s", conn_no,
			    r < 0 ? strerror(errno) : "it shrank");
			return -1;
		}
		if (send_all(c, b, (size_t)r) != 0)
			return -1;
		size -= r;
	}
	return 0;
}

/* Answers the request whose head is c->buf[0, head_len): 1 to keep the
 * connection, 0 to close it, -1 on a transport error. */
static int serve_request(struct conn *c, size_t head_len, int last)
{
	char *line_end, *sp1, *sp2, *p, *end = c->buf + head_len;
	char path[MAX_HEAD];
	int keep, http10, head_only, fd = -1, r;
	long long clen = 0;
	struct stat st;

	line_end = memmem(c->buf, head_len, "\r\n", 2);
	sp1 = memchr(c->buf, ' ', (size_t)(line_end - c->buf));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
	if (sp1 == NULL || sp2 == NULL || sp2 == sp1 + 1 ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || line_end - sp2 != 9) {
		log_request("-", 400);
		send_response(c, 400, "Bad Request", 0, 0, -1, 0, "bad request\n");
		return 0;
	}
	memcpy(path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	path[sp2 - sp1 - 1] = '\0';
	http10 = sp2[8] == '0';
	keep = !http10;
	/* The headers: Connection, and no body. */
	for (p = line_end + 2; p < end - 2;) {
		char *e = memmem(p, (size_t)(end - p), "\r\n", 2), *colon;

		colon = memchr(p, ':', (size_t)(e - p));
		if (colon != NULL) {
			size_t nl = (size_t)(colon - p);
			char *v = colon + 1;

			if (nl == 10 && strncasecmp(p, "Connection", 10) == 0) {
				if (has_token(v, e, "close"))
					keep = 0;
				else if (http10 && has_token(v, e, "keep-alive"))
					keep = 1;
			} else if (nl == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
				clen = strtoll(v, NULL, 10);
				if (clen < 0)
					clen = 1;
			} else if (nl == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
				clen = 1;
			}
		}
		p = e + 2;
	}
	if (last)
		keep = 0;
	head_only = (size_t)(sp1 - c->buf) == 4 && memcmp(c->buf, "HEAD", 4) == 0;
	if (!head_only && !((size_t)(sp1 - c->buf) == 3 && memcmp(c->buf, "GET", 3) == 0)) {
		log_request(path, 405);
		send_response(c, 405, "Method Not Allowed", 0, 0, -1, 0, "GET and HEAD only\n");
		return 0;
	}
	if (clen != 0) {
		log_request(path, 400);
		send_response(c, 400, "Bad Request", 0, 0, -1, 0, "no request bodies\n");
		return 0;
	}
	/* The file: the path without its query, under the root. */
	{
		char rel[MAX_HEAD + 16];
		size_t n = strcspn(path, "?#");

		if (path[0] == '/' && strstr(path, "..") == NULL && n < MAX_HEAD) {
			memcpy(rel, path + 1, n - 1);
			rel[n - 1] = '\0';
			if (n == 1 || rel[n - 2] == '/')
				strcpy(rel + n - 1, "index.html");
			fd = openat(root_fd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
			if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
				close(fd);
				fd = -1;
			}
		}
	}
	if (fd < 0) {
		log_request(path, 404);
		return send_response(c, 404, "Not Found", keep, head_only, -1, 0, "not found\n") == 0
			       ? keep : -1;
	}
	log_request(path, 200);
	r = send_response(c, 200, "OK", keep, head_only, fd, st.st_size, NULL);
	close(fd);
	return r == 0 ? keep : -1;
}

/* What the idle options send after a response. */
static int idle_records(struct conn *c)
{
	int r;

	if (gnutls_protocol_get_version(c->s) != GNUTLS_TLS1_3)
		return 0;
	if (opt.idle_ticket) {
		do
			r = gnutls_session_ticket_send(c->s, 1, 0);
		while (r == GNUTLS_E_INTERRUPTED);
		if (r < 0) {
			err("connection %lu: sending a ticket: %s", conn_no, gnutls_strerror(r));
			return -1;
		}
	}
	if (opt.idle_key_update) {
		do
			r = gnutls_session_key_update(c->s, GNUTLS_KU_PEER);
		while (r == GNUTLS_E_INTERRUPTED);
		if (r < 0) {
			err("connection %lu: sending a KeyUpdate: %s", conn_no, gnutls_strerror(r));
			return -1;
		}
	}
	return 0;
}

static void bye(struct conn *c)
{
	int r;

	do
		r = gnutls_bye(c->s, GNUTLS_SHUT_WR);
	while (r == GNUTLS_E_INTERRUPTED);
}

static void serve_conn(int fd, gnutls_certificate_credentials_t cred, gnutls_datum_t *ticket_key)
{
	static struct conn c;
	static const gnutls_datum_t alpn = { (unsigned char *)"http/1.1", 8 };
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	const char *epos;
	int r, nreq;

	c.fd = fd;
	c.len = 0;
	/* No read or write stalls longer than this (the waits for requests
	 * are poll's). */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if ((r = gnutls_init(&c.s, GNUTLS_SERVER)) < 0) {
		err("gnutls_init: %s", gnutls_strerror(r));
		return;
	}
	if (opt.tls12)
		r = gnutls_priority_set_direct(c.s, "NORMAL:-VERS-TLS1.3", NULL);
	else
		r = gnutls_set_default_priority(c.s);
	if (r >= 0)
		r = gnutls_credentials_set(c.s, GNUTLS_CRD_CERTIFICATE, cred);
	if (r >= 0)
		r = gnutls_alpn_set_protocols(c.s, &alpn, 1, 0);
	if (r >= 0 && ticket_key != NULL)
		r = gnutls_session_ticket_enable_server(c.s, ticket_key);
	if (r < 0) {
		err("setting the session up: %s", gnutls_strerror(r));
		goto out;
	}
	gnutls_certificate_server_set_request(c.s, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_int(c.s, fd);
	gnutls_handshake_set_timeout(c.s, HANDSHAKE_MS);
	do
		r = gnutls_handshake(c.s);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		err("connection %lu: handshake: %s", conn_no, gnutls_strerror(r));
		goto out;
	}
	for (nreq = 0; nreq < MAX_REQUESTS; nreq++) {
		/* --idle-close-notify: while no byte of the next request came. */
		int idle_close = nreq > 0 && c.len == 0 && opt.idle_close_ms >= 0;
		long long deadline = now_ms() + (idle_close ? opt.idle_close_ms : IDLE_MS);
		size_t head_len;

		/* A request head: the bytes up to its blank line. */
		while ((epos = memmem(c.buf, c.len, "\r\n\r\n", 4)) == NULL) {
			long long left = deadline - now_ms();

			r = wait_readable(&c, left > 0 ? (int)left : 0);
			if (r == 0 && idle_close) {
				bye(&c);
				goto out;
			}
			if (r <= 0)
				goto out; /* idle too long, or poll failed */
			switch (recv_more(&c)) {
			case RECV_DATA:
				idle_close = 0;
				deadline = now_ms() + IDLE_MS;
				break;
			case RECV_NONE:
				break;
			case RECV_CLOSED:
				if (c.len == 0)
					bye(&c); /* the peer closed between requests */
				goto out;
			default:
				if (c.len >= sizeof c.buf) {
					log_request("-", 431);
					send_response(&c, 431, "Request Header Fields Too Large", 0, 0,
						      -1, 0, "request head too large\n");
					bye(&c);
				}
				goto out;
			}
		}
		head_len = (size_t)(epos - c.buf) + 4;
		if (opt.drop_request && nreq + 1 == opt.drop_request) {
			log_request("-", 0);
			bye(&c);
			goto out;
		}
		if (opt.records_first && idle_records(&c) != 0)
			goto out;
		r = serve_request(&c, head_len, nreq + 1 == MAX_REQUESTS);
		if (r < 0)
			goto out;
		if (r == 0) {
			bye(&c);
			goto out;
		}
		memmove(c.buf, c.buf + head_len, c.len - head_len);
		c.len -= head_len;
		/* Idle now, unless the next request is already here. */
		if (!opt.records_first && c.len == 0 && gnutls_record_check_pending(c.s) == 0 &&
		    idle_records(&c) != 0)
			goto out;
	}
out:
	gnutls_deinit(c.s);
}

/* ---- the listener (the parent) ---- */

static void on_signal(int sig)
{
	if (sig == SIGTERM)
		got_term = 1;
	else
		got_chld = 1;
}

static void reap(void)
{
	pid_t pid;
	int i;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
		for (i = 0; i < nchildren; i++)
			if (children[i] == pid) {
				children[i] = children[--nchildren];
				break;
			}
	}
}

static int write_port_file(int port)
{
	char tmp[4096];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", opt.port_file) >= sizeof tmp)
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, opt.port_file);
}

int main(int argc, char **argv)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t ticket_key = { NULL, 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	struct sigaction act = { .sa_handler = on_signal };
	sigset_t block, waitmask;
	unsigned long nconn = 0;
	pid_t parent = getpid();
	int lfd, r, one = 1, i;

	parse_args(argc, argv);
	root_fd = open(opt.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		err("%s: %s", opt.root, strerror(errno));
		return 1;
	}
	log_fd = open(opt.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		err("%s: %s", opt.log, strerror(errno));
		return 1;
	}
	if ((r = gnutls_global_init()) < 0 ||
	    (r = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (r = gnutls_certificate_set_x509_key_file(cred, opt.cert, opt.key,
						      GNUTLS_X509_FMT_PEM)) < 0 ||
	    (opt.idle_ticket && (r = gnutls_session_ticket_key_generate(&ticket_key)) < 0)) {
		err("credentials: %s", gnutls_strerror(r));
		return 1;
	}

	/* SIGTERM and SIGCHLD arrive only inside ppoll. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGCHLD);
	sigemptyset(&act.sa_mask);
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGCHLD, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		err("socket: %s", strerror(errno));
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 128) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
		err("listening: %s", strerror(errno));
		return 1;
	}
	if (write_port_file(ntohs(sa.sin_port)) != 0) {
		err("%s: %s", opt.port_file, strerror(errno));
		return 1;
	}

	while (!got_term) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		pid_t pid;
		int fd;

		/* At the limit, only wait for a child to end. */
		r = ppoll(&p, nchildren < MAX_CHILDREN ? 1 : 0, NULL, &waitmask);
		if (got_chld) {
			got_chld = 0;
			reap();
		}
		if (r <= 0 || !(p.revents & POLLIN))
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				err("accept: %s", strerror(errno));
			continue;
		}
		if (opt.nodelay) {
			int one = 1;

			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		}
		nconn++;
		pid = fork();
		if (pid == 0) {
			/* The child: gone with the parent, default signals. */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			signal(SIGTERM, SIG_DFL);
			signal(SIGCHLD, SIG_DFL);
			sigprocmask(SIG_UNBLOCK, &block, NULL);
			if (getppid() != parent)
				_exit(0);
			close(lfd);
			conn_no = nconn;
			serve_conn(fd, cred, opt.idle_ticket ? &ticket_key : NULL);
			close(fd);
			_exit(0);
		}
		if (pid < 0)
			err("fork: %s", strerror(errno));
		else
			children[nchildren++] = pid;
		close(fd);
	}

	/* SIGTERM: stop the connections, then exit. */
	close(lfd);
	for (i = 0; i < nchildren; i++)
		kill(children[i], SIGTERM);
	while (nchildren > 0) {
		pid_t pid = waitpid(-1, NULL, 0);

		if (pid < 0 && errno != EINTR)
			break;
		for (i = 0; pid > 0 && i < nchildren; i++)
			if (children[i] == pid) {
				children[i] = children[--nchildren];
				break;
			}
	}
	gnutls_certificate_free_credentials(cred);
	if (ticket_key.data != NULL)
		gnutls_free(ticket_key.data);
	gnutls_global_deinit();
	return 0;
}
