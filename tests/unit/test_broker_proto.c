/* test_broker_proto.c - unit tests for shim/logic/broker_proto.h: the shim's
 * and the broker's messages (round trips, the wire layout, every refusal)
 * and where the broker listens. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "logic/broker_proto.h"

#define FULL 128 /* PUT, GIVE: head 16, key 32, times 16, metadata 64 */
#define KEYONLY 48 /* TAKE, MISS: head 16, key 32 */
#define HEADONLY 16 /* HELLO */

/* Offsets in a datagram, written out here so that a change of layout shows
 * (the code has its own). */
#define O_KEY  16
#define O_TIME 48
#define O_META 64

static const enum kw_bmsg_type TYPES[] = { KW_BMSG_PUT, KW_BMSG_TAKE, KW_BMSG_GIVE, KW_BMSG_MISS,
                                            KW_BMSG_HELLO };
#define NTYPES (sizeof TYPES / sizeof TYPES[0])
#define NKEYED 4 /* TYPES' first four carry a key */

static bool full(enum kw_bmsg_type t)
{
	return t == KW_BMSG_PUT || t == KW_BMSG_GIVE;
}

static size_t len_of(enum kw_bmsg_type t)
{
	return full(t) ? FULL : t == KW_BMSG_HELLO ? HEADONLY : KEYONLY;
}

/* A little-endian value of n bytes at p, read independently of the code. */
static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static struct kw_key key4(void)
{
	struct kw_dest d;
	struct kw_key k;

	memset(&d, 0, sizeof d);
	d.family = AF_INET;
	d.port = htons(8080);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.77", d.addr), 1);
	kw_key_make(&k, &d, KW_TRANSPORT_PLAIN, 0xdeadbeefu);
	/* Never on the wire: the receiver's key must come out 0. */
	k.netns = 0x1111222233334444ull;
	k.cgroup = 0x5555666677778888ull;
	return k;
}

static struct kw_key key6(void)
{
	struct kw_dest d;
	struct kw_key k;

	memset(&d, 0, sizeof d);
	d.family = AF_INET6;
	d.port = htons(65535);
	d.scope_id = 0x01020304u;
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:1:2:3:4:5:6", d.addr), 1);
	kw_key_make(&k, &d, KW_TRANSPORT_PLAIN, 0x80000001u);
	k.netns = 1;
	k.cgroup = ~0ull;
	return k;
}

static struct kw_conn_meta meta(int32_t server_max)
{
	struct kw_conn_meta c = kw_conn_meta_fresh(0x123456789abcdef0ull);

	c.touched = 0x80000003u;
	c.max_lifetime_ms = 0x100000001ull; /* above 2^32: the high half travels */
	c.requests = 0xfffffffeu;
	c.max_requests = 0x7fffffffu;
	c.server_max = server_max;
	c.patience_ms = 0x200000003ull;
	c.wire_sent = 0xfedcba9876543210ull;
	c.wire_received = 0x0102030405060708ull;
	return c;
}

static struct kw_bmsg msg(enum kw_bmsg_type t, const struct kw_key *k)
{
	struct kw_bmsg m;

	memset(&m, 0, sizeof m);
	m.type = (uint16_t)t;
	m.id = 0x0a0b0c0du;
	m.key = *k;
	/* Set for every type: TAKE and MISS must drop them. */
	m.idle_ms = 0x1234567890ull;
	m.expires_in_ms = 0xffffffffffffffffull;
	m.conn = meta(-1);
	return m;
}

static size_t encode(const struct kw_bmsg *m, uint8_t *buf)
{
	size_t n = kw_bmsg_encode(m, buf, KW_BROKER_MSG_MAX);

	ck_assert_uint_eq(n, len_of((enum kw_bmsg_type)m->type));
	return n;
}

static void check_same_key(const struct kw_key *got, const struct kw_key *sent)
{
	ck_assert_uint_eq(got->dest.family, sent->dest.family);
	ck_assert_uint_eq(got->dest.port, sent->dest.port);
	ck_assert_uint_eq(got->dest.scope_id, sent->dest.scope_id);
	ck_assert_mem_eq(got->dest.addr, sent->dest.addr, 16);
	ck_assert_uint_eq(got->dest.tls, 0);
	ck_assert_uint_eq(got->transport, KW_TRANSPORT_PLAIN);
	ck_assert_uint_eq(got->opts, sent->opts);
	ck_assert_uint_eq(got->netns, 0);
	ck_assert_uint_eq(got->cgroup, 0);
}

static void check_same_meta(const struct kw_conn_meta *got, const struct kw_conn_meta *sent)
{
	ck_assert_uint_eq(got->version, KW_CONN_META_VERSION);
	ck_assert_uint_eq(got->size, sizeof(struct kw_conn_meta));
	ck_assert_uint_eq(got->touched, sent->touched);
	ck_assert_uint_eq(got->born_ms, sent->born_ms);
	ck_assert_uint_eq(got->max_lifetime_ms, sent->max_lifetime_ms);
	ck_assert_uint_eq(got->requests, sent->requests);
	ck_assert_uint_eq(got->max_requests, sent->max_requests);
	ck_assert_int_eq(got->server_max, sent->server_max);
	ck_assert_uint_eq(got->reserved, 0);
	ck_assert_uint_eq(got->patience_ms, sent->patience_ms);
	ck_assert_uint_eq(got->wire_sent, sent->wire_sent);
	ck_assert_uint_eq(got->wire_received, sent->wire_received);
}

