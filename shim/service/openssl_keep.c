/* openssl_keep.c - what keepwarm does itself to an OpenSSL session it keeps
 * (service/tls_keep.h). A kept SSL holds keepwarm's own context and a
 * socket BIO of its own (the library's read() and write(), which reach the
 * real libc as every call here runs with kw_depth raised); a program's SSL
 * that takes it over lends it its context, ex_data and BIOs. */
#include "service/tls_keep.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>

#include "service/real.h"
#include "service/state.h"
#include "service/tls_real.h"
#include "service/tls_sessions.h"

#define REAL(name) kw_tls_real.name

/* The ex_data indexes looked at: a program registers a handful. */
#define EX_DATA_MAX 64

/* keepwarm's context: no callbacks, no certificates. Made once, under the
 * session table's lock (every caller holds it). */
static SSL_CTX *own_ctx;

static bool have_ctx(void)
{
	if (!own_ctx && REAL(TLS_client_method))
		own_ctx = REAL(SSL_CTX_new)(REAL(TLS_client_method)());
	return own_ctx != NULL;
}

/* Every function below, found in the loaded library (the table is filled
 * once: looked at once, after that). */
static bool all_found(void)
{
#define KW_NEEDED(name, ret, args) if (!kw_tls_real.name) return false;
	KW_OPENSSL_CALLED(KW_NEEDED)
	KW_OPENSSL_WRAPPED(KW_NEEDED)
#undef KW_NEEDED
	return true;
}

bool kw_openssl_keep_ready(void)
{
	static _Atomic int found = -1;
	int f = atomic_load_explicit(&found, memory_order_acquire);

	if (f < 0 && kw_tls_real_ready(KW_TLS_OPENSSL))
		atomic_store_explicit(&found, f = all_found(), memory_order_release);
	return f > 0;
}

/* Put the socket with number fd under b (-1: none). */
static void bio_fd(BIO *b, int fd)
{
	if (b)
		REAL(BIO_int_ctrl)(b, BIO_C_SET_FD, BIO_NOCLOSE, fd);
}

static void clear_ex_data(SSL *p)
{
	for (int i = 0; i < EX_DATA_MAX; i++)
		if (REAL(SSL_get_ex_data)(p, i))
			REAL(SSL_set_ex_data)(p, i, NULL);
}

/* n's ex_data on p: a callback the library makes with p finds the
 * program's objects as with n. */
static void copy_ex_data(SSL *p, const SSL *n)
{
	for (int i = 0; i < EX_DATA_MAX; i++) {
		void *v = REAL(SSL_get_ex_data)(n, i);
		if (v || REAL(SSL_get_ex_data)(p, i))
			REAL(SSL_set_ex_data)(p, i, v);
	}
}

/* ---- callbacks of a lent session: the program's, with its handle ---- */

/* The program's SSL that took p over, or NULL. Never while keepwarm
 * itself drives p (kw_depth): no program holds it then. */
static SSL *taker_of(const SSL *p)
{
	struct kw_tls_session *pe;
	SSL *n = NULL;

	if (kw_depth)
		return NULL;
	kw_tls_sessions_lock_shared();
	if ((pe = kw_tls_map_find(&kw_tls_sessions, p, KW_TLS_OPENSSL)) && pe->lent)
		n = (SSL *)pe->taker;
	kw_tls_sessions_unlock();
	return n;
}

/* What n would have called: its own info callback, else its context's. */
static kw_ssl_info_cb info_of(const SSL *n)
{
	kw_ssl_info_cb cb = REAL(SSL_get_info_callback)(n);

	// cppcheck-suppress CastIntegerToAddressAtReturn ; it returns a callback (tls_real.h)
	return cb ? cb : REAL(SSL_CTX_get_info_callback)(REAL(SSL_get_SSL_CTX)(n));
}

static void tramp_info(const SSL *p, int where, int ret)
{
	SSL *n = taker_of(p);
	kw_ssl_info_cb cb = n ? info_of(n) : NULL;

	if (cb)
		cb(n, where, ret);
}

/* ---- the new-session callback: the library calls it from the context an
 * SSL was made with, which a kept SSL keeps ---- */

/* The program's callback, kept in its context's ex_data (index made once,
 * under the session table's lock). */
static int ctx_index = -1;

static bool have_index(void)
{
	if (ctx_index < 0)
		ctx_index = REAL(CRYPTO_get_ex_new_index)(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, NULL);
	return ctx_index >= 0;
}

