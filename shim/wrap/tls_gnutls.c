/* tls_gnutls.c - the GnuTLS calls of a client session, reached only by
 * redirection (entry/redirect.c: the slots of objects whose calls resolve
 * into the system's libgnutls.so.30; never exported). Each calls the
 * library's own function and tells keepwarm what it moved: the plaintext of
 * the session, its handshake, its transport, its end. Nothing the program
 * sees changes. */
#include <string.h>

#include "service/tls_real.h"
#include "service/tls_sessions.h"
#include "wrap/wrap.h"

#define LIB KW_TLS_GNUTLS
#define REAL(name) kw_tls_real.name

/* What a failed record call means for following the session. */
static void after_error(gnutls_session_t s, ssize_t r, bool sending)
{
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return;
	if (r == GNUTLS_E_REHANDSHAKE || r == GNUTLS_E_REAUTH_REQUEST)
		kw_tls_end(LIB, s, KW_REASON_TLS_RENEGOTIATION, false);
	else if (!sending && r == GNUTLS_E_PREMATURE_TERMINATION)
		kw_tls_end(LIB, s, KW_REASON_SERVER_CLOSED, true); /* end without close_notify */
	else if (!REAL(gnutls_error_is_fatal) || REAL(gnutls_error_is_fatal)((int)r))
		kw_tls_end(LIB, s, sending ? KW_REASON_WRITE_ERROR : KW_REASON_READ_ERROR, !sending);
}

static void after_send(gnutls_session_t s, const void *data, ssize_t r)
{
	int saved = errno;

	if (r > 0)
		kw_tls_plain(LIB, s, true, data, (size_t)r);
	else if (r < 0)
		after_error(s, r, true);
	errno = saved;
}

static void after_recv(gnutls_session_t s, const void *data, ssize_t r)
{
	int saved = errno;

	if (r > 0)
		kw_tls_plain(LIB, s, false, data, (size_t)r);
	else if (r == 0)
		kw_tls_end(LIB, s, KW_REASON_SERVER_CLOSED, true); /* close_notify */
	else
		after_error(s, r, false);
	errno = saved;
}

/* Why a completed handshake cannot be followed: an ALPN other than
 * http/1.1 (none negotiated is HTTP/1.x). */
static enum kw_reason alpn_veto(gnutls_session_t s)
{
	gnutls_datum_t p = { NULL, 0 };

	if (!REAL(gnutls_alpn_get_selected_protocol) ||
	    REAL(gnutls_alpn_get_selected_protocol)(s, &p) < 0 || !p.data)
		return KW_REASON_NONE;
	return p.size == 8 && !memcmp(p.data, "http/1.1", 8) ? KW_REASON_NONE : KW_REASON_TLS_ALPN;
}

int kw_tls_wrap_gnutls_handshake(gnutls_session_t s)
{
	struct kw_tls_call outer;
	bool first;
	int r, saved;

	if (kw_depth)
		return REAL(gnutls_handshake)(s);
	first = kw_tls_handshake_begin(&outer, LIB, s);
	if (first) {
		unsigned limit = kw_tls_handshake_limit(LIB, s);
		if (limit)
			REAL(gnutls_handshake_set_timeout)(s, limit);
	}
	r = REAL(gnutls_handshake)(s);
	saved = errno;
	kw_tls_call_leave(&outer);
	if (first && r == 0)
		kw_tls_handshaken(LIB, s, alpn_veto(s));
	errno = saved;
	return r;
}

/* Record I/O: inside a call on s (a handshake still to finish happens
 * there too), then what moved. */
#define RECORD_CALL(name, after, data, ...)                                  \
	struct kw_tls_call outer;                                            \
	ssize_t r;                                                           \
	if (kw_depth)                                                        \
		return REAL(name)(__VA_ARGS__);                              \
	kw_tls_io_begin(&outer, LIB, s);                                     \
	r = REAL(name)(__VA_ARGS__);                                         \
	kw_tls_call_leave(&outer);                                           \
	after(s, data, r);                                                   \
	return r

ssize_t kw_tls_wrap_gnutls_record_send(gnutls_session_t s, const void *data, size_t n)
{
	RECORD_CALL(gnutls_record_send, after_send, data, s, data, n);
}

ssize_t kw_tls_wrap_gnutls_record_send2(gnutls_session_t s, const void *data, size_t n,
                                        size_t pad, unsigned flags)
{
	RECORD_CALL(gnutls_record_send2, after_send, data, s, data, n, pad, flags);
}

