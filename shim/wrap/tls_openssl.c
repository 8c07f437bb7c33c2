/* tls_openssl.c - the OpenSSL calls of a client session (SSL *), reached
 * only by redirection (entry/redirect.c: the slots of objects whose calls
 * resolve into the system's libssl.so.3; never exported). Each calls the
 * library's own function and tells keepwarm what it moved. Nothing the
 * program sees changes: SSL_get_error only reads the session's state. */
#include <string.h>

#include "service/tls_real.h"
#include "service/tls_sessions.h"
#include "wrap/wrap.h"

#define LIB KW_TLS_OPENSSL
#define REAL(name) kw_tls_real.name

/* A call that returned r <= 0 on s: what it means for following s. */
static void after_failure(SSL *s, int r, bool reading)
{
	int e = REAL(SSL_get_error) ? REAL(SSL_get_error)(s, r) : SSL_ERROR_SSL;

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

/* After a read or write that returned r (1/0 for the _ex forms, with *n
 * the bytes moved). */
static void after_io(SSL *s, const void *buf, int r, size_t n, bool reading)
{
	int saved = errno;

	if (r > 0 && n)
		(void)kw_tls_plain(LIB, s, !reading, (void *)buf, n);
	else if (r <= 0)
		after_failure(s, r, reading);
	errno = saved;
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

/* A handshake call: OpenSSL answers a second one on an established
 * session at once (renegotiation goes through SSL_renegotiate). */
#define HANDSHAKE_CALL(name)                                                 \
	struct kw_tls_call outer;                                            \
	int r, saved;                                                        \
	if (kw_depth)                                                        \
		return REAL(name)(s);                                        \
	kw_tls_io_begin(&outer, LIB, s);                                     \
	r = REAL(name)(s);                                                   \
	saved = errno;                                                       \
	kw_tls_call_leave(&outer);                                           \
	if (r == 1)                                                          \
		kw_tls_handshaken(LIB, s, alpn_veto(s));                     \
	errno = saved;                                                       \
	return r

int kw_tls_wrap_SSL_connect(SSL *s)
{
	HANDSHAKE_CALL(SSL_connect);
}

int kw_tls_wrap_SSL_do_handshake(SSL *s)
{
	HANDSHAKE_CALL(SSL_do_handshake);
}

/* Record I/O: inside a call on s (SSL_read and SSL_write finish a pending
 * handshake too), then what moved. */
#define IO_CALL(name, ...)                                                   \
	struct kw_tls_call outer;                                            \
	int r;                                                               \
	if (kw_depth)                                                        \
		return REAL(name)(__VA_ARGS__);                              \
	kw_tls_io_begin(&outer, LIB, s);                                     \
	r = REAL(name)(__VA_ARGS__);                                         \
	kw_tls_call_leave(&outer)

int kw_tls_wrap_SSL_read(SSL *s, void *buf, int n)
{
	IO_CALL(SSL_read, s, buf, n);
	after_io(s, buf, r, r > 0 ? (size_t)r : 0, true);
	return r;
}

int kw_tls_wrap_SSL_read_ex(SSL *s, void *buf, size_t n, size_t *got)
{
	IO_CALL(SSL_read_ex, s, buf, n, got);
	after_io(s, buf, r, r > 0 && got ? *got : 0, true);
	return r;
}

int kw_tls_wrap_SSL_write(SSL *s, const void *buf, int n)
{
	IO_CALL(SSL_write, s, buf, n);
	after_io(s, buf, r, r > 0 ? (size_t)r : 0, false);
	return r;
}

int kw_tls_wrap_SSL_write_ex(SSL *s, const void *buf, size_t n, size_t *put)
{
	IO_CALL(SSL_write_ex, s, buf, n, put);
	after_io(s, buf, r, r > 0 && put ? *put : 0, false);
	return r;
}

/* A peek consumes nothing: the tracker does not advance. */
int kw_tls_wrap_SSL_peek(SSL *s, void *buf, int n)
{
	IO_CALL(SSL_peek, s, buf, n);
	return r;
}

int kw_tls_wrap_SSL_peek_ex(SSL *s, void *buf, size_t n, size_t *got)
{
	IO_CALL(SSL_peek_ex, s, buf, n, got);
	return r;
}

/* Calls whose bytes keepwarm does not see, or that renegotiate: the
 * session is let go first. */
ossl_ssize_t kw_tls_wrap_SSL_sendfile(SSL *s, int fd, off_t off, size_t n, int flags)
{
	if (!kw_depth)
		kw_tls_end(LIB, s, KW_REASON_TLS_CALL, false);
	return REAL(SSL_sendfile)(s, fd, off, n, flags);
}

int kw_tls_wrap_SSL_write_early_data(SSL *s, const void *buf, size_t n, size_t *put)
{
	if (!kw_depth)
		kw_tls_end(LIB, s, KW_REASON_TLS_CALL, false);
	return REAL(SSL_write_early_data)(s, buf, n, put);
}

int kw_tls_wrap_SSL_renegotiate(SSL *s)
{
	if (!kw_depth)
		kw_tls_end(LIB, s, KW_REASON_TLS_RENEGOTIATION, false);
	return REAL(SSL_renegotiate)(s);
}

int kw_tls_wrap_SSL_renegotiate_abbreviated(SSL *s)
{
	if (!kw_depth)
		kw_tls_end(LIB, s, KW_REASON_TLS_RENEGOTIATION, false);
	return REAL(SSL_renegotiate_abbreviated)(s);
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

/* ---- the end of a session ---- */

int kw_tls_wrap_SSL_clear(SSL *s)
{
	if (!kw_depth)
		kw_tls_forget(LIB, s); /* ready for another connection */
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
	/* Forgotten first (at the last reference): once freed, the address
	 * may be another session's. */
	if (!kw_depth)
		kw_tls_unref(LIB, s);
	REAL(SSL_free)(s);
}
