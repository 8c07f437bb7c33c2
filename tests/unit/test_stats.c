/* test_stats.c - unit tests for shim/logic/stats.h: counters, histograms, the
 * Prometheus text, the "other" destination. */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
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

static const struct kw_stats_labels labels = { "on", 42, "my prog\"", "0.1.0", "0d41ab",
                                               1795833547120311ULL, 2502338, true, 4200, 3, 150000 };

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

START_TEST(test_reasons_by_tls)
{
	struct kw_stats s;
	struct kw_dest plain = dest(8080), tls = dest(8443);
	char *t;

	tls.tls = 1;
	kw_stats_reset(&s);
	kw_stats_reason(&s, KW_EVENT_DISCARD, KW_REASON_NO_REQUEST, &plain);
	kw_stats_reason(&s, KW_EVENT_DISCARD, KW_REASON_NO_REQUEST, &plain);
	kw_stats_reason(&s, KW_EVENT_DISCARD, KW_REASON_NO_REQUEST, &tls);
	kw_stats_reason(&s, KW_EVENT_PASSTHROUGH, KW_REASON_DEST_RULE, NULL);
	kw_stats_reason(&s, KW_EVENT_TAINT, KW_REASON_DUP, &plain);
	kw_stats_reason(&s, KW_EVENT_DIAL, KW_REASON_BROKER_SLOW, &plain); /* not a let-go: not counted */
	kw_stats_reason(&s, KW_EVENT_DISCARD, KW_REASON_NONE, &plain);
	t = format(&s);
	ck_assert(has_line(t, "# TYPE keepwarm_reasons_total counter"));
	ck_assert(has_line(t, "keepwarm_reasons_total{arm=\"on\",pid=\"42\",event=\"discard\",reason=\"no-request\",tls=\"0\"} 2"));
	ck_assert(has_line(t, "keepwarm_reasons_total{arm=\"on\",pid=\"42\",event=\"discard\",reason=\"no-request\",tls=\"1\"} 1"));
	ck_assert(has_line(t, "keepwarm_reasons_total{arm=\"on\",pid=\"42\",event=\"passthrough\",reason=\"dest-rule\",tls=\"0\"} 1"));
	ck_assert_msg(strstr(t, "reason=\"broker-slow\"") == NULL, "a dial's reason counted");
	ck_assert(has_line(t, "keepwarm_reasons_total{arm=\"on\",pid=\"42\",event=\"taint\",reason=\"dup\",tls=\"0\"} 1"));
	{
		int n = 0;
		for (const char *p = t; (p = strstr(p, "\nkeepwarm_reasons_total{")); p++)
			n++;
		ck_assert_int_eq(n, 4);
	}
	free(t);
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
	kw_stats_request(&s, &a, 400, 400);       /* <= 0.0005 */
	kw_stats_request(&s, &a, 1500, 12000);    /* <= 0.0025; waited <= 0.025 */
	kw_stats_request(&s, &a, 20000000, 20000000); /* +Inf */
	t = format(&s);
	ck_assert(!strncmp(t, "# keepwarm process group 4200\n", 30)); /* the first line */
	ck_assert(has_line(t, "keepwarm_info{arm=\"on\",pid=\"42\",program=\"myprog\",version=\"0.1.0\",build_id=\"0d41ab\"} 1"));
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
	/* The wait: the dial's 12 ms lands two buckets higher. */
	ck_assert(has_line(t, "keepwarm_request_wait_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",le=\"0.01\"} 1"));
	ck_assert(has_line(t, "keepwarm_request_wait_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",le=\"0.025\"} 2"));
	ck_assert(has_line(t, "keepwarm_request_wait_seconds_sum{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\"} 20.012400"));
	ck_assert(has_line(t, "# TYPE keepwarm_request_wait_seconds histogram"));
	/* Fine buckets, non-empty only: 400 us in (345.3, 410.6] us = b -45;
	 * 1500 us in (1381, 1642] us = b -37; 12 ms in (11.05, 13.14] ms = b -25;
	 * 20 s in (19.03, 22.63] s = b 18. */
	ck_assert(has_line(t, "keepwarm_request_fine_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",from=\"request\",b=\"-45\"} 1"));
	ck_assert(has_line(t, "keepwarm_request_fine_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",from=\"request\",b=\"-37\"} 1"));
	ck_assert(has_line(t, "keepwarm_request_fine_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",from=\"connect\",b=\"-45\"} 1"));
	ck_assert(has_line(t, "keepwarm_request_fine_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",from=\"connect\",b=\"-25\"} 1"));
	ck_assert(has_line(t, "keepwarm_request_fine_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8080\",from=\"connect\",b=\"18\"} 1"));
	ck_assert(!strstr(t, "from=\"request\",b=\"-25\""));
	/* The process. */
	ck_assert(has_line(t, "keepwarm_process_start_time_seconds{arm=\"on\",pid=\"42\"} 1795833547.120311"));
	ck_assert(has_line(t, "keepwarm_process_run_seconds{arm=\"on\",pid=\"42\"} 2.502338"));
	ck_assert(has_line(t, "keepwarm_process_exited{arm=\"on\",pid=\"42\"} 1"));
	ck_assert(has_line(t, "keepwarm_tls_parked{arm=\"on\",pid=\"42\"} 3"));
	ck_assert(has_line(t, "keepwarm_tls_parked_bytes{arm=\"on\",pid=\"42\"} 150000"));
	free(t);
}
END_TEST

