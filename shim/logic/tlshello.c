/* tlshello.c - a ClientHello read across records and iov elements, and the
 * rule of which hellos a session may serve. */
#include "logic/tlshello.h"

#include <string.h>

typedef enum kw_tls_hello_status status;

#define TRY(x) \
	do { \
		status try_ = (x); \
		if (try_ != KW_TLS_HELLO_OK) \
			return try_; \
	} while (0)

/* The handshake layer: the payloads of the records, in order, read as far
 * as the bytes sent go. Positions (pos, and every end) count handshake bytes
 * from the message's type byte. */
struct reader {
	const struct iovec *iov;
	int iovcnt;
	int i;            /* the iov element being read... */
	size_t off;       /* ...from here */
	size_t left;      /* bytes sent not read yet */
	size_t in_record; /* payload of the current record not read yet */
	size_t pos;
};

/* Up to k raw bytes (records' headers included) into dst (NULL: skipped);
 * how many there were. */
static size_t raw_read(struct reader *r, unsigned char *dst, size_t k)
{
	size_t got = 0;

	while (got < k && r->left && r->i < r->iovcnt) {
		size_t take = r->iov[r->i].iov_len - r->off;

		if (take > k - got)
			take = k - got;
		if (take > r->left)
			take = r->left;
		if (dst)
			memcpy(dst + got, (const unsigned char *)r->iov[r->i].iov_base + r->off, take);
		got += take;
		r->left -= take;
		r->off += take;
		if (r->off == r->iov[r->i].iov_len) {
			r->i++;
			r->off = 0;
		}
	}
	return got;
}

/* The next record's header: a handshake record (content type 22, version
 * 3.0-3.4) of 1 to 2^14 bytes. Nothing else may come between the records of
 * one handshake message (RFC 8446 5.1), and no record is empty. Each byte is
 * judged as it comes, so that what is no TLS at all is told at once. */
static status next_record(struct reader *r)
{
	unsigned char h[5];
	size_t got = raw_read(r, h, sizeof h), len;

	if ((got > 0 && h[0] != 22) || (got > 1 && h[1] != 3) || (got > 2 && h[2] > 4))
		return KW_TLS_HELLO_MALFORMED;
	if (got < sizeof h)
		return KW_TLS_HELLO_INCOMPLETE;
	len = (size_t)h[3] << 8 | h[4];
	if (len == 0 || len > 1u << 14)
		return KW_TLS_HELLO_MALFORMED;
	r->in_record = len;
	return KW_TLS_HELLO_OK;
}

/* k handshake bytes into dst (NULL: skipped), within end: beyond it the
 * lengths disagree (malformed), beyond what was sent more is needed. */
static status take(struct reader *r, size_t end, void *dst, size_t k)
{
	unsigned char *to = dst;

	if (k > end - r->pos)
		return KW_TLS_HELLO_MALFORMED;
	while (k) {
		size_t want, got;

		if (!r->in_record)
			TRY(next_record(r));
		want = k < r->in_record ? k : r->in_record;
		got = raw_read(r, to, want);
		r->in_record -= got;
		r->pos += got;
		k -= got;
		if (to)
			to += got;
		if (got < want)
			return KW_TLS_HELLO_INCOMPLETE;
	}
	return KW_TLS_HELLO_OK;
}

/* A big-endian number of k bytes (1-3). */
static status number(struct reader *r, size_t end, size_t k, size_t *v)
{
	unsigned char b[3];

	TRY(take(r, end, b, k));
	*v = 0;
	for (size_t j = 0; j < k; j++)
		*v = *v << 8 | b[j];
	return KW_TLS_HELLO_OK;
}

/* A length of k bytes whose field must fill the rest of end exactly, and
 * hold at least min bytes. */
static status whole_length(struct reader *r, size_t end, size_t k, size_t min)
{
	size_t len;

	TRY(number(r, end, k, &len));
	return len == end - r->pos && len >= min ? KW_TLS_HELLO_OK : KW_TLS_HELLO_MALFORMED;
}

