/* kwtestd - a scriptable HTTP/1.1 origin for the keepwarm tests.
 * The contract (options, targets, log lines) is tests/server/PROTOCOL.md.
 * One detached thread per connection keeps the request/response flow a
 * plain sequential read-parse-answer loop, which makes pipelining trivially
 * "answer in order". */
#include <ctype.h>
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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define IN_BUF_SIZE            65536   /* also the largest request head accepted */
#define OUT_BUF_SIZE           65536
#define MAX_METHOD_LEN         32
#define MAX_TARGET_LEN         8192
#define MAX_BODY_LEN           (1ULL << 40)
#define MID_REQUEST_TIMEOUT_MS 30000   /* a client stalled mid-request is dropped */
#define SEND_TIMEOUT_SEC       30      /* a client that stops reading is dropped */
#define LINGER_DRAIN_MS        200
#define CHUNK_PIECE_LEN        1000
#define SLOW_PIECES            10
#define SLOW_PIECE_GAP_NS      5000000L
#define MAX_REQUESTS_PER_CONN  100000000UL
#define MAX_TRAILER_LINES      1000
#define MAX_EINTR_RETRIES      100

static struct {
	int idle_ms;               /* 0: wait for the next request forever */
	bool idle_rst;
	bool keepalive_header;
	long keepalive_timeout, keepalive_max;
	unsigned long max_requests; /* 0: unlimited */
	int log_fd;                 /* -1: no log */
} opt = { .log_fd = -1 };

static volatile sig_atomic_t stop_requested;

enum io_result { IO_OK, IO_EOF, IO_TIMEOUT, IO_ERROR, IO_FULL };
enum body_result { BODY_OK, BODY_CLIENT_GONE, BODY_TIMEOUT, BODY_BAD };
/* What happens to a connection after a request. CLOSE_GRACEFUL: FIN, then
 * drain input briefly; CLOSE_PLAIN: close() alone; CLOSE_RST: abort. */
enum ending { KEEP_OPEN, CLIENT_GONE, CLOSE_GRACEFUL, CLOSE_PLAIN, CLOSE_RST };

struct conn {
	int fd;
	unsigned long id;
	unsigned long requests;
	bool write_failed;          /* sticky: later output is dropped */
	size_t in_pos, in_len;      /* unread input is in[in_pos, in_len) */
	size_t out_len;
	char in[IN_BUF_SIZE];
	char out[OUT_BUF_SIZE];
};

struct request {
	char method[MAX_METHOD_LEN + 1];
	char target[MAX_TARGET_LEN + 1];
	bool http10;
	bool wants_close, wants_keepalive;
	bool has_length, chunked, expects_continue;
	uint64_t content_length;
	uint64_t body_len;          /* bytes actually received */
};

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

/* ---- input -------------------------------------------------------------- */

static enum io_result fill_input(struct conn *c, int timeout_ms)
{
	if (c->in_pos > 0) { /* compact so all free space is at the end */
		memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
		c->in_len -= c->in_pos;
		c->in_pos = 0;
	}
	if (c->in_len == sizeof c->in)
		return IO_FULL;
	for (int attempt = 0; attempt < MAX_EINTR_RETRIES; attempt++) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int ready = poll(&pfd, 1, timeout_ms);
		if (ready == 0)
			return IO_TIMEOUT;
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return IO_ERROR;
		}
		ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
		if (n > 0) {
			c->in_len += n;
			return IO_OK;
		}
		if (n == 0)
			return IO_EOF;
		if (errno != EINTR && errno != EAGAIN)
			return IO_ERROR;
	}
	return IO_ERROR;
}

/* Waits for a complete request head at in[in_pos...]; *head_len includes the
 * blank line. Blank lines before a request are skipped (RFC 9112 2.2). The
 * idle timeout applies only while no byte of the next request has arrived. */
static enum io_result read_head(struct conn *c, size_t *head_len)
{
	size_t scanned = 0;
	for (size_t round = 0; round <= IN_BUF_SIZE; round++) { /* each fill adds >= 1 byte */
		while (c->in_pos < c->in_len && (c->in[c->in_pos] == '\r' || c->in[c->in_pos] == '\n'))
			c->in_pos++;
		const char *p = c->in + c->in_pos;
		size_t avail = c->in_len - c->in_pos;
		for (; scanned < avail; scanned++) {
			if (p[scanned] != '\n' || scanned == 0)
				continue;
			if (p[scanned - 1] == '\n' || (p[scanned - 1] == '\r' && scanned >= 2 && p[scanned - 2] == '\n')) {
				*head_len = scanned + 1;
				return IO_OK;
			}
		}
		int timeout = avail > 0 ? MID_REQUEST_TIMEOUT_MS : opt.idle_ms > 0 ? opt.idle_ms : -1;
		enum io_result r = fill_input(c, timeout);
		if (r != IO_OK)
			return r;
	}
	return IO_FULL;
}

