/* test_dest_rules.c - unit tests for shim/logic/dest_rules.h. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "logic/dest_rules.h"

static struct kw_dest dest(const char *ip, uint16_t port)
{
	struct kw_dest d;

	memset(&d, 0, sizeof d);
	d.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	d.port = htons(port);
	ck_assert_int_eq(inet_pton(d.family, ip, d.addr), 1);
	return d;
}

static struct kw_dest_rules parse_ok(const char *text)
{
	struct kw_dest_rules r;
	char err[200] = "";

	memset(&r, 0x5a, sizeof r);
	ck_assert_msg(kw_dest_rules_parse(text, &r, err, sizeof err) == 0, "%s: %s", text, err);
	return r;
}

static bool allowed(const char *rules, const char *ip, uint16_t port)
{
	struct kw_dest_rules r = parse_ok(rules);
	struct kw_dest d = dest(ip, port);

	return kw_dest_rules_allow(&r, &d);
}

START_TEST(test_first_match_wins_default_allow)
{
	const char *rules = "deny 10.1.2.3:8080, allow 10.0.0.0/8, deny 10.1.0.0/16, deny *:9200";

	ck_assert(!allowed(rules, "10.1.2.3", 8080));
	ck_assert(allowed(rules, "10.1.2.3", 8081));   /* the /8 allow comes before the /16 deny */
	ck_assert(allowed(rules, "10.9.9.9", 9200));   /* allowed before *:9200 is reached */
	ck_assert(!allowed(rules, "192.0.2.1", 9200));
	ck_assert(allowed(rules, "192.0.2.1", 80));    /* no rule: allowed */
	ck_assert(!allowed(rules, "::1", 9200));       /* * is any address of either family */
	ck_assert(allowed("", "10.1.2.3", 8080));
	ck_assert(allowed("  ", "10.1.2.3", 8080));
}
END_TEST

START_TEST(test_prefixes)
{
	ck_assert(!allowed("deny 192.168.0.0/23", "192.168.1.255", 80));
	ck_assert(allowed("deny 192.168.0.0/23", "192.168.2.0", 80));
	ck_assert(!allowed("deny 0.0.0.0/0", "203.0.113.9", 1));
	ck_assert(!allowed("deny 10.1.2.3/8", "10.200.0.1", 80)); /* host bits ignored */
	ck_assert(!allowed("deny [2001:db8::/32]:443", "2001:db8:ffff::1", 443));
	ck_assert(allowed("deny [2001:db8::/32]:443", "2001:db8:ffff::1", 80));
	ck_assert(allowed("deny [2001:db8::/32]:443", "2001:db9::1", 443));
	ck_assert(!allowed("deny 2001:db8::/33", "2001:db8:7fff::1", 80)); /* no brackets, no port */
	ck_assert(allowed("deny 2001:db8::/33", "2001:db8:8000::1", 80));
	ck_assert(!allowed("deny [::1]", "::1", 8080));
	ck_assert(!allowed("deny [::1]:*", "::1", 8080));
	ck_assert(!allowed("deny 127.0.0.1:*", "127.0.0.1", 8080));
}
END_TEST

START_TEST(test_ipv4_mapped_matches_ipv4_rules)
{
	ck_assert(!allowed("deny 10.1.2.3:8080", "::ffff:10.1.2.3", 8080));
	ck_assert(!allowed("deny 10.0.0.0/8", "::ffff:10.9.8.7", 80));
	ck_assert(allowed("deny 10.0.0.0/8", "::ffff:11.0.0.1", 80));
	/* and an IPv6 rule still sees it as the IPv6 address it is */
	ck_assert(!allowed("deny [::ffff:0:0/96]", "::ffff:11.0.0.1", 80));
	ck_assert(allowed("deny [::ffff:0:0/96]", "11.0.0.1", 80));
	/* an IPv4 rule never matches a plain IPv6 address */
	ck_assert(allowed("deny 0.0.0.0/0", "2001:db8::1", 80));
}
END_TEST

START_TEST(test_syntax_variants)
{
	struct kw_dest_rules r = parse_ok(" DENY  10.1.2.3:8080 ;allow 127.0.0.0/8,, deny *:9200 , ");

	ck_assert_uint_eq(r.n, 3);
	ck_assert(r.rule[0].deny && r.rule[0].port == 8080 && r.rule[0].prefix == 32);
	ck_assert(!r.rule[1].deny && r.rule[1].prefix == 8 && r.rule[1].port == 0);
	ck_assert(r.rule[2].family == 0 && r.rule[2].port == 9200);
	r = parse_ok("allow *");
	ck_assert(r.n == 1 && r.rule[0].family == 0 && r.rule[0].port == 0);
	r = parse_ok("deny *:*");
	ck_assert(r.n == 1 && r.rule[0].family == 0 && r.rule[0].port == 0);
}
END_TEST