static bool grease(size_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* 2-byte values up to end, GREASE left out, the first cap of them kept. */
static status list16(struct reader *r, size_t end, uint16_t *to, unsigned cap, unsigned *n,
                     bool *truncated)
{
	while (r->pos < end) {
		size_t v;

		TRY(number(r, end, 2, &v));
		if (grease(v))
			continue;
		if (*n < cap)
			to[(*n)++] = (uint16_t)v;
		else
			*truncated = true;
	}
	return KW_TLS_HELLO_OK;
}

/* server_name (RFC 6066 3): one host_name at most; other name types are
 * passed over. */
static status server_name(struct reader *r, size_t end, struct kw_tls_hello *h)
{
	TRY(whole_length(r, end, 2, 1));
	while (r->pos < end) {
		size_t type, len;

		TRY(number(r, end, 1, &type));
		TRY(number(r, end, 2, &len));
		if (type != 0) {
			TRY(take(r, end, NULL, len));
			continue;
		}
		/* Longer than any DNS name (OpenSSL refuses it too). A NUL would
		 * make the name another one read as a C string. */
		if (h->sni_present || len == 0 || len >= sizeof h->sni)
			return KW_TLS_HELLO_MALFORMED;
		TRY(take(r, end, h->sni, len));
		if (memchr(h->sni, '\0', len))
			return KW_TLS_HELLO_MALFORMED;
		h->sni[len] = '\0';
		h->sni_len = len;
		h->sni_present = true;
	}
	return KW_TLS_HELLO_OK;
}

/* application_layer_protocol_negotiation (RFC 7301 3.1): names of 1-255
 * bytes, each length-prefixed, that must fill the list. */
static status alpn(struct reader *r, size_t end, struct kw_tls_hello *h)
{
	TRY(whole_length(r, end, 2, 2));
	h->alpn_present = true;
	while (r->pos < end) {
		unsigned char name[256];
		size_t len, room;

		TRY(number(r, end, 1, &len));
		if (len == 0)
			return KW_TLS_HELLO_MALFORMED;
		name[0] = (unsigned char)len;
		TRY(take(r, end, name + 1, len));
		room = sizeof h->alpn - h->alpn_len;
		if (len + 1 > room)
			h->truncated = true;
		else
			room = len + 1;
		memcpy(h->alpn + h->alpn_len, name, room);
		h->alpn_len += room;
	}
	return KW_TLS_HELLO_OK;
}

/* The extensions read. None may come twice (RFC 8446 4.2): a second copy
 * could make a server and keepwarm read different values. Types below 64
 * (all of these) are tracked. */
enum {
	EXT_SERVER_NAME = 0,
	EXT_STATUS_REQUEST = 5,
	EXT_SUPPORTED_GROUPS = 10,
	EXT_SRP = 12,
	EXT_SIGNATURE_ALGORITHMS = 13,
	EXT_ALPN = 16,
	EXT_SCT = 18,
	EXT_PRE_SHARED_KEY = 41,
	EXT_EARLY_DATA = 42,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_CERTIFICATE_AUTHORITIES = 47,
	EXT_POST_HANDSHAKE_AUTH = 49,
};

/* One extension's body, up to end. */
static status extension(struct reader *r, size_t type, size_t end, struct kw_tls_hello *h,
                        uint64_t *seen)
{
	bool *flag = NULL;

	if (type < 64) {
		if (*seen >> type & 1)
			return KW_TLS_HELLO_MALFORMED;
		*seen |= (uint64_t)1 << type;
	}
	switch (type) {
	case EXT_SERVER_NAME:
		return server_name(r, end, h);
	case EXT_ALPN:
		return alpn(r, end, h);
	case EXT_SUPPORTED_VERSIONS:
		TRY(whole_length(r, end, 1, 2));
		h->versions_present = true;
		return list16(r, end, h->versions, KW_TLS_HELLO_VERSIONS_MAX, &h->n_versions,
		              &h->truncated);
	case EXT_SUPPORTED_GROUPS:
		TRY(whole_length(r, end, 2, 2));
		h->groups_present = true;
		return list16(r, end, h->groups, KW_TLS_HELLO_GROUPS_MAX, &h->n_groups, &h->truncated);
	case EXT_SIGNATURE_ALGORITHMS:
		TRY(whole_length(r, end, 2, 2));
		h->sigalgs_present = true;
		return list16(r, end, h->sigalgs, KW_TLS_HELLO_SIGALGS_MAX, &h->n_sigalgs,
		              &h->truncated);
	case EXT_STATUS_REQUEST: flag = &h->status_request; break;
	case EXT_SRP: flag = &h->srp; break;
	case EXT_SCT: flag = &h->sct; break;
	case EXT_PRE_SHARED_KEY: flag = &h->pre_shared_key; break;
	case EXT_EARLY_DATA: flag = &h->early_data; break;
	case EXT_CERTIFICATE_AUTHORITIES: flag = &h->certificate_authorities; break;
	case EXT_POST_HANDSHAKE_AUTH: flag = &h->post_handshake_auth; break;
	default: break;
	}
	if (flag)
		*flag = true;
	return take(r, end, NULL, end - r->pos);
}

static status hello_body(struct reader *r, size_t end, struct kw_tls_hello *h)
{
	size_t v, len;
	uint64_t seen = 0;

	TRY(number(r, end, 2, &v));
	h->legacy_version = (uint16_t)v;
	TRY(take(r, end, NULL, 32)); /* random */
	TRY(number(r, end, 1, &len));
	if (len > 32)
		return KW_TLS_HELLO_MALFORMED;
	TRY(take(r, end, NULL, len)); /* legacy_session_id */
	TRY(number(r, end, 2, &len));
	if (len < 2 || len % 2 || len > end - r->pos)
		return KW_TLS_HELLO_MALFORMED;
	TRY(list16(r, r->pos + len, h->ciphers, KW_TLS_HELLO_CIPHERS_MAX, &h->n_ciphers,
	           &h->truncated));
	TRY(number(r, end, 1, &len));
	if (len < 1)
		return KW_TLS_HELLO_MALFORMED;
	TRY(take(r, end, NULL, len)); /* legacy_compression_methods */
	/* A hello of before extensions ends here; else they fill the rest. */
	if (r->pos < end) {
		TRY(whole_length(r, end, 2, 0));
		while (r->pos < end) {
			size_t type, ext_end;

			TRY(number(r, end, 2, &type));
			TRY(number(r, end, 2, &len));
			if (len > end - r->pos)
				return KW_TLS_HELLO_MALFORMED;
			ext_end = r->pos + len;
			TRY(extension(r, type, ext_end, h, &seen));
			if (r->pos != ext_end) /* each reader ends there: a guard */
				return KW_TLS_HELLO_MALFORMED;
		}
	}
	if (!h->versions_present) {
		h->versions[0] = h->legacy_version;
		h->n_versions = 1;
	}
	return KW_TLS_HELLO_OK;
}

enum kw_tls_hello_status kw_tls_hello_parse(const struct iovec *iov, int iovcnt, size_t n,
                                            struct kw_tls_hello *out)
{
	struct reader r = { .iov = iov, .iovcnt = iovcnt > 0 ? iovcnt : 0, .left = n };
	size_t type, len;

	memset(out, 0, sizeof *out);
	/* The header's 4 bytes bound the first reads; then the message's own
	 * length does. */
	TRY(number(&r, 4, 1, &type));
	if (type != 1)
		return KW_TLS_HELLO_MALFORMED;
	TRY(number(&r, 4, 3, &len));
	return hello_body(&r, 4 + len, out);
}

static bool has(const uint16_t *list, unsigned n, uint16_t v)
{
	for (unsigned j = 0; j < n; j++)
		if (list[j] == v)
			return true;
	return false;
}

enum kw_tls_hello_verdict kw_tls_hello_allows(const struct kw_tls_hello *then,
                                              const struct kw_tls_hello *now, uint16_t version,
                                              uint16_t cipher, uint16_t group)
{
	if (then->sni_present != now->sni_present || then->sni_len != now->sni_len ||
	    memcmp(then->sni, now->sni, now->sni_len))
		return KW_TLS_HELLO_OTHER_NAME;
	if (then->alpn_present != now->alpn_present || then->alpn_len != now->alpn_len ||
	    memcmp(then->alpn, now->alpn, now->alpn_len))
		return KW_TLS_HELLO_OTHER_ALPN;
	if (!has(now->versions, now->n_versions, version) ||
	    !has(now->ciphers, now->n_ciphers, cipher) ||
	    (group && now->groups_present && !has(now->groups, now->n_groups, group)))
		return KW_TLS_HELLO_EXCLUDES;
	/* What the session's handshake agreed to once, or what a client asks
	 * of a new handshake only (early data, SRP), cannot be given by one
	 * already made. */
	if (now->early_data || now->srp || now->truncated ||
	    then->status_request != now->status_request || then->sct != now->sct ||
	    then->certificate_authorities != now->certificate_authorities ||
	    then->post_handshake_auth != now->post_handshake_auth)
		return KW_TLS_HELLO_FEATURE;
	return KW_TLS_HELLO_SAME;
}
