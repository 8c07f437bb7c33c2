/* tlsreuse.h - a parked TLS session taken over by the program's next
 * session to the same server, or the handback undone. At connect() a
 * connection parked with its TLS session is handed back like a plain one
 * (primitive/handback.c: s->conn.tls_pending); the program's first send on
 * it decides. Expects the slot lock. */
#ifndef KW_TLSREUSE_H
#define KW_TLSREUSE_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "service/fdtable.h"
#include "service/tls_sessions.h"

/* The first bytes the program sends on s (tls_pending). When they are a
 * ClientHello from inside the handshake call of a session keepwarm follows
 * and the takeover rules pass (service/tls_keep.h), that session takes the
 * parked one over: the ClientHello is never sent, the send fails with
 * EAGAIN (*result -1) so the library returns from its handshake at once,
 * and the handshake wrapper reports success. Otherwise the handback is
 * undone: a fresh connection takes the program's number (the parked one
 * goes back to the pool; traced fresh with the rule's reason) and the bytes
 * go there; *result -1/EAGAIN while it connects under a non-blocking
 * socket. Returns whether the send is answered here. */
bool kw_tlsreuse_first_send(struct kw_fd *s, const struct iovec *iov, int iovcnt, size_t len,
                            ssize_t *result);

/* The same decision before the handshake of call's session writes
 * anything, when its transport names s (a descriptor: the library's own
 * functions): true when it took the kept session over (its handshake
 * need not run at all); false leaves it all to its ClientHello. */
bool kw_tlsreuse_take_before_hello(struct kw_fd *s, const struct kw_tls_call *call);

/* h (of lib) took over the kept session on s with its chain still to be
 * verified (service/tls_keep.h's settle): verify it now, with kw_depth
 * raised (the program's verify callback runs; not under the session
 * table's lock). KW_REASON_NONE: h goes on with it, or (not last, a
 * store the program may fill once its handshake call returns, on a socket
 * that does not block) the verification is still owed; otherwise why not,
 * and h is a session of its own again (its route gone, its handshake
 * still to run) while s still holds the kept connection: the caller
 * undoes that. */
enum kw_reason kw_tlsreuse_settle(struct kw_fd *s, enum kw_tls_lib lib, const void *h, bool last);

/* The session that took over the kept session on s goes on with a
 * connection of its own instead: a fresh one to the same destination takes
 * the program's number (connected: waited for, up to KW_REDIAL_TIMEOUT_MS),
 * and the kept session goes back to the pool (stale: ends with its
 * connection). Traced fresh for why (unless stale: the caller traces the
 * replay). The caller then runs the session's own handshake on it, and
 * frees the session's route. False when nothing changed. */
bool kw_tlsreuse_untake(struct kw_fd *s, bool stale, enum kw_reason why);

/* May s's connection (tied to a session at generation gen; slot lock
 * held) be parked if its session ends now? Still followed, TLS, between
 * exchanges, never vetoed, this process's, and TLS reuse on. */
bool kw_tlsreuse_parkable(struct kw_fd *s, uint32_t gen);

/* Keep the session of s's connection for parking now, while the program
 * still holds its handle: at close() before gnutls_deinit (eof false), or
 * at the end of an upgraded close-style response (eof true). The handle
 * becomes a zombie: its record calls and bye fail as on a closed
 * descriptor, or (eof) read end-of-file and shut down cleanly, as after the
 * server's close. True when kept (s->conn.tls_kept). */
bool kw_tlsreuse_keep_now(struct kw_fd *s, bool eof);

#endif