/* Encode m, decode it with its type's descriptors into a struct full of
 * junk, and compare. */
static void round_trip(const struct kw_bmsg *m)
{
	uint8_t buf[KW_BROKER_MSG_MAX];
	struct kw_bmsg got;
	size_t n = encode(m, buf);
	enum kw_bmsg_type t = (enum kw_bmsg_type)m->type;
	static const struct kw_conn_meta zero;
	static const struct kw_key nokey;

	memset(&got, 0xa5, sizeof got);
	ck_assert_int_eq(kw_bmsg_decode(buf, n, kw_bmsg_fds(t), &got), KW_BPROTO_OK);
	ck_assert_uint_eq(got.type, m->type);
	ck_assert_uint_eq(got.id, m->id);
	if (t == KW_BMSG_HELLO)
		ck_assert_mem_eq(&got.key, &nokey, sizeof nokey);
	else
		check_same_key(&got.key, &m->key);
	if (full(t)) {
		ck_assert_uint_eq(got.idle_ms, m->idle_ms);
		ck_assert_uint_eq(got.expires_in_ms, m->expires_in_ms);
		check_same_meta(&got.conn, &m->conn);
	} else {
		ck_assert_uint_eq(got.idle_ms, 0);
		ck_assert_uint_eq(got.expires_in_ms, 0);
		ck_assert_mem_eq(&got.conn, &zero, sizeof zero);
	}
}

START_TEST(test_round_trip_every_type)
{
	struct kw_key k4 = key4(), k6 = key6();

	for (size_t i = 0; i < NTYPES; i++) {
		struct kw_bmsg m4 = msg(TYPES[i], &k4), m6 = msg(TYPES[i], &k6);

		round_trip(&m4);
		round_trip(&m6);
		/* The extremes of the fields that carry a sign or a range. */
		m4.id = 0;
		m4.conn.server_max = 0x7fffffff;
		m4.idle_ms = 0;
		round_trip(&m4);
		m6.id = 0xffffffffu;
		m6.conn.server_max = 0;
		m6.conn.touched = 0;
		m6.key.opts = 0;
		round_trip(&m6);
	}
	/* HELLO says no key: whatever the struct holds is not looked at. */
	struct kw_bmsg hello = msg(KW_BMSG_HELLO, &k4);
	hello.key.dest.tls = 1;
	hello.key.dest.family = AF_UNIX;
	hello.key.transport = KW_TRANSPORT_TLS;
	round_trip(&hello);
}
END_TEST

START_TEST(test_wire_layout_little_endian)
{
	struct kw_key k4 = key4(), k6 = key6();
	struct kw_bmsg put = msg(KW_BMSG_PUT, &k4), miss = msg(KW_BMSG_MISS, &k6);
	uint8_t b[KW_BROKER_MSG_MAX];

	ck_assert_uint_eq(kw_bmsg_encode(&put, b, sizeof b), FULL);
	/* KW_BROKER_MAGIC 0x3142574b read little-endian: "KWB1". */
	ck_assert_mem_eq(b, "KWB1", 4);
	ck_assert_uint_eq(le(b, 4), KW_BROKER_MAGIC);
	ck_assert_uint_eq(le(b + 4, 2), KW_BROKER_VERSION);
	ck_assert_uint_eq(le(b + 6, 2), KW_BMSG_PUT);
	ck_assert(b[8] == 0x0d && b[9] == 0x0c && b[10] == 0x0b && b[11] == 0x0a);
	ck_assert_uint_eq(le(b + 12, 4), FULL - KW_BROKER_HEAD);
	/* The key: family, port (as stored: network order, so its bytes are
	 * big-endian), scope, address, tls, transport, padding, options. */
	ck_assert_uint_eq(le(b + O_KEY, 2), AF_INET);
	ck_assert(b[O_KEY + 2] == 0x1f && b[O_KEY + 3] == 0x90);
	ck_assert_uint_eq(le(b + O_KEY + 4, 4), 0);
	ck_assert(b[O_KEY + 8] == 192 && b[O_KEY + 9] == 0 && b[O_KEY + 10] == 2 && b[O_KEY + 11] == 77);
	for (int i = 12; i < 28; i++)
		ck_assert_uint_eq(b[O_KEY + i], 0);
	ck_assert_uint_eq(le(b + O_KEY + 28, 4), 0xdeadbeefu);
	ck_assert(b[O_KEY + 28] == 0xef && b[O_KEY + 31] == 0xde);
	ck_assert_uint_eq(le(b + O_TIME, 8), put.idle_ms);
	ck_assert_uint_eq(le(b + O_TIME + 8, 8), put.expires_in_ms);
	/* The metadata: version, size (the wire's, 64), then its fields. */
	ck_assert_uint_eq(le(b + O_META, 2), KW_CONN_META_VERSION);
	ck_assert_uint_eq(le(b + O_META + 2, 2), 64);
	ck_assert_uint_eq(le(b + O_META + 4, 4), put.conn.touched);
	ck_assert_uint_eq(le(b + O_META + 8, 8), put.conn.born_ms);
	ck_assert(b[O_META + 8] == 0xf0 && b[O_META + 15] == 0x12);
	ck_assert_uint_eq(le(b + O_META + 16, 8), 0x100000001ull);
	ck_assert_uint_eq(le(b + O_META + 24, 4), put.conn.requests);
	ck_assert_uint_eq(le(b + O_META + 28, 4), put.conn.max_requests);
	ck_assert_uint_eq(le(b + O_META + 32, 4), 0xffffffffu); /* server_max -1 */
	ck_assert_uint_eq(le(b + O_META + 36, 4), 0);
	ck_assert_uint_eq(le(b + O_META + 40, 8), put.conn.patience_ms);
	ck_assert_uint_eq(le(b + O_META + 48, 8), put.conn.wire_sent);
	ck_assert_uint_eq(le(b + O_META + 56, 8), put.conn.wire_received);

	ck_assert_uint_eq(kw_bmsg_encode(&miss, b, sizeof b), KEYONLY);
	ck_assert_uint_eq(le(b + 6, 2), KW_BMSG_MISS);
	ck_assert_uint_eq(le(b + 12, 4), KEYONLY - KW_BROKER_HEAD);
	ck_assert_uint_eq(le(b + O_KEY, 2), AF_INET6);
	ck_assert(b[O_KEY + 2] == 0xff && b[O_KEY + 3] == 0xff);
	ck_assert_uint_eq(le(b + O_KEY + 4, 4), 0x01020304u);
	ck_assert(b[O_KEY + 8] == 0x20 && b[O_KEY + 9] == 0x01 && b[O_KEY + 23] == 0x06);
	ck_assert_uint_eq(le(b + O_KEY + 28, 4), 0x80000001u);

	/* Each type's length; the largest fits the receiver's buffer with room
	 * to spare (so a longer datagram is seen, not cut). */
	for (size_t i = 0; i < NTYPES; i++) {
		struct kw_bmsg m = msg(TYPES[i], &k4);
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), len_of(TYPES[i]));
		ck_assert_uint_eq(le(b + 6, 2), TYPES[i]);
		ck_assert_uint_eq(le(b + 12, 4), len_of(TYPES[i]) - KW_BROKER_HEAD);
	}
	struct kw_bmsg hello = msg(KW_BMSG_HELLO, &k4);
	ck_assert_uint_eq(kw_bmsg_encode(&hello, b, sizeof b), HEADONLY);
	ck_assert_mem_eq(b, "KWB1\x01\x00\x05\x00\x0d\x0c\x0b\x0a\x00\x00\x00\x00", HEADONLY);
	ck_assert_uint_lt(FULL, KW_BROKER_MSG_MAX);
}
END_TEST

