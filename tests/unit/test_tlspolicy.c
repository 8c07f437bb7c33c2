/* test_tlspolicy.c - unit tests for shim/logic/tlspolicy.h: the recorded TLS
 * session settings (and the values too long to keep) and the takeover rules,
 * their reasons and their order. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "logic/tlspolicy.h"

static const int cred, cred2, cache, cache2; /* addresses standing for handles */
static struct kw_tls_settings p, n;           /* parked, next */

static const unsigned char *const h2_h11[] = { (const unsigned char *)"h2",
                                               (const unsigned char *)"http/1.1" };
static const unsigned h2_h11_lens[] = { 2, 8 };

/* A session as a program typically sets one up, without or with
 * in-handshake verification. */
static void unverified(struct kw_tls_settings *s)
{
	kw_tls_settings_init(s, 1, true);
	ck_assert(kw_tls_settings_sni(s, "example.org", 11));
	ck_assert(kw_tls_settings_alpn(s, h2_h11, h2_h11_lens, 2, 0));
	ck_assert(kw_tls_settings_prio(s, KW_TLS_PRIO_DIRECT, "NORMAL", 0, NULL));
	s->cert_cred = &cred;
}

static void typical(struct kw_tls_settings *s)
{
	unverified(s);
	ck_assert(kw_tls_settings_verify(s, "example.org", 0));
}

static void pair(void)
{
	typical(&p);
	typical(&n);
}

static void a_push(void)
{
}

static enum kw_reason match(void)
{
	return kw_tls_settings_match(&p, &n);
}

/* A string of len 'a's in buf. */
static const char *str_of(char *buf, size_t len)
{
	memset(buf, 'a', len);
	buf[len] = '\0';
	return buf;
}

START_TEST(test_equal_match)
{
	pair();
	ck_assert_int_eq(kw_tls_settings_parkable(&p), KW_REASON_NONE);
	ck_assert_int_eq(match(), KW_REASON_NONE);
	/* The next session's own transport functions are what it goes on with:
	 * only which ones it has counts, not their addresses. */
	p.own = n.own = KW_TLS_OWN_PUSH | KW_TLS_OWN_PULL;
	p.push = a_push;
	p.send_ptr = &p;
	ck_assert_int_eq(match(), KW_REASON_NONE);
	/* Nothing set but credentials; the parked session needs none of its own. */
	kw_tls_settings_init(&p, 0, true);
	kw_tls_settings_init(&n, 0, true);
	ck_assert_int_eq(p.foreign, KW_REASON_NONE);
	ck_assert_ptr_eq(p.recv_ptr, (void *)(intptr_t)-1);
	ck_assert_ptr_eq(p.send_ptr, (void *)(intptr_t)-1);
	n.cert_cred = &cred;
	ck_assert_int_eq(match(), KW_REASON_NONE);
	n.cert_cred = &cred2; /* other credentials: the takeover verifies under them */
	p.cert_cred = &cred;
	ck_assert_int_eq(match(), KW_REASON_NONE);
}
END_TEST

START_TEST(test_setting_client_auth)
{
	kw_tls_settings_init(&p, 0, false);
	ck_assert_int_eq(kw_tls_settings_parkable(&p), KW_REASON_TLS_SETTING);
	pair();
	p.born = false;
	ck_assert_int_eq(match(), KW_REASON_TLS_SETTING);
	pair();
	n.born = false;
	ck_assert_int_eq(match(), KW_REASON_TLS_SETTING);
	pair();
	kw_tls_settings_foreign(&p, KW_REASON_TLS_SETTING);
	ck_assert_int_eq(kw_tls_settings_parkable(&p), KW_REASON_TLS_SETTING);
	ck_assert_int_eq(match(), KW_REASON_TLS_SETTING);
	pair();
	kw_tls_settings_foreign(&n, KW_REASON_TLS_SETTING);
	ck_assert_int_eq(match(), KW_REASON_TLS_SETTING);
	/* Anonymous, PSK or SRP credentials on either side. */
	pair();
	p.other_cred = true;
	ck_assert_int_eq(kw_tls_settings_parkable(&p), KW_REASON_TLS_CLIENT_AUTH);
	ck_assert_int_eq(match(), KW_REASON_TLS_CLIENT_AUTH);
	pair();
	n.other_cred = true;
	ck_assert_int_eq(match(), KW_REASON_TLS_CLIENT_AUTH);
}
END_TEST

