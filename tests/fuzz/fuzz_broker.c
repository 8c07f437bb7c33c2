/* fuzz_broker.c - libFuzzer harness for shim/logic/broker_proto.c.
 *
 * Input: byte 0's low two bits are the number of descriptors that came with
 * the datagram (0..3); the rest is the datagram. Properties:
 *   - kw_bmsg_decode never crashes or reads past the datagram, and returns
 *     one of the named errors;
 *   - on OK: the descriptor count is the type's, the key's netns and cgroup
 *     are 0 (never from the wire) and its reserved bytes 0, fields a type
 *     does not carry are 0; kw_bmsg_encode gives back exactly the input's
 *     bytes (one encoding per message), refuses a buffer a byte short, and
 *     decoding that encoding gives the same message field for field; every
 *     prefix is SHORT, a byte more is LENGTH, any other descriptor count is
 *     FDS; a GIVE or MISS answers a TAKE of its id and key, nothing else does;
 *   - the same bytes read as the fields of a message to send (a structure
 *     built by build() below): encode refuses what it cannot say (unknown
 *     type, family, TLS, an IPv4 scope or address tail, a server_max below
 *     -1) and what it does say decodes to the same message;
 *   - STATUS is a bare header; a REPORT's body is its text, of the length
 *     its header says (at most KW_BROKER_REPORT_MAX), never with a
 *     descriptor, and encodes back to the same bytes. */
#include "logic/broker_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_broker: %s failed (line %d)\n", #c, __LINE__); abort(); } } while (0)

#define VAR ((size_t)-2) /* a REPORT: its text's length */

static size_t body_of(uint16_t t)
{
	switch (t) {
	case KW_BMSG_STATUS:
		return 0;
	case KW_BMSG_REPORT:
		return VAR;
	case KW_BMSG_PUT:
	case KW_BMSG_GIVE:
		return 112;
	case KW_BMSG_TAKE:
	case KW_BMSG_MISS:
		return 32;
	case KW_BMSG_HELLO:
		return 0;
	default:
		return (size_t)-1;
	}
}

static void same_meta(const struct kw_conn_meta *a, const struct kw_conn_meta *b)
{
	CHECK(a->version == b->version && a->size == b->size && a->touched == b->touched &&
	      a->born_ms == b->born_ms && a->max_lifetime_ms == b->max_lifetime_ms &&
	      a->requests == b->requests && a->max_requests == b->max_requests &&
	      a->server_max == b->server_max && a->reserved == b->reserved &&
	      a->patience_ms == b->patience_ms && a->wire_sent == b->wire_sent &&
	      a->wire_received == b->wire_received);
}

/* Field for field (the struct has padding: memcmp would compare it). */
static void same(const struct kw_bmsg *a, const struct kw_bmsg *b)
{
	const struct kw_key *x = &a->key, *y = &b->key;

	CHECK(a->type == b->type && a->id == b->id);
	CHECK(x->dest.family == y->dest.family && x->dest.port == y->dest.port &&
	      x->dest.scope_id == y->dest.scope_id && !memcmp(x->dest.addr, y->dest.addr, 16) &&
	      x->dest.tls == y->dest.tls && !memcmp(x->dest.reserved, y->dest.reserved, 3));
	CHECK(x->transport == y->transport && !memcmp(x->reserved, y->reserved, 3) &&
	      x->opts == y->opts && x->netns == y->netns && x->cgroup == y->cgroup);
	CHECK(kw_key_equal(x, y));
	CHECK(a->idle_ms == b->idle_ms && a->expires_in_ms == b->expires_in_ms);
	same_meta(&a->conn, &b->conn);
	CHECK(a->text_len == b->text_len && (!a->text_len || !memcmp(a->text, b->text, a->text_len)));
}

