/* upgrade.c - parse a request head, rewrite close-style requests to keep-alive. */
#include "logic/upgrade.h"

#include <http_parser.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool kw_method_idempotent(const char *m, size_t len)
{
	static const char *const safe[] = { "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" };

	for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
		if (strlen(safe[i]) == len && !memcmp(safe[i], m, len))
			return true;
	return false;
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

struct scan {
	struct conn_tokens tokens;
	struct kw_head *h;
};

static void scan_line(const char *line, size_t line_len, size_t name_len, const char *value,
                      size_t value_len, void *arg)
{
	struct scan *sc = arg;
	(void)line_len;

	if (is_connection(line, name_len)) {
		if (!token_list(value, value_len))
			sc->h->content_length = -2; /* not a plain list: leave the request alone */
		each_token(value, value_len, note_token, &sc->tokens);
	} else if (name_is(line, name_len, "idempotency-key")) {
		sc->h->idempotency_key = true;
	} else if (name_is(line, name_len, "transfer-encoding")) {
		sc->h->chunked = value_len >= 7 && !strncasecmp(value + value_len - 7, "chunked", 7);
	} else if (name_is(line, name_len, "content-length")) {
		char num[24];
		char *end;
		if (value_len == 0 || value_len >= sizeof num) {
			sc->h->content_length = -2; /* unparseable: treat as malformed */
			return;
		}
		memcpy(num, value, value_len);
		num[value_len] = '\0';
		sc->h->content_length = strtoll(num, &end, 10);
		if (*end || sc->h->content_length < 0)
			sc->h->content_length = -2;
	}
}

enum kw_head_status kw_head_parse(const char *buf, size_t len, struct kw_head *h)
{
	const char *end = NULL, *sp1, *sp2, *eol;
	size_t scan_len = len < KW_HEAD_MAX ? len : KW_HEAD_MAX;
	struct scan sc = { { false, false }, h };

	memset(h, 0, sizeof *h);
	h->content_length = -1;
	for (size_t i = 0; i + 3 < scan_len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
			end = buf + i + 4;
			break;
		}
	if (!end)
		return len < KW_HEAD_MAX ? KW_HEAD_INCOMPLETE : KW_HEAD_MALFORMED;
	h->len = (size_t)(end - buf);
	eol = memchr(buf, '\r', h->len);
	if (eol[1] != '\n')
		return KW_HEAD_MALFORMED; /* a bare CR in the request line */
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1 || sp1 == buf)
		return KW_HEAD_MALFORMED;
	for (const char *p = buf; p < sp1; p++)
		if (!isupper((unsigned char)*p) && *p != '-' && *p != '_')
			return KW_HEAD_MALFORMED;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	for (const char *p = sp1 + 1; sp2 && p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return KW_HEAD_MALFORMED;
	if (!sp2 || eol - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return KW_HEAD_MALFORMED;
	h->minor = sp2[8] - '0';
	h->idempotent = kw_method_idempotent(buf, (size_t)(sp1 - buf));
	if (!each_header(buf, h, (size_t)(eol - buf) + 2, scan_line, &sc) || h->content_length == -2)
		return KW_HEAD_MALFORMED;
	h->close_style = sc.tokens.close || (h->minor == 0 && !sc.tokens.keep_alive);
	return KW_HEAD_OK;
}

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
	struct scan sc = { { false, false }, NULL };
	struct kw_head copy = *h;

	if (!h->close_style)
		return 0;
	sc.h = &copy;
	each_header(buf, h, line, scan_line, &sc);
	put(&w, buf, line);
	each_header(buf, h, line, rewrite_line, &w);
	if (h->minor == 0 && !sc.tokens.keep_alive)
		put(&w, "Connection: keep-alive\r\n", 24);
	put(&w, "\r\n", 2);
	return w.overflow || !parser_agrees(out, w.len) ? 0 : w.len;
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
