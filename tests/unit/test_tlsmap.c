/* test_tlsmap.c - unit tests for shim/logic/tlsmap.h: the ClientHello test
 * and the table of sessions. */
#include <check.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logic/tlsmap.h"

static const unsigned char hello[] = { 22, 3, 1, 0, 0xc8, 1, 0, 0, 0xc4, 3, 3 };

static bool is_hello(const void *buf, size_t len, size_t sent)
{
	struct iovec iov = { (void *)buf, len };
	return kw_tls_client_hello(&iov, 1, sent);
}

START_TEST(test_client_hello)
{
	unsigned char b[sizeof hello];
	struct iovec split[3] = { { (void *)hello, 2 }, { (void *)(hello + 2), 0 },
	                          { (void *)(hello + 2), sizeof hello - 2 } };

	ck_assert(is_hello(hello, sizeof hello, sizeof hello));
	ck_assert(kw_tls_client_hello(split, 3, sizeof hello));
	/* Six bytes are needed, of what was sent. */
	ck_assert(is_hello(hello, 6, 6));
	ck_assert(!is_hello(hello, 5, 5));
	ck_assert(!is_hello(hello, sizeof hello, 5));
	/* Another record type, version or handshake type. */
	memcpy(b, hello, sizeof b);
	b[0] = 23;
	ck_assert(!is_hello(b, sizeof b, sizeof b));
	memcpy(b, hello, sizeof b);
	b[1] = 2;
	ck_assert(!is_hello(b, sizeof b, sizeof b));
	memcpy(b, hello, sizeof b);
	b[2] = 5;
	ck_assert(!is_hello(b, sizeof b, sizeof b));
	memcpy(b, hello, sizeof b);
	b[5] = 2; /* ServerHello */
	ck_assert(!is_hello(b, sizeof b, sizeof b));
	memcpy(b, hello, sizeof b);
	b[3] = 0;
	b[4] = 3; /* too short to hold a handshake header */
	ck_assert(!is_hello(b, sizeof b, sizeof b));
	ck_assert(!is_hello("GET / HTTP/1.1\r\n", 16, 16));
	ck_assert_str_eq(kw_tls_lib_name(KW_TLS_GNUTLS), "gnutls");
	ck_assert_str_eq(kw_tls_lib_name(KW_TLS_OPENSSL), "openssl");
	ck_assert_str_eq(kw_tls_lib_name(KW_TLS_LIBS), "?");
}
END_TEST

static struct kw_tls_map m;

/* Handles that all land in a few slots, like heap addresses. */
static const void *handle(unsigned i)
{
	return (const void *)(uintptr_t)(0x10000 + 64 * (uintptr_t)i);
}

START_TEST(test_add_find_drop)
{
	struct kw_tls_session *e;

	kw_tls_map_clear(&m);
	ck_assert_ptr_null(kw_tls_map_find(&m, handle(1), KW_TLS_OPENSSL));
	e = kw_tls_map_add(&m, handle(1), KW_TLS_OPENSSL);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->state, KW_TLS_SEEN);
	ck_assert_int_eq(e->hint_fd, -1);
	ck_assert_int_eq(e->fd, -1);
	ck_assert(!e->handshaken);
	e->hint_fd = 7;
	ck_assert_ptr_eq(kw_tls_map_add(&m, handle(1), KW_TLS_OPENSSL), e); /* found, kept */
	ck_assert_int_eq(e->hint_fd, 7);
	/* The same address in the other library is another session. */
	ck_assert_ptr_null(kw_tls_map_find(&m, handle(1), KW_TLS_GNUTLS));
	ck_assert_ptr_null(kw_tls_map_add(&m, NULL, KW_TLS_GNUTLS));
	kw_tls_map_drop(&m, handle(1), KW_TLS_OPENSSL);
	ck_assert_ptr_null(kw_tls_map_find(&m, handle(1), KW_TLS_OPENSSL));
	ck_assert_uint_eq(m.n, 0);
}
END_TEST

/* Fill to the limit, drop every other one: the rest are all still found
 * (deletion keeps the probe runs whole). */
START_TEST(test_full_and_runs)
{
	unsigned limit = KW_TLS_MAP_SIZE / 4 * 3, i;

	kw_tls_map_clear(&m);
	for (i = 0; i < limit; i++)
		ck_assert_ptr_nonnull(kw_tls_map_add(&m, handle(i), KW_TLS_GNUTLS));
	ck_assert_ptr_null(kw_tls_map_add(&m, handle(i), KW_TLS_GNUTLS));
	for (i = 0; i < limit; i += 2)
		kw_tls_map_drop(&m, handle(i), KW_TLS_GNUTLS);
	for (i = 0; i < limit; i++)
		ck_assert((kw_tls_map_find(&m, handle(i), KW_TLS_GNUTLS) != NULL) == (i % 2 == 1));
	ck_assert_uint_eq(m.n, limit / 2);
}
END_TEST

static bool gone(const struct kw_tls_session *e, void *arg)
{
	(void)arg;
	return e->state == KW_TLS_GONE;
}

START_TEST(test_sweep)
{
	unsigned limit = KW_TLS_MAP_SIZE / 4 * 3, i;

	kw_tls_map_clear(&m);
	for (i = 0; i < limit; i++)
		kw_tls_map_add(&m, handle(i), KW_TLS_OPENSSL)->state =
			i % 3 ? KW_TLS_BOUND : KW_TLS_GONE;
	ck_assert_uint_eq(kw_tls_map_sweep(&m, gone, NULL), (limit + 2) / 3);
	for (i = 0; i < limit; i++)
		ck_assert((kw_tls_map_find(&m, handle(i), KW_TLS_OPENSSL) != NULL) == (i % 3 != 0));
	ck_assert_ptr_nonnull(kw_tls_map_add(&m, handle(limit), KW_TLS_OPENSSL));
}
END_TEST

