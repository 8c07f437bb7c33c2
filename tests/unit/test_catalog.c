/* test_catalog.c - unit tests for shim/logic/catalog.h, and docs/formats.md
 * held to it: the trace's event list, the reasons table (name and event) and
 * the stats file's counters name exactly what the catalogue defines. */
#include <check.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logic/catalog.h"

#ifndef KW_SOURCE_DIR
#define KW_SOURCE_DIR "."
#endif

static char *read_doc(void)
{
	FILE *f = fopen(KW_SOURCE_DIR "/docs/formats.md", "r");
	char *text;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s/docs/formats.md", KW_SOURCE_DIR);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(fread(text, 1, (size_t)n, f), n);
	fclose(f);
	return text;
}

/* The backticked words of s up to end, in order, into out (at most max). */
static int backticked(const char *s, const char *end, char out[][64], int max)
{
	int n = 0;

	while (s < end && n < max) {
		const char *a = memchr(s, '`', (size_t)(end - s)), *b;
		if (!a || !(b = memchr(a + 1, '`', (size_t)(end - a - 1))))
			break;
		snprintf(out[n++], 64, "%.*s", (int)(b - a - 1), a + 1);
		s = b + 1;
	}
	return n;
}

static const char *line_end(const char *s)
{
	const char *e = strchr(s, '\n');
	return e ? e : s + strlen(s);
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

START_TEST(test_names_unique_and_well_formed)
{
	for (int e = 0; e < KW_EVENT_COUNT; e++) {
		ck_assert_msg(valid_name(kw_event_name(e)), "event %d: '%s'", e, kw_event_name(e));
		ck_assert_int_eq(kw_event_from_name(kw_event_name(e)), e);
	}
	ck_assert_str_eq(kw_reason_name(KW_REASON_NONE), "");
	for (int r = 1; r < KW_REASON_COUNT; r++) {
		ck_assert_msg(valid_name(kw_reason_name(r)), "reason %d: '%s'", r, kw_reason_name(r));
		ck_assert_int_eq(kw_reason_from_name(kw_reason_name(r)), r);
		ck_assert_int_lt(kw_reason_event(r), KW_EVENT_COUNT);
		ck_assert(kw_reason_counter(r) == KW_COUNTER_NONE ||
		          kw_reason_counter(r) == KW_COUNTER_ERRORS);
	}
	for (int c = 0; c < KW_COUNTER_COUNT; c++)
		ck_assert(valid_name(kw_counter_name(c)));
	ck_assert_int_eq(kw_event_from_name("nonsense"), -1);
	ck_assert_int_eq(kw_reason_from_name("nonsense"), -1);
	ck_assert_str_eq(kw_event_name(KW_EVENT_COUNT), "?");
}
END_TEST

START_TEST(test_classes)
{
	/* What a let-go with these reasons is traced as, and what counts an error. */
	ck_assert_int_eq(kw_reason_event(KW_REASON_NOT_HTTP), KW_EVENT_PASSTHROUGH);
	ck_assert_int_eq(kw_reason_event(KW_REASON_UPGRADE), KW_EVENT_PASSTHROUGH);
	ck_assert_int_eq(kw_reason_event(KW_REASON_RESPONSE_CLOSE), KW_EVENT_DISCARD);
	ck_assert_int_eq(kw_reason_event(KW_REASON_DUP), KW_EVENT_TAINT);
	ck_assert_int_eq(kw_reason_counter(KW_REASON_READ_ERROR), KW_COUNTER_ERRORS);
	ck_assert_int_eq(kw_reason_counter(KW_REASON_CONNECT_FAILED), KW_COUNTER_ERRORS);
	ck_assert_int_eq(kw_reason_counter(KW_REASON_SERVER_CLOSED), KW_COUNTER_NONE);
	ck_assert_int_eq(kw_event_counter(KW_EVENT_DIAL), KW_COUNTER_DIALED);
	ck_assert_int_eq(kw_event_counter(KW_EVENT_START), KW_COUNTER_NONE);
	ck_assert_int_eq(kw_event_counter(KW_EVENT_EOF), KW_COUNTER_NONE);
}
END_TEST

START_TEST(test_doc_events)
{
	char *doc = read_doc(), words[64][64];
	const char *row = strstr(doc, "\n| `event` |");
	int n;

	ck_assert_msg(row != NULL, "formats.md: no `event` row in the trace fields table");
	row++;
	/* | `event` | always | `start`, ... | : the third cell */
	const char *cell = strchr(strchr(row + 1, '|') + 1, '|');
	n = backticked(cell, line_end(row), words, 64);
	ck_assert_int_eq(n, KW_EVENT_COUNT);
	for (int e = 0; e < n; e++)
		ck_assert_str_eq(words[e], kw_event_name(e));
	free(doc);
}
END_TEST

START_TEST(test_doc_reasons)
{
	char *doc = read_doc();
	const char *sec = strstr(doc, "\n### Reasons\n"), *end, *p;
	bool seen[KW_REASON_COUNT] = { false };
	int rows = 0;

	ck_assert_msg(sec != NULL, "formats.md: no Reasons section");
	end = strstr(sec + 1, "\n## ");
	if (!end)
		end = sec + strlen(sec);
	for (p = strstr(sec, "\n| `"); p && p < end; p = strstr(p + 1, "\n| `")) {
		char cells[2][64];
		const char *event_cell = strchr(p + 2, '|'); /* | `name` | event | meaning | */
		int r;

		ck_assert_int_eq(backticked(p, event_cell, cells, 1), 1);
		r = kw_reason_from_name(cells[0]);
		ck_assert_msg(r > 0, "formats.md lists reason '%s', which the catalogue does not have",
		              cells[0]);
		ck_assert_msg(!seen[r], "formats.md lists reason '%s' twice", cells[0]);
		seen[r] = true;
		snprintf(cells[1], 64, "%.*s", (int)strcspn(event_cell + 2, " |"), event_cell + 2);
		ck_assert_msg(!strcmp(cells[1], kw_event_name(kw_reason_event(r))),
		              "formats.md: reason '%s' with event '%s', the catalogue says '%s'",
		              cells[0], cells[1], kw_event_name(kw_reason_event(r)));
		rows++;
	}
	for (int r = 1; r < KW_REASON_COUNT; r++)
		ck_assert_msg(seen[r], "formats.md does not list reason '%s'", kw_reason_name(r));
	ck_assert_int_eq(rows, KW_REASON_COUNT - 1);
	free(doc);
}
END_TEST

START_TEST(test_doc_counters)
{
	char *doc = read_doc(), words[64][64];
	const char *item = strstr(doc, "\n- `keepwarm_events_total` events");
	const char *end;
	int n;

	ck_assert_msg(item != NULL, "formats.md: no keepwarm_events_total events item");
	item = strchr(item + 3, ':');
	end = strstr(item, "\n- ");
	n = backticked(item, end ? end : item + strlen(item), words, 64);
	ck_assert_int_eq(n, KW_COUNTER_COUNT);
	for (int c = 0; c < n; c++)
		ck_assert_str_eq(words[c], kw_counter_name(c));
	free(doc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("catalog");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_names_unique_and_well_formed);
	tcase_add_test(tc, test_classes);
	tcase_add_test(tc, test_doc_events);
	tcase_add_test(tc, test_doc_reasons);
	tcase_add_test(tc, test_doc_counters);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
