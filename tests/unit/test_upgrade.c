/* test_upgrade.c - unit tests for shim/logic/upgrade.h: parsing a request head,
 * upgrading close-style requests, classifying replayable methods. */
#include <check.h>
#include <http_parser.h>
#include <string.h>

#include "logic/upgrade.h"

static enum kw_head_status parse(const char *text, struct kw_head *h)
{
	return kw_head_parse(text, strlen(text), h);
}

/* Upgrade text and compare with want (NULL: not close-style, nothing done). */
static void check_upgrade(const char *text, const char *want)
{
	struct kw_head h;
	char out[1024];
	size_t n;

	ck_assert_int_eq(parse(text, &h), KW_HEAD_OK);
	n = kw_head_upgrade(text, &h, out, sizeof out);
	if (!want) {
		ck_assert_uint_eq(n, 0);
		return;
	}
	ck_assert_uint_eq(n, strlen(want));
	out[n] = '\0';
	ck_assert_str_eq(out, want);
}

START_TEST(test_close_removed)
{
	check_upgrade("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	              "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	check_upgrade("GET / HTTP/1.1\r\nConnection: TE, close\r\nTE: trailers\r\n\r\n",
	              "GET / HTTP/1.1\r\nConnection: TE\r\nTE: trailers\r\n\r\n");
	check_upgrade("GET /x HTTP/1.1\r\nconnection:Close , Upgrade-Insecure\r\n\r\n",
	              "GET /x HTTP/1.1\r\nconnection: Upgrade-Insecure\r\n\r\n");
}
END_TEST

START_TEST(test_http10_gets_keep_alive)
{
	check_upgrade("GET / HTTP/1.0\r\nHost: a\r\n\r\n",
	              "GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
	check_upgrade("GET / HTTP/1.0\r\nConnection: close\r\nUser-Agent: ab\r\n\r\n",
	              "GET / HTTP/1.0\r\nUser-Agent: ab\r\nConnection: keep-alive\r\n\r\n");
	/* Already keep-alive: nothing to do. */
	check_upgrade("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", NULL);
	check_upgrade("GET / HTTP/1.1\r\nHost: a\r\n\r\n", NULL);
}
END_TEST

START_TEST(test_head_fields)
{
	struct kw_head h;

	ck_assert_int_eq(parse("POST /p HTTP/1.1\r\nContent-Length: 12\r\n\r\nhello", &h), KW_HEAD_OK);
	ck_assert(!h.idempotent);
	ck_assert_int_eq(h.content_length, 12);
	ck_assert_uint_eq(h.len, strlen("POST /p HTTP/1.1\r\nContent-Length: 12\r\n\r\n"));
	ck_assert(!h.close_style);
	ck_assert_int_eq(parse("POST /p HTTP/1.1\r\nIdempotency-Key: abc\r\n\r\n", &h), KW_HEAD_OK);
	ck_assert(h.idempotency_key);
	ck_assert_int_eq(parse("PUT /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h), KW_HEAD_OK);
	ck_assert(h.idempotent);
	ck_assert(h.chunked);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: a\r\n", &h), KW_HEAD_INCOMPLETE);
	ck_assert_int_eq(parse("GE", &h), KW_HEAD_INCOMPLETE);
	ck_assert_int_eq(parse("get / HTTP/1.1\r\n\r\n", &h), KW_HEAD_MALFORMED);
	ck_assert_int_eq(parse("GET / HTTP/2.0\r\n\r\n", &h), KW_HEAD_MALFORMED);
	ck_assert_int_eq(parse("GET /\r\n\r\n", &h), KW_HEAD_MALFORMED);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\n folded\r\n\r\n", &h), KW_HEAD_MALFORMED);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", &h), KW_HEAD_MALFORMED);
	ck_assert_int_eq(parse("\x16\x03\x01\x02\x01\r\n\r\n", &h), KW_HEAD_MALFORMED);
}
END_TEST

static void check_restore(const char *in, const char *want)
{
	char buf[512];
	size_t len = strlen(in), head = (size_t)(strstr(in, "\r\n\r\n") - in) + 4, n;

	memcpy(buf, in, len);
	n = kw_response_restore_close(buf, head, len);
	ck_assert_uint_eq(n, strlen(want));
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

START_TEST(test_response_restore)
{
	/* nginx to HTTP/1.1 and HTTP/1.0 keep-alive requests. */
	check_restore("HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
	              "HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc");
	/* Apache: Keep-Alive goes, the token's case does not matter. */
	check_restore("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n\r\nxyz",
	              "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nxyz");
	check_restore("HTTP/1.0 200 OK\r\nConnection: keep-alive, Upgrade\r\n\r\n",
	              "HTTP/1.0 200 OK\r\nConnection: close, Upgrade\r\n\r\n");
	/* Nothing to restore: unchanged, body included. */
	check_restore("HTTP/1.1 204 No Content\r\nX: y\r\n\r\nrest",
	              "HTTP/1.1 204 No Content\r\nX: y\r\n\r\nrest");
}
END_TEST

START_TEST(test_methods)
{
	ck_assert(kw_method_idempotent(HTTP_GET));
	ck_assert(kw_method_idempotent(HTTP_HEAD));
	ck_assert(kw_method_idempotent(HTTP_OPTIONS));
	ck_assert(kw_method_idempotent(HTTP_TRACE));
	ck_assert(kw_method_idempotent(HTTP_PUT));
	ck_assert(kw_method_idempotent(HTTP_DELETE));
	ck_assert(!kw_method_idempotent(HTTP_POST));
	ck_assert(!kw_method_idempotent(HTTP_PATCH));
	ck_assert(!kw_method_idempotent(HTTP_CONNECT));
}
END_TEST

/* libhttp-parser reads the fields; the filter refuses what it reads
 * otherwise than every parser would. */
START_TEST(test_parser_decides)
{
	struct kw_head h;

	/* Unknown to libhttp-parser: not a head we understand. */
	ck_assert_int_eq(parse("FROB / HTTP/1.1\r\n\r\n", &h), KW_HEAD_MALFORMED);
	/* Content-Length as libhttp-parser reads it: a sign, a second value,
	 * or one beside chunked is refused. */
	ck_assert_int_eq(parse("PUT / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", &h), KW_HEAD_MALFORMED);
	ck_assert_int_eq(parse("PUT / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &h),
	                 KW_HEAD_MALFORMED);
	/* Chunked only when it is the last coding, as the parser reads it. */
	ck_assert_int_eq(parse("PUT / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", &h),
	                 KW_HEAD_MALFORMED);
	ck_assert_int_eq(parse("PUT / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h),
	                 KW_HEAD_OK);
	ck_assert(h.chunked);
	/* HTTP/1.0 with both tokens: libhttp-parser (and so the tracker) reads
	 * keep-alive, so it is not close-style and stays as it is. */
	ck_assert_int_eq(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", &h),
	                 KW_HEAD_OK);
	ck_assert(!h.close_style);
	/* A tab after the token: servers read close, libhttp-parser does not.
	 * Not rewritten. */
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nConnection: close\t\r\n\r\n", &h), KW_HEAD_OK);
	ck_assert(!h.rewritable);
	check_upgrade("GET / HTTP/1.1\r\nConnection: close\t\r\n\r\n", NULL);
	/* A request that changes protocol is never rewritten. */
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nConnection: upgrade, close\r\nUpgrade: x\r\n\r\n", &h),
	                 KW_HEAD_OK);
	ck_assert(!h.rewritable);
	/* The method of a head still being written. */
	ck_assert_int_eq(parse("DELETE /x HTTP/1.1\r\nHo", &h), KW_HEAD_INCOMPLETE);
	ck_assert(h.idempotent);
	ck_assert_int_eq(parse("POST /x HTTP/1.1\r\nHo", &h), KW_HEAD_INCOMPLETE);
	ck_assert(!h.idempotent);
	ck_assert_int_eq(parse("GET", &h), KW_HEAD_INCOMPLETE);
	ck_assert(!h.idempotent);
}
END_TEST

START_TEST(test_replayable)
{
	struct kw_head h;
	enum kw_head_status st;

	st = parse("GET / HTTP/1.1\r\n\r\n", &h);
	ck_assert(kw_head_replayable(st, &h, 1000));
	ck_assert(!kw_head_replayable(st, &h, 10)); /* larger than the copy kept */
	st = parse("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", &h);
	ck_assert(!kw_head_replayable(st, &h, 1000));
	st = parse("POST / HTTP/1.1\r\nIdempotency-Key: k\r\nContent-Length: 3\r\n\r\nabc", &h);
	ck_assert(kw_head_replayable(st, &h, 1000));
	ck_assert(!kw_head_replayable(st, &h, h.len + 2)); /* the body does not fit */
	st = parse("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h);
	ck_assert(!kw_head_replayable(st, &h, 1000));
	st = parse("GET /partial HTTP/1.1\r\nHost", &h);
	ck_assert(kw_head_replayable(st, &h, 1000));
	st = parse("get / HTTP/1.1\r\n\r\n", &h);
	ck_assert(!kw_head_replayable(st, &h, 1000));
}
END_TEST

static size_t final(const char *text)
{
	return kw_response_head_final(text, strlen(text));
}

START_TEST(test_response_head_final)
{
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";

	ck_assert_uint_eq(kw_response_head_final(ok, strlen(ok)), strlen(ok) - 3);
	ck_assert_uint_eq(kw_response_head_final(ok, 20), 0);                   /* incomplete */
	ck_assert_uint_eq(final("HTTP/1.1 100 Continue\r\n\r\n"), 0);
	ck_assert_uint_eq(final("HTTP/1.1 103 Early\r\nLink: x\r\n\r\n"), 0);
	ck_assert_uint_eq(final("HTTP/1.0 204 No\r\n\r\n"), 19);
	/* Not a response libhttp-parser reads: left as the server sent it. */
	ck_assert_uint_eq(final("GET / HTTP/1.1\r\n\r\n"), 0);
	ck_assert_uint_eq(final("HTTP/2.0 200 OK\r\n\r\n"), 0);
	ck_assert_uint_eq(final("HTTP/1.1 2000 OK\r\n\r\n"), 0);
}
END_TEST

START_TEST(test_small_output_buffer)
{
	const char *text = "GET / HTTP/1.0\r\nHost: a\r\n\r\n";
	struct kw_head h;
	char out[10];

	ck_assert_int_eq(parse(text, &h), KW_HEAD_OK);
	ck_assert_uint_eq(kw_head_upgrade(text, &h, out, sizeof out), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("upgrade");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_close_removed);
	tcase_add_test(tc, test_http10_gets_keep_alive);
	tcase_add_test(tc, test_head_fields);
	tcase_add_test(tc, test_methods);
	tcase_add_test(tc, test_parser_decides);
	tcase_add_test(tc, test_replayable);
	tcase_add_test(tc, test_response_head_final);
	tcase_add_test(tc, test_response_restore);
	tcase_add_test(tc, test_small_output_buffer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
