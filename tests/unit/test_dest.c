/* test_dest.c - unit tests for shim/logic/dest.h. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "logic/dest.h"

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static struct sockaddr_in6 sin6(const char *ip, uint16_t port, uint32_t scope)
{
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof a);
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	a.sin6_scope_id = scope;
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
	return a;
}

static struct kw_dest d4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = sin4(ip, port);
	struct kw_dest d;
	memset(&d, 0x77, sizeof d);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a, sizeof a), 0);
	return d;
}

static struct kw_dest d6(const char *ip, uint16_t port, uint32_t scope)
{
	struct sockaddr_in6 a = sin6(ip, port, scope);
	struct kw_dest d;
	memset(&d, 0x77, sizeof d);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a, sizeof a), 0);
	return d;
}

START_TEST(test_ipv4_from_sockaddr)
{
	struct kw_dest d = d4("127.0.0.1", 8080);
	static const uint8_t want[16] = { 127, 0, 0, 1 };
	ck_assert_uint_eq(d.family, AF_INET);
	ck_assert_uint_eq(d.port, htons(8080));
	ck_assert_uint_eq(d.scope_id, 0);
	ck_assert_mem_eq(d.addr, want, 16); /* the rest stays zero */
}
END_TEST

START_TEST(test_ipv4_ignores_sin_zero_and_accepts_longer_len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0xEE, sizeof ss); /* garbage in sin_zero and beyond */
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(80);
	inet_pton(AF_INET, "10.1.2.3", &a->sin_addr);
	struct kw_dest d;
	memset(&d, 0x55, sizeof d);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&ss, sizeof ss), 0);
	static const uint8_t want[16] = { 10, 1, 2, 3 };
	ck_assert_uint_eq(d.family, AF_INET);
	ck_assert_uint_eq(d.port, htons(80));
	ck_assert_uint_eq(d.scope_id, 0);
	ck_assert_mem_eq(d.addr, want, 16);

	struct kw_dest clean = d4("10.1.2.3", 80);
	ck_assert(kw_dest_equal(&d, &clean));
	ck_assert_uint_eq(kw_dest_hash(&d), kw_dest_hash(&clean));
}
END_TEST

START_TEST(test_ipv6_from_sockaddr)
{
	struct kw_dest d = d6("::1", 8080, 0);
	static const uint8_t want[16] = { [15] = 1 };
	ck_assert_uint_eq(d.family, AF_INET6);
	ck_assert_uint_eq(d.port, htons(8080));
	ck_assert_uint_eq(d.scope_id, 0);
	ck_assert_mem_eq(d.addr, want, 16);

	struct kw_dest s = d6("fe80::1234", 443, 3);
	static const uint8_t want2[16] = { 0xfe, 0x80, [14] = 0x12, [15] = 0x34 };
	ck_assert_uint_eq(s.family, AF_INET6);
	ck_assert_uint_eq(s.port, htons(443));
	ck_assert_uint_eq(s.scope_id, 3);
	ck_assert_mem_eq(s.addr, want2, 16);
}
END_TEST

START_TEST(test_rejects_short_and_other_families)
{
	struct kw_dest d;
	struct sockaddr_in a4 = sin4("127.0.0.1", 80);
	struct sockaddr_in6 a6 = sin6("::1", 80, 0);

	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a4, sizeof a4 - 1), -1);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a4, 8), -1);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a4, 2), -1);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a4, 1), -1);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a4, 0), -1);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a6, sizeof a6 - 1), -1);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a6, sizeof a4), -1);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a6, 0), -1);

	struct sockaddr_un un;
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	strcpy(un.sun_path, "/tmp/sock");
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&un, sizeof un), -1);

	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNSPEC;
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&ss, sizeof ss), -1);
	ss.ss_family = AF_PACKET;
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&ss, sizeof ss), -1);
	ss.ss_family = AF_NETLINK;
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&ss, sizeof ss), -1);
}
END_TEST

START_TEST(test_equality)
{
	struct kw_dest a = d4("127.0.0.1", 8080), b = d4("127.0.0.1", 8080);
	ck_assert(kw_dest_equal(&a, &b));
	ck_assert(kw_dest_equal(&a, &a));

	struct kw_dest port = d4("127.0.0.1", 8081);
	struct kw_dest addr = d4("127.0.0.2", 8080);
	struct kw_dest mapped = d6("::ffff:127.0.0.1", 8080, 0);
	ck_assert(!kw_dest_equal(&a, &port));
	ck_assert(!kw_dest_equal(&a, &addr));
	ck_assert(!kw_dest_equal(&a, &mapped));
	ck_assert(!kw_dest_equal(&mapped, &a));

	struct kw_dest x = d6("fe80::1", 80, 2), y = d6("fe80::1", 80, 2);
	struct kw_dest scope = d6("fe80::1", 80, 3);
	struct kw_dest port6 = d6("fe80::1", 81, 2);
	struct kw_dest addr6 = d6("fe80::2", 80, 2);
	struct kw_dest first6 = d6("fe81::1", 80, 2);
	ck_assert(kw_dest_equal(&x, &y));
	ck_assert(!kw_dest_equal(&x, &scope));
	ck_assert(!kw_dest_equal(&x, &port6));
	ck_assert(!kw_dest_equal(&x, &addr6));
	ck_assert(!kw_dest_equal(&x, &first6));
}
END_TEST