START_TEST(test_encode_refuses)
{
	struct kw_key k4 = key4(), k6 = key6();
	uint8_t b[KW_BROKER_MSG_MAX];

	for (size_t i = 0; i < NTYPES; i++) {
		struct kw_bmsg m = msg(TYPES[i], &k4);
		size_t len = len_of(TYPES[i]);

		/* The buffer: exactly enough, one byte short, none. */
		memset(b, 0x5a, sizeof b);
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, len - 1), 0);
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, 0), 0);
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, len), len);
		ck_assert_uint_eq(b[len], 0x5a);
		if (TYPES[i] == KW_BMSG_HELLO)
			continue; /* no key to refuse */

		/* TLS, by the destination's flag or the transport, stays home. */
		m.key.dest.tls = 1;
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
		m.key.transport = KW_TRANSPORT_TLS;
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
		m.key.dest.tls = 0;
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
		m.key.transport = KW_TRANSPORT_KINDS;
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
		m.key = k6;
		m.key.transport = KW_TRANSPORT_TLS;
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);

		/* Families other than IPv4 and IPv6, and an IPv4 scope. */
		m.key = k4;
		m.key.dest.family = AF_UNIX;
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
		m.key.dest.family = 0;
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
		m.key.dest.family = AF_INET;
		m.key.dest.scope_id = 1;
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
	}

	struct kw_bmsg m = msg(KW_BMSG_TAKE, &k4);
	static const uint16_t unknown[] = { 0, KW_BMSG_REPORT + 1, 0x0100, 0xffff };
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		m.type = unknown[i];
		ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
	}
}
END_TEST

/* Whatever encode makes of a message decode would refuse, it must not be
 * accepted: either encode says nothing (0) or decode says FIELD. */
START_TEST(test_encode_never_says_what_decode_refuses)
{
	struct kw_key k4 = key4();
	struct kw_bmsg m = msg(KW_BMSG_PUT, &k4), got;
	uint8_t b[KW_BROKER_MSG_MAX];
	size_t n;

	(void)got;
	m.conn.server_max = -2;
	n = kw_bmsg_encode(&m, b, sizeof b);
	ck_assert_uint_eq(n, 0);
	m.conn.server_max = -1;
	m.key.dest.addr[4] = 1;
	n = kw_bmsg_encode(&m, b, sizeof b);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_fd_control)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { 0 };
	int fds[2] = { -1, -1 };

	kw_bmsg_attach_fd(&mh, u.buf, sizeof u.buf, 42);
	ck_assert_uint_eq(mh.msg_controllen, CMSG_SPACE(sizeof(int)));
	ck_assert_uint_eq(kw_bmsg_received_fds(&mh, fds, 2), 1);
	ck_assert_int_eq(fds[0], 42);
	ck_assert_int_eq(fds[1], -1);
	ck_assert_uint_eq(kw_bmsg_received_fds(&mh, fds, 0), 0); /* never past max */
	mh.msg_control = NULL;
	mh.msg_controllen = 0;
	ck_assert_uint_eq(kw_bmsg_received_fds(&mh, fds, 2), 0);
}
END_TEST

