/* client_common.c - see client_common.h. */
#include "client_common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
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

static const char *state_name(enum kc_resp_state s)
{
	switch (s) {
	case KC_ST_STATUS:     return "status-line";
	case KC_ST_HEADERS:    return "headers";
	case KC_ST_BODY_CL:    return "content-length-body";
	case KC_ST_CHUNK_SIZE: return "chunk-size";
	case KC_ST_CHUNK_DATA: return "chunk-data";
	case KC_ST_CHUNK_CRLF: return "chunk-crlf";
	case KC_ST_TRAILERS:   return "trailers";
	case KC_ST_BODY_EOF:   return "eof-body";
	case KC_ST_DONE:       return "done";
	}
	return "?";
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
	O_HTTP10, O_KEEP_ALIVE, O_CONN_CLOSE, O_READ_TO_EOF, O_EXPECT_STATUS,
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

int kc_poll_one(const struct kc_opts *o, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ms = o->timeout_s ? (int)o->timeout_s * 1000 : -1;
	for (;;) {
		int n = poll(&p, 1, ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kc_err(o, "poll: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			kc_err(o, "poll: timed out waiting for %s",
			       events & POLLOUT ? "POLLOUT" : "POLLIN");
			return -1;
		}
		if (p.revents & POLLNVAL) {
			kc_err(o, "poll: POLLNVAL on fd %d", fd);
			return -1;
		}
		return p.revents;
	}
}

size_t kc_read_len(const struct kc_resp *r, size_t cap)
{
	size_t want = r && r->opts ? r->opts->read_size : cap;
	if (want > cap)
		want = cap;
	return want ? want : 1;
}

/* ---------------------------------------------------------------- expectations */

/* "/name/123..." -> true with *n = 123 when path starts with prefix. */
static bool target_num(const char *path, const char *prefix, long long *n)
{
	size_t pl = strlen(prefix);
	if (strncmp(path, prefix, pl) != 0)
		return false;
	const char *p = path + pl;
	if (!isdigit((unsigned char)*p))
		return false;
	long long v = 0;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p - '0');
		if (v > (1LL << 40))
			return false;
		p++;
	}
	if (*p && *p != '?' && *p != '#')
		return false;
	*n = v;
	return true;
}

static void derive_expect(const struct kc_opts *o, struct kc_expect *e, bool is_head)
{
	static const char *const body_targets[] = {
		"/gen/", "/chunked/", "/close/", "/http10/", "/eof/", "/extra/",
		"/twice/", "/continue/", "/slow/",
	};
	long long n;
	e->status = 0;
	e->body_len = -1;
	e->extra_ok = false;
	e->echo_len = (o->body_set || o->body_bytes) ? (long long)o->body_bytes : -1;
	e->head_cl = -1;
	e->want_chunked = false;
	e->want_interim = false;

	bool known = false;
	for (size_t i = 0; i < sizeof body_targets / sizeof body_targets[0]; i++) {
		if (target_num(o->path, body_targets[i], &n)) {
			known = true;
			e->status = 200;
			e->body_len = n;
			if (i == 5 || i == 6)           /* /extra, /twice */
				e->extra_ok = true;
			if (i == 1)
				e->want_chunked = true;
			if (i == 7)
				e->want_interim = true;
			break;
		}
	}
	if (!known && target_num(o->path, "/status/", &n)) {
		known = true;
		e->status = (int)n;
		e->body_len = 0;
	}
	if (!known && (strcmp(o->path, "/malformed") == 0 || strcmp(o->path, "/reset") == 0)) {
		known = true;
		e->status = 0;        /* the exchange fails on its own */
	}
	if (!known)
		e->status = 404;      /* short body, not checked */

	if (is_head) {
		if (e->body_len > 0 && !e->want_chunked)
			e->head_cl = e->body_len;
		if (e->body_len >= 0)
			e->body_len = 0;
		e->want_chunked = false;
	}
	if (o->expect_status && o->expect_status != e->status) {
		e->status = o->expect_status;
		e->body_len = -1;
		e->head_cl = -1;
		e->want_chunked = false;
	}
}

/* ---------------------------------------------------------------- response parser */

