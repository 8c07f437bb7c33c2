/* tls_sessions.h - the TLS sessions keepwarm follows, process-wide, and
 * the TLS call each thread is inside.
 *
 * A session is tied to its socket by the ClientHello: the followed socket
 * whose send carries one while this thread is inside a call on the session
 * (handshake, read, write). That holds whatever transport the program gave
 * the library (an fd, push/pull callbacks, a custom BIO) as long as the
 * library writes from inside its own call; a session whose records the
 * program moves itself (a memory BIO) is never tied, and its socket is let
 * go. Lock order: a slot lock, then this table's lock. */
#ifndef KW_TLS_SESSIONS_H
#define KW_TLS_SESSIONS_H

#include <stdbool.h>

#include "logic/tlsmap.h"

/* The call this thread is inside: h NULL when none. */
struct kw_tls_call {
	const void *h;
	enum kw_tls_lib lib;
};

/* Enter a call on session h of lib; *outer keeps the call it was made
 * inside (none, normally), for kw_tls_call_leave. */
void kw_tls_call_enter(struct kw_tls_call *outer, enum kw_tls_lib lib, const void *h);
void kw_tls_call_leave(const struct kw_tls_call *outer);

/* The call this thread is inside, or NULL. */
const struct kw_tls_call *kw_tls_call_current(void);

/* The table, under kw_tls_sessions_lock to change it or
 * kw_tls_sessions_lock_shared to read it (both raise kw_depth; one unlock). */
extern struct kw_tls_map kw_tls_sessions;
void kw_tls_sessions_lock(void);
void kw_tls_sessions_lock_shared(void);
void kw_tls_sessions_unlock(void);

/* Forget every session and this thread's call, with a lock afresh: in a
 * fork child (the parent's sessions are not the child's to follow or
 * park), and between unit tests. A program's session that took over a kept
 * one still reaches it (not followed). */
void kw_tls_sessions_reset(void);

#endif
