/* tlshello.h - a client's ClientHello read from the bytes it sends, without a
 * TLS library: the fields that decide whether a session another ClientHello
 * made may serve it, and the rule that compares the two.
 *
 * Pure logic, unit-tested (tests/unit/test_tlshello.c). */
#ifndef KW_TLSHELLO_H
#define KW_TLSHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define KW_TLS_HELLO_NAME_MAX 256    /* the host name, NUL included */
#define KW_TLS_HELLO_ALPN_MAX 256    /* the raw protocol list kept */
#define KW_TLS_HELLO_VERSIONS_MAX 32
#define KW_TLS_HELLO_CIPHERS_MAX 128
#define KW_TLS_HELLO_GROUPS_MAX 64
#define KW_TLS_HELLO_SIGALGS_MAX 64

/* What a ClientHello offers. GREASE values (RFC 8701: 0x0A0A, 0x1A1A, ...
 * 0xFAFA) are left out of every list: they are never negotiated, and a
 * client picks new ones for each hello. */
struct kw_tls_hello {
	bool sni_present;                /* server_name (0) has a host_name entry... */
	char sni[KW_TLS_HELLO_NAME_MAX]; /* ...this one, NUL-terminated... */
	size_t sni_len;                  /* ...of this many bytes (1-255, no NUL) */
	bool alpn_present;               /* application_layer_protocol_negotiation (16)... */
	unsigned char alpn[KW_TLS_HELLO_ALPN_MAX]; /* ...its ProtocolNameList, each name
	                                            * length-prefixed, without the
	                                            * list's own 2-byte length */
	size_t alpn_len;
	uint16_t legacy_version; /* the body's version field (0x0303 from TLS 1.3 clients) */
	bool versions_present;   /* supported_versions (43) was sent... */
	uint16_t versions[KW_TLS_HELLO_VERSIONS_MAX]; /* ...and listed these; else { legacy_version } */
	unsigned n_versions;
	uint16_t ciphers[KW_TLS_HELLO_CIPHERS_MAX]; /* cipher_suites */
	unsigned n_ciphers;
	bool groups_present;                        /* supported_groups (10) was sent... */
	uint16_t groups[KW_TLS_HELLO_GROUPS_MAX];   /* ...with these */
	unsigned n_groups;
	bool sigalgs_present;                       /* signature_algorithms (13) was sent... */
	uint16_t sigalgs[KW_TLS_HELLO_SIGALGS_MAX]; /* ...with these */
	unsigned n_sigalgs;
	/* Extensions sent (their content is not read). */
	bool status_request;          /* 5 */
	bool srp;                     /* 12 */
	bool sct;                     /* 18 signed_certificate_timestamp */
	bool pre_shared_key;          /* 41 */
	bool early_data;              /* 42 */
	bool certificate_authorities; /* 47 */
	bool post_handshake_auth;     /* 49 */
	/* A list longer than its array (or than alpn): only its first entries
	 * were kept. */
	bool truncated;
};

enum kw_tls_hello_status {
	KW_TLS_HELLO_OK = 0,
	KW_TLS_HELLO_INCOMPLETE, /* consistent so far: more bytes are needed */
	KW_TLS_HELLO_MALFORMED,  /* not a ClientHello, or one no server would accept */
};

/* Read the ClientHello at the start of the n bytes sent from iov: records of
 * content type 22 as a client sends them, the message possibly split across
 * records and across iov elements (bytes after the message are not looked
 * at). Every length is checked against the one that holds it, and against
 * n. out is filled on KW_TLS_HELLO_OK only (in part otherwise). An
 * extension type below 64 sent twice (every one keepwarm reads is; RFC 8446
 * forbids any twice), a second host name, a host name with a NUL or longer
 * than 255 bytes, and an empty list where the RFCs require entries are
 * malformed. */
enum kw_tls_hello_status kw_tls_hello_parse(const struct iovec *iov, int iovcnt, size_t n,
                                            struct kw_tls_hello *out);

/* Why a session may or may not serve another ClientHello. */
enum kw_tls_hello_verdict {
	KW_TLS_HELLO_SAME = 0,    /* it may */
	KW_TLS_HELLO_OTHER_NAME,  /* another server name (or one and none) */
	KW_TLS_HELLO_OTHER_ALPN,  /* another ALPN offer (the same one gets the same answer) */
	KW_TLS_HELLO_EXCLUDES,    /* the session's version, cipher or group is not offered */
	KW_TLS_HELLO_FEATURE,     /* early data, SRP, a truncated list, or another
	                           * choice of status_request, sct,
	                           * certificate_authorities, post_handshake_auth */
};

/* May a session made by ClientHello then, which negotiated version, cipher
 * suite cipher and named group group (0: none or unknown, not checked), go on
 * for a client whose ClientHello is now? The first rule that fails, in the
 * order of the verdicts. The host name is compared byte for byte (as
 * kw_tls_settings_match does), and group only against a hello that sent
 * supported_groups. pre_shared_key is allowed: now may try to resume. */
enum kw_tls_hello_verdict kw_tls_hello_allows(const struct kw_tls_hello *then,
                                              const struct kw_tls_hello *now, uint16_t version,
                                              uint16_t cipher, uint16_t group);

#endif