START_TEST(test_decode_truncated)
{
	struct kw_key k4 = key4(), k6 = key6();
	uint8_t b[KW_BROKER_MSG_MAX];
	struct kw_bmsg got;

	for (size_t i = 0; i < NTYPES; i++)
		for (int f = 0; f < 2; f++) {
			struct kw_bmsg m = msg(TYPES[i], f ? &k6 : &k4);
			size_t n = encode(&m, b);

			for (size_t len = 0; len < n; len++) {
				enum kw_bproto_error e = kw_bmsg_decode(b, len, kw_bmsg_fds(TYPES[i]), &got);

				ck_assert_int_ne(e, KW_BPROTO_OK);
				/* The header says the body's length, so only the size is wrong. */
				ck_assert_int_eq(e, KW_BPROTO_SHORT);
			}
		}
	/* Nothing at all, even with no buffer. */
	ck_assert_int_eq(kw_bmsg_decode(NULL, 0, 0, &got), KW_BPROTO_SHORT);
}
END_TEST

/* A valid datagram of type t in b, its length returned. */
static size_t valid(enum kw_bmsg_type t, const struct kw_key *k, uint8_t *b)
{
	struct kw_bmsg m = msg(t, k);

	return encode(&m, b);
}

static enum kw_bproto_error decode(const uint8_t *b, size_t n, enum kw_bmsg_type t)
{
	struct kw_bmsg got;

	return kw_bmsg_decode(b, n, kw_bmsg_fds(t), &got);
}

START_TEST(test_decode_header_errors)
{
	struct kw_key k4 = key4();
	uint8_t b[KW_BROKER_MSG_MAX + 8];

	for (size_t i = 0; i < NTYPES; i++) {
		enum kw_bmsg_type t = TYPES[i];
		size_t n = valid(t, &k4, b);

		ck_assert_int_eq(decode(b, n, t), KW_BPROTO_OK);
		/* Magic: one bit off, the next version's, big-endian. */
		b[0] ^= 1;
		ck_assert_int_eq(decode(b, n, t), KW_BPROTO_MAGIC);
		b[0] ^= 1;
		b[3] = '2';
		ck_assert_int_eq(decode(b, n, t), KW_BPROTO_MAGIC);
		memcpy(b, "1BWK", 4);
		ck_assert_int_eq(decode(b, n, t), KW_BPROTO_MAGIC);
		memcpy(b, "KWB1", 4);

		/* Version: 0, 2, 1 big-endian. */
		static const uint8_t versions[][2] = { { 0, 0 }, { 2, 0 }, { 0, 1 } };
		for (size_t v = 0; v < 3; v++) {
			memcpy(b + 4, versions[v], 2);
			ck_assert_int_eq(decode(b, n, t), KW_BPROTO_VERSION);
		}
		b[4] = 1;
		b[5] = 0;

		/* Type: unknown values. */
		static const uint8_t types[][2] = { { 0, 0 }, { KW_BMSG_REPORT + 1, 0 }, { 0, 1 }, { 0xff, 0xff } };
		for (size_t v = 0; v < 4; v++) {
			memcpy(b + 6, types[v], 2);
			ck_assert_int_eq(decode(b, n, t), KW_BPROTO_TYPE);
		}
		b[6] = (uint8_t)t;
		b[7] = 0;

		/* The body's length field: the other type's, 0, one off, a high
		 * byte set. */
		static const uint32_t lens[] = { 0, 31, 32, 33, 111, 112, 113, 0x01000070u, 0x01000020u };
		for (size_t v = 0; v < sizeof lens / sizeof lens[0]; v++) {
			if (lens[v] == n - KW_BROKER_HEAD)
				continue;
			b[12] = (uint8_t)lens[v];
			b[13] = (uint8_t)(lens[v] >> 8);
			b[14] = (uint8_t)(lens[v] >> 16);
			b[15] = (uint8_t)(lens[v] >> 24);
			ck_assert_int_eq(decode(b, n, t), KW_BPROTO_LENGTH);
		}
		b[12] = (uint8_t)(n - KW_BROKER_HEAD);
		b[13] = b[14] = b[15] = 0;
		ck_assert_int_eq(decode(b, n, t), KW_BPROTO_OK);

		/* Longer than its type: a byte more, or a full body's worth. */
		memset(b + n, 0, sizeof b - n);
		ck_assert_int_eq(decode(b, n + 1, t), KW_BPROTO_LENGTH);
		ck_assert_int_eq(decode(b, FULL + 1, t), KW_BPROTO_LENGTH);
		ck_assert_int_eq(decode(b, sizeof b, t), KW_BPROTO_LENGTH);
		if (!full(t))
			ck_assert_int_eq(decode(b, FULL, t), KW_BPROTO_LENGTH);
	}
}
END_TEST

START_TEST(test_decode_descriptor_count)
{
	struct kw_key k4 = key4();
	uint8_t b[KW_BROKER_MSG_MAX];
	struct kw_bmsg got;

	for (size_t i = 0; i < NTYPES; i++) {
		enum kw_bmsg_type t = TYPES[i];
		size_t n = valid(t, &k4, b);
		unsigned want = t == KW_BMSG_MISS || t == KW_BMSG_HELLO ? 0 : 1;

		for (unsigned fds = 0; fds < 5; fds++)
			ck_assert_int_eq(kw_bmsg_decode(b, n, fds, &got),
			                 fds == want ? KW_BPROTO_OK : KW_BPROTO_FDS);
		ck_assert_int_eq(kw_bmsg_decode(b, n, 253, &got), KW_BPROTO_FDS);
		ck_assert_int_eq(kw_bmsg_decode(b, n, ~0u, &got), KW_BPROTO_FDS);
	}
}
END_TEST

