/* http_track.c - follow one connection's HTTP/1.x requests and responses with
 * libhttp-parser, to know when it rests between messages. */
#include "logic/http_track.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REQ(p)  ((struct kw_track *)((char *)(p) - offsetof(struct kw_track, request)))
#define RESP(p) ((struct kw_track *)((char *)(p) - offsetof(struct kw_track, response)))

enum { HDR_FIELD, HDR_KA_VALUE, HDR_OTHER_VALUE };
#define HDR_MISMATCH 0xff

static const char keep_alive_name[] = "keep-alive";

void kw_track_let_go(struct kw_track *t, enum kw_reason reason)
{
	if (t->status == KW_TRACK_LET_GO)
		return;
	t->status = KW_TRACK_LET_GO;
	t->reason = reason;
}

static bool is_http1(const http_parser *p)
{
	return p->http_major == 1 && p->http_minor <= 1;
}

/* ---- request side ---- */

static int req_message_begin(http_parser *p)
{
	struct kw_track *t = REQ(p);
	t->request_open = true;
	t->request_begin_us = t->now_us;
	t->request_asked_us = t->asked_us ? t->asked_us : t->now_us;
	t->asked_us = 0;
	return 0;
}

static int req_headers_complete(http_parser *p)
{
	struct kw_track *t = REQ(p);

	if (!is_http1(p)) {
		kw_track_let_go(t, KW_REASON_NOT_HTTP1);
		return -1;
	}
	if (p->method == HTTP_CONNECT) {
		kw_track_let_go(t, KW_REASON_CONNECT);
		return -1;
	}
	if (p->upgrade) {
		kw_track_let_go(t, KW_REASON_UPGRADE);
		return -1;
	}
	/* Still followed, so its exchange is measured; it just never parks. */
	if (!http_should_keep_alive(p))
		t->close_requested = true;
	if (t->pending_count == KW_TRACK_MAX_PENDING) {
		kw_track_let_go(t, KW_REASON_TOO_MANY_PIPELINED);
		return -1;
	}
	unsigned slot = (t->pending_first + t->pending_count) % KW_TRACK_MAX_PENDING;
	t->pending_head[slot] = p->method == HTTP_HEAD;
	t->pending_start_us[slot] = t->request_begin_us;
	t->pending_asked_us[slot] = t->request_asked_us;
	t->pending_count++;
	t->requests++;
	t->saw_request = true;
	return 0;
}

static int req_message_complete(http_parser *p)
{
	REQ(p)->request_open = false;
	return 0;
}

static const http_parser_settings request_settings = {
	.on_message_begin = req_message_begin,
	.on_headers_complete = req_headers_complete,
	.on_message_complete = req_message_complete,
};

/* ---- response side ---- */

static int resp_message_begin(http_parser *p)
{
	struct kw_track *t = RESP(p);
	t->response_open = true;
	t->hdr_state = HDR_OTHER_VALUE; /* the next field starts a new header */
	t->ka_len = 0;
	return 0;
}

static int resp_header_field(http_parser *p, const char *at, size_t len)
{
	struct kw_track *t = RESP(p);

	if (t->hdr_state != HDR_FIELD) {
		t->hdr_state = HDR_FIELD;
		t->hdr_match = 0;
	}
	for (size_t i = 0; i < len && t->hdr_match != HDR_MISMATCH; i++) {
		if (t->hdr_match < sizeof keep_alive_name - 1 &&
		    tolower((unsigned char)at[i]) == keep_alive_name[t->hdr_match])
			t->hdr_match++;
		else
			t->hdr_match = HDR_MISMATCH;
	}
	return 0;
}

