/* test_broker_dests.c - unit tests for tools/kwbroker_dests.h: which takes
 * make a warm target, how many dials it wants, its back-off, and a server
 * that spoils it. The file is pure bookkeeping, compiled in here whole. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "../../tools/kwbroker_dests.c"

enum { NETNS = 4096, CGROUP = 77 };

static struct kw_key key_of(uint16_t port)
{
	struct sockaddr_in a;
	struct kw_dest d;
	struct kw_key k;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a, sizeof a), 0);
	kw_key_make(&k, &d, KW_TRANSPORT_PLAIN, 0);
	k.netns = NETNS;
	k.cgroup = CGROUP;
	return k;
}

/* Each test starts from empty tables. */
static void reset(void)
{
	memset(warm, 0, sizeof warm);
	memset(warm_used, 0, sizeof warm_used);
	npatience = patience_next = 0;
}

START_TEST(test_only_the_brokers_own_plain_keys)
{
	struct kw_key k = key_of(8001);

	reset();
	k.netns = NETNS + 1;
	ck_assert_ptr_null(kwb_warm_note(&k, NETNS, CGROUP, 10));
	k = key_of(8001);
	k.cgroup = CGROUP + 1;
	ck_assert_ptr_null(kwb_warm_note(&k, NETNS, CGROUP, 10));
	k = key_of(8001);
	k.opts = 5; /* an option pins the program's socket: the broker cannot dial it */
	ck_assert_ptr_null(kwb_warm_note(&k, NETNS, CGROUP, 10));
	k = key_of(8001);
	k.transport = KW_TRANSPORT_TLS;
	ck_assert_ptr_null(kwb_warm_note(&k, NETNS, CGROUP, 10));
	k = key_of(8001);
	ck_assert_ptr_nonnull(kwb_warm_note(&k, NETNS, CGROUP, 10));
	ck_assert_ptr_nonnull(kwb_warm_at(0));
	ck_assert_ptr_null(kwb_warm_at(1));
	ck_assert_ptr_null(kwb_warm_at(KWB_WARM_MAX));
}
END_TEST

START_TEST(test_learned_patience_keeps_it_cold)
{
	struct kw_key k = key_of(8002);

	reset();
	kwb_patience_learn(&k, 400);
	ck_assert_uint_eq(kwb_patience_of(&k), 400);
	kwb_patience_learn(&k, 900); /* the shortest wins */
	ck_assert_uint_eq(kwb_patience_of(&k), 400);
	ck_assert_ptr_null(kwb_warm_note(&k, NETNS, CGROUP, 10));
}
END_TEST

START_TEST(test_wanted_counts_held_and_dialing)
{
	struct kw_key k = key_of(8003);
	struct kwb_warm *t;

	reset();
	t = kwb_warm_note(&k, NETNS, CGROUP, 1000);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_eq(kwb_warm_note(&k, NETNS, CGROUP, 2000), t); /* the same target, refreshed */
	ck_assert_uint_eq(t->used_ms, 2000);
	ck_assert_uint_eq(kwb_warm_wanted(t, 0, 3, 90000, 2000), 3);
	ck_assert_uint_eq(kwb_warm_wanted(t, 2, 3, 90000, 2000), 1);
	t->dialing = 1;
	ck_assert_uint_eq(kwb_warm_wanted(t, 2, 3, 90000, 2000), 0);
	ck_assert_uint_eq(kwb_warm_wanted(t, 5, 3, 90000, 2000), 0); /* more than wanted: none */
	t->dialing = 0;
	/* unused for longer than the idle timeout: left to go cold */
	ck_assert_uint_eq(kwb_warm_wanted(t, 0, 3, 90000, 2000 + 90000), 3);
	ck_assert_uint_eq(kwb_warm_wanted(t, 0, 3, 90000, 2000 + 90001), 0);
	ck_assert_uint_eq(kwb_warm_wanted(t, 0, 3, 0, 2000 + 900000), 3); /* no idle limit */
	ck_assert_uint_eq(kwb_warm_wanted(NULL, 0, 3, 0, 0), 0);
}
END_TEST

START_TEST(test_failed_dials_back_off)
{
	struct kw_key k = key_of(8004);
	struct kwb_warm *t;
	uint64_t now = 5000;
	const uint64_t waits[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };

	reset();
	t = kwb_warm_note(&k, NETNS, CGROUP, now);
	for (unsigned i = 0; i < sizeof waits / sizeof waits[0]; i++) {
		t->dialing = 1;
		kwb_warm_dialled(t, false, now);
		ck_assert_uint_eq(t->dialing, 0);
		ck_assert_uint_eq(t->retry_ms, now + waits[i]);
		ck_assert_uint_eq(kwb_warm_wanted(t, 0, 2, 0, now + waits[i] - 1), 0);
		ck_assert_uint_eq(kwb_warm_wanted(t, 0, 2, 0, now + waits[i]), 2);
		now += waits[i];
	}
	kwb_warm_dialled(t, true, now);
	ck_assert_uint_eq(t->failures, 0);
	kwb_warm_dialled(t, false, now);
	ck_assert_uint_eq(t->retry_ms, now + 1000); /* a success starts the back-off over */
}
END_TEST

START_TEST(test_spoiled_for_good)
{
	struct kw_key k = key_of(8005), other = key_of(8006);
	struct kwb_warm *t;

	reset();
	t = kwb_warm_note(&k, NETNS, CGROUP, 10);
	kwb_warm_spoiled(&other); /* no target: nothing happens */
	ck_assert_uint_eq(kwb_warm_wanted(t, 0, 2, 0, 10), 2);
	kwb_warm_spoiled(&k);
	ck_assert_uint_eq(kwb_warm_wanted(t, 0, 2, 0, 10), 0);
	ck_assert_ptr_null(kwb_warm_note(&k, NETNS, CGROUP, 20));
}
END_TEST

START_TEST(test_a_full_table_forgets_the_least_used)
{
	struct kw_key k;
	struct kwb_warm *t, *dialing;

	reset();
	for (unsigned i = 0; i < KWB_WARM_MAX; i++) {
		k = key_of((uint16_t)(9000 + i));
		ck_assert_ptr_nonnull(kwb_warm_note(&k, NETNS, CGROUP, 100 + i));
	}
	/* 9000 is the least recently used but has a dial under way: 9001 goes. */
	k = key_of(9000);
	dialing = kwb_warm_note(&k, NETNS, CGROUP, 100);
	dialing->dialing = 1;
	k = key_of(9999);
	t = kwb_warm_note(&k, NETNS, CGROUP, 500);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->used_ms, 500);
	ck_assert_ptr_eq(find(&k), t);
	k = key_of(9001);
	ck_assert_ptr_null(find(&k));
	k = key_of(9000);
	ck_assert_ptr_eq(find(&k), dialing);
}
END_TEST

static Suite *broker_dests_suite(void)
{
	Suite *s = suite_create("broker_dests");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_only_the_brokers_own_plain_keys);
	tcase_add_test(tc, test_learned_patience_keeps_it_cold);
	tcase_add_test(tc, test_wanted_counts_held_and_dialing);
	tcase_add_test(tc, test_failed_dials_back_off);
	tcase_add_test(tc, test_spoiled_for_good);
	tcase_add_test(tc, test_a_full_table_forgets_the_least_used);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(broker_dests_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
