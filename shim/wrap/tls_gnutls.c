/* tls_gnutls.c - the GnuTLS calls of a client session, reached only by
 * redirection (entry/redirect.c: the slots of objects whose calls resolve
 * into the system's libgnutls.so.30; never exported). Each calls the
 * library's own function and tells keepwarm what it moved: the plaintext of
 * the session, its handshake, its transport, its end. Nothing the program
 * sees changes. */
#include <string.h>

#include "logic/tlspolicy.h"
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

static ssize_t after_send(gnutls_session_t s, const void *data, ssize_t r)
{
	int saved = errno;

	if (r > 0)
		kw_tls_plain(LIB, s, true, (void *)data, (size_t)r);
	else if (r < 0)
		after_error(s, r, true);
	errno = saved;
	return r;
}

/* What the program gets of r bytes read into data (fewer when the head of
 * an upgraded response is put back to what a close-style request gets). */
static ssize_t after_recv(gnutls_session_t s, void *data, ssize_t r)
{
	int saved = errno;

	if (r > 0)
		r = (ssize_t)kw_tls_plain(LIB, s, false, data, (size_t)r);
	else if (r == 0)
		kw_tls_end(LIB, s, KW_REASON_SERVER_CLOSED, true); /* close_notify */
	else
		after_error(s, r, false);
	errno = saved;
	return r;
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

/* A record call on a zombie (the program closed its socket first, and
 * keepwarm parked the connection): what the library says when the
 * descriptor is closed. */
static ssize_t zombie_io(int zombie, bool sending)
{
	if (zombie == 2) { /* after the server's close, as the program expects */
		if (!sending)
			return 0;
		errno = EPIPE;
		return GNUTLS_E_PUSH_ERROR;
	}
	errno = EBADF;
	return sending ? GNUTLS_E_PUSH_ERROR : GNUTLS_E_PULL_ERROR;
}

/* The session a call on s is made on (the kept one s took over, or s). */
#define TARGET(s) ((gnutls_session_t)kw_tls_target(LIB, s))

/* A call on s after a bye keepwarm answered without a close_notify: the
 * close_notify goes now (the program goes on with the session: it is not
 * parked), then the call. */
static void bye_owed(gnutls_session_t s)
{
	int how = kw_tls_bye_owed(LIB, s, NULL), saved = errno;

	if (how >= 0)
		(void)REAL(gnutls_bye)(TARGET(s), (gnutls_close_request_t)how);
	errno = saved;
}

int kw_tls_wrap_gnutls_handshake(gnutls_session_t s)
{
	struct kw_tls_call outer;
	gnutls_session_t t;
	bool first;
	int r, saved;

	if (kw_depth)
		return REAL(gnutls_handshake)(s);
	if (kw_tls_zombie(LIB, s))
		return (int)zombie_io(1, true);
	bye_owed(s);
	t = TARGET(s);
	first = kw_tls_handshake_begin(&outer, LIB, s);
	if (first && t == s && kw_tls_take_early(LIB, s)) {
		kw_tls_call_leave(&outer);
		kw_tls_handshaken(LIB, s, alpn_veto(TARGET(s)));
		return 0;
	}
	if (first) {
		unsigned limit = kw_tls_handshake_limit(LIB, s);
		if (limit)
			REAL(gnutls_handshake_set_timeout)(t, limit);
	}
	r = REAL(gnutls_handshake)(t);
	saved = errno;
	kw_tls_call_leave(&outer);
	/* Its ClientHello took a parked session over (feature/tlsreuse.c): the
	 * handshake that session made is this one's. */
	if (first && t == s && r < 0 && kw_tls_taken(LIB, s)) {
		r = 0;
		t = TARGET(s);
	}
	if (first && r == 0)
		kw_tls_handshaken(LIB, s, alpn_veto(t));
	errno = saved;
	return r;
}

/* A record call's failure that a server closing a reused connection
 * gives, before any response byte. */
static bool stale_failure(ssize_t r)
{
	return r == 0 || r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PULL_ERROR ||
	       r == GNUTLS_E_PUSH_ERROR;
}

/* The session a send of n bytes of data on s goes on: the first request
 * on a taken-over session may move s to a connection of its own first,
 * and a close-style head is sent here as keep-alive (*answer then holds
 * what the program's call returns: kw_tls_before_send). */
static gnutls_session_t send_target(gnutls_session_t s, gnutls_session_t t, const void *data,
                                    size_t n, ssize_t *answer)
{
	return (gnutls_session_t)kw_tls_before_send(LIB, s, t, data, n, answer);
}

/* Record I/O: inside a call on s (a handshake still to finish happens
 * there too), then what moved. A reused connection that fails before its
 * first response byte is replayed once (kw_tls_replay) and the call made
 * again, on s's own session. */
#define RECORD_CALL(name, sending, after, data, n, ...)                      \
	struct kw_tls_call outer;                                            \
	gnutls_session_t t;                                                  \
	ssize_t r, answer = 0;                                               \
	struct kw_tls_look look;                                             \
	if (kw_depth)                                                        \
		return REAL(name)(s, __VA_ARGS__);                           \
	look = kw_tls_look(LIB, s);                                          \
	if (look.zombie)                                                     \
		return zombie_io(look.zombie, sending);                      \
	if (look.bye_owed)                                                   \
		bye_owed(s);                                                 \
	t = (gnutls_session_t)look.target;                                   \
	if (sending)                                                         \
		t = send_target(s, t, data, n, &answer);                     \
	if (answer)                                                          \
		return answer;                                               \
	kw_tls_io_begin(&outer, LIB, s);                                     \
	r = REAL(name)(t, __VA_ARGS__);                                      \
	kw_tls_call_leave(&outer);                                           \
	if (t != s && (r < 0 || !sending) && stale_failure(r) && kw_tls_replay_worthy(LIB, s)) { \
		int again = kw_tls_replay(LIB, s);                           \
		if (again == 0) {                                            \
			kw_tls_io_begin(&outer, LIB, s);                     \
			r = REAL(name)(s, __VA_ARGS__);                      \
			kw_tls_call_leave(&outer);                           \
		} else if (again < -1) {                                     \
			r = again;                                           \
		}                                                            \
	}                                                                    \
	return after(s, data, r)

ssize_t kw_tls_wrap_gnutls_record_send(gnutls_session_t s, const void *data, size_t n)
{
	RECORD_CALL(gnutls_record_send, true, after_send, data, n, data, n);
}

ssize_t kw_tls_wrap_gnutls_record_send2(gnutls_session_t s, const void *data, size_t n,
                                        size_t pad, unsigned flags)
{
	RECORD_CALL(gnutls_record_send2, true, after_send, data, n, data, n, pad, flags);
}

ssize_t kw_tls_wrap_gnutls_record_send_range(gnutls_session_t s, const void *data, size_t n,
                                             const gnutls_range_st *range)
{
	RECORD_CALL(gnutls_record_send_range, true, after_send, data, n, data, n, range);
}

ssize_t kw_tls_wrap_gnutls_record_recv(gnutls_session_t s, void *data, size_t n)
{
	RECORD_CALL(gnutls_record_recv, false, after_recv, data, n, data, n);
}

ssize_t kw_tls_wrap_gnutls_record_recv_seq(gnutls_session_t s, void *data, size_t n,
                                           unsigned char *seq)
{
	RECORD_CALL(gnutls_record_recv_seq, false, after_recv, data, n, data, n, seq);
}

/* Calls whose bytes keepwarm does not see: the session is let go first. */
ssize_t kw_tls_wrap_gnutls_record_recv_packet(gnutls_session_t s, gnutls_packet_t *packet)
{
	if (kw_depth)
		return REAL(gnutls_record_recv_packet)(s, packet);
	kw_tls_end(LIB, s, KW_REASON_TLS_CALL, false);
	return REAL(gnutls_record_recv_packet)(TARGET(s), packet);
}

ssize_t kw_tls_wrap_gnutls_record_send_early_data(gnutls_session_t s, const void *data, size_t n)
{
	if (kw_depth)
		return REAL(gnutls_record_send_early_data)(s, data, n);
	kw_tls_end(LIB, s, KW_REASON_TLS_CALL, false);
	return REAL(gnutls_record_send_early_data)(TARGET(s), data, n);
}

int kw_tls_wrap_gnutls_reauth(gnutls_session_t s, unsigned flags)
{
	if (kw_depth)
		return REAL(gnutls_reauth)(s, flags);
	kw_tls_end(LIB, s, KW_REASON_TLS_RENEGOTIATION, false);
	return REAL(gnutls_reauth)(TARGET(s), flags);
}

/* ---- the session's transport ---- */

/* Record what the program gave s for its transport (own: the function
 * bit it set, or 0; fn its function), then make the call on the session
 * s's calls go to. */
static gnutls_session_t note_transport(gnutls_session_t s, unsigned own, kw_tls_fn fn,
                                       const void *recv_ptr, const void *send_ptr, bool ptrs)
{
	struct kw_tls_settings *set = kw_tls_settings_of(LIB, s);

	if (set) {
		if (ptrs) {
			set->recv_ptr = (void *)recv_ptr;
			set->send_ptr = (void *)send_ptr;
		}
		set->own |= own;
		if (own == KW_TLS_OWN_PUSH) {
			set->push = fn;
			set->own &= ~KW_TLS_OWN_VEC_PUSH; /* each clears the other */
		} else if (own == KW_TLS_OWN_VEC_PUSH) {
			set->vec_push = fn;
			set->own &= ~KW_TLS_OWN_PUSH;
		} else if (own == KW_TLS_OWN_PULL) {
			set->pull = fn;
		} else if (own == KW_TLS_OWN_PULL_TIMEOUT) {
			set->pull_timeout = fn;
		} else if (own == KW_TLS_OWN_ERRNO) {
			set->errno_fn = fn;
		}
	}
	kw_tls_settings_done();
	return TARGET(s);
}

void kw_tls_wrap_gnutls_transport_set_int2(gnutls_session_t s, int r, int w)
{
	if (kw_depth)
		return REAL(gnutls_transport_set_int2)(s, r, w);
	REAL(gnutls_transport_set_int2)(note_transport(s, 0, NULL, (void *)(long)r,
	                                               (void *)(long)w, true), r, w);
	kw_tls_transport(LIB, s, r == w ? w : -1);
}

void kw_tls_wrap_gnutls_transport_set_ptr(gnutls_session_t s, gnutls_transport_ptr_t p)
{
	if (kw_depth)
		return REAL(gnutls_transport_set_ptr)(s, p);
	REAL(gnutls_transport_set_ptr)(note_transport(s, 0, NULL, p, p, true), p);
	kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_gnutls_transport_set_ptr2(gnutls_session_t s, gnutls_transport_ptr_t r,
                                           gnutls_transport_ptr_t w)
{
	if (kw_depth)
		return REAL(gnutls_transport_set_ptr2)(s, r, w);
	REAL(gnutls_transport_set_ptr2)(note_transport(s, 0, NULL, r, w, true), r, w);
	kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_gnutls_transport_set_push_function(gnutls_session_t s, gnutls_push_func f)
{
	if (kw_depth)
		return REAL(gnutls_transport_set_push_function)(s, f);
	REAL(gnutls_transport_set_push_function)(
		note_transport(s, KW_TLS_OWN_PUSH, (kw_tls_fn)f, NULL, NULL, false), f);
	kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_gnutls_transport_set_vec_push_function(gnutls_session_t s,
                                                        gnutls_vec_push_func f)
{
	if (kw_depth)
		return REAL(gnutls_transport_set_vec_push_function)(s, f);
	REAL(gnutls_transport_set_vec_push_function)(
		note_transport(s, KW_TLS_OWN_VEC_PUSH, (kw_tls_fn)f, NULL, NULL, false), f);
	kw_tls_transport(LIB, s, -1);
}

void kw_tls_wrap_gnutls_transport_set_pull_function(gnutls_session_t s, gnutls_pull_func f)
{
	if (kw_depth)
		return REAL(gnutls_transport_set_pull_function)(s, f);
	REAL(gnutls_transport_set_pull_function)(
		note_transport(s, KW_TLS_OWN_PULL, (kw_tls_fn)f, NULL, NULL, false), f);
	kw_tls_transport(LIB, s, -1);
	kw_tls_note_pull(LIB, s, false);
}

void kw_tls_wrap_gnutls_transport_set_pull_timeout_function(gnutls_session_t s,
                                                            gnutls_pull_timeout_func f)
{
	if (kw_depth)
		return REAL(gnutls_transport_set_pull_timeout_function)(s, f);
	REAL(gnutls_transport_set_pull_timeout_function)(
		note_transport(s, KW_TLS_OWN_PULL_TIMEOUT, (kw_tls_fn)f, NULL, NULL, false), f);
	kw_tls_note_pull(LIB, s, true);
}

void kw_tls_wrap_gnutls_transport_set_errno_function(gnutls_session_t s, gnutls_errno_func f)
{
	if (kw_depth)
		return REAL(gnutls_transport_set_errno_function)(s, f);
	REAL(gnutls_transport_set_errno_function)(
		note_transport(s, KW_TLS_OWN_ERRNO, (kw_tls_fn)f, NULL, NULL, false), f);
}

/* The program's own handshake limit, for KEEPWARM_TLS_HANDSHAKE_TIMEOUT. */
void kw_tls_wrap_gnutls_handshake_set_timeout(gnutls_session_t s, unsigned ms)
{
	if (kw_depth)
		return REAL(gnutls_handshake_set_timeout)(s, ms);
	REAL(gnutls_handshake_set_timeout)(TARGET(s), ms);
	kw_tls_note_timeout(LIB, s, ms == GNUTLS_INDEFINITE_TIMEOUT ? 0
	                            /* GnuTLS's DEFAULT_HANDSHAKE_TIMEOUT_MS */
	                            : ms == GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT ? 40 * 1000 : ms);
}

/* ---- what the program sets before its handshake: recorded for a
 * takeover, made on the program's own session ---- */

int kw_tls_wrap_gnutls_init(gnutls_session_t *s, unsigned flags)
{
	int r = REAL(gnutls_init)(s, flags), saved = errno;

	if (!kw_depth && r == 0 && (flags & GNUTLS_CLIENT) && !(flags & GNUTLS_DATAGRAM))
		kw_tls_born(LIB, *s, flags);
	errno = saved;
	return r;
}

int kw_tls_wrap_gnutls_credentials_set(gnutls_session_t s, gnutls_credentials_type_t type,
                                       void *cred)
{
	struct kw_tls_settings *set;
	gnutls_session_t t;
	int r;

	if (kw_depth)
		return REAL(gnutls_credentials_set)(s, type, cred);
	r = REAL(gnutls_credentials_set)(s, type, cred);
	if ((set = kw_tls_settings_of(LIB, s)) && r == 0) {
		if (type == GNUTLS_CRD_CERTIFICATE)
			set->cert_cred = cred;
		else
			set->other_cred = true;
	}
	kw_tls_settings_done();
	/* Later verification of a taken-over session reads its credentials. */
	if (r == 0 && (t = TARGET(s)) != s)
		(void)REAL(gnutls_credentials_set)(t, type, cred);
	return r;
}

int kw_tls_wrap_gnutls_server_name_set(gnutls_session_t s, gnutls_server_name_type_t type,
                                       const void *name, size_t len)
{
	struct kw_tls_settings *set;
	int r = REAL(gnutls_server_name_set)(s, type, name, len);

	if (kw_depth || r < 0)
		return r;
	if ((set = kw_tls_settings_of(LIB, s)) &&
	    (type != GNUTLS_NAME_DNS || !kw_tls_settings_sni(set, name, len)))
		kw_tls_settings_foreign(set, KW_REASON_TLS_SETTING);
	kw_tls_settings_done();
	return r;
}

int kw_tls_wrap_gnutls_alpn_set_protocols(gnutls_session_t s, const gnutls_datum_t *protos,
                                          unsigned n, unsigned flags)
{
	struct kw_tls_settings *set;
	int r = REAL(gnutls_alpn_set_protocols)(s, protos, n, flags);

	if (kw_depth || r < 0)
		return r;
	if ((set = kw_tls_settings_of(LIB, s))) {
		const unsigned char *p[16];
		unsigned lens[16];
		if (n > 16) {
			kw_tls_settings_foreign(set, KW_REASON_TLS_SETTING);
		} else {
			for (unsigned i = 0; i < n; i++) {
				p[i] = protos[i].data;
				lens[i] = protos[i].size;
			}
			kw_tls_settings_alpn(set, p, lens, n, flags);
		}
	}
	kw_tls_settings_done();
	return r;
}

/* Priorities: the last call wins, in the library as here. */
static void note_prio(gnutls_session_t s, int r, enum kw_tls_prio how, const char *str,
                      unsigned flags, const void *cache)
{
	struct kw_tls_settings *set;
	int saved = errno;

	if (kw_depth || r < 0)
		return;
	if ((set = kw_tls_settings_of(LIB, s)))
		kw_tls_settings_prio(set, how, str, flags, cache);
	kw_tls_settings_done();
	errno = saved;
}

int kw_tls_wrap_gnutls_priority_set(gnutls_session_t s, gnutls_priority_t prio)
{
	int r = REAL(gnutls_priority_set)(s, prio);

	note_prio(s, r, KW_TLS_PRIO_CACHE, NULL, 0, prio);
	return r;
}

int kw_tls_wrap_gnutls_priority_set_direct(gnutls_session_t s, const char *prio,
                                           const char **err)
{
	int r = REAL(gnutls_priority_set_direct)(s, prio, err);

	note_prio(s, r, KW_TLS_PRIO_DIRECT, prio, 0, NULL);
	return r;
}

int kw_tls_wrap_gnutls_set_default_priority(gnutls_session_t s)
{
	int r = REAL(gnutls_set_default_priority)(s);

	note_prio(s, r, KW_TLS_PRIO_DEFAULT, NULL, 0, NULL);
	return r;
}

int kw_tls_wrap_gnutls_set_default_priority_append(gnutls_session_t s, const char *add,
                                                   const char **err, unsigned flags)
{
	int r = REAL(gnutls_set_default_priority_append)(s, add, err, flags);

	note_prio(s, r, KW_TLS_PRIO_APPEND, add, flags, NULL);
	return r;
}

void kw_tls_wrap_gnutls_session_set_verify_cert(gnutls_session_t s, const char *host,
                                                unsigned flags)
{
	struct kw_tls_settings *set;
	int saved;

	REAL(gnutls_session_set_verify_cert)(s, host, flags);
	if (kw_depth)
		return;
	saved = errno;
	if ((set = kw_tls_settings_of(LIB, s)))
		kw_tls_settings_verify(set, host, flags);
	kw_tls_settings_done();
	errno = saved;
}

/* Credentials-level functions that pick a client certificate or verify a
 * chain the program's own way: no session of this process is taken over. */
#define REFUSE_ALL(name, type)                                               \
	void kw_tls_wrap_##name(gnutls_certificate_credentials_t cred, type *f) \
	{                                                                    \
		REAL(name)(cred, f);                                         \
		if (!kw_depth && f)                                          \
			kw_tls_refuse_takeovers();                           \
	}
REFUSE_ALL(gnutls_certificate_set_retrieve_function, gnutls_certificate_retrieve_function)
REFUSE_ALL(gnutls_certificate_set_retrieve_function2, gnutls_certificate_retrieve_function2)
REFUSE_ALL(gnutls_certificate_set_retrieve_function3, gnutls_certificate_retrieve_function3)
REFUSE_ALL(gnutls_certificate_set_verify_function, gnutls_certificate_verify_function)

/* Callbacks the library calls with the session: made on the program's
 * session, and recorded for a takeover (entry.h). */
void kw_tls_wrap_gnutls_session_set_keylog_function(gnutls_session_t s, gnutls_keylog_func f)
{
	REAL(gnutls_session_set_keylog_function)(s, f);
	if (!kw_depth)
		kw_tls_note_callback(LIB, s, KW_TLS_CB_KEYLOG, (kw_tls_fn)f, 0, 0);
}

void kw_tls_wrap_gnutls_alert_set_read_function(gnutls_session_t s, gnutls_alert_read_func f)
{
	REAL(gnutls_alert_set_read_function)(s, f);
	if (!kw_depth)
		kw_tls_note_callback(LIB, s, KW_TLS_CB_ALERT_READ, (kw_tls_fn)f, 0, 0);
}

void kw_tls_wrap_gnutls_handshake_set_hook_function(gnutls_session_t s, unsigned htype, int when,
                                                    gnutls_handshake_hook_func f)
{
	REAL(gnutls_handshake_set_hook_function)(s, htype, when, f);
	if (!kw_depth)
		kw_tls_note_callback(LIB, s, KW_TLS_CB_HOOK, (kw_tls_fn)f, htype, when);
}

/* ---- the end of a session ---- */

int kw_tls_wrap_gnutls_bye(gnutls_session_t s, gnutls_close_request_t how)
{
	int zombie;

	if (kw_depth)
		return REAL(gnutls_bye)(s, how);
	if ((zombie = kw_tls_zombie(LIB, s)))
		/* After an upgraded response: a clean shutdown; after the
		 * program's close: its close_notify cannot go out. */
		return zombie == 2 ? GNUTLS_E_SUCCESS : (int)zombie_io(1, true);
	/* A clean connection that may be parked: no close_notify, and what a
	 * bye that sent one returns. */
	if (kw_tls_bye(LIB, s, (int)how))
		return GNUTLS_E_SUCCESS;
	return REAL(gnutls_bye)(TARGET(s), how);
}

void kw_tls_wrap_gnutls_deinit(gnutls_session_t s)
{
	/* Forgotten (or kept) first: once freed, another thread's new session
	 * may get the same address. */
	if (!kw_depth && kw_tls_release(LIB, s))
		return; /* keepwarm keeps it, with its socket */
	REAL(gnutls_deinit)(s);
}
