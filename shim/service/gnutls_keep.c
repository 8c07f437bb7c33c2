/* gnutls_keep.c - what keepwarm does itself to a GnuTLS session it keeps
 * (service/tls_keep.h). */
#include "service/tls_keep.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "service/real.h"
#include "service/state.h"
#include "service/tls_real.h"
#include "service/tls_sessions.h"

#define REAL(name) kw_tls_real.name

/* Certificate credentials with nothing in them: what a kept session holds
 * in place of the program's (which the program may free once it let go). */
static gnutls_certificate_credentials_t empty_cred;

/* A kept session's transport while nobody else's is on it: the real libc
 * on the descriptor in its pointer. */
static ssize_t own_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	return kw_real.send((int)(intptr_t)p, data, len, MSG_NOSIGNAL);
}

static ssize_t own_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	return kw_real.recv((int)(intptr_t)p, data, len, 0);
}

static int own_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	struct pollfd pfd = { .fd = (int)(intptr_t)p, .events = POLLIN };
	return kw_real.poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

static ssize_t own_vec_push(gnutls_transport_ptr_t p, const giovec_t *iov, int n)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };
	return kw_real.sendmsg((int)(intptr_t)p, &m, MSG_NOSIGNAL);
}

static bool have_empty_cred(void)
{
	/* Made once, by the first thread that keeps a session (under the
	 * session table's lock, which every caller holds). */
	if (!empty_cred && REAL(gnutls_certificate_allocate_credentials)(&empty_cred) < 0)
		empty_cred = NULL;
	return empty_cred != NULL;
}

/* Put the transport of settings t on p: the library's functions stay
 * where t has none of its own (they were never replaced on p either:
 * both sessions had the same kind). */
static void put_transport(gnutls_session_t p, const struct kw_tls_settings *t)
{
	if (t->own & KW_TLS_OWN_PUSH)
		REAL(gnutls_transport_set_push_function)(p, (gnutls_push_func)t->push);
	if (t->own & KW_TLS_OWN_VEC_PUSH)
		REAL(gnutls_transport_set_vec_push_function)(p, (gnutls_vec_push_func)t->vec_push);
	if (t->own & KW_TLS_OWN_PULL)
		REAL(gnutls_transport_set_pull_function)(p, (gnutls_pull_func)t->pull);
	if (t->own & KW_TLS_OWN_PULL_TIMEOUT)
		REAL(gnutls_transport_set_pull_timeout_function)(p, (gnutls_pull_timeout_func)t->pull_timeout);
	REAL(gnutls_transport_set_ptr2)(p, t->recv_ptr, t->send_ptr);
}

/* ---- callbacks of a lent session: the program's, with its handle ---- */

/* The program's handle that took p over and its callback of kind which
 * (an offset in struct kw_tls_settings), or false. Never while keepwarm
 * itself drives p (kw_depth): no program holds it then. */
static bool taker_of(gnutls_session_t p, size_t which, gnutls_session_t *n, kw_tls_fn *fn)
{
	struct kw_tls_session *pe, *ne;
	bool got = false;

	if (kw_depth)
		return false;
	kw_tls_sessions_lock_shared();
	if ((pe = kw_tls_map_find(&kw_tls_sessions, p, KW_TLS_GNUTLS)) && pe->lent && pe->taker &&
	    (ne = kw_tls_map_find(&kw_tls_sessions, pe->taker, KW_TLS_GNUTLS)) && ne->set) {
		memcpy(fn, (const char *)ne->set + which, sizeof *fn);
		*n = (gnutls_session_t)pe->taker;
		got = *fn != NULL;
	}
	kw_tls_sessions_unlock();
	return got;
}

static int tramp_keylog(gnutls_session_t p, const char *label, const gnutls_datum_t *secret)
{
	gnutls_session_t n;
	kw_tls_fn fn;

	if (!taker_of(p, offsetof(struct kw_tls_settings, keylog), &n, &fn))
		return 0;
	return ((gnutls_keylog_func)fn)(n, label, secret);
}

static int tramp_alert_read(gnutls_session_t p, gnutls_record_encryption_level_t level,
                            gnutls_alert_level_t alert_level, gnutls_alert_description_t desc)
{
	gnutls_session_t n;
	kw_tls_fn fn;

	if (!taker_of(p, offsetof(struct kw_tls_settings, alert_read), &n, &fn))
		return 0;
	return ((gnutls_alert_read_func)fn)(n, level, alert_level, desc);
}