/* Next line of input without its CR LF; valid until the next fill. */
static enum io_result read_line(struct conn *c, const char **line, size_t *len)
{
	for (size_t round = 0; round <= IN_BUF_SIZE; round++) {
		const char *start = c->in + c->in_pos;
		const char *nl = memchr(start, '\n', c->in_len - c->in_pos);
		if (nl) {
			*line = start;
			*len = nl - start;
			if (*len > 0 && start[*len - 1] == '\r')
				(*len)--;
			c->in_pos += nl - start + 1;
			return IO_OK;
		}
		enum io_result r = fill_input(c, MID_REQUEST_TIMEOUT_MS);
		if (r != IO_OK)
			return r;
	}
	return IO_FULL;
}

static enum body_result body_result_of(enum io_result r)
{
	if (r == IO_TIMEOUT)
		return BODY_TIMEOUT;
	if (r == IO_FULL)
		return BODY_BAD;
	return BODY_CLIENT_GONE;
}

static enum body_result skip_input(struct conn *c, uint64_t count)
{
	while (count > 0) { /* bounded: every pass consumes or adds >= 1 byte */
		size_t avail = c->in_len - c->in_pos;
		if (avail == 0) {
			enum io_result r = fill_input(c, MID_REQUEST_TIMEOUT_MS);
			if (r != IO_OK)
				return body_result_of(r);
			continue;
		}
		size_t take = count < avail ? (size_t)count : avail;
		c->in_pos += take;
		count -= take;
	}
	return BODY_OK;
}

static int hex_value(char ch)
{
	static const char digits[] = "0123456789abcdef";
	const char *digit = ch ? strchr(digits, tolower((unsigned char)ch)) : NULL;
	return digit ? digit - digits : -1;
}

static enum body_result read_chunked_body(struct conn *c, uint64_t *total)
{
	const char *line;
	size_t len;
	enum io_result r;
	for (;;) { /* bounded: each chunk is >= 1 byte and the total is capped */
		if ((r = read_line(c, &line, &len)) != IO_OK)
			return body_result_of(r);
		uint64_t size = 0;
		size_t i = 0;
		for (; i < len && hex_value(line[i]) >= 0; i++) {
			if (i >= 15) /* keeps size from overflowing */
				return BODY_BAD;
			size = size * 16 + hex_value(line[i]);
		}
		if (i == 0 || (i < len && line[i] != ';' && line[i] != ' ' && line[i] != '\t'))
			return BODY_BAD;
		if (size == 0)
			break;
		if (*total + size > MAX_BODY_LEN)
			return BODY_BAD;
		enum body_result br = skip_input(c, size);
		if (br != BODY_OK)
			return br;
		*total += size;
		if ((r = read_line(c, &line, &len)) != IO_OK)
			return body_result_of(r);
		if (len != 0)
			return BODY_BAD;
	}
	for (int n = 0; n < MAX_TRAILER_LINES; n++) { /* trailer section */
		if ((r = read_line(c, &line, &len)) != IO_OK)
			return body_result_of(r);
		if (len == 0)
			return BODY_OK;
	}
	return BODY_BAD;
}

/* ---- request head parsing ----------------------------------------------- */

#define TOKEN_CHARS "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* Whether a comma-separated header value lists token (only_last: as its last element). */
static bool list_has_token(const char *value, const char *token, bool only_last)
{
	bool found = false;
	size_t token_len = strlen(token);
	for (const char *p = value; *p;) { /* bounded: p advances every pass */
		p += strspn(p, " \t,");
		size_t len = strcspn(p, ",");
		size_t trimmed = len;
		while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
			trimmed--;
		if (trimmed > 0)
			found = (trimmed == token_len && strncasecmp(p, token, trimmed) == 0) || (found && !only_last);
		p += len;
	}
	return found;
}

