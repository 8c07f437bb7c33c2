/* tls_real.h - the system TLS libraries' own functions, for the TLS
 * wrappers to call, and which loaded object is a system TLS library.
 *
 * keepwarm links neither library: a table is filled from the loaded copy
 * (dlsym on its handle) when a redirection pass first finds it in the
 * process, and stays (the handle is kept, so the library stays mapped while
 * wrappers may call into it). Only the system's copies count, known by file
 * identity: a private copy (a renamed libssl in a Python wheel) is never
 * followed. The headers give the types only. */
#ifndef KW_TLS_REAL_H
#define KW_TLS_REAL_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "logic/tlsmap.h"

/* The wrapped GnuTLS functions: X(name, return type, parameters). */
#define KW_GNUTLS_WRAPPED(X)                                                                   \
	X(gnutls_handshake, int, (gnutls_session_t))                                           \
	X(gnutls_record_send, ssize_t, (gnutls_session_t, const void *, size_t))               \
	X(gnutls_record_send2, ssize_t, (gnutls_session_t, const void *, size_t, size_t, unsigned)) \
	X(gnutls_record_send_range, ssize_t, (gnutls_session_t, const void *, size_t,          \
	                                      const gnutls_range_st *))                        \
	X(gnutls_record_recv, ssize_t, (gnutls_session_t, void *, size_t))                     \
	X(gnutls_record_recv_seq, ssize_t, (gnutls_session_t, void *, size_t, unsigned char *)) \
	X(gnutls_record_recv_packet, ssize_t, (gnutls_session_t, gnutls_packet_t *))           \
	X(gnutls_record_send_early_data, ssize_t, (gnutls_session_t, const void *, size_t))    \
	X(gnutls_reauth, int, (gnutls_session_t, unsigned))                                    \
	X(gnutls_transport_set_int2, void, (gnutls_session_t, int, int))                       \
	X(gnutls_transport_set_ptr, void, (gnutls_session_t, gnutls_transport_ptr_t))          \
	X(gnutls_transport_set_ptr2, void, (gnutls_session_t, gnutls_transport_ptr_t,          \
	                                    gnutls_transport_ptr_t))                           \
	X(gnutls_transport_set_push_function, void, (gnutls_session_t, gnutls_push_func))      \
	X(gnutls_transport_set_vec_push_function, void, (gnutls_session_t, gnutls_vec_push_func)) \
	X(gnutls_transport_set_pull_function, void, (gnutls_session_t, gnutls_pull_func))      \
	X(gnutls_transport_set_pull_timeout_function, void, (gnutls_session_t,                 \
	                                                     gnutls_pull_timeout_func))         \
	X(gnutls_handshake_set_timeout, void, (gnutls_session_t, unsigned))                    \
	X(gnutls_transport_set_errno_function, void, (gnutls_session_t, gnutls_errno_func))    \
	X(gnutls_init, int, (gnutls_session_t *, unsigned))                                    \
	X(gnutls_bye, int, (gnutls_session_t, gnutls_close_request_t))                         \
	X(gnutls_credentials_set, int, (gnutls_session_t, gnutls_credentials_type_t, void *))  \
	X(gnutls_server_name_set, int, (gnutls_session_t, gnutls_server_name_type_t,           \
	                                const void *, size_t))                                 \
	X(gnutls_alpn_set_protocols, int, (gnutls_session_t, const gnutls_datum_t *, unsigned, \
	                                   unsigned))                                          \
	X(gnutls_priority_set, int, (gnutls_session_t, gnutls_priority_t))                     \
	X(gnutls_priority_set_direct, int, (gnutls_session_t, const char *, const char **))    \
	X(gnutls_set_default_priority, int, (gnutls_session_t))                                \
	X(gnutls_set_default_priority_append, int, (gnutls_session_t, const char *,            \
	                                            const char **, unsigned))                  \
	X(gnutls_session_set_verify_cert, void, (gnutls_session_t, const char *, unsigned))    \
	X(gnutls_certificate_set_retrieve_function, void, (gnutls_certificate_credentials_t,   \
	                                           gnutls_certificate_retrieve_function *))    \
	X(gnutls_certificate_set_retrieve_function2, void, (gnutls_certificate_credentials_t,  \
	                                            gnutls_certificate_retrieve_function2 *))  \
	X(gnutls_certificate_set_retrieve_function3, void, (gnutls_certificate_credentials_t,  \
	                                            gnutls_certificate_retrieve_function3 *))  \
	X(gnutls_certificate_set_verify_function, void, (gnutls_certificate_credentials_t,     \
	                                          gnutls_certificate_verify_function *))       \
	X(gnutls_session_set_keylog_function, void, (gnutls_session_t, gnutls_keylog_func))    \
	X(gnutls_handshake_set_hook_function, void, (gnutls_session_t, unsigned, int,          \
	                                            gnutls_handshake_hook_func))               \
	X(gnutls_alert_set_read_function, void, (gnutls_session_t, gnutls_alert_read_func))    \
	X(gnutls_deinit, void, (gnutls_session_t))

