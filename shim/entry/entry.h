/* entry.h - keepwarm as the wrappers see it: the one header they include.
 *
 * A wrapper looks the fd up (kw_fd_lookup) and calls straight through when it
 * is not followed; otherwise it calls the real function and hands the outcome
 * to one of these. Every function here keeps errno as the program should see
 * it. */
#ifndef KW_ENTRY_H
#define KW_ENTRY_H

#include <stdbool.h>
#include <sys/time.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "logic/catalog.h"
#include "logic/tlspolicy.h"
#include "service/fdtable.h"
#include "service/private.h"
#include "service/real.h"
#include "service/state.h"

/* ---- initialisation (init.c) ---- */

/* Read the configuration and set everything up, once; safe to call from any
 * wrapper at any time. Returns true when sockets are followed (kw_mode is not
 * KW_MODE_OFF). */
bool kw_init(void);

/* ---- reaching every caller (redirect.c) ---- */

/* A name keepwarm wraps and its wrapper; lib is -1 for a libc name (also
 * exported), else the TLS library (enum kw_tls_lib) whose name it is (never
 * exported: reached only by redirection), and real where the library's own
 * function is found once resolved (a slot is redirected only then). */
struct kw_wrapped {
	const char *name;
	void *fn;
	int lib;
	void *const *real;
};

/* The wrappers' table (wrap/, at load): redirect, now, what already bound
 * past keepwarm in the loaded objects (libc names; TLS names from the first
 * socket call on). */
void kw_redirect_setup(const struct kw_wrapped *table, size_t n);

/* Called by the exported dlopen before anything else: where to jump with
 * the program's own arguments (libc's dlopen, or keepwarm's that runs a
 * pass after an RTLD_DEEPBIND load); NULL when dlopen cannot be found. */
void *kw_redirect_dlopen_route(const char *file, int flags);

/* A pass is owed (a dlopen that returned to the program, or a TLS library
 * loaded at start) while the passes done lag the passes asked for: run it,
 * or wait for the one running. */
extern _Atomic unsigned kw_redirect_asked, kw_redirect_done;
void kw_redirect_catch_up(void);
static inline void kw_redirect_check(void)
{
	if (__builtin_expect(atomic_load_explicit(&kw_redirect_asked, memory_order_relaxed) !=
	                     atomic_load_explicit(&kw_redirect_done, memory_order_acquire), 0) &&
	    !kw_depth)
		kw_redirect_catch_up();
}

/* ---- the byte stream of a followed connection (stream.c) ---- */

/* Before the program's bytes iov go out on a followed socket. Returns true
 * when the call was handled here and *result (with errno) is what the
 * program gets: an upgraded request head was sent, or a fresh connection is
 * still being dialled for a request that must not travel on a reused one
 * (EAGAIN). */
bool kw_stream_before_send(struct kw_fd *s, const struct iovec *iov, int iovcnt, int flags,
                           ssize_t *result);

/* After a real send on a followed socket: ret and err (errno after the call)
 * are its outcome, iov the bytes offered, flags the send flags. Returns true
 * when the call must be made once more: a reused connection failed before
 * answering and the request was replayed on a fresh one. */
bool kw_stream_sent(struct kw_fd *s, ssize_t ret, int err, const struct iovec *iov,
                    int iovcnt, int flags);

/* After a real receive on a followed socket: iov holds what was read when
 * *ret > 0, asked is how much the program asked for. For an upgraded request
 * the response head may be put back to what the server says to a
 * close-style request, which shortens *ret. Returns true when the call must
 * be made once more (replayed, as for kw_stream_sent). */
bool kw_stream_received(struct kw_fd *s, ssize_t *ret, int err, const struct iovec *iov,
                        int iovcnt, size_t asked, int flags);

/* The plaintext of the TLS session tied to followed socket s while s's
 * kw_conn.gen is gen (entry/tls.c finds s): n bytes the program wrote, or
 * consumed, feed the tracker. Of an upgraded close-style request's
 * response (TLS reuse): the head is put back to what the program asked for
 * in buf (returns the bytes it gets), and at its end the connection parks
 * with its session while the program's descriptor reads end-of-file. */
void kw_stream_plain_sent(struct kw_fd *s, uint32_t gen, const void *buf, size_t n);
size_t kw_stream_plain_received(struct kw_fd *s, uint32_t gen, void *buf, size_t n);

/* The session over s ends for reason (eof: the server's close_notify, which
 * ends a response that runs to the end of the connection): let s go. */
void kw_stream_plain_end(struct kw_fd *s, uint32_t gen, enum kw_reason reason, bool eof);

/* ---- TLS sessions (tls.c) ----
 * What the TLS wrappers (wrap/tls_gnutls.c, wrap/tls_openssl.c) tell
 * keepwarm about session h of library lib (enum kw_tls_lib). Each keeps
 * errno; none changes what the library or the program sees. */