static kw_ssl_new_session_cb program_cb(SSL_CTX *ctx)
{
	kw_ssl_new_session_cb cb = NULL;
	void *v = ctx && ctx_index >= 0 ? REAL(SSL_CTX_get_ex_data)(ctx, ctx_index) : NULL;

	memcpy(&cb, &v, sizeof cb);
	return cb;
}

/* A ticket read on s: the program's callback with s, or with the SSL that
 * took s over; none while s is parked (nobody's, or keepwarm tidying it). */
static int tramp_new_session(SSL *s, SSL_SESSION *sess)
{
	struct kw_tls_session *e;
	SSL_CTX *ctx = NULL;
	SSL *n = s;
	bool parked = kw_depth > 0;
	kw_ssl_new_session_cb cb;

	if (!parked) {
		kw_tls_sessions_lock_shared();
		if ((e = kw_tls_map_find(&kw_tls_sessions, s, KW_TLS_OPENSSL))) {
			if (e->state == KW_TLS_KEPT) {
				parked = !e->lent;
				n = (SSL *)e->taker;
			}
			if (e->set)
				ctx = (SSL_CTX *)e->set->ctx0;
		}
		kw_tls_sessions_unlock();
	}
	if (parked || !n)
		return 0; /* the library frees the session */
	cb = program_cb(ctx ? ctx : REAL(SSL_get_SSL_CTX)(s));
	return cb ? cb(n, sess) : 0;
}

void kw_openssl_set_new_session_cb(SSL_CTX *ctx, kw_ssl_new_session_cb cb)
{
	void *v;

	memcpy(&v, &cb, sizeof v);
	kw_tls_sessions_lock(); /* the index is made once */
	if (have_index() && REAL(SSL_CTX_set_ex_data)(ctx, ctx_index, v) == 1)
		REAL(SSL_CTX_sess_set_new_cb)(ctx, cb ? tramp_new_session : NULL);
	else
		REAL(SSL_CTX_sess_set_new_cb)(ctx, cb);
	kw_tls_sessions_unlock();
}

kw_ssl_new_session_cb kw_openssl_get_new_session_cb(SSL_CTX *ctx)
{
	// cppcheck-suppress AssignmentIntegerToAddress ; it returns a callback (tls_real.h)
	kw_ssl_new_session_cb cb = REAL(SSL_CTX_sess_get_new_cb)(ctx);

	return cb == tramp_new_session ? program_cb(ctx) : cb;
}

static void o_callbacks(void *pv, const struct kw_tls_settings *set)
{
	(void)pv;
	(void)set; /* OpenSSL's are put in place by attach */
}

/* ---- park ---- */

static bool o_keepable(const void *pv)
{
	const SSL *p = pv;

	return (REAL(SSL_get_SSL_CTX)(p) == own_ctx || !REAL(SSL_get_certificate)(p)) &&
	       !(REAL(SSL_get_shutdown)(p) & SSL_RECEIVED_SHUTDOWN);
}

static bool o_keep(void *pv, struct kw_tls_settings *set)
{
	SSL *p = pv;
	SSL_CTX *ctx = REAL(SSL_get_SSL_CTX)(p);
	BIO *b;

	if (!have_ctx() || (ctx != own_ctx && REAL(SSL_get_certificate)(p)))
		return false; /* it may have authenticated as a client: never lent */
	/* The server's close_notify came: over. Flags the program set without
	 * a close_notify sent (SSL_set_shutdown) would refuse the next
	 * taker's writes: cleared. */
	if (REAL(SSL_get_shutdown)(p) & SSL_RECEIVED_SHUTDOWN)
		return false;
	REAL(SSL_set_shutdown)(p, 0);
	if (!(b = REAL(BIO_new_socket)(-1, BIO_NOCLOSE)))
		return false;
	/* The first time: the context it was made with is the one whose
	 * session callback a late ticket calls (OpenSSL keeps it); keepwarm's
	 * trampoline keeps the program's from seeing a parked SSL's. */
	if (ctx != own_ctx && !set->session_cb) {
		// cppcheck-suppress AssignmentIntegerToAddress ; it returns a callback (tls_real.h)
		kw_ssl_new_session_cb cb = REAL(SSL_CTX_sess_get_new_cb)(ctx);
		set->session_cb = cb && cb != tramp_new_session;
	}
	/* The program's BIOs are freed now, while their methods exist (libcurl
	 * frees its method right after SSL_free). */
	REAL(SSL_set_bio)(p, b, b);
	REAL(SSL_set_SSL_CTX)(p, own_ctx);
	REAL(SSL_set_info_callback)(p, NULL);
	REAL(SSL_set_msg_callback)(p, NULL);
	clear_ex_data(p);
	return true;
}

