/* fuzz_upgrade.c - libFuzzer harness for shim/logic/upgrade.c.
 *
 * Input: a candidate request head (the bytes a program wrote in one call).
 * Properties, when kw_head_parse says OK:
 *   - h.len is within the input, ends with the blank line, and every prefix
 *     parses as INCOMPLETE; the head alone parses to the same result;
 *   - libhttp-parser reads the head, with the same version, keep-alive or
 *     close, and method (idempotent or not);
 * and when the head is also close-style, kw_head_upgrade's output
 *   (a) parses OK again, with a byte-identical request line and the same
 *       fields (version, idempotency, chunked, Content-Length);
 *   (b) is not close-style;
 *   (c) holds exactly the original header lines (compared with this file's
 *       own line splitter), except that Connection lines lose the `close`
 *       token (a line left without tokens is dropped) and an HTTP/1.0 head
 *       without keep-alive gains one `Connection: keep-alive` line;
 *   (d) when libhttp-parser accepts the original head, it accepts the new
 *       one with the same method, URL and version, and keep-alive;
 *   and a buffer one byte too small gives 0 without writing past it.
 * Read as a response: kw_response_head_final gives 0 or the end of the first
 * blank line, of a head libhttp-parser reads as a final HTTP/1.x response;
 * restoring the close-style head only shrinks it, keeps the status line and
 * the body, and is idempotent. */
#include "logic/upgrade.h"

#include <ctype.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_upgrade: %s failed (line %d)\n", #c, __LINE__); abort(); } } while (0)

/* ---- an independent line splitter ---- */

struct line { const char *p; size_t n, name; };

/* Header lines of a head (request line and blank line excluded). */
static size_t split_lines(const char *b, size_t len, struct line *out, size_t max, size_t *reqline)
{
	size_t count = 0, start = 0;

	*reqline = 0;
	for (size_t i = 0; i + 1 < len; i++) {
		if (b[i] != '\r' || b[i + 1] != '\n')
			continue;
		if (!*reqline) {
			*reqline = i;
		} else if (i > start) {
			CHECK(count < max);
			out[count].p = b + start;
			out[count].n = i - start;
			const char *c = memchr(b + start, ':', i - start);
			CHECK(c);
			out[count].name = (size_t)(c - (b + start));
			count++;
		}
		start = i + 2;
		i++;
	}
	return count;
}

/* What libhttp-parser (and so keepwarm) reads as a Connection header. */
static int is_connection(const struct line *l)
{
	return (l->name == 10 && !strncasecmp(l->p, "connection", 10)) ||
	       (l->name == 16 && !strncasecmp(l->p, "proxy-connection", 16));
}

/* Tokens of a Connection line's value: comma-separated, trimmed, non-empty. */
struct tok { const char *p; size_t n; };

static size_t tokens(const struct line *l, struct tok *out, size_t max, int drop_close)
{
	const char *v = l->p + l->name + 1, *end = l->p + l->n;
	size_t count = 0;

	while (v < end) {
		const char *c = memchr(v, ',', (size_t)(end - v));
		const char *s = v, *e = c ? c : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s && !(drop_close && e - s == 5 && !strncasecmp(s, "close", 5))) {
			CHECK(count < max);
			out[count].p = s;
			out[count].n = (size_t)(e - s);
			count++;
		}
		v = c ? c + 1 : end;
	}
	return count;
}

static int has_token(const struct line *l, size_t n, const char *want)
{
	static struct tok t[KW_HEAD_MAX / 2];
	for (size_t i = 0; i < n; i++)
		if (is_connection(&l[i]))
			for (size_t k = 0, m = tokens(&l[i], t, sizeof t / sizeof t[0], 0); k < m; k++)
				if (t[k].n == strlen(want) && !strncasecmp(t[k].p, want, t[k].n))
					return 1;
	return 0;
}

/* ---- libhttp-parser's view ---- */

struct hp {
	http_parser p;
	char url[KW_HEAD_MAX];
	size_t url_len;
	int done, method, major, minor, keep_alive;
};

static int hp_url(http_parser *p, const char *at, size_t n)
{
	struct hp *h = (struct hp *)p;
	CHECK(h->url_len + n <= sizeof h->url);
	memcpy(h->url + h->url_len, at, n);
	h->url_len += n;
	return 0;
}

static int hp_headers(http_parser *p)
{
	struct hp *h = (struct hp *)p;
	h->done = 1;
	h->method = p->method;
	h->major = p->http_major;
	h->minor = p->http_minor;
	h->keep_alive = http_should_keep_alive(p);
	return 1;
}