/* A call on h that may write the handshake begins on this thread (ends:
 * kw_tls_call_leave with outer). Returns false when the call is a second
 * handshake on h (a renegotiation): then h's socket has been let go. */
struct kw_tls_call;
bool kw_tls_handshake_begin(struct kw_tls_call *outer, int lib, const void *h);

/* Any other call on h that moves records begins on this thread. */
void kw_tls_io_begin(struct kw_tls_call *outer, int lib, const void *h);

/* The handshake of h completed; veto (KW_REASON_NONE, or why h cannot be
 * followed: an ALPN other than http/1.1) lets its socket go. */
void kw_tls_handshaken(int lib, const void *h, enum kw_reason veto);

/* The program named h's socket (gnutls_transport_set_int2, SSL_set_fd):
 * the ClientHello must go out there. fd < 0: the program gave h another
 * transport (pointer, callbacks, BIO). A change once h is tied to its socket
 * lets the socket go (tls-transport-changed). */
void kw_tls_transport(int lib, const void *h, int fd);

/* The program set h's pull function (timeout_fn: its pull-timeout one). */
void kw_tls_note_pull(int lib, const void *h, bool timeout_fn);

/* The program set h's own handshake limit: ms, 0 for none. */
void kw_tls_note_timeout(int lib, const void *h, unsigned ms);

/* Before h's first handshake call: the limit keepwarm sets on it
 * (KEEPWARM_TLS_HANDSHAKE_TIMEOUT, when shorter than the program's own and
 * the session can wait with one), or 0 to leave it as it is. */
unsigned kw_tls_handshake_limit(int lib, const void *h);

/* KEEPWARM_TLS_HANDSHAKE_TIMEOUT for a library without a limit of its own
 * (OpenSSL): before h's handshake call on socket fd (-1: not a socket BIO),
 * a blocking one, each wait for the server is bounded by the limit
 * (SO_RCVTIMEO and SO_SNDTIMEO, unless the program's own are shorter; put
 * back after the call). kw_tls_limit_end: after the call (wanting: it
 * returned wanting to read or write); true when it ended because a wait
 * reached the limit: errno is then ETIMEDOUT, h's SSL_get_error says
 * SSL_ERROR_SYSCALL and h is let go. */
struct kw_tls_limit {
	int fd;
	bool set;
	struct timeval rcv, snd;
};
void kw_tls_limit_begin(int lib, const void *h, int fd, struct kw_tls_limit *l);
bool kw_tls_limit_end(int lib, const void *h, struct kw_tls_limit *l, bool wanting);

/* n > 0 plaintext bytes the program wrote (sent) or consumed on h: how
 * many it gets of those it read (fewer when the head of an upgraded
 * response was put back to what a close-style request gets, in buf). */
size_t kw_tls_plain(int lib, const void *h, bool sent, void *buf, size_t n);

/* h's connection cannot be followed further for reason (eof: the server's
 * close_notify came): let its socket go. */
void kw_tls_end(int lib, const void *h, enum kw_reason reason, bool eof);

/* The library frees h, or resets it for another connection: forget it. */
void kw_tls_forget(int lib, const void *h);

/* The program took another reference to h (SSL_up_ref), or dropped one
 * (SSL_free): kw_tls_unref is true when that was the last (the caller
 * then releases h: kw_tls_release). */
void kw_tls_ref(int lib, const void *h);
bool kw_tls_unref(int lib, const void *h);

/* The program gave its TLS library a function that picks a client
 * certificate or verifies a chain its own way: none of its sessions takes
 * a parked one over from now on. */
void kw_tls_refuse_takeovers(void);

/* The program set callback which of h (a handshake hook with htype and
 * when): recorded for a takeover, and put on the kept session h took
 * over, through keepwarm's trampolines, which call fn with h. A hook set
 * before the handshake keeps h from taking over (tls-setting). */
enum kw_tls_callback { KW_TLS_CB_KEYLOG, KW_TLS_CB_ALERT_READ, KW_TLS_CB_HOOK };
void kw_tls_note_callback(int lib, const void *h, enum kw_tls_callback which, kw_tls_fn fn,
                          unsigned htype, int when);

/* TLS reuse. gnutls_init (with flags) or SSL_new made h: what the program
 * sets on it is recorded from now on. */
void kw_tls_born(int lib, const void *h, unsigned flags);

/* h's recorded settings, with the session table locked until
 * kw_tls_settings_done (called whatever this returns: NULL when h's
 * settings are not known). */
struct kw_tls_settings *kw_tls_settings_of(int lib, const void *h);
void kw_tls_settings_done(void);

/* The session a call on h is made on: the kept session h took over, else
 * h itself. */