/* GnuTLS functions keepwarm calls but does not wrap. */
#define KW_GNUTLS_CALLED(X)                                                                    \
	X(gnutls_alpn_get_selected_protocol, int, (gnutls_session_t, gnutls_datum_t *))        \
	X(gnutls_error_is_fatal, int, (int))                                                   \
	X(gnutls_session_set_ptr, void, (gnutls_session_t, void *))                            \
	X(gnutls_session_get_ptr, void *, (gnutls_session_t))                                  \
	X(gnutls_session_enable_compatibility_mode, void, (gnutls_session_t))                  \
	X(gnutls_certificate_verify_peers, int, (gnutls_session_t, gnutls_typed_vdata_st *,    \
	                                         unsigned, unsigned *))                        \
	X(gnutls_certificate_get_ours, const gnutls_datum_t *, (gnutls_session_t))             \
	X(gnutls_certificate_get_crt_raw, int, (gnutls_certificate_credentials_t, unsigned,    \
	                                        unsigned, gnutls_datum_t *))                   \
	X(gnutls_certificate_allocate_credentials, int, (gnutls_certificate_credentials_t *))  \
	X(gnutls_record_check_pending, size_t, (gnutls_session_t))                            \
	X(gnutls_record_get_direction, int, (gnutls_session_t))                                \
	X(gnutls_certificate_get_trust_list, void, (gnutls_certificate_credentials_t,          \
	                                           gnutls_x509_trust_list_t *))                \
	X(gnutls_x509_trust_list_iter_get_ca, int, (gnutls_x509_trust_list_t,                  \
	                                            gnutls_x509_trust_list_iter_t *,           \
	                                            gnutls_x509_crt_t *))                      \
	X(gnutls_x509_trust_list_iter_deinit, void, (gnutls_x509_trust_list_iter_t))           \
	X(gnutls_x509_crt_deinit, void, (gnutls_x509_crt_t))

/* Callback types OpenSSL's header spells out in its prototypes only. */
typedef int (*kw_ssl_client_cert_cb)(SSL *, X509 **, EVP_PKEY **);
typedef int (*kw_ssl_new_session_cb)(SSL *, SSL_SESSION *);
typedef void (*kw_ssl_info_cb)(const SSL *, int, int);

#define KW_OPENSSL_WRAPPED(X)                                                                  \
	X(SSL_set_fd, int, (SSL *, int))                                                       \
	X(SSL_set_rfd, int, (SSL *, int))                                                      \
	X(SSL_set_wfd, int, (SSL *, int))                                                      \
	X(SSL_set_bio, void, (SSL *, BIO *, BIO *))                                            \
	X(SSL_set0_rbio, void, (SSL *, BIO *))                                                 \
	X(SSL_set0_wbio, void, (SSL *, BIO *))                                                 \
	X(SSL_connect, int, (SSL *))                                                           \
	X(SSL_do_handshake, int, (SSL *))                                                      \
	X(SSL_read, int, (SSL *, void *, int))                                                 \
	X(SSL_read_ex, int, (SSL *, void *, size_t, size_t *))                                 \
	X(SSL_peek, int, (SSL *, void *, int))                                                 \
	X(SSL_peek_ex, int, (SSL *, void *, size_t, size_t *))                                 \
	X(SSL_write, int, (SSL *, const void *, int))                                          \
	X(SSL_write_ex, int, (SSL *, const void *, size_t, size_t *))                          \
	X(SSL_sendfile, ossl_ssize_t, (SSL *, int, off_t, size_t, int))                        \
	X(SSL_write_early_data, int, (SSL *, const void *, size_t, size_t *))                  \
	X(SSL_renegotiate, int, (SSL *))                                                       \
	X(SSL_renegotiate_abbreviated, int, (SSL *))                                           \
	X(SSL_clear, int, (SSL *))                                                             \
	X(SSL_up_ref, int, (SSL *))                                                            \
	X(SSL_free, void, (SSL *))                                                             \
	X(SSL_new, SSL *, (SSL_CTX *))                                                         \
	X(SSL_shutdown, int, (SSL *))                                                          \
	X(SSL_set_connect_state, void, (SSL *))                                                \
	X(SSL_ctrl, long, (SSL *, int, long, void *))                                          \
	X(SSL_CTX_set_cert_verify_callback, void, (SSL_CTX *, int (*)(X509_STORE_CTX *, void *), \
	                                           void *))                                    \
	X(SSL_CTX_set_psk_client_callback, void, (SSL_CTX *, SSL_psk_client_cb_func))          \
	X(SSL_CTX_set_psk_use_session_callback, void, (SSL_CTX *, SSL_psk_use_session_cb_func)) \
	X(SSL_CTX_set_cert_cb, void, (SSL_CTX *, int (*)(SSL *, void *), void *))              \
	X(SSL_CTX_sess_set_new_cb, void, (SSL_CTX *, kw_ssl_new_session_cb))                   \
	X(SSL_CTX_sess_get_new_cb, kw_ssl_new_session_cb, (SSL_CTX *))