START_TEST(test_hash_equal_for_equal)
{
	struct kw_dest a = d4("192.168.1.20", 443), b = d4("192.168.1.20", 443);
	ck_assert_uint_eq(kw_dest_hash(&a), kw_dest_hash(&b));
	struct kw_dest x = d6("2001:db8::7", 8443, 5), y = d6("2001:db8::7", 8443, 5);
	ck_assert_uint_eq(kw_dest_hash(&x), kw_dest_hash(&y));
	/* Stable across calls. */
	ck_assert_uint_eq(kw_dest_hash(&x), kw_dest_hash(&x));
}
END_TEST

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* n hashes: nearly all distinct, and spread over 256 low-bit buckets. */
static void check_spread(uint32_t *h, unsigned n, const char *what)
{
	unsigned buckets[256] = { 0 }, used = 0;
	for (unsigned i = 0; i < n; i++)
		buckets[h[i] & 255]++;
	for (unsigned i = 0; i < 256; i++)
		used += buckets[i] != 0;
	qsort(h, n, sizeof h[0], cmp_u32);
	unsigned distinct = n ? 1 : 0;
	for (unsigned i = 1; i < n; i++)
		distinct += h[i] != h[i - 1];
	ck_assert_msg(distinct >= n * 9 / 10, "%s: only %u distinct hashes of %u", what, distinct, n);
	ck_assert_msg(used >= 200, "%s: only %u of 256 low-byte buckets used", what, used);
}

START_TEST(test_hash_spread)
{
	enum { n = 1024 };
	static uint32_t h[n];
	struct kw_dest d;

	for (unsigned i = 0; i < n; i++) { /* port only */
		d = d4("10.0.0.1", (uint16_t)(1000 + i));
		h[i] = kw_dest_hash(&d);
	}
	check_spread(h, n, "ports");

	for (unsigned i = 0; i < n; i++) { /* last two address bytes only */
		char ip[32];
		snprintf(ip, sizeof ip, "10.0.%u.%u", i / 256, i % 256);
		d = d4(ip, 80);
		h[i] = kw_dest_hash(&d);
	}
	check_spread(h, n, "ipv4 addresses");

	for (unsigned i = 0; i < n; i++) { /* first IPv6 address bytes only */
		char ip[64];
		snprintf(ip, sizeof ip, "%x::1", 0x2000 + i);
		d = d6(ip, 80, 0);
		h[i] = kw_dest_hash(&d);
	}
	check_spread(h, n, "ipv6 high bytes");

	for (unsigned i = 0; i < n; i++) { /* scope only */
		d = d6("fe80::1", 80, i + 1);
		h[i] = kw_dest_hash(&d);
	}
	check_spread(h, n, "scopes");
}
END_TEST

START_TEST(test_format)
{
	char buf[128];
	struct kw_dest d = d4("127.0.0.1", 8080);
	kw_dest_format(&d, buf, sizeof buf);
	ck_assert_str_eq(buf, "127.0.0.1:8080");

	d = d6("::1", 8080, 0);
	kw_dest_format(&d, buf, sizeof buf);
	ck_assert_str_eq(buf, "[::1]:8080");

	d = d4("255.255.255.255", 65535);
	kw_dest_format(&d, buf, sizeof buf);
	ck_assert_str_eq(buf, "255.255.255.255:65535");

	d = d4("0.0.0.0", 0);
	kw_dest_format(&d, buf, sizeof buf);
	ck_assert_str_eq(buf, "0.0.0.0:0");

	d = d6("2001:db8::42", 443, 0);
	kw_dest_format(&d, buf, sizeof buf);
	ck_assert_str_eq(buf, "[2001:db8::42]:443");

	d = d6("fe80::1", 80, 2);
	kw_dest_format(&d, buf, sizeof buf);
	ck_assert_msg(strncmp(buf, "[fe80::1", 8) == 0, "scoped: %s", buf);
	ck_assert_msg(strlen(buf) > 4 && strcmp(buf + strlen(buf) - 4, "]:80") == 0, "scoped: %s",
	              buf);
}
END_TEST

START_TEST(test_format_truncation)
{
	struct kw_dest d = d6("2001:db8:1234:5678:9abc:def0:1234:5678", 65535, 0);
	char full[128];
	kw_dest_format(&d, full, sizeof full);
	size_t flen = strlen(full);
	ck_assert_uint_gt(flen, 10);
	for (size_t size = 1; size <= flen + 2; size++) {
		char buf[160];
		memset(buf, '#', sizeof buf);
		kw_dest_format(&d, buf, size);
		ck_assert_msg(memchr(buf, '\0', size) != NULL, "size %zu: not terminated", size);
		ck_assert_msg(buf[size] == '#', "size %zu: wrote past the buffer", size);
		ck_assert_msg(strncmp(buf, full, strlen(buf)) == 0, "size %zu: '%s' not a prefix of '%s'",
		              size, buf, full);
	}

	struct kw_dest v4 = d4("127.0.0.1", 8080);
	char small[6];
	memset(small, '#', sizeof small);
	kw_dest_format(&v4, small, 5);
	ck_assert(memchr(small, '\0', 5) != NULL);
	ck_assert(small[5] == '#');
}
END_TEST

static Suite *dest_suite(void)
{
	Suite *s = suite_create("dest");
	TCase *tc = tcase_create("dest");
	tcase_add_test(tc, test_ipv4_from_sockaddr);
	tcase_add_test(tc, test_ipv4_ignores_sin_zero_and_accepts_longer_len);
	tcase_add_test(tc, test_ipv6_from_sockaddr);
	tcase_add_test(tc, test_rejects_short_and_other_families);
	tcase_add_test(tc, test_equality);
	tcase_add_test(tc, test_hash_equal_for_equal);
	tcase_add_test(tc, test_hash_spread);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_truncation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dest_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
