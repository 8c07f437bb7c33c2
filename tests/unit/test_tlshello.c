/* test_tlshello.c - unit tests for shim/logic/tlshello.h: ClientHellos of
 * real clients, whole, cut short at every length, split across records and
 * iov elements and with bits flipped; hand-built ones for each rule of the
 * format; and every verdict of kw_tls_hello_allows, in its order. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logic/tlshello.h"

#include "tlshello_captured.h"

struct real {
	const char *name;
	const unsigned char *b;
	size_t n;
};

static const struct real reals[] = {
	{ "openssl13", hello_openssl13, sizeof hello_openssl13 },
	{ "openssl12", hello_openssl12, sizeof hello_openssl12 },
	{ "openssl_bare", hello_openssl_bare, sizeof hello_openssl_bare },
	{ "gnutls", hello_gnutls, sizeof hello_gnutls },
};
#define N_REALS (sizeof reals / sizeof reals[0])

/* A check for loops: a ck_assert that holds still writes to Check's pipe,
 * and the loops make hundreds of thousands. */
#define EXPECT(cond, ...) \
	do { \
		if (!(cond)) \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* Each parse reads a copy of exactly the bytes given, in memory of that size,
 * so that a read past them is caught under AddressSanitizer (make asan). */
static enum kw_tls_hello_status parse_iov(const struct iovec *iov, int iovcnt, size_t n,
                                          struct kw_tls_hello *h)
{
	struct iovec copy[8] = { { NULL, 0 } };
	enum kw_tls_hello_status st;

	EXPECT(iovcnt <= 8, "%d iov elements", iovcnt);
	for (int i = 0; i < iovcnt; i++) {
		copy[i].iov_len = iov[i].iov_len;
		copy[i].iov_base = malloc(iov[i].iov_len ? iov[i].iov_len : 1);
		EXPECT(copy[i].iov_base, "out of memory");
		memcpy(copy[i].iov_base, iov[i].iov_base, iov[i].iov_len);
	}
	st = kw_tls_hello_parse(copy, iovcnt, n, h);
	for (int i = 0; i < iovcnt; i++)
		free(copy[i].iov_base);
	return st;
}

static enum kw_tls_hello_status parse(const unsigned char *b, size_t n, struct kw_tls_hello *h)
{
	struct iovec iov = { (void *)b, n };

	return parse_iov(&iov, 1, n, h);
}

static bool has(const uint16_t *list, unsigned n, uint16_t v)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

/* Two parses read the same hello (the struct's padding is not compared). */
static bool same(const struct kw_tls_hello *a, const struct kw_tls_hello *b)
{
	return a->sni_present == b->sni_present && a->sni_len == b->sni_len &&
	       !memcmp(a->sni, b->sni, sizeof a->sni) && a->alpn_present == b->alpn_present &&
	       a->alpn_len == b->alpn_len && !memcmp(a->alpn, b->alpn, sizeof a->alpn) &&
	       a->legacy_version == b->legacy_version && a->versions_present == b->versions_present &&
	       a->n_versions == b->n_versions && !memcmp(a->versions, b->versions, sizeof a->versions) &&
	       a->n_ciphers == b->n_ciphers && !memcmp(a->ciphers, b->ciphers, sizeof a->ciphers) &&
	       a->groups_present == b->groups_present && a->n_groups == b->n_groups &&
	       !memcmp(a->groups, b->groups, sizeof a->groups) &&
	       a->sigalgs_present == b->sigalgs_present && a->n_sigalgs == b->n_sigalgs &&
	       !memcmp(a->sigalgs, b->sigalgs, sizeof a->sigalgs) &&
	       a->status_request == b->status_request && a->srp == b->srp && a->sct == b->sct &&
	       a->pre_shared_key == b->pre_shared_key && a->early_data == b->early_data &&
	       a->certificate_authorities == b->certificate_authorities &&
	       a->post_handshake_auth == b->post_handshake_auth && a->truncated == b->truncated;
}

/* What any parse that succeeded must hold, whatever the input. */
static bool sane(const struct kw_tls_hello *h)
{
	return h->n_versions <= KW_TLS_HELLO_VERSIONS_MAX &&
	       h->n_ciphers <= KW_TLS_HELLO_CIPHERS_MAX && h->n_groups <= KW_TLS_HELLO_GROUPS_MAX &&
	       h->n_sigalgs <= KW_TLS_HELLO_SIGALGS_MAX && h->alpn_len <= KW_TLS_HELLO_ALPN_MAX &&
	       (h->alpn_present || h->alpn_len == 0) &&
	       (h->sni_present ? h->sni_len >= 1 && h->sni_len < KW_TLS_HELLO_NAME_MAX
	                       : h->sni_len == 0) &&
	       strlen(h->sni) == h->sni_len &&
	       (h->versions_present || (h->n_versions == 1 && h->versions[0] == h->legacy_version));
}

/* ---- hand-built hellos */

static unsigned char msg[1 << 17]; /* a handshake message being built */
static size_t msg_len, ext_at;

static void put(const void *p, size_t n)
{
	memcpy(msg + msg_len, p, n);
	msg_len += n;
}

static void put8(unsigned v)
{
	msg[msg_len++] = (unsigned char)v;
}

static void put16(unsigned v)
{
	put8(v >> 8 & 0xff);
	put8(v & 0xff);
}

static void patch(size_t at, size_t v, size_t k)
{
	for (size_t i = 0; i < k; i++)
		msg[at + i] = (unsigned char)(v >> 8 * (k - 1 - i));
}

/* Where the fixed fields of begin()'s hello lie in msg. */
enum {
	AT_SESSION_ID_LEN = 4 + 2 + 32,
	AT_CIPHERS_LEN = AT_SESSION_ID_LEN + 1 + 32,
	AT_COMPRESSION_LEN = AT_CIPHERS_LEN + 2 + 6,
	AT_EXTENSIONS_LEN = AT_COMPRESSION_LEN + 2,
};

/* A ClientHello's fixed part: a session id of session_id bytes, ciphers
 * GREASE 0x0a0a, 0x1301, 0x1302, compression methods compression bytes;
 * then, with extensions, their block (add() fills it, end() closes it). */
static void begin_with(size_t session_id, size_t compression, bool extensions)
{
	unsigned char fill[64];

	msg_len = 0;
	ext_at = 0;
	put8(1);
	put8(0), put16(0); /* length: end() */
	put16(0x0303);
	memset(fill, 0x11, sizeof fill);
	put(fill, 32);
	put8((unsigned)session_id);
	memset(fill, 0x22, sizeof fill);
	put(fill, session_id);
	put16(6);
	put16(0x0a0a), put16(0x1301), put16(0x1302);
	put8((unsigned)compression);
	memset(fill, 0, sizeof fill);
	put(fill, compression);
	if (extensions) {
		ext_at = msg_len;
		put16(0);
	}
}

/* The usual one: a 32-byte session id, the null compression. */
static void begin(bool extensions)
{
	begin_with(32, 1, extensions);
}

static void add(unsigned type, const void *body, size_t len)
{
	put16(type);
	put16((unsigned)len);
	put(body, len);
}

static void end(void)
{
	if (ext_at)
		patch(ext_at, msg_len - ext_at - 2, 2);
	patch(1, msg_len - 4, 3);
}

/* The extensions' bodies most tests use. */
static const unsigned char sni_example[] = { 0, 15, 0, 0, 12, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                             '.', 't', 'e', 's', 't' };
static const unsigned char alpn_h11[] = { 0, 9, 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
static const unsigned char versions13[] = { 6, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03 };
static const unsigned char groups_x25519[] = { 0, 6, 0x2a, 0x2a, 0x00, 0x1d, 0x00, 0x17 };
static const unsigned char sigalgs_pss[] = { 0, 4, 0x08, 0x04, 0x04, 0x03 };

/* A typical hello, its extension block left open for more. */
static void typical(void)
{
	begin(true);
	add(0, sni_example, sizeof sni_example);
	add(16, alpn_h11, sizeof alpn_h11);
	add(43, versions13, sizeof versions13);
	add(10, groups_x25519, sizeof groups_x25519);
	add(13, sigalgs_pss, sizeof sigalgs_pss);
}

/* msg in records (version 3.1): of cut bytes then the rest (cut 0 or past the
 * end: one record). Returns the length written to out. */
static size_t frame(unsigned char *out, const unsigned char *m, size_t len, size_t cut)
{
	size_t n = 0, at = 0;

	if (cut == 0 || cut >= len)
		cut = len;
	while (at < len) {
		size_t k = at == 0 ? cut : len - at;

		out[n++] = 22, out[n++] = 3, out[n++] = 1;
		out[n++] = (unsigned char)(k >> 8), out[n++] = (unsigned char)k;
		memcpy(out + n, m + at, k);
		n += k, at += k;
	}
	return n;
}

static unsigned char wire[(1 << 17) + 64];

/* msg, closed, in one record: the parse's status. */
static enum kw_tls_hello_status parse_msg(struct kw_tls_hello *h)
{
	end();
	return parse(wire, frame(wire, msg, msg_len, 0), h);
}

/* ---- real hellos */

START_TEST(test_real_hellos)
{
	struct kw_tls_hello h;

	ck_assert_int_eq(parse(hello_openssl13, sizeof hello_openssl13, &h), KW_TLS_HELLO_OK);
	ck_assert(sane(&h));
	ck_assert(h.sni_present);
	ck_assert_str_eq(h.sni, "example.test");
	ck_assert_uint_eq(h.sni_len, 12);
	ck_assert(h.alpn_present);
	ck_assert_uint_eq(h.alpn_len, 9);
	ck_assert_mem_eq(h.alpn, "\x08http/1.1", 9);
	ck_assert_uint_eq(h.legacy_version, 0x0303);
	ck_assert(h.versions_present);
	ck_assert(has(h.versions, h.n_versions, 0x0304));
	ck_assert(has(h.versions, h.n_versions, 0x0303));
	ck_assert(has(h.ciphers, h.n_ciphers, 0x1301));
	ck_assert(has(h.ciphers, h.n_ciphers, 0xc02f));
	ck_assert(h.groups_present);
	ck_assert(has(h.groups, h.n_groups, 0x001d));
	ck_assert(h.sigalgs_present);
	ck_assert(has(h.sigalgs, h.n_sigalgs, 0x0804));
	ck_assert(!h.status_request && !h.sct && !h.srp && !h.early_data && !h.pre_shared_key &&
	          !h.certificate_authorities && !h.post_handshake_auth && !h.truncated);

	/* -tls1_2: no supported_versions, the legacy version stands for it. */
	ck_assert_int_eq(parse(hello_openssl12, sizeof hello_openssl12, &h), KW_TLS_HELLO_OK);
	ck_assert(sane(&h));
	ck_assert_str_eq(h.sni, "example.test");
	ck_assert_mem_eq(h.alpn, "\x08http/1.1", 9);
	ck_assert(!h.versions_present);
	ck_assert_uint_eq(h.n_versions, 1);
	ck_assert_uint_eq(h.versions[0], 0x0303);
	ck_assert(!has(h.ciphers, h.n_ciphers, 0x1301));
	ck_assert(has(h.ciphers, h.n_ciphers, 0xc02f));
	ck_assert(has(h.groups, h.n_groups, 0x001d));

	ck_assert_int_eq(parse(hello_openssl_bare, sizeof hello_openssl_bare, &h), KW_TLS_HELLO_OK);
	ck_assert(sane(&h));
	ck_assert(!h.sni_present);
	ck_assert_uint_eq(h.sni_len, 0);
	ck_assert(!h.alpn_present);
	ck_assert_uint_eq(h.alpn_len, 0);
	ck_assert(has(h.versions, h.n_versions, 0x0304));
	ck_assert(has(h.ciphers, h.n_ciphers, 0x1301));
	ck_assert(has(h.groups, h.n_groups, 0x001d));

	/* GnuTLS asks for OCSP stapling and offers post-handshake auth. */
	ck_assert_int_eq(parse(hello_gnutls, sizeof hello_gnutls, &h), KW_TLS_HELLO_OK);
	ck_assert(sane(&h));
	ck_assert_str_eq(h.sni, "localhost");
	ck_assert(!h.alpn_present);
	ck_assert(has(h.versions, h.n_versions, 0x0304));
	ck_assert(has(h.ciphers, h.n_ciphers, 0x1301));
	ck_assert(has(h.groups, h.n_groups, 0x001d));
	ck_assert(h.status_request);
	ck_assert(h.post_handshake_auth);
	ck_assert(!h.sct && !h.early_data && !h.pre_shared_key && !h.truncated);
}
END_TEST

/* Cut short anywhere, each hello is incomplete, never malformed: whole or
 * split in two records, whether n or the iov ends first. */
START_TEST(test_real_truncated)
{
	struct kw_tls_hello h, whole;

	for (size_t r = 0; r < N_REALS; r++) {
		const unsigned char *b = reals[r].b;
		size_t n = reals[r].n, len = n - 5, cut = len / 2, framed;

		ck_assert_int_eq(parse(b, n, &whole), KW_TLS_HELLO_OK);
		for (size_t k = 0; k < n; k++) {
			struct iovec iov = { (void *)b, n };

			EXPECT(parse(b, k, &h) == KW_TLS_HELLO_INCOMPLETE, "%s at %zu", reals[r].name, k);
			EXPECT(parse_iov(&iov, 1, k, &h) == KW_TLS_HELLO_INCOMPLETE, "%s: n %zu", reals[r].name, k);
			iov.iov_len = k;
			EXPECT(parse_iov(&iov, 1, n + 100, &h) == KW_TLS_HELLO_INCOMPLETE, "%s: iov %zu",
			       reals[r].name, k);
		}
		/* Bytes after the message are not looked at. */
		memcpy(wire, b, n);
		memset(wire + n, 0xff, 64);
		ck_assert_int_eq(parse(wire, n + 64, &h), KW_TLS_HELLO_OK);
		ck_assert(same(&h, &whole));

		ck_assert_uint_eq((size_t)b[3] << 8 | b[4], len); /* one record */
		framed = frame(wire, b + 5, len, cut);
		ck_assert_uint_eq(framed, n + 5);
		for (size_t k = 0; k < framed; k++)
			EXPECT(parse(wire, k, &h) == KW_TLS_HELLO_INCOMPLETE, "%s in two, at %zu",
			       reals[r].name, k);
		ck_assert_int_eq(parse(wire, framed, &h), KW_TLS_HELLO_OK);
	}
}
END_TEST

/* The message split in two records at every byte, or in as many records of
 * one byte each, reads the same. */
START_TEST(test_real_records)
{
	static unsigned char many[6 * 600];
	struct kw_tls_hello h, whole;

	for (size_t r = 0; r < N_REALS; r++) {
		const unsigned char *m = reals[r].b + 5;
		size_t len = reals[r].n - 5, n = 0;

		ck_assert_int_eq(parse(reals[r].b, reals[r].n, &whole), KW_TLS_HELLO_OK);
		for (size_t cut = 1; cut < len; cut++) {
			EXPECT(parse(wire, frame(wire, m, len, cut), &h) == KW_TLS_HELLO_OK && same(&h, &whole),
			       "%s cut at %zu", reals[r].name, cut);
		}
		ck_assert_uint_le(len * 6, sizeof many);
		for (size_t i = 0; i < len; i++)
			n += frame(many + n, m + i, 1, 0);
		ck_assert_int_eq(parse(many, n, &h), KW_TLS_HELLO_OK);
		ck_assert(same(&h, &whole));
		for (size_t k = 0; k < n; k++)
			EXPECT(parse(many, k, &h) == KW_TLS_HELLO_INCOMPLETE, "%s in bytes, at %zu",
			       reals[r].name, k);
	}
}
END_TEST

/* The bytes spread over iov elements (empty ones among them), at every pair
 * of places, in one record and in two. */
START_TEST(test_real_iov)
{
	struct kw_tls_hello h, whole;

	for (size_t r = 0; r < N_REALS; r++) {
		size_t len = reals[r].n - 5;

		ck_assert_int_eq(parse(reals[r].b, reals[r].n, &whole), KW_TLS_HELLO_OK);
		for (size_t cut = 0; cut < len; cut += len / 3) {
			size_t n = frame(wire, reals[r].b + 5, len, cut);

			for (size_t a = 0; a <= n; a += 3) {
				for (size_t b = a; b <= n; b += 7) {
					struct iovec iov[4] = { { wire, a }, { wire + a, 0 },
					                        { wire + a, b - a }, { wire + b, n - b } };

					EXPECT(parse_iov(iov, 4, n, &h) == KW_TLS_HELLO_OK && same(&h, &whole),
					       "%s: %zu %zu %zu", reals[r].name, cut, a, b);
					EXPECT(parse_iov(iov, 3, n, &h) ==
					               (b == n ? KW_TLS_HELLO_OK : KW_TLS_HELLO_INCOMPLETE),
					       "%s: %zu %zu %zu, 3 elements", reals[r].name, cut, a, b);
				}
			}
		}
	}
}
END_TEST

/* A small deterministic generator: the same flips on every run. */
static uint32_t rng = 12345;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Bits flipped at random, the input cut at random: a status of the three,
 * and what succeeds is sane. Bounded: 4000 mutants of each hello, in one
 * record and in two. */
START_TEST(test_real_bit_flips)
{
	static unsigned char b[1200];
	struct kw_tls_hello h;
	unsigned counts[3] = { 0, 0, 0 };

	for (size_t r = 0; r < N_REALS; r++) {
		for (int two = 0; two < 2; two++) {
			size_t len = reals[r].n - 5;

			for (int iter = 0; iter < 4000; iter++) {
				size_t n = frame(b, reals[r].b + 5, len, two ? len / 3 : 0);
				unsigned flips = 1 + next_random() % 4;
				enum kw_tls_hello_status st;

				for (unsigned f = 0; f < flips; f++) {
					uint32_t at = next_random() % (uint32_t)(n * 8);
					b[at / 8] ^= (unsigned char)(1u << at % 8);
				}
				if (iter % 4 == 0)
					n = next_random() % (n + 1);
				st = parse(b, n, &h);
				EXPECT(st == KW_TLS_HELLO_OK || st == KW_TLS_HELLO_INCOMPLETE ||
				       st == KW_TLS_HELLO_MALFORMED, "%s: status %d", reals[r].name, st);
				counts[st]++;
				EXPECT(st != KW_TLS_HELLO_OK || sane(&h), "%s: %d", reals[r].name, iter);
			}
		}
	}
	/* The mutants reach every outcome (a flip in the random or a key share
	 * is harmless). */
	ck_assert_uint_gt(counts[KW_TLS_HELLO_OK], 0);
	ck_assert_uint_gt(counts[KW_TLS_HELLO_INCOMPLETE], 0);
	ck_assert_uint_gt(counts[KW_TLS_HELLO_MALFORMED], 0);
}
END_TEST

/* Random bytes after a valid record and handshake header: never a crash. */
START_TEST(test_random_bodies)
{
	static unsigned char b[5 + 4 + 600];
	struct kw_tls_hello h;

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 38 + next_random() % 500, n;
		enum kw_tls_hello_status st;

		b[0] = 22, b[1] = 3, b[2] = 1, b[3] = (unsigned char)((len + 4) >> 8);
		b[4] = (unsigned char)(len + 4);
		b[5] = 1, b[6] = 0, b[7] = (unsigned char)(len >> 8), b[8] = (unsigned char)len;
		for (size_t i = 9; i < 9 + len; i++)
			b[i] = (unsigned char)next_random();
		/* Small lengths now and then, so that some bodies parse far. */
		for (size_t i = 9; i < 9 + len; i++)
			if (next_random() % 4 == 0)
				b[i] = (unsigned char)(next_random() % 8);
		n = 9 + len;
		st = parse(b, n, &h);
		EXPECT(st == KW_TLS_HELLO_OK || st == KW_TLS_HELLO_MALFORMED, "status %d", st);
		EXPECT(st != KW_TLS_HELLO_OK || sane(&h), "iteration %d", iter);
	}
}
END_TEST

/* ---- the record and handshake layers */

START_TEST(test_records)
{
	struct kw_tls_hello h, whole;
	unsigned char b[64 + sizeof hello_openssl13];
	size_t n = sizeof hello_openssl13;
	struct iovec none = { NULL, 0 };

	/* Nothing yet, a record header in part, a handshake header in part. */
	ck_assert_int_eq(parse(hello_openssl13, 0, &h), KW_TLS_HELLO_INCOMPLETE);
	ck_assert_int_eq(kw_tls_hello_parse(&none, 0, 100, &h), KW_TLS_HELLO_INCOMPLETE);
	ck_assert_int_eq(kw_tls_hello_parse(&none, -1, 100, &h), KW_TLS_HELLO_INCOMPLETE);
	ck_assert_int_eq(parse(hello_openssl13, 3, &h), KW_TLS_HELLO_INCOMPLETE);
	ck_assert_int_eq(parse(hello_openssl13, 7, &h), KW_TLS_HELLO_INCOMPLETE);
	ck_assert_int_eq(parse(hello_openssl13, n, &whole), KW_TLS_HELLO_OK);

	/* No TLS at all is told from its first byte, or its second, or third. */
	ck_assert_int_eq(parse((const unsigned char *)"G", 1, &h), KW_TLS_HELLO_MALFORMED);
	ck_assert_int_eq(parse((const unsigned char *)"GET / HTTP/1.1\r\n", 16, &h),
	                 KW_TLS_HELLO_MALFORMED);
	ck_assert_int_eq(parse((const unsigned char *)"\x16\x02", 2, &h), KW_TLS_HELLO_MALFORMED);
	ck_assert_int_eq(parse((const unsigned char *)"\x16\x03\x05", 3, &h), KW_TLS_HELLO_MALFORMED);
	ck_assert_int_eq(parse((const unsigned char *)"\x16\x03\x00", 3, &h), KW_TLS_HELLO_INCOMPLETE);

	/* Another content type (an alert, application data). */
	memcpy(b, hello_openssl13, n);
	b[0] = 21;
	ck_assert_int_eq(parse(b, n, &h), KW_TLS_HELLO_MALFORMED);
	b[0] = 23;
	ck_assert_int_eq(parse(b, n, &h), KW_TLS_HELLO_MALFORMED);
	/* Record versions 3.0 to 3.4 are taken. */
	for (unsigned minor = 0; minor <= 4; minor++) {
		memcpy(b, hello_openssl13, n);
		b[2] = (unsigned char)minor;
		ck_assert_int_eq(parse(b, n, &h), KW_TLS_HELLO_OK);
	}
	/* An empty record, one longer than 2^14. */
	memcpy(b, "\x16\x03\x01\x00\x00", 5);
	memcpy(b + 5, hello_openssl13, n);
	ck_assert_int_eq(parse(b, 5 + n, &h), KW_TLS_HELLO_MALFORMED);
	memcpy(b, hello_openssl13, n);
	b[3] = 0x40, b[4] = 0x01;
	ck_assert_int_eq(parse(b, n, &h), KW_TLS_HELLO_MALFORMED);
	b[3] = 0x40, b[4] = 0x00; /* 2^14 is taken (the message ends before the record) */
	ck_assert_int_eq(parse(b, n, &h), KW_TLS_HELLO_OK);

	/* Another handshake message (a ServerHello). */
	memcpy(b, hello_openssl13, n);
	b[5] = 2;
	ck_assert_int_eq(parse(b, n, &h), KW_TLS_HELLO_MALFORMED);

	/* A ChangeCipherSpec record between two records of the message. */
	{
		size_t len = n - 5, cut = 100, at;

		at = frame(b, hello_openssl13 + 5, cut, 0);
		memcpy(b + at, "\x14\x03\x03\x00\x01\x01", 6);
		at += 6;
		at += frame(b + at, hello_openssl13 + 5 + cut, len - cut, 0);
		ck_assert_int_eq(parse(b, at, &h), KW_TLS_HELLO_MALFORMED);
	}

	/* A message length other than its content's: the extension block no
	 * longer fills the message. */
	memcpy(b, hello_openssl13, n);
	b[8]++;
	ck_assert_int_eq(parse(b, n, &h), KW_TLS_HELLO_MALFORMED);
	b[8] -= 2;
	ck_assert_int_eq(parse(b, n, &h), KW_TLS_HELLO_MALFORMED);
}
END_TEST

/* ---- the ClientHello's fields */

START_TEST(test_hand_built)
{
	struct kw_tls_hello h, whole;

	typical();
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(sane(&h));
	ck_assert_str_eq(h.sni, "example.test");
	ck_assert_uint_eq(h.alpn_len, 9);
	/* GREASE is left out of every list. */
	ck_assert_uint_eq(h.n_ciphers, 2);
	ck_assert_uint_eq(h.ciphers[0], 0x1301);
	ck_assert_uint_eq(h.ciphers[1], 0x1302);
	ck_assert_uint_eq(h.n_versions, 2);
	ck_assert_uint_eq(h.versions[0], 0x0304);
	ck_assert_uint_eq(h.versions[1], 0x0303);
	ck_assert_uint_eq(h.n_groups, 2);
	ck_assert_uint_eq(h.groups[0], 0x001d);
	ck_assert_uint_eq(h.groups[1], 0x0017);
	ck_assert_uint_eq(h.n_sigalgs, 2);
	ck_assert_uint_eq(h.sigalgs[0], 0x0804);
	whole = h;

	/* Split in two records and across iov elements. */
	{
		size_t n = frame(wire, msg, msg_len, 50);
		struct iovec iov[3] = { { wire, 3 }, { wire + 3, 57 }, { wire + 60, n - 60 } };

		ck_assert_int_eq(parse_iov(iov, 3, n, &h), KW_TLS_HELLO_OK);
		ck_assert(same(&h, &whole));
		ck_assert_int_eq(parse_iov(iov, 3, n - 1, &h), KW_TLS_HELLO_INCOMPLETE);
		ck_assert_int_eq(parse_iov(iov, 2, n, &h), KW_TLS_HELLO_INCOMPLETE);
	}

	/* A hello of before extensions: the legacy version is the one offered. */
	begin(false);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(sane(&h));
	ck_assert(!h.sni_present && !h.alpn_present && !h.versions_present && !h.groups_present &&
	          !h.sigalgs_present);
	ck_assert_uint_eq(h.n_versions, 1);
	ck_assert_uint_eq(h.versions[0], 0x0303);
	/* ...and an empty extension block. */
	begin(true);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert_uint_eq(h.n_versions, 1);

	/* Flags: the extensions whose content is not read. */
	{
		static const struct {
			unsigned type;
			size_t off;
		} flags[] = {
			{ 5, offsetof(struct kw_tls_hello, status_request) },
			{ 12, offsetof(struct kw_tls_hello, srp) },
			{ 18, offsetof(struct kw_tls_hello, sct) },
			{ 41, offsetof(struct kw_tls_hello, pre_shared_key) },
			{ 42, offsetof(struct kw_tls_hello, early_data) },
			{ 47, offsetof(struct kw_tls_hello, certificate_authorities) },
			{ 49, offsetof(struct kw_tls_hello, post_handshake_auth) },
		};
		for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
			typical();
			add(flags[i].type, "\x01\x00\x00\x00\x00", i % 2 ? 5 : 0);
			ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
			for (size_t j = 0; j < sizeof flags / sizeof flags[0]; j++)
				ck_assert(*(const bool *)((const char *)&h + flags[j].off) == (i == j));
		}
	}

	/* Unknown extensions and other name types are passed over. */
	typical();
	add(0xfe0d, "abc", 3);
	add(0x1a1a, "", 0);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(same(&h, &whole));
	begin(true);
	add(0, "\x00\x13\x07\x00\x01x\x00\x00\x0c" "example.test", 21);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert_str_eq(h.sni, "example.test");
	begin(true);
	add(0, "\x00\x04\x07\x00\x01x", 6); /* no host_name entry */
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(!h.sni_present);

	/* The longest host name kept, 255 bytes; 256 is malformed. */
	{
		unsigned char name[5 + 256];

		name[0] = 0x01, name[1] = 0x02, name[2] = 0, name[3] = 0, name[4] = 255;
		memset(name + 5, 'a', 256);
		begin(true);
		add(0, name, 5 + 255);
		ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
		ck_assert_uint_eq(h.sni_len, 255);
		ck_assert_uint_eq(strlen(h.sni), 255);
		name[1] = 0x03, name[3] = 0x01, name[4] = 0x00;
		begin(true);
		add(0, name, 5 + 256);
		ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_MALFORMED);
	}
}
END_TEST