/* Byte at offset off set to v: decode says e. */
static void poke(enum kw_bmsg_type t, const struct kw_key *k, size_t off, uint8_t v,
                 enum kw_bproto_error e)
{
	uint8_t b[KW_BROKER_MSG_MAX];
	size_t n = valid(t, k, b);

	ck_assert_uint_lt(off, n);
	b[off] = v;
	ck_assert_msg(decode(b, n, t) == e, "type %d offset %zu = %u: %s, not %s", t, off, v,
	              kw_bproto_error_name(decode(b, n, t)), kw_bproto_error_name(e));
}

START_TEST(test_decode_key_fields)
{
	struct kw_key k4 = key4(), k6 = key6();

	for (size_t i = 0; i < NKEYED; i++) {
		enum kw_bmsg_type t = TYPES[i];

		/* Families: AF_UNIX, 0, AF_INET6's high byte. */
		poke(t, &k4, O_KEY, AF_UNIX, KW_BPROTO_FIELD);
		poke(t, &k4, O_KEY, 0, KW_BPROTO_FIELD);
		poke(t, &k4, O_KEY + 1, 1, KW_BPROTO_FIELD);
		poke(t, &k6, O_KEY + 1, 1, KW_BPROTO_FIELD);
		/* IPv4: a scope, or address bytes past the first four. */
		for (size_t o = 4; o < 8; o++)
			poke(t, &k4, O_KEY + o, 1, KW_BPROTO_FIELD);
		for (size_t o = 12; o < 24; o++) {
			poke(t, &k4, O_KEY + o, 0x80, KW_BPROTO_FIELD);
			poke(t, &k6, O_KEY + o, 0x80, KW_BPROTO_OK);
		}
		/* TLS by either flag, any other transport, the padding. */
		poke(t, &k4, O_KEY + 24, 1, KW_BPROTO_FIELD);
		poke(t, &k6, O_KEY + 24, 0xff, KW_BPROTO_FIELD);
		poke(t, &k4, O_KEY + 25, KW_TRANSPORT_TLS, KW_BPROTO_FIELD);
		poke(t, &k6, O_KEY + 25, KW_TRANSPORT_TLS, KW_BPROTO_FIELD);
		poke(t, &k4, O_KEY + 25, 0xff, KW_BPROTO_FIELD);
		poke(t, &k4, O_KEY + 26, 1, KW_BPROTO_FIELD);
		poke(t, &k6, O_KEY + 27, 0x80, KW_BPROTO_FIELD);
		/* Port and options take any value. */
		poke(t, &k4, O_KEY + 2, 0, KW_BPROTO_OK);
		poke(t, &k4, O_KEY + 31, 0, KW_BPROTO_OK);
	}
}
END_TEST

START_TEST(test_decode_meta_fields)
{
	struct kw_key k4 = key4(), k6 = key6();
	static const enum kw_bmsg_type carry[] = { KW_BMSG_PUT, KW_BMSG_GIVE };

	for (size_t i = 0; i < 2; i++) {
		enum kw_bmsg_type t = carry[i];

		/* Version 0 and 2, or the high byte. */
		poke(t, &k4, O_META, 0, KW_BPROTO_FIELD);
		poke(t, &k4, O_META, 2, KW_BPROTO_FIELD);
		poke(t, &k6, O_META + 1, 1, KW_BPROTO_FIELD);
		/* Size: not the wire's 64. */
		poke(t, &k4, O_META + 2, 63, KW_BPROTO_FIELD);
		poke(t, &k4, O_META + 2, 65, KW_BPROTO_FIELD);
		poke(t, &k4, O_META + 2, 0, KW_BPROTO_FIELD);
		poke(t, &k6, O_META + 3, 1, KW_BPROTO_FIELD);
		/* The reserved word. */
		for (size_t o = 36; o < 40; o++)
			poke(t, &k4, O_META + o, 1, KW_BPROTO_FIELD);
		/* server_max: -1 is "none"; below it is nonsense. -1 is ff ff ff ff,
		 * -2 fe ff ff ff, INT32_MIN 00 00 00 80, INT32_MAX ff ff ff 7f. */
		poke(t, &k4, O_META + 32, 0xfe, KW_BPROTO_FIELD);
		poke(t, &k4, O_META + 32, 0x00, KW_BPROTO_FIELD); /* -256 */
		{
			uint8_t b[KW_BROKER_MSG_MAX];
			size_t n = valid(t, &k6, b);

			memcpy(b + O_META + 32, "\x00\x00\x00\x80", 4);
			ck_assert_int_eq(decode(b, n, t), KW_BPROTO_FIELD);
			memcpy(b + O_META + 32, "\xff\xff\xff\x7f", 4);
			ck_assert_int_eq(decode(b, n, t), KW_BPROTO_OK);
			memcpy(b + O_META + 32, "\x00\x00\x00\x00", 4);
			ck_assert_int_eq(decode(b, n, t), KW_BPROTO_OK);
		}
		/* Every other field takes any value. */
		poke(t, &k4, O_META + 4, 0, KW_BPROTO_OK);
		poke(t, &k4, O_META + 63, 0xff, KW_BPROTO_OK);
		poke(t, &k4, O_TIME, 0, KW_BPROTO_OK);
	}
}
END_TEST

