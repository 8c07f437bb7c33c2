/* test_trace.c - unit tests for shim/logic/trace.h. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logic/trace.h"

static struct kw_dest dest4(const char *ip, uint16_t port)
{
	struct sockaddr_in a;
	struct kw_dest d;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a, sizeof a), 0);
	return d;
}

static struct kw_dest dest6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a;
	struct kw_dest d;
	memset(&a, 0, sizeof a);
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a, sizeof a), 0);
	return d;
}

static const char *fmt(char *buf, size_t size, uint64_t wall_ms, pid_t pid,
                       const struct kw_trace_event *ev)
{
	size_t n = kw_trace_format(buf, size, wall_ms, pid, ev);
	ck_assert_uint_eq(n, strlen(buf));
	return buf;
}

START_TEST(test_format_full)
{
	char buf[KW_TRACE_LINE_MAX];
	struct kw_dest d = dest4("127.0.0.1", 8080);
	struct kw_trace_event ev = {
		.event = "park", .fd = 7, .dest = &d, .reason = "idle",
		.idle_ms = 1234, .requests = 3,
	};
	ck_assert_str_eq(fmt(buf, sizeof buf, 0, 42, &ev),
	                 "ts=1970-01-01T00:00:00.000Z pid=42 event=park fd=7 dest=127.0.0.1:8080"
	                 " reason=idle idle_ms=1234 requests=3\n");
}
END_TEST

START_TEST(test_format_request)
{
	char buf[KW_TRACE_LINE_MAX];
	struct kw_dest d = dest4("127.0.0.1", 8080);
	struct kw_trace_event ev = {
		.event = "request", .fd = 5, .dest = &d, .idle_ms = -1, .requests = 1,
		.latency = true, .wait_us = 21870, .request_us = 11005,
	};
	ck_assert_str_eq(fmt(buf, sizeof buf, 0, 42, &ev),
	                 "ts=1970-01-01T00:00:00.000Z pid=42 event=request fd=5 dest=127.0.0.1:8080"
	                 " requests=1 ms=21.870 request_ms=11.005\n");
}
END_TEST

START_TEST(test_format_redirect)
{
	char buf[KW_TRACE_LINE_MAX];
	struct kw_trace_event ev = {
		.event = "redirect", .fd = -1, .idle_ms = -1, .requests = -1,
		.object = "/opt/my lib/libcurl.so.4", .redirected = 21,
	};
	ck_assert_str_eq(fmt(buf, sizeof buf, 0, 42, &ev),
	                 "ts=1970-01-01T00:00:00.000Z pid=42 event=redirect"
	                 " object=/opt/my%20lib/libcurl.so.4 redirected=21\n");
	ev.redirected = -1;
	ev.reason = "object-unreadable";
	ck_assert_str_eq(fmt(buf, sizeof buf, 0, 42, &ev),
	                 "ts=1970-01-01T00:00:00.000Z pid=42 event=redirect reason=object-unreadable"
	                 " object=/opt/my%20lib/libcurl.so.4\n");
}
END_TEST

START_TEST(test_format_optional_omitted)
{
	char buf[KW_TRACE_LINE_MAX];
	struct kw_dest d6 = dest6("::1", 443);
	struct kw_trace_event ev = {
		.event = "dial", .fd = 3, .dest = &d6, .reason = NULL,
		.idle_ms = -1, .requests = -1,
	};
	ck_assert_str_eq(fmt(buf, sizeof buf, 1700000000123ULL, 1, &ev),
	                 "ts=2023-11-14T22:13:20.123Z pid=1 event=dial fd=3 dest=[::1]:443\n");

	/* Each optional field on its own. */
	ev.reason = "max_requests";
	ck_assert_str_eq(fmt(buf, sizeof buf, 1700000000123ULL, 1, &ev),
	                 "ts=2023-11-14T22:13:20.123Z pid=1 event=dial fd=3 dest=[::1]:443"
	                 " reason=max_requests\n");
	ev.reason = NULL;
	ev.idle_ms = 0; /* zero is a value, not "omit" */
	ck_assert_str_eq(fmt(buf, sizeof buf, 1700000000123ULL, 1, &ev),
	                 "ts=2023-11-14T22:13:20.123Z pid=1 event=dial fd=3 dest=[::1]:443"
	                 " idle_ms=0\n");
	ev.idle_ms = -1;
	ev.requests = 0;
	ck_assert_str_eq(fmt(buf, sizeof buf, 1700000000123ULL, 1, &ev),
	                 "ts=2023-11-14T22:13:20.123Z pid=1 event=dial fd=3 dest=[::1]:443"
	                 " requests=0\n");
	ev.requests = -1;

	/* A TLS destination: tls=1 right after dest; a tls line's library last. */
	d6.tls = 1;
	ev.event = "tls";
	ev.library = "gnutls";
	ck_assert_str_eq(fmt(buf, sizeof buf, 1700000000123ULL, 1, &ev),
	                 "ts=2023-11-14T22:13:20.123Z pid=1 event=tls fd=3 dest=[::1]:443 tls=1"
	                 " library=gnutls\n");
	ev.library = NULL;
	ev.event = "discard";
	ev.reason = "tls-not-pooled";
	ev.requests = 2;
	ck_assert_str_eq(fmt(buf, sizeof buf, 1700000000123ULL, 1, &ev),
	                 "ts=2023-11-14T22:13:20.123Z pid=1 event=discard fd=3 dest=[::1]:443 tls=1"
	                 " reason=tls-not-pooled requests=2\n");
}
END_TEST

