/* curl_client.c - libcurl's easy API, a new easy handle (so a new
 * connection) per URL, trusting only --ca; prints one sha256 per body.
 * Built twice from the same headers: against libcurl4 (OpenSSL) and
 * libcurl3-gnutls (GnuTLS), so the hash is our own, not a TLS library's.
 *
 *   curl_client [--keep-handle] --ca FILE URL...   (exit 0, or 1 on any error)
 *   curl_client --ca FILE NEGATIVE-OPTION... URL...
 *   curl_client --backend             print the TLS library libcurl uses
 *
 * --keep-handle: one easy handle for every URL, so that libcurl keeps its
 * own connection (and TLS session) from one URL to the next, the way a
 * program that reuses its handle does; the options are set once, only the
 * URL changes. Without it, each URL gets an easy handle of its own, cleaned
 * up after its transfer (libcurl closes the connection). The first failed
 * URL ends the run (exit 1).
 *
 * The negative matrix of tests/behaviour/tls-reuse-openssl.sh (an easy
 * handle per URL; every URL is tried, a failure printed as "error MESSAGE"
 * on stdout, exit 1 when any failed): the first URL as usual, every later
 * one different:
 *   --second-ca FILE     trust FILE instead (CURLOPT_CAINFO)
 *   --second-host NAME   SNI and verified host name NAME, the connection
 *                        still to the URL's address (the URL's host replaced
 *                        by NAME, CURLOPT_RESOLVE NAME:PORT:ADDRESS)
 *   --second-cert FILE   present the client certificate FILE
 *   --second-key FILE    with the key FILE (CURLOPT_SSLCERT, CURLOPT_SSLKEY)
 *   --sni-each           a new SNI name per URL (first localhost, then
 *                        alt-I.example, as --second-host does it), the chain
 *                        verified, no host name check (CURLOPT_SSL_VERIFYHOST
 *                        0), for every URL
 *   --alpn-each          another ALPN offer for each URL, in turn:
 *                        libcurl's default (h2,http/1.1; the first URL's),
 *                        http/1.1 alone (CURLOPT_HTTP_VERSION
 *                        CURL_HTTP_VERSION_1_1), none (CURLOPT_SSL_ENABLE_ALPN
 *                        0): three URLs, three offers. libcurl cannot offer
 *                        h2 alone: with HTTP/2 (even prior knowledge) over
 *                        TLS it offers h2,http/1.1. */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sha256 (FIPS 180-4), enough for test bodies */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, k;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 7] +
		       (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10));
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

static void sha256_hex(const unsigned char *p, size_t n, char hex[65])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	unsigned char last[128] = { 0 };
	size_t full = n / 64 * 64, rest = n - full, lastlen = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)n * 8;

	for (size_t i = 0; i < full; i += 64)
		sha256_block(h, p + i);
	memcpy(last, p + full, rest);
	last[rest] = 0x80;
	for (int i = 0; i < 8; i++)
		last[lastlen - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t i = 0; i < lastlen; i += 64)
		sha256_block(h, last + i);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 8 * i, 9, "%08x", h[i]);
}

/* ---- the body in memory */
struct body {
	unsigned char *p;
	size_t len, cap;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		unsigned char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0; /* libcurl fails the transfer */
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return n;
}

/* The options every transfer uses; set once on a kept handle. */
static void setup(CURL *h, const char *ca)
{
	curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL); /* only the private CA */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
}

