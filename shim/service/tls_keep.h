/* tls_keep.h - what keepwarm does itself to a TLS session it keeps: take it
 * from the program that let go of it, lend it to another session of the
 * program's (a takeover), end it. One table per library; GnuTLS's is
 * service/gnutls_keep.c. Every call here runs with kw_depth raised, so the
 * library's own I/O on a kept session reaches the real libc.
 *
 * A kept session is known by the socket it runs over (its inode), in the
 * session table (service/tls_sessions.h) as state KW_TLS_KEPT. */
#ifndef KW_TLS_KEEP_H
#define KW_TLS_KEEP_H

#include <stdbool.h>
#include <sys/types.h>

#include "logic/catalog.h"
#include "logic/tlsmap.h"
#include "logic/tlspolicy.h"
#include "service/tls_real.h"

struct kw_tls_keep_ops {
	/* The program let go of session p (set up as set): from now on p holds
	 * nothing of the program's (its credentials or context, transport
	 * functions or BIOs, pointers and ex_data, callbacks are keepwarm's).
	 * False when that cannot be done: p is then not kept. */
	bool (*keep)(void *p, struct kw_tls_settings *set);
	/* Could keep take p now, as far as the library tells: no certificate of
	 * the program's own on it, no close_notify read from the server. */
	bool (*keepable)(const void *p);
	/* May the program's new session n (set up as nset) go on with kept
	 * session p (set up as pset)? The library's rules (GnuTLS: those of
	 * kw_tls_settings_match; OpenSSL: the two ClientHellos), then no client
	 * certificate on n's side, and p's peer chain verifying under n's trust
	 * store for n's host name as n's own handshake would verify it
	 * (tls-verify). On KW_REASON_NONE p carries n's credentials or context,
	 * transport and pointers; otherwise p is as before. *later (OpenSSL):
	 * the rules passed, and the verification is settle's, which the caller
	 * makes without the session table's lock (it runs the program's verify
	 * callback); p carries nothing of n's until then. Under the lock. */
	enum kw_reason (*attach)(void *p, const struct kw_tls_settings *pset, const void *n,
	                         const struct kw_tls_settings *nset, bool *later);
	/* The verification attach left for later, with kw_depth raised (the
	 * program's callbacks reach the real libc): KW_REASON_NONE and p carries
	 * what attach would have given it, or why not (p as before). *retry:
	 * refused for want of the chain's issuer in n's store, which a program
	 * may fill once the handshake call that sent the ClientHello returns
	 * (libcurl: the caller may ask again then). Not under the session
	 * table's lock; p is reserved (lent) meanwhile. */
	enum kw_reason (*settle)(void *p, const void *n, const struct kw_tls_settings *nset,
	                         bool *retry);
	/* Kept session p (set up as set) on the parked socket h has records
	 * waiting: take in what only keeps the session going (TLS 1.3 session
	 * tickets; a key update, answered when asked for). True when that was
	 * all and the connection is still healthy; false on application data, a
	 * close_notify or other alert, a renegotiation or post-handshake
	 * authentication request, an error, the socket's end, or a ticket that
	 * would reach a callback of the program's (set->session_cb). */
	bool (*tidy)(void *p, const struct kw_tls_settings *set, int h);
	/* Session n's own handshake, on the descriptor fd its transport
	 * leads to (a blocking loop: waits up to ms for each step). 0, or the
	 * library's error (GnuTLS), -2 (OpenSSL). Not with kw_depth raised:
	 * the ClientHello must tie n to its socket on the way out. */
	int (*handshake)(void *n, int fd, int ms);
	/* Send all len bytes of plaintext on n (waits as handshake does):
	 * 0, or an error as handshake's. */
	int (*send_all)(void *n, int fd, const void *buf, size_t len, int ms);
	/* A session that never connects, for the calls of a program's handle
	 * whose connection keepwarm took (a zombie): made once; NULL when it
	 * cannot be. */
	void *(*dead)(void);
	/* The callbacks of set (GnuTLS: keylog, alert read, handshake hook) on
	 * kept session p, lent to a program's handle: keepwarm's trampolines,
	 * which call the program's functions with that handle; set NULL: none. */
	void (*callbacks)(void *p, const struct kw_tls_settings *set);
	/* End p: freed, no close_notify (the socket is the caller's). */
	void (*end)(void *p);
};

/* lib's operations, or NULL when keepwarm does not keep its sessions. */
const struct kw_tls_keep_ops *kw_tls_keep_ops(enum kw_tls_lib lib);

/* Each library's table (gnutls_keep.c, openssl_keep.c), and whether the
 * functions it needs were found. */
extern const struct kw_tls_keep_ops kw_gnutls_keep_ops, kw_openssl_keep_ops;
bool kw_openssl_keep_ready(void);

/* The program's SSL_CTX_sess_set_new_cb and SSL_CTX_sess_get_new_cb: its
 * callback kept in the context, keepwarm's trampoline given to OpenSSL
 * (it calls the program's with the program's SSL that took a kept one
 * over, and not at all for a parked one). Take the session table's lock. */
void kw_openssl_set_new_session_cb(SSL_CTX *ctx, kw_ssl_new_session_cb cb);
kw_ssl_new_session_cb kw_openssl_get_new_session_cb(SSL_CTX *ctx);

/* End p with end, counting what that released (kw_tls_keep_census). Under
 * the session table's lock. */
void kw_tls_keep_measure_end(void (*end)(void *), void *p);

/* Did the process ever give the library a function that picks a client
 * certificate or verifies a chain its own way (credentials-level, so not
 * tied to one session)? Such a process takes nothing over. */
extern bool kw_tls_keep_refuse_all;

/* The kept session over the socket with inode ino is no longer needed (its
 * connection closes): forget and end it; one the program still holds (a
 * zombie) or works on (lent) is only marked gone, and ended when the
 * program lets go of it. Takes the session table's lock. */
void kw_tls_keep_end_ino(ino_t ino);

/* How many kept sessions are parked now (not lent to a program's session)
 * and an estimate of the memory they hold: their number times what ending
 * one released, on average (0 until one ended). Takes the table's lock. */
void kw_tls_keep_census(uint64_t *parked, uint64_t *bytes);

/* The parked socket h, with records waiting: tidy its kept session (not
 * lent to anyone). False when there is none or it is not healthy. Takes
 * the session table's lock. */
bool kw_tls_keep_tidy(int h, ino_t ino);

#endif
