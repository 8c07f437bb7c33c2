/* kwtestd - a scriptable HTTP/1.1 origin for the keepwarm tests.
 * The contract (options, targets, log lines) is tests/server/PROTOCOL.md.
 * One detached thread per connection keeps the request/response flow a
 * plain sequential read-parse-answer loop, which makes pipelining trivially
 * "answer in order". This file: options, listening, the connection threads;
 * kwtestd_request.c reads and parses requests, kwtestd_response.c answers
 * them (kwtestd.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kwtestd.h"

#define SEND_TIMEOUT_SEC       30      /* a client that stops reading is dropped */
#define LINGER_DRAIN_MS        200
#define MAX_REQUESTS_PER_CONN  100000000UL

struct options opt = { .log_fd = -1 };

static volatile sig_atomic_t stop_requested;

/* ---- log ---------------------------------------------------------------- */

/* One write(2) per line on an O_APPEND fd, so lines from threads never mix. */
static void log_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_event(const char *fmt, ...)
{
	if (opt.log_fd < 0)
		return;
	char line[MAX_TARGET_LEN + 256];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len > sizeof line - 2)
		len = sizeof line - 2;
	line[len++] = '\n';
	ssize_t written = write(opt.log_fd, line, len); /* best effort: nowhere to report */
	(void)written;
}

/* ---- connection lifecycle ----------------------------------------------- */

static long long monotonic_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

static void end_connection(struct conn *c, enum ending ending)
{
	/* Logged before the close so the line exists once the client sees it. */
	log_event("close conn=%lu requests=%lu by=%s", c->id, c->requests,
		  ending == CLIENT_GONE ? "client" : "server");
	if (ending == CLOSE_RST) {
		struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
	} else if (ending == CLOSE_GRACEFUL) {
		/* FIN, then read what the client still sends for a moment: closing
		 * with unread input would send RST, which can destroy the response
		 * the client has not read yet. */
		shutdown(c->fd, SHUT_WR);
		long long deadline = monotonic_ms() + LINGER_DRAIN_MS;
		for (int round = 0; round < 1000; round++) {
			long long left = deadline - monotonic_ms();
			struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0 || read(c->fd, c->in, sizeof c->in) <= 0)
				break;
		}
	}
	close(c->fd);
}

static enum ending serve_request(struct conn *c)
{
	size_t head_len;
	switch (read_head(c, &head_len)) {
	case IO_OK:
		break;
	case IO_TIMEOUT: /* idle: no input is pending, so a plain close() sends just a FIN */
		if (c->in_pos == c->in_len)
			return opt.idle_rst ? CLOSE_RST : CLOSE_PLAIN;
		return CLOSE_GRACEFUL;
	case IO_FULL:
		answer_error(c, 431);
		return CLOSE_GRACEFUL;
	default:
		return CLIENT_GONE;
	}

	/* Fault injection: the request arrives and the connection is reset, as by
	 * a server that closed it at that moment. The request is never served. */
	if (opt.rst_on_request && c->requests + 1 == opt.rst_on_request) {
		log_event("reset conn=%lu seq=%lu", c->id, c->requests + 1);
		return CLOSE_RST;
	}
	struct request req;
	int error_status = parse_head(c->in + c->in_pos, head_len, &req);
	c->in_pos += head_len;
	if (error_status) {
		answer_error(c, error_status);
		return CLOSE_GRACEFUL;
	}
	c->requests++;
	log_event("request conn=%lu seq=%lu method=%s target=%s", c->id, c->requests, req.method, req.target);

	uint64_t arg = 0;
	enum route route = route_of(req.target, &arg);
	bool has_body = req.chunked || (req.has_length && req.content_length > 0);
	if (route == R_CONTINUE || (has_body && req.expects_continue)) {
		out_printf(c, "HTTP/1.1 100 Continue\r\n\r\n");
		out_flush(c);
	}
	enum body_result body = BODY_OK;
	if (req.chunked)
		body = read_chunked_body(c, &req.body_len);
	else if (req.has_length && (body = skip_input(c, req.content_length)) == BODY_OK)
		req.body_len = req.content_length;
	if (body == BODY_BAD)
		answer_error(c, 400);
	if (body != BODY_OK)
		return body == BODY_CLIENT_GONE ? CLIENT_GONE : CLOSE_GRACEFUL;

	enum ending ending = answer(c, &req, route, arg);
	out_flush(c);
	return c->write_failed ? CLIENT_GONE : ending;
}

static void *connection_thread(void *arg)
{
	struct conn *c = arg;
	enum ending ending = KEEP_OPEN;
	for (unsigned long n = 0; ending == KEEP_OPEN && n < MAX_REQUESTS_PER_CONN; n++)
		ending = serve_request(c);
	end_connection(c, ending == KEEP_OPEN ? CLOSE_GRACEFUL : ending);
	free(c);
	return NULL;
}

/* ---- listening and startup ---------------------------------------------- */

static void on_stop_signal(int signo)
{
	(void)signo;
	stop_requested = 1;
}

static void usage_and_exit(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--port N] [--port-file F] [--ipv6] [--log F] [--idle-close MS | --idle-rst MS]\n"
		"          [--keepalive-header T,M] [--max-requests N] [--rst-on-request N]\n", prog);
	exit(2);
}

