/* test_stats.c - unit tests for shim/logic/stats.h: counters, histograms, the
 * Prometheus text, the "other" destination. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logic/stats.h"

static struct kw_dest dest(unsigned port)
{
	struct kw_dest d;
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	kw_dest_from_sockaddr(&d, (struct sockaddr *)&in, sizeof in);
	return d;
}

static const struct kw_stats_labels labels = { "on", 42, "my prog\"", "0.1.0" };

static char *format(const struct kw_stats *s)
{
	size_t need = kw_stats_format(s, &labels, NULL, 0);
	char *buf = malloc(need + 1);
	ck_assert_uint_eq(kw_stats_format(s, &labels, buf, need + 1), need);
	ck_assert_uint_eq(strlen(buf), need);
	return buf;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* The stats counter a trace event name adds to, or -1 (the catalogue's
 * event -> counter column). */
static int kw_stats_event_for(const char *name)
{
	int e = kw_event_from_name(name);
	enum kw_counter c = e < 0 ? KW_COUNTER_NONE : kw_event_counter((enum kw_event)e);
	return c == KW_COUNTER_NONE ? -1 : (int)c;
}

START_TEST(test_event_names)
{
	ck_assert_int_eq(kw_stats_event_for("dial"), KW_COUNTER_DIALED);
	ck_assert_int_eq(kw_stats_event_for("reuse"), KW_COUNTER_REUSED);
	ck_assert_int_eq(kw_stats_event_for("taint"), KW_COUNTER_TAINTED);
	ck_assert_int_eq(kw_stats_event_for("start"), -1);
	ck_assert_int_eq(kw_stats_event_for("nonsense"), -1);
}
END_TEST

START_TEST(test_counts_and_text)
{
	struct kw_stats s;
	struct kw_dest a = dest(8080);
	char *t;

	kw_stats_reset(&s);
	kw_stats_count(&s, KW_COUNTER_DIALED);
	kw_stats_count(&s, KW_COUNTER_REUSED);
	kw_stats_count(&s, KW_COUNTER_REUSED);
	kw_stats_connection(&s, &a, false, 0);
	kw_stats_connection(&s, &a, true, 300);
	kw_stats_connection(&s, &a, true, 7000);
	kw_stats_request(&s, &a, 400);     /* <= 0.0005 */
	kw_stats_request(&s, &a, 1500);    /* <= 0.0025 */
	kw_stats_request(&s, &a, 20000000); /* +Inf */
	t = format(&s);
	ck_assert(has_line(t, "keepwarm_info{arm=\"on\",pid=\"42\",program=\"myprog\",version=\"0.1.0\"} 1"));
	ck_assert(has_line(t, "keepwarm_events_total{arm=\"on\",pid=\"42\",event=\"dialed\"} 1"));
	ck_assert(has_line(t, "keepwarm_events_total{arm=\"on\",pid=\"42\",event=\"reused\"} 2"));
	ck_assert(has_line(t, "keepwarm_events_total{arm=\"on\",pid=\"42\",event=\"drains\"} 0"));
	ck_assert(has_line(t, "keepwarm_requests_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\"} 3"));
	ck_assert(has_line(t, "keepwarm_connections_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",how=\"dialed\"} 1"));
	ck_assert(has_line(t, "keepwarm_connections_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",how=\"reused\"} 2"));
	/* Cumulative buckets. */
	ck_assert(has_line(t, "keepwarm_request_duration_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",le=\"0.0005\"} 1"));
	ck_assert(has_line(t, "keepwarm_request_duration_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",le=\"0.001\"} 1"));
	ck_assert(has_line(t, "keepwarm_request_duration_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",le=\"0.0025\"} 2"));
	ck_assert(has_line(t, "keepwarm_request_duration_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",le=\"10\"} 2"));
	ck_assert(has_line(t, "keepwarm_request_duration_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",le=\"+Inf\"} 3"));
	ck_assert(has_line(t, "keepwarm_request_duration_seconds_sum{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\"} 20.001900"));
	ck_assert(has_line(t, "keepwarm_request_duration_seconds_count{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\"} 3"));
	ck_assert(has_line(t, "keepwarm_idle_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",le=\"0.0005\"} 1"));
	ck_assert(has_line(t, "keepwarm_idle_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",le=\"0.01\"} 2"));
	ck_assert(has_line(t, "# TYPE keepwarm_request_duration_seconds histogram"));
	free(t);
}
END_TEST

START_TEST(test_other_destination)
{
	struct kw_stats s;
	char *t;

	kw_stats_reset(&s);
	for (unsigned p = 1; p <= KW_STATS_MAX_DESTS + 5; p++)
		kw_stats_request(&s, &(struct kw_dest){ .family = AF_INET, .port = htons((uint16_t)p) }, 10);
	t = format(&s);
	ck_assert(has_line(t, "keepwarm_requests_total{arm=\"on\",pid=\"42\",dest=\"other\"} 5"));
	free(t);
}
END_TEST

START_TEST(test_small_buffer)
{
	struct kw_stats s;
	char buf[16];
	size_t need;

	kw_stats_reset(&s);
	need = kw_stats_format(&s, &labels, buf, sizeof buf);
	ck_assert_uint_gt(need, sizeof buf);
	ck_assert_uint_eq(strlen(buf), sizeof buf - 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_event_names);
	tcase_add_test(tc, test_counts_and_text);
	tcase_add_test(tc, test_other_destination);
	tcase_add_test(tc, test_small_buffer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