static int tramp_hook(gnutls_session_t p, unsigned htype, unsigned when, unsigned incoming,
                      const gnutls_datum_t *msg)
{
	gnutls_session_t n;
	kw_tls_fn fn;

	if (!taker_of(p, offsetof(struct kw_tls_settings, hook), &n, &fn))
		return 0;
	return ((gnutls_handshake_hook_func)fn)(n, htype, when, incoming, msg);
}

static void g_callbacks(void *pv, const struct kw_tls_settings *set)
{
	gnutls_session_t p = pv;

	REAL(gnutls_session_set_keylog_function)(p, set && set->keylog ? tramp_keylog : NULL);
	REAL(gnutls_alert_set_read_function)(p, set && set->alert_read ? tramp_alert_read : NULL);
	if (set && set->hook)
		REAL(gnutls_handshake_set_hook_function)(p, set->hook_htype, set->hook_when, tramp_hook);
	else
		REAL(gnutls_handshake_set_hook_function)(p, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH, NULL);
}

static bool g_keep(void *pv, struct kw_tls_settings *set)
{
	gnutls_session_t p = pv;
	struct kw_tls_settings mine;

	if (!have_empty_cred() || REAL(gnutls_certificate_get_ours)(p))
		return false; /* it authenticated as a client: never lent */
	REAL(gnutls_credentials_set)(p, GNUTLS_CRD_CERTIFICATE, empty_cred);
	REAL(gnutls_session_set_ptr)(p, NULL);
	g_callbacks(p, NULL);
	kw_tls_settings_init(&mine, 0, true);
	mine.own = set->own;
	mine.push = (kw_tls_fn)own_push;
	mine.vec_push = (kw_tls_fn)own_vec_push;
	mine.pull = (kw_tls_fn)own_pull;
	mine.pull_timeout = (kw_tls_fn)own_pull_timeout;
	put_transport(p, &mine); /* pointers -1 until someone's are put there */
	return true;
}

/* Does p's peer chain verify under credentials cred for host, with the
 * key purpose a web server's certificate must allow? The library's own
 * check (gnutls_certificate_verify_peers): the credentials' trust list,
 * verify flags and depth, and p's own added flags (the same priorities and
 * in-handshake settings as the new session's, which the rules hold). */
static bool verifies(gnutls_session_t p, void *cred, const char *host)
{
	gnutls_typed_vdata_st data[2];
	unsigned n = 0, status = 0;
	int r;

	if (host) {
		data[n].type = GNUTLS_DT_DNS_HOSTNAME;
		data[n].data = (unsigned char *)host;
		data[n].size = 0;
		n++;
	}
	data[n].type = GNUTLS_DT_KEY_PURPOSE_OID;
	data[n].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	data[n].size = 0;
	n++;
	REAL(gnutls_credentials_set)(p, GNUTLS_CRD_CERTIFICATE, cred);
	r = REAL(gnutls_certificate_verify_peers)(p, data, n, &status);
	if (r < 0 || status) {
		REAL(gnutls_credentials_set)(p, GNUTLS_CRD_CERTIFICATE, empty_cred);
		return false;
	}
	return true;
}

/* Does cred hold any certificate authority? A program whose credentials
 * trust none and that does not verify inside the handshake cannot verify a
 * server at all: it has disabled verification. */
static bool trusts_any(void *cred)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_trust_list_iter_t it = NULL;
	gnutls_x509_crt_t crt = NULL;
	bool any;

	REAL(gnutls_certificate_get_trust_list)(cred, &tl);
	if (!tl)
		return false;
	any = REAL(gnutls_x509_trust_list_iter_get_ca)(tl, &it, &crt) == 0;
	if (crt)
		REAL(gnutls_x509_crt_deinit)(crt);
	if (it)
		REAL(gnutls_x509_trust_list_iter_deinit)(it);
	return any;
}

static enum kw_reason g_attach(void *pv, const struct kw_tls_settings *pset, const void *nv,
                               const struct kw_tls_settings *nset, bool *later)
{
	gnutls_session_t p = pv, n = (gnutls_session_t)nv;
	gnutls_datum_t own_cert;
	enum kw_reason why;

	*later = false;
	if ((why = kw_tls_settings_match(pset, nset)))
		return why;
	if (kw_tls_keep_refuse_all ||
	    REAL(gnutls_certificate_get_crt_raw)((gnutls_certificate_credentials_t)nset->cert_cred, 0, 0, &own_cert) >= 0)
		return KW_REASON_TLS_CLIENT_AUTH; /* it would offer a certificate of its own */
	/* A program that disabled verification (no verification inside the
	 * handshake, no authority trusted) takes over unverified: it could not
	 * have refused any server. Otherwise the chain must verify under its
	 * credentials; one that verifies after the handshake does so again on
	 * the parked chain. */
	if ((nset->verify_cert || trusts_any((void *)nset->cert_cred)) &&
	    !verifies(p, (void *)nset->cert_cred, kw_tls_settings_host(nset)))
		return KW_REASON_TLS_VERIFY;
	REAL(gnutls_credentials_set)(p, GNUTLS_CRD_CERTIFICATE, (void *)nset->cert_cred);
	put_transport(p, nset);
	REAL(gnutls_session_set_ptr)(p, REAL(gnutls_session_get_ptr)(n));
	g_callbacks(p, nset);
	return KW_REASON_NONE;
}