void kc_resp_init(struct kc_resp *r, const struct kc_opts *o)
{
	memset(r, 0, sizeof *r);
	r->opts = o;
	r->is_head = strcasecmp(o->method, "HEAD") == 0;
	derive_expect(o, &r->exp, r->is_head);
	r->state = KC_ST_STATUS;
	r->status = 0;
	r->content_length = -1;
	r->echo_len = -1;
	r->mismatch_at = -1;
}

static int resp_fail(struct kc_resp *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int resp_fail(struct kc_resp *r, const char *fmt, ...)
{
	if (!r->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof r->err, fmt, ap);
		va_end(ap);
	}
	r->failed = true;
	return -1;
}

static void reset_message(struct kc_resp *r)
{
	r->status = 0;
	r->version_minor = 0;
	r->content_length = -1;
	r->chunked = false;
	r->conn_close = false;
	r->conn_keep_alive = false;
	r->echo_len = -1;
	r->saw_trailer = false;
}

static void body_bytes(struct kc_resp *r, const char *p, size_t n)
{
	long long want = r->exp.body_len;
	if (want >= 0 && r->mismatch_at < 0) {
		for (size_t i = 0; i < n; i++) {
			long long at = r->body_len + (long long)i;
			if (at >= want)
				break;    /* length checked at the end */
			if (p[i] != kw_pattern_byte((size_t)want, (size_t)at)) {
				r->mismatch_at = at;
				break;
			}
		}
	}
	r->body_len += (long long)n;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
		s[--l] = 0;
	return s;
}

static bool has_token(const char *value, const char *token)
{
	size_t tl = strlen(token);
	const char *p = value;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *start = p;
		while (*p && *p != ',')
			p++;
		const char *end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - start) == tl && strncasecmp(start, token, tl) == 0)
			return true;
	}
	return false;
}

static int parse_status_line(struct kc_resp *r, const char *l)
{
	reset_message(r);
	if (strncmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
	    !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) ||
	    !isdigit((unsigned char)l[11]) || (l[12] != ' ' && l[12] != 0))
		return resp_fail(r, "bad status line '%.60s'", l);
	r->version_minor = l[7] - '0';
	r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	r->state = KC_ST_HEADERS;
	return 0;
}

static int parse_header(struct kc_resp *r, char *l, bool trailer)
{
	char *colon = strchr(l, ':');
	if (!colon || colon == l)
		return resp_fail(r, "bad %s line '%.60s'", trailer ? "trailer" : "header", l);
	*colon = 0;
	const char *name = l;
	char *value = trim(colon + 1);
	if (trailer) {
		if (strcasecmp(name, "X-Trailer") == 0 && strcasecmp(value, "yes") == 0)
			r->saw_trailer = true;
		return 0;
	}
	if (strcasecmp(name, "Content-Length") == 0) {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno || end == value || *end || v < 0)
			return resp_fail(r, "bad Content-Length '%.40s'", value);
		if (r->content_length >= 0 && r->content_length != v)
			return resp_fail(r, "conflicting Content-Length headers");
		r->content_length = v;
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		if (has_token(value, "chunked"))
			r->chunked = true;
	} else if (strcasecmp(name, "Connection") == 0) {
		if (has_token(value, "close"))
			r->conn_close = true;
		if (has_token(value, "keep-alive"))
			r->conn_keep_alive = true;
	} else if (strcasecmp(name, "X-Body-Length") == 0) {
		r->echo_len = strtoll(value, NULL, 10);
	}
	return 0;
}

static int end_of_headers(struct kc_resp *r)
{
	if (r->status >= 100 && r->status < 200 && r->status != 101) {
		r->interim++;
		r->state = KC_ST_STATUS;
		return 0;
	}
	if (r->is_head || r->status == 204 || r->status == 304) {
		r->state = KC_ST_DONE;
	} else if (r->chunked) {
		r->state = KC_ST_CHUNK_SIZE;
	} else if (r->content_length >= 0) {
		r->remaining = r->content_length;
		r->state = r->remaining ? KC_ST_BODY_CL : KC_ST_DONE;
	} else {
		r->state = KC_ST_BODY_EOF;
	}
	return 0;
}