const void *kw_tls_target(int lib, const void *h);

/* Before the first handshake call on h (inside it): when h's transport is
 * a descriptor keepwarm handed a parked TLS session back on, take it over
 * now, by the same rules as at its ClientHello; true when h did (its
 * handshake need not run: no key shares made for nothing). */
bool kw_tls_take_early(int lib, const void *h);

/* Did h take over a kept session (inside its handshake call)? Then the
 * handshake succeeds at once. */
bool kw_tls_taken(int lib, const void *h);

/* Is h a zombie? 1: its connection was parked when the program closed the
 * socket first (its record calls fail as on a closed descriptor); 2: its
 * upgraded response ended and its connection was parked (reads return
 * end-of-file, bye succeeds, writes fail as after the server's close); 0:
 * neither. */
int kw_tls_zombie(int lib, const void *h);

/* The program shuts h down (gnutls_bye with how, SSL_shutdown): true when
 * keepwarm answers (success, no close_notify sent) because h's connection
 * may be parked. */
bool kw_tls_bye(int lib, const void *h, int how);

/* SSL_set_connect_state on h after a shutdown keepwarm answered: held back
 * (it would wipe the session's keys) and true; false when no shutdown was
 * answered (the caller makes the call). */
bool kw_tls_hold_reset(int lib, const void *h);

/* A call on h after a bye keepwarm answered: the how the close_notify it
 * held back was asked with (the caller sends it now, then the reset it
 * held back when *reset; h's socket is let go), or -1 when none is owed. */
int kw_tls_bye_owed(int lib, const void *h, bool *reset);

/* What a record call on h needs to know, in one look at the table: the
 * session it goes on (kw_tls_target), whether h is a zombie (as
 * kw_tls_zombie), whether a bye keepwarm answered owes its close_notify
 * (then kw_tls_bye_owed), whether h took a kept session over whose chain
 * is still to be verified (then kw_tls_settle), whether its handshake is
 * known to be done. */
struct kw_tls_look {
	const void *target;
	int zombie;
	bool bye_owed;
	bool settle;
	bool handshaken; /* h's handshake completed (or it took a session over) */
};
struct kw_tls_look kw_tls_look(int lib, const void *h);

/* h took a kept session over at its ClientHello, the chain's verification
 * left for its next handshake call (an OpenSSL trust store filled late):
 * verify now. 1: h goes on with the kept session (its handshake is done);
 * 0: refused, h is a session of its own on a fresh connection (its
 * handshake goes on there; traced fresh, tls-verify), or h took nothing
 * over; -1: refused and no fresh connection could be had (h's socket is
 * shut down: its handshake fails as on a connection the server dropped). */
int kw_tls_settle(int lib, const void *h);

/* The program resets h for another connection (SSL_clear): a kept session
 * it took over goes back to the pool; h is a new session, for what the
 * program set on it (which stays). */
void kw_tls_reset(int lib, const void *h);

/* Before the program's plaintext send (buf, n) on h (going on t, its
 * kw_tls_look target): the session it goes on. When h took over a kept session and this is its first request: the
 * kept one if the request could be sent again (KEEPWARM_REUSE=safe), else
 * h itself after its own handshake on a fresh connection (*answer: that
 * handshake's error, if it failed). A close-style request head (with TLS
 * reuse and KEEPWARM_UPGRADE on) is sent here as keep-alive, with the rest
 * of buf: *answer is then the program's byte count, or the library's
 * error. *answer 0: the caller makes the send itself. */
const void *kw_tls_before_send(int lib, const void *h, const void *t, const void *buf, size_t n,
                               ssize_t *answer);

/* A record call on h failed as a reused connection the server closed does,
 * before any response byte: may its request be sent again? */
bool kw_tls_replay_worthy(int lib, const void *h);

/* Then send it again: h's own handshake on a fresh connection and the
 * request's bytes on it (traced replay). 0 when the program's call can be
 * made again on h; a library error, or -1 when nothing was done. */
int kw_tls_replay(int lib, const void *h);

/* The program frees h (gnutls_deinit, the last SSL_free). True when keepwarm keeps h with its
 * socket, to park at close (the caller must not free it); false: the
 * caller frees h (a kept session h had taken over is kept or ended here). */
bool kw_tls_release(int lib, const void *h);

/* A routed GnuTLS call (service/gnutls_routed.h's function idx, through a
 * trampoline of wrap/tls_route.c) on session h: the session to make it on
 * (the kept one h took over, else h) and the library's function to jump
 * to. Before h's handshake, a call keepwarm neither copies nor compares
 * marks h foreign (never taken over or parked). Keeps errno: the
 * trampoline runs it before every such call. */
struct kw_tls_route {
	const void *h;
	void *fn;
};
struct kw_tls_route kw_tls_route(const void *h, unsigned idx);