static void parse_bad(const char *text, const char *want)
{
	struct kw_dest_rules r, before;
	char err[200] = "";

	memset(&r, 0x5a, sizeof r);
	before = r;
	ck_assert_msg(kw_dest_rules_parse(text, &r, err, sizeof err) == -1, "accepted: %s", text);
	ck_assert_msg(strstr(err, want) != NULL, "%s: got \"%s\", want \"%s\"", text, err, want);
	ck_assert_msg(!strchr(err, '\n'), "%s: more than one line", text);
	ck_assert_msg(!memcmp(&r, &before, sizeof r), "%s: changed out", text);
}

START_TEST(test_errors_name_the_rule)
{
	parse_bad("allow 127.0.0.0/8, permit 10.0.0.1", "rule 2 \"permit 10.0.0.1\": a rule starts with allow or deny");
	parse_bad("deny", "rule 1 \"deny\": no address");
	parse_bad("deny 10.1.2.3:99999", "rule 1 \"deny 10.1.2.3:99999\": the port is not 1 to 65535");
	parse_bad("deny 10.1.2.3:0", "the port is not 1 to 65535");
	parse_bad("deny 10.1.2.3:http", "the port is not 1 to 65535");
	parse_bad("deny 10.1.2.3:", "the port is not 1 to 65535");
	parse_bad("deny 10.1.2.300", "not an IPv4 address");
	parse_bad("deny example.com:80", "not an IPv4 address");
	parse_bad("deny 10.0.0.0/33", "the prefix is more than /32");
	parse_bad("deny [::1/129]:80", "the prefix is more than /128");
	parse_bad("deny 10.0.0.0/x", "the prefix after / is not a number");
	parse_bad("deny 10.0.0.0/", "the prefix after / is not a number");
	parse_bad("deny [::1:80", "a [ without its ]");
	parse_bad("deny [::1]80", "after ] comes : and a port");
	parse_bad("deny [10.0.0.1]:80", "not an IPv6 address");
	parse_bad("deny 10.0.0.1 :80", "without spaces");
	parse_bad("deny 10.0.0.1 allow 10.0.0.2", "rules are separated by commas");
}
END_TEST

START_TEST(test_at_most_64_rules)
{
	char text[64 * 24 + 32] = "";
	struct kw_dest_rules r;
	char err[200];

	for (int i = 0; i < 64; i++)
		sprintf(text + strlen(text), "deny 10.0.0.%d, ", i);
	r = parse_ok(text);
	ck_assert_uint_eq(r.n, 64);
	strcat(text, "deny 10.0.1.1");
	ck_assert_int_eq(kw_dest_rules_parse(text, &r, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "rule 65 \"deny 10.0.1.1\": more than 64 rules"), "%s", err);
}
END_TEST

START_TEST(test_format_reads_back)
{
	const char *text = "deny 10.1.2.3:8080, allow 127.0.0.0/8, deny *:9200, "
	                   "deny [2001:db8::/32]:443, allow [::1], deny *";
	struct kw_dest_rules r = parse_ok(text), again;
	char buf[KW_DEST_RULES_TEXT];

	kw_dest_rules_format(&r, buf, sizeof buf);
	ck_assert_str_eq(buf, text);
	again = parse_ok(buf);
	ck_assert(!memcmp(&again, &r, sizeof r));
	r = parse_ok("deny 10.1.2.3/8");
	kw_dest_rules_format(&r, buf, sizeof buf);
	ck_assert_str_eq(buf, "deny 10.0.0.0/8");
	r = parse_ok("");
	kw_dest_rules_format(&r, buf, sizeof buf);
	ck_assert_str_eq(buf, "");
}
END_TEST

static Suite *dest_rules_suite(void)
{
	Suite *s = suite_create("dest_rules");
	TCase *tc = tcase_create("dest_rules");
	tcase_add_test(tc, test_first_match_wins_default_allow);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_ipv4_mapped_matches_ipv4_rules);
	tcase_add_test(tc, test_syntax_variants);
	tcase_add_test(tc, test_errors_name_the_rule);
	tcase_add_test(tc, test_at_most_64_rules);
	tcase_add_test(tc, test_format_reads_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dest_rules_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