/* One transfer of url on h (a handle set up by setup()). */
static int get(CURL *h, const char *url, char hex[65])
{
	struct body b = { 0 };
	CURLcode r;
	long status = 0;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	r = curl_easy_perform(h);
	if (r == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (r != CURLE_OK || status != 200) {
		fprintf(stderr, "curl-client: %s: %s (status %ld)\n", url, curl_easy_strerror(r), status);
		free(b.p);
		return -1;
	}
	sha256_hex(b.p ? b.p : (unsigned char *)"", b.len, hex);
	free(b.p);
	return 0;
}

/* A request's variation (the negative matrix); all NULL or 0: none. */
struct variation {
	const char *ca;	  /* trust this file instead */
	const char *name; /* SNI (and verified name unless noverifyhost) */
	int noverifyhost; /* CURLOPT_SSL_VERIFYHOST 0 */
	const char *cert, *key;
	int alpn; /* 0 libcurl's default, 1 CURL_HTTP_VERSION_1_1, 2 no ALPN */
};

/* A new handle for one URL, cleaned up (its connection closed) after it,
 * with the variation v (NULL: none). */
static int get_fresh(const char *ca, const char *url, const struct variation *v, char hex[65])
{
	CURL *h = curl_easy_init();
	struct curl_slist *resolve = NULL;
	char named[2048], entry[512];
	int rc;

	if (!h)
		return -1;
	setup(h, v && v->ca ? v->ca : ca);
	if (v && v->name) {
		/* https://ADDRESS:PORT/PATH -> https://NAME:PORT/PATH, NAME:PORT
		 * resolved to ADDRESS. */
		const char *host = strstr(url, "://"), *colon, *path;

		if (!host || !(colon = strchr(host += 3, ':')) || !(path = strchr(colon, '/')) ||
		    snprintf(named, sizeof(named), "%.*s%s%s", (int)(host - url), url, v->name, colon) >=
			    (int)sizeof(named) ||
		    snprintf(entry, sizeof(entry), "%s:%.*s:%.*s", v->name, (int)(path - colon - 1), colon + 1,
			     (int)(colon - host), host) >= (int)sizeof(entry) ||
		    !(resolve = curl_slist_append(NULL, entry))) {
			fprintf(stderr, "curl-client: %s: not https://ADDRESS:PORT/PATH\n", url);
			curl_easy_cleanup(h);
			return -1;
		}
		curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
		url = named;
	}
	if (v && v->noverifyhost)
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	if (v && v->cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, v->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, v->key);
	}
	if (v && v->alpn == 1)
		curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	if (v && v->alpn == 2)
		curl_easy_setopt(h, CURLOPT_SSL_ENABLE_ALPN, 0L);
	rc = get(h, url, hex);
	curl_easy_cleanup(h);
	curl_slist_free_all(resolve);
	return rc;
}

/* The negative matrix: argv[a...] the options, then the URLs. */
static int negative(const char *ca, int argc, char **argv, int a)
{
	struct variation later = { 0 }, v;
	int sni_each = 0, alpn_each = 0, rc = 0;
	char hex[65], name[64];

	for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
		const char *o = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(o, "--sni-each") == 0)
			sni_each = 1;
		else if (strcmp(o, "--alpn-each") == 0)
			alpn_each = 1;
		else if (val && strcmp(o, "--second-ca") == 0)
			later.ca = val, a++;
		else if (val && strcmp(o, "--second-host") == 0)
			later.name = val, a++;
		else if (val && strcmp(o, "--second-cert") == 0)
			later.cert = val, a++;
		else if (val && strcmp(o, "--second-key") == 0)
			later.key = val, a++;
		else
			break;
	}
	if (a >= argc || !later.cert != !later.key) {
		fprintf(stderr, "curl_client: bad options (see tests/tls/curl_client.c)\n");
		return 2;
	}
	for (int i = 0; a < argc; a++, i++) {
		if (i == 0)
			memset(&v, 0, sizeof(v));
		else
			v = later;
		if (sni_each) {
			snprintf(name, sizeof(name), i == 0 ? "localhost" : "alt-%d.example", i);
			v.name = name;
			v.noverifyhost = 1;
		}
		if (alpn_each)
			v.alpn = i % 3;
		/* libcurl's message is on stderr (get()); stdout says which
		 * request failed. */
		if (get_fresh(ca, argv[a], &v, hex) == 0) {
			printf("%s\n", hex);
		} else {
			printf("error request %d\n", i);
			rc = 1;
		}
		fflush(stdout);
	}
	return rc;
}

int main(int argc, char **argv)
{
	char hex[65];
	int rc = 0, keep = 0, a = 1;
	CURL *kept = NULL;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	if (argc > a && strcmp(argv[a], "--keep-handle") == 0)
		keep = 1, a++;
	if (!keep && argc == 2 && strcmp(argv[1], "--backend") == 0) {
		printf("%s\n", curl_version_info(CURLVERSION_NOW)->ssl_version);
	} else if (!keep && argc >= 5 && strcmp(argv[1], "--ca") == 0 && strncmp(argv[3], "--", 2) == 0) {
		rc = negative(argv[2], argc, argv, 3);
	} else if (argc >= a + 3 && strcmp(argv[a], "--ca") == 0) {
		const char *ca = argv[a + 1];

		if (keep) {
			if ((kept = curl_easy_init()) == NULL)
				rc = 1;
			else
				setup(kept, ca);
		}
		for (int i = a + 2; i < argc && rc == 0; i++)
			if ((keep ? get(kept, argv[i], hex) : get_fresh(ca, argv[i], NULL, hex)) == 0)
				printf("%s\n", hex);
			else
				rc = 1;
		if (kept)
			curl_easy_cleanup(kept);
	} else {
		fprintf(stderr, "usage: curl_client [--keep-handle] --ca FILE URL... | --ca FILE NEGATIVE-OPTION... URL... | --backend\n");
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