static int parse_chunk_size(struct kc_resp *r, const char *l)
{
	const char *p = l;
	long long v = 0;
	int digits = 0;
	while (isxdigit((unsigned char)*p)) {
		int d = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
		v = v * 16 + d;
		if (v > (1LL << 40))
			return resp_fail(r, "chunk size too large");
		p++;
		digits++;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (!digits || (*p && *p != ';'))
		return resp_fail(r, "bad chunk size line '%.40s'", l);
	if (v == 0) {
		r->state = KC_ST_TRAILERS;
	} else {
		r->remaining = v;
		r->state = KC_ST_CHUNK_DATA;
	}
	return 0;
}

static int process_line(struct kc_resp *r)
{
	char *l = r->line;
	switch (r->state) {
	case KC_ST_STATUS:
		return parse_status_line(r, l);
	case KC_ST_HEADERS:
		if (!*l)
			return end_of_headers(r);
		return parse_header(r, l, false);
	case KC_ST_CHUNK_SIZE:
		return parse_chunk_size(r, l);
	case KC_ST_CHUNK_CRLF:
		if (*l)
			return resp_fail(r, "missing CRLF after chunk data");
		r->state = KC_ST_CHUNK_SIZE;
		return 0;
	case KC_ST_TRAILERS:
		if (!*l) {
			r->state = KC_ST_DONE;
			return 0;
		}
		return parse_header(r, l, true);
	default:
		return resp_fail(r, "internal: line in state %s", state_name(r->state));
	}
}

bool kc_resp_in_line(const struct kc_resp *r)
{
	switch (r->state) {
	case KC_ST_STATUS:
	case KC_ST_HEADERS:
	case KC_ST_CHUNK_SIZE:
	case KC_ST_CHUNK_CRLF:
	case KC_ST_TRAILERS:
		return true;
	default:
		return false;
	}
}

int kc_resp_feed(struct kc_resp *r, const void *buf, size_t n)
{
	const char *p = buf;
	if (r->failed)
		return -1;
	while (n) {
		if (r->state == KC_ST_DONE) {
			r->extra += n;
			return 0;
		}
		if (kc_resp_in_line(r)) {
			char c = *p++;
			n--;
			if (c == '\n') {
				if (r->line_len && r->line[r->line_len - 1] == '\r')
					r->line_len--;
				r->line[r->line_len] = 0;
				r->line_len = 0;
				if (process_line(r) < 0)
					return -1;
				continue;
			}
			if (r->line_len + 1 >= sizeof r->line)
				return resp_fail(r, "line longer than %d bytes in %s", KC_LINE_MAX,
						 state_name(r->state));
			r->line[r->line_len++] = c;
			continue;
		}
		size_t take = n;
		if (r->state != KC_ST_BODY_EOF && (long long)take > r->remaining)
			take = (size_t)r->remaining;
		body_bytes(r, p, take);
		p += take;
		n -= take;
		if (r->state == KC_ST_BODY_CL) {
			r->remaining -= (long long)take;
			if (!r->remaining)
				r->state = KC_ST_DONE;
		} else if (r->state == KC_ST_CHUNK_DATA) {
			r->remaining -= (long long)take;
			if (!r->remaining)
				r->state = KC_ST_CHUNK_CRLF;
		}
	}
	return 0;
}

int kc_resp_eof(struct kc_resp *r)
{
	r->eof = true;
	if (r->failed)
		return -1;
	if (r->state == KC_ST_BODY_EOF) {
		r->state = KC_ST_DONE;
		return 0;
	}
	if (r->state == KC_ST_DONE)
		return 0;
	if (r->state == KC_ST_STATUS && r->line_len == 0 && !r->interim)
		return resp_fail(r, "connection closed before any response byte");
	return resp_fail(r, "connection closed in the middle of the response (%s, %lld body bytes)",
			 state_name(r->state), r->body_len);
}

bool kc_resp_done(const struct kc_resp *r)
{
	if (r->failed || r->eof)
		return true;
	return r->state == KC_ST_DONE && !r->opts->read_to_eof;
}

size_t kc_resp_need(const struct kc_resp *r)
{
	switch (r->state) {
	case KC_ST_BODY_CL:
	case KC_ST_CHUNK_DATA:
		return (size_t)r->remaining;
	case KC_ST_BODY_EOF:
		return SIZE_MAX;
	default:
		return 0;
	}
}

int kc_resp_check(struct kc_resp *r)
{
	const struct kc_expect *e = &r->exp;
	if (r->failed)
		return -1;
	if (r->state != KC_ST_DONE)
		return resp_fail(r, "incomplete response (%s)", state_name(r->state));
	if (e->status && r->status != e->status)
		return resp_fail(r, "status %d, expected %d", r->status, e->status);
	if (!e->status && !r->opts->expect_status)
		return resp_fail(r, "got status %d from a target that should fail", r->status);
	if (e->want_interim && !r->interim)
		return resp_fail(r, "no 100 Continue before the final response");
	if (e->want_chunked && !r->chunked)
		return resp_fail(r, "response was not chunked");
	if (e->want_chunked && !r->saw_trailer)
		return resp_fail(r, "chunked response without the X-Trailer: yes trailer");
	if (e->head_cl >= 0 && r->content_length >= 0 && r->content_length != e->head_cl)
		return resp_fail(r, "HEAD Content-Length %lld, expected %lld", r->content_length,
				 e->head_cl);
	if (e->body_len >= 0) {
		if (r->mismatch_at >= 0)
			return resp_fail(r, "body differs from the pattern at byte %lld of %lld",
					 r->mismatch_at, e->body_len);
		if (r->body_len != e->body_len)
			return resp_fail(r, "body length %lld, expected %lld", r->body_len,
					 e->body_len);
	}
	if (e->echo_len >= 0 && r->echo_len != e->echo_len)
		return resp_fail(r, "X-Body-Length %lld, expected %lld", r->echo_len, e->echo_len);
	if (r->extra && !e->extra_ok)
		return resp_fail(r, "%zu unexpected bytes after the response", r->extra);
	return 0;
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

int kc_exchange_blocking(const struct kc_opts *o, const struct kc_req *q, unsigned i,
                         kc_close_fn close_fn)
{
	int fd = kc_connect_blocking(o, i);
	if (fd < 0)
		return -1;
	if (kc_write_all(fd, q->data, q->len) < 0) {
		kc_err(o, "request %u/%u: write: %s", i + 1, o->requests, strerror(errno));
		close_fn ? close_fn(fd) : close(fd);
		return -1;
	}
	struct kc_resp r;
	kc_resp_init(&r, o);
	char buf[4096];
	while (!kc_resp_done(&r)) {
		ssize_t n = o->plain_read ? read(fd, buf, sizeof buf)        /* read */
					  : read(fd, buf, kc_read_len(&r, sizeof buf)); /* __read_chk */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kc_err(o, "request %u/%u: read: %s", i + 1, o->requests, strerror(errno));
			close_fn ? close_fn(fd) : close(fd);
			return -1;
		}
		if (n == 0)
			kc_resp_eof(&r);
		else
			kc_resp_feed(&r, buf, (size_t)n);
	}
	if ((close_fn ? close_fn(fd) : close(fd)) < 0) {
		kc_err(o, "request %u/%u: close: %s", i + 1, o->requests, strerror(errno));
		return -1;
	}
	return kc_finish(o, i, &r);
}

int kc_run_loop(const struct kc_opts *o, const struct kc_req *q, kc_exchange_fn one)
{
	for (unsigned i = 0; i < o->requests; i++) {
		if (one(o, q, i) < 0)
			return -1;
		kc_pause(o, i);
	}
	return 0;
}

/* ---------------------------------------------------------------- epoll */

int kc_epoll_wait_token(const struct kc_opts *o, int epfd, uint64_t token, unsigned i,
                        uint32_t *got)
{
	struct epoll_event ev[8];
	int ms = o->timeout_s ? (int)o->timeout_s * 1000 : -1;
	*got = 0;
	for (;;) {
		int n = epoll_wait(epfd, ev, 8, ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kc_err(o, "request %u: epoll_wait: %s", i + 1, strerror(errno));
			return -1;
		}
		if (n == 0) {
			kc_err(o, "request %u: epoll_wait timed out", i + 1);
			return -1;
		}
		for (int k = 0; k < n; k++) {
			if (ev[k].data.u64 != token) {
				kc_err(o, "request %u: epoll_wait returned events 0x%x for a connection "
				       "the program already closed (request %u, fd %u)",
				       i + 1, (unsigned)ev[k].events,
				       (unsigned)(ev[k].data.u64 >> 32),
				       (unsigned)(ev[k].data.u64 & 0xffffffffu));
				return -1;
			}
			*got |= ev[k].events;
		}
		return 0;
	}
}