ssize_t kw_tls_wrap_gnutls_record_send_range(gnutls_session_t s, const void *data, size_t n,
                                             const gnutls_range_st *range)
{
	RECORD_CALL(gnutls_record_send_range, after_send, data, s, data, n, range);
}

ssize_t kw_tls_wrap_gnutls_record_recv(gnutls_session_t s, void *data, size_t n)
{
	RECORD_CALL(gnutls_record_recv, after_recv, data, s, data, n);
}

ssize_t kw_tls_wrap_gnutls_record_recv_seq(gnutls_session_t s, void *data, size_t n,
                                           unsigned char *seq)
{
	RECORD_CALL(gnutls_record_recv_seq, after_recv, data, s, data, n, seq);
}

/* Calls whose bytes keepwarm does not see: the session is let go first. */
ssize_t kw_tls_wrap_gnutls_record_recv_packet(gnutls_session_t s, gnutls_packet_t *packet)
{
	if (!kw_depth)
		kw_tls_end(LIB, s, KW_REASON_TLS_CALL, false);
	return REAL(gnutls_record_recv_packet)(s, packet);
}

ssize_t kw_tls_wrap_gnutls_record_send_early_data(gnutls_session_t s, const void *data, size_t n)
{
	if (!kw_depth)
		kw_tls_end(LIB, s, KW_REASON_TLS_CALL, false);
	return REAL(gnutls_record_send_early_data)(s, data, n);
}

int kw_tls_wrap_gnutls_reauth(gnutls_session_t s, unsigned flags)
{
	if (!kw_depth)
		kw_tls_end(LIB, s, KW_REASON_TLS_RENEGOTIATION, false);
	return REAL(gnutls_reauth)(s, flags);
}

/* ---- the session's transport ---- */

void kw_tls_wrap_gnutls_transport_set_int2(gnutls_session_t s, int r, int w)
{
	REAL(gnutls_transport_set_int2)(s, r, w);
	if (!kw_depth)
		kw_tls_transport(LIB, s, r == w ? w : -1);
}

void kw_tls_wrap_gnutls_transport_set_ptr(gnutls_session_t s, gnutls_transport_ptr_t p)
{
	REAL(gnutls_transport_set_ptr)(s, p);
	if (!kw_depth)
		kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_gnutls_transport_set_ptr2(gnutls_session_t s, gnutls_transport_ptr_t r,
                                           gnutls_transport_ptr_t w)
{
	REAL(gnutls_transport_set_ptr2)(s, r, w);
	if (!kw_depth)
		kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_gnutls_transport_set_push_function(gnutls_session_t s, gnutls_push_func f)
{
	REAL(gnutls_transport_set_push_function)(s, f);
	if (!kw_depth)
		kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_gnutls_transport_set_vec_push_function(gnutls_session_t s,
                                                        gnutls_vec_push_func f)
{
	REAL(gnutls_transport_set_vec_push_function)(s, f);
	if (!kw_depth)
		kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_gnutls_transport_set_pull_function(gnutls_session_t s, gnutls_pull_func f)
{
	REAL(gnutls_transport_set_pull_function)(s, f);
	if (!kw_depth) {
		kw_tls_transport(LIB, s, -1);
		kw_tls_note_pull(LIB, s, false);
	}
}

void kw_tls_wrap_gnutls_transport_set_pull_timeout_function(gnutls_session_t s,
                                                            gnutls_pull_timeout_func f)
{
	REAL(gnutls_transport_set_pull_timeout_function)(s, f);
	if (!kw_depth)
		kw_tls_note_pull(LIB, s, true);
}

/* The program's own handshake limit, for KEEPWARM_TLS_HANDSHAKE_TIMEOUT. */
void kw_tls_wrap_gnutls_handshake_set_timeout(gnutls_session_t s, unsigned ms)
{
	REAL(gnutls_handshake_set_timeout)(s, ms);
	if (!kw_depth)
		kw_tls_note_timeout(LIB, s, ms == GNUTLS_INDEFINITE_TIMEOUT ? 0
		                            /* GnuTLS's DEFAULT_HANDSHAKE_TIMEOUT_MS */
		                            : ms == GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT ? 40 * 1000 : ms);
}

void kw_tls_wrap_gnutls_deinit(gnutls_session_t s)
{
	/* Forgotten first: once freed, another thread's new session may get
	 * the same address. */
	if (!kw_depth)
		kw_tls_forget(LIB, s);
	REAL(gnutls_deinit)(s);
}
