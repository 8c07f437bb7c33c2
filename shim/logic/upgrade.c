/* upgrade.c - parse a request head, rewrite close-style requests to keep-alive. */
#include "logic/upgrade.h"

#include <http_parser.h>

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool kw_method_idempotent(unsigned method)
{
	switch (method) {
	case HTTP_GET: case HTTP_HEAD: case HTTP_OPTIONS: case HTTP_TRACE: case HTTP_PUT:
	case HTTP_DELETE:
		return true;
	default:
		return false;
	}
}

static bool name_is(const char *line, size_t name_len, const char *name)
{
	return strlen(name) == name_len && !strncasecmp(line, name, name_len);
}

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Headers libhttp-parser (and so the tracker) reads as Connection. */
static bool is_connection(const char *line, size_t name_len)
{
	return name_is(line, name_len, "connection") || name_is(line, name_len, "proxy-connection");
}

/* A Connection value we rewrite only when it is a plain token list. */
static bool token_list(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)v[i]) && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			return false;
	return true;
}

/* Calls fn for each comma-separated token of value[0..len), trimmed. */
static void each_token(const char *v, size_t len, void (*fn)(const char *, size_t, void *),
                       void *arg)
{
	size_t i = 0;

	while (i < len) {
		size_t start, end;
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end > start)
			fn(v + start, end - start, arg);
	}
}

struct conn_tokens {
	bool close, keep_alive;
};

static void note_token(const char *t, size_t n, void *arg)
{
	struct conn_tokens *ct = arg;
	if (n == 5 && !strncasecmp(t, "close", 5))
		ct->close = true;
	else if (n == 10 && !strncasecmp(t, "keep-alive", 10))
		ct->keep_alive = true;
}

/* Header lines between the request line and the blank line: calls fn with
 * each line (without CRLF), its name length and value bounds. Returns false
 * on a malformed line. */
typedef void (*line_fn)(const char *line, size_t line_len, size_t name_len, const char *value,
                        size_t value_len, void *arg);

static bool each_header(const char *buf, const struct kw_head *h, size_t first, line_fn fn,
                        void *arg)
{
	size_t pos = first;

	while (pos + 2 < h->len) {
		const char *line = buf + pos;
		const char *eol = memchr(line, '\r', h->len - pos);
		size_t line_len, name_len;
		const char *value, *vend;

		if (!eol || eol[1] != '\n')
			return false;
		line_len = (size_t)(eol - line);
		const char *colon = memchr(line, ':', line_len);
		if (!colon || colon == line)
			return false; /* no name, or an obsolete folded line */
		name_len = (size_t)(colon - line);
		/* Only what every parser reads the same way: a token name, no
		 * control bytes (a bare LF ends a line for some parsers). */
		for (size_t i = 0; i < name_len; i++)
			if (!is_tchar((unsigned char)line[i]))
				return false;
		for (size_t i = name_len; i < line_len; i++)
			if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
				return false;
		for (value = colon + 1; value < eol && (*value == ' ' || *value == '\t'); value++)
			;
		for (vend = eol; vend > value && (vend[-1] == ' ' || vend[-1] == '\t'); vend--)
			;
		fn(line, line_len, name_len, value, (size_t)(vend - value), arg);
		pos += line_len + 2;
	}
	return true;
}

/* The length of the head at the start of buf: up to and with its first
 * blank line (CRLFCRLF) within len bytes, 0 when there is none. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return i + 4;
	return 0;
}

/* ---- the filter: what every parser reads alike ---- */

struct scan {
	struct conn_tokens tokens;
	bool plain; /* every Connection value is a plain token list */
};

static void scan_line(const char *line, size_t line_len, size_t name_len, const char *value,
                      size_t value_len, void *arg)
{
	struct scan *sc = arg;
	(void)line_len;

	if (!is_connection(line, name_len))
		return;
	if (!token_list(value, value_len))
		sc->plain = false;
	each_token(value, value_len, note_token, &sc->tokens);
}