#define KW_OPENSSL_CALLED(X)                                                                   \
	X(SSL_get0_alpn_selected, void, (const SSL *, const unsigned char **, unsigned int *)) \
	X(SSL_get_error, int, (const SSL *, int))                                              \
	X(TLS_client_method, const SSL_METHOD *, (void))                                       \
	X(SSL_CTX_new, SSL_CTX *, (const SSL_METHOD *))                                        \
	X(SSL_CTX_free, void, (SSL_CTX *))                                                     \
	X(SSL_CTX_ctrl, long, (SSL_CTX *, int, long, void *))                                  \
	X(CRYPTO_get_ex_new_index, int, (int, long, void *, CRYPTO_EX_new *, CRYPTO_EX_dup *,  \
	                                  CRYPTO_EX_free *))                                   \
	X(SSL_CTX_get_ex_data, void *, (const SSL_CTX *, int))                                 \
	X(SSL_CTX_set_ex_data, int, (SSL_CTX *, int, void *))                                  \
	X(SSL_CTX_get_cert_store, X509_STORE *, (const SSL_CTX *))                             \
	X(SSL_CTX_get_client_cert_cb, kw_ssl_client_cert_cb, (SSL_CTX *))                    \
	X(SSL_get_SSL_CTX, SSL_CTX *, (const SSL *))                                           \
	X(SSL_set_SSL_CTX, SSL_CTX *, (SSL *, SSL_CTX *))                                      \
	X(SSL_get_rbio, BIO *, (const SSL *))                                                  \
	X(SSL_get_fd, int, (const SSL *))                                                      \
	X(SSL_get_wbio, BIO *, (const SSL *))                                                  \
	X(SSL_get_ex_data, void *, (const SSL *, int))                                         \
	X(SSL_set_ex_data, int, (SSL *, int, void *))                                          \
	X(SSL_get_options, uint64_t, (const SSL *))                                            \
	X(SSL_set_options, uint64_t, (SSL *, uint64_t))                                        \
	X(SSL_clear_options, uint64_t, (SSL *, uint64_t))                                      \
	X(SSL_get_read_ahead, int, (const SSL *))                                              \
	X(SSL_set_read_ahead, void, (SSL *, int))                                              \
	X(SSL_get_verify_mode, int, (const SSL *))                                             \
	X(SSL_get_verify_callback, SSL_verify_cb, (const SSL *))                               \
	X(SSL_set_verify, void, (SSL *, int, SSL_verify_cb))                                   \
	X(SSL_get0_param, X509_VERIFY_PARAM *, (SSL *))                                        \
	X(SSL_get_security_level, int, (const SSL *))                                          \
	X(SSL_set_verify_result, void, (SSL *, long))                                          \
	X(SSL_get_ex_data_X509_STORE_CTX_idx, int, (void))                                     \
	X(SSL_get_certificate, X509 *, (const SSL *))                                          \
	X(SSL_get0_peer_certificate, X509 *, (const SSL *))                                    \
	X(SSL_get_peer_cert_chain, STACK_OF(X509) *, (const SSL *))                            \
	X(SSL_get_info_callback, kw_ssl_info_cb, (const SSL *))                                \
	X(SSL_CTX_get_info_callback, kw_ssl_info_cb, (SSL_CTX *))                             \
	X(SSL_set_info_callback, void, (SSL *, kw_ssl_info_cb))                                \
	X(SSL_set_msg_callback, void, (SSL *, void (*)(int, int, int, const void *, size_t,   \
	                                               SSL *, void *)))                        \
	X(SSL_version, int, (const SSL *))                                                     \
	X(SSL_get_current_cipher, const SSL_CIPHER *, (const SSL *))                           \
	X(SSL_CIPHER_get_protocol_id, uint16_t, (const SSL_CIPHER *))                          \
	X(SSL_get_session, SSL_SESSION *, (const SSL *))                                       \
	X(SSL_has_pending, int, (const SSL *))                                                 \
	X(SSL_get_shutdown, int, (const SSL *))                                                \
	X(SSL_set_shutdown, void, (SSL *, int))                                                \
	X(SSL_get_quiet_shutdown, int, (const SSL *))                                          \
	X(BIO_new_socket, BIO *, (int, int))                                                   \
	X(BIO_int_ctrl, long, (BIO *, int, long, int))                                         \
	X(BIO_up_ref, int, (BIO *))                                                            \
	X(X509_STORE_CTX_new, X509_STORE_CTX *, (void))                                        \
	X(X509_STORE_CTX_free, void, (X509_STORE_CTX *))                                       \
	X(X509_STORE_CTX_init, int, (X509_STORE_CTX *, X509_STORE *, X509 *, STACK_OF(X509) *)) \
	X(X509_STORE_CTX_set_default, int, (X509_STORE_CTX *, const char *))                   \
	X(X509_STORE_CTX_get0_param, X509_VERIFY_PARAM *, (const X509_STORE_CTX *))            \
	X(X509_STORE_CTX_set_ex_data, int, (X509_STORE_CTX *, int, void *))                    \
	X(X509_STORE_CTX_set_verify_cb, void, (X509_STORE_CTX *, X509_STORE_CTX_verify_cb))    \
	X(X509_STORE_CTX_get_error, int, (const X509_STORE_CTX *))                             \
	X(X509_VERIFY_PARAM_set1, int, (X509_VERIFY_PARAM *, const X509_VERIFY_PARAM *))       \
	X(X509_VERIFY_PARAM_set_auth_level, void, (X509_VERIFY_PARAM *, int))                  \
	X(X509_verify_cert, int, (X509_STORE_CTX *))                                           \
	X(ERR_clear_error, void, (void))