/* ---- take over ---- */

/* OpenSSL's NID of a named group, as the number TLS gives it (0: not
 * known; the group is then not compared). */
static uint16_t group_id(long nid)
{
	static const struct {
		int nid;
		uint16_t id;
	} groups[] = {
		{ NID_X9_62_prime256v1, 0x0017 }, { NID_secp384r1, 0x0018 },
		{ NID_secp521r1, 0x0019 },       { NID_X25519, 0x001d },
		{ NID_X448, 0x001e },            { NID_ffdhe2048, 0x0100 },
		{ NID_ffdhe3072, 0x0101 },       { NID_ffdhe4096, 0x0102 },
		{ NID_ffdhe6144, 0x0103 },       { NID_ffdhe8192, 0x0104 },
	};

	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
		if (groups[i].nid == nid)
			return groups[i].id;
	return 0;
}

static enum kw_reason verdict_reason(enum kw_tls_hello_verdict v)
{
	switch (v) {
	case KW_TLS_HELLO_SAME:
		return KW_REASON_NONE;
	case KW_TLS_HELLO_OTHER_NAME:
		return KW_REASON_TLS_SERVER_NAME;
	case KW_TLS_HELLO_OTHER_ALPN:
		return KW_REASON_TLS_ALPN_OFFER;
	case KW_TLS_HELLO_EXCLUDES:
		return KW_REASON_TLS_POLICY;
	default:
		return KW_REASON_TLS_SETTING;
	}
}

/* p's peer chain verified as n's handshake verifies it (OpenSSL's
 * ssl_verify_cert_chain): n's context's store, n's verify parameters (host
 * names, purpose, flags) and security level, n in the store context's
 * ex_data and n's verify callback. *result: what SSL_get_verify_result
 * would say. Returns the verification's own answer (> 0: accepted, by the
 * chain or by the callback). */
static int verify(SSL *p, SSL *n, long *result)
{
	X509 *leaf = REAL(SSL_get0_peer_certificate)(p);
	STACK_OF(X509) *chain = REAL(SSL_get_peer_cert_chain)(p);
	X509_STORE *store = REAL(SSL_CTX_get_cert_store)(REAL(SSL_get_SSL_CTX)(n));
	X509_STORE_CTX *x;
	X509_VERIFY_PARAM *param;
	SSL_verify_cb cb;
	int ok = 0;

	*result = X509_V_ERR_UNSPECIFIED;
	if (!leaf || !store || !(x = REAL(X509_STORE_CTX_new)()))
		return 0;
	if (REAL(X509_STORE_CTX_init)(x, store, leaf, chain)) {
		param = REAL(X509_STORE_CTX_get0_param)(x);
		REAL(X509_VERIFY_PARAM_set_auth_level)(param, REAL(SSL_get_security_level)(n));
		if (REAL(X509_STORE_CTX_set_ex_data)(x, REAL(SSL_get_ex_data_X509_STORE_CTX_idx)(), n)) {
			REAL(X509_STORE_CTX_set_default)(x, "ssl_server");
			REAL(X509_VERIFY_PARAM_set1)(param, REAL(SSL_get0_param)(n));
			if ((cb = REAL(SSL_get_verify_callback)(n)))
				REAL(X509_STORE_CTX_set_verify_cb)(x, cb);
			ok = REAL(X509_verify_cert)(x);
			*result = REAL(X509_STORE_CTX_get_error)(x);
		}
	}
	REAL(X509_STORE_CTX_free)(x);
	REAL(ERR_clear_error)(); /* the program's error queue stays as it was */
	return ok;
}

/* Does n's verification refuse p's chain (n verifies the peer, and the
 * chain does not pass)? *result: what n reads back. */
static bool refused(SSL *p, SSL *n, long *result)
{
	int ok = verify(p, n, result);

	return ok <= 0 && (REAL(SSL_get_verify_mode)(n) & SSL_VERIFY_PEER);
}

/* p goes on for n: its verify result, n's context and ex_data, the I/O
 * settings n made (mode, options, read-ahead, record sizes), n's info
 * callback (a trampoline), n's BIOs. */
