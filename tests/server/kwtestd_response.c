/* kwtestd_response.c - kwtestd's output: the buffered writer, the routes
 * (PROTOCOL.md's targets) and the responses they produce. See kwtestd.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kwtestd.h"
#include "pattern.h"

#define CHUNK_PIECE_LEN        1000
#define SLOW_PIECES            10
#define SLOW_PIECE_GAP_NS      5000000L

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

void out_flush(struct conn *c)
{
	if (!c->write_failed && c->out_len > 0 && !send_all(c->fd, c->out, c->out_len))
		c->write_failed = true;
	c->out_len = 0;
}

/* count bytes: from data, or with data NULL bytes [offset, offset+count) of
 * the pattern body of length body_len. */
static void out_bytes(struct conn *c, const char *data, uint64_t body_len, uint64_t offset,
		      uint64_t count)
{
	while (count > 0 && !c->write_failed) {
		if (c->out_len == sizeof c->out)
			out_flush(c);
		size_t take = sizeof c->out - c->out_len;
		if (take > count)
			take = count;
		if (data)
			memcpy(c->out + c->out_len, data + offset, take);
		else
			for (size_t i = 0; i < take; i++)
				c->out[c->out_len + i] = kw_pattern_byte(body_len, offset + i);
		c->out_len += take;
		offset += take;
		count -= take;
	}
}

static void out_append(struct conn *c, const char *data, size_t len)
{
	out_bytes(c, data, 0, 0, len);
}

/* Bytes [offset, offset+count) of the pattern body of length body_len. */
static void out_pattern(struct conn *c, uint64_t body_len, uint64_t offset, uint64_t count)
{
	out_bytes(c, NULL, body_len, offset, count);
}

void out_printf(struct conn *c, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (len > 0)
		out_append(c, text, (size_t)len < sizeof text ? (size_t)len : sizeof text - 1);
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

enum route route_of(const char *target, uint64_t *arg)
{
	static const struct { const char *prefix; enum route route; } numbered[] = {
		{ "/gen/", R_GEN }, { "/chunked/", R_CHUNKED }, { "/close/", R_CLOSE },
		{ "/http10/", R_HTTP10 }, { "/eof/", R_EOF }, { "/extra/", R_EXTRA },
		{ "/twice/", R_TWICE }, { "/continue/", R_CONTINUE }, { "/slow/", R_SLOW },
		{ "/framed/", R_FRAMED },
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
enum ending answer(struct conn *c, const struct request *req, enum route route, uint64_t arg)
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
	case R_FRAMED: /* framed by what the request asked, as many servers do */
		if (!closing) {
			out_sized_response(c, req, 200, false, arg, !head);
			return KEEP_OPEN;
		}
		/* a request that closes gets a body the close ends */
		__attribute__((fallthrough));
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
void answer_error(struct conn *c, int status)
{
	const char *reason = reason_phrase(status);
	out_printf(c, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s\n",
		   status, reason, strlen(reason) + 1, reason);
	out_flush(c);
}