/* What decode promises of any message it accepts. */
static void check_decoded(const struct kw_bmsg *m, unsigned nfds)
{
	static const struct kw_conn_meta nometa;
	static const uint8_t zero[16];
	size_t body = body_of(m->type);

	CHECK(body != (size_t)-1);
	CHECK(nfds == kw_bmsg_fds((enum kw_bmsg_type)m->type));
	CHECK(nfds == (m->type == KW_BMSG_PUT || m->type == KW_BMSG_TAKE || m->type == KW_BMSG_GIVE));
	CHECK(!m->key.netns && !m->key.cgroup);
	CHECK(!memcmp(m->key.reserved, zero, 3) && !memcmp(m->key.dest.reserved, zero, 3));
	if (body == VAR) {
		CHECK(m->text && m->text_len <= KW_BROKER_REPORT_MAX && !m->key.dest.family &&
		      !m->idle_ms && !memcmp(&m->conn, &nometa, sizeof nometa));
		return;
	}
	CHECK(!m->text && !m->text_len);
	if (body) {
		CHECK(m->key.dest.family == AF_INET || m->key.dest.family == AF_INET6);
		CHECK(!m->key.dest.tls && m->key.transport == KW_TRANSPORT_PLAIN);
		if (m->key.dest.family == AF_INET)
			CHECK(!m->key.dest.scope_id && !memcmp(m->key.dest.addr + 4, zero, 12));
	} else {
		CHECK(!m->key.dest.family && !m->key.dest.port && !m->key.dest.scope_id &&
		      !memcmp(m->key.dest.addr, zero, 16) && !m->key.opts);
	}
	if (body == 112) {
		CHECK(m->conn.version == KW_CONN_META_VERSION && m->conn.size == sizeof m->conn);
		CHECK(m->conn.server_max >= -1 && !m->conn.reserved);
	} else {
		CHECK(!m->idle_ms && !m->expires_in_ms && !memcmp(&m->conn, &nometa, sizeof nometa));
	}
}

static void check_accepted(const uint8_t *dg, size_t len, unsigned nfds, const struct kw_bmsg *m)
{
	static uint8_t out[KW_BROKER_HEAD + KW_BROKER_REPORT_MAX];
	uint8_t *longer;
	struct kw_bmsg m2, q;
	size_t n;

	check_decoded(m, nfds);
	CHECK(len == KW_BROKER_HEAD + (body_of(m->type) == VAR ? m->text_len : body_of(m->type)));
	/* One encoding per message: the input's own bytes. */
	n = kw_bmsg_encode(m, out, sizeof out);
	CHECK(n == len && !memcmp(out, dg, len));
	CHECK(kw_bmsg_encode(m, out, n - 1) == 0);
	CHECK(kw_bmsg_encode(m, out, n) == n && !memcmp(out, dg, len));
	CHECK(kw_bmsg_decode(out, n, nfds, &m2) == KW_BPROTO_OK);
	same(m, &m2);

	/* Its neighbours: each prefix, a byte more, other descriptor counts. */
	for (size_t k = 0; k < len; k++)
		CHECK(kw_bmsg_decode(dg, k, nfds, &m2) == KW_BPROTO_SHORT);
	longer = malloc(len + 1);
	CHECK(longer);
	memcpy(longer, dg, len);
	longer[len] = dg[len - 1];
	CHECK(kw_bmsg_decode(longer, len + 1, nfds, &m2) == KW_BPROTO_LENGTH);
	free(longer);
	for (unsigned f = 0; f < 4; f++)
		CHECK(kw_bmsg_decode(dg, len, f, &m2) == (f == nfds ? KW_BPROTO_OK : KW_BPROTO_FDS));

	/* A reply answers the TAKE it echoes, and only a reply does. */
	q = *m;
	q.type = KW_BMSG_TAKE;
	CHECK(kw_bmsg_answers(m, &q) == (m->type == KW_BMSG_GIVE || m->type == KW_BMSG_MISS));
	q.id++;
	CHECK(!kw_bmsg_answers(m, &q));
	q.id--;
	q.key.opts ^= 1;
	CHECK(!kw_bmsg_answers(m, &q));
}

/* ---- the same bytes as a message to send ---- */

struct reader { const uint8_t *p; size_t left; };

static uint64_t rd(struct reader *r, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++) {
		v = v << 8 | (r->left ? *r->p : 0);
		if (r->left) {
			r->p++;
			r->left--;
		}
	}
	return v;
}

/* A message from r. A flags byte chooses which fields take raw values (and
 * so are mostly out of range) and which take values a sender would use. */
