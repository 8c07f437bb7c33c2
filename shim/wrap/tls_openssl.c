/* tls_openssl.c - the OpenSSL calls of a client session (SSL *), reached
 * only by redirection (entry/redirect.c: the slots of objects whose calls
 * resolve into the system's libssl.so.3; never exported). Each calls the
 * library's own function and tells keepwarm what it moved, its handshake,
 * its transport, its end; with TLS reuse, a session that took a kept one
 * over makes its calls there (the target). Nothing the program sees
 * changes. */
#include <string.h>

#include "service/tls_keep.h"
#include "service/tls_real.h"
#include "service/tls_sessions.h"
#include "wrap/wrap.h"

#define LIB KW_TLS_OPENSSL
#define REAL(name) kw_tls_real.name

/* The session a call on s is made on (the kept one s took over, or s). */
#define TARGET(s) ((SSL *)kw_tls_target(LIB, s))

/* A call that returned r <= 0 on t (for s): what it means for following s. */
static void after_failure(SSL *s, SSL *t, int r, bool reading)
{
	int e = REAL(SSL_get_error)(t, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
	case SSL_ERROR_WANT_X509_LOOKUP:
	case SSL_ERROR_WANT_ASYNC:
	case SSL_ERROR_WANT_ASYNC_JOB:
	case SSL_ERROR_WANT_CLIENT_HELLO_CB:
		return;
	case SSL_ERROR_ZERO_RETURN: /* close_notify */
		kw_tls_end(LIB, s, KW_REASON_SERVER_CLOSED, true);
		return;
	default: /* a reading failure may be the end without close_notify */
		kw_tls_end(LIB, s, reading ? KW_REASON_READ_ERROR : KW_REASON_WRITE_ERROR, reading);
	}
}

/* Why a completed handshake cannot be followed: an ALPN other than
 * http/1.1 (none negotiated is HTTP/1.x). */
static enum kw_reason alpn_veto(const SSL *s)
{
	const unsigned char *p = NULL;
	unsigned len = 0;

	if (!REAL(SSL_get0_alpn_selected))
		return KW_REASON_NONE;
	REAL(SSL_get0_alpn_selected)(s, &p, &len);
	if (!p || !len)
		return KW_REASON_NONE;
	return len == 8 && !memcmp(p, "http/1.1", 8) ? KW_REASON_NONE : KW_REASON_TLS_ALPN;
}

/* A call on s after a shutdown keepwarm answered without a close_notify:
 * the close_notify goes now (the program goes on with the session: it is
 * not parked), and the SSL_set_connect_state held back with it. */
static void bye_owed(SSL *s)
{
	bool reset = false;
	int saved = errno;

	if (kw_tls_bye_owed(LIB, s, &reset) >= 0) {
		SSL *t = TARGET(s);
		(void)REAL(SSL_shutdown)(t);
		if (reset)
			REAL(SSL_set_connect_state)(t);
	}
	errno = saved;
}

/* A record call on a zombie (the program closed its socket first, and
 * keepwarm parked the connection): what the library says when the
 * descriptor is closed (SSL_get_error: SSL_ERROR_SYSCALL), or after an
 * upgraded response, end-of-file (SSL_ERROR_ZERO_RETURN). */
static int zombie_io(int zombie, bool sending, bool ex)
{
	if (zombie == 2 && !sending)
		return 0;
	errno = zombie == 2 ? EPIPE : EBADF;
	return ex ? 0 : -1;
}

/* ---- the handshake ---- */

/* A handshake call: OpenSSL answers a second one on an established
 * session at once (renegotiation goes through SSL_renegotiate). A first
 * one whose ClientHello took a kept session over succeeds at once. On a
 * blocking socket, KEEPWARM_TLS_HANDSHAKE_TIMEOUT bounds each wait for
 * the server (kw_tls_limit_begin). */
