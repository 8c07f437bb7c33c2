/* test_idle_table.c - unit tests for shim/logic/idle_table.h. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "logic/idle_table.h"

/* The key of destination number i: 10.(i>>16).(i>>8).(i) port 8000 + i%1000,
 * plain TCP. */
static struct kw_key dest_n(unsigned i)
{
	struct sockaddr_in a;
	struct kw_dest d;
	struct kw_key k;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)(8000 + i % 1000));
	a.sin_addr.s_addr = htonl(0x0A000000u | (i & 0xFFFFFFu));
	ck_assert_int_eq(kw_dest_from_sockaddr(&d, (struct sockaddr *)&a, sizeof a), 0);
	kw_key_make(&k, &d, KW_TRANSPORT_PLAIN, 0);
	return k;
}

static struct kw_idle_meta meta(unsigned dest, uint64_t parked, uint64_t expires,
                                uint32_t requests)
{
	struct kw_idle_meta m;
	memset(&m, 0, sizeof m);
	m.key = dest_n(dest);
	m.conn.born_ms = parked > 5 ? parked - 5 : 0;
	m.parked_ms = parked;
	m.expires_ms = expires;
	m.conn.requests = requests;
	return m;
}

static void check_meta_eq(const struct kw_idle_meta *a, const struct kw_idle_meta *b)
{
	ck_assert(kw_key_equal(&a->key, &b->key));
	ck_assert_uint_eq(a->conn.born_ms, b->conn.born_ms);
	ck_assert_uint_eq(a->parked_ms, b->parked_ms);
	ck_assert_uint_eq(a->expires_ms, b->expires_ms);
	ck_assert_uint_eq(a->conn.requests, b->conn.requests);
}

/* Park fd for dest at time `parked`, expiring at parked + 1000000; expect rc 0. */
static void put_ok(struct kw_idle_table *t, int fd, unsigned dest, uint64_t parked)
{
	struct kw_idle_meta m = meta(dest, parked, parked + 1000000, 1);
	struct kw_idle_entry ev;
	ev.fd = -12345;
	int rc = kw_idle_put(t, fd, &m, &ev);
	ck_assert_msg(rc == 0, "put fd %d: rc %d (evicted fd %d), want 0", fd, rc, ev.fd);
}

static int take_fd(struct kw_idle_table *t, unsigned dest, uint64_t now)
{
	struct kw_key d = dest_n(dest);
	struct kw_idle_entry found, expired[8];
	unsigned n_expired = 99;
	found.fd = -12345;
	int rc = kw_idle_take(t, &d, now, &found, expired, 8, &n_expired);
	ck_assert_uint_eq(n_expired, 0);
	if (rc == 0)
		return -1;
	ck_assert_int_eq(rc, 1);
	ck_assert(kw_key_equal(&found.meta.key, &d));
	return found.fd;
}