/* fd -1 means "none": the header's format line shows fd=<n> unbracketed, so
 * both "fd=-1" and leaving the field out are accepted. dest NULL is left out. */
static void check_no_fd_line(const char *got, const char *head, const char *tail)
{
	char with_fd[KW_TRACE_LINE_MAX], without_fd[KW_TRACE_LINE_MAX];
	snprintf(with_fd, sizeof with_fd, "%s fd=-1%s", head, tail);
	snprintf(without_fd, sizeof without_fd, "%s%s", head, tail);
	ck_assert_msg(strcmp(got, with_fd) == 0 || strcmp(got, without_fd) == 0,
	              "got '%s', want '%s' (or without fd=-1)", got, with_fd);
}

START_TEST(test_format_no_dest)
{
	char buf[KW_TRACE_LINE_MAX];
	struct kw_trace_event ev = {
		.event = "passthrough", .fd = -1, .dest = NULL, .reason = NULL,
		.idle_ms = -1, .requests = -1,
	};
	check_no_fd_line(fmt(buf, sizeof buf, 86400000ULL + 3723004ULL, 999, &ev),
	                 "ts=1970-01-02T01:02:03.004Z pid=999 event=passthrough", "\n");
	ev.reason = "disabled";
	ev.requests = 17;
	check_no_fd_line(fmt(buf, sizeof buf, 86400000ULL + 3723004ULL, 999, &ev),
	                 "ts=1970-01-02T01:02:03.004Z pid=999 event=passthrough",
	                 " reason=disabled requests=17\n");

	/* A real fd with no destination: fd kept, dest left out. */
	ev.fd = 0;
	ev.reason = NULL;
	ev.requests = -1;
	ck_assert_str_eq(fmt(buf, sizeof buf, 0, 999, &ev),
	                 "ts=1970-01-01T00:00:00.000Z pid=999 event=passthrough fd=0\n");
}
END_TEST

struct ts_case {
	uint64_t ms;
	const char *ts;
};

static const struct ts_case ts_cases[] = {
	{ 0, "1970-01-01T00:00:00.000Z" },
	{ 999, "1970-01-01T00:00:00.999Z" },
	{ 1000, "1970-01-01T00:00:01.000Z" },
	{ 951782400000ULL, "2000-02-29T00:00:00.000Z" },
	{ 1700000000123ULL, "2023-11-14T22:13:20.123Z" },
	{ 1735689599999ULL, "2024-12-31T23:59:59.999Z" },
	{ 4102444800001ULL, "2100-01-01T00:00:00.001Z" },
};