/* "METHOD SP target SP HTTP/1.x"; returns 0 or the error status. */
static int parse_request_line(char *line, struct request *req)
{
	char *target = strchr(line, ' ');
	char *version = target ? strchr(target + 1, ' ') : NULL;
	if (!version)
		return 400;
	*target++ = '\0';
	*version++ = '\0';
	size_t method_len = strlen(line), target_len = strlen(target);
	if (method_len == 0 || target_len == 0 || strspn(line, TOKEN_CHARS) != method_len)
		return 400;
	if (method_len > MAX_METHOD_LEN)
		return 501;
	if (target_len > MAX_TARGET_LEN)
		return 414;
	for (const char *p = target; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 400;
	if (strncmp(version, "HTTP/", 5) != 0 || strspn(version + 5, "0123456789") != 1 ||
	    version[6] != '.' || strspn(version + 7, "0123456789") != 1 || version[8])
		return 400;
	if (version[5] != '1')
		return 505;
	memcpy(req->method, line, method_len + 1);
	memcpy(req->target, target, target_len + 1);
	req->http10 = version[7] == '0';
	return 0;
}

/* "Name: value" lines; returns 0 or the error status. */
static int parse_header_line(char *line, struct request *req, bool *has_te)
{
	char *colon = strchr(line, ':');
	if (!colon || colon == line || strspn(line, TOKEN_CHARS) != (size_t)(colon - line))
		return 400; /* also rejects obsolete line folding */
	*colon = '\0';
	char *value = colon + 1 + strspn(colon + 1, " \t");
	size_t value_len = strlen(value);
	while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
		value[--value_len] = '\0';
	if (strcasecmp(line, "Connection") == 0) {
		req->wants_close |= list_has_token(value, "close", false);
		req->wants_keepalive |= list_has_token(value, "keep-alive", false);
	} else if (strcasecmp(line, "Content-Length") == 0) {
		if (value_len == 0 || value_len > 15 || strspn(value, "0123456789") != value_len)
			return 400;
		uint64_t length = strtoull(value, NULL, 10);
		if (req->has_length && length != req->content_length)
			return 400;
		if (length > MAX_BODY_LEN)
			return 413;
		req->has_length = true;
		req->content_length = length;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		*has_te = true;
		req->chunked = list_has_token(value, "chunked", true);
	} else if (strcasecmp(line, "Expect") == 0) {
		req->expects_continue |= list_has_token(value, "100-continue", false);
	}
	return 0;
}

/* Fills req from the head, which ends with "\n" and is cut into strings in
 * place; returns 0 or the error status to answer with. */
static int parse_head(char *head, size_t head_len, struct request *req)
{
	memset(req, 0, sizeof *req);
	if (memchr(head, '\0', head_len))
		return 400;
	head[head_len - 1] = '\0';
	bool has_te = false;
	char *next = head;
	for (int line_no = 0; next; line_no++) { /* bounded: next moves forward */
		char *line = next;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0)
			break;
		int status = line_no == 0 ? parse_request_line(line, req) : parse_header_line(line, req, &has_te);
		if (status)
			return status;
	}
	if (has_te && !req->chunked) /* the end of such a body cannot be found */
		return 501;
	if (req->chunked) /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3) */
		req->has_length = false;
	return 0;
}

/* ---- output ------------------------------------------------------------- */

static bool send_all(int fd, const char *p, size_t len)
{
	int interruptions = 0;
	while (len > 0) { /* bounded: every pass sends >= 1 byte or gives up */
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR && ++interruptions < MAX_EINTR_RETRIES)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

static void out_flush(struct conn *c)
{
	if (!c->write_failed && c->out_len > 0 && !send_all(c->fd, c->out, c->out_len))
		c->write_failed = true;
	c->out_len = 0;
}

static void out_append(struct conn *c, const char *data, size_t len)
{
	while (len > 0 && !c->write_failed) {
		if (c->out_len == sizeof c->out)
			out_flush(c);
		size_t take = sizeof c->out - c->out_len;
		if (take > len)
			take = len;
		memcpy(c->out + c->out_len, data, take);
		c->out_len += take;
		data += take;
		len -= take;
	}
}

static void out_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct conn *c, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (len > 0)
		out_append(c, text, (size_t)len < sizeof text ? (size_t)len : sizeof text - 1);
}