START_TEST(test_other_destination)
{
	struct kw_stats s;
	char *t;

	kw_stats_reset(&s);
	for (unsigned p = 1; p <= KW_STATS_MAX_DESTS + 5; p++)
		kw_stats_request(&s, &(struct kw_dest){ .family = AF_INET, .port = htons((uint16_t)p) }, 10, 10);
	t = format(&s);
	ck_assert(has_line(t, "keepwarm_requests_total{arm=\"on\",pid=\"42\",dest=\"other\"} 5"));
	free(t);
}
END_TEST

/* Bucket b holds 2^((b-1)/4) < s <= 2^(b/4): each edge, either side. */
START_TEST(test_fine_buckets)
{
	for (int b = KW_FINE_MIN; b < KW_FINE_MAX; b++) {
		double edge = exp2(b / 4.0) * 1e6;
		uint64_t below = (uint64_t)floor(edge * 0.999), above = (uint64_t)ceil(edge * 1.001);
		ck_assert_int_eq(kw_stats_fine_bucket(below), b);
		ck_assert_int_eq(kw_stats_fine_bucket(above), b + 1);
	}
	ck_assert_int_eq(kw_stats_fine_bucket(0), KW_FINE_MIN);
	ck_assert_int_eq(kw_stats_fine_bucket(43), KW_FINE_MIN);  /* <= 2^-14.5 s = 43.2 us */
	ck_assert_int_eq(kw_stats_fine_bucket(44), KW_FINE_MIN + 1);
	ck_assert_int_eq(kw_stats_fine_bucket(64000000), 24);      /* 64 s = 2^6 */
	ck_assert_int_eq(kw_stats_fine_bucket(64000001), KW_FINE_MAX);
	ck_assert_int_eq(kw_stats_fine_bucket(UINT64_MAX), KW_FINE_MAX);
	/* The middle of every bucket from 50 us to 60 s is within 10 % of all
	 * of it. */
	for (int b = kw_stats_fine_bucket(50); b <= kw_stats_fine_bucket(60000000); b++) {
		double middle = exp2((b - 0.5) / 4.0);
		ck_assert(middle / exp2((b - 1) / 4.0) < 1.1 && exp2(b / 4.0) / middle < 1.1);
	}
}
END_TEST

/* A process that is still running says so. */
START_TEST(test_running_process)
{
	struct kw_stats s;
	struct kw_stats_labels l = labels;
	size_t need;
	char *t;

	l.exited = false;
	l.run_us = 999;
	kw_stats_reset(&s);
	need = kw_stats_format(&s, &l, NULL, 0);
	t = malloc(need + 1);
	kw_stats_format(&s, &l, t, need + 1);
	ck_assert(has_line(t, "keepwarm_process_exited{arm=\"on\",pid=\"42\"} 0"));
	ck_assert(has_line(t, "keepwarm_process_run_seconds{arm=\"on\",pid=\"42\"} 0.000999"));
	ck_assert(!strstr(t, "keepwarm_request_fine_total{"));
	free(t);
}
END_TEST

/* A TLS destination is its own, labelled tls="1"; the dial of the plain
 * twin that turned out to carry TLS moves to it. */
START_TEST(test_tls_destination)
{
	struct kw_stats s;
	struct kw_dest plain = dest(8443), tls = dest(8443);
	char *t;

	tls.tls = 1;
	kw_stats_reset(&s);
	kw_stats_connection(&s, &plain, false, 0);
	kw_stats_connection(&s, &plain, false, 0);
	kw_stats_tls(&s, &tls);
	kw_stats_request(&s, &tls, 1500, 12000);
	kw_stats_request(&s, &plain, 400, 400);
	t = format(&s);
	ck_assert(has_line(t, "keepwarm_connections_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8443\",how=\"dialed\"} 1"));
	ck_assert(has_line(t, "keepwarm_connections_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8443\",tls=\"1\",how=\"dialed\"} 1"));
	ck_assert(has_line(t, "keepwarm_requests_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8443\",tls=\"1\"} 1"));
	ck_assert(has_line(t, "keepwarm_requests_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8443\"} 1"));
	ck_assert(has_line(t, "keepwarm_request_wait_seconds_bucket{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8443\",tls=\"1\",le=\"0.025\"} 1"));
	ck_assert(has_line(t, "keepwarm_request_duration_seconds_count{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8443\",tls=\"1\"} 1"));
	ck_assert_ptr_nonnull(strstr(t, "keepwarm_request_fine_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8443\",tls=\"1\",from=\"connect\",b="));
	free(t);

	/* A plain destination left with nothing is not written. */
	kw_stats_reset(&s);
	kw_stats_connection(&s, &plain, false, 0);
	kw_stats_tls(&s, &tls);
	t = format(&s);
	ck_assert_ptr_null(strstr(t, "dest=\"127.0.0.1:8443\",how"));
	ck_assert_ptr_null(strstr(t, "dest=\"127.0.0.1:8443\"}"));
	ck_assert(has_line(t, "keepwarm_connections_total{arm=\"on\",pid=\"42\",dest=\"127.0.0.1:8443\",tls=\"1\",how=\"dialed\"} 1"));
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
	tcase_add_test(tc, test_reasons_by_tls);
	tcase_add_test(tc, test_other_destination);
	tcase_add_test(tc, test_tls_destination);
	tcase_add_test(tc, test_small_buffer);
	tcase_add_test(tc, test_fine_buckets);
	tcase_add_test(tc, test_running_process);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