/* Lists longer than their arrays: the first entries, and truncated. */
START_TEST(test_truncated_lists)
{
	struct kw_tls_hello h;
	unsigned char list[2 + 2 * 200];
	unsigned char alpn[2 + 40 * 10];

	/* 200 ciphers. */
	begin(true);
	patch(AT_CIPHERS_LEN, 400, 2);
	msg_len = AT_CIPHERS_LEN + 2;
	for (unsigned i = 0; i < 200; i++)
		put16(0x1000 + i);
	put8(1), put8(0);
	ext_at = msg_len;
	put16(0);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(h.truncated);
	ck_assert_uint_eq(h.n_ciphers, KW_TLS_HELLO_CIPHERS_MAX);
	ck_assert_uint_eq(h.ciphers[KW_TLS_HELLO_CIPHERS_MAX - 1], 0x1000 + KW_TLS_HELLO_CIPHERS_MAX - 1);

	/* 200 groups, 200 signature algorithms, 100 versions. */
	list[0] = 400 >> 8, list[1] = 400 & 0xff;
	for (unsigned i = 0; i < 200; i++)
		list[2 + 2 * i] = 0x01, list[3 + 2 * i] = (unsigned char)i;
	typical();
	msg_len -= 4 + sizeof groups_x25519 + 4 + sizeof sigalgs_pss; /* drop them */
	add(10, list, sizeof list);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(h.truncated);
	ck_assert_uint_eq(h.n_groups, KW_TLS_HELLO_GROUPS_MAX);
	typical();
	msg_len -= 4 + sizeof sigalgs_pss;
	add(13, list, sizeof list);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(h.truncated);
	ck_assert_uint_eq(h.n_sigalgs, KW_TLS_HELLO_SIGALGS_MAX);
	begin(true);
	list[1] = 200;
	add(43, list + 1, 201);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(h.truncated);
	ck_assert_uint_eq(h.n_versions, KW_TLS_HELLO_VERSIONS_MAX);

	/* 40 protocol names of 9 bytes each: the first 25 fit in 256 bytes
	 * (with their length bytes), then 6 bytes of the 26th. */
	alpn[0] = 400 >> 8, alpn[1] = 400 & 0xff;
	for (unsigned i = 0; i < 40; i++) {
		alpn[2 + 10 * i] = 9;
		memcpy(alpn + 3 + 10 * i, "protocol", 8);
		alpn[2 + 10 * i + 9] = (unsigned char)('A' + i);
	}
	begin(true);
	add(16, alpn, sizeof alpn);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(h.truncated);
	ck_assert_uint_eq(h.alpn_len, KW_TLS_HELLO_ALPN_MAX);
	ck_assert_mem_eq(h.alpn, alpn + 2, KW_TLS_HELLO_ALPN_MAX);

	/* Exactly full is not truncated: 25 names of 10 bytes, one of 6. */
	alpn[0] = 256 >> 8, alpn[1] = 256 & 0xff;
	alpn[2 + 250] = 5;
	begin(true);
	add(16, alpn, 2 + 256);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(!h.truncated);
	ck_assert_uint_eq(h.alpn_len, KW_TLS_HELLO_ALPN_MAX);
	ck_assert_mem_eq(h.alpn, alpn + 2, KW_TLS_HELLO_ALPN_MAX);

	list[0] = 0, list[1] = 2 * KW_TLS_HELLO_GROUPS_MAX;
	begin(true);
	add(10, list, 2 + 2 * KW_TLS_HELLO_GROUPS_MAX);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	ck_assert(!h.truncated);
	ck_assert_uint_eq(h.n_groups, KW_TLS_HELLO_GROUPS_MAX);
}
END_TEST