START_TEST(test_format_timestamps)
{
	const struct ts_case *c = &ts_cases[_i];
	char buf[KW_TRACE_LINE_MAX], want[64];
	struct kw_trace_event ev = { .event = "x", .fd = 0, .idle_ms = -1, .requests = -1 };
	fmt(buf, sizeof buf, c->ms, 5, &ev);
	snprintf(want, sizeof want, "ts=%s ", c->ts);
	ck_assert_msg(strncmp(buf, want, strlen(want)) == 0, "wall_ms %llu: got '%s', want '%s...'",
	              (unsigned long long)c->ms, buf, want);
}
END_TEST

START_TEST(test_format_truncation)
{
	char full[KW_TRACE_LINE_MAX];
	struct kw_dest d = dest4("10.20.30.40", 65535);
	struct kw_trace_event ev = {
		.event = "evict", .fd = 12345, .dest = &d, .reason = "per_host_cap",
		.idle_ms = 987654321, .requests = 1000000,
	};
	size_t flen = kw_trace_format(full, sizeof full, 1700000000123ULL, 123456, &ev);
	ck_assert_uint_eq(flen, strlen(full));
	ck_assert_uint_gt(flen, 40);
	ck_assert(full[flen - 1] == '\n');

	for (size_t size = 1; size <= flen + 3; size++) {
		char buf[KW_TRACE_LINE_MAX + 16];
		memset(buf, '#', sizeof buf);
		size_t n = kw_trace_format(buf, size, 1700000000123ULL, 123456, &ev);
		size_t want = flen < size - 1 ? flen : size - 1;
		ck_assert_msg(n == want, "size %zu: returned %zu, want %zu", size, n, want);
		ck_assert_msg(buf[n] == '\0', "size %zu: not terminated at %zu", size, n);
		/* A prefix of the full line; a truncated line may keep its newline. */
		ck_assert_msg(memcmp(buf, full, n) == 0 ||
		              (n > 0 && buf[n - 1] == '\n' && memcmp(buf, full, n - 1) == 0),
		              "size %zu: '%s' is not a prefix of the line", size, buf);
		ck_assert_msg(buf[size] == '#', "size %zu: wrote past the buffer", size);
	}

	/* size 0 writes nothing at all. */
	char canary[4] = { '#', '#', '#', '#' };
	kw_trace_format(canary, 0, 0, 1, &ev);
	ck_assert(canary[0] == '#' && canary[1] == '#');
}
END_TEST

START_TEST(test_format_long_reason_bounded)
{
	static char reason[4 * KW_TRACE_LINE_MAX];
	memset(reason, 'r', sizeof reason - 1);
	reason[sizeof reason - 1] = '\0';
	struct kw_trace_event ev = { .event = "taint", .fd = 1, .reason = reason,
	                             .idle_ms = -1, .requests = -1 };
	char buf[KW_TRACE_LINE_MAX + 8];
	memset(buf, '#', sizeof buf);
	size_t n = kw_trace_format(buf, KW_TRACE_LINE_MAX, 0, 1, &ev);
	ck_assert_uint_le(n, KW_TRACE_LINE_MAX - 1);
	ck_assert_uint_eq(n, strlen(buf));
	ck_assert(buf[KW_TRACE_LINE_MAX] == '#');
}
END_TEST

/* ---- emit ---------------------------------------------------------------- */

static int write_calls;
static int write_fail; /* make the writer fail with EBADF */

static ssize_t counting_write(int fd, const void *buf, size_t len)
{
	write_calls++;
	if (write_fail) {
		errno = EBADF;
		return -1;
	}
	errno = EINTR; /* clobber errno even on success */
	return write(fd, buf, len);
}

static const char line_re[] =
	"^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z pid=([0-9]+)"
	" event=reuse fd=9 dest=127\\.0\\.0\\.1:80 reason=lifo idle_ms=15 requests=2\n$";

