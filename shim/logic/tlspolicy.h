/* tlspolicy.h - what a program set on a TLS session that decides whether
 * another of its sessions may go on with that session's connection: the
 * settings keepwarm records from the calls it wraps, and the rules that
 * compare two of them. Library-neutral where it can be; what needs the
 * library (the peer's chain under the new trust list, client certificates)
 * is judged by service/tls_keep.h.
 *
 * Pure logic, unit-tested (tests/unit/test_tlspolicy.c). */
#ifndef KW_TLSPOLICY_H
#define KW_TLSPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logic/catalog.h"
#include "logic/tlshello.h"

#define KW_TLS_NAME_MAX 256 /* a server name or verified host, NUL included */
#define KW_TLS_ALPN_MAX 64  /* the offered protocols, each length-prefixed */
#define KW_TLS_PRIO_MAX 256 /* a priority string, NUL included */

/* How the program chose the session's priorities. */
enum kw_tls_prio {
	KW_TLS_PRIO_UNSET = 0, /* never said: the library's own default */
	KW_TLS_PRIO_DEFAULT,   /* gnutls_set_default_priority */
	KW_TLS_PRIO_APPEND,    /* gnutls_set_default_priority_append(prio_str, flags) */
	KW_TLS_PRIO_DIRECT,    /* gnutls_priority_set_direct(prio_str) */
	KW_TLS_PRIO_CACHE,     /* gnutls_priority_set(prio_cache): counted by the library */
};

/* The transport functions the program gave the library (bits). */
enum {
	KW_TLS_OWN_PUSH = 1u << 0,
	KW_TLS_OWN_VEC_PUSH = 1u << 1,
	KW_TLS_OWN_PULL = 1u << 2,
	KW_TLS_OWN_PULL_TIMEOUT = 1u << 3,
	KW_TLS_OWN_ERRNO = 1u << 4,
};

typedef void (*kw_tls_fn)(void);

struct kw_tls_settings {
	bool born;            /* made under keepwarm's wrappers: every setting was seen */
	unsigned init_flags;  /* gnutls_init's flags */
	/* The first call keepwarm neither copies nor compares (an unknown setter,
	 * a callback, a verify function): 0 when none. Such a session is never
	 * taken over, nor parked. */
	enum kw_reason foreign;
	uint16_t sni_len; /* 0: no server name */
	char sni[KW_TLS_NAME_MAX];
	uint16_t alpn_len; /* 0: no ALPN offered */
	unsigned alpn_flags;
	unsigned char alpn[KW_TLS_ALPN_MAX];
	uint8_t prio; /* enum kw_tls_prio */
	unsigned prio_flags;
	const void *prio_cache;
	char prio_str[KW_TLS_PRIO_MAX];
	bool verify_cert; /* verification inside the handshake (set_verify_cert)... */
	bool verify_host_set; /* ...for this host name (else the chain only)... */
	unsigned verify_flags; /* ...with these flags */
	char verify_host[KW_TLS_NAME_MAX];
	const void *cert_cred; /* the certificate credentials (NULL: none) */
	bool other_cred;       /* anonymous, PSK or SRP credentials */
	bool compat; /* gnutls_session_enable_compatibility_mode */
	/* The transport: the library's functions on descriptors, or the
	 * program's own functions; their pointers (a descriptor's number, for
	 * the library's). */
	unsigned own; /* KW_TLS_OWN_* */
	void *recv_ptr, *send_ptr;
	kw_tls_fn push, vec_push, pull, pull_timeout, errno_fn;
	/* Callbacks the library calls with the session (0: none): kept for a
	 * takeover, where keepwarm's trampolines call them with the program's
	 * handle. A handshake hook set before the handshake is foreign (the
	 * program would miss its handshake's messages). */
	kw_tls_fn keylog, alert_read, hook;
	unsigned hook_htype;
	int hook_when;
	/* The ClientHello that opened the session's connection (what it
	 * offered the server: the rules of an OpenSSL takeover compare it). */
	bool hello_seen;
	struct kw_tls_hello hello;
	/* OpenSSL: the program's context has a new-session callback, which a
	 * session ticket read while the session is parked would call. */
	bool session_cb;
	/* OpenSSL: the context the SSL was made with (SSL_new's), which the
	 * library calls the new-session callback of. */
	const void *ctx0;
	/* OpenSSL: the record sizes the program set on the SSL (0: its
	 * context's), which a takeover puts on the kept session. */
	long max_send_fragment, split_send_fragment;
};

/* Settings of a session just made (gnutls_init's flags; born: seen from its
 * start). */
void kw_tls_settings_init(struct kw_tls_settings *s, unsigned init_flags, bool born);

/* What the wrappers record. Each returns false when the value cannot be
 * kept (too long): the session then has a foreign setting. */
bool kw_tls_settings_sni(struct kw_tls_settings *s, const char *name, size_t len);
bool kw_tls_settings_alpn(struct kw_tls_settings *s, const unsigned char *const *protos,
                          const unsigned *lens, unsigned n, unsigned flags);
bool kw_tls_settings_prio(struct kw_tls_settings *s, enum kw_tls_prio how, const char *str,
                          unsigned flags, const void *cache);
bool kw_tls_settings_verify(struct kw_tls_settings *s, const char *host, unsigned flags);

/* Mark a setting keepwarm does not model (keeps the first reason). */
void kw_tls_settings_foreign(struct kw_tls_settings *s, enum kw_reason why);

/* May a session set up as next go on with the connection of one set up as
 * parked (same program)? KW_REASON_NONE, or the first rule that fails:
 * tls-setting (a foreign setting, or one not seen from its start),
 * tls-client-auth (anonymous, PSK or SRP credentials), tls-transport-style
 * (descriptors against functions, a different set of functions, an errno
 * function), tls-server-name, tls-alpn-offer, tls-policy (init flags,
 * priorities, in-handshake verification), in that order. */
enum kw_reason kw_tls_settings_match(const struct kw_tls_settings *parked,
                                     const struct kw_tls_settings *next);

/* Can a session set up as s be parked at all (the same rules, on s alone)? */
enum kw_reason kw_tls_settings_parkable(const struct kw_tls_settings *s);

/* The host name a takeover verifies the parked chain for: the host of the
 * in-handshake verification, else the server name, else NULL (the chain
 * only: the program checks a host itself, after the handshake). */
const char *kw_tls_settings_host(const struct kw_tls_settings *s);

#endif