static long parse_number(const char *text, long max, const char *prog)
{
	char *end;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < 0 || value > max)
		usage_and_exit(prog);
	return value;
}

/* Returns the listening socket (or -1) and the port it got. */
static int listen_on_loopback(bool ipv6, int port, int *bound_port)
{
	union { struct sockaddr any; struct sockaddr_in v4; struct sockaddr_in6 v6; } addr;
	memset(&addr, 0, sizeof addr);
	socklen_t addr_len = ipv6 ? sizeof addr.v6 : sizeof addr.v4;
	if (ipv6) {
		addr.v6.sin6_family = AF_INET6;
		addr.v6.sin6_port = htons(port);
		addr.v6.sin6_addr = in6addr_loopback;
	} else {
		addr.v4.sin_family = AF_INET;
		addr.v4.sin_port = htons(port);
		addr.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	int fd = socket(addr.any.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, &addr.any, addr_len) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, &addr.any, &addr_len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*bound_port = ntohs(ipv6 ? addr.v6.sin6_port : addr.v4.sin_port);
	return fd;
}

/* Written to a temporary name and renamed, so a reader never sees half a file. */
static bool write_port_file(const char *path, int port)
{
	char tmp[4096], text[32];
	int tmp_len = snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	int text_len = snprintf(text, sizeof text, "%d\n", port);
	if (tmp_len < 0 || (size_t)tmp_len >= sizeof tmp)
		return false;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	bool ok = write(fd, text, text_len) == text_len;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) == 0)
		return true;
	unlink(tmp);
	return false;
}

static void start_connection_thread(int fd, unsigned long id)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* small responses go out at once */
	struct timeval send_timeout = { .tv_sec = SEND_TIMEOUT_SEC };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
	struct conn *c = calloc(1, sizeof *c);
	int err = ENOMEM;
	if (c) {
		c->fd = fd;
		c->id = id;
		/* Workers inherit a mask blocking the stop signals, so those always
		 * interrupt the accept loop rather than some worker. */
		sigset_t stop_signals, old_mask;
		sigemptyset(&stop_signals);
		sigaddset(&stop_signals, SIGTERM);
		sigaddset(&stop_signals, SIGINT);
		pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		pthread_t thread;
		err = pthread_create(&thread, &attr, connection_thread, c);
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	}
	if (err) {
		log_event("close conn=%lu requests=0 by=server", id);
		close(fd);
		free(c);
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "log", required_argument, NULL, 'l' },
		{ "idle-close", required_argument, NULL, 'c' },
		{ "idle-rst", required_argument, NULL, 'r' },
		{ "keepalive-header", required_argument, NULL, 'k' },
		{ "max-requests", required_argument, NULL, 'm' },
		{ "rst-on-request", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int port = 0;
	bool ipv6 = false;
	const char *port_file = NULL, *log_path = NULL;
	for (int option; (option = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		switch (option) {
		case 'p': port = (int)parse_number(optarg, 65535, argv[0]); break;
		case 'f': port_file = optarg; break;
		case '6': ipv6 = true; break;
		case 'l': log_path = optarg; break;
		case 'c':
		case 'r':
			opt.idle_ms = (int)parse_number(optarg, 1000000000, argv[0]);
			opt.idle_rst = option == 'r';
			break;
		case 'k': {
			char *end;
			opt.keepalive_timeout = strtol(optarg, &end, 10);
			if (end == optarg || *end != ',' || opt.keepalive_timeout < 0)
				usage_and_exit(argv[0]);
			opt.keepalive_max = parse_number(end + 1, 1000000000, argv[0]);
			opt.keepalive_header = true;
			break;
		}
		case 'm': opt.max_requests = (unsigned long)parse_number(optarg, 1000000000, argv[0]); break;
		case 'R': opt.rst_on_request = (unsigned long)parse_number(optarg, 1000000000, argv[0]); break;
		default: usage_and_exit(argv[0]);
		}
	}
	if (optind != argc)
		usage_and_exit(argv[0]);

	if (log_path) {
		opt.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (opt.log_fd < 0) {
			perror(log_path);
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction stop_action = { .sa_handler = on_stop_signal }; /* no SA_RESTART: poll() wakes */
	sigemptyset(&stop_action.sa_mask);
	sigaction(SIGTERM, &stop_action, NULL);
	sigaction(SIGINT, &stop_action, NULL);

	int listen_fd = listen_on_loopback(ipv6, port, &port);
	if (listen_fd < 0) {
		perror("kwtestd: listen");
		return 1;
	}
	if (port_file && !write_port_file(port_file, port)) {
		perror(port_file);
		return 1;
	}

	unsigned long accepted = 0; /* only this thread counts, so ids follow accept order */
	while (!stop_requested) {
		struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0) /* the timeout re-checks the flag in any case */
			continue;
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				const struct timespec backoff = { 0, 50000000L };
				nanosleep(&backoff, NULL);
			}
			continue;
		}
		accepted++;
		log_event("accept conn=%lu", accepted);
		start_connection_thread(fd, accepted);
	}
	close(listen_fd);
	return 0;
}