START_TEST(test_emit_one_line_one_write)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	write_calls = 0;
	write_fail = 0;
	kw_trace_set_sink(p[1], counting_write);
	ck_assert_int_eq(kw_trace_fd(), p[1]);

	struct kw_dest d = dest4("127.0.0.1", 80);
	struct kw_trace_event ev = { .event = "reuse", .fd = 9, .dest = &d, .reason = "lifo",
	                             .idle_ms = 15, .requests = 2 };
	errno = ENOENT;
	kw_trace_emit(&ev);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(write_calls, 1);

	char buf[KW_TRACE_LINE_MAX * 2];
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_eq(strchr(buf, '\n'), buf + n - 1); /* exactly one line */

	regex_t re;
	regmatch_t m[2];
	ck_assert_int_eq(regcomp(&re, line_re, REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, buf, 2, m, 0) == 0, "line does not match: '%s'", buf);
	char pid[32];
	snprintf(pid, sizeof pid, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), buf + m[1].rm_so);
	ck_assert_int_eq(atoi(pid), getpid());
	regfree(&re);

	/* Nothing more in the pipe. */
	ck_assert_int_eq(read(p[0], buf, sizeof buf), -1);

	/* A second event is a second single write. */
	errno = 0;
	kw_trace_emit(&ev);
	ck_assert_int_eq(errno, 0);
	ck_assert_int_eq(write_calls, 2);

	kw_trace_set_sink(-1, counting_write);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_emit_keeps_errno_on_write_failure)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	write_calls = 0;
	write_fail = 1;
	kw_trace_set_sink(p[1], counting_write);
	struct kw_trace_event ev = { .event = "stale", .fd = 4, .idle_ms = -1, .requests = -1 };
	errno = EAGAIN;
	kw_trace_emit(&ev);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_ge(write_calls, 1);
	kw_trace_set_sink(-1, counting_write);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_emit_off)
{
	write_calls = 0;
	write_fail = 0;
	kw_trace_set_sink(-1, counting_write);
	ck_assert_int_eq(kw_trace_fd(), -1);
	struct kw_trace_event ev = { .event = "dial", .fd = 4, .idle_ms = -1, .requests = -1 };
	errno = ECONNREFUSED;
	kw_trace_emit(&ev);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(write_calls, 0);

	/* On, then off again. */
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	kw_trace_set_sink(p[1], counting_write);
	ck_assert_int_eq(kw_trace_fd(), p[1]);
	kw_trace_set_sink(-1, counting_write);
	ck_assert_int_eq(kw_trace_fd(), -1);
	kw_trace_emit(&ev);
	ck_assert_int_eq(write_calls, 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), -1);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_emit_long_line_single_write)
{
	static char reason[2 * KW_TRACE_LINE_MAX];
	memset(reason, 'z', sizeof reason - 1);
	reason[sizeof reason - 1] = '\0';
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	write_calls = 0;
	write_fail = 0;
	kw_trace_set_sink(p[1], counting_write);
	struct kw_trace_event ev = { .event = "taint", .fd = 4, .reason = reason,
	                             .idle_ms = -1, .requests = -1 };
	kw_trace_emit(&ev);
	ck_assert_int_eq(write_calls, 1);
	char buf[4 * KW_TRACE_LINE_MAX];
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	ssize_t n = read(p[0], buf, sizeof buf);
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, KW_TRACE_LINE_MAX);
	kw_trace_set_sink(-1, counting_write);
	close(p[0]);
	close(p[1]);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, test_format_full);
	tcase_add_test(tc, test_format_request);
	tcase_add_test(tc, test_format_redirect);
	tcase_add_test(tc, test_format_optional_omitted);
	tcase_add_test(tc, test_format_no_dest);
	tcase_add_loop_test(tc, test_format_timestamps, 0, N(ts_cases));
	tcase_add_test(tc, test_format_truncation);
	tcase_add_test(tc, test_format_long_reason_bounded);
	suite_add_tcase(s, tc);
	tc = tcase_create("emit");
	tcase_add_test(tc, test_emit_one_line_one_write);
	tcase_add_test(tc, test_emit_keeps_errno_on_write_failure);
	tcase_add_test(tc, test_emit_off);
	tcase_add_test(tc, test_emit_long_line_single_write);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(trace_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
