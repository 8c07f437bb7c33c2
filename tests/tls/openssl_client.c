/* openssl_client.c - an HTTPS/1.1 client written directly on OpenSSL 3,
 * for keepwarm's TLS tests (usage in tls_common.c). The certificate is
 * checked against --ca and the URL's host (SSL_set1_host takes a name or an
 * IP address); SNI is sent for names. KW_TEST_OPENSSL_UP_REF=1: after the
 * handshake, another reference to the SSL (SSL_up_ref), dropped again at
 * once (SSL_free), as a program that hands its SSL around does.
 * KW_TEST_OPENSSL_CALLBACKS=1: a client session cache with a new-session
 * callback on the context, an info callback and the session's own object
 * in ex_data on each SSL; every callback checks that the SSL it is given
 * is the program's own open one (its ex_data leads back to it). At exit,
 * stderr says how many were not ("callbacks: N with another SSL"), and
 * KW_TEST_CALLBACK_LOG=FILE gets how many new-session and info callbacks
 * came (they differ with reuse: fewer handshakes). */
#include "tls_common.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>

static SSL_CTX *ctx;
static int ex_index = -1;
static _Atomic unsigned long cb_new_session, cb_info, cb_foreign;

struct otls {
	SSL *ssl;
	struct sock *sock;
};

/* Is ssl one of the program's open sessions (its ex_data leads back to
 * an object that holds it)? */
static bool own_ssl(const SSL *ssl)
{
	struct otls *o = ex_index >= 0 ? SSL_get_ex_data(ssl, ex_index) : NULL;

	return o && o->ssl == ssl;
}

static void oerr(const char *what)
{
	fprintf(stderr, "openssl-client: %s\n", what);
	ERR_print_errors_fp(stderr);
}

static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	(void)sess;
	cb_new_session++;
	if (!own_ssl(ssl))
		cb_foreign++;
	return 0; /* not kept: the library frees it */
}

static void on_info(const SSL *ssl, int where, int ret)
{
	(void)where;
	(void)ret;
	cb_info++;
	if (!own_ssl(ssl))
		cb_foreign++;
}

static int o_init(const char *ca)
{
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		oerr("SSL_CTX_new");
		return -1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (getenv("KW_TEST_OPENSSL_CALLBACKS")) {
		ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
		                                        SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* The private CA only: the system's store is not loaded. */
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		oerr(ca);
		return -1;
	}
	return 0;
}

/* After r from an SSL_* call: 1 to call again (having waited for what
 * OpenSSL wants), 0 for a clean end of stream, -1 for an error. */
static int o_again(struct otls *o, int r, const char *what)
{
	int e = SSL_get_error(o->ssl, r);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return sock_wait(o->sock, e == SSL_ERROR_WANT_WRITE) == 0 ? 1 : -1;
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	fprintf(stderr, "openssl-client: %s: SSL error %d\n", what, e);
	ERR_print_errors_fp(stderr);
	return -1;
}

static void *o_open(struct sock *sock, const struct url *u)
{
	struct otls *o = calloc(1, sizeof *o);
	int r = -1;
	long v;

	if (!o)
		return NULL;
	o->sock = sock;
	o->ssl = SSL_new(ctx);
	if (o->ssl && ex_index >= 0) {
		SSL_set_ex_data(o->ssl, ex_index, o);
		SSL_set_info_callback(o->ssl, on_info);
	}
	if (!o->ssl || SSL_set_fd(o->ssl, sock->fd) != 1 || SSL_set1_host(o->ssl, u->host) != 1 ||
	    (!u->host_is_ip && SSL_set_tlsext_host_name(o->ssl, u->host) != 1)) {
		oerr("session set-up");
		goto fail;
	}
	for (int i = 0; i < 100000; i++) {
		r = SSL_connect(o->ssl);
		if (r == 1 || o_again(o, r, "SSL_connect") != 1)
			break;
	}
	v = SSL_get_verify_result(o->ssl);
	if (r != 1 || v != X509_V_OK) {
		fprintf(stderr, "openssl-client: handshake with %s failed (verify: %s)\n", u->host,
			X509_verify_cert_error_string(v));
		goto fail;
	}
	if (getenv("KW_TEST_OPENSSL_UP_REF")) {
		if (SSL_up_ref(o->ssl) != 1) {
			fprintf(stderr, "openssl-client: SSL_up_ref failed\n");
			goto fail;
		}
		SSL_free(o->ssl); /* one of two references: the SSL lives on */
	}
	return o;
fail:
	SSL_free(o->ssl);
	free(o);
	return NULL;
}

static ssize_t o_read(void *c, void *buf, size_t n)
{
	struct otls *o = c;

	for (int i = 0; i < 100000; i++) {
		int r = SSL_read(o->ssl, buf, n > INT_MAX ? INT_MAX : (int)n), a;

		if (r > 0)
			return r;
		a = o_again(o, r, "SSL_read");
		if (a != 1)
			return a;
	}
	return -1;
}

static int o_write(void *c, const void *buf, size_t n)
{
	struct otls *o = c;
	const char *p = buf;

	for (int i = 0; n > 0 && i < 100000; i++) {
		/* Without partial writes, a retry repeats the same arguments. */
		int r = SSL_write(o->ssl, p, n > INT_MAX ? INT_MAX : (int)n);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (o_again(o, r, "SSL_write") != 1) {
			return -1;
		}
	}
	return n == 0 ? 0 : -1;
}

/* close_notify (0: sent, the server's not awaited), then the session
 * goes; the caller closes the socket. */
static void o_close(void *c)
{
	struct otls *o = c;

	for (int i = 0; i < 1000; i++) {
		int r = SSL_shutdown(o->ssl), e;

		if (r >= 0)
			break;
		e = SSL_get_error(o->ssl, r);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    sock_wait(o->sock, e == SSL_ERROR_WANT_WRITE) != 0)
			break;
	}
	ERR_clear_error();
	SSL_free(o->ssl);
	free(o);
}

static int o_sha256(const void *buf, size_t n, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_Digest(buf, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return -1;
	for (unsigned int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct tls_ops ops = {
		.init = o_init, .open = o_open, .read = o_read,
		.write = o_write, .close = o_close, .sha256_hex = o_sha256,
	};
	int rc = tls_client_main(argc, argv, &ops);
	const char *log = getenv("KW_TEST_CALLBACK_LOG");

	if (ex_index >= 0) {
		FILE *f = log ? fopen(log, "a") : NULL;
		fprintf(stderr, "openssl-client: callbacks: %lu with another SSL\n",
		        (unsigned long)cb_foreign);
		if (f) {
			fprintf(f, "new-session %lu info %lu\n", (unsigned long)cb_new_session,
			        (unsigned long)cb_info);
			fclose(f);
		}
	}
	SSL_CTX_free(ctx);
	return rc;
}
