/* client_common.c - see client_common.h. */
#include "client_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define KC_DEFAULT_READ_SIZE 65536
#define KC_DEFAULT_TIMEOUT_S 60
#define KC_EXIT_TIMEOUT      3

/* ---------------------------------------------------------------- reporting */

void kc_err(const struct kc_opts *o, const char *fmt, ...)
{
	char line[1024];
	int off = snprintf(line, sizeof line, "%s: ", o && o->prog ? o->prog : "client");
	if (off < 0)
		off = 0;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line + off, sizeof line - (size_t)off - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)off + (n < 0 ? 0 : (size_t)n);
	if (len > sizeof line - 2)
		len = sizeof line - 2;
	line[len++] = '\n';
	/* One write so lines from threads and processes do not interleave. */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

int kc_ok(unsigned long requests)
{
	printf("ok requests=%lu\n", requests);
	fflush(stdout);
	return KC_EXIT_OK;
}

void kc_trace_exchange(const struct kc_opts *o, unsigned i, const struct kc_resp *r)
{
	if (!o->verbose)
		return;
	kc_err(o, "request %u: status=%d body=%lld cl=%lld chunked=%d close=%d interim=%u extra=%zu eof=%d",
	       i + 1, r->status, r->body_len, r->content_length, r->chunked,
	       r->conn_close, r->interim, r->extra, r->eof);
}

int kc_finish(const struct kc_opts *o, unsigned i, struct kc_resp *r)
{
	kc_trace_exchange(o, i, r);
	if (kc_resp_check(r) < 0) {
		kc_err(o, "request %u/%u %s %s: %s", i + 1, o->requests, o->method,
		       o->path, r->err);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ command line */

static void usage(const char *prog, unsigned extra, FILE *f)
{
	fprintf(f,
		"usage: %s --host 127.0.0.1|::1 --port P [options]\n"
		"  --requests N         exchanges, each on a new connection (default 1)\n"
		"  --path T             request target (default /gen/1000)\n"
		"  --method M           GET (default), HEAD, POST, ...\n"
		"  --body-bytes B       send a B-byte request body (pattern bytes)\n"
		"  --sleep-ms MS        pause between requests\n"
		"  --http10             send HTTP/1.0 requests\n"
		"  --keep-alive         send Connection: keep-alive\n"
		"  --connection-close   send Connection: close\n"
		"  --read-to-eof        read every response until the server closes\n"
		"  --close-after-headers  close once the headers are in, body unread\n"
		"  --expect-status C    expected final status (default: from the target)\n"
		"  --read-size S        largest single read (default %d)\n"
		"  --timeout S          give up after S seconds, exit 3 (default %d, 0 = never)\n"
		"  --verbose            describe every exchange on stderr\n"
		"  --plain-read         blocking clients: read(fd, buf, sizeof buf), not __read_chk\n",
		prog, KC_DEFAULT_READ_SIZE, KC_DEFAULT_TIMEOUT_S);
	if (extra & KC_OPT_THREADS)
		fprintf(f, "  --threads T          T threads, each doing N requests\n");
	if (extra & KC_OPT_USE_MSG)
		fprintf(f, "  --use-msg            sendmsg/recvmsg instead of writev/readv\n");
	if (extra & KC_OPT_FCNTL)
		fprintf(f, "  --fcntl              set O_NONBLOCK with fcntl, not SOCK_NONBLOCK\n");
	if (extra & KC_OPT_EPOLL)
		fprintf(f, "  --epoll-del          EPOLL_CTL_DEL before close\n"
			   "  --epoll-per-request  a new epoll instance per request\n");
	if (extra & KC_OPT_PEEK)
		fprintf(f, "  --peek-bytes P       bytes peeked before each body read (default 4)\n");
}

static unsigned long long parse_num(const char *prog, unsigned extra, const char *opt,
                                    const char *s, unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "%s: bad value for %s: '%s'\n", prog, opt, s);
		usage(prog, extra, stderr);
		exit(KC_EXIT_USAGE);
	}
	return v;
}

static const struct kc_opts *g_alarm_opts;

static void on_alarm(int sig)
{
	(void)sig;
	static const char tail[] = ": timed out, giving up\n";
	const char *p = g_alarm_opts && g_alarm_opts->prog ? g_alarm_opts->prog : "client";
	ssize_t w = write(STDERR_FILENO, p, strlen(p));
	w = write(STDERR_FILENO, tail, sizeof tail - 1);
	(void)w;
	_exit(KC_EXIT_TIMEOUT);
}