/* Each is malformed: every length checked against the one that holds it. */
START_TEST(test_malformed)
{
	struct kw_tls_hello h;

	/* The fixed part: a session id of 33 bytes, no compression methods
	 * (else well-formed), then lengths that disagree. */
	begin_with(33, 1, true);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_MALFORMED);
	begin_with(0, 1, true);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	begin_with(32, 0, true);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_MALFORMED);
	begin_with(32, 2, true);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
	begin(true); /* no cipher suites */
	msg_len = AT_CIPHERS_LEN;
	put16(0);
	put8(1), put8(0);
	ext_at = msg_len;
	put16(0);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_MALFORMED);
	typical();
	end();
	msg[AT_SESSION_ID_LEN] = 33;
	ck_assert_int_eq(parse(wire, frame(wire, msg, msg_len, 0), &h), KW_TLS_HELLO_MALFORMED);
	static const unsigned cipher_lens[] = { 0, 5, 7, 0xfffe };
	for (size_t i = 0; i < sizeof cipher_lens / sizeof cipher_lens[0]; i++) {
		typical();
		end();
		patch(AT_CIPHERS_LEN, cipher_lens[i], 2);
		ck_assert_int_eq(parse(wire, frame(wire, msg, msg_len, 0), &h), KW_TLS_HELLO_MALFORMED);
	}
	typical();
	end();
	msg[AT_COMPRESSION_LEN] = 0;
	ck_assert_int_eq(parse(wire, frame(wire, msg, msg_len, 0), &h), KW_TLS_HELLO_MALFORMED);
	/* The extension block longer or shorter than the rest of the message. */
	for (int d = -1; d <= 1; d += 2) {
		typical();
		end();
		patch(AT_EXTENSIONS_LEN, (size_t)((int)(msg_len - AT_EXTENSIONS_LEN - 2) + d), 2);
		ck_assert_int_eq(parse(wire, frame(wire, msg, msg_len, 0), &h), KW_TLS_HELLO_MALFORMED);
	}
	/* One byte where the extension block's length would be. */
	begin(false);
	put8(0);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_MALFORMED);
	/* A message shorter than its fixed part. */
	begin(false);
	msg_len = AT_CIPHERS_LEN + 3;
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_MALFORMED);
	/* An extension longer than the block, a header cut in the block. */
	typical();
	put16(0xfe0d), put16(5), put8(0);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_MALFORMED);
	typical();
	put8(0);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_MALFORMED);

	/* Inside the extensions: lists that do not fill their extension, run
	 * past it, are empty, odd, or repeat. */
	static const struct {
		unsigned type;
		const char *body;
		size_t len;
	} bad[] = {
		{ 0, "", 0 },
		{ 0, "\x00\x00", 2 },                              /* no entries */
		{ 0, "\x00\x04\x00\x00\x02" "ab", 7 },            /* list shorter than the extension */
		{ 0, "\x00\x06\x00\x00\x02" "ab", 7 },            /* list longer */
		{ 0, "\x00\x05\x00\x00\x03" "ab", 7 },            /* name past the list */
		{ 0, "\x00\x03\x00\x00\x00", 5 },                 /* empty name */
		{ 0, "\x00\x05\x00\x00\x02" "a\0", 7 },           /* a NUL */
		{ 0, "\x00\x0a\x00\x00\x02" "ab\x00\x00\x02" "cd", 12 }, /* two host names */
		{ 0, "\x00\x04\x00\x00\x02" "a", 6 },             /* entry cut */
		{ 16, "\x00\x00", 2 },                             /* no names */
		{ 16, "\x00\x01\x00", 3 },                         /* shorter than one name */
		{ 16, "\x00\x04\x02" "h2" "\x00", 6 },             /* an empty name */
		{ 16, "\x00\x04\x02" "h2", 5 },                     /* list longer */
		{ 16, "\x00\x03\x03" "h2", 5 },                     /* name past the list */
		{ 16, "\x00\x02\x01" "hx", 5 },                     /* list shorter */
		{ 16, "", 0 },
		{ 43, "\x00", 1 },                                 /* empty */
		{ 43, "\x03\x03\x04\x03", 4 },                     /* odd */
		{ 43, "\x04\x03\x04", 3 },                         /* longer */
		{ 43, "\x02\x03\x04\x03\x03", 5 },                 /* shorter */
		{ 10, "\x00\x00", 2 },
		{ 10, "\x00\x03\x00\x1d\x00", 5 },
		{ 10, "\x00\x04\x00\x1d", 4 },
		{ 10, "\x00", 1 },
		{ 13, "\x00\x00", 2 },
		{ 13, "\x00\x01\x08", 3 },
		{ 13, "\x00\x02\x08\x04\x04\x03", 6 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		begin(true);
		add(bad[i].type, bad[i].body, bad[i].len);
		ck_assert_msg(parse_msg(&h) == KW_TLS_HELLO_MALFORMED, "bad[%zu]", i);
	}

	/* An extension read twice, even a flag: a server could read the other. */
	static const unsigned twice[] = { 0, 16, 43, 10, 13, 5, 12, 18, 41, 42, 47, 49 };
	for (size_t i = 0; i < sizeof twice / sizeof twice[0]; i++) {
		typical();
		if (twice[i] == 0)
			add(0, sni_example, sizeof sni_example);
		else if (twice[i] == 16)
			add(16, alpn_h11, sizeof alpn_h11);
		else if (twice[i] == 43)
			add(43, versions13, sizeof versions13);
		else if (twice[i] == 10)
			add(10, groups_x25519, sizeof groups_x25519);
		else if (twice[i] == 13)
			add(13, sigalgs_pss, sizeof sigalgs_pss);
		else {
			add(twice[i], "", 0);
			ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK); /* once is fine */
			add(twice[i], "", 0);
		}
		ck_assert_msg(parse_msg(&h) == KW_TLS_HELLO_MALFORMED, "twice %u", twice[i]);
	}
	/* Unknown ones may repeat: keepwarm does not read them. */
	typical();
	add(0xfe0d, "", 0);
	add(0xfe0d, "", 0);
	ck_assert_int_eq(parse_msg(&h), KW_TLS_HELLO_OK);
}
END_TEST