struct kw_tls_real_table {
#define KW_TLS_REAL_FIELD(name, ret, args) ret(*name) args;
	KW_GNUTLS_WRAPPED(KW_TLS_REAL_FIELD)
	KW_GNUTLS_CALLED(KW_TLS_REAL_FIELD)
	KW_OPENSSL_WRAPPED(KW_TLS_REAL_FIELD)
	KW_OPENSSL_CALLED(KW_TLS_REAL_FIELD)
#undef KW_TLS_REAL_FIELD
};

extern struct kw_tls_real_table kw_tls_real;

/* The other GnuTLS functions that take a session first (the generated
 * gnutls_routed.h): reached through trampolines that may route the call to
 * another session (wrap/tls_route.c), their real addresses by index. */
#include "service/gnutls_routed.h"
extern void *kw_gnutls_routed_real[KW_GNUTLS_NROUTED];

/* The same for OpenSSL: every other libssl function that takes an SSL *
 * first (the generated openssl_routed.h). */
#include "service/openssl_routed.h"
extern void *kw_openssl_routed_real[KW_OPENSSL_NROUTED];

/* Which system TLS library the loaded object at path is (the same file as
 * the system's libgnutls.so.30 or libssl.so.3), or -1. */
int kw_tls_lib_of(const char *path);

/* Is the loaded object at path the system's libcrypto.so.3 (same file)? */
bool kw_tls_is_system_crypto(const char *path);

/* Is lib's table filled (its functions may be called)? */
bool kw_tls_real_ready(enum kw_tls_lib lib);

/* The same in keepwarm's constructor, where no dlopen may run: lib's
 * table from the symbol tables of o (the library, loaded with the program)
 * and, for OpenSSL, of the system's libcrypto (crypto, NULL when it is not
 * loaded); false (the table left empty) when a function is missing. A
 * library loaded with the program is never unloaded: nothing needs to be
 * held open. */
struct kw_object;
bool kw_tls_real_resolve_global(enum kw_tls_lib lib, const struct kw_object *o,
                                const struct kw_object *crypto);

/* Fill lib's table from path, an object already loaded (a redirection pass
 * found it): dlopen(RTLD_NOLOAD), kept. Returns whether the table is ready.
 * Not from a constructor: that dlopen may run another library's. */
bool kw_tls_real_resolve(enum kw_tls_lib lib, const char *path);


#endif
