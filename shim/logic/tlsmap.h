/* tlsmap.h - what keepwarm knows of TLS without a TLS library: the record
 * that opens a client's handshake, and the table of the sessions it follows
 * (by the library's handle) and the sockets they run over.
 *
 * Pure logic; the caller locks the table (service/tls_sessions.c). */
#ifndef KW_TLSMAP_H
#define KW_TLSMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "logic/tlspolicy.h"

/* The TLS libraries keepwarm follows sessions of. */
enum kw_tls_lib {
	KW_TLS_GNUTLS = 0, /* libgnutls.so.30 */
	KW_TLS_OPENSSL,    /* libssl.so.3 */
	KW_TLS_LIBS,
};

/* "gnutls", "openssl" (trace lines); "?" out of range. */
const char *kw_tls_lib_name(enum kw_tls_lib lib);

/* Do the n bytes sent from iov start a TLS record holding a ClientHello
 * (content type 22, version 3.x, handshake type 1)? Six bytes are needed. */
bool kw_tls_client_hello(const struct iovec *iov, int iovcnt, size_t n);

enum kw_tls_state {
	KW_TLS_SEEN = 0, /* known (the program named its socket), not tied to one yet */
	KW_TLS_BOUND,    /* tied to a followed socket: its plaintext is fed */
	KW_TLS_GONE,     /* let go: never followed again, until the library frees it */
	KW_TLS_KEPT,     /* the program let go of it; keepwarm keeps it with its socket */
};

struct kw_tls_session {
	const void *h;   /* the library's handle (gnutls_session_t, SSL *); NULL: free */
	uint8_t lib;     /* enum kw_tls_lib */
	uint8_t state;   /* enum kw_tls_state */
	bool handshaken; /* its handshake completed once: another is a renegotiation */
	int hint_fd;     /* the socket the program named (set_int, SSL_set_fd), or -1 */
	int fd;          /* BOUND: the program's socket... */
	uint32_t gen;    /* ...while its kw_conn.gen is this */
	/* What the program set that a handshake limit depends on. */
	uint32_t timeout_ms;   /* its own handshake limit (0: none) */
	bool own_pull;         /* its own pull function... */
	bool own_pull_timeout; /* ...and pull-timeout function */
	bool limit_applied;    /* KEEPWARM_TLS_HANDSHAKE_TIMEOUT was looked at */
	/* Reuse. */
	struct kw_tls_settings *set; /* what the program set (malloc'd; NULL: not known) */
	void *live;       /* BOUND after a takeover: the kept session its calls go to */
	bool lent;        /* KEPT: a program's handle works on it now... */
	const void *taker; /* ...this one */
	/* The program closed the socket before freeing this handle: its calls
	 * go to a dead session until it does (a kept session's memory is not
	 * freed before, so no new session gets its address). */
	bool zombie;
	bool zombie_eof; /* ...that reads end-of-file (an upgraded response ended) */
	bool bye_faked;   /* the program's gnutls_bye or SSL_shutdown returned without a
	                   * close_notify... */
	int bye_how;      /* ...asked for as this (GnuTLS) */
	bool reset_owed;  /* ...and its SSL_set_connect_state was held back with it */
	/* BOUND: it took a kept session over at its ClientHello, whose chain is
	 * still to be verified (at its next handshake call: the program fills
	 * its trust store once its first handshake call returns); its calls
	 * stay its own until then. */
	bool verify_owed;
	/* Its blocking handshake call ended at KEEPWARM_TLS_HANDSHAKE_TIMEOUT
	 * (OpenSSL: SSL_get_error says SSL_ERROR_SYSCALL, errno ETIMEDOUT). */
	bool timed_out;
	ino_t ino;        /* KEPT: the socket it runs over */
	uint32_t refs;    /* references the program took beyond its first
	                   * (SSL_up_ref): freed at the last SSL_free */
};

#define KW_TLS_MAP_SIZE 1024 /* a power of two; 3/4 of it may be used */

struct kw_tls_map {
	struct kw_tls_session e[KW_TLS_MAP_SIZE];
	unsigned n;
};

/* The entry of handle h of library lib, or NULL. */
struct kw_tls_session *kw_tls_map_find(struct kw_tls_map *m, const void *h, enum kw_tls_lib lib);

/* The entry of h, made (state SEEN, no socket) when there is none; NULL when
 * the table is full. */
struct kw_tls_session *kw_tls_map_add(struct kw_tls_map *m, const void *h, enum kw_tls_lib lib);

/* The kept session running over the socket with inode ino, or NULL. */
struct kw_tls_session *kw_tls_map_find_kept(struct kw_tls_map *m, ino_t ino);

/* Forget h (the library freed it, or reset it for another connection); its
 * settings are freed. */
void kw_tls_map_drop(struct kw_tls_map *m, const void *h, enum kw_tls_lib lib);

/* Forget every entry for which dead(entry, arg) says so. Returns how many. */
unsigned kw_tls_map_sweep(struct kw_tls_map *m,
                          bool (*dead)(const struct kw_tls_session *e, void *arg), void *arg);

/* Forget everything (settings are not freed: a fork child made by a bare
 * clone may not call free). */
void kw_tls_map_clear(struct kw_tls_map *m);

#endif
