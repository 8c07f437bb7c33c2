/* gnutls_client.c - an HTTPS/1.1 client written directly on GnuTLS, for
 * keepwarm's TLS tests (usage in tls_common.c). The certificate is checked
 * against --ca and the URL's host (name or IP address) during the
 * handshake; SNI is sent for names. The environment picks other styles:
 *   KW_TEST_GNUTLS_TRANSPORT=pushpull  push/pull functions and a pointer
 *                                      of its own (as libcurl), not the fd,
 *                                      and a pull-timeout function (the
 *                                      blocking handshake's waits)
 *   KW_TEST_GNUTLS_VERIFY=late         no in-handshake verification, only
 *                                      gnutls_certificate_verify_peers3 after
 *   KW_TEST_GNUTLS_VERIFY=none         no verification at all, and no
 *                                      authority loaded (--ca is not read)
 *   KW_TEST_GNUTLS_TEARDOWN=deinit     no gnutls_bye (as wget)
 *   KW_TEST_GNUTLS_CALLBACKS=1         a keylog and an alert function before
 *                                      the handshake, a hook on every message
 *                                      after it: each says on stderr when it
 *                                      is called with a session that is not
 *                                      the one it was set on (and appends its
 *                                      name to KW_TEST_GNUTLS_CALLBACKS_LOG)
 *   KW_TEST_GNUTLS_NO_TICKETS=1        gnutls_init with GNUTLS_NO_TICKETS
 *                                      (as libcurl without a session cache)
 * and, for every session after the process's first one (a takeover's
 * negative cases): KW_TEST_SECOND_CA (another trust file, in credentials
 * of their own), KW_TEST_SECOND_CLIENT_CERT=CERT:KEY (in those
 * credentials), KW_TEST_SECOND_SNI, KW_TEST_SECOND_VERIFY_HOST,
 * KW_TEST_SECOND_ALPN, KW_TEST_SECOND_PRIO (a priority string),
 * KW_TEST_SECOND_NO_TICKETS (GNUTLS_NO_TICKETS in gnutls_init's flags). */
#include "tls_common.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static gnutls_certificate_credentials_t cred, cred2;
static int sessions; /* made so far (atomic: threads mode) */
static __thread gnutls_session_t mine; /* the session this thread works on */

static void check_session(const char *what, gnutls_session_t s)
{
	const char *log = getenv("KW_TEST_GNUTLS_CALLBACKS_LOG");

	if (s != mine)
		fprintf(stderr, "gnutls-client: %s called with another session\n", what);
	if (log) { /* one line per call, for a test to count */
		FILE *f = fopen(log, "a");
		if (f) {
			fprintf(f, "%s\n", what);
			fclose(f);
		}
	}
}

static int keylog_fn(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
	(void)label;
	(void)secret;
	check_session("keylog function", s);
	return 0;
}

static int alert_fn(gnutls_session_t s, gnutls_record_encryption_level_t level,
                    gnutls_alert_level_t alert_level, gnutls_alert_description_t desc)
{
	(void)level;
	(void)alert_level;
	(void)desc;
	check_session("alert function", s);
	return 0;
}

static int hook_fn(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
                   const gnutls_datum_t *msg)
{
	(void)htype;
	(void)when;
	(void)incoming;
	(void)msg;
	check_session("handshake hook", s);
	return 0;
}

static const char *second(const char *name)
{
	return __atomic_load_n(&sessions, __ATOMIC_RELAXED) > 1 ? getenv(name) : NULL;
}

static ssize_t push_fn(gnutls_transport_ptr_t p, const void *data, size_t n)
{
	return send(((struct sock *)p)->fd, data, n, MSG_NOSIGNAL);
}

static ssize_t pull_fn(gnutls_transport_ptr_t p, void *data, size_t n)
{
	return recv(((struct sock *)p)->fd, data, n, 0);
}

/* Whether bytes can be read within ms: GnuTLS waits so in a blocking
 * handshake with a timeout, and would otherwise take the pointer for a
 * descriptor. >0 readable, 0 timed out, -1 error. */