static int resp_header_value(http_parser *p, const char *at, size_t len)
{
	struct kw_track *t = RESP(p);

	if (t->hdr_state == HDR_FIELD) {
		bool ka = t->hdr_match == sizeof keep_alive_name - 1;
		t->hdr_state = ka ? HDR_KA_VALUE : HDR_OTHER_VALUE;
		if (ka)
			t->ka_len = 0; /* the last Keep-Alive header wins */
	}
	if (t->hdr_state != HDR_KA_VALUE)
		return 0;
	for (size_t i = 0; i < len && t->ka_len < KW_TRACK_HDR_MAX - 1; i++)
		t->ka_value[t->ka_len++] = at[i];
	return 0;
}

/* "timeout=5, max=100": either may be missing; junk is ignored. */
static void parse_keep_alive(struct kw_track *t)
{
	char buf[KW_TRACK_HDR_MAX];
	char *save = NULL;

	t->ka_timeout_s = -1;
	t->ka_max = -1;
	memcpy(buf, t->ka_value, t->ka_len);
	buf[t->ka_len] = '\0';
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		char *eq = strchr(tok, '=');
		char *end;
		long v;

		if (!eq)
			continue;
		*eq = '\0';
		v = strtol(eq + 1, &end, 10);
		if (end == eq + 1 || *end || v < 0 || v > 0x7fffffff)
			continue;
		if (!strcasecmp(tok, "timeout"))
			t->ka_timeout_s = (int)v;
		else if (!strcasecmp(tok, "max"))
			t->ka_max = (int)v;
	}
}

static int resp_headers_complete(http_parser *p)
{
	struct kw_track *t = RESP(p);
	unsigned status = p->status_code;
	bool head;

	if (!is_http1(p)) {
		kw_track_let_go(t, KW_REASON_NOT_HTTP1_RESPONSE);
		return -1;
	}
	if (status == 101) {
		kw_track_let_go(t, KW_REASON_UPGRADE);
		return -1;
	}
	if (!t->pending_count) {
		kw_track_let_go(t, KW_REASON_UNSOLICITED_RESPONSE);
		return -1;
	}
	if (status >= 100 && status < 200)
		return 1; /* interim: no body, the final response follows */
	parse_keep_alive(t);
	head = t->pending_head[t->pending_first];
	return (head || status == 204 || status == 304) ? 1 : 0;
}

static int resp_message_complete(http_parser *p)
{
	struct kw_track *t = RESP(p);

	t->response_open = false;
	if (p->status_code >= 100 && p->status_code < 200)
		return 0;
	if (t->on_answer)
		t->on_answer(t->answer_arg, t->now_us - t->pending_start_us[t->pending_first],
		             t->now_us - t->pending_asked_us[t->pending_first]);
	t->pending_first = (t->pending_first + 1) % KW_TRACK_MAX_PENDING;
	t->pending_count--;
	t->responses++;
	if (!http_should_keep_alive(p)) {
		kw_track_let_go(t, KW_REASON_RESPONSE_CLOSE);
		return -1;
	}
	return 0;
}

static const http_parser_settings response_settings = {
	.on_message_begin = resp_message_begin,
	.on_header_field = resp_header_field,
	.on_header_value = resp_header_value,
	.on_headers_complete = resp_headers_complete,
	.on_message_complete = resp_message_complete,
};

/* ---- feeding ---- */

void kw_track_set_observer(struct kw_track *t, kw_answer_fn fn, void *arg)
{
	t->on_answer = fn;
	t->answer_arg = arg;
}

void kw_track_oldest_times(const struct kw_track *t, uint64_t *begin_us, uint64_t *asked_us)
{
	if (t->pending_count) {
		*begin_us = t->pending_start_us[t->pending_first];
		*asked_us = t->pending_asked_us[t->pending_first];
	} else {
		*begin_us = t->request_begin_us;
		*asked_us = t->request_asked_us;
	}
}

void kw_track_init(struct kw_track *t)
{
	memset(t, 0, sizeof *t);
	http_parser_init(&t->request, HTTP_REQUEST);
	http_parser_init(&t->response, HTTP_RESPONSE);
	t->status = KW_TRACK_FOLLOWING;
	t->reason = KW_REASON_NONE;
	t->ka_timeout_s = -1;
	t->ka_max = -1;
}

