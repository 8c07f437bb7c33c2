/* tls_routing.c - where a routed GnuTLS call goes (wrap/tls_route.c's
 * trampolines ask): a session that took a kept one over reaches it, a
 * zombie the session that never connects, any other its own; and what a
 * call made before the handshake means for a takeover. */
#include "entry/entry.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "entry/tls_shared.h"
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
static unsigned char routed_kind(unsigned idx)
{
	static unsigned char kind[KW_GNUTLS_NROUTED];
	static _Atomic bool made;

	if (!atomic_load_explicit(&made, memory_order_acquire)) {
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
			kind[i] = k;
		}
		atomic_store_explicit(&made, true, memory_order_release);
	}
	return kind[idx];
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

struct kw_tls_route kw_tls_route_ssl(const void *h, unsigned idx)
{
	struct kw_tls_route r = { h, NULL };

	if (idx < KW_OPENSSL_NROUTED)
		r.fn = kw_openssl_routed_real[idx];
	return r;
}
