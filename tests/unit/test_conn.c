/* test_conn.c - unit tests for shim/logic/conn.h: the bookkeeping of one
 * followed socket (reset, dial, replay copy, socket options, epoll
 * registrations, the copied-option table). */
#include <check.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "logic/conn.h"

static const struct kw_transport fake_tp; /* never called: only compared */

static struct kw_conn *fresh(void)
{
	struct kw_conn *c = calloc(1, sizeof *c);

	ck_assert_ptr_nonnull(c);
	kw_conn_reset(c, 42, 7, &fake_tp);
	return c;
}

static void done(struct kw_conn *c)
{
	free(c->replay);
	free(c);
}

START_TEST(test_reset_forgets)
{
	struct kw_conn *c = fresh();
	int one = 1;
	char *kept;

	ck_assert_int_eq(c->owner, 42);
	ck_assert_uint_eq(c->ino, 7);
	ck_assert_ptr_eq(c->tp, &fake_tp);
	c->reused = c->watch_only = c->replayable = c->replayed = c->answered = true;
	c->eof_after_response = c->restore_close = true;
	c->parked_idle_ms = 9;
	c->meta.requests = 5;
	ck_assert(kw_conn_record_opt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
	ck_assert(kw_conn_keep_replay(c, "GET", 3));
	kw_track_request(&c->track, "GET / HTTP/1.1\r\n\r\n", 18);
	kept = c->replay;
	kw_conn_reset(c, 43, 8, &fake_tp);
	ck_assert_int_eq(c->owner, 43);
	ck_assert(!c->reused && !c->watch_only && !c->replayable && !c->replayed && !c->answered);
	ck_assert(!c->eof_after_response && !c->restore_close);
	ck_assert_uint_eq(c->parked_idle_ms, 0);
	ck_assert_uint_eq(c->nopts, 0);
	ck_assert_uint_eq(c->nregs, 0);
	ck_assert_uint_eq(c->replay_len, 0);
	ck_assert_ptr_eq(c->replay, kept); /* the buffer stays for the next connection */
	ck_assert_uint_eq(c->track.requests, 0);
	ck_assert_int_eq(kw_conn_requests(c), 0);
	done(c);
}
END_TEST

START_TEST(test_dialled_and_requests)
{
	struct kw_conn *c = fresh();

	c->meta.wire_sent = 100;
	c->meta.wire_received = 200;
	c->meta.requests = 3;
	kw_conn_dialled(c, 12345);
	ck_assert_uint_eq(c->meta.born_ms, 12345);
	ck_assert_uint_eq(c->meta.wire_sent, 0);
	ck_assert_uint_eq(c->meta.wire_received, 0);
	/* Requests served: those before this exchange plus the answered ones. */
	kw_track_request(&c->track, "GET / HTTP/1.1\r\n\r\n", 18);
	kw_track_response(&c->track, "HTTP/1.1 204 No Content\r\n\r\n", 27);
	ck_assert_int_eq(kw_conn_requests(c), 4);
	done(c);
}
END_TEST

START_TEST(test_replay_copy)
{
	struct kw_conn *c = fresh();
	static char big[KW_REPLAY_MAX];
	struct iovec iov[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };

	c->replayable = true;
	ck_assert(kw_conn_keep_replay(c, "GET ", 4));
	/* Only the first n bytes of the iovec, across entries. */
	ck_assert(kw_conn_keep_replay_iov(c, iov, 3, 4));
	ck_assert_uint_eq(c->replay_len, 8);
	ck_assert(!memcmp(c->replay, "GET abcd", 8));
	ck_assert(c->replayable);
	/* Past KW_REPLAY_MAX: no longer replayable, the copy is refused. */
	memset(big, 'x', sizeof big);
	ck_assert(!kw_conn_keep_replay(c, big, sizeof big));
	ck_assert(!c->replayable);
	ck_assert_uint_eq(c->replay_len, 8);
	/* Exactly KW_REPLAY_MAX fits. */
	kw_conn_reset(c, 1, 1, &fake_tp);
	c->replayable = true;
	ck_assert(kw_conn_keep_replay(c, big, sizeof big));
	ck_assert(c->replayable);
	ck_assert(!kw_conn_keep_replay(c, "y", 1));
	ck_assert(!c->replayable);
	done(c);
}
END_TEST

START_TEST(test_record_opt)
{
	struct kw_conn *c = fresh();
	int v = 1, w = 0;
	unsigned char long_value[KW_CONN_OPT_MAX_LEN + 1] = { 0 };

	ck_assert(kw_conn_record_opt(c, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v));
	ck_assert(kw_conn_record_opt(c, SOL_SOCKET, SO_KEEPALIVE, &w, sizeof w));
	ck_assert_uint_eq(c->nopts, 1); /* the latest value wins */
	ck_assert(!memcmp(c->opts[0].value, &w, sizeof w));
	ck_assert(!kw_conn_record_opt(c, SOL_SOCKET, SO_LINGER, long_value, sizeof long_value));
	ck_assert(!kw_conn_record_opt(c, SOL_SOCKET, SO_LINGER, NULL, 4));
	ck_assert(kw_conn_record_opt(c, SOL_SOCKET, SO_LINGER, NULL, 0));
	for (int name = 100; c->nopts < KW_CONN_MAX_OPTS; name++)
		ck_assert(kw_conn_record_opt(c, IPPROTO_TCP, name, &v, sizeof v));
	ck_assert(!kw_conn_record_opt(c, IPPROTO_TCP, 99, &v, sizeof v)); /* full */
	ck_assert(kw_conn_record_opt(c, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v)); /* update fits */
	done(c);
}
END_TEST

START_TEST(test_record_epoll)
{
	struct kw_conn *c = fresh();
	struct epoll_event in = { .events = EPOLLIN }, out = { .events = EPOLLOUT };

	ck_assert(kw_conn_record_epoll(c, 10, EPOLL_CTL_ADD, &in));
	ck_assert(kw_conn_record_epoll(c, 10, EPOLL_CTL_MOD, &out));
	ck_assert_uint_eq(c->nregs, 1);
	ck_assert_uint_eq(c->regs[0].ev.events, EPOLLOUT);
	/* MOD of a set never added: nothing recorded (the kernel says ENOENT). */
	ck_assert(kw_conn_record_epoll(c, 11, EPOLL_CTL_MOD, &in));
	ck_assert_uint_eq(c->nregs, 1);
	for (int ep = 11; c->nregs < KW_CONN_MAX_EPOLL; ep++)
		ck_assert(kw_conn_record_epoll(c, ep, EPOLL_CTL_ADD, &in));
	ck_assert(!kw_conn_record_epoll(c, 99, EPOLL_CTL_ADD, &in)); /* too many sets */
	ck_assert(kw_conn_record_epoll(c, 10, EPOLL_CTL_DEL, NULL));
	ck_assert_uint_eq(c->nregs, KW_CONN_MAX_EPOLL - 1);
	for (unsigned i = 0; i < c->nregs; i++)
		ck_assert_int_ne(c->regs[i].epfd, 10);
	ck_assert(kw_conn_record_epoll(c, 99, EPOLL_CTL_ADD, &in)); /* room again */
	done(c);
}
END_TEST

START_TEST(test_copied_opts)
{
	uint32_t seen = 0;

	ck_assert_uint_le(kw_ncopied_opts, 32); /* one bit each in a uint32_t */
	for (unsigned i = 0; i < kw_ncopied_opts; i++) {
		uint32_t bit = kw_copied_opt_bit(kw_copied_opts[i].level, kw_copied_opts[i].name);
		ck_assert_uint_eq(bit, 1u << i);
		ck_assert_uint_eq(seen & bit, 0); /* no option listed twice */
		seen |= bit;
	}
	ck_assert_uint_eq(kw_copied_opt_bit(SOL_SOCKET, SO_MARK), 0);
	ck_assert_uint_eq(kw_keepalive_opt_bits(),
	                  kw_copied_opt_bit(SOL_SOCKET, SO_KEEPALIVE) |
	                          kw_copied_opt_bit(IPPROTO_TCP, TCP_KEEPIDLE) |
	                          kw_copied_opt_bit(IPPROTO_TCP, TCP_KEEPINTVL));
	ck_assert_uint_ne(kw_keepalive_opt_bits(), 0);
}
END_TEST

START_TEST(test_opts_hash)
{
	struct kw_conn *c = fresh();
	int one = 1, size = 65536;
	uint32_t h;

	ck_assert_uint_eq(kw_conn_opts_hash(c), 0);
	/* A copied option is put back by value: not part of the key. */
	ck_assert(kw_conn_record_opt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
	ck_assert_uint_eq(kw_conn_opts_hash(c), 0);
	ck_assert(kw_conn_record_opt(c, SOL_SOCKET, SO_RCVBUF, &size, sizeof size));
	h = kw_conn_opts_hash(c);
	ck_assert_uint_ne(h, 0);
	size = 32768;
	ck_assert(kw_conn_record_opt(c, SOL_SOCKET, SO_RCVBUF, &size, sizeof size));
	ck_assert_uint_ne(kw_conn_opts_hash(c), h); /* another value, another key */
	done(c);
}
END_TEST

START_TEST(test_pinning_opts)
{
	ck_assert(kw_sockopt_pins_socket(SOL_SOCKET, SO_BINDTODEVICE));
	ck_assert(kw_sockopt_pins_socket(SOL_SOCKET, SO_MARK));
	ck_assert(kw_sockopt_pins_socket(IPPROTO_IP, IP_TRANSPARENT));
	ck_assert(kw_sockopt_pins_socket(IPPROTO_IPV6, IPV6_FREEBIND));
	ck_assert(kw_sockopt_pins_socket(IPPROTO_TCP, TCP_FASTOPEN_CONNECT));
	ck_assert(!kw_sockopt_pins_socket(SOL_SOCKET, SO_KEEPALIVE));
	ck_assert(!kw_sockopt_pins_socket(IPPROTO_TCP, TCP_NODELAY));
	ck_assert(!kw_sockopt_pins_socket(IPPROTO_IP, IP_TOS));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_reset_forgets);
	tcase_add_test(tc, test_dialled_and_requests);
	tcase_add_test(tc, test_replay_copy);
	tcase_add_test(tc, test_record_opt);
	tcase_add_test(tc, test_record_epoll);
	tcase_add_test(tc, test_copied_opts);
	tcase_add_test(tc, test_opts_hash);
	tcase_add_test(tc, test_pinning_opts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