START_TEST(test_decode_never_takes_netns_or_cgroup)
{
	struct kw_key k4 = key4(), k6 = key6();
	uint8_t b[KW_BROKER_MSG_MAX];
	struct kw_bmsg got;

	for (size_t i = 0; i < NTYPES; i++)
		for (int f = 0; f < 2; f++) {
			size_t n = valid(TYPES[i], f ? &k6 : &k4, b);

			memset(&got, 0xff, sizeof got);
			ck_assert_int_eq(kw_bmsg_decode(b, n, kw_bmsg_fds(TYPES[i]), &got), KW_BPROTO_OK);
			ck_assert_uint_eq(got.key.netns, 0);
			ck_assert_uint_eq(got.key.cgroup, 0);
			ck_assert(!got.key.reserved[0] && !got.key.reserved[1] && !got.key.reserved[2]);
			ck_assert(!got.key.dest.reserved[0] && !got.key.dest.reserved[1] &&
			          !got.key.dest.reserved[2]);
		}
}
END_TEST

START_TEST(test_fds)
{
	ck_assert_uint_eq(kw_bmsg_fds(KW_BMSG_PUT), 1);
	ck_assert_uint_eq(kw_bmsg_fds(KW_BMSG_TAKE), 1);
	ck_assert_uint_eq(kw_bmsg_fds(KW_BMSG_GIVE), 1);
	ck_assert_uint_eq(kw_bmsg_fds(KW_BMSG_MISS), 0);
	ck_assert_uint_eq(kw_bmsg_fds(KW_BMSG_HELLO), 0);
	ck_assert_uint_eq(kw_bmsg_fds((enum kw_bmsg_type)0), 0);
	ck_assert_uint_eq(kw_bmsg_fds((enum kw_bmsg_type)(KW_BMSG_HELLO + 1)), 0);
	ck_assert_uint_eq(kw_bmsg_fds((enum kw_bmsg_type)0xffff), 0);
}
END_TEST

START_TEST(test_error_names)
{
	static const char *const want[] = {
		[KW_BPROTO_OK] = "ok",           [KW_BPROTO_SHORT] = "short",
		[KW_BPROTO_MAGIC] = "magic",     [KW_BPROTO_VERSION] = "version",
		[KW_BPROTO_TYPE] = "type",       [KW_BPROTO_LENGTH] = "length",
		[KW_BPROTO_FDS] = "descriptors", [KW_BPROTO_FIELD] = "field",
	};

	for (size_t e = 0; e < sizeof want / sizeof want[0]; e++)
		ck_assert_str_eq(kw_bproto_error_name((enum kw_bproto_error)e), want[e]);
	ck_assert_str_eq(kw_bproto_error_name((enum kw_bproto_error)(KW_BPROTO_FIELD + 1)), "unknown");
	ck_assert_str_eq(kw_bproto_error_name((enum kw_bproto_error)1000), "unknown");
	ck_assert_str_eq(kw_bproto_error_name((enum kw_bproto_error)-1), "unknown");
}
END_TEST

START_TEST(test_answers)
{
	struct kw_key k4 = key4(), k6 = key6();
	struct kw_bmsg q = msg(KW_BMSG_TAKE, &k4), r;
	uint8_t b[KW_BROKER_MSG_MAX];

	/* The shim's own request: a key made in the process, netns 0. */
	q.key.netns = q.key.cgroup = 0;
	r = msg(KW_BMSG_GIVE, &q.key);
	ck_assert(kw_bmsg_answers(&r, &q));
	r.type = KW_BMSG_MISS;
	ck_assert(kw_bmsg_answers(&r, &q));
	/* As decoded from the wire. */
	ck_assert_uint_eq(kw_bmsg_encode(&r, b, sizeof b), KEYONLY);
	ck_assert_int_eq(kw_bmsg_decode(b, KEYONLY, 0, &r), KW_BPROTO_OK);
	ck_assert(kw_bmsg_answers(&r, &q));

	/* Another id, another key (destination, port, options), not a reply. */
	r = msg(KW_BMSG_GIVE, &q.key);
	r.id++;
	ck_assert(!kw_bmsg_answers(&r, &q));
	r = msg(KW_BMSG_MISS, &k6);
	ck_assert(!kw_bmsg_answers(&r, &q));
	r = msg(KW_BMSG_GIVE, &q.key);
	r.key.dest.port ^= 1;
	ck_assert(!kw_bmsg_answers(&r, &q));
	r = msg(KW_BMSG_GIVE, &q.key);
	r.key.opts ^= 1;
	ck_assert(!kw_bmsg_answers(&r, &q));
	r = msg(KW_BMSG_GIVE, &q.key);
	r.key.dest.addr[3] ^= 1;
	ck_assert(!kw_bmsg_answers(&r, &q));
	r = msg(KW_BMSG_PUT, &q.key);
	ck_assert(!kw_bmsg_answers(&r, &q));
	r = msg(KW_BMSG_TAKE, &q.key);
	ck_assert(!kw_bmsg_answers(&r, &q));
	r.type = KW_BMSG_HELLO;
	ck_assert(!kw_bmsg_answers(&r, &q));
	r.type = 0;
	ck_assert(!kw_bmsg_answers(&r, &q));
}
END_TEST

