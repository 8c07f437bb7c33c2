/* client_resp.c - what a response should be (derived from the target, see
 * tests/server/PROTOCOL.md) and the push parser that checks it; see struct
 * kc_resp in client_common.h. */
#include "client_common.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pattern.h"


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
	if (r->opts->close_early && r->state >= KC_ST_BODY_CL)
		return true; /* headers are in: the program stops here */
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
	if (r->opts->close_early)
		return r->status == 200 ? 0 : resp_fail(r, "status %d, expected 200", r->status);
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