static void feed(struct kw_track *t, http_parser *p, const http_parser_settings *s,
                 const void *buf, size_t len, enum kw_reason malformed)
{
	size_t used;

	if (t->status != KW_TRACK_FOLLOWING || !len)
		return;
	used = http_parser_execute(p, s, buf, len);
	/* Judged after the bytes: a valid request followed by junk is the same
	 * however the program's writes split it. */
	if (malformed == KW_REASON_NONE)
		malformed = t->saw_request ? KW_REASON_MALFORMED_REQUEST : KW_REASON_NOT_HTTP;
	if (t->status == KW_TRACK_FOLLOWING && (used != len || HTTP_PARSER_ERRNO(p) != HPE_OK))
		kw_track_let_go(t, p->upgrade ? KW_REASON_UPGRADE : malformed);
}

enum kw_track_status kw_track_request(struct kw_track *t, const void *buf, size_t len)
{
	feed(t, &t->request, &request_settings, buf, len, KW_REASON_NONE);
	return t->status;
}

enum kw_track_status kw_track_response(struct kw_track *t, const void *buf, size_t len)
{
	if (len && !t->saw_request && t->status == KW_TRACK_FOLLOWING)
		kw_track_let_go(t, KW_REASON_SERVER_SPOKE_FIRST);
	feed(t, &t->response, &response_settings, buf, len, KW_REASON_MALFORMED_RESPONSE);
	return t->status;
}

typedef enum kw_track_status (*feed_fn)(struct kw_track *, const void *, size_t);

static enum kw_track_status feed_iov(struct kw_track *t, feed_fn fn, const struct iovec *iov,
                                     int iovcnt, size_t n)
{
	for (int i = 0; i < iovcnt && n; i++) {
		size_t take = iov[i].iov_len < n ? iov[i].iov_len : n;
		fn(t, iov[i].iov_base, take);
		n -= take;
	}
	return t->status;
}

enum kw_track_status kw_track_request_iov(struct kw_track *t, const struct iovec *iov,
                                          int iovcnt, size_t n)
{
	return feed_iov(t, kw_track_request, iov, iovcnt, n);
}

enum kw_track_status kw_track_response_iov(struct kw_track *t, const struct iovec *iov,
                                           int iovcnt, size_t n)
{
	return feed_iov(t, kw_track_response, iov, iovcnt, n);
}

void kw_track_response_eof(struct kw_track *t)
{
	if (t->status == KW_TRACK_FOLLOWING)
		http_parser_execute(&t->response, &response_settings, NULL, 0);
	kw_track_let_go(t, KW_REASON_SERVER_CLOSED);
}

long long kw_track_response_left(const struct kw_track *t)
{
	const http_parser *p = &t->response;

	if (!t->response_open || (p->flags & F_CHUNKED) || p->content_length == ULLONG_MAX)
		return -1;
	return p->content_length > LLONG_MAX ? LLONG_MAX : (long long)p->content_length;
}

enum kw_reason kw_track_why_not(const struct kw_track *t)
{
	if (t->status != KW_TRACK_FOLLOWING)
		return t->reason;
	if (!t->saw_request)
		return KW_REASON_NO_REQUEST;
	if (t->close_requested)
		return KW_REASON_REQUEST_CLOSE;
	if (t->request_open)
		return KW_REASON_REQUEST_INCOMPLETE;
	if (t->response_open)
		return KW_REASON_RESPONSE_INCOMPLETE;
	if (t->pending_count)
		return KW_REASON_RESPONSE_PENDING;
	return KW_REASON_NONE;
}

bool kw_track_reusable(const struct kw_track *t)
{
	return kw_track_why_not(t) == KW_REASON_NONE;
}