/* kw_broker_path into roomy buffers. */
static bool path_of(const char *value, const char *xdg, unsigned uid, char *path, char *dir)
{
	memset(path, '#', 256);
	memset(dir, '#', 256);
	return kw_broker_path(value, xdg, uid, path, 256, dir, 256);
}

START_TEST(test_broker_path_auto)
{
	char path[256], dir[256];

	ck_assert(path_of("auto", "/run/user/0", 0, path, dir));
	ck_assert_str_eq(path, "/run/user/0/keepwarm/broker");
	ck_assert_str_eq(dir, "/run/user/0/keepwarm");
	ck_assert(path_of("auto", "/run/user/1000", 1000, path, dir));
	ck_assert_str_eq(path, "/run/user/1000/keepwarm/broker");
	ck_assert_str_eq(dir, "/run/user/1000/keepwarm");
	/* No usable XDG_RUNTIME_DIR: /tmp, by uid. */
	ck_assert(path_of("auto", NULL, 1000, path, dir));
	ck_assert_str_eq(path, "/tmp/keepwarm-1000/broker");
	ck_assert_str_eq(dir, "/tmp/keepwarm-1000");
	ck_assert(path_of("auto", "run/user/0", 0, path, dir));
	ck_assert_str_eq(path, "/tmp/keepwarm-0/broker");
	ck_assert_str_eq(dir, "/tmp/keepwarm-0");
	ck_assert(path_of("auto", "", 4294967295u, path, dir));
	ck_assert_str_eq(path, "/tmp/keepwarm-4294967295/broker");
	ck_assert_str_eq(dir, "/tmp/keepwarm-4294967295");

	/* XDG_RUNTIME_DIR long enough that the path is 107 bytes, then 108
	 * ("/keepwarm/broker" adds 16). */
	char xdg[200];
	memset(xdg, 'x', sizeof xdg);
	xdg[0] = '/';
	xdg[107 - 16] = '\0';
	ck_assert(path_of("auto", xdg, 0, path, dir));
	ck_assert_uint_eq(strlen(path), 107);
	ck_assert_uint_eq(strlen(dir), 107 - 7);
	xdg[107 - 16] = 'x';
	xdg[108 - 16] = '\0';
	ck_assert(!path_of("auto", xdg, 0, path, dir));
}
END_TEST

START_TEST(test_broker_path_value)
{
	char path[256], dir[256];

	ck_assert(!path_of("off", "/run/user/0", 0, path, dir));
	ck_assert(!path_of("", "/run/user/0", 0, path, dir));
	ck_assert(!path_of(NULL, "/run/user/0", 0, path, dir));
	ck_assert(path_of("/a/b/sock", "/run/user/0", 0, path, dir));
	ck_assert_str_eq(path, "/a/b/sock");
	ck_assert_str_eq(dir, "/a/b");
	ck_assert(path_of("/sock", NULL, 0, path, dir));
	ck_assert_str_eq(path, "/sock");
	ck_assert_str_eq(dir, "/");
	/* Relative, a directory, the root: no socket path. */
	ck_assert(!path_of("sock", NULL, 0, path, dir));
	ck_assert(!path_of("a/b/sock", NULL, 0, path, dir));
	ck_assert(!path_of("./sock", NULL, 0, path, dir));
	ck_assert(!path_of("/a/b/", NULL, 0, path, dir));
	ck_assert(!path_of("/", NULL, 0, path, dir));
	/* Only "auto" itself is automatic: "Auto" is a relative path. */
	ck_assert(!path_of("Auto", "/run/user/0", 0, path, dir));

	/* A Unix socket address holds 107 bytes and the terminator. */
	char v[200];
	memset(v, 'x', sizeof v);
	memcpy(v, "/d/", 3);
	v[107] = '\0';
	ck_assert(path_of(v, NULL, 0, path, dir));
	ck_assert_str_eq(path, v);
	ck_assert_str_eq(dir, "/d");
	v[107] = 'x';
	v[108] = '\0';
	ck_assert(!path_of(v, NULL, 0, path, dir));
}
END_TEST

START_TEST(test_broker_path_small_buffers)
{
	char path[64], dir[64];
	const size_t p = strlen("/run/user/0/keepwarm/broker") + 1, d = strlen("/run/user/0/keepwarm") + 1;

	/* Exactly enough, then a byte short of each. */
	ck_assert(kw_broker_path("auto", "/run/user/0", 0, path, p, dir, d));
	ck_assert_str_eq(path, "/run/user/0/keepwarm/broker");
	ck_assert_str_eq(dir, "/run/user/0/keepwarm");
	ck_assert(!kw_broker_path("auto", "/run/user/0", 0, path, p - 1, dir, d));
	ck_assert(!kw_broker_path("auto", "/run/user/0", 0, path, p, dir, d - 1));
	ck_assert(!kw_broker_path("auto", "/run/user/0", 0, path, 0, dir, d));
	ck_assert(!kw_broker_path("auto", "/run/user/0", 0, path, p, dir, 0));
	ck_assert(!kw_broker_path("auto", NULL, 0, path, sizeof path, dir, strlen("/tmp/keepwarm-0")));
	ck_assert(!kw_broker_path("auto", NULL, 0, path, strlen("/tmp/keepwarm-0/broker"), dir, sizeof dir));

	ck_assert(kw_broker_path("/a/b/sock", NULL, 0, path, 10, dir, 5));
	ck_assert_str_eq(path, "/a/b/sock");
	ck_assert_str_eq(dir, "/a/b");
	ck_assert(!kw_broker_path("/a/b/sock", NULL, 0, path, 9, dir, 5));
	ck_assert(!kw_broker_path("/a/b/sock", NULL, 0, path, 10, dir, 4));
	ck_assert(!kw_broker_path("/sock", NULL, 0, path, 6, dir, 1));
	ck_assert(kw_broker_path("/sock", NULL, 0, path, 6, dir, 2));
	ck_assert_str_eq(dir, "/");
}
END_TEST