enum {
	O_HOST = 256, O_PORT, O_REQUESTS, O_PATH, O_METHOD, O_BODY_BYTES, O_SLEEP_MS,
	O_HTTP10, O_KEEP_ALIVE, O_CONN_CLOSE, O_READ_TO_EOF, O_CLOSE_EARLY, O_EXPECT_STATUS,
	O_READ_SIZE, O_TIMEOUT, O_VERBOSE, O_PLAIN_READ, O_HELP,
	O_THREADS, O_USE_MSG, O_FCNTL, O_EPOLL_DEL, O_EPOLL_PER_REQ, O_PEEK_BYTES,
};

void kc_parse_args(struct kc_opts *o, int argc, char **argv, const char *prog,
                   unsigned extra)
{
	static const struct option longopts[] = {
		{ "host",              required_argument, 0, O_HOST },
		{ "port",              required_argument, 0, O_PORT },
		{ "requests",          required_argument, 0, O_REQUESTS },
		{ "path",              required_argument, 0, O_PATH },
		{ "method",            required_argument, 0, O_METHOD },
		{ "body-bytes",        required_argument, 0, O_BODY_BYTES },
		{ "sleep-ms",          required_argument, 0, O_SLEEP_MS },
		{ "http10",            no_argument,       0, O_HTTP10 },
		{ "keep-alive",        no_argument,       0, O_KEEP_ALIVE },
		{ "connection-close",  no_argument,       0, O_CONN_CLOSE },
		{ "read-to-eof",       no_argument,       0, O_READ_TO_EOF },
		{ "close-after-headers", no_argument,     0, O_CLOSE_EARLY },
		{ "expect-status",     required_argument, 0, O_EXPECT_STATUS },
		{ "read-size",         required_argument, 0, O_READ_SIZE },
		{ "timeout",           required_argument, 0, O_TIMEOUT },
		{ "verbose",           no_argument,       0, O_VERBOSE },
		{ "plain-read",        no_argument,       0, O_PLAIN_READ },
		{ "help",              no_argument,       0, O_HELP },
		{ "threads",           required_argument, 0, O_THREADS },
		{ "use-msg",           no_argument,       0, O_USE_MSG },
		{ "fcntl",             no_argument,       0, O_FCNTL },
		{ "epoll-del",         no_argument,       0, O_EPOLL_DEL },
		{ "epoll-per-request", no_argument,       0, O_EPOLL_PER_REQ },
		{ "peek-bytes",        required_argument, 0, O_PEEK_BYTES },
		{ 0, 0, 0, 0 }
	};

	memset(o, 0, sizeof *o);
	o->prog = prog;
	o->host = "127.0.0.1";
	o->requests = 1;
	o->path = "/gen/1000";
	o->method = "GET";
	o->read_size = KC_DEFAULT_READ_SIZE;
	o->timeout_s = KC_DEFAULT_TIMEOUT_S;
	o->threads = 1;
	o->peek_bytes = 4;
	bool have_port = false;

	opterr = 0;
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, "", longopts, NULL);
		if (c == -1)
			break;
		unsigned need = 0;
		switch (c) {
		case O_THREADS:       need = KC_OPT_THREADS; break;
		case O_USE_MSG:       need = KC_OPT_USE_MSG; break;
		case O_FCNTL:         need = KC_OPT_FCNTL; break;
		case O_EPOLL_DEL:
		case O_EPOLL_PER_REQ: need = KC_OPT_EPOLL; break;
		case O_PEEK_BYTES:    need = KC_OPT_PEEK; break;
		default: break;
		}
		if (need && !(extra & need)) {
			fprintf(stderr, "%s: option %s is not supported by this client\n",
				prog, argv[optind - 1]);
			exit(KC_EXIT_USAGE);
		}
		switch (c) {
		case O_HOST:     o->host = optarg; break;
		case O_PORT:     o->port = (unsigned)parse_num(prog, extra, "--port", optarg, 65535);
				 have_port = true; break;
		case O_REQUESTS: o->requests = (unsigned)parse_num(prog, extra, "--requests", optarg, 10000000); break;
		case O_PATH:     o->path = optarg; break;
		case O_METHOD:   o->method = optarg; break;
		case O_BODY_BYTES: o->body_bytes = (size_t)parse_num(prog, extra, "--body-bytes", optarg, 1u << 30);
				 o->body_set = true; break;
		case O_SLEEP_MS: o->sleep_ms = (unsigned)parse_num(prog, extra, "--sleep-ms", optarg, 3600000); break;
		case O_HTTP10:   o->http10 = true; break;
		case O_KEEP_ALIVE: o->keep_alive = true; break;
		case O_CONN_CLOSE: o->conn_close = true; break;
		case O_READ_TO_EOF: o->read_to_eof = true; break;
		case O_CLOSE_EARLY: o->close_early = true; break;
		case O_EXPECT_STATUS: o->expect_status = (int)parse_num(prog, extra, "--expect-status", optarg, 999); break;
		case O_READ_SIZE: o->read_size = (size_t)parse_num(prog, extra, "--read-size", optarg, 1u << 30);
				 if (!o->read_size) o->read_size = 1;
				 break;
		case O_TIMEOUT:  o->timeout_s = (unsigned)parse_num(prog, extra, "--timeout", optarg, 86400); break;
		case O_VERBOSE:  o->verbose = true; break;
		case O_PLAIN_READ: o->plain_read = true; break;
		case O_HELP:     usage(prog, extra, stdout); exit(KC_EXIT_OK);
		case O_THREADS:  o->threads = (unsigned)parse_num(prog, extra, "--threads", optarg, 1024);
				 if (!o->threads) o->threads = 1;
				 break;
		case O_USE_MSG:  o->use_msg = true; break;
		case O_FCNTL:    o->use_fcntl = true; break;
		case O_EPOLL_DEL: o->epoll_del = true; break;
		case O_EPOLL_PER_REQ: o->epoll_per_request = true; break;
		case O_PEEK_BYTES: o->peek_bytes = (size_t)parse_num(prog, extra, "--peek-bytes", optarg, 1u << 20);
				 if (!o->peek_bytes) o->peek_bytes = 1;
				 break;
		default:
			fprintf(stderr, "%s: unknown option or missing argument: %s\n", prog,
				argv[optind - 1]);
			usage(prog, extra, stderr);
			exit(KC_EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(prog, extra, stderr);
		exit(KC_EXIT_USAGE);
	}
	if (!have_port || o->port == 0) {
		fprintf(stderr, "%s: --port is required\n", prog);
		usage(prog, extra, stderr);
		exit(KC_EXIT_USAGE);
	}
	struct sockaddr_storage ss;
	socklen_t len;
	if (kc_sockaddr(o, &ss, &len) < 0) {
		fprintf(stderr, "%s: --host must be a numeric IPv4 or IPv6 address, not '%s'\n",
			prog, o->host);
		exit(KC_EXIT_USAGE);
	}
	if (o->path[0] != '/') {
		fprintf(stderr, "%s: --path must start with '/'\n", prog);
		exit(KC_EXIT_USAGE);
	}

	if (o->timeout_s) {
		g_alarm_opts = o;
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		alarm(o->timeout_s);
	}
	/* A server closing early must show up as an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);
}

int kc_sockaddr(const struct kc_opts *o, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, o->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)o->port);
		*len = sizeof *sin;
		return AF_INET;
	}
	if (inet_pton(AF_INET6, o->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)o->port);
		*len = sizeof *sin6;
		return AF_INET6;
	}
	return -1;
}

/* ---------------------------------------------------------------- requests */

void kc_request_build(const struct kc_opts *o, struct kc_req *q)
{
	char head[4096];
	bool v6 = strchr(o->host, ':') != NULL;
	int line = snprintf(head, sizeof head, "%s %s HTTP/1.%d\r\n", o->method, o->path,
			    o->http10 ? 0 : 1);
	int n = snprintf(head + line, sizeof head - (size_t)line,
			 "Host: %s%s%s:%u\r\n"
			 "User-Agent: keepwarm-test-%s\r\n"
			 "Accept: */*\r\n"
			 "%s",
			 v6 ? "[" : "", o->host, v6 ? "]" : "", o->port, o->prog,
			 o->conn_close ? "Connection: close\r\n"
				       : o->keep_alive ? "Connection: keep-alive\r\n" : "");
	if (line < 0 || n < 0 || (size_t)line + (size_t)n >= sizeof head - 64) {
		fprintf(stderr, "%s: request head too long\n", o->prog);
		exit(KC_EXIT_USAGE);
	}
	size_t hl = (size_t)line + (size_t)n;
	if (o->body_set || o->body_bytes)
		hl += (size_t)snprintf(head + hl, sizeof head - hl, "Content-Length: %zu\r\n",
				       o->body_bytes);
	hl += (size_t)snprintf(head + hl, sizeof head - hl, "\r\n");

	q->len = hl + o->body_bytes;
	q->data = malloc(q->len ? q->len : 1);
	if (!q->data) {
		fprintf(stderr, "%s: out of memory\n", o->prog);
		exit(KC_EXIT_FAIL);
	}
	memcpy(q->data, head, hl);
	kw_pattern_fill(q->data + hl, o->body_bytes);
	q->line_len = (size_t)line;
	q->head_len = hl;
}

void kc_request_free(struct kc_req *q)
{
	free(q->data);
	q->data = NULL;
	q->len = 0;
}

int kc_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void kc_pause(const struct kc_opts *o, unsigned i)
{
	if (!o->sleep_ms || i + 1 >= o->requests)
		return;
	struct timespec ts = { o->sleep_ms / 1000, (long)(o->sleep_ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

size_t kc_read_len(const struct kc_resp *r, size_t cap)
{
	size_t want = r && r->opts ? r->opts->read_size : cap;
	if (want > cap)
		want = cap;
	return want ? want : 1;
}

/* ---------------------------------------------------------------- blocking exchange */

int kc_connect_blocking(const struct kc_opts *o, unsigned i)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam = kc_sockaddr(o, &ss, &sl);
	int fd = socket(fam, SOCK_STREAM, 0);
	if (fd < 0) {
		kc_err(o, "request %u/%u: socket: %s", i + 1, o->requests, strerror(errno));
		return -1;
	}
	while (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno == EINTR)
			continue;
		kc_err(o, "request %u/%u: connect: %s", i + 1, o->requests, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int kc_connect_send(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	int fd = kc_connect_blocking(o, i);
	if (fd < 0)
		return -1;
	if (kc_write_all(fd, q->data, q->len) < 0) {
		kc_err(o, "request %u: write: %s", i + 1, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t kc_read_chk(int fd, struct kc_resp *r, void *ctx, const char **call)
{
	(void)ctx;
	char buf[4096];
	*call = "read";
	ssize_t n = read(fd, buf, kc_read_len(r, sizeof buf));   /* __read_chk */
	if (n > 0)
		kc_resp_feed(r, buf, (size_t)n);
	return n;
}

/* kc_read_chk, or with --plain-read a read() the compiler can prove fits. */
static ssize_t read_blocking(int fd, struct kc_resp *r, void *ctx, const char **call)
{
	if (!r->opts->plain_read)
		return kc_read_chk(fd, r, ctx, call);
	char buf[4096];
	*call = "read";
	ssize_t n = read(fd, buf, sizeof buf);                   /* read */
	if (n > 0)
		kc_resp_feed(r, buf, (size_t)n);
	return n;
}

int kc_read_response(const struct kc_opts *o, int fd, struct kc_resp *r, kc_read_fn rd,
                     void *ctx, const char **call)
{
	kc_resp_init(r, o);
	while (!kc_resp_done(r)) {
		*call = NULL;
		ssize_t n = rd(fd, r, ctx, call);
		if (n == KC_READ_REPORTED)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			kc_resp_eof(r);
	}
	return 0;
}

int kc_close_finish(const struct kc_opts *o, unsigned i, int fd, struct kc_resp *r)
{
	if (close(fd) < 0) {
		kc_err(o, "request %u: close: %s", i + 1, strerror(errno));
		return -1;
	}
	return kc_finish(o, i, r);
}

int kc_receive_finish(const struct kc_opts *o, unsigned i, int fd, kc_read_fn rd, void *ctx)
{
	struct kc_resp r;
	const char *call;
	if (kc_read_response(o, fd, &r, rd, ctx, &call) < 0) {
		if (call)
			kc_err(o, "request %u: %s: %s", i + 1, call, strerror(errno));
		close(fd);
		return -1;
	}
	return kc_close_finish(o, i, fd, &r);
}

int kc_exchange_blocking(const struct kc_opts *o, const struct kc_req *q, unsigned i,
                         kc_close_fn close_fn)
{
	if (!close_fn)
		close_fn = close;
	int fd = kc_connect_blocking(o, i);
	if (fd < 0)
		return -1;
	if (kc_write_all(fd, q->data, q->len) < 0) {
		kc_err(o, "request %u/%u: write: %s", i + 1, o->requests, strerror(errno));
		close_fn(fd);
		return -1;
	}
	struct kc_resp r;
	const char *call;
	if (kc_read_response(o, fd, &r, read_blocking, NULL, &call) < 0) {
		kc_err(o, "request %u/%u: %s: %s", i + 1, o->requests, call, strerror(errno));
		close_fn(fd);
		return -1;
	}
	if (close_fn(fd) < 0) {
		kc_err(o, "request %u/%u: close: %s", i + 1, o->requests, strerror(errno));
		return -1;
	}
	return kc_finish(o, i, &r);
}

/* ---------------------------------------------------------------- the program */

int kc_run_loop(const struct kc_opts *o, const struct kc_req *q, kc_exchange_fn one)
{
	for (unsigned i = 0; i < o->requests; i++) {
		if (one(o, q, i) < 0)
			return -1;
		kc_pause(o, i);
	}
	return 0;
}

int kc_main(int argc, char **argv, const char *prog, unsigned extra, kc_exchange_fn one,
            void (*after)(const struct kc_opts *o))
{
	/* Static: the --timeout alarm handler reads it until the process ends. */
	static struct kc_opts o;
	struct kc_req q;
	kc_parse_args(&o, argc, argv, prog, extra);
	kc_request_build(&o, &q);
	int rc = kc_run_loop(&o, &q, one);
	kc_request_free(&q);
	if (after)
		after(&o);
	return rc < 0 ? KC_EXIT_FAIL : kc_ok(o.requests);
}