static void lend(SSL *p, SSL *n, const struct kw_tls_settings *nset, long result)
{
	const uint64_t io_options = SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION;
	BIO *rb = REAL(SSL_get_rbio)(n), *wb = REAL(SSL_get_wbio)(n);
	long mode = REAL(SSL_ctrl)(n, SSL_CTRL_MODE, 0, NULL);

	REAL(SSL_set_verify_result)(p, result);
	REAL(SSL_set_SSL_CTX)(p, REAL(SSL_get_SSL_CTX)(n));
	copy_ex_data(p, n);
	REAL(SSL_ctrl)(p, SSL_CTRL_CLEAR_MODE, ~0L, NULL);
	REAL(SSL_ctrl)(p, SSL_CTRL_MODE, mode, NULL);
	REAL(SSL_clear_options)(p, io_options);
	REAL(SSL_set_options)(p, REAL(SSL_get_options)(n) & io_options);
	REAL(SSL_set_read_ahead)(p, REAL(SSL_get_read_ahead)(n));
	if (nset->max_send_fragment)
		REAL(SSL_ctrl)(p, SSL_CTRL_SET_MAX_SEND_FRAGMENT, nset->max_send_fragment, NULL);
	if (nset->split_send_fragment)
		REAL(SSL_ctrl)(p, SSL_CTRL_SET_SPLIT_SEND_FRAGMENT, nset->split_send_fragment, NULL);
	REAL(SSL_set_info_callback)(p, info_of(n) ? tramp_info : NULL);
	/* Shared: n keeps its references (the program frees them with n). */
	if (rb)
		REAL(BIO_up_ref)(rb);
	if (wb && wb != rb)
		REAL(BIO_up_ref)(wb);
	REAL(SSL_set_bio)(p, rb, wb);
}

static enum kw_reason o_attach(void *pv, const struct kw_tls_settings *pset, const void *nv,
                               const struct kw_tls_settings *nset, bool *later)
{
	SSL *p = pv, *n = (SSL *)nv;
	const SSL_CIPHER *cipher = REAL(SSL_get_current_cipher)(p);
	enum kw_reason why;

	*later = false;
	if (pset->foreign || nset->foreign || !pset->born || !nset->born)
		return KW_REASON_TLS_SETTING;
	if (!pset->hello_seen || !nset->hello_seen || !cipher)
		return KW_REASON_TLS_NOT_HELLO;
	why = verdict_reason(kw_tls_hello_allows(
		&pset->hello, &nset->hello, (uint16_t)REAL(SSL_version)(p),
		REAL(SSL_CIPHER_get_protocol_id)(cipher),
		group_id(REAL(SSL_ctrl)(p, SSL_CTRL_GET_NEGOTIATED_GROUP, 0, NULL))));
	if (why)
		return why;
	if (kw_tls_keep_refuse_all || REAL(SSL_get_certificate)(n) ||
	    REAL(SSL_CTX_get_client_cert_cb)(REAL(SSL_get_SSL_CTX)(n)))
		return KW_REASON_TLS_CLIENT_AUTH; /* it would offer a certificate of its own */
	*later = true; /* the chain: settle, without the table's lock */
	return KW_REASON_NONE;
}

/* The status callback of n's context, for a session that asked for the
 * server's OCSP response: called as n's handshake calls it. p received no
 * response (else the takeover is refused: it is not passed on yet), so n
 * has none either. False when the callback refuses. */
static bool status_accepted(SSL *p, SSL *n, const struct kw_tls_settings *nset, bool *foreign)
{
	SSL_CTX *ctx = REAL(SSL_get_SSL_CTX)(n);
	int (*cb)(SSL *, void *) = NULL;
	void *arg = NULL;
	unsigned char *resp = NULL;

	*foreign = false;
	if (!nset->hello.status_request)
		return true;
	REAL(SSL_CTX_ctrl)(ctx, SSL_CTRL_GET_TLSEXT_STATUS_REQ_CB, 0, (void *)&cb);
	if (!cb)
		return true;
	if (REAL(SSL_ctrl)(p, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, &resp) > 0 && resp) {
		*foreign = true;
		return false;
	}
	REAL(SSL_CTX_ctrl)(ctx, SSL_CTRL_GET_TLSEXT_STATUS_REQ_CB_ARG, 0, &arg);
	return cb(n, arg) > 0;
}

static enum kw_reason o_settle(void *pv, const void *nv, const struct kw_tls_settings *nset,
                               bool *retry)
{
	SSL *p = pv, *n = (SSL *)nv;
	bool foreign = false;
	long result;

	*retry = false;
	if (refused(p, n, &result)) {
		*retry = result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
		return KW_REASON_TLS_VERIFY;
	}
	if (!status_accepted(p, n, nset, &foreign))
		return foreign ? KW_REASON_TLS_SETTING : KW_REASON_TLS_VERIFY;
	lend(p, n, nset, result);
	return KW_REASON_NONE;
}

/* ---- a parked session's housekeeping ---- */

/* What the records taken in while tidying held: only tickets and key
 * updates keep the session healthy. */