/* STATUS is a bare header; REPORT carries text of any length up to
 * KW_BROKER_REPORT_MAX, never a descriptor, and a length field that must
 * match the datagram. */
START_TEST(test_status_and_report)
{
	static uint8_t b[KW_BROKER_HEAD + KW_BROKER_REPORT_MAX + 1];
	static char text[KW_BROKER_REPORT_MAX + 1];
	struct kw_bmsg m = { .type = KW_BMSG_STATUS, .id = 77 }, d;
	size_t n;

	n = kw_bmsg_encode(&m, b, sizeof b);
	ck_assert_uint_eq(n, KW_BROKER_HEAD);
	ck_assert_int_eq(kw_bmsg_decode(b, n, 0, &d), KW_BPROTO_OK);
	ck_assert_uint_eq(d.type, KW_BMSG_STATUS);
	ck_assert_uint_eq(d.id, 77);
	ck_assert_int_eq(kw_bmsg_decode(b, n, 1, &d), KW_BPROTO_FDS);
	ck_assert_uint_eq(kw_bmsg_fds(KW_BMSG_STATUS), 0);
	ck_assert_uint_eq(kw_bmsg_fds(KW_BMSG_REPORT), 0);

	m = (struct kw_bmsg){ .type = KW_BMSG_REPORT, .id = 78, .text = "a 1\n", .text_len = 4 };
	n = kw_bmsg_encode(&m, b, sizeof b);
	ck_assert_uint_eq(n, KW_BROKER_HEAD + 4);
	ck_assert_uint_eq(le(b + 12, 4), 4);
	ck_assert_int_eq(kw_bmsg_decode(b, n, 0, &d), KW_BPROTO_OK);
	ck_assert_uint_eq(d.id, 78);
	ck_assert_uint_eq(d.text_len, 4);
	ck_assert(!memcmp(d.text, "a 1\n", 4));
	ck_assert_int_eq(kw_bmsg_decode(b, n, 1, &d), KW_BPROTO_FDS);
	ck_assert_int_eq(kw_bmsg_decode(b, n - 1, 0, &d), KW_BPROTO_SHORT);
	ck_assert_int_eq(kw_bmsg_decode(b, n + 1, 0, &d), KW_BPROTO_LENGTH);
	/* An empty report, and the largest. */
	m.text_len = 0;
	n = kw_bmsg_encode(&m, b, sizeof b);
	ck_assert_uint_eq(n, KW_BROKER_HEAD);
	ck_assert_int_eq(kw_bmsg_decode(b, n, 0, &d), KW_BPROTO_OK);
	ck_assert_uint_eq(d.text_len, 0);
	memset(text, 'x', sizeof text);
	m.text = text;
	m.text_len = KW_BROKER_REPORT_MAX;
	n = kw_bmsg_encode(&m, b, sizeof b);
	ck_assert_uint_eq(n, KW_BROKER_HEAD + KW_BROKER_REPORT_MAX);
	ck_assert_int_eq(kw_bmsg_decode(b, n, 0, &d), KW_BPROTO_OK);
	/* Too long to say, or for the buffer; a length field past the limit. */
	m.text_len = KW_BROKER_REPORT_MAX + 1;
	ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
	m.text_len = 10;
	ck_assert_uint_eq(kw_bmsg_encode(&m, b, KW_BROKER_HEAD + 9), 0);
	m.text = NULL;
	ck_assert_uint_eq(kw_bmsg_encode(&m, b, sizeof b), 0);
	b[12] = 0x01;
	b[13] = 0x00;
	b[14] = 0x01; /* 65537 */
	b[15] = 0x00;
	ck_assert_int_eq(kw_bmsg_decode(b, KW_BROKER_HEAD + KW_BROKER_REPORT_MAX + 1, 0, &d),
	                 KW_BPROTO_LENGTH);
}
END_TEST

static Suite *broker_proto_suite(void)
{
	Suite *s = suite_create("broker_proto");
	TCase *tc = tcase_create("broker_proto");
	tcase_add_test(tc, test_round_trip_every_type);
	tcase_add_test(tc, test_wire_layout_little_endian);
	tcase_add_test(tc, test_encode_refuses);
	tcase_add_test(tc, test_encode_never_says_what_decode_refuses);
	tcase_add_test(tc, test_fd_control);
	tcase_add_test(tc, test_decode_truncated);
	tcase_add_test(tc, test_decode_header_errors);
	tcase_add_test(tc, test_decode_descriptor_count);
	tcase_add_test(tc, test_decode_key_fields);
	tcase_add_test(tc, test_decode_meta_fields);
	tcase_add_test(tc, test_decode_never_takes_netns_or_cgroup);
	tcase_add_test(tc, test_fds);
	tcase_add_test(tc, test_error_names);
	tcase_add_test(tc, test_answers);
	tcase_add_test(tc, test_broker_path_auto);
	tcase_add_test(tc, test_broker_path_value);
	tcase_add_test(tc, test_broker_path_small_buffers);
	tcase_add_test(tc, test_status_and_report);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(broker_proto_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