static int pull_timeout_fn(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct pollfd pfd = { .fd = ((struct sock *)p)->fd, .events = POLLIN };
	int r;

	do
		r = poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Credentials for the sessions after the first (KW_TEST_SECOND_CA). */
static gnutls_certificate_credentials_t second_cred(void)
{
	const char *ca = second("KW_TEST_SECOND_CA"), *cc = second("KW_TEST_SECOND_CLIENT_CERT");
	char cert[512], *key;

	if (!ca && !cc)
		return cred;
	if (cred2)
		return cred2;
	if (gnutls_certificate_allocate_credentials(&cred2) < 0)
		return NULL;
	if (ca && gnutls_certificate_set_x509_trust_file(cred2, ca, GNUTLS_X509_FMT_PEM) <= 0)
		return NULL;
	if (cc) {
		snprintf(cert, sizeof cert, "%s", cc);
		if (!(key = strchr(cert, ':')))
			return NULL;
		*key++ = '\0';
		if (!ca && gnutls_certificate_set_x509_trust_file(cred2, getenv("KW_TEST_CA"),
		                                                  GNUTLS_X509_FMT_PEM) <= 0)
			return NULL;
		if (gnutls_certificate_set_x509_key_file(cred2, cert, key, GNUTLS_X509_FMT_PEM) < 0)
			return NULL;
	}
	return cred2;
}
struct gtls {
	gnutls_session_t s;
	struct sock *sock;
};

static void gerr(const char *what, int r)
{
	fprintf(stderr, "gnutls-client: %s: %s\n", what, gnutls_strerror(r));
}

static int g_init(const char *ca)
{
	int r = gnutls_global_init();

	if (r < 0 || (r = gnutls_certificate_allocate_credentials(&cred)) < 0) {
		gerr("init", r);
		return -1;
	}
	/* Verification disabled: no authority at all (--ca is not read). */
	if (getenv("KW_TEST_GNUTLS_VERIFY") && !strcmp(getenv("KW_TEST_GNUTLS_VERIFY"), "none"))
		return 0;
	/* The private CA only: the system's store is not loaded. */
	r = gnutls_certificate_set_x509_trust_file(cred, ca, GNUTLS_X509_FMT_PEM);
	if (r <= 0) {
		gerr(ca, r < 0 ? r : GNUTLS_E_NO_CERTIFICATE_FOUND);
		return -1;
	}
	return 0;
}

/* After GNUTLS_E_AGAIN: wait for what the session was doing. */
static int g_wait(struct gtls *g)
{
	return sock_wait(g->sock, gnutls_record_get_direction(g->s));
}

/* Whether a failed call may be retried (after a wait when it would block).
 * GNUTLS_E_AGAIN also comes on a blocking socket, after a TLS 1.3 session
 * ticket is taken in: nothing to wait for then, nor while GnuTLS holds
 * records already read. */
static int g_retry(struct gtls *g, int r)
{
	if (r == GNUTLS_E_INTERRUPTED)
		return 1;
	if (r != GNUTLS_E_AGAIN)
		return 0;
	if (!g->sock->nonblock || gnutls_record_check_pending(g->s) > 0)
		return 1;
	return g_wait(g) == 0;
}

static void *g_open(struct sock *sock, const struct url *u)
{
	struct gtls *g = calloc(1, sizeof *g);
	unsigned int status = 0;
	int r;

	if (!g)
		return NULL;
	const char *sni, *vhost, *alpn, *prio;
	const char *style = getenv("KW_TEST_GNUTLS_TRANSPORT"), *verify = getenv("KW_TEST_GNUTLS_VERIFY");
	gnutls_certificate_credentials_t cr;

	g->sock = sock;
	__atomic_add_fetch(&sessions, 1, __ATOMIC_RELAXED);
	sni = second("KW_TEST_SECOND_SNI");
	vhost = second("KW_TEST_SECOND_VERIFY_HOST");
	alpn = second("KW_TEST_SECOND_ALPN");
	prio = second("KW_TEST_SECOND_PRIO");
	if (!(cr = second_cred())) {
		gerr("second credentials", GNUTLS_E_INVALID_REQUEST);
		free(g);
		return NULL;
	}
	if (!sni && !u->host_is_ip)
		sni = u->host;
	r = gnutls_init(&g->s, GNUTLS_CLIENT | (sock->nonblock ? GNUTLS_NONBLOCK : 0) |
	                           (getenv("KW_TEST_GNUTLS_NO_TICKETS") || second("KW_TEST_SECOND_NO_TICKETS")
	                            ? GNUTLS_NO_TICKETS : 0));
	if (r < 0) {
		gerr("gnutls_init", r);
		free(g);
		return NULL;
	}
	if ((r = prio ? gnutls_priority_set_direct(g->s, prio, NULL) : gnutls_set_default_priority(g->s)) < 0 ||
	    (r = gnutls_credentials_set(g->s, GNUTLS_CRD_CERTIFICATE, cr)) < 0 ||
	    (sni && (r = gnutls_server_name_set(g->s, GNUTLS_NAME_DNS, sni, strlen(sni))) < 0)) {
		gerr("session set-up", r);
		goto fail;
	}
	if (alpn) {
		gnutls_datum_t p = { (unsigned char *)alpn, (unsigned)strlen(alpn) };
		if ((r = gnutls_alpn_set_protocols(g->s, &p, 1, 0)) < 0) {
			gerr("alpn", r);
			goto fail;
		}
	}
	/* The handshake fails unless the chain and the host name check out. */
	if (!verify || (strcmp(verify, "late") && strcmp(verify, "none")))
		gnutls_session_set_verify_cert(g->s, vhost ? vhost : u->host, 0);
	if (style && !strcmp(style, "pushpull")) {
		gnutls_transport_set_ptr(g->s, sock);
		gnutls_transport_set_push_function(g->s, push_fn);
		gnutls_transport_set_pull_function(g->s, pull_fn);
		gnutls_transport_set_pull_timeout_function(g->s, pull_timeout_fn);
	} else {
		gnutls_transport_set_int(g->s, sock->fd);
	}
	/* The library's default limit (40 s), or KW_TEST_HANDSHAKE_MS: a test
	 * of which limit wins, the program's or keepwarm's. */
	gnutls_handshake_set_timeout(g->s, getenv("KW_TEST_HANDSHAKE_MS")
	                                   ? (unsigned)atoi(getenv("KW_TEST_HANDSHAKE_MS"))
	                                   : GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
	mine = g->s;
	if (getenv("KW_TEST_GNUTLS_CALLBACKS")) {
		gnutls_session_set_keylog_function(g->s, keylog_fn);
		gnutls_alert_set_read_function(g->s, alert_fn);
	}
	for (int i = 0; i < 100000; i++) {
		r = gnutls_handshake(g->s);
		if (r >= 0 || (gnutls_error_is_fatal(r) && r != GNUTLS_E_AGAIN) ||
		    (r == GNUTLS_E_AGAIN && g_wait(g) != 0))
			break;
	}
	if (r < 0) {
		gerr("handshake", r);
		if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			gnutls_datum_t out;

			status = gnutls_session_get_verify_cert_status(g->s);
			if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
				fprintf(stderr, "gnutls-client: %s\n", out.data);
				gnutls_free(out.data);
			}
		}
		goto fail;
	}
	if (getenv("KW_TEST_GNUTLS_CALLBACKS"))
		gnutls_handshake_set_hook_function(g->s, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH, hook_fn);
	/* Checked again after the handshake, as programs that verify late do
	 * (not with verification disabled). */
	if (verify && !strcmp(verify, "none"))
		return g;
	r = gnutls_certificate_verify_peers3(g->s, vhost ? vhost : u->host, &status);
	if (r < 0 || status != 0) {
		fprintf(stderr, "gnutls-client: certificate of %s not verified (status 0x%x)\n", u->host, status);
		goto fail;
	}
	return g;
fail:
	gnutls_deinit(g->s);
	free(g);
	return NULL;
}

