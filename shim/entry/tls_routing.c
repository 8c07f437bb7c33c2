/* tls_routing.c - where a routed GnuTLS or OpenSSL call goes
 * (wrap/tls_route.c's trampolines ask; SSL_ctrl's wrapper too): a session
 * that took a kept one over reaches it (OpenSSL: for what the connection
 * is), a zombie the session that never connects, any other its own; and
 * what a call made before the handshake means for a takeover. */
#include "entry/entry.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "entry/tls_shared.h"
#include "logic/ossl_calls.h"
#include "service/tls_real.h"
#include "service/tls_sessions.h"

static const char *const routed_name[KW_GNUTLS_NROUTED] = {
#define KW_ROUTED_NAME(name, version, i) [i] = #name,
	KW_GNUTLS_ROUTED(KW_ROUTED_NAME)
#undef KW_ROUTED_NAME
};

/* ROUTED_OWN: about what the program set, answered by its own handle. */
enum { ROUTED_FOREIGN = 0, ROUTED_HARMLESS, ROUTED_COMPAT, ROUTED_OWN };

/* Calls that would write on a zombie's (dead) session: they fail as on a
 * closed descriptor instead. */
static bool routed_writes(unsigned idx)
{
	static const char *const writes[] = {
		"gnutls_alert_send", "gnutls_alert_send_appropriate", "gnutls_handshake_write",
		"gnutls_heartbeat_ping", "gnutls_heartbeat_pong", "gnutls_record_uncork",
		"gnutls_rehandshake", "gnutls_session_key_update", "gnutls_session_ticket_send",
	};

	for (unsigned j = 0; j < sizeof writes / sizeof writes[0]; j++)
		if (!strcmp(routed_name[idx], writes[j]))
			return true;
	return false;
}

/* What those calls return on a zombie: GnuTLS's error for a push that
 * failed (the program closed the socket). */
static int zombie_write(void)
{
	errno = EBADF;
	return GNUTLS_E_PUSH_ERROR;
}

/* What a routed call made before the handshake means for a takeover:
 * harmless (it reads, or sets what a takeover copies or does not need),
 * the compatibility mode (recorded and compared), or foreign. */
static unsigned char routed_kinds[KW_GNUTLS_NROUTED];

static void make_routed_kinds(void)
{
	static const char *const harmless[] = {
		"gnutls_session_set_ptr", "gnutls_transport_set_errno",
		"gnutls_session_set_data", "gnutls_record_check_pending",
		"gnutls_record_get_direction",
	};

	for (unsigned i = 0; i < KW_GNUTLS_NROUTED; i++) {
		const char *n = routed_name[i];
		unsigned char k = strstr(n, "_get") || strstr(n, "_is_") ||
		                  strstr(n, "verify_peers") ? ROUTED_HARMLESS : ROUTED_FOREIGN;
		for (unsigned j = 0; j < sizeof harmless / sizeof harmless[0]; j++)
			if (!strcmp(n, harmless[j]))
				k = ROUTED_HARMLESS;
		if (!strcmp(n, "gnutls_session_get_keylog_function"))
			k = ROUTED_OWN;
		if (!strcmp(n, "gnutls_session_enable_compatibility_mode") ||
		    !strcmp(n, "gnutls_record_disable_padding"))
			k = ROUTED_COMPAT;
		routed_kinds[i] = k;
	}
}

static unsigned char routed_kind(unsigned idx)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, make_routed_kinds);
	return routed_kinds[idx];
}

struct kw_tls_route kw_tls_route(const void *h, unsigned idx)
{
	struct kw_tls_route r = { h, NULL };
	struct kw_tls_session *e;
	bool note = false;
	int saved = errno;

	if (idx >= KW_GNUTLS_NROUTED)
		return r; /* never: the trampolines pass their own index */
	r.fn = kw_gnutls_routed_real[idx];
	if (kw_depth)
		return r;
	kw_tls_sessions_lock_shared();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, KW_TLS_GNUTLS))) {
		unsigned char kind = routed_kind(idx);
		if (e->zombie && routed_writes(idx))
			r.fn = (void *)zombie_write;
		else if (e->zombie)
			r.h = kw_tls_zombie_target(KW_TLS_GNUTLS, h);
		else if (e->live && kind != ROUTED_OWN)
			r.h = e->live;
		else if (e->set && !e->handshaken && kind != ROUTED_HARMLESS && kind != ROUTED_OWN)
			note = true;
	}
	kw_tls_sessions_unlock();
	if (note) {
		kw_tls_sessions_lock();
		e = kw_tls_map_find(&kw_tls_sessions, h, KW_TLS_GNUTLS);
		if (e && e->set) {
			if (routed_kind(idx) == ROUTED_COMPAT)
				e->set->compat = true;
			else
				kw_tls_settings_foreign(e->set, KW_REASON_TLS_SETTING);
		}
		kw_tls_sessions_unlock();
	}
	errno = saved;
	return r;
}

/* ---- OpenSSL ---- */

static const char *const ssl_routed_name[KW_OPENSSL_NROUTED] = {
#define KW_ROUTED_NAME(name, version, i) [i] = #name,
	KW_OPENSSL_ROUTED(KW_ROUTED_NAME)
#undef KW_ROUTED_NAME
};