/* Bytes [offset, offset+count) of the pattern body of length body_len. */
static void out_pattern(struct conn *c, uint64_t body_len, uint64_t offset, uint64_t count)
{
	while (count > 0 && !c->write_failed) {
		if (c->out_len == sizeof c->out)
			out_flush(c);
		size_t take = sizeof c->out - c->out_len;
		if (take > count)
			take = count;
		for (size_t i = 0; i < take; i++)
			c->out[c->out_len + i] = kw_pattern_byte(body_len, offset + i);
		c->out_len += take;
		offset += take;
		count -= take;
	}
}

static const char *reason_phrase(int status)
{
	static const struct { int status; const char *reason; } reasons[] = {
		{ 100, "Continue" }, { 101, "Switching Protocols" }, { 200, "OK" }, { 201, "Created" },
		{ 202, "Accepted" }, { 204, "No Content" }, { 206, "Partial Content" },
		{ 301, "Moved Permanently" }, { 302, "Found" }, { 304, "Not Modified" },
		{ 307, "Temporary Redirect" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 505, "HTTP Version Not Supported" },
	};
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Status";
}

enum connection_header { CONN_HDR_AUTO, CONN_HDR_CLOSE, CONN_HDR_NONE };

/* Status line plus the headers every response carries; the caller adds the
 * framing headers and the blank line. */
static void out_status(struct conn *c, const struct request *req, const char *version, int status,
		       enum connection_header conn_hdr, bool closing)
{
	out_printf(c, "%s %d %s\r\n", version, status, reason_phrase(status));
	if (conn_hdr == CONN_HDR_CLOSE || (conn_hdr == CONN_HDR_AUTO && closing)) {
		out_printf(c, "Connection: close\r\n");
	} else if (conn_hdr == CONN_HDR_AUTO) {
		if (req->http10)
			out_printf(c, "Connection: keep-alive\r\n");
		if (opt.keepalive_header)
			out_printf(c, "Keep-Alive: timeout=%ld, max=%ld\r\n", opt.keepalive_timeout, opt.keepalive_max);
	}
	out_printf(c, "X-Body-Length: %llu\r\n", (unsigned long long)req->body_len);
}

static void out_sized_response(struct conn *c, const struct request *req, int status, bool closing,
			       uint64_t body_len, bool with_body)
{
	out_status(c, req, "HTTP/1.1", status, CONN_HDR_AUTO, closing);
	out_printf(c, "Content-Length: %llu\r\n\r\n", (unsigned long long)body_len);
	if (with_body)
		out_pattern(c, body_len, 0, body_len);
}

static void out_chunked_body(struct conn *c, uint64_t body_len)
{
	for (uint64_t offset = 0; offset < body_len && !c->write_failed; offset += CHUNK_PIECE_LEN) {
		uint64_t piece = body_len - offset < CHUNK_PIECE_LEN ? body_len - offset : CHUNK_PIECE_LEN;
		out_printf(c, "%llx\r\n", (unsigned long long)piece);
		out_pattern(c, body_len, offset, piece);
		out_append(c, "\r\n", 2);
	}
	out_printf(c, "0\r\nX-Trailer: yes\r\n\r\n");
}

static void out_slow_body(struct conn *c, uint64_t body_len)
{
	const struct timespec gap = { 0, SLOW_PIECE_GAP_NS };
	uint64_t piece = body_len / SLOW_PIECES, offset = 0;
	out_flush(c); /* the head goes out before the first gap */
	for (int i = 0; i < SLOW_PIECES && !c->write_failed; i++) {
		uint64_t count = i == SLOW_PIECES - 1 ? body_len - offset : piece;
		if (i > 0)
			nanosleep(&gap, NULL);
		out_pattern(c, body_len, offset, count);
		out_flush(c);
		offset += count;
	}
}

/* Digits after prefix, e.g. "/gen/" in "/gen/123?x" -> 123. */
static bool route_number(const char *path, const char *prefix, uint64_t max, uint64_t *value)
{
	size_t prefix_len = strlen(prefix);
	if (strncmp(path, prefix, prefix_len) != 0)
		return false;
	const char *digits = path + prefix_len;
	size_t n = strspn(digits, "0123456789");
	if (n == 0 || n > 15 || digits[n] != '\0')
		return false;
	*value = strtoull(digits, NULL, 10);
	return *value <= max;
}

enum route { R_GEN, R_CHUNKED, R_CLOSE, R_HTTP10, R_EOF, R_EXTRA, R_TWICE, R_STATUS,
	     R_CONTINUE, R_SLOW, R_MALFORMED, R_RESET, R_NOT_FOUND };