START_TEST(test_transport_style)
{
	pair();
	p.own = KW_TLS_OWN_PUSH | KW_TLS_OWN_PULL; /* functions against descriptors */
	ck_assert_int_eq(kw_tls_settings_parkable(&p), KW_REASON_NONE);
	ck_assert_int_eq(match(), KW_REASON_TLS_TRANSPORT_STYLE);
	n.own = KW_TLS_OWN_VEC_PUSH | KW_TLS_OWN_PULL; /* another set of functions */
	ck_assert_int_eq(match(), KW_REASON_TLS_TRANSPORT_STYLE);
	n.own = p.own | KW_TLS_OWN_PULL_TIMEOUT;
	ck_assert_int_eq(match(), KW_REASON_TLS_TRANSPORT_STYLE);
	/* An errno function refuses even on both sides. */
	p.own = n.own = KW_TLS_OWN_ERRNO;
	ck_assert_int_eq(kw_tls_settings_parkable(&p), KW_REASON_TLS_TRANSPORT_STYLE);
	ck_assert_int_eq(match(), KW_REASON_TLS_TRANSPORT_STYLE);
	p.own = 0;
	ck_assert_int_eq(match(), KW_REASON_TLS_TRANSPORT_STYLE);
}
END_TEST

START_TEST(test_server_name)
{
	pair();
	ck_assert(kw_tls_settings_sni(&n, "example.net", 11));
	ck_assert_int_eq(match(), KW_REASON_TLS_SERVER_NAME);
	ck_assert(kw_tls_settings_sni(&n, "example.or", 10));
	ck_assert_int_eq(match(), KW_REASON_TLS_SERVER_NAME);
	ck_assert(kw_tls_settings_sni(&p, "example.or", 10)); /* a prefix of the other */
	ck_assert(kw_tls_settings_sni(&n, "example.org", 11));
	ck_assert_int_eq(match(), KW_REASON_TLS_SERVER_NAME);
	ck_assert(kw_tls_settings_sni(&p, "example.org", 11));
	ck_assert(kw_tls_settings_sni(&n, "", 0)); /* none at all */
	ck_assert_uint_eq(n.sni_len, 0);
	ck_assert_int_eq(match(), KW_REASON_TLS_SERVER_NAME);
	ck_assert(kw_tls_settings_sni(&n, "example.org", 11));
	ck_assert_int_eq(match(), KW_REASON_NONE);
}
END_TEST

START_TEST(test_alpn_offer)
{
	static const unsigned char *const joined[] = { (const unsigned char *)"h2http/1.1" };
	static const unsigned char *const swapped[] = { (const unsigned char *)"http/1.1",
	                                                (const unsigned char *)"h2" };
	static const unsigned joined_len[] = { 10 }, swapped_lens[] = { 8, 2 };

	/* Length-prefixed: the same bytes cut otherwise, or in another order,
	 * are another offer. */
	pair();
	ck_assert_uint_eq(p.alpn_len, 12);
	ck_assert_mem_eq(p.alpn, "\2h2\10http/1.1", 12);
	ck_assert(kw_tls_settings_alpn(&n, joined, joined_len, 1, 0));
	ck_assert_uint_eq(n.alpn_len, 11);
	ck_assert_int_eq(match(), KW_REASON_TLS_ALPN_OFFER);
	ck_assert(kw_tls_settings_alpn(&n, swapped, swapped_lens, 2, 0));
	ck_assert_uint_eq(n.alpn_len, 12);
	ck_assert_int_eq(match(), KW_REASON_TLS_ALPN_OFFER);
	ck_assert(kw_tls_settings_alpn(&n, h2_h11, h2_h11_lens, 1, 0)); /* h2 only */
	ck_assert_int_eq(match(), KW_REASON_TLS_ALPN_OFFER);
	ck_assert(kw_tls_settings_alpn(&n, h2_h11, h2_h11_lens, 0, 0)); /* none */
	ck_assert_uint_eq(n.alpn_len, 0);
	ck_assert_int_eq(match(), KW_REASON_TLS_ALPN_OFFER);
	ck_assert(kw_tls_settings_alpn(&n, h2_h11, h2_h11_lens, 2, 1)); /* other flags */
	ck_assert_int_eq(match(), KW_REASON_TLS_ALPN_OFFER);
	ck_assert(kw_tls_settings_alpn(&n, h2_h11, h2_h11_lens, 2, 0));
	ck_assert_int_eq(match(), KW_REASON_NONE);
	/* No protocols: the flags mean nothing. */
	ck_assert(kw_tls_settings_alpn(&p, h2_h11, h2_h11_lens, 0, 0));
	ck_assert(kw_tls_settings_alpn(&n, h2_h11, h2_h11_lens, 0, 3));
	ck_assert_uint_eq(n.alpn_flags, 0);
	ck_assert_int_eq(match(), KW_REASON_NONE);
}
END_TEST