/* Each routed OpenSSL function's disposition (logic/ossl_calls.h), whether
 * it writes, and which one is SSL_get_error. */
static struct {
	unsigned char kind;
	bool writes;
} ssl_kind[KW_OPENSSL_NROUTED];
static unsigned ssl_get_error_idx = KW_OPENSSL_NROUTED;

static void make_ssl_kinds(void)
{
	for (unsigned i = 0; i < KW_OPENSSL_NROUTED; i++) {
		bool writes = false;
		ssl_kind[i].kind = (unsigned char)kw_ossl_call_kind(ssl_routed_name[i], &writes);
		ssl_kind[i].writes = writes;
		if (!strcmp(ssl_routed_name[i], "SSL_get_error"))
			ssl_get_error_idx = i;
	}
}

static void ssl_kinds(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, make_ssl_kinds);
}

/* What a zombie's calls answer (the program closed the socket first): a
 * call that would write fails as on a closed descriptor; SSL_get_error
 * says what such a failure is, or end-of-file after the server's close. */
static long zombie_fail(void)
{
	errno = EBADF;
	return 0;
}

static int zombie_error(const SSL *s, int ret)
{
	(void)s;
	return ret > 0 ? SSL_ERROR_NONE : SSL_ERROR_SYSCALL;
}

static int zombie_eof_error(const SSL *s, int ret)
{
	(void)s;
	return ret > 0 ? SSL_ERROR_NONE : SSL_ERROR_ZERO_RETURN;
}

/* Where a call of disposition kind on h goes (under the table's lock, e
 * h's entry or NULL); *note: before h's handshake, it keeps h from
 * taking over. */
static const void *ssl_where(const struct kw_tls_session *e, const void *h,
                             enum kw_ossl_kind kind, bool *note)
{
	*note = false;
	if (!e)
		return h;
	if (e->zombie)
		return kw_tls_zombie_target(KW_TLS_OPENSSL, h);
	if (e->live && !e->verify_owed)
		return kind == KW_OSSL_PARKED || kind == KW_OSSL_BOTH ? e->live : h;
	*note = kind == KW_OSSL_FOREIGN && e->set && !e->handshaken && !e->live;
	return h;
}

static void ssl_note_foreign(const void *h)
{
	struct kw_tls_session *e;

	kw_tls_sessions_lock();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, KW_TLS_OPENSSL)) && e->set)
		kw_tls_settings_foreign(e->set, KW_REASON_TLS_SETTING);
	kw_tls_sessions_unlock();
}

struct kw_tls_route kw_tls_route_ssl(const void *h, unsigned idx)
{
	struct kw_tls_route r = { h, NULL };
	struct kw_tls_session *e;
	bool note = false;
	int saved = errno;

	if (idx >= KW_OPENSSL_NROUTED)
		return r; /* never: the trampolines pass their own index */
	r.fn = kw_openssl_routed_real[idx];
	if (kw_depth)
		return r;
	ssl_kinds();
	kw_tls_sessions_lock_shared();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, KW_TLS_OPENSSL))) {
		if (e->zombie && idx == ssl_get_error_idx)
			r.fn = e->zombie_eof ? (void *)zombie_eof_error : (void *)zombie_error;
		else if (e->timed_out && idx == ssl_get_error_idx)
			r.fn = (void *)zombie_error; /* a failure of the socket: ETIMEDOUT */
		else if (e->zombie && ssl_kind[idx].writes)
			r.fn = (void *)zombie_fail;
		else
			r.h = ssl_where(e, h, (enum kw_ossl_kind)ssl_kind[idx].kind, &note);
	}
	kw_tls_sessions_unlock();
	if (note)
		ssl_note_foreign(h);
	errno = saved;
	return r;
}

/* A record size the program set on h before any takeover (a takeover puts
 * it on the kept session: OpenSSL has no getter). */
static void ssl_note_size(const void *h, int cmd, long larg)
{
	struct kw_tls_session *e;

	kw_tls_sessions_lock();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, KW_TLS_OPENSSL)) && e->set) {
		if (cmd == SSL_CTRL_SET_MAX_SEND_FRAGMENT)
			e->set->max_send_fragment = larg;
		else
			e->set->split_send_fragment = larg;
	}
	kw_tls_sessions_unlock();
}

const void *kw_tls_route_ctrl(const void *h, int cmd, long larg, bool callback, bool *fail)
{
	struct kw_tls_session *e;
	const void *t = h;
	bool writes = false, note = false, record = false;
	enum kw_ossl_kind kind;
	int saved = errno;

	*fail = false;
	if (kw_depth)
		return h;
	kind = kw_ossl_ctrl_kind(cmd, callback, &writes);
	kw_tls_sessions_lock_shared();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, KW_TLS_OPENSSL))) {
		if (e->zombie && writes)
			*fail = true;
		else
			t = ssl_where(e, h, kind, &note);
		record = !callback && t == h && e->set && !e->live &&
		         (cmd == SSL_CTRL_SET_MAX_SEND_FRAGMENT || cmd == SSL_CTRL_SET_SPLIT_SEND_FRAGMENT);
	}
	kw_tls_sessions_unlock();
	if (record)
		ssl_note_size(h, cmd, larg);
	if (note)
		ssl_note_foreign(h);
	errno = saved;
	return t;
}