/* ---- kw_tls_hello_allows */

static struct kw_tls_hello then, now;

static void parse_pair(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	ck_assert_int_eq(parse(a, an, &then), KW_TLS_HELLO_OK);
	ck_assert_int_eq(parse(b, bn, &now), KW_TLS_HELLO_OK);
}

/* The session openssl13 made (TLS 1.3, TLS_AES_128_GCM_SHA256, x25519). */
static enum kw_tls_hello_verdict allows13(void)
{
	return kw_tls_hello_allows(&then, &now, 0x0304, 0x1301, 0x001d);
}

START_TEST(test_allows_real)
{
	unsigned char other[sizeof hello_openssl13];

	/* The same client again, with another random and session id. */
	memcpy(other, hello_openssl13, sizeof other);
	for (size_t i = 11; i < 11 + 32 + 1 + 32; i++)
		if (i != 43)
			other[i] ^= 0x5a;
	parse_pair(hello_openssl13, sizeof hello_openssl13, other, sizeof other);
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME);
	/* A TLS 1.2 session may serve the TLS 1.3 client that offers 1.2. */
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0303, 0xc02f, 0x001d), KW_TLS_HELLO_SAME);
	/* The TLS 1.2-only client excludes a TLS 1.3 session... */
	parse_pair(hello_openssl13, sizeof hello_openssl13, hello_openssl12, sizeof hello_openssl12);
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_EXCLUDES);
	/* ...not a TLS 1.2 one. */
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0303, 0xc02f, 0x001d), KW_TLS_HELLO_SAME);
	/* No server name and no ALPN against both. */
	parse_pair(hello_openssl13, sizeof hello_openssl13, hello_openssl_bare, sizeof hello_openssl_bare);
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_NAME);
	parse_pair(hello_gnutls, sizeof hello_gnutls, hello_gnutls, sizeof hello_gnutls);
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x1302, 0x0017), KW_TLS_HELLO_SAME);
	/* GnuTLS's session (it asked for stapling and offered post-handshake
	 * auth) for OpenSSL's hello (neither), given GnuTLS's server name. */
	parse_pair(hello_gnutls, sizeof hello_gnutls, hello_openssl_bare, sizeof hello_openssl_bare);
	now.sni_present = true;
	memcpy(now.sni, then.sni, sizeof now.sni);
	now.sni_len = then.sni_len;
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x1302, 0x0017), KW_TLS_HELLO_FEATURE);
	then.status_request = then.post_handshake_auth = false;
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x1302, 0x0017), KW_TLS_HELLO_SAME);
}
END_TEST