START_TEST(test_policy)
{
	pair();
	n.init_flags = 3;
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	pair();
	n.compat = true;
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	pair(); /* priorities: the kind, the string, the flags, the cache */
	ck_assert(kw_tls_settings_prio(&n, KW_TLS_PRIO_APPEND, "NORMAL", 0, NULL));
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_prio(&n, KW_TLS_PRIO_DIRECT, "NORMAL:-VERS-TLS1.2", 0, NULL));
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_prio(&p, KW_TLS_PRIO_APPEND, "-VERS-TLS1.2", 1, NULL));
	ck_assert(kw_tls_settings_prio(&n, KW_TLS_PRIO_APPEND, "-VERS-TLS1.2", 2, NULL));
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_prio(&p, KW_TLS_PRIO_CACHE, NULL, 0, &cache));
	ck_assert(kw_tls_settings_prio(&n, KW_TLS_PRIO_CACHE, NULL, 0, &cache2));
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_prio(&n, KW_TLS_PRIO_CACHE, NULL, 0, &cache));
	ck_assert_int_eq(match(), KW_REASON_NONE);
	n.prio = KW_TLS_PRIO_UNSET;
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	pair(); /* in-handshake verification: on or off, its flags, its host */
	unverified(&n);
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_verify(&n, "example.org", 4));
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_verify(&n, "www.example.org", 0));
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_verify(&n, NULL, 0)); /* the chain only */
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_verify(&p, "", 0)); /* a host, if an empty one */
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_verify(&p, NULL, 0));
	ck_assert_int_eq(match(), KW_REASON_NONE);
	unverified(&n); /* the chain only, but after the handshake */
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	ck_assert(kw_tls_settings_verify(&p, "example.org", 0));
	ck_assert(kw_tls_settings_verify(&n, "example.org", 0));
	ck_assert_int_eq(match(), KW_REASON_NONE);
	/* The next session without certificate credentials could not verify. */
	n.cert_cred = NULL;
	ck_assert_int_eq(match(), KW_REASON_TLS_POLICY);
	p.cert_cred = NULL;
	n.cert_cred = &cred;
	ck_assert_int_eq(match(), KW_REASON_NONE);
}
END_TEST

/* Break rule k of the documented order on s. */
static void spoil(struct kw_tls_settings *s, unsigned k)
{
	switch (k) {
	case 0: s->born = false; break;
	case 1: s->other_cred = true; break;
	case 2: s->own |= KW_TLS_OWN_PUSH; break;
	case 3: ck_assert(kw_tls_settings_sni(s, "other.example", 13)); break;
	case 4: s->alpn_flags ^= 1; break;
	case 5: s->init_flags ^= 2; break;
	default: s->cert_cred = NULL; break;
	}
}

/* Several rules broken on one side: the first in the documented order says. */
START_TEST(test_order)
{
	static const enum kw_reason why[] = {
		KW_REASON_TLS_SETTING,     KW_REASON_TLS_CLIENT_AUTH, KW_REASON_TLS_TRANSPORT_STYLE,
		KW_REASON_TLS_SERVER_NAME, KW_REASON_TLS_ALPN_OFFER,  KW_REASON_TLS_POLICY,
		KW_REASON_TLS_POLICY,
	};

	for (unsigned k = 0; k < 7; k++) {
		pair();
		for (unsigned j = k; j < 7; j++)
			spoil(&n, j);
		ck_assert_msg(match() == why[k], "next from rule %u: %d", k, match());
		pair();
		for (unsigned j = k; j < 6; j++) /* the cert_cred rule is next's only */
			spoil(&p, j);
		ck_assert_msg(match() == (k < 6 ? why[k] : KW_REASON_NONE), "parked from rule %u", k);
	}
	/* A foreign setting says before the credentials, on the same side. */
	pair();
	n.other_cred = true;
	kw_tls_settings_foreign(&n, KW_REASON_TLS_SETTING);
	ck_assert_int_eq(match(), KW_REASON_TLS_SETTING);
	/* Each rule on both sides before the next. */
	pair();
	p.other_cred = true;
	n.born = false;
	ck_assert_int_eq(match(), KW_REASON_TLS_SETTING);
	pair();
	p.own = n.own = KW_TLS_OWN_ERRNO;
	n.other_cred = true;
	ck_assert_int_eq(match(), KW_REASON_TLS_CLIENT_AUTH);
}
END_TEST