static const http_parser_settings hp_settings = { .on_url = hp_url,
                                                  .on_headers_complete = hp_headers };

static int hp_parse(struct hp *h, const char *b, size_t n)
{
	memset(h, 0, sizeof *h);
	http_parser_init(&h->p, HTTP_REQUEST);
	http_parser_execute(&h->p, &hp_settings, b, n);
	return h->done && HTTP_PARSER_ERRNO(&h->p) == HPE_OK;
}

/* ---- the properties ---- */

static struct line before[KW_HEAD_MAX / 2], after[KW_HEAD_MAX / 2];
static struct tok tb[KW_HEAD_MAX / 2], ta[KW_HEAD_MAX / 2];
static struct hp hp_before, hp_after;

static void check_upgrade(const char *in, const struct kw_head *h)
{
	size_t cap = 2 * h->len + 64, n, reql_in, reql_out, nb, na, j = 0;
	char *out = malloc(cap);
	struct kw_head h2;
	int ka_before, added = 0;

	CHECK(out);
	n = kw_head_upgrade(in, h, out, cap);
	if (!n) {
		/* Refused: libhttp-parser would still read the rewritten head as a
		 * close request (its token matching differs on some lists). Leaving
		 * the request alone is always safe. */
		free(out);
		return;
	}
	CHECK(n <= cap);
	char *exact = malloc(n);
	CHECK(exact);
	memcpy(exact, out, n);
	free(out);

	/* (a) and (b) */
	CHECK(kw_head_parse(exact, n, &h2) == KW_HEAD_OK);
	CHECK(h2.len == n);
	CHECK(!h2.close_style);
	CHECK(h2.minor == h->minor && h2.idempotent == h->idempotent &&
	      h2.idempotency_key == h->idempotency_key && h2.chunked == h->chunked &&
	      h2.content_length == h->content_length);
	nb = split_lines(in, h->len, before, sizeof before / sizeof before[0], &reql_in);
	na = split_lines(exact, n, after, sizeof after / sizeof after[0], &reql_out);
	CHECK(reql_in == reql_out && !memcmp(in, exact, reql_in));

	/* (c) line by line, in order */
	ka_before = has_token(before, nb, "keep-alive");
	for (size_t i = 0; i < nb; i++) {
		/* Lines other than Connection, and Connection lines without a close
		 * token (even empty ones), stay byte for byte. */
		if (!is_connection(&before[i]) || !has_token(&before[i], 1, "close")) {
			CHECK(j < na && after[j].n == before[i].n && !memcmp(after[j].p, before[i].p, before[i].n));
			j++;
			continue;
		}
		size_t kb = tokens(&before[i], tb, sizeof tb / sizeof tb[0], 1);
		if (!kb)
			continue; /* only close: dropped */
		CHECK(j < na && is_connection(&after[j]) && after[j].name == before[i].name &&
		      !memcmp(after[j].p, before[i].p, before[i].name));
		size_t ka = tokens(&after[j], ta, sizeof ta / sizeof ta[0], 0);
		CHECK(ka == kb);
		for (size_t k = 0; k < kb; k++)
			CHECK(ta[k].n == tb[k].n && !memcmp(ta[k].p, tb[k].p, tb[k].n));
		j++;
	}
	if (h->minor == 0 && !ka_before) {
		CHECK(j < na && after[j].n == 22 && !memcmp(after[j].p, "Connection: keep-alive", 22));
		j++;
		added = 1;
	}
	CHECK(j == na);
	(void)added;

	/* (d) libhttp-parser */
	if (hp_parse(&hp_before, in, h->len)) {
		CHECK(hp_parse(&hp_after, exact, n));
		CHECK(hp_after.method == hp_before.method && hp_after.major == hp_before.major &&
		      hp_after.minor == hp_before.minor && hp_after.url_len == hp_before.url_len &&
		      !memcmp(hp_after.url, hp_before.url, hp_after.url_len));
		const char *m = http_method_str(hp_before.method);
		CHECK(memchr(in, ' ', reql_in) == in + strlen(m) && !memcmp(in, m, strlen(m)));
		CHECK(hp_after.keep_alive);
	}

	/* One byte short: 0, nothing written past the buffer (ASan). */
	char *small = malloc(n - 1 ? n - 1 : 1);
	CHECK(small);
	CHECK(kw_head_upgrade(in, h, small, n - 1) == 0);
	free(small);
	/* Exactly enough: the same bytes. */
	size_t slack = 0;
	small = malloc(n + slack);
	CHECK(small);
	CHECK(kw_head_upgrade(in, h, small, n + slack) == n && !memcmp(small, exact, n));
	free(small);
	free(exact);
}

