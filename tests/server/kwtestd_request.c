/* kwtestd_request.c - kwtestd's input: reading request heads, lines and
 * bodies (Content-Length or chunked) from a connection, and parsing the
 * request line and headers. See kwtestd.h. */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kwtestd.h"

#define MID_REQUEST_TIMEOUT_MS 30000   /* a client stalled mid-request is dropped */
#define MAX_TRAILER_LINES      1000

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
enum io_result read_head(struct conn *c, size_t *head_len)
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

enum body_result skip_input(struct conn *c, uint64_t count)
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

enum body_result read_chunked_body(struct conn *c, uint64_t *total)
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
int parse_head(char *head, size_t head_len, struct request *req)
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