/* Did r on t fail wanting to read or write (a socket's EAGAIN)? */
static bool wanting(SSL *t, int r)
{
	int e = REAL(SSL_get_error)(t, r);

	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

static int handshake(SSL *s, int (*fn)(SSL *))
{
	struct kw_tls_limit limit = { -1, false, { 0, 0 }, { 0, 0 } };
	struct kw_tls_call outer;
	struct kw_tls_look look;
	SSL *t;
	int r, saved;

	if (kw_depth)
		return fn(s);
	look = kw_tls_look(LIB, s);
	if (look.zombie)
		return zombie_io(1, true, false);
	if (look.bye_owed)
		bye_owed(s);
	if (look.settle && kw_tls_settle(LIB, s) == 1) {
		kw_tls_handshaken(LIB, s, alpn_veto(TARGET(s)));
		return 1;
	}
	t = TARGET(s);
	if (t == s)
		kw_tls_limit_begin(LIB, s, REAL(SSL_get_fd)(s), &limit);
	kw_tls_io_begin(&outer, LIB, s);
	r = fn(t);
	kw_tls_call_leave(&outer);
	if (t == s && kw_tls_limit_end(LIB, s, &limit, r <= 0 && wanting(t, r)))
		return -1;
	saved = errno;
	if (t == s && r != 1 && kw_tls_taken(LIB, s)) {
		r = 1;
		t = TARGET(s);
	}
	if (r == 1)
		kw_tls_handshaken(LIB, s, alpn_veto(t));
	errno = saved;
	return r;
}

int kw_tls_wrap_SSL_connect(SSL *s)
{
	return handshake(s, REAL(SSL_connect));
}

int kw_tls_wrap_SSL_do_handshake(SSL *s)
{
	return handshake(s, REAL(SSL_do_handshake));
}

/* ---- record I/O ---- */

enum io_op { IO_READ, IO_PEEK, IO_WRITE };

/* The library's call op on t: the _ex form (1 or 0, *moved) or the plain
 * one (n is the program's int; bytes or <= 0). */
static int call(SSL *t, enum io_op op, bool ex, void *buf, size_t n, size_t *moved)
{
	int r;

	if (ex) {
		switch (op) {
		case IO_READ:
			return REAL(SSL_read_ex)(t, buf, n, moved);
		case IO_PEEK:
			return REAL(SSL_peek_ex)(t, buf, n, moved);
		default:
			return REAL(SSL_write_ex)(t, buf, n, moved);
		}
	}
	if (op == IO_READ)
		r = REAL(SSL_read)(t, buf, (int)n);
	else if (op == IO_PEEK)
		r = REAL(SSL_peek)(t, buf, (int)n);
	else
		r = REAL(SSL_write)(t, buf, (int)n);
	*moved = r > 0 ? (size_t)r : 0;
	return r;
}

/* What the program's call returns for k bytes moved (k > 0), or for a
 * failure (k 0). */
static int answer_of(bool ex, size_t k, size_t *moved)
{
	if (ex) {
		*moved = k;
		return k ? 1 : 0;
	}
	return k ? (int)k : -1;
}

/* A failure that a server closing a reused connection gives, before any
 * response byte. */
static bool stale_failure(SSL *t, int r)
{
	int e = REAL(SSL_get_error)(t, r);

	return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL || e == SSL_ERROR_SSL;
}

/* Record I/O on s: inside a call on s (a handshake still to finish happens
 * there too: one whose ClientHello takes a kept session over makes the
 * call there), then what moved. The first request on a taken-over session
 * may move s to a connection of its own first, and a close-style head is
 * sent as keep-alive (kw_tls_before_send). A reused connection that fails
 * before its first response byte is replayed once (kw_tls_replay) and the
 * call made again, on s's own session. */
static int io(SSL *s, enum io_op op, bool ex, void *buf, size_t n, size_t *moved)
{
	bool sending = op == IO_WRITE, ok;
	size_t len = ex ? n : ((int)n > 0 ? (size_t)(int)n : 0);
	struct kw_tls_call outer;
	struct kw_tls_look look;
	size_t spare = 0;
	SSL *t = s;
	int r = 0, saved;

	if (!moved)
		moved = &spare;
	if (kw_depth)
		return call(s, op, ex, buf, n, moved);
	for (int pass = 0; pass < 2; pass++) {
		ssize_t answer = 0;
		look = kw_tls_look(LIB, s);
		if (look.zombie)
			return zombie_io(look.zombie, sending, ex);
		if (look.bye_owed)
			bye_owed(s);
		if (look.settle) {
			(void)kw_tls_settle(LIB, s);
			look.target = kw_tls_target(LIB, s);
		}
		t = (SSL *)look.target;
		if (sending && len)
			t = (SSL *)kw_tls_before_send(LIB, s, t, buf, len, &answer);
		if (answer)
			return answer_of(ex, answer > 0 ? (size_t)answer : 0, moved);
		kw_tls_io_begin(&outer, LIB, s);
		r = call(t, op, ex, buf, n, moved);
		kw_tls_call_leave(&outer);
		ok = ex ? r == 1 : r > 0;
		/* An implicit handshake whose ClientHello took a kept session
		 * over: the call again, there. */
		if (ok || t != s || pass || !kw_tls_taken(LIB, s))
			break;
		kw_tls_handshaken(LIB, s, alpn_veto(TARGET(s)));
	}
	ok = ex ? r == 1 : r > 0;
	if (!ok && t != s && stale_failure(t, r) && kw_tls_replay_worthy(LIB, s)) {
		int again = kw_tls_replay(LIB, s);
		if (again == 0) {
			t = s;
			kw_tls_io_begin(&outer, LIB, s);
			r = call(s, op, ex, buf, n, moved);
			kw_tls_call_leave(&outer);
		} else if (again < -1) {
			t = s;
			r = answer_of(ex, 0, moved);
		}
		ok = ex ? r == 1 : r > 0;
	}
	saved = errno;
	/* A handshake OpenSSL ran inside this call (no SSL_connect first). */
	if (ok && !look.handshaken && t == s)
		kw_tls_handshaken(LIB, s, alpn_veto(s));
	if (ok && op != IO_PEEK && *moved) {
		/* Fewer bytes when the head of an upgraded response is put back
		 * to what a close-style request gets. */
		size_t k = kw_tls_plain(LIB, s, sending, buf, *moved);
		r = answer_of(ex, k, moved);
	} else if (!ok) {
		after_failure(s, t, r, !sending);
	}
	errno = saved;
	return r;
}

int kw_tls_wrap_SSL_read(SSL *s, void *buf, int n)
{
	return io(s, IO_READ, false, buf, (size_t)n, NULL);
}

int kw_tls_wrap_SSL_read_ex(SSL *s, void *buf, size_t n, size_t *got)
{
	return io(s, IO_READ, true, buf, n, got);
}

int kw_tls_wrap_SSL_write(SSL *s, const void *buf, int n)
{
	return io(s, IO_WRITE, false, (void *)buf, (size_t)n, NULL);
}

int kw_tls_wrap_SSL_write_ex(SSL *s, const void *buf, size_t n, size_t *put)
{
	return io(s, IO_WRITE, true, (void *)buf, n, put);
}

/* A peek consumes nothing: the tracker does not advance. */
int kw_tls_wrap_SSL_peek(SSL *s, void *buf, int n)
{
	return io(s, IO_PEEK, false, buf, (size_t)n, NULL);
}

int kw_tls_wrap_SSL_peek_ex(SSL *s, void *buf, size_t n, size_t *got)
{
	return io(s, IO_PEEK, true, buf, n, got);
}

/* Calls whose bytes keepwarm does not see, or that renegotiate: the
 * session is let go first (on the session they go on). */
ossl_ssize_t kw_tls_wrap_SSL_sendfile(SSL *s, int fd, off_t off, size_t n, int flags)
{
	if (kw_depth)
		return REAL(SSL_sendfile)(s, fd, off, n, flags);
	kw_tls_end(LIB, s, KW_REASON_TLS_CALL, false);
	return REAL(SSL_sendfile)(TARGET(s), fd, off, n, flags);
}

int kw_tls_wrap_SSL_write_early_data(SSL *s, const void *buf, size_t n, size_t *put)
{
	if (kw_depth)
		return REAL(SSL_write_early_data)(s, buf, n, put);
	kw_tls_end(LIB, s, KW_REASON_TLS_CALL, false);
	return REAL(SSL_write_early_data)(TARGET(s), buf, n, put);
}

int kw_tls_wrap_SSL_renegotiate(SSL *s)
{
	if (kw_depth)
		return REAL(SSL_renegotiate)(s);
	kw_tls_end(LIB, s, KW_REASON_TLS_RENEGOTIATION, false);
	return REAL(SSL_renegotiate)(TARGET(s));
}

int kw_tls_wrap_SSL_renegotiate_abbreviated(SSL *s)
{
	if (kw_depth)
		return REAL(SSL_renegotiate_abbreviated)(s);
	kw_tls_end(LIB, s, KW_REASON_TLS_RENEGOTIATION, false);
	return REAL(SSL_renegotiate_abbreviated)(TARGET(s));
}

/* ---- the session's transport ---- */

#define SET_FD(name)                                                         \
	int r = REAL(name)(s, fd);                                           \
	if (r == 1 && !kw_depth)                                             \
		kw_tls_transport(LIB, s, fd);                                \
	return r

int kw_tls_wrap_SSL_set_fd(SSL *s, int fd)
{
	SET_FD(SSL_set_fd);
}

int kw_tls_wrap_SSL_set_rfd(SSL *s, int fd)
{
	SET_FD(SSL_set_rfd);
}

int kw_tls_wrap_SSL_set_wfd(SSL *s, int fd)
{
	SET_FD(SSL_set_wfd);
}

void kw_tls_wrap_SSL_set_bio(SSL *s, BIO *r, BIO *w)
{
	REAL(SSL_set_bio)(s, r, w);
	if (!kw_depth)
		kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_SSL_set0_rbio(SSL *s, BIO *b)
{
	REAL(SSL_set0_rbio)(s, b);
	if (!kw_depth)
		kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_SSL_set0_wbio(SSL *s, BIO *b)
{
	REAL(SSL_set0_wbio)(s, b);
	if (!kw_depth)
		kw_tls_transport(LIB, s, -1);
}

/* SSL_ctrl carries some seventy macros: each command goes where its
 * disposition says (logic/ossl_calls.h). */
long kw_tls_wrap_SSL_ctrl(SSL *s, int cmd, long larg, void *parg)
{
	const void *t;
	bool fail;

	if (kw_depth)
		return REAL(SSL_ctrl)(s, cmd, larg, parg);
	t = kw_tls_route_ctrl(s, cmd, larg, false, &fail);
	if (fail) {
		errno = EBADF;
		return 0;
	}
	return REAL(SSL_ctrl)((SSL *)t, cmd, larg, parg);
}

/* ---- the end of a session ---- */

SSL *kw_tls_wrap_SSL_new(SSL_CTX *ctx)
{
	SSL *s = REAL(SSL_new)(ctx);
	struct kw_tls_settings *set;

	if (s && !kw_depth) {
		kw_tls_born(LIB, s, 0);
		if ((set = kw_tls_settings_of(LIB, s)))
			set->ctx0 = ctx;
		kw_tls_settings_done();
	}
	return s;
}

/* A clean connection that may be parked: no close_notify, and what a
 * shutdown that sent one returns (0: the server's is still to come; 1 on
 * a second call, as once it came). */
int kw_tls_wrap_SSL_shutdown(SSL *s)
{
	struct kw_tls_call outer;
	struct kw_tls_look look;
	int r, saved;

	if (kw_depth)
		return REAL(SSL_shutdown)(s);
	look = kw_tls_look(LIB, s);
	if (look.zombie == 2)
		return 1; /* after an upgraded response: a clean shutdown */
	if (look.zombie) {
		errno = EBADF; /* its close_notify cannot go out */
		return -1;
	}
	if (look.bye_owed)
		return 1;
	if (!look.settle && kw_tls_bye(LIB, s, 0))
		return REAL(SSL_get_quiet_shutdown)(s) ? 1 : 0;
	kw_tls_io_begin(&outer, LIB, s);
	r = REAL(SSL_shutdown)((SSL *)look.target);
	saved = errno;
	kw_tls_call_leave(&outer);
	kw_tls_end(LIB, s, KW_REASON_TLS_CALL, false);
	errno = saved;
	return r;
}

/* It would wipe the session's keys: held back after a shutdown keepwarm
 * answered (and never made on a zombie's kept session). */
void kw_tls_wrap_SSL_set_connect_state(SSL *s)
{
	if (!kw_depth && (kw_tls_zombie(LIB, s) || kw_tls_hold_reset(LIB, s)))
		return;
	REAL(SSL_set_connect_state)(s);
}

int kw_tls_wrap_SSL_clear(SSL *s)
{
	struct kw_tls_look look;

	if (kw_depth)
		return REAL(SSL_clear)(s);
	look = kw_tls_look(LIB, s);
	if (look.zombie)
		return 1; /* its session is the one keepwarm keeps */
	if (look.bye_owed)
		bye_owed(s);
	kw_tls_reset(LIB, s); /* ready for another connection */
	return REAL(SSL_clear)(s);
}

/* An SSL is freed at its last SSL_free (OpenSSL 3.0 does not say how
 * many references it has: keepwarm counts the program's SSL_up_ref). */
int kw_tls_wrap_SSL_up_ref(SSL *s)
{
	int r = REAL(SSL_up_ref)(s);

	if (!kw_depth && r == 1)
		kw_tls_ref(LIB, s);
	return r;
}

void kw_tls_wrap_SSL_free(SSL *s)
{
	/* Forgotten (or kept) first, at the last reference: once freed, the
	 * address may be another session's. */
	if (!kw_depth && s && kw_tls_unref(LIB, s) && kw_tls_release(LIB, s))
		return; /* keepwarm keeps it, with its socket */
	REAL(SSL_free)(s);
}

/* ---- context settings no takeover can replay ---- */

/* A function of the program's that verifies chains its own way, or gives
 * the library a client's pre-shared key or certificate: none of the
 * process's sessions takes a kept one over from then on. */
void kw_tls_wrap_SSL_CTX_set_cert_verify_callback(SSL_CTX *c, int (*cb)(X509_STORE_CTX *, void *),
                                                  void *arg)
{
	if (cb && !kw_depth)
		kw_tls_refuse_takeovers();
	REAL(SSL_CTX_set_cert_verify_callback)(c, cb, arg);
}

void kw_tls_wrap_SSL_CTX_set_psk_client_callback(SSL_CTX *c, SSL_psk_client_cb_func cb)
{
	if (cb && !kw_depth)
		kw_tls_refuse_takeovers();
	REAL(SSL_CTX_set_psk_client_callback)(c, cb);
}

void kw_tls_wrap_SSL_CTX_set_psk_use_session_callback(SSL_CTX *c, SSL_psk_use_session_cb_func cb)
{
	if (cb && !kw_depth)
		kw_tls_refuse_takeovers();
	REAL(SSL_CTX_set_psk_use_session_callback)(c, cb);
}

void kw_tls_wrap_SSL_CTX_set_cert_cb(SSL_CTX *c, int (*cb)(SSL *, void *), void *arg)
{
	if (cb && !kw_depth)
		kw_tls_refuse_takeovers();
	REAL(SSL_CTX_set_cert_cb)(c, cb, arg);
}

/* A new-session callback: the program's, reached through keepwarm's
 * trampoline (never with a parked SSL; with the program's SSL that took
 * one over). The getter answers the program's. */
void kw_tls_wrap_SSL_CTX_sess_set_new_cb(SSL_CTX *c, kw_ssl_new_session_cb cb)
{
	if (kw_depth || !kw_openssl_keep_ready()) {
		REAL(SSL_CTX_sess_set_new_cb)(c, cb);
		return;
	}
	kw_openssl_set_new_session_cb(c, cb);
}

kw_ssl_new_session_cb kw_tls_wrap_SSL_CTX_sess_get_new_cb(SSL_CTX *c)
{
	return kw_depth ? REAL(SSL_CTX_sess_get_new_cb)(c) : kw_openssl_get_new_session_cb(c);
}