/* The same for a routed OpenSSL call (service/openssl_routed.h's function
 * idx) on SSL h, by the call's disposition (logic/ossl_calls.h): what the
 * program set is answered by h, what the connection is by the kept session
 * h took over; a zombie's go to the session that never connects, and those
 * that would write fail as on a closed descriptor. */
struct kw_tls_route kw_tls_route_ssl(const void *h, unsigned idx);

/* The SSL an SSL_ctrl (callback: SSL_callback_ctrl) with command cmd (and
 * larg) on h is made on, by the same dispositions; *fail: the call fails at
 * once (a zombie's that would write) and returns 0. The record sizes set
 * before a takeover are noted for it. */
const void *kw_tls_route_ctrl(const void *h, int cmd, long larg, bool callback, bool *fail);

/* ---- descriptors (lifecycle.c) ---- */

/* A socket() call returned fd: follow it if it is a TCP socket. */
void kw_on_socket(int fd, int domain, int type, int protocol);

/* A listen() on fd succeeded: connections to its address go to a server in
 * this program, and are never parked (a server reading until the client
 * closes would wait for ever). Keeps errno. */
void kw_on_listen(int fd);

/* After socket() failed with EMFILE/ENFILE: close idle connections. Returns
 * true if any may have been closed (the caller retries once). */
bool kw_relieve_fd_pressure(void);

/* connect() on a followed, unconnected socket: hand back a parked connection
 * or dial for real. */
int kw_connect(struct kw_fd *s, int fd, const struct sockaddr *addr, socklen_t len);

/* close() of a followed or private fd: park, or close for real. */
int kw_close(struct kw_fd *s, int fd);

/* close_range()/closefrom() semantics around keepwarm's private fds. */
int kw_close_range(unsigned lo, unsigned hi, int flags);

/* The program did something on fd that keepwarm does not model: stop
 * following it for good (never pooled). No-op for unfollowed fds. */
void kw_taint(int fd, enum kw_reason reason);

/* The program sends descriptors over a socket (SCM_RIGHTS in msg): each one
 * keepwarm follows now has another holder, so it is let go (fd-passed). */
void kw_fds_sent(const struct msghdr *msg);

/* A followed socket must never be pooled nor handed a pooled connection
 * (bind(), SO_BINDTODEVICE, ...). */
void kw_pin(struct kw_fd *s, enum kw_reason reason);

/* setsockopt() succeeded on a followed socket: remember it for a handback. */
void kw_note_sockopt(struct kw_fd *s, int level, int name, const void *val, socklen_t len);

/* A call that sets a followed socket's flags succeeded: how is F_SETFL or
 * F_SETFD (arg as fcntl's), FIONBIO (arg the int it pointed to), FIOCLEX or
 * FIONCLEX; -1 when they changed in a way keepwarm does not read (a raw
 * syscall), after which a handback reads them from the kernel again. */
void kw_note_flags(struct kw_fd *s, long how, long arg);

/* epoll_ctl() succeeded on a followed socket. */
void kw_note_epoll(struct kw_fd *s, int epfd, int op, const struct epoll_event *ev);

/* The program is about to get number fd from dup2/dup3: if keepwarm owns
 * it, move ours away; if it follows it, stop (the old socket is closed
 * implicitly, never parked). */
void kw_claim_number(int fd);


/* True for keepwarm's own descriptors (parked connections, the trace). */
static inline bool kw_is_private(const struct kw_fd *s)
{
	return atomic_load_explicit(&s->kind, memory_order_acquire) == KW_FD_PRIVATE;
}

/* True when number fd holds one of keepwarm's own descriptors (a parked
 * connection, the trace file): the program never opened it, so every call on
 * it answers as on a free number. One compare below the private range. */
static inline bool kw_fd_is_private(int fd)
{
	struct kw_fd *s;

	return fd >= kw_private_base && (s = kw_fd_lookup(fd)) && kw_is_private(s) && !kw_depth;
}

/* poll()/ppoll() on an array that names one of keepwarm's numbers: those
 * entries report POLLNVAL (as for a free number), the others are polled
 * without waiting (a POLLNVAL entry makes the call return at once); only
 * revents is written, as by the kernel. Returns the number of entries with
 * events, or -1 with errno. */
int kw_poll_around_private(struct pollfd *fds, nfds_t n, const sigset_t *mask, bool is_ppoll);

/* Does an fd_set of select() (nfds numbers) name one of keepwarm's? */
bool kw_select_names_private(int nfds, const fd_set *r, const fd_set *w, const fd_set *e);

/* Fail a call on a private fd as the kernel would on a number never opened. */
static inline int kw_ebadf(void)
{
	extern int *__errno_location(void);
	*__errno_location() = 9; /* EBADF */
	return -1;
}

#endif
