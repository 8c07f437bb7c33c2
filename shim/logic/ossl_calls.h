/* ossl_calls.h - where each OpenSSL call on an SSL goes once the program's
 * SSL (N) has taken a kept connection (P) over, and what the call means
 * when made before N's handshake: the disposition of every function
 * service/openssl_routed.h lists (and of three since wrapped by hand),
 * and of every command SSL_ctrl and SSL_callback_ctrl take for an SSL (the
 * macros built on them: SSL_set_tlsext_host_name, SSL_set_mode,
 * SSL_get_negotiated_group...).
 *
 * Pure logic, no OpenSSL header: commands are known by number (their
 * names are kept, and tests/unit/test_ossl_calls.c checks both against
 * the installed headers). */
#ifndef KW_OSSL_CALLS_H
#define KW_OSSL_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a call goes after a takeover, and what it means before N's
 * handshake (before it, every call goes to N). */
enum kw_ossl_kind {
	/* A setting keepwarm cannot replay on a taken-over connection (client
	 * certificates and keys, PSK, SRP, DANE, CT, OCSP requests, early
	 * data, callbacks that judge a handshake, the server side, DTLS):
	 * made before the handshake it keeps N from taking over; after, it
	 * goes to N. Unknown names and commands are this. */
	KW_OSSL_FOREIGN = 0,
	/* A setting the takeover checks or copies itself (server name, ALPN
	 * offer, version bounds, cipher and group lists, verification: hosts,
	 * mode, depth, callback, parameters, the session to resume): not
	 * foreign before the handshake; after it, it goes to N. */
	KW_OSSL_HARMLESS_BEFORE,
	/* About what the program set on its own SSL (ex_data, its context,
	 * its BIOs and descriptors, its own getters): always N. */
	KW_OSSL_OWN,
	/* A setting that changes how the connection's I/O behaves (modes,
	 * options, read-ahead, fragment sizes, padding, the msg and info
	 * callbacks, which P calls through keepwarm's trampolines with N):
	 * applied to N and to P, answered from N. Made before the handshake,
	 * the takeover puts N's value on P (keepwarm records what N cannot
	 * be asked back: fragment sizes, the read buffer length, callbacks). */
	KW_OSSL_BOTH,
	/* What the connection is (peer, chain, version, cipher, session,
	 * state, pending bytes, the last call's error): P. Before the
	 * handshake it reads (or sets) N's, as without keepwarm. */
	KW_OSSL_PARKED,
	/* SSL_ctrl and SSL_callback_ctrl: as their command says
	 * (kw_ossl_ctrl_kind). */
	KW_OSSL_BY_CMD,
	KW_OSSL_KINDS,
};

/* One function: its name, kind (enum kw_ossl_kind) and whether it may
 * write to the connection's socket, or schedule a message the next write
 * sends (a closed-socket zombie must fail it instead). */
struct kw_ossl_call {
	const char *name;
	uint8_t kind;
	bool writes;
};

/* One command: its number, whether SSL_callback_ctrl (else SSL_ctrl)
 * takes it, kind, writes, and its header's name (SSL_CTRL_..., DTLS_CTRL_...). */
struct kw_ossl_ctrl {
	int cmd;
	bool callback;
	uint8_t kind;
	bool writes;
	const char *name;
};

/* "foreign", "harmless-before", "own", "both", "parked", "by-command"
 * (trace lines); "?" out of range. */
const char *kw_ossl_kind_name(enum kw_ossl_kind kind);

/* The kind of the function called name; *writes (when writes is not NULL)
 * says whether it writes. Unknown: KW_OSSL_FOREIGN, and it writes. */
enum kw_ossl_kind kw_ossl_call_kind(const char *name, bool *writes);

/* The kind of command cmd given to SSL_callback_ctrl (callback_ctrl) or
 * SSL_ctrl; *writes as above. A command the function does not take for an
 * SSL (an SSL_CTX one) is unknown: KW_OSSL_FOREIGN, and it writes. */
enum kw_ossl_kind kw_ossl_ctrl_kind(int cmd, bool callback_ctrl, bool *writes);

/* The tables themselves, *n entries each: functions sorted by name
 * (strcmp), commands by number, SSL_ctrl's before SSL_callback_ctrl's. */
const struct kw_ossl_call *kw_ossl_call_table(size_t *n);
const struct kw_ossl_ctrl *kw_ossl_ctrl_table(size_t *n);

#endif