/* Only kept sessions are found by their socket's inode; inode 0 is no socket. */
static void check_kept(unsigned from)
{
	for (unsigned k = from; k < 20; k++) {
		struct kw_tls_session *e = kw_tls_map_find_kept(&m, 1000 + k);

		if (k % 2) {
			ck_assert_ptr_null(e);
			continue;
		}
		ck_assert_ptr_eq(e, kw_tls_map_find(&m, handle(2 * k), KW_TLS_GNUTLS));
		ck_assert_int_eq(e->state, KW_TLS_KEPT);
		ck_assert_uint_eq(e->ino, 1000 + k);
	}
}

START_TEST(test_find_kept)
{
	struct kw_tls_session *e;

	kw_tls_map_clear(&m);
	/* Entries 2k and 2k+1 run over inode 1000+k: for k even one is kept,
	 * the other gone; for k odd one is bound, the other gone. */
	for (unsigned i = 0; i < 40; i++) {
		e = kw_tls_map_add(&m, handle(i), KW_TLS_GNUTLS);
		e->state = i % 2 ? KW_TLS_GONE : i % 4 ? KW_TLS_BOUND : KW_TLS_KEPT;
		e->ino = 1000 + i / 2;
	}
	kw_tls_map_add(&m, handle(40), KW_TLS_GNUTLS)->state = KW_TLS_KEPT; /* ino 0 */
	ck_assert_ptr_null(kw_tls_map_find_kept(&m, 0));
	ck_assert_ptr_null(kw_tls_map_find_kept(&m, 999));
	ck_assert_ptr_null(kw_tls_map_find_kept(&m, 1020));
	check_kept(0);
	/* Dropped, it is no longer found; the others still are. */
	kw_tls_map_drop(&m, handle(0), KW_TLS_GNUTLS);
	ck_assert_ptr_null(kw_tls_map_find_kept(&m, 1000));
	check_kept(1);
	e = kw_tls_map_find(&m, handle(1), KW_TLS_GNUTLS);
	e->state = KW_TLS_KEPT;
	ck_assert_ptr_eq(kw_tls_map_find_kept(&m, 1000), e);
	kw_tls_map_clear(&m);
	ck_assert_ptr_null(kw_tls_map_find_kept(&m, 1002));
}
END_TEST

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

/* Dropping or sweeping an entry frees its settings; entries moved back into
 * a hole (the map is full: its runs are long) keep theirs. Under ASan
 * (mk/sanitize.mk, with leak checking) a set not freed is a leak once the map
 * is cleared; without it, the heap shrinks. */
START_TEST(test_drop_frees_set)
{
	enum { N = KW_TLS_MAP_SIZE / 4 * 3 };
	struct kw_tls_session *e;
	size_t full, emptied;
	unsigned i, swept = 0, left = 0;

	kw_tls_map_clear(&m);
	for (i = 0; i < N; i++) {
		e = kw_tls_map_add(&m, handle(i), KW_TLS_GNUTLS);
		e->set = malloc(sizeof *e->set);
		ck_assert_ptr_nonnull(e->set);
		kw_tls_settings_init(e->set, i, true);
		e->state = i % 3 ? KW_TLS_BOUND : KW_TLS_GONE;
	}
	for (i = 0; i < N; i += 2)
		kw_tls_map_drop(&m, handle(i), KW_TLS_GNUTLS);
	for (i = 1; i < N; i += 2) {
		e = kw_tls_map_find(&m, handle(i), KW_TLS_GNUTLS);
		ck_assert_ptr_nonnull(e);
		ck_assert_ptr_nonnull(e->set);
		ck_assert_uint_eq(e->set->init_flags, i);
	}
	for (i = 1; i < N; i += 2) {
		if (i % 3)
			left++;
		else
			swept++;
	}
	ck_assert_uint_eq(kw_tls_map_sweep(&m, gone, NULL), swept);
	ck_assert_uint_eq(m.n, left);
	for (i = 1; i < N; i += 2) {
		e = kw_tls_map_find(&m, handle(i), KW_TLS_GNUTLS);
		ck_assert((e != NULL) == (i % 3 != 0));
		ck_assert(!e || e->set->init_flags == i);
	}
	full = heap_in_use();
	for (i = 1; i < N; i += 2)
		kw_tls_map_drop(&m, handle(i), KW_TLS_GNUTLS);
	emptied = heap_in_use();
	ck_assert_uint_eq(m.n, 0);
	for (i = 0; i < KW_TLS_MAP_SIZE; i++)
		ck_assert_ptr_null(m.e[i].set);
	/* left sets went; a few may stay in malloc's per-thread cache. (Under
	 * ASan or valgrind, glibc's malloc is not the one used, nor counted.) */
#if !defined(__SANITIZE_ADDRESS__)
	if (full)
		ck_assert_uint_ge(full, emptied + (left - 16) * sizeof(struct kw_tls_settings));
#else
	(void)full;
	(void)emptied;
#endif
	kw_tls_map_clear(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tlsmap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_client_hello);
	tcase_add_test(tc, test_add_find_drop);
	tcase_add_test(tc, test_full_and_runs);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_find_kept);
	tcase_add_test(tc, test_drop_frees_set);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
