/* route_check_ssl.c - route_check.c's counterpart for OpenSSL: after an
 * SSL_connect to 127.0.0.1:PORT (SNI "localhost", the certificate verified
 * against CA-FILE), asks the SSL the same questions twice: through the
 * program's own calls (its GOT, which keepwarm redirects to its
 * trampolines) and through libssl's functions found with dlvsym (never
 * redirected). Functions of one to eight arguments, two of them on the
 * stack; pointers, strings, buffers filled, 8-, 32- and 64-bit integers by
 * value; SSL_ctrl with several commands; settings made through one way read
 * back through the other. Prints how many answers agreed and which object
 * the program's &SSL_get_version is in; exits 1 at the first disagreement.
 *
 *   route_check_ssl CA-FILE PORT */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VERSION "OPENSSL_3.0.0"

static void *lib;
static int agreed;

static void *direct(const char *name)
{
	void *f = dlvsym(lib, name, VERSION);

	if (!f) {
		fprintf(stderr, "route_check_ssl: %s@%s: %s\n", name, VERSION, dlerror());
		exit(1);
	}
	return f;
}

/* libssl's own f, with f's own type. */
#define D(f) ((__typeof__(&f))direct(#f))

static void differs(const char *what, const char *how)
{
	fprintf(stderr, "route_check_ssl: %s differs through the GOT: %s\n", what, how);
	exit(1);
}

static void num(const char *what, long long a, long long b)
{
	char how[96];

	if (a != b) {
		snprintf(how, sizeof how, "%lld, directly %lld", a, b);
		differs(what, how);
	}
	agreed++;
}

static void ptr(const char *what, const void *a, const void *b)
{
	char how[96];

	if (a != b) {
		snprintf(how, sizeof how, "%p, directly %p", a, b);
		differs(what, how);
	}
	agreed++;
}

static void str(const char *what, const char *a, const char *b)
{
	char how[600];

	if (a != b && (!a || !b || strcmp(a, b))) {
		snprintf(how, sizeof how, "\"%.250s\", directly \"%.250s\"", a ? a : "(null)",
		         b ? b : "(null)");
		differs(what, how);
	}
	agreed++;
}

static void mem(const char *what, const void *a, const void *b, size_t n)
{
	if (memcmp(a, b, n))
		differs(what, "other bytes");
	agreed++;
}

/* The error the last call left (0 for none), the queue emptied. */
static unsigned long take_err(void)
{
	unsigned long e = ERR_peek_last_error();

	ERR_clear_error();
	return e;
}

/* f(args) through the GOT and directly: the same number, pointer, string. */
#define SAME_NUM(f, ...) num(#f "(" #__VA_ARGS__ ")", (long long)f(__VA_ARGS__), \
                             (long long)D(f)(__VA_ARGS__))
#define SAME_PTR(f, ...) ptr(#f "(" #__VA_ARGS__ ")", (const void *)f(__VA_ARGS__), \
                             (const void *)D(f)(__VA_ARGS__))
#define SAME_STR(f, ...) str(#f "(" #__VA_ARGS__ ")", f(__VA_ARGS__), D(f)(__VA_ARGS__))
/* SSL_ctrl(s, cmd, larg, NULL) both ways. */
#define SAME_CTRL(cmd, larg) num("SSL_ctrl(s, " #cmd ", " #larg ", NULL)", \
                                 SSL_ctrl(s, cmd, larg, NULL), D(SSL_ctrl)(s, cmd, larg, NULL))

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("route_check_ssl: connect");
		exit(1);
	}
	return fd;
}

static void info_cb(const SSL *s, int where, int ret)
{
	(void)s, (void)where, (void)ret;
}

static const unsigned char alpn[] = "\x08http/1.1";

/* Before the handshake: what the connection is set up with, both ways
 * (setting twice the same is harmless). */
static void setup(SSL *s)
{
	SAME_NUM(SSL_set_alpn_protos, s, alpn, sizeof alpn - 1);
	SAME_NUM(SSL_set1_host, s, "localhost");
	SAME_NUM(SSL_ctrl, s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
	         (void *)"localhost");
	SAME_NUM(SSL_in_before, s);
	SAME_NUM(SSL_is_init_finished, s);
	SAME_STR(SSL_state_string_long, s);
}

