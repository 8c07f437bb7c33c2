# tls.mk - the C TLS clients (tests/tls/), run by tests/behaviour/tls-clients.sh.
#   make                  builds $(BUILD)/tls/: the GnuTLS and OpenSSL clients,
#                         the libcurl client twice (OpenSSL and GnuTLS libcurl)
#                         the private-libssl driver, route_check and route_check_ssl
#                         (GnuTLS and OpenSSL calls through keepwarm's trampolines
#                         against the library's own) and tls_server (a GnuTLS
#                         HTTPS server that can send tickets, KeyUpdates or
#                         close_notify on idle connections)
#   make tls-asan         the GnuTLS and OpenSSL clients under ASan/UBSan, in
#                         $(BUILD)/tls/asan/ (the test script builds them)
#   make tls-tsan         the same under TSan, in $(BUILD)/tls/tsan/, and the
#                         library built with TSan ($(BUILD)/tsan/)
# The object linked against a private copy of libssl (tests/tls/privssl.c) is
# built by the test script, against the copy it makes.
TLS_DIR      = $(BUILD)/tls
TLS_COMMON   = tests/tls/tls_common.c
TLS_HDRS     = tests/tls/tls_common.h
TLS_PROGS    = $(addprefix $(TLS_DIR)/,gnutls_client openssl_client curl_client-openssl \
               curl_client-gnutls privssl_driver route_check route_check_ssl tls_server)
TLS_CFLAGS   = -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -pthread
TLS_SAN      = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TLS_LIBS_gnutls_client  = $$(pkg-config --libs gnutls)
TLS_LIBS_openssl_client = -lssl -lcrypto

.PHONY: tls-asan tls-tsan
tests: $(TLS_PROGS)
tls-asan: $(TLS_DIR)/asan/gnutls_client $(TLS_DIR)/asan/openssl_client
# Under ThreadSanitizer, beside the library built with it (stress.mk's tsan-lib).
tls-tsan: $(TLS_DIR)/tsan/gnutls_client $(TLS_DIR)/tsan/openssl_client tsan-lib

$(TLS_DIR)/tsan/gnutls_client $(TLS_DIR)/tsan/openssl_client: $(TLS_DIR)/tsan/%: tests/tls/%.c $(TLS_COMMON) $(TLS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -fsanitize=thread $(WARN) -std=gnu11 -D_GNU_SOURCE -pthread -o $@ $< $(TLS_COMMON) $(TLS_LIBS_$*)

$(TLS_DIR)/gnutls_client $(TLS_DIR)/openssl_client: $(TLS_DIR)/%: tests/tls/%.c $(TLS_COMMON) $(TLS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CFLAGS) -o $@ $< $(TLS_COMMON) $(TLS_LIBS_$*)

$(TLS_DIR)/asan/gnutls_client $(TLS_DIR)/asan/openssl_client: $(TLS_DIR)/asan/%: tests/tls/%.c $(TLS_COMMON) $(TLS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TLS_SAN) $(WARN) -std=gnu11 -D_GNU_SOURCE -pthread -o $@ $< $(TLS_COMMON) $(TLS_LIBS_$*)

# The same source and headers (libcurl4-openssl-dev's), two libcurls: the
# GnuTLS one has no development package of its own that can be installed
# beside the OpenSSL one.
$(TLS_DIR)/curl_client-openssl: tests/tls/curl_client.c
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CFLAGS) -o $@ $< -lcurl
$(TLS_DIR)/curl_client-gnutls: tests/tls/curl_client.c
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CFLAGS) -o $@ $< -l:libcurl-gnutls.so.4

$(TLS_DIR)/privssl_driver: tests/tls/privssl_driver.c tests/tls/ossl_get.h
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CFLAGS) -o $@ $< -lssl -lcrypto -ldl

# The same questions to a GnuTLS session through the GOT and through dlvsym.
$(TLS_DIR)/route_check: tests/tls/route_check.c
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CFLAGS) -o $@ $< $$(pkg-config --libs gnutls) -ldl

# The same questions to an OpenSSL SSL.
$(TLS_DIR)/route_check_ssl: tests/tls/route_check_ssl.c
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CFLAGS) -o $@ $< -lssl -lcrypto -ldl

# The HTTPS server the clients can be pointed at instead of nginx.
$(TLS_DIR)/tls_server: tests/tls/tls_server.c
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CFLAGS) -o $@ $< $$(pkg-config --libs gnutls)