/* A value too long to keep makes the setting foreign; one byte less fits. */
START_TEST(test_too_long)
{
	char buf[KW_TLS_NAME_MAX + KW_TLS_PRIO_MAX];
	const unsigned char *protos[2] = { (const unsigned char *)"h2", (const unsigned char *)buf };
	unsigned lens[2] = { 2, 60 };

	memset(buf, 'a', sizeof buf);
	kw_tls_settings_init(&n, 0, true);
	ck_assert(kw_tls_settings_sni(&n, buf, 255));
	ck_assert_uint_eq(n.sni_len, 255);
	ck_assert(kw_tls_settings_alpn(&n, protos, lens, 2, 0)); /* 3 + 61 = 64 bytes */
	ck_assert_uint_eq(n.alpn_len, 64);
	ck_assert(kw_tls_settings_alpn(&n, protos + 1, (unsigned[]){ 63 }, 1, 0));
	ck_assert(kw_tls_settings_prio(&n, KW_TLS_PRIO_DIRECT, str_of(buf, 255), 0, NULL));
	ck_assert(kw_tls_settings_verify(&n, str_of(buf, 255), 0));
	ck_assert_int_eq(kw_tls_settings_parkable(&n), KW_REASON_NONE);

	for (unsigned k = 0; k < 5; k++) {
		bool kept;

		pair();
		memset(buf, 'a', sizeof buf);
		lens[1] = 61;
		switch (k) {
		case 0: kept = kw_tls_settings_sni(&n, buf, 256); break;
		case 1: kept = kw_tls_settings_alpn(&n, protos, lens, 2, 0); break;
		case 2: kept = kw_tls_settings_alpn(&n, protos + 1, (unsigned[]){ 64 }, 1, 0); break;
		case 3: kept = kw_tls_settings_prio(&n, KW_TLS_PRIO_DIRECT, str_of(buf, 256), 0, NULL); break;
		default: kept = kw_tls_settings_verify(&n, str_of(buf, 256), 0); break;
		}
		ck_assert_msg(!kept, "value %u kept", k);
		ck_assert_int_eq(n.foreign, KW_REASON_TLS_SETTING);
		ck_assert_int_eq(kw_tls_settings_parkable(&n), KW_REASON_TLS_SETTING);
		ck_assert_int_eq(match(), KW_REASON_TLS_SETTING);
	}
}
END_TEST

START_TEST(test_foreign_first)
{
	char buf[KW_TLS_NAME_MAX + 1];

	kw_tls_settings_init(&n, 0, true);
	kw_tls_settings_foreign(&n, KW_REASON_TLS_POLICY);
	kw_tls_settings_foreign(&n, KW_REASON_TLS_SETTING);
	ck_assert_int_eq(n.foreign, KW_REASON_TLS_POLICY);
	ck_assert(!kw_tls_settings_sni(&n, str_of(buf, KW_TLS_NAME_MAX), KW_TLS_NAME_MAX));
	ck_assert_int_eq(n.foreign, KW_REASON_TLS_POLICY);
	ck_assert_int_eq(kw_tls_settings_parkable(&n), KW_REASON_TLS_POLICY);
}
END_TEST

START_TEST(test_host)
{
	kw_tls_settings_init(&n, 0, true);
	ck_assert_ptr_null(kw_tls_settings_host(&n));
	ck_assert(kw_tls_settings_sni(&n, "sni.example", 11));
	ck_assert_str_eq(kw_tls_settings_host(&n), "sni.example");
	ck_assert(kw_tls_settings_verify(&n, "host.example", 0));
	ck_assert_str_eq(kw_tls_settings_host(&n), "host.example");
	ck_assert(kw_tls_settings_verify(&n, NULL, 0)); /* the chain only, despite the name */
	ck_assert_ptr_null(kw_tls_settings_host(&n));
	kw_tls_settings_init(&n, 0, true);
	ck_assert(kw_tls_settings_verify(&n, "host.example", 0));
	ck_assert_str_eq(kw_tls_settings_host(&n), "host.example");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tlspolicy");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_equal_match);
	tcase_add_test(tc, test_setting_client_auth);
	tcase_add_test(tc, test_transport_style);
	tcase_add_test(tc, test_server_name);
	tcase_add_test(tc, test_alpn_offer);
	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_foreign_first);
	tcase_add_test(tc, test_host);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