static void tidy_msg(int write_p, int version, int content_type, const void *buf, size_t len,
                     SSL *ssl, void *arg)
{
	bool *bad = arg;
	const unsigned char *b = buf;

	(void)version;
	(void)ssl;
	if (write_p)
		return; /* a key update's answer */
	if (content_type == SSL3_RT_ALERT || content_type == SSL3_RT_APPLICATION_DATA ||
	    (content_type == SSL3_RT_HANDSHAKE &&
	     (!len || (b[0] != SSL3_MT_NEWSESSION_TICKET && b[0] != SSL3_MT_KEY_UPDATE))))
		*bad = true;
}

static bool o_tidy(void *pv, const struct kw_tls_settings *set, int h)
{
	SSL *p = pv;
	BIO *b = REAL(SSL_get_rbio)(p);
	struct pollfd pfd = { .fd = h, .events = POLLIN | POLLRDHUP };
	char buf[256];
	bool healthy = false, bad = false;
	int fl;

	/* A ticket would reach the program's session callback, with nothing
	 * of the program's left to find. */
	if (!b || (set && set->session_cb))
		return false;
	if ((fl = kw_real.fcntl(h, F_GETFL)) < 0 || kw_real.fcntl(h, F_SETFL, fl | O_NONBLOCK) < 0)
		return false;
	bio_fd(b, h);
	REAL(SSL_set_msg_callback)(p, tidy_msg);
	REAL(SSL_ctrl)(p, SSL_CTRL_SET_MSG_CALLBACK_ARG, 0, &bad);
	for (int i = 0; i < 32; i++) {
		int r = REAL(SSL_read)(p, buf, sizeof buf);
		/* Nothing left to take in (more may be arriving: look again). */
		healthy = r <= 0 && REAL(SSL_get_error)(p, r) == SSL_ERROR_WANT_READ && !bad;
		if (!healthy || kw_real.poll(&pfd, 1, 0) == 0)
			break;
		healthy = false;
	}
	REAL(SSL_set_msg_callback)(p, NULL);
	REAL(SSL_ctrl)(p, SSL_CTRL_SET_MSG_CALLBACK_ARG, 0, NULL);
	REAL(ERR_clear_error)();
	bio_fd(b, -1);
	kw_real.fcntl(h, F_SETFL, fl);
	return healthy;
}

/* ---- keepwarm's own handshake and sends, on a fresh connection ---- */

/* After r from an SSL call on n: wait for what it wants, up to the
 * deadline. False: give up. */
static bool o_wait(SSL *n, int r, int fd, uint64_t deadline)
{
	int e = REAL(SSL_get_error)(n, r);
	struct pollfd pfd = { .fd = fd };
	uint64_t now = kw_now_ms();

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return false;
	pfd.events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
	return now < deadline && kw_real.poll(&pfd, 1, (int)(deadline - now)) == 1;
}

static int o_handshake(void *nv, int fd, int ms)
{
	SSL *n = nv;
	uint64_t deadline = kw_now_ms() + (uint64_t)ms;

	for (int i = 0; i < 10000; i++) {
		int r = REAL(SSL_do_handshake)(n);
		if (r == 1)
			return 0;
		if (!o_wait(n, r, fd, deadline))
			return -2;
	}
	return -2;
}

static int o_send_all(void *nv, int fd, const void *buf, size_t len, int ms)
{
	SSL *n = nv;
	uint64_t deadline = kw_now_ms() + (uint64_t)ms;
	const char *p = buf;

	for (int i = 0; len && i < 10000; i++) {
		size_t put = 0;
		int r = REAL(SSL_write_ex)(n, p, len, &put);
		if (r == 1) {
			p += put;
			len -= put;
		} else if (!o_wait(n, r, fd, deadline)) {
			return -2;
		}
	}
	return len ? -2 : 0;
}

static void *o_dead(void)
{
	static SSL *dead;

	/* Under the session table's lock, as every caller holds it. */
	if (!dead && have_ctx())
		dead = REAL(SSL_new)(own_ctx);
	return dead;
}

static void o_end(void *p)
{
	/* A session ended while lent holds the taker's ex_data: the free
	 * callbacks must not see the program's objects twice. */
	clear_ex_data(p);
	REAL(SSL_free)(p);
}

const struct kw_tls_keep_ops kw_openssl_keep_ops = {
	.keep = o_keep, .keepable = o_keepable, .attach = o_attach, .settle = o_settle, .tidy = o_tidy,
	.handshake = o_handshake, .send_all = o_send_all, .dead = o_dead,
	.callbacks = o_callbacks, .end = o_end,
};