/* The request line: a method of capitals, a target without spaces or control
 * bytes, HTTP/1.0 or HTTP/1.1, ended by CRLF. Returns its length without the
 * CRLF, 0 when it is not one. */
static size_t request_line(const char *buf, size_t head_len)
{
	const char *eol = memchr(buf, '\r', head_len), *sp1, *sp2;

	if (eol[1] != '\n')
		return 0; /* a bare CR */
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1 || sp1 == buf)
		return 0;
	for (const char *p = buf; p < sp1; p++)
		if (!isupper((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	for (const char *p = sp1 + 1; sp2 && p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	if (!sp2 || eol - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return 0;
	return (size_t)(eol - buf);
}

/* ---- libhttp-parser's reading ---- */

struct reading {
	struct kw_head *h;
	unsigned begun, heads;
	bool method_read, body, connection_close, connection_keep_alive, upgrade;
};

static int read_begin(http_parser *p)
{
	((struct reading *)p->data)->begun++;
	return 0;
}

static int read_url(http_parser *p, const char *at, size_t len)
{
	struct reading *r = p->data;
	(void)at;
	(void)len;
	if (!r->method_read)
		r->h->idempotent = kw_method_idempotent(p->method);
	r->method_read = true;
	return 0;
}

static int read_field(http_parser *p, const char *at, size_t len)
{
	struct reading *r = p->data;
	/* One buffer holds the whole head, so each name comes in one piece. */
	if (len == 15 && !strncasecmp(at, "idempotency-key", 15))
		r->h->idempotency_key = true;
	return 0;
}

static int read_headers(http_parser *p)
{
	struct reading *r = p->data;
	struct kw_head *h = r->h;

	r->heads++;
	h->minor = p->http_minor;
	h->close_style = !http_should_keep_alive(p);
	h->chunked = (p->flags & F_CHUNKED) != 0;
	h->content_length = p->content_length == ULLONG_MAX || p->content_length > LLONG_MAX
	                            ? -1
	                            : (long long)p->content_length;
	r->connection_close = (p->flags & F_CONNECTION_CLOSE) != 0;
	r->connection_keep_alive = (p->flags & F_CONNECTION_KEEP_ALIVE) != 0;
	r->upgrade = p->upgrade || p->method == HTTP_CONNECT;
	return 0;
}

static int read_body(http_parser *p, const char *at, size_t len)
{
	(void)at;
	(void)len;
	((struct reading *)p->data)->body = true;
	return 0;
}

static const http_parser_settings request_reading = {
	.on_message_begin = read_begin,
	.on_url = read_url,
	.on_header_field = read_field,
	.on_headers_complete = read_headers,
	.on_body = read_body,
};

/* Feed len bytes to libhttp-parser; true when it read them without error. */
static bool parser_reads(struct reading *r, const char *buf, size_t len)
{
	http_parser p;

	http_parser_init(&p, HTTP_REQUEST);
	p.data = r;
	return http_parser_execute(&p, &request_reading, buf, len) == len &&
	       HTTP_PARSER_ERRNO(&p) == HPE_OK;
}

enum kw_head_status kw_head_parse(const char *buf, size_t len, struct kw_head *h)
{
	size_t scan_len = len < KW_HEAD_MAX ? len : KW_HEAD_MAX, line;
	struct reading r = { .h = h };
	struct scan sc = { { false, false }, true };

	memset(h, 0, sizeof *h);
	h->content_length = -1;
	h->len = head_end(buf, scan_len);
	if (!h->len) {
		if (len >= KW_HEAD_MAX)
			return KW_HEAD_MALFORMED;
		(void)parser_reads(&r, buf, len); /* the method, once read */
		return KW_HEAD_INCOMPLETE;
	}
	/* Only a head every parser reads alike: the strict request line and
	 * header lines, and one message ending exactly at the blank line. */
	if (!(line = request_line(buf, h->len)) || !each_header(buf, h, line + 2, scan_line, &sc) ||
	    !sc.plain || !parser_reads(&r, buf, h->len) || r.begun != 1 || r.heads != 1 || r.body) {
		h->idempotent = false;
		return KW_HEAD_MALFORMED;
	}
	h->keep_alive_token = r.connection_keep_alive;
	/* Rewritten only when libhttp-parser reads the Connection tokens as a
	 * plain token list does (servers read the list; the tracker, the parser). */
	h->rewritable = !r.upgrade && r.connection_close == sc.tokens.close &&
	                r.connection_keep_alive == sc.tokens.keep_alive;
	return KW_HEAD_OK;
}

bool kw_head_replayable(enum kw_head_status st, const struct kw_head *h, size_t max)
{
	if (st == KW_HEAD_INCOMPLETE)
		return h->idempotent; /* a head still being written: its method decides */
	return st == KW_HEAD_OK && (h->idempotent || h->idempotency_key) && !h->chunked &&
	       h->len + (size_t)(h->content_length > 0 ? h->content_length : 0) <= max;
}

/* ---- the rewrite ---- */

struct rewrite {
	char *out;
	size_t cap, len;
	bool overflow;
};

static void put(struct rewrite *w, const char *s, size_t n)
{
	if (w->len + n > w->cap) {
		w->overflow = true;
		return;
	}
	memcpy(w->out + w->len, s, n);
	w->len += n;
}

struct kept_tokens {
	struct rewrite *w;
	unsigned n;
};

static void keep_token(const char *t, size_t n, void *arg)
{
	struct kept_tokens *k = arg;
	if (n == 5 && !strncasecmp(t, "close", 5))
		return;
	if (k->n++)
		put(k->w, ", ", 2);
	put(k->w, t, n);
}

static void rewrite_line(const char *line, size_t line_len, size_t name_len, const char *value,
                         size_t value_len, void *arg)
{
	struct rewrite *w = arg;
	struct conn_tokens ct = { false, false };
	struct kept_tokens kept = { w, 0 };
	size_t mark;
	bool overflow;

	if (is_connection(line, name_len))
		each_token(value, value_len, note_token, &ct);
	if (!ct.close) {
		put(w, line, line_len);
		put(w, "\r\n", 2);
		return;
	}
	mark = w->len;
	overflow = w->overflow;
	put(w, line, name_len);
	put(w, ": ", 2);
	each_token(value, value_len, keep_token, &kept);
	if (!kept.n) {
		w->len = mark; /* only "close": drop the header, and what it wrote */
		w->overflow = overflow;
		return;
	}
	put(w, "\r\n", 2);
}

static int agreed_headers_complete(http_parser *p)
{
	*(int *)p->data = http_should_keep_alive(p) ? 1 : -1;
	return 1;
}

/* Does libhttp-parser (the tracker's parser) read this head as a keep-alive
 * request? Rewriting a head it would still read as close would leave the
 * program waiting for an end-of-file that never comes. */
static bool parser_agrees(const char *head, size_t len)
{
	static const http_parser_settings settings = {
		.on_headers_complete = agreed_headers_complete,
	};
	http_parser p;
	int verdict = 0;

	http_parser_init(&p, HTTP_REQUEST);
	p.data = &verdict;
	http_parser_execute(&p, &settings, head, len);
	return verdict == 1;
}

size_t kw_head_upgrade(const char *buf, const struct kw_head *h, char *out, size_t cap)
{
	struct rewrite w = { out, cap, 0, false };
	const char *eol = memchr(buf, '\r', h->len);
	size_t line = (size_t)(eol - buf) + 2;

	if (!h->close_style || !h->rewritable)
		return 0;
	put(&w, buf, line);
	each_header(buf, h, line, rewrite_line, &w);
	if (h->minor == 0 && !h->keep_alive_token)
		put(&w, "Connection: keep-alive\r\n", 24);
	put(&w, "\r\n", 2);
	return w.overflow || !parser_agrees(out, w.len) ? 0 : w.len;
}

/* ---- the response head ---- */

struct response_reading {
	unsigned begun, heads, status;
	bool http1;
};

static int response_begin(http_parser *p)
{
	((struct response_reading *)p->data)->begun++;
	return 0;
}

static int response_headers(http_parser *p)
{
	struct response_reading *r = p->data;

	r->heads++;
	r->status = p->status_code;
	r->http1 = p->http_major == 1 && p->http_minor <= 1;
	return 0;
}

static const http_parser_settings response_reading = {
	.on_message_begin = response_begin,
	.on_headers_complete = response_headers,
};

size_t kw_response_head_final(const char *buf, size_t len)
{
	struct response_reading r = { 0, 0, 0, false };
	http_parser p;
	size_t head = head_end(buf, len);

	if (!head)
		return 0;
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &r;
	/* One head, ending exactly at the blank line, of a final response. */
	if (http_parser_execute(&p, &response_reading, buf, head) != head ||
	    HTTP_PARSER_ERRNO(&p) != HPE_OK || r.begun != 1 || r.heads != 1 || !r.http1 ||
	    r.status < 200)
		return 0;
	return head;
}

/* One header line rewritten into out (which may alias it, never ahead of it):
 * returns the bytes written, 0 to drop the line. */
static size_t restore_line(const char *line, size_t n, char *out)
{
	const char *colon = memchr(line, ':', n);
	size_t name = colon ? (size_t)(colon - line) : 0, w = 0, i;

	if (colon && name_is(line, name, "keep-alive"))
		return 0;
	if (!colon || !name_is(line, name, "connection")) {
		memmove(out, line, n);
		return n;
	}
	/* Copy up to the value, then the tokens with keep-alive made close. */
	for (i = name + 1; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	memmove(out, line, i);
	w = i;
	while (i < n) {
		size_t start = i, end;
		while (i < n && line[i] != ',')
			i++;
		end = i;
		while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t'))
			end--;
		size_t lead = start;
		while (lead < end && (line[lead] == ' ' || line[lead] == '\t'))
			lead++;
		memmove(out + w, line + start, lead - start);
		w += lead - start;
		if (end - lead == 10 && !strncasecmp(line + lead, "keep-alive", 10)) {
			/* Bytes inside a header line, not a C string. */
			memcpy(out + w, "close", 5); // NOLINT(bugprone-not-null-terminated-result)
			w += 5;
		} else {
			memmove(out + w, line + lead, end - lead);
			w += end - lead;
		}
		memmove(out + w, line + end, i - end);
		w += i - end;
		if (i < n)
			out[w++] = line[i++]; /* the comma */
	}
	return w;
}

size_t kw_response_restore_close(char *buf, size_t head_len, size_t len)
{
	char *eol = memchr(buf, '\n', head_len);
	size_t r, w;

	if (!eol || head_len > len || head_len < 4)
		return len;
	/* Only a head of CRLF lines with no stray CR or LF: anything else is
	 * left exactly as the server sent it. */
	for (size_t i = 0; i < head_len; i++)
		if ((buf[i] == '\r') != (i + 1 < head_len && buf[i + 1] == '\n') ||
		    (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')))
			return len;
	if (memcmp(buf + head_len - 4, "\r\n\r\n", 4))
		return len;
	r = w = (size_t)(eol - buf) + 1; /* the status line stays */
	while (r + 2 <= head_len && !(buf[r] == '\r' && buf[r + 1] == '\n')) {
		char *end = memchr(buf + r, '\n', head_len - r);
		size_t n, kept;
		if (!end)
			return len; /* not a head we understand: leave it */
		n = (size_t)(end - (buf + r)) + 1;
		kept = restore_line(buf + r, n > 1 && buf[r + n - 2] == '\r' ? n - 2 : n - 1, buf + w);
		if (kept) {
			memmove(buf + w + kept, buf + r + n - (n > 1 && buf[r + n - 2] == '\r' ? 2 : 1),
			        n > 1 && buf[r + n - 2] == '\r' ? 2 : 1);
			w += kept + (n > 1 && buf[r + n - 2] == '\r' ? 2 : 1);
		}
		r += n;
	}
	/* The blank line and everything after the head. */
	memmove(buf + w, buf + r, len - r);
	return w + (len - r);
}