static ssize_t g_read(void *c, void *buf, size_t n)
{
	struct gtls *g = c;

	mine = g->s;
	for (int i = 0; i < 100000; i++) {
		ssize_t r = gnutls_record_recv(g->s, buf, n);

		if (r >= 0)
			return r;
		if (!g_retry(g, (int)r)) {
			gerr("gnutls_record_recv", (int)r);
			return -1;
		}
	}
	return -1;
}

static int g_write(void *c, const void *buf, size_t n)
{
	struct gtls *g = c;
	const char *p = buf;

	mine = g->s;
	for (int i = 0; n > 0 && i < 100000; i++) {
		/* After GNUTLS_E_AGAIN the same data is passed again. */
		ssize_t r = gnutls_record_send(g->s, p, n);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (!g_retry(g, (int)r)) {
			gerr("gnutls_record_send", (int)r);
			return -1;
		}
	}
	return n == 0 ? 0 : -1;
}

/* close_notify (not waiting for the server's), then the session goes;
 * the caller closes the socket. */
static void g_close(void *c)
{
	struct gtls *g = c;
	int r;

	const char *teardown = getenv("KW_TEST_GNUTLS_TEARDOWN");

	for (int i = 0; !(teardown && !strcmp(teardown, "deinit")) && i < 1000; i++) {
		r = gnutls_bye(g->s, GNUTLS_SHUT_WR);
		if (r >= 0 || !g_retry(g, r))
			break;
	}
	gnutls_deinit(g->s);
	free(g);
}

static int g_sha256(const void *buf, size_t n, char hex[65])
{
	unsigned char md[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, n, md) < 0)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct tls_ops ops = {
		.init = g_init, .open = g_open, .read = g_read,
		.write = g_write, .close = g_close, .sha256_hex = g_sha256,
	};
	int rc = tls_client_main(argc, argv, &ops);

	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (cred2)
		gnutls_certificate_free_credentials(cred2);
	gnutls_global_deinit();
	return rc;
}