/* One argument: the SSL only. */
static void one(SSL *s)
{
	const char *(*volatile get_version)(const SSL *) = SSL_get_version;
	const SSL_CIPHER *c1 = SSL_get_current_cipher(s), *c2 = D(SSL_get_current_cipher)(s);
	X509 *x1, *x2;
	SSL_SESSION *ss1, *ss2;
	STACK_OF(SSL_CIPHER) *sk1, *sk2;

	SAME_STR(SSL_get_version, s);
	str("SSL_get_version(s) (its address)", get_version(s), D(SSL_get_version)(s));
	ptr("SSL_get_current_cipher(s)", c1, c2);
	str("SSL_CIPHER_get_name(SSL_get_current_cipher(s))", SSL_CIPHER_get_name(c1),
	    SSL_CIPHER_get_name(c2));
	SAME_PTR(SSL_get_pending_cipher, s);
	x1 = SSL_get1_peer_certificate(s);
	x2 = D(SSL_get1_peer_certificate)(s);
	ptr("SSL_get1_peer_certificate(s)", x1, x2);
	X509_free(x1);
	X509_free(x2);
	SAME_PTR(SSL_get0_peer_certificate, s);
	SAME_PTR(SSL_get_peer_cert_chain, s);
	SAME_PTR(SSL_get0_verified_chain, s);
	SAME_NUM(SSL_get_verify_result, s);
	SAME_NUM(SSL_get_verify_mode, s);
	SAME_NUM(SSL_get_verify_depth, s);
	SAME_PTR(SSL_get_verify_callback, s);
	SAME_STR(SSL_get0_peername, s);
	SAME_NUM(SSL_get_servername_type, s);
	SAME_NUM(SSL_pending, s);
	SAME_NUM(SSL_has_pending, s);
	SAME_NUM(SSL_get_fd, s);
	SAME_NUM(SSL_get_rfd, s);
	SAME_NUM(SSL_get_wfd, s);
	SAME_PTR(SSL_get_rbio, s);
	SAME_PTR(SSL_get_wbio, s);
	SAME_PTR(SSL_get_SSL_CTX, s);
	SAME_PTR(SSL_get0_param, s);
	SAME_PTR(SSL_get_ssl_method, s);
	SAME_PTR(SSL_get_session, s);
	ss1 = SSL_get1_session(s);
	ss2 = D(SSL_get1_session)(s);
	ptr("SSL_get1_session(s)", ss1, ss2);
	SSL_SESSION_free(ss1);
	SSL_SESSION_free(ss2);
	SAME_PTR(SSL_get_ciphers, s);
	SAME_PTR(SSL_get_client_ciphers, s);
	sk1 = SSL_get1_supported_ciphers(s);
	sk2 = D(SSL_get1_supported_ciphers)(s);
	num("sk_SSL_CIPHER_num(SSL_get1_supported_ciphers(s))", sk_SSL_CIPHER_num(sk1),
	    sk_SSL_CIPHER_num(sk2));
	for (int i = 0; i < sk_SSL_CIPHER_num(sk1); i++)
		if (sk_SSL_CIPHER_value(sk1, i) != sk_SSL_CIPHER_value(sk2, i))
			differs("SSL_get1_supported_ciphers(s)", "another cipher");
	agreed++;
	sk_SSL_CIPHER_free(sk1);
	sk_SSL_CIPHER_free(sk2);
	SAME_PTR(SSL_get0_CA_list, s);
	SAME_PTR(SSL_get0_peer_CA_list, s);
	SAME_PTR(SSL_get_client_CA_list, s);
	SAME_PTR(SSL_get_certificate, s);
	SAME_PTR(SSL_get_privatekey, s);
	SAME_PTR(SSL_get_current_compression, s);
	SAME_PTR(SSL_get_current_expansion, s);
	SAME_PTR(SSL_get_selected_srtp_profile, s);
	SAME_PTR(SSL_get_srtp_profiles, s);
	SAME_STR(SSL_get_psk_identity, s);
	SAME_STR(SSL_get_psk_identity_hint, s);
	SAME_NUM(SSL_version, s);
	SAME_NUM(SSL_client_version, s);
	SAME_NUM(SSL_is_server, s);
	SAME_NUM(SSL_is_dtls, s);
	SAME_NUM(SSL_in_init, s);
	SAME_NUM(SSL_in_before, s);
	SAME_NUM(SSL_is_init_finished, s);
	SAME_NUM(SSL_get_state, s);
	SAME_STR(SSL_state_string, s);
	SAME_STR(SSL_state_string_long, s);
	SAME_STR(SSL_rstate_string, s);
	SAME_STR(SSL_rstate_string_long, s);
	SAME_NUM(SSL_want, s);
	SAME_NUM(SSL_session_reused, s);
	SAME_NUM(SSL_renegotiate_pending, s);
	SAME_NUM(SSL_get_options, s);
	SAME_NUM(SSL_get_shutdown, s);
	SAME_NUM(SSL_get_quiet_shutdown, s);
	SAME_NUM(SSL_get_read_ahead, s);
	SAME_NUM(SSL_get_security_level, s);
	SAME_PTR(SSL_get_security_callback, s);
	SAME_PTR(SSL_get0_security_ex_data, s);
	SAME_NUM(SSL_get_default_timeout, s);
	SAME_NUM(SSL_get_early_data_status, s);
	SAME_NUM(SSL_get_max_early_data, s);
	SAME_NUM(SSL_get_recv_max_early_data, s);
	SAME_NUM(SSL_get_num_tickets, s);
	SAME_NUM(SSL_get_key_update_type, s);
	SAME_NUM(SSL_waiting_for_async, s);
	SAME_NUM(SSL_client_hello_isv2, s);
	SAME_PTR(SSL_get_info_callback, s);
	SAME_PTR(SSL_get_default_passwd_cb, s);
	SAME_PTR(SSL_get_default_passwd_cb_userdata, s);
	SAME_PTR(SSL_get_record_padding_callback_arg, s);
	SAME_PTR(SSL_get0_dane, s);
}