static void build(struct reader *r, struct kw_bmsg *m)
{
	uint8_t f = (uint8_t)rd(r, 1);
	struct kw_dest d;

	memset(m, 0, sizeof *m);
	memset(&d, 0, sizeof d);
	m->type = f & 0x80 ? (uint16_t)rd(r, 2) : (uint16_t)(1 + rd(r, 1) % 7);
	m->id = (uint32_t)rd(r, 4);
	d.family = f & 0x40 ? (uint16_t)rd(r, 2) : rd(r, 1) & 1 ? AF_INET6 : AF_INET;
	d.port = (uint16_t)rd(r, 2);
	d.scope_id = (uint32_t)rd(r, 4);
	for (int i = 0; i < 16; i++)
		d.addr[i] = (uint8_t)rd(r, 1);
	if (d.family == AF_INET && !(f & 0x20)) {
		memset(d.addr + 4, 0, 12);
		d.scope_id = 0;
	}
	d.tls = f & 0x10 ? (uint8_t)rd(r, 1) : 0;
	if (f & 0x04)
		for (int i = 0; i < 3; i++)
			d.reserved[i] = (uint8_t)rd(r, 1);
	kw_key_make(&m->key, &d, KW_TRANSPORT_PLAIN, (uint32_t)rd(r, 4));
	m->key.transport = f & 0x08 ? (uint8_t)rd(r, 1) : KW_TRANSPORT_PLAIN;
	if (f & 0x04)
		for (int i = 0; i < 3; i++)
			m->key.reserved[i] = (uint8_t)rd(r, 1);
	m->key.netns = rd(r, 8);
	m->key.cgroup = rd(r, 8);
	m->idle_ms = rd(r, 8);
	m->expires_in_ms = rd(r, 8);
	m->conn = kw_conn_meta_fresh(rd(r, 8));
	m->conn.touched = (uint32_t)rd(r, 4);
	m->conn.max_lifetime_ms = rd(r, 8);
	m->conn.requests = (uint32_t)rd(r, 4);
	m->conn.max_requests = (uint32_t)rd(r, 4);
	m->conn.server_max = f & 0x02 ? (int32_t)rd(r, 4) : (int32_t)rd(r, 2) - 1;
	m->conn.reserved = f & 0x01 ? (uint32_t)rd(r, 4) : 0;
	m->conn.patience_ms = rd(r, 8);
	m->conn.wire_sent = rd(r, 8);
	m->conn.wire_received = rd(r, 8);
}

static void check_sent(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct kw_bmsg m, got, want;
	uint8_t out[KW_BROKER_MSG_MAX];
	size_t body, n;
	enum kw_bproto_error e;
	bool keyed, sayable, tail;
	static const uint8_t zero[12];

	build(&r, &m);
	body = body_of(m.type);
	keyed = body && body != (size_t)-1 && body != VAR;
	if (body == VAR)
		body = 0; /* build() gives a REPORT no text */
	tail = keyed && m.key.dest.family == AF_INET && memcmp(m.key.dest.addr + 4, zero, 12);
	sayable = body != (size_t)-1 &&
	          (!keyed || ((m.key.dest.family == AF_INET || m.key.dest.family == AF_INET6) &&
	                      !m.key.dest.tls && m.key.transport == KW_TRANSPORT_PLAIN &&
	                      (m.key.dest.family == AF_INET6 || !m.key.dest.scope_id)));
	n = kw_bmsg_encode(&m, out, sizeof out);
	if (!sayable) {
		CHECK(n == 0);
		return;
	}
	if (tail || (body == 112 && m.conn.server_max < -1)) {
		CHECK(n == 0); /* what decode would refuse is never said */
		return;
	}
	CHECK(n == KW_BROKER_HEAD + body);
	CHECK(kw_bmsg_encode(&m, out, n - 1) == 0);
	e = kw_bmsg_decode(out, n, kw_bmsg_fds((enum kw_bmsg_type)m.type), &got);
	CHECK(e == KW_BPROTO_OK);
	/* What travels: all but netns, cgroup and the reserved bytes; the
	 * metadata's version and size are the wire's. */
	memset(&want, 0, sizeof want);
	want.type = m.type;
	want.id = m.id;
	if (keyed) {
		struct kw_dest d = m.key.dest;
		memset(d.reserved, 0, sizeof d.reserved);
		kw_key_make(&want.key, &d, (enum kw_transport_kind)m.key.transport, m.key.opts);
	}
	if (body == 112) {
		want.idle_ms = m.idle_ms;
		want.expires_in_ms = m.expires_in_ms;
		want.conn = m.conn;
		want.conn.version = KW_CONN_META_VERSION;
		want.conn.size = sizeof want.conn;
		want.conn.reserved = 0;
	}
	same(&got, &want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kw_bmsg m;
	enum kw_bproto_error e;
	unsigned nfds;
	uint8_t *dg;
	size_t len;

	if (!size)
		return 0;
	nfds = data[0] & 3;
	len = size - 1;
	/* A copy of exactly the datagram's size: ASan sees any read past it. */
	dg = malloc(len ? len : 1);
	CHECK(dg);
	memcpy(dg, data + 1, len);
	e = kw_bmsg_decode(dg, len, nfds, &m);
	CHECK((unsigned)e <= KW_BPROTO_FIELD);
	CHECK(strcmp(kw_bproto_error_name(e), "unknown") != 0);
	if (e == KW_BPROTO_OK)
		check_accepted(dg, len, nfds, &m);
	free(dg);
	check_sent(data, size);
	return 0;
}