static enum route route_of(const char *target, uint64_t *arg)
{
	static const struct { const char *prefix; enum route route; } numbered[] = {
		{ "/gen/", R_GEN }, { "/chunked/", R_CHUNKED }, { "/close/", R_CLOSE },
		{ "/http10/", R_HTTP10 }, { "/eof/", R_EOF }, { "/extra/", R_EXTRA },
		{ "/twice/", R_TWICE }, { "/continue/", R_CONTINUE }, { "/slow/", R_SLOW },
	};
	char path[MAX_TARGET_LEN + 1];
	snprintf(path, sizeof path, "%s", target);
	path[strcspn(path, "?")] = '\0'; /* a query string does not change the route */
	for (size_t i = 0; i < sizeof numbered / sizeof numbered[0]; i++)
		if (route_number(path, numbered[i].prefix, MAX_BODY_LEN, arg))
			return numbered[i].route;
	if (route_number(path, "/status/", 999, arg) && *arg >= 100)
		return R_STATUS;
	if (strcmp(path, "/malformed") == 0)
		return R_MALFORMED;
	if (strcmp(path, "/reset") == 0)
		return R_RESET;
	return R_NOT_FOUND;
}

/* Writes the answer and says what becomes of the connection. */
static enum ending answer(struct conn *c, const struct request *req, enum route route, uint64_t arg)
{
	bool head = strcmp(req->method, "HEAD") == 0;
	bool closing = req->wants_close || (req->http10 && !req->wants_keepalive) ||
		       (opt.max_requests > 0 && c->requests >= opt.max_requests);
	enum ending usual = closing ? CLOSE_GRACEFUL : KEEP_OPEN;
	switch (route) {
	case R_GEN:
	case R_CONTINUE: /* its 100 Continue went out before the body was read */
	case R_SLOW:
		out_sized_response(c, req, 200, closing, arg, !head && route != R_SLOW);
		if (!head && route == R_SLOW)
			out_slow_body(c, arg);
		return usual;
	case R_EXTRA:
		out_sized_response(c, req, 200, closing, arg, !head);
		out_append(c, "GARBAGE", 7); /* after the response even for HEAD */
		return usual;
	case R_TWICE:
		out_sized_response(c, req, 200, closing, arg, !head);
		out_sized_response(c, req, 200, closing, arg, !head);
		return usual;
	case R_CHUNKED:
		out_status(c, req, "HTTP/1.1", 200, CONN_HDR_AUTO, closing);
		out_printf(c, "Transfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n");
		if (!head)
			out_chunked_body(c, arg);
		return usual;
	case R_CLOSE:
		out_sized_response(c, req, 200, true, arg, !head);
		return CLOSE_GRACEFUL;
	case R_HTTP10: /* the client must infer "close" from the version alone */
		out_status(c, req, "HTTP/1.0", 200, closing ? CONN_HDR_CLOSE : CONN_HDR_NONE, true);
		out_printf(c, "\r\n");
		if (!head)
			out_pattern(c, arg, 0, arg);
		return CLOSE_GRACEFUL;
	case R_EOF:
		out_status(c, req, "HTTP/1.1", 200, CONN_HDR_CLOSE, true);
		out_printf(c, "\r\n");
		if (!head)
			out_pattern(c, arg, 0, arg);
		return CLOSE_GRACEFUL;
	case R_STATUS: {
		int status = (int)arg;
		out_status(c, req, "HTTP/1.1", status, CONN_HDR_AUTO, closing);
		if (status < 200 || status == 204 || status == 304)
			out_printf(c, "\r\n");
		else
			out_printf(c, "Content-Length: 0\r\n\r\n");
		return usual;
	}
	case R_MALFORMED:
		out_printf(c, "HTTX/9 ???\r\nthis is not: http\r\n\r\n");
		return CLOSE_GRACEFUL;
	case R_RESET:
		return CLOSE_RST;
	case R_NOT_FOUND:
		break;
	}
	out_status(c, req, "HTTP/1.1", 404, CONN_HDR_AUTO, closing);
	out_printf(c, "Content-Length: 10\r\n\r\n");
	if (!head)
		out_append(c, "not found\n", 10);
	return usual;
}

/* Answer to a request that could not be parsed; the connection then closes. */
static void answer_error(struct conn *c, int status)
{
	const char *reason = reason_phrase(status);
	out_printf(c, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s\n",
		   status, reason, strlen(reason) + 1, reason);
	out_flush(c);
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
		"          [--keepalive-header T,M] [--max-requests N]\n", prog);
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