/* Two and three: an integer, buffers and pointers filled. */
static void two_three(SSL *s)
{
	unsigned char b1[256], b2[256], id[2];
	const unsigned char *p1 = NULL, *p2 = NULL;
	unsigned l1 = 7, l2 = 7;
	const SSL_CIPHER *c = SSL_get_current_cipher(s);
	const SSL_SESSION *sess = SSL_get_session(s);
	const unsigned char *sid;
	unsigned sidlen = 0;
	int n1 = -7, n2 = -7, r1, r2;
	size_t z1, z2;
	char *q1, *q2;

	SAME_NUM(SSL_get_error, s, 1);
	SAME_NUM(SSL_get_error, s, 0);
	SAME_NUM(SSL_get_error, s, -1);
	take_err();
	SAME_STR(SSL_get_servername, s, TLSEXT_NAMETYPE_host_name);
	SAME_STR(SSL_get_servername, s, 1);
	for (int i = 0; i < 4; i++)
		SAME_STR(SSL_get_cipher_list, s, i);
	SAME_STR(SSL_get_cipher_list, s, 100000);
	id[0] = (unsigned char)(SSL_CIPHER_get_protocol_id(c) >> 8);
	id[1] = (unsigned char)SSL_CIPHER_get_protocol_id(c);
	SAME_PTR(SSL_CIPHER_find, s, id);
	ptr("SSL_CIPHER_find(s, the current cipher's id)", SSL_CIPHER_find(s, id), c);
	SAME_PTR(SSL_CIPHER_find, s, (const unsigned char *)"\xff\xfe");
	take_err();
	SAME_STR(SSL_group_to_name, s, (int)SSL_get_negotiated_group(s));
	SAME_STR(SSL_group_to_name, s, NID_X9_62_prime256v1);
	r1 = SSL_get_peer_signature_type_nid(s, &n1);
	r2 = D(SSL_get_peer_signature_type_nid)(s, &n2);
	num("SSL_get_peer_signature_type_nid(s, &nid)", r1, r2);
	num("SSL_get_peer_signature_type_nid(s, &nid)'s nid", n1, n2);
	n1 = n2 = -7;
	r1 = SSL_get_signature_type_nid(s, &n1);
	r2 = D(SSL_get_signature_type_nid)(s, &n2);
	num("SSL_get_signature_type_nid(s, &nid)", r1, r2);
	num("SSL_get_signature_type_nid(s, &nid)'s nid", n1, n2);
	n1 = n2 = -7;
	r1 = SSL_get_async_status(s, &n1);
	r2 = D(SSL_get_async_status)(s, &n2);
	num("SSL_get_async_status(s, &status)", r1, r2);
	num("SSL_get_async_status(s, &status)'s status", n1, n2);
	take_err();

	/* Three: a buffer and its size. */
#define SAME_BUF(f, size)                                                           \
	do {                                                                        \
		memset(b1, 0xa5, sizeof b1);                                        \
		memset(b2, 0xa5, sizeof b2);                                        \
		z1 = f(s, b1, size);                                                \
		z2 = D(f)(s, b2, size);                                             \
		num(#f "(s, buf, " #size ")", (long long)z1, (long long)z2);       \
		mem(#f "(s, buf, " #size ")'s bytes", b1, b2, sizeof b1);           \
	} while (0)
	SAME_BUF(SSL_get_finished, sizeof b1);
	SAME_BUF(SSL_get_finished, 5);
	SAME_BUF(SSL_get_peer_finished, sizeof b1);
	SAME_BUF(SSL_get_peer_finished, 0);
	SAME_BUF(SSL_get_client_random, 32);
	SAME_BUF(SSL_get_client_random, 0);
	SAME_BUF(SSL_get_server_random, 32);
	SAME_BUF(SSL_get_server_random, 11);
#undef SAME_BUF
	memset(b1, 'x', sizeof b1);
	memset(b2, 'x', sizeof b2);
	q1 = SSL_get_shared_ciphers(s, (char *)b1, (int)sizeof b1);
	q2 = D(SSL_get_shared_ciphers)(s, (char *)b2, (int)sizeof b2);
	num("SSL_get_shared_ciphers(s, buf, sizeof buf) is NULL", !q1, !q2);
	mem("SSL_get_shared_ciphers(s, buf, sizeof buf)'s bytes", b1, b2, sizeof b1);
	SSL_get0_alpn_selected(s, &p1, &l1);
	D(SSL_get0_alpn_selected)(s, &p2, &l2);
	ptr("SSL_get0_alpn_selected(s, &data, &len)'s data", p1, p2);
	num("SSL_get0_alpn_selected(s, &data, &len)'s len", l1, l2);
	p1 = p2 = (const unsigned char *)"";
	l1 = l2 = 7;
	SSL_get0_next_proto_negotiated(s, &p1, &l1);
	D(SSL_get0_next_proto_negotiated)(s, &p2, &l2);
	ptr("SSL_get0_next_proto_negotiated(s, &data, &len)'s data", p1, p2);
	num("SSL_get0_next_proto_negotiated(s, &data, &len)'s len", l1, l2);
	sid = SSL_SESSION_get_id(sess, &sidlen);
	SAME_NUM(SSL_has_matching_session_id, s, sid, sidlen);
	SAME_NUM(SSL_has_matching_session_id, s, (const unsigned char *)"nothing like it", 15);
	{
		X509 *m1 = (X509 *)1, *m2 = (X509 *)1;
		EVP_PKEY *k1 = (EVP_PKEY *)2, *k2 = (EVP_PKEY *)2;

		r1 = SSL_get0_dane_authority(s, &m1, &k1);
		r2 = D(SSL_get0_dane_authority)(s, &m2, &k2);
		num("SSL_get0_dane_authority(s, &mcert, &mspki)", r1, r2);
		ptr("SSL_get0_dane_authority(s, &mcert, &mspki)'s mcert", m1, m2);
		ptr("SSL_get0_dane_authority(s, &mcert, &mspki)'s mspki", k1, k2);
	}
	{
		OSSL_ASYNC_FD fds1[4] = { -3, -3, -3, -3 }, fds2[4] = { -3, -3, -3, -3 };
		size_t nf1 = 4, nf2 = 4;

		r1 = SSL_get_all_async_fds(s, NULL, &nf1);
		r2 = D(SSL_get_all_async_fds)(s, NULL, &nf2);
		num("SSL_get_all_async_fds(s, NULL, &numfds)", r1, r2);
		num("SSL_get_all_async_fds(s, NULL, &numfds)'s numfds", (long long)nf1, (long long)nf2);
		r1 = SSL_get_all_async_fds(s, fds1, &nf1);
		r2 = D(SSL_get_all_async_fds)(s, fds2, &nf2);
		num("SSL_get_all_async_fds(s, fds, &numfds)", r1, r2);
		mem("SSL_get_all_async_fds(s, fds, &numfds)'s fds", fds1, fds2, sizeof fds1);
	}
	take_err();
}

/* SSL_ctrl (four arguments: the command, a long, a pointer) with commands
 * that read, and a few that set what they read back. */
static void ctrl(SSL *s)
{
	long r1, r2;

	SAME_CTRL(SSL_CTRL_GET_MAX_PROTO_VERSION, 0);
	SAME_CTRL(SSL_CTRL_GET_MIN_PROTO_VERSION, 0);
	SAME_CTRL(SSL_CTRL_GET_NEGOTIATED_GROUP, 0);
	SAME_CTRL(SSL_CTRL_GET_RI_SUPPORT, 0);
	SAME_CTRL(SSL_CTRL_GET_EXTMS_SUPPORT, 0);
	SAME_CTRL(SSL_CTRL_GET_MAX_CERT_LIST, 0);
	SAME_CTRL(SSL_CTRL_GET_READ_AHEAD, 0);
	SAME_CTRL(SSL_CTRL_GET_TLSEXT_STATUS_REQ_TYPE, 0);
	SAME_CTRL(SSL_CTRL_GET_TOTAL_RENEGOTIATIONS, 0);
	SAME_CTRL(SSL_CTRL_GET_NUM_RENEGOTIATIONS, 0);
	SAME_CTRL(SSL_CTRL_GET_CLIENT_CERT_REQUEST, 0);
	SAME_CTRL(SSL_CTRL_GET_SHARED_GROUP, -1);
	SAME_CTRL(SSL_CTRL_GET_SHARED_GROUP, 0);
	SAME_CTRL(SSL_CTRL_GET_GROUPS, 0);
	SAME_CTRL(SSL_CTRL_GET_RAW_CIPHERLIST, 0);
	SAME_CTRL(SSL_CTRL_GET_CLIENT_CERT_TYPES, 0);
	SAME_CTRL(SSL_CTRL_MODE, 0);
	SAME_CTRL(SSL_CTRL_MODE, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SAME_CTRL(SSL_CTRL_CLEAR_MODE, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SAME_CTRL(SSL_CTRL_MODE, 0);
	/* The maximum set through one way, read through the other. */
	r1 = SSL_ctrl(s, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL);
	num("SSL_ctrl(s, SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_3_VERSION, NULL)",
	    SSL_ctrl(s, SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_3_VERSION, NULL),
	    D(SSL_ctrl)(s, SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_3_VERSION, NULL));
	num("SSL_CTRL_SET_MAX_PROTO_VERSION then SSL_CTRL_GET_MAX_PROTO_VERSION",
	    SSL_ctrl(s, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL),
	    D(SSL_ctrl)(s, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL));
	D(SSL_ctrl)(s, SSL_CTRL_SET_MAX_PROTO_VERSION, r1, NULL);
	num("SSL_CTRL_SET_MAX_PROTO_VERSION directly, then SSL_CTRL_GET_MAX_PROTO_VERSION",
	    SSL_ctrl(s, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL), r1);
	r1 = SSL_ctrl(s, SSL_CTRL_SET_MAX_CERT_LIST, 123456, NULL);
	r2 = D(SSL_ctrl)(s, SSL_CTRL_GET_MAX_CERT_LIST, 0, NULL);
	num("SSL_CTRL_SET_MAX_CERT_LIST 123456, then SSL_CTRL_GET_MAX_CERT_LIST directly", r2, 123456);
	D(SSL_ctrl)(s, SSL_CTRL_SET_MAX_CERT_LIST, r1, NULL);
	num("SSL_CTRL_SET_MAX_CERT_LIST back directly, then SSL_CTRL_GET_MAX_CERT_LIST",
	    SSL_ctrl(s, SSL_CTRL_GET_MAX_CERT_LIST, 0, NULL), r1);
	/* Answers through parg. */
	{
		int n1 = -7, n2 = -7;

		num("SSL_ctrl(s, SSL_CTRL_GET_PEER_SIGNATURE_NID, 0, &nid)",
		    SSL_ctrl(s, SSL_CTRL_GET_PEER_SIGNATURE_NID, 0, &n1),
		    D(SSL_ctrl)(s, SSL_CTRL_GET_PEER_SIGNATURE_NID, 0, &n2));
		num("SSL_ctrl(s, SSL_CTRL_GET_PEER_SIGNATURE_NID, 0, &nid)'s nid", n1, n2);
		n1 = n2 = -7;
		num("SSL_ctrl(s, SSL_CTRL_GET_SIGNATURE_NID, 0, &nid)",
		    SSL_ctrl(s, SSL_CTRL_GET_SIGNATURE_NID, 0, &n1),
		    D(SSL_ctrl)(s, SSL_CTRL_GET_SIGNATURE_NID, 0, &n2));
		num("SSL_ctrl(s, SSL_CTRL_GET_SIGNATURE_NID, 0, &nid)'s nid", n1, n2);
	}
	{
		EVP_PKEY *k1 = NULL, *k2 = NULL;

		num("SSL_ctrl(s, SSL_CTRL_GET_PEER_TMP_KEY, 0, &key)",
		    SSL_ctrl(s, SSL_CTRL_GET_PEER_TMP_KEY, 0, &k1),
		    D(SSL_ctrl)(s, SSL_CTRL_GET_PEER_TMP_KEY, 0, &k2));
		ptr("SSL_ctrl(s, SSL_CTRL_GET_PEER_TMP_KEY, 0, &key)'s key", k1, k2);
		EVP_PKEY_free(k1);
		EVP_PKEY_free(k2);
	}
	{
		const unsigned char *f1 = NULL, *f2 = NULL;
		STACK_OF(X509) *c1 = NULL, *c2 = NULL;
		X509_STORE *st1 = NULL, *st2 = NULL;

		num("SSL_ctrl(s, SSL_CTRL_GET_EC_POINT_FORMATS, 0, &formats)",
		    SSL_ctrl(s, SSL_CTRL_GET_EC_POINT_FORMATS, 0, &f1),
		    D(SSL_ctrl)(s, SSL_CTRL_GET_EC_POINT_FORMATS, 0, &f2));
		ptr("SSL_ctrl(s, SSL_CTRL_GET_EC_POINT_FORMATS, 0, &formats)'s formats", f1, f2);
		num("SSL_ctrl(s, SSL_CTRL_GET_CHAIN_CERTS, 0, &chain)",
		    SSL_ctrl(s, SSL_CTRL_GET_CHAIN_CERTS, 0, &c1),
		    D(SSL_ctrl)(s, SSL_CTRL_GET_CHAIN_CERTS, 0, &c2));
		ptr("SSL_ctrl(s, SSL_CTRL_GET_CHAIN_CERTS, 0, &chain)'s chain", c1, c2);
		num("SSL_ctrl(s, SSL_CTRL_GET_VERIFY_CERT_STORE, 0, &store)",
		    SSL_ctrl(s, SSL_CTRL_GET_VERIFY_CERT_STORE, 0, &st1),
		    D(SSL_ctrl)(s, SSL_CTRL_GET_VERIFY_CERT_STORE, 0, &st2));
		ptr("SSL_ctrl(s, SSL_CTRL_GET_VERIFY_CERT_STORE, 0, &store)'s store", st1, st2);
		f1 = f2 = NULL;
		num("SSL_ctrl(s, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, &resp)",
		    SSL_ctrl(s, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, &f1),
		    D(SSL_ctrl)(s, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, &f2));
		ptr("SSL_ctrl(s, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, &resp)'s resp", f1, f2);
	}
	/* A command it does not know: 0, both ways. */
	SAME_CTRL(99999, 5);
	take_err();
}

/* Settings made one way, read back both ways; each put back. */
static void round_trips(SSL *s)
{
	static int a, b;
	int idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	uint64_t o1, o2, before = SSL_get_options(s);
	int depth = SSL_get_verify_depth(s), level = SSL_get_security_level(s);

	if (idx < 0) {
		fprintf(stderr, "route_check_ssl: SSL_get_ex_new_index failed\n");
		exit(1);
	}
	SAME_PTR(SSL_get_ex_data, s, idx);
	num("SSL_set_ex_data(s, idx, &a)", SSL_set_ex_data(s, idx, &a), 1);
	SAME_PTR(SSL_get_ex_data, s, idx);
	ptr("SSL_set_ex_data(s, idx, &a), then SSL_get_ex_data(s, idx) directly",
	    D(SSL_get_ex_data)(s, idx), &a);
	num("SSL_set_ex_data(s, idx, &b) directly", D(SSL_set_ex_data)(s, idx, &b), 1);
	ptr("SSL_set_ex_data(s, idx, &b) directly, then SSL_get_ex_data(s, idx)",
	    SSL_get_ex_data(s, idx), &b);
	SAME_PTR(SSL_get_ex_data, s, idx);
	SAME_PTR(SSL_get_ex_data, s, idx + 1000);

	/* A 64-bit option (bit 33 and up are not used by this libssl: kept
	 * nonetheless, the field being 64 bits wide). */
	o1 = SSL_set_options(s, SSL_OP_IGNORE_UNEXPECTED_EOF | ((uint64_t)1 << 62));
	o2 = D(SSL_set_options)(s, SSL_OP_IGNORE_UNEXPECTED_EOF | ((uint64_t)1 << 62));
	num("SSL_set_options(s, SSL_OP_IGNORE_UNEXPECTED_EOF | 1 << 62)", (long long)o1, (long long)o2);
	SAME_NUM(SSL_get_options, s);
	o1 = SSL_clear_options(s, ~before);
	o2 = D(SSL_clear_options)(s, ~before);
	num("SSL_clear_options(s, ~the options before)", (long long)o1, (long long)o2);
	num("SSL_clear_options(s, ~the options before), then SSL_get_options(s)",
	    (long long)D(SSL_get_options)(s), (long long)before);

	SSL_set_verify_depth(s, 7);
	SAME_NUM(SSL_get_verify_depth, s);
	num("SSL_set_verify_depth(s, 7), then SSL_get_verify_depth(s) directly",
	    D(SSL_get_verify_depth)(s), 7);
	D(SSL_set_verify_depth)(s, depth);
	num("SSL_set_verify_depth(s, depth) directly, then SSL_get_verify_depth(s)",
	    SSL_get_verify_depth(s), depth);

	SSL_set_security_level(s, level + 1);
	num("SSL_set_security_level(s, level + 1), then SSL_get_security_level(s) directly",
	    D(SSL_get_security_level)(s), level + 1);
	D(SSL_set_security_level)(s, level);
	num("SSL_set_security_level(s, level) directly, then SSL_get_security_level(s)",
	    SSL_get_security_level(s), level);

	SSL_set_quiet_shutdown(s, 1);
	num("SSL_set_quiet_shutdown(s, 1), then SSL_get_quiet_shutdown(s) directly",
	    D(SSL_get_quiet_shutdown)(s), 1);
	D(SSL_set_quiet_shutdown)(s, 0);
	num("SSL_set_quiet_shutdown(s, 0) directly, then SSL_get_quiet_shutdown(s)",
	    SSL_get_quiet_shutdown(s), 0);

	SSL_set_info_callback(s, info_cb);
	ptr("SSL_set_info_callback(s, cb), then SSL_get_info_callback(s) directly",
	    (const void *)D(SSL_get_info_callback)(s), (const void *)info_cb);
	D(SSL_set_info_callback)(s, NULL);
	ptr("SSL_set_info_callback(s, NULL) directly, then SSL_get_info_callback(s)",
	    (const void *)SSL_get_info_callback(s), NULL);

	SSL_set_default_passwd_cb_userdata(s, &a);
	ptr("SSL_set_default_passwd_cb_userdata(s, &a), then its get directly",
	    D(SSL_get_default_passwd_cb_userdata)(s), &a);
	D(SSL_set_default_passwd_cb_userdata)(s, NULL);
	ptr("SSL_set_default_passwd_cb_userdata(s, NULL) directly, then its get",
	    SSL_get_default_passwd_cb_userdata(s), NULL);

	SSL_set_record_padding_callback_arg(s, &b);
	ptr("SSL_set_record_padding_callback_arg(s, &b), then its get directly",
	    D(SSL_get_record_padding_callback_arg)(s), &b);
	D(SSL_set_record_padding_callback_arg)(s, NULL);
	ptr("SSL_set_record_padding_callback_arg(s, NULL) directly, then its get",
	    SSL_get_record_padding_callback_arg(s), NULL);

	/* 32-bit and size_t values. */
	num("SSL_set_recv_max_early_data(s, 0x12345)", SSL_set_recv_max_early_data(s, 0x12345),
	    D(SSL_set_recv_max_early_data)(s, 0x12345));
	SAME_NUM(SSL_get_recv_max_early_data, s);
	num("SSL_set_num_tickets(s, 3)", SSL_set_num_tickets(s, 3), D(SSL_set_num_tickets)(s, 3));
	SAME_NUM(SSL_get_num_tickets, s);
	SAME_NUM(SSL_set_block_padding, s, 1);
	SAME_NUM(SSL_set_block_padding, s, (size_t)1 << 40);
	SSL_set_verify_result(s, X509_V_ERR_CERT_REJECTED);
	num("SSL_set_verify_result(s, X509_V_ERR_CERT_REJECTED), then SSL_get_verify_result(s) directly",
	    D(SSL_get_verify_result)(s), X509_V_ERR_CERT_REJECTED);
	D(SSL_set_verify_result)(s, X509_V_OK);
	num("SSL_set_verify_result(s, X509_V_OK) directly, then SSL_get_verify_result(s)",
	    SSL_get_verify_result(s), X509_V_OK);
	take_err();
}

/* Six to eight arguments: the seventh and eighth on the stack. */
static void many(SSL *s)
{
	static const unsigned char ctx[] = { 'a', 'b', 'c', 0, 'd' };
	static const unsigned char tlsa[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	unsigned char k1[48], k2[48];
	int r1, r2;

#define SAME_EXPORT(what, ...)                                                     \
	do {                                                                       \
		memset(k1, 1, sizeof k1);                                          \
		memset(k2, 2, sizeof k2);                                          \
		r1 = SSL_export_keying_material(s, k1, sizeof k1, __VA_ARGS__);    \
		r2 = D(SSL_export_keying_material)(s, k2, sizeof k2, __VA_ARGS__); \
		num("SSL_export_keying_material(s, out, 48, " what ")", r1, r2);   \
		if (r1 == 1)                                                       \
			mem("SSL_export_keying_material(s, out, 48, " what ")'s keying material", \
			    k1, k2, sizeof k1);                                        \
		take_err();                                                        \
	} while (0)
	SAME_EXPORT("\"EXPORTER-kw\", 11, ctx, 5, 1", "EXPORTER-kw", 11, ctx, sizeof ctx, 1);
	SAME_EXPORT("\"EXPORTER-kw\", 11, ctx, 3, 1", "EXPORTER-kw", 11, ctx, 3, 1);
	SAME_EXPORT("\"EXPORTER-kw\", 11, ctx, 5, 0", "EXPORTER-kw", 11, ctx, sizeof ctx, 0);
	SAME_EXPORT("\"EXPORTER-kw\", 11, NULL, 0, 1", "EXPORTER-kw", 11, NULL, 0, 1);
	SAME_EXPORT("\"EXPORTER-other\", 14, ctx, 5, 1", "EXPORTER-other", 14, ctx, sizeof ctx, 1);
#undef SAME_EXPORT
	memset(k1, 1, sizeof k1);
	memset(k2, 2, sizeof k2);
	r1 = SSL_export_keying_material_early(s, k1, sizeof k1, "EXPORTER-kw", 11, ctx, sizeof ctx);
	r2 = D(SSL_export_keying_material_early)(s, k2, sizeof k2, "EXPORTER-kw", 11, ctx, sizeof ctx);
	num("SSL_export_keying_material_early(s, out, 48, \"EXPORTER-kw\", 11, ctx, 5)", r1, r2);
	if (r1 == 1)
		mem("SSL_export_keying_material_early(...)'s keying material", k1, k2, sizeof k1);
	take_err();

	/* Seven: sigalgs, rhash on the stack. */
	for (int i = -1; i < 3; i++) {
		int sg1 = -7, sg2 = -7, h1 = -7, h2 = -7, sh1 = -7, sh2 = -7;
		unsigned char rs1 = 0xee, rs2 = 0xee, rh1 = 0xee, rh2 = 0xee;

		r1 = SSL_get_shared_sigalgs(s, i, &sg1, &h1, &sh1, &rs1, &rh1);
		r2 = D(SSL_get_shared_sigalgs)(s, i, &sg2, &h2, &sh2, &rs2, &rh2);
		num("SSL_get_shared_sigalgs(s, i, &sign, &hash, &signhash, &rsig, &rhash)", r1, r2);
		if (sg1 != sg2 || h1 != h2 || sh1 != sh2 || rs1 != rs2 || rh1 != rh2)
			differs("SSL_get_shared_sigalgs(s, i, ...)'s outputs", "other values");
		agreed++;
		sg1 = sg2 = h1 = h2 = sh1 = sh2 = -7;
		rs1 = rs2 = rh1 = rh2 = 0xee;
		r1 = SSL_get_sigalgs(s, i, &sg1, &h1, &sh1, &rs1, &rh1);
		r2 = D(SSL_get_sigalgs)(s, i, &sg2, &h2, &sh2, &rs2, &rh2);
		num("SSL_get_sigalgs(s, i, &sign, &hash, &signhash, &rsig, &rhash)", r1, r2);
		if (sg1 != sg2 || h1 != h2 || sh1 != sh2 || rs1 != rs2 || rh1 != rh2)
			differs("SSL_get_sigalgs(s, i, ...)'s outputs", "other values");
		agreed++;
	}
	take_err();

	/* Six, all in registers: DANE is not enabled, the same error. */
	{
		uint8_t u1 = 9, u2 = 9, sl1 = 9, sl2 = 9, m1 = 9, m2 = 9;
		const unsigned char *d1 = ctx, *d2 = ctx;
		size_t l1 = 99, l2 = 99;
		unsigned long e1, e2;

		r1 = SSL_get0_dane_tlsa(s, &u1, &sl1, &m1, &d1, &l1);
		r2 = D(SSL_get0_dane_tlsa)(s, &u2, &sl2, &m2, &d2, &l2);
		num("SSL_get0_dane_tlsa(s, &usage, &selector, &mtype, &data, &dlen)", r1, r2);
		if (u1 != u2 || sl1 != sl2 || m1 != m2 || d1 != d2 || l1 != l2)
			differs("SSL_get0_dane_tlsa(s, ...)'s outputs", "other values");
		agreed++;
		r1 = SSL_dane_tlsa_add(s, 3, 1, 1, tlsa, sizeof tlsa);
		e1 = take_err();
		r2 = D(SSL_dane_tlsa_add)(s, 3, 1, 1, tlsa, sizeof tlsa);
		e2 = take_err();
		num("SSL_dane_tlsa_add(s, 3, 1, 1, data, 32)", r1, r2);
		num("SSL_dane_tlsa_add(s, 3, 1, 1, data, 32)'s error", (long long)e1, (long long)e2);
	}
}

int main(int argc, char **argv)
{
	const char *(*get_version)(const SSL *) = SSL_get_version;
	void *direct_version;
	SSL_CTX *ctx;
	SSL *s;
	Dl_info info, dinfo;
	int fd, r;

	if (argc != 3)
		return 2;
	if (!(lib = dlopen("libssl.so.3", RTLD_NOW | RTLD_NOLOAD))) {
		fprintf(stderr, "route_check_ssl: %s\n", dlerror());
		return 1;
	}
	/* What "directly" means: libssl's own function, not a trampoline. */
	direct_version = direct("SSL_get_version");
	if (!dladdr(direct_version, &dinfo) || !dinfo.dli_fname || !strstr(dinfo.dli_fname, "libssl.so.3")) {
		fprintf(stderr, "route_check_ssl: dlvsym's SSL_get_version is in %s, not libssl.so.3\n",
		        dinfo.dli_fname ? dinfo.dli_fname : "?");
		return 1;
	}
	if (!(ctx = SSL_CTX_new(TLS_client_method())) ||
	    SSL_CTX_load_verify_locations(ctx, argv[1], NULL) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (!(s = SSL_new(ctx)))
		return 1;
	fd = connect_to(atoi(argv[2]));
	if (SSL_set_fd(s, fd) != 1)
		return 1;
	setup(s);
	if ((r = SSL_connect(s)) != 1) {
		fprintf(stderr, "route_check_ssl: SSL_connect: %d, SSL error %d\n", r, SSL_get_error(s, r));
		ERR_print_errors_fp(stderr);
		return 1;
	}
	if (SSL_get_verify_result(s) != X509_V_OK) {
		fprintf(stderr, "route_check_ssl: the certificate was not verified\n");
		return 1;
	}
	one(s);
	two_three(s);
	ctrl(s);
	round_trips(s);
	many(s);

	/* References taken both ways (given back below). */
	num("SSL_up_ref(s)", SSL_up_ref(s), D(SSL_up_ref)(s));
	printf("route_check_ssl: %d answers agreed through the GOT and directly (%s); "
	       "&SSL_get_version is in %s\n", agreed, SSL_get_version(s),
	       dladdr((void *)get_version, &info) && info.dli_fname ? info.dli_fname : "?");
	SSL_shutdown(s);
	SSL_free(s);
	SSL_free(s);
	SSL_free(s);
	close(fd);
	SSL_CTX_free(ctx);
	return 0;
}