static bool g_tidy(void *pv, const struct kw_tls_settings *set, int h)
{
	gnutls_session_t p = pv;
	struct pollfd pfd = { .fd = h, .events = POLLIN | POLLRDHUP };
	void *fd = (void *)(intptr_t)h;
	char buf[256];
	bool healthy = false;
	int fl = kw_real.fcntl(h, F_GETFL);

	(void)set;
	/* The library's own read, which never waits: records are taken in
	 * until none is left (GNUTLS_E_AGAIN). */
	if (fl < 0 || kw_real.fcntl(h, F_SETFL, fl | O_NONBLOCK) < 0)
		return false;
	REAL(gnutls_transport_set_ptr2)(p, fd, fd);
	for (int i = 0; i < 32; i++) {
		ssize_t r = REAL(gnutls_record_recv)(p, buf, sizeof buf);
		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		/* Nothing left to take in (more may be arriving: look again). */
		healthy = r == GNUTLS_E_AGAIN;
		if (!healthy || kw_real.poll(&pfd, 1, 0) == 0)
			break;
		healthy = false;
	}
	REAL(gnutls_transport_set_ptr2)(p, (void *)(intptr_t)-1, (void *)(intptr_t)-1);
	kw_real.fcntl(h, F_SETFL, fl);
	return healthy;
}

/* After GNUTLS_E_AGAIN: wait for what n was doing, up to the deadline. */
static bool g_wait(gnutls_session_t n, int fd, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd };
	uint64_t now = kw_now_ms();

	pfd.events = REAL(gnutls_record_get_direction)(n) ? POLLOUT : POLLIN;
	return now < deadline && kw_real.poll(&pfd, 1, (int)(deadline - now)) == 1;
}

static int g_handshake(void *nv, int fd, int ms)
{
	gnutls_session_t n = nv;
	uint64_t deadline = kw_now_ms() + (uint64_t)ms;

	for (int i = 0; i < 10000; i++) {
		int r = REAL(gnutls_handshake)(n);
		if (r == 0 || (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED))
			return r;
		if (r == GNUTLS_E_AGAIN && !g_wait(n, fd, deadline))
			return GNUTLS_E_TIMEDOUT;
	}
	return GNUTLS_E_TIMEDOUT;
}

static int g_send_all(void *nv, int fd, const void *buf, size_t len, int ms)
{
	gnutls_session_t n = nv;
	uint64_t deadline = kw_now_ms() + (uint64_t)ms;
	const char *p = buf;

	for (int i = 0; len && i < 10000; i++) {
		ssize_t r = REAL(gnutls_record_send)(n, p, len);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
		} else if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
			return (int)r;
		} else if (r == GNUTLS_E_AGAIN && !g_wait(n, fd, deadline)) {
			return GNUTLS_E_TIMEDOUT;
		}
	}
	return len ? GNUTLS_E_TIMEDOUT : 0;
}

static void *g_dead(void)
{
	static gnutls_session_t dead;

	/* Under the session table's lock, as every caller holds it. */
	if (!dead && REAL(gnutls_init)(&dead, GNUTLS_CLIENT) < 0)
		dead = NULL;
	return dead;
}

static void g_end(void *p)
{
	REAL(gnutls_deinit)(p);
}

/* The verification is never left for later. */
static enum kw_reason g_settle(void *p, const void *n, const struct kw_tls_settings *nset,
                               bool *retry)
{
	(void)p;
	(void)n;
	(void)nset;
	*retry = false;
	return KW_REASON_NONE;
}

static bool g_keepable(const void *p)
{
	return !REAL(gnutls_certificate_get_ours)((gnutls_session_t)p);
}

const struct kw_tls_keep_ops kw_gnutls_keep_ops = {
	.keep = g_keep, .keepable = g_keepable, .attach = g_attach, .settle = g_settle, .tidy = g_tidy,
	.handshake = g_handshake, .send_all = g_send_all, .dead = g_dead,
	.callbacks = g_callbacks, .end = g_end,
};
