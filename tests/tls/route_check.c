/* route_check.c - after a GnuTLS handshake with 127.0.0.1:PORT, asks the
 * session the same questions twice: through the program's own calls (its
 * GOT, which keepwarm redirects to its trampolines) and through the
 * library's functions found with dlvsym (never redirected). Functions of
 * one to eight arguments, two of them on the stack, pointers and by-value
 * integers. Prints how many answers agreed and which object the program's
 * &gnutls_cipher_get is in; exits 1 at the first disagreement.
 *
 *   route_check CA-FILE PORT */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *lib;
static int agreed;

static void *direct(const char *name)
{
	void *f = dlvsym(lib, name, "GNUTLS_3_4");

	if (!f) {
		fprintf(stderr, "route_check: %s: %s\n", name, dlerror());
		exit(1);
	}
	return f;
}

static void same(const char *what, const void *a, const void *b, size_t n)
{
	if (memcmp(a, b, n)) {
		fprintf(stderr, "route_check: %s differs through the GOT\n", what);
		exit(1);
	}
	agreed++;
}

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("route_check: connect");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	gnutls_datum_t d1, d2, c1, s1, c2, s2;
	unsigned char k1[32], k2[32];
	unsigned st1 = 0, st2 = 0;
	char *desc1, *desc2;
	int fd, r1, r2;
	Dl_info info;

	if (argc != 3)
		return 2;
	if (!(lib = dlopen("libgnutls.so.30", RTLD_NOW | RTLD_NOLOAD))) {
		fprintf(stderr, "route_check: %s\n", dlerror());
		return 1;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_trust_file(cred, argv[1], GNUTLS_X509_FMT_PEM) <= 0 ||
	    gnutls_init(&s, GNUTLS_CLIENT) < 0 || gnutls_set_default_priority(s) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		return 1;
	fd = connect_to(atoi(argv[2]));
	gnutls_transport_set_int(s, fd);
	gnutls_session_set_verify_cert(s, "127.0.0.1", 0);
	while ((r1 = gnutls_handshake(s)) < 0 && !gnutls_error_is_fatal(r1))
		;
	if (r1 < 0) {
		fprintf(stderr, "route_check: handshake: %s\n", gnutls_strerror(r1));
		return 1;
	}

	/* One argument, through the PLT and through a taken address. */
	gnutls_cipher_algorithm_t (*cipher_get)(gnutls_session_t) = gnutls_cipher_get;
	r1 = (int)gnutls_cipher_get(s);
	r2 = (int)((gnutls_cipher_algorithm_t(*)(gnutls_session_t))direct("gnutls_cipher_get"))(s);
	same("gnutls_cipher_get", &r1, &r2, sizeof r1);
	r1 = (int)cipher_get(s);
	same("gnutls_cipher_get (its address)", &r1, &r2, sizeof r1);
	r1 = (int)gnutls_protocol_get_version(s);
	r2 = (int)((gnutls_protocol_t(*)(gnutls_session_t))direct("gnutls_protocol_get_version"))(s);
	same("gnutls_protocol_get_version", &r1, &r2, sizeof r1);
	/* Two: a pointer filled. */
	r1 = gnutls_session_get_id2(s, &d1);
	r2 = ((int (*)(gnutls_session_t, gnutls_datum_t *))direct("gnutls_session_get_id2"))(s, &d2);
	same("gnutls_session_get_id2", &r1, &r2, sizeof r1);
	if (r1 == 0)
		same("gnutls_session_get_id2's id", d1.data, d2.data, d1.size == d2.size ? d1.size : 0);
	/* Three: a string and a pointer. */
	r1 = gnutls_certificate_verify_peers3(s, "127.0.0.1", &st1);
	r2 = ((int (*)(gnutls_session_t, const char *, unsigned *))
	      direct("gnutls_certificate_verify_peers3"))(s, "127.0.0.1", &st2);
	same("gnutls_certificate_verify_peers3", &r1, &r2, sizeof r1);
	same("gnutls_certificate_verify_peers3's status", &st1, &st2, sizeof st1);
	gnutls_session_get_random(s, &c1, &s1);
	((void (*)(gnutls_session_t, gnutls_datum_t *, gnutls_datum_t *))
	 direct("gnutls_session_get_random"))(s, &c2, &s2);
	same("gnutls_session_get_random", c1.data, c2.data, c1.size == c2.size ? c1.size : 0);
	/* Seven: the last on the stack. */
	memset(k1, 1, sizeof k1);
	memset(k2, 2, sizeof k2);
	r1 = gnutls_prf_rfc5705(s, 11, "EXPORTER-kw", 3, "abc", sizeof k1, (char *)k1);
	r2 = ((int (*)(gnutls_session_t, size_t, const char *, size_t, const char *, size_t, char *))
	      direct("gnutls_prf_rfc5705"))(s, 11, "EXPORTER-kw", 3, "abc", sizeof k2, (char *)k2);
	same("gnutls_prf_rfc5705", &r1, &r2, sizeof r1);
	same("gnutls_prf_rfc5705's keying material", k1, k2, sizeof k1);
	/* Eight: two on the stack (an error in TLS 1.3, the same one). */
	r1 = gnutls_prf(s, 13, "kw prf label.", 0, 3, "xyz", sizeof k1, (char *)k1);
	r2 = ((int (*)(gnutls_session_t, size_t, const char *, int, size_t, const char *, size_t,
	               char *))direct("gnutls_prf"))(s, 13, "kw prf label.", 0, 3, "xyz", sizeof k2,
	                                                 (char *)k2);
	same("gnutls_prf", &r1, &r2, sizeof r1);
	if (r1 == 0)
		same("gnutls_prf's output", k1, k2, sizeof k1);
	/* A string the library allocates. */
	desc1 = gnutls_session_get_desc(s);
	desc2 = ((char *(*)(gnutls_session_t))direct("gnutls_session_get_desc"))(s);
	same("gnutls_session_get_desc", desc1, desc2, desc1 && desc2 ? strlen(desc1) + 1 : 0);
	gnutls_free(desc1);
	gnutls_free(desc2);

	printf("route_check: %d answers the same through the GOT and directly; "
	       "&gnutls_cipher_get is in %s\n", agreed,
	       dladdr((void *)cipher_get, &info) && info.dli_fname ? info.dli_fname : "?");
	gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	close(fd);
	gnutls_certificate_free_credentials(cred);
	return 0;
}
