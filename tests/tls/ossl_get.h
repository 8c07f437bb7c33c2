/* ossl_get.h - one blocking HTTPS GET on OpenSSL's SSL_* calls, included by
 * privssl.c (linked against a renamed private copy of libssl) and by
 * privssl_driver.c (linked against the system's), so that each object's
 * calls bind to its own libssl. */
#ifndef KW_OSSL_GET_H
#define KW_OSSL_GET_H

#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* GET url (https://127.0.0.1:PORT/PATH), trusting only ca; the body's
 * sha256 into hex. 0, or -1 with a line on stderr. */
static int ossl_get(const char *ca, const char *url, char hex[65])
{
	char host[64], path[1024], req[1200], *head_end;
	unsigned port;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	unsigned char *buf = NULL, md[EVP_MAX_MD_SIZE];
	size_t len = 0, cap = 1 << 16, want = 0;
	unsigned int mdlen = 0;
	int fd = -1, rc = -1, n;

	if (sscanf(url, "https://%63[0-9.]:%u%1023s", host, &port, path) != 3 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1 || port > 65535) {
		fprintf(stderr, "ossl_get: bad URL %s\n", url);
		return -1;
	}
	sa.sin_port = htons((unsigned short)port);
	buf = malloc(cap);
	ctx = SSL_CTX_new(TLS_client_method());
	if (!buf || !ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto out;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_set1_host(ssl, host) != 1 || SSL_connect(ssl) != 1 ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		goto out;
	n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n\r\n", path, host, port);
	if (SSL_write(ssl, req, n) != n)
		goto out;
	/* Up to the end of the head, then Content-Length bytes of body. */
	for (int i = 0; i < 1000000; i++) {
		if (len == cap) {
			unsigned char *p = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!p)
				goto out;
			buf = p;
			cap *= 2;
		}
		n = SSL_read(ssl, buf + len, (int)(cap - len > (1u << 30) ? 1u << 30 : cap - len));
		if (n <= 0)
			goto out;
		len += (size_t)n;
		if (!want && (head_end = memmem(buf, len, "\r\n\r\n", 4))) {
			char *cl;

			*head_end = '\0';
			cl = strcasestr((char *)buf, "\r\nContent-Length:");
			if (strncmp((char *)buf, "HTTP/1.1 200", 12) != 0 || !cl)
				goto out;
			want = (size_t)(head_end + 4 - (char *)buf) + strtoul(cl + 17, NULL, 10);
		}
		if (want && len >= want)
			break;
	}
	if (!want || len != want)
		goto out;
	{
		size_t body = (size_t)(strchr((char *)buf, '\0') + 4 - (char *)buf);

		if (EVP_Digest(buf + body, len - body, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
			goto out;
	}
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	if (rc != 0) {
		fprintf(stderr, "ossl_get: %s failed\n", url);
		ERR_print_errors_fp(stderr);
	}
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	free(buf);
	return rc;
}

#endif