START_TEST(test_empty)
{
	struct kw_idle_table *t = kw_idle_create(10, 5);
	ck_assert_ptr_nonnull(t);
	struct kw_key d = dest_n(1);
	struct kw_idle_entry e, ex[4];
	unsigned n = 99;
	ck_assert_uint_eq(kw_idle_count(t), 0);
	ck_assert_uint_eq(kw_idle_count_key(t, &d), 0);
	ck_assert_int_eq(kw_idle_take(t, &d, 0, &e, ex, 4, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 0);
	ck_assert_uint_eq(kw_idle_expire(t, UINT64_MAX / 2, ex, 4), 0);
	ck_assert(!kw_idle_renumber(t, 3, 4));
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_lifo_per_destination)
{
	struct kw_idle_table *t = kw_idle_create(100, 10);
	put_ok(t, 10, 1, 1);
	put_ok(t, 20, 2, 2);
	put_ok(t, 11, 1, 3);
	put_ok(t, 21, 2, 4);
	put_ok(t, 12, 1, 5);
	ck_assert_uint_eq(kw_idle_count(t), 5);
	struct kw_key d1 = dest_n(1), d2 = dest_n(2), d3 = dest_n(3);
	ck_assert_uint_eq(kw_idle_count_key(t, &d1), 3);
	ck_assert_uint_eq(kw_idle_count_key(t, &d2), 2);
	ck_assert_uint_eq(kw_idle_count_key(t, &d3), 0);

	ck_assert_int_eq(take_fd(t, 1, 10), 12);
	ck_assert_int_eq(take_fd(t, 1, 10), 11);
	ck_assert_uint_eq(kw_idle_count_key(t, &d1), 1);
	ck_assert_int_eq(take_fd(t, 2, 10), 21);
	put_ok(t, 13, 1, 11); /* parked again: most recent */
	ck_assert_int_eq(take_fd(t, 1, 12), 13);
	ck_assert_int_eq(take_fd(t, 1, 12), 10);
	ck_assert_int_eq(take_fd(t, 1, 12), -1);
	ck_assert_int_eq(take_fd(t, 3, 12), -1);
	ck_assert_uint_eq(kw_idle_count(t), 1);
	ck_assert_int_eq(take_fd(t, 2, 12), 20);
	ck_assert_int_eq(take_fd(t, 2, 12), -1);
	ck_assert_uint_eq(kw_idle_count(t), 0);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_take_returns_meta)
{
	struct kw_idle_table *t = kw_idle_create(4, 4);
	struct kw_idle_meta m = meta(7, 1000, 5000, 42);
	m.conn.born_ms = 17;
	struct kw_idle_entry ev, found, ex[2];
	unsigned n;
	ck_assert_int_eq(kw_idle_put(t, 33, &m, &ev), 0);
	ck_assert_int_eq(kw_idle_take(t, &m.key, 2000, &found, ex, 2, &n), 1);
	ck_assert_int_eq(found.fd, 33);
	check_meta_eq(&found.meta, &m);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_per_host_cap)
{
	struct kw_idle_table *t = kw_idle_create(100, 3);
	struct kw_idle_entry ev;
	put_ok(t, 50, 2, 1); /* another host, least recently parked overall */
	put_ok(t, 10, 1, 2);
	put_ok(t, 11, 1, 3);
	put_ok(t, 12, 1, 4);
	struct kw_idle_meta m = meta(1, 5, 100000, 9);
	ev.fd = -1;
	ck_assert_int_eq(kw_idle_put(t, 13, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 10); /* that host's oldest, not fd 50 */
	struct kw_idle_meta m10 = meta(1, 2, 2 + 1000000, 1);
	check_meta_eq(&ev.meta, &m10);
	struct kw_key d1 = dest_n(1), d2 = dest_n(2);
	ck_assert_uint_eq(kw_idle_count_key(t, &d1), 3);
	ck_assert_uint_eq(kw_idle_count_key(t, &d2), 1);
	ck_assert_uint_eq(kw_idle_count(t), 4);

	m = meta(1, 6, 100000, 9);
	ck_assert_int_eq(kw_idle_put(t, 14, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 11);
	ck_assert_int_eq(take_fd(t, 1, 7), 14);
	ck_assert_int_eq(take_fd(t, 1, 7), 13);
	ck_assert_int_eq(take_fd(t, 1, 7), 12);
	ck_assert_int_eq(take_fd(t, 1, 7), -1);
	ck_assert_int_eq(take_fd(t, 2, 7), 50);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_total_cap)
{
	struct kw_idle_table *t = kw_idle_create(5, 10);
	struct kw_idle_entry ev;
	put_ok(t, 10, 1, 1);
	put_ok(t, 20, 2, 2);
	put_ok(t, 11, 1, 3);
	put_ok(t, 30, 3, 4);
	put_ok(t, 21, 2, 5);
	ck_assert_uint_eq(kw_idle_count(t), 5);

	struct kw_idle_meta m = meta(4, 6, 100000, 1);
	ck_assert_int_eq(kw_idle_put(t, 40, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 10);
	ck_assert_uint_eq(kw_idle_count(t), 5);
	m = meta(4, 7, 100000, 1);
	ck_assert_int_eq(kw_idle_put(t, 41, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 20);
	m = meta(2, 8, 100000, 1);
	ck_assert_int_eq(kw_idle_put(t, 22, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 11);

	struct kw_key d1 = dest_n(1), d2 = dest_n(2), d4 = dest_n(4);
	ck_assert_uint_eq(kw_idle_count_key(t, &d1), 0);
	ck_assert_uint_eq(kw_idle_count_key(t, &d2), 2);
	ck_assert_uint_eq(kw_idle_count_key(t, &d4), 2);
	ck_assert_int_eq(take_fd(t, 1, 9), -1);
	ck_assert_int_eq(take_fd(t, 2, 9), 22);
	ck_assert_int_eq(take_fd(t, 2, 9), 21);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_both_caps_one_eviction)
{
	/* Host 1 full and table full: only host 1's oldest goes. */
	struct kw_idle_table *t = kw_idle_create(3, 2);
	struct kw_idle_entry ev;
	put_ok(t, 20, 2, 1);
	put_ok(t, 10, 1, 2);
	put_ok(t, 11, 1, 3);
	struct kw_idle_meta m = meta(1, 4, 100000, 1);
	ck_assert_int_eq(kw_idle_put(t, 12, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 10);
	ck_assert_uint_eq(kw_idle_count(t), 3);
	ck_assert_int_eq(take_fd(t, 2, 5), 20);
	ck_assert_int_eq(take_fd(t, 1, 5), 12);
	ck_assert_int_eq(take_fd(t, 1, 5), 11);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_cap_zero)
{
	struct kw_idle_entry ev;
	struct kw_idle_meta m = meta(1, 1, 1000, 1);

	struct kw_idle_table *t = kw_idle_create(0, 5);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(kw_idle_put(t, 3, &m, &ev), -1);
	ck_assert_int_eq(kw_idle_put(t, 4, &m, &ev), -1);
	ck_assert_uint_eq(kw_idle_count(t), 0);
	ck_assert_uint_eq(kw_idle_count_key(t, &m.key), 0);
	kw_idle_destroy(t);

	t = kw_idle_create(5, 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(kw_idle_put(t, 3, &m, &ev), -1);
	ck_assert_uint_eq(kw_idle_count(t), 0);
	kw_idle_destroy(t);

	t = kw_idle_create(0, 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(kw_idle_put(t, 3, &m, &ev), -1);
	ck_assert_uint_eq(kw_idle_count(t), 0);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_cap_one)
{
	struct kw_idle_table *t = kw_idle_create(1, 1);
	struct kw_idle_entry ev;
	put_ok(t, 10, 1, 1);
	struct kw_idle_meta m = meta(2, 2, 100000, 1);
	ck_assert_int_eq(kw_idle_put(t, 20, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 10);
	m = meta(2, 3, 100000, 1);
	ck_assert_int_eq(kw_idle_put(t, 21, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 20);
	ck_assert_uint_eq(kw_idle_count(t), 1);
	ck_assert_int_eq(take_fd(t, 2, 4), 21);
	kw_idle_destroy(t);
}
END_TEST

static bool has_fd(const struct kw_idle_entry *e, unsigned n, int fd)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].fd == fd)
			return true;
	return false;
}

START_TEST(test_take_skips_expired)
{
	struct kw_idle_table *t = kw_idle_create(100, 10);
	struct kw_idle_entry ev, found, ex[8];
	unsigned n = 99;
	struct kw_idle_meta m;
	m = meta(1, 1, 1000, 1); ck_assert_int_eq(kw_idle_put(t, 10, &m, &ev), 0);
	m = meta(1, 2, 10, 1);   ck_assert_int_eq(kw_idle_put(t, 11, &m, &ev), 0);
	m = meta(1, 3, 20, 1);   ck_assert_int_eq(kw_idle_put(t, 12, &m, &ev), 0);
	m = meta(2, 4, 30, 1);   ck_assert_int_eq(kw_idle_put(t, 20, &m, &ev), 0);

	struct kw_key d1 = dest_n(1), d2 = dest_n(2);
	/* At 5 nothing has expired: plain LIFO. */
	ck_assert_int_eq(kw_idle_take(t, &d1, 5, &found, ex, 8, &n), 1);
	ck_assert_int_eq(found.fd, 12);
	ck_assert_uint_eq(n, 0);
	m = meta(1, 6, 20, 1);
	ck_assert_int_eq(kw_idle_put(t, 12, &m, &ev), 0);

	/* At 500: 12 and 11 expired (met first), 10 still fresh. */
	ck_assert_int_eq(kw_idle_take(t, &d1, 500, &found, ex, 8, &n), 1);
	ck_assert_int_eq(found.fd, 10);
	ck_assert_uint_eq(n, 2);
	ck_assert(has_fd(ex, n, 11));
	ck_assert(has_fd(ex, n, 12));
	ck_assert_uint_eq(kw_idle_count_key(t, &d1), 0);
	/* Other destinations are not touched by take. */
	ck_assert_uint_eq(kw_idle_count_key(t, &d2), 1);
	ck_assert_uint_eq(kw_idle_count(t), 1);

	/* All of a destination's entries expired: 0, all handed back. */
	ck_assert_int_eq(kw_idle_take(t, &d2, 500, &found, ex, 8, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ex[0].fd, 20);
	ck_assert_uint_eq(ex[0].meta.expires_ms, 30);
	ck_assert_uint_eq(kw_idle_count(t), 0);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_take_max_expired_respected)
{
	/* More expired entries than room: never more than max_expired handed back,
	 * nothing lost, and whatever is found has not expired. */
	for (unsigned max = 0; max <= 4; max++) {
		struct kw_idle_table *t = kw_idle_create(100, 10);
		struct kw_idle_entry ev, found, ex[8];
		struct kw_idle_meta m;
		m = meta(1, 1, 1000, 1);
		ck_assert_int_eq(kw_idle_put(t, 10, &m, &ev), 0);
		for (int i = 0; i < 4; i++) {
			m = meta(1, (uint64_t)(2 + i), 50, 1);
			ck_assert_int_eq(kw_idle_put(t, 11 + i, &m, &ev), 0);
		}
		for (unsigned k = 0; k < 8; k++)
			ex[k].fd = -7;
		unsigned n = 99;
		int rc = kw_idle_take(t, &m.key, 500, &found, ex, max, &n);
		ck_assert_uint_le(n, max);
		ck_assert_int_eq(ex[max].fd, -7);
		if (rc == 1) {
			ck_assert_int_eq(found.fd, 10);
		}
		ck_assert_uint_eq(kw_idle_count(t) + n + (unsigned)rc, 5);
		for (unsigned k = 0; k < n; k++)
			ck_assert(ex[k].fd >= 11 && ex[k].fd <= 14);
		if (max >= 4) {
			ck_assert_int_eq(rc, 1);
			ck_assert_uint_eq(n, 4);
		}
		kw_idle_destroy(t);
	}
}
END_TEST

START_TEST(test_expire_from_old_end)
{
	struct kw_idle_table *t = kw_idle_create(100, 10);
	struct kw_idle_entry ev, out[8];
	struct kw_idle_meta m;
	m = meta(1, 1, 100, 1); ck_assert_int_eq(kw_idle_put(t, 10, &m, &ev), 0);
	m = meta(2, 2, 110, 1); ck_assert_int_eq(kw_idle_put(t, 20, &m, &ev), 0);
	m = meta(1, 3, 120, 1); ck_assert_int_eq(kw_idle_put(t, 11, &m, &ev), 0);
	m = meta(3, 4, 130, 1); ck_assert_int_eq(kw_idle_put(t, 30, &m, &ev), 0);
	m = meta(2, 5, 140, 1); ck_assert_int_eq(kw_idle_put(t, 21, &m, &ev), 0);

	ck_assert_uint_eq(kw_idle_expire(t, 50, out, 8), 0);
	ck_assert_uint_eq(kw_idle_count(t), 5);

	/* At 125: 10, 20, 11 expired; max 2 takes the two oldest. */
	ck_assert_uint_eq(kw_idle_expire(t, 125, out, 2), 2);
	ck_assert_int_eq(out[0].fd, 10);
	ck_assert_int_eq(out[1].fd, 20);
	ck_assert_uint_eq(out[1].meta.expires_ms, 110);
	ck_assert_uint_eq(kw_idle_count(t), 3);
	ck_assert_uint_eq(kw_idle_expire(t, 125, out, 8), 1);
	ck_assert_int_eq(out[0].fd, 11);
	ck_assert_uint_eq(kw_idle_expire(t, 125, out, 8), 0);
	ck_assert_uint_eq(kw_idle_count(t), 2);
	ck_assert_uint_eq(kw_idle_expire(t, 125, out, 0), 0);
	ck_assert_uint_eq(kw_idle_expire(t, 1000, out, 0), 0);
	ck_assert_uint_eq(kw_idle_count(t), 2);

	ck_assert_uint_eq(kw_idle_expire(t, 1000, out, 8), 2);
	ck_assert_int_eq(out[0].fd, 30);
	ck_assert_int_eq(out[1].fd, 21);
	ck_assert_uint_eq(kw_idle_count(t), 0);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_expire_stops_at_first_unexpired)
{
	struct kw_idle_table *t = kw_idle_create(100, 10);
	struct kw_idle_entry ev, out[8];
	struct kw_idle_meta m;
	m = meta(1, 1, 1000, 1); ck_assert_int_eq(kw_idle_put(t, 10, &m, &ev), 0);
	m = meta(2, 2, 10, 1);   ck_assert_int_eq(kw_idle_put(t, 20, &m, &ev), 0);
	/* The oldest (10) has not expired at 500: the scan stops there. */
	ck_assert_uint_eq(kw_idle_expire(t, 500, out, 8), 0);
	ck_assert_uint_eq(kw_idle_count(t), 2);
	ck_assert_uint_eq(kw_idle_expire(t, 2000, out, 8), 2);
	ck_assert_int_eq(out[0].fd, 10);
	ck_assert_int_eq(out[1].fd, 20);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_pop_oldest_order)
{
	struct kw_idle_table *t = kw_idle_create(100, 10);
	struct kw_idle_entry e;
	put_ok(t, 10, 1, 1);
	put_ok(t, 20, 2, 2);
	put_ok(t, 11, 1, 3);
	put_ok(t, 30, 3, 4);
	put_ok(t, 12, 1, 5);
	ck_assert_int_eq(take_fd(t, 1, 6), 12); /* taken from the new end */
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 10);
	ck_assert_uint_eq(e.meta.parked_ms, 1);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 20);
	put_ok(t, 13, 1, 7);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 11);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 30);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 13);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 0);
	ck_assert_uint_eq(kw_idle_count(t), 0);
	struct kw_key d1 = dest_n(1);
	ck_assert_uint_eq(kw_idle_count_key(t, &d1), 0);
	ck_assert_int_eq(take_fd(t, 1, 8), -1);
	kw_idle_destroy(t);
}
END_TEST

/* Probes go on oldest first, each entry once, only for entries parked at or
 * before the limit; removals (take, pop, evict) in front of or at the next
 * unmarked entry keep the walk right; the bits are added to touched. */
START_TEST(test_probe_due)
{
	struct kw_idle_table *t = kw_idle_create(100, 10);
	struct kw_idle_entry e;
	int out[8];

	ck_assert_uint_eq(kw_idle_probe_due(t, 1000, 0, 0x3, out, 8), 0); /* empty */
	put_ok(t, 10, 1, 1);
	put_ok(t, 20, 2, 2);
	put_ok(t, 11, 1, 3);
	ck_assert_uint_eq(kw_idle_probe_due(t, 0, 0, 0x3, out, 8), 0); /* none parked that early */
	ck_assert_uint_eq(kw_idle_probe_due(t, 2, 0, 0x3, out, 8), 2);
	ck_assert_int_eq(out[0], 10);
	ck_assert_int_eq(out[1], 20);
	ck_assert_uint_eq(kw_idle_probe_due(t, 2, 0, 0x3, out, 8), 0); /* each once */
	/* The next unmarked entry (11) taken: the walk goes on after it. */
	ck_assert_int_eq(take_fd(t, 1, 4), 11);
	put_ok(t, 12, 1, 5);
	put_ok(t, 30, 3, 6);
	put_ok(t, 31, 3, 7);
	ck_assert_uint_eq(kw_idle_probe_due(t, 6, 0, 0x3, out, 1), 1); /* max respected */
	ck_assert_int_eq(out[0], 12);
	ck_assert_uint_eq(kw_idle_probe_due(t, 6, 0, 0x3, out, 8), 1);
	ck_assert_int_eq(out[0], 30);
	/* A marked entry comes out marked, with the bits in touched. */
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 10);
	ck_assert(e.meta.probing);
	ck_assert_uint_eq(e.meta.conn.touched, 0x3);
	/* Everything before the walk's place removed, then the place itself. */
	ck_assert_int_eq(take_fd(t, 2, 8), 20);
	ck_assert_int_eq(take_fd(t, 3, 8), 31); /* newest of dest 3, unmarked */
	ck_assert_int_eq(take_fd(t, 3, 8), 30);
	ck_assert_int_eq(take_fd(t, 1, 8), 12);
	ck_assert_uint_eq(kw_idle_count(t), 0);
	put_ok(t, 40, 4, 9);
	ck_assert_uint_eq(kw_idle_probe_due(t, 9, 0, 0x3, out, 8), 1);
	ck_assert_int_eq(out[0], 40);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert(e.meta.probing);
	put_ok(t, 41, 4, 10);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert(!e.meta.probing); /* parked after the last walk, never due */
	/* One that expires within longer_than_ms of its park is passed over:
	 * marked, left out, its touched options unchanged. */
	struct kw_idle_meta brief = meta(5, 20, 20 + 30000, 1), lasting = meta(5, 21, 21 + 30001, 1);
	struct kw_idle_entry ev;
	ck_assert_int_eq(kw_idle_put(t, 50, &brief, &ev), 0);
	ck_assert_int_eq(kw_idle_put(t, 51, &lasting, &ev), 0);
	ck_assert_uint_eq(kw_idle_probe_due(t, 30, 30000, 0x3, out, 8), 1);
	ck_assert_int_eq(out[0], 51);
	ck_assert_uint_eq(kw_idle_probe_due(t, 30, 30000, 0x3, out, 8), 0);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 50);
	ck_assert_uint_eq(e.meta.conn.touched, 0);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_renumber)
{
	struct kw_idle_table *t = kw_idle_create(100, 10);
	put_ok(t, 10, 1, 1);
	put_ok(t, 11, 1, 2);
	put_ok(t, 20, 2, 3);
	ck_assert(kw_idle_renumber(t, 10, 100));
	ck_assert(!kw_idle_renumber(t, 10, 101)); /* gone from the old number */
	ck_assert(!kw_idle_renumber(t, 99, 5));
	ck_assert(kw_idle_renumber(t, 20, 200));
	ck_assert_uint_eq(kw_idle_count(t), 3);
	ck_assert_int_eq(take_fd(t, 1, 4), 11);
	ck_assert_int_eq(take_fd(t, 1, 4), 100);
	struct kw_idle_entry e;
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 200);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_remove_fd)
{
	struct kw_idle_table *t = kw_idle_create(100, 10);
	struct kw_idle_entry e;
	put_ok(t, 10, 1, 1);
	put_ok(t, 11, 1, 2);
	put_ok(t, 20, 2, 3);
	ck_assert(kw_idle_remove_fd(t, 11, &e));
	ck_assert_int_eq(e.fd, 11);
	ck_assert(!kw_idle_remove_fd(t, 11, &e)); /* gone */
	ck_assert(!kw_idle_remove_fd(t, 99, &e));
	ck_assert_uint_eq(kw_idle_count(t), 2);
	ck_assert(kw_idle_remove_fd(t, 20, &e)); /* its key's last entry */
	struct kw_key d2 = dest_n(2);
	ck_assert_uint_eq(kw_idle_count_key(t, &d2), 0);
	ck_assert_int_eq(take_fd(t, 1, 4), 10);
	ck_assert_int_eq(take_fd(t, 2, 4), -1);
	put_ok(t, 21, 2, 5); /* the key's record can be made again */
	ck_assert_int_eq(take_fd(t, 2, 6), 21);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_renumber_then_evict)
{
	struct kw_idle_table *t = kw_idle_create(2, 2);
	struct kw_idle_entry ev;
	put_ok(t, 10, 1, 1);
	put_ok(t, 11, 1, 2);
	ck_assert(kw_idle_renumber(t, 10, 77));
	struct kw_idle_meta m = meta(1, 3, 100000, 1);
	ck_assert_int_eq(kw_idle_put(t, 12, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 77);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_many_destinations)
{
	enum { DESTS = 1000, PER = 10, TOTAL = DESTS * PER };
	struct kw_idle_table *t = kw_idle_create(TOTAL, 20);
	ck_assert_ptr_nonnull(t);
	uint64_t clock = 0;
	/* Round-robin: fd = round * DESTS + dest. */
	for (unsigned r = 0; r < PER; r++)
		for (unsigned d = 0; d < DESTS; d++)
			put_ok(t, (int)(r * DESTS + d), d, ++clock);
	ck_assert_uint_eq(kw_idle_count(t), TOTAL);
	for (unsigned d = 0; d < DESTS; d++) {
		struct kw_key k = dest_n(d);
		ck_assert_uint_eq(kw_idle_count_key(t, &k), PER);
	}

	/* Table full: the least recently parked overall goes, whatever the host. */
	struct kw_idle_entry ev;
	clock++;
	struct kw_idle_meta m = meta(5, clock, clock + 1000000, 1);
	ck_assert_int_eq(kw_idle_put(t, 100000, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 0);
	clock++;
	m = meta(5, clock, clock + 1000000, 1);
	ck_assert_int_eq(kw_idle_put(t, 100001, &m, &ev), 1);
	ck_assert_int_eq(ev.fd, 1);
	ck_assert_uint_eq(kw_idle_count(t), TOTAL);

	/* LIFO within a destination. */
	ck_assert_int_eq(take_fd(t, 5, clock), 100001);
	ck_assert_int_eq(take_fd(t, 5, clock), 100000);
	for (int r = PER - 1; r >= 0; r--)
		ck_assert_int_eq(take_fd(t, 500, clock), r * DESTS + 500);
	ck_assert_int_eq(take_fd(t, 500, clock), -1);
	struct kw_key k0 = dest_n(0), k1 = dest_n(1), k5 = dest_n(5);
	ck_assert_uint_eq(kw_idle_count_key(t, &k0), PER - 1);
	ck_assert_uint_eq(kw_idle_count_key(t, &k1), PER - 1);
	ck_assert_uint_eq(kw_idle_count_key(t, &k5), PER);

	/* Oldest order continues after the two evictions. */
	struct kw_idle_entry e;
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 2);
	ck_assert_int_eq(kw_idle_pop_oldest(t, &e), 1);
	ck_assert_int_eq(e.fd, 3);

	/* Every other destination still has its full LIFO stack. */
	for (unsigned d = 6; d < DESTS; d += 37) {
		if (d == 500)
			continue;
		for (int r = PER - 1; r >= 0; r--)
			ck_assert_int_eq(take_fd(t, d, clock), r * DESTS + (int)d);
		ck_assert_int_eq(take_fd(t, d, clock), -1);
	}

	/* Renumber deep inside the table. */
	ck_assert(kw_idle_renumber(t, 3 * DESTS + 777, 200000));
	ck_assert_int_eq(kw_idle_count_key(t, &(struct kw_key){ 0 }), 0);

	/* Expire everything, oldest first. */
	unsigned left = kw_idle_count(t), got = 0;
	static struct kw_idle_entry out[TOTAL];
	uint64_t last_parked = 0;
	while (1) {
		unsigned n = kw_idle_expire(t, clock + 2000000, out, 333);
		if (n == 0)
			break;
		for (unsigned i = 0; i < n; i++) {
			ck_assert_uint_ge(out[i].meta.parked_ms, last_parked);
			last_parked = out[i].meta.parked_ms;
		}
		got += n;
	}
	ck_assert_uint_eq(got, left);
	ck_assert_uint_eq(kw_idle_count(t), 0);
	kw_idle_destroy(t);
}
END_TEST

START_TEST(test_many_destinations_per_host_cap)
{
	/* Many hosts at their per-host cap: each put evicts that host's own oldest. */
	enum { DESTS = 500, CAP = 4 };
	struct kw_idle_table *t = kw_idle_create(DESTS * CAP + 100, CAP);
	uint64_t clock = 0;
	for (unsigned r = 0; r < CAP; r++)
		for (unsigned d = 0; d < DESTS; d++)
			put_ok(t, (int)(r * DESTS + d), d, ++clock);
	for (unsigned d = 0; d < DESTS; d++) {
		struct kw_idle_entry ev;
		clock++;
		struct kw_idle_meta m = meta(d, clock, clock + 1000000, 1);
		ck_assert_int_eq(kw_idle_put(t, (int)(CAP * DESTS + d), &m, &ev), 1);
		ck_assert_int_eq(ev.fd, (int)d);
	}
	ck_assert_uint_eq(kw_idle_count(t), DESTS * CAP);
	kw_idle_destroy(t);
}
END_TEST

static Suite *idle_suite(void)
{
	Suite *s = suite_create("idle_table");
	TCase *tc = tcase_create("idle_table");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_lifo_per_destination);
	tcase_add_test(tc, test_take_returns_meta);
	tcase_add_test(tc, test_per_host_cap);
	tcase_add_test(tc, test_total_cap);
	tcase_add_test(tc, test_both_caps_one_eviction);
	tcase_add_test(tc, test_cap_zero);
	tcase_add_test(tc, test_cap_one);
	tcase_add_test(tc, test_take_skips_expired);
	tcase_add_test(tc, test_take_max_expired_respected);
	tcase_add_test(tc, test_expire_from_old_end);
	tcase_add_test(tc, test_expire_stops_at_first_unexpired);
	tcase_add_test(tc, test_pop_oldest_order);
	tcase_add_test(tc, test_renumber);
	tcase_add_test(tc, test_remove_fd);
	tcase_add_test(tc, test_renumber_then_evict);
	tcase_add_test(tc, test_many_destinations);
	tcase_add_test(tc, test_many_destinations_per_host_cap);
	tcase_add_test(tc, test_probe_due);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(idle_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