/* The same bytes read as a response to an upgraded request: restoring its
 * head only ever shrinks it, leaves the status line and everything after
 * the head alone, leaves no keep-alive token in a Connection line, and is
 * idempotent. */
/* libhttp-parser's reading of a response head: 1 when it reads exactly
 * head bytes as one head of a final HTTP/1.x response. */
static int hp_resp_status;

static int hp_resp_headers(http_parser *p)
{
	hp_resp_status = p->http_major == 1 && p->http_minor <= 1 ? (int)p->status_code : 0;
	return 0;
}

static const http_parser_settings hp_resp_settings = { .on_headers_complete = hp_resp_headers };

static int hp_final_response(const char *b, size_t head)
{
	http_parser p;

	hp_resp_status = 0;
	http_parser_init(&p, HTTP_RESPONSE);
	return http_parser_execute(&p, &hp_resp_settings, b, head) == head &&
	       HTTP_PARSER_ERRNO(&p) == HPE_OK && hp_resp_status >= 200;
}

static void check_restore(const uint8_t *data, size_t size)
{
	const char *end = NULL;
	char *buf, *again;
	size_t head, n, n2;

	for (size_t i = 0; i + 3 < size; i++)
		if (!memcmp(data + i, "\r\n\r\n", 4)) {
			end = (const char *)data + i + 4;
			break;
		}
	buf = malloc(size ? size : 1);
	CHECK(buf);
	memcpy(buf, data, size);
	head = kw_response_head_final(buf, size);
	/* 0, or the first blank line of a head libhttp-parser reads as final. */
	CHECK(!head || (end && head == (size_t)(end - (const char *)data) && hp_final_response(buf, head)));
	CHECK(!memcmp(buf, data, size));
	if (!end) {
		free(buf);
		return;
	}
	/* Restoring is checked on every head, final or not (it must be safe
	 * on any bytes it is given). */
	head = (size_t)(end - (const char *)data);
	n = kw_response_restore_close(buf, head, size);
	CHECK(n <= size);
	CHECK(!memcmp(buf + n - (size - head), data + head, size - head));
	const char *eol = memchr(data, '\n', head);
	if (eol)
		CHECK(!memcmp(buf, data, (size_t)(eol - (const char *)data) + 1));
	again = malloc(n ? n : 1);
	CHECK(again);
	memcpy(again, buf, n);
	n2 = kw_response_restore_close(again, head - (size - n), n);
	CHECK(n2 == n && !memcmp(again, buf, n));
	free(again);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_restore(data, size);
	char *in;
	struct kw_head h, h2;
	enum kw_head_status st;

	if (size > 2 * KW_HEAD_MAX)
		return 0;
	in = malloc(size ? size : 1);
	CHECK(in);
	memcpy(in, data, size);
	st = kw_head_parse(in, size, &h);
	if (size < KW_HEAD_MAX)
		CHECK(st != KW_HEAD_INCOMPLETE || !memmem(in, size, "\r\n\r\n", 4));
	if (st == KW_HEAD_OK) {
		CHECK(h.len >= 4 && h.len <= size && h.len <= KW_HEAD_MAX);
		CHECK(!memcmp(in + h.len - 4, "\r\n\r\n", 4));
		CHECK(!memmem(in, h.len - 2, "\r\n\r\n", 4));
		CHECK(h.minor == 0 || h.minor == 1);
		CHECK(h.content_length >= -1);
		/* libhttp-parser read it: the fields are its reading. */
		CHECK(hp_parse(&hp_before, in, h.len));
		CHECK(h.minor == hp_before.minor && h.close_style == !hp_before.keep_alive &&
		      h.idempotent == kw_method_idempotent((unsigned)hp_before.method));
		/* The head alone gives the same answer; a prefix is incomplete. */
		char *head = malloc(h.len);
		CHECK(head);
		memcpy(head, in, h.len);
		CHECK(kw_head_parse(head, h.len, &h2) == KW_HEAD_OK && !memcmp(&h, &h2, sizeof h));
		CHECK(kw_head_parse(head, h.len - 1, &h2) == KW_HEAD_INCOMPLETE);
		CHECK(kw_head_parse(head, h.len / 2, &h2) == KW_HEAD_INCOMPLETE);
		if (h.close_style)
			check_upgrade(head, &h);
		else
			CHECK(kw_head_upgrade(head, &h, in, 0) == 0);
		free(head);
	}
	free(in);
	return 0;
}