START_TEST(test_allows_rules)
{
	typical();
	end();
	ck_assert_int_eq(parse(wire, frame(wire, msg, msg_len, 0), &then), KW_TLS_HELLO_OK);
	now = then;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME);
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x1302, 0), KW_TLS_HELLO_SAME);

	/* The host name: byte for byte, case included. */
	now.sni[0] = 'E';
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_NAME);
	now = then;
	now.sni[11] = '\0', now.sni_len = 11;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_NAME);
	now = then;
	now.sni_present = false, now.sni_len = 0, now.sni[0] = '\0';
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_NAME);
	then.sni_present = false, then.sni_len = 0, then.sni[0] = '\0';
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME);
	now.sni_present = true; /* presence alone counts */
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_NAME);
	/* ...and before the ALPN. */
	now.alpn_present = false;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_NAME);

	/* The ALPN offer: the same list (the server then picks the same:
	 * keepwarm follows only sessions that agreed on http/1.1 or none). */
	now = then;
	now.alpn_present = false, now.alpn_len = 0;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_ALPN);
	then.alpn_present = false, then.alpn_len = 0;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME);
	then.alpn_present = now.alpn_present = true;
	memcpy(then.alpn, "\x02h2\x08http/1.1", 12);
	memcpy(now.alpn, "\x02h2\x08http/1.1", 12);
	then.alpn_len = now.alpn_len = 12;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME); /* the same, h2 too */
	now.alpn_len = 3;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_ALPN); /* h2 alone */
	memcpy(then.alpn, "\x08http/1.0", 9);
	memcpy(now.alpn, "\x08http/1.0", 9);
	then.alpn_len = now.alpn_len = 9;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME);
	now.alpn[8] = '1';
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_ALPN); /* lists differ */
	/* ...and before what is excluded. */
	now.n_ciphers = 0;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_OTHER_ALPN);

	/* The version, cipher and group negotiated must be offered. */
	then.alpn_len = now.alpn_len = 9;
	memcpy(then.alpn, "\x08http/1.1", 9);
	memcpy(now.alpn, "\x08http/1.1", 9);
	now.n_ciphers = then.n_ciphers;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME);
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0302, 0x1301, 0x001d), KW_TLS_HELLO_EXCLUDES);
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x1303, 0x001d), KW_TLS_HELLO_EXCLUDES);
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x1301, 0x0018), KW_TLS_HELLO_EXCLUDES);
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x1301, 0), KW_TLS_HELLO_SAME);
	/* GREASE is never offered. */
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x3a3a, 0x1301, 0x001d), KW_TLS_HELLO_EXCLUDES);
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x0a0a, 0x001d), KW_TLS_HELLO_EXCLUDES);
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x1301, 0x2a2a), KW_TLS_HELLO_EXCLUDES);
	/* Without supported_groups the group is not checked. */
	now.groups_present = false, now.n_groups = 0;
	ck_assert_int_eq(kw_tls_hello_allows(&then, &now, 0x0304, 0x1301, 0x0018), KW_TLS_HELLO_SAME);
	/* ...but present and empty (only GREASE), every group is excluded. */
	now.groups_present = true;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_EXCLUDES);
	/* ...and before the features. */
	now.early_data = true;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_EXCLUDES);

	/* Features: early data, SRP and a truncated list in now... */
	static const size_t now_only[] = { offsetof(struct kw_tls_hello, early_data),
	                                   offsetof(struct kw_tls_hello, srp),
	                                   offsetof(struct kw_tls_hello, truncated) };
	for (size_t i = 0; i < sizeof now_only / sizeof now_only[0]; i++) {
		now = then;
		*(bool *)((char *)&now + now_only[i]) = true;
		ck_assert_int_eq(allows13(), KW_TLS_HELLO_FEATURE);
		*(bool *)((char *)&then + now_only[i]) = true; /* then's do not matter */
		*(bool *)((char *)&now + now_only[i]) = false;
		ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME);
		*(bool *)((char *)&then + now_only[i]) = false;
	}
	/* ...and the choices the session's handshake made once, either way. */
	static const size_t same_choice[] = { offsetof(struct kw_tls_hello, status_request),
	                                      offsetof(struct kw_tls_hello, sct),
	                                      offsetof(struct kw_tls_hello, certificate_authorities),
	                                      offsetof(struct kw_tls_hello, post_handshake_auth) };
	for (size_t i = 0; i < sizeof same_choice / sizeof same_choice[0]; i++) {
		now = then;
		*(bool *)((char *)&now + same_choice[i]) = true;
		ck_assert_int_eq(allows13(), KW_TLS_HELLO_FEATURE);
		*(bool *)((char *)&then + same_choice[i]) = true;
		ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME);
		*(bool *)((char *)&now + same_choice[i]) = false;
		ck_assert_int_eq(allows13(), KW_TLS_HELLO_FEATURE);
		*(bool *)((char *)&then + same_choice[i]) = false;
	}
	/* A resumption attempt is allowed. */
	now = then;
	now.pre_shared_key = true;
	ck_assert_int_eq(allows13(), KW_TLS_HELLO_SAME);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tlshello");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_real_hellos);
	tcase_add_test(tc, test_real_truncated);
	tcase_add_test(tc, test_real_records);
	tcase_add_test(tc, test_real_iov);
	tcase_add_test(tc, test_real_bit_flips);
	tcase_add_test(tc, test_random_bodies);
	tcase_add_test(tc, test_records);
	tcase_add_test(tc, test_hand_built);
	tcase_add_test(tc, test_truncated_lists);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_allows_real);
	tcase_add_test(tc, test_allows_rules);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
