/* ossl_calls.c - the dispositions of OpenSSL's calls on an SSL: two sorted
 * tables and their look-ups. What each function or command does is OpenSSL
 * 3.0's (ssl/ssl_lib.c; SSL_ctrl's commands in ssl/s3_lib.c's ssl3_ctrl
 * and ssl3_callback_ctrl, DTLS's in ssl/d1_lib.c's dtls1_ctrl). */
#include "logic/ossl_calls.h"

#include <stdlib.h>
#include <string.h>

const char *kw_ossl_kind_name(enum kw_ossl_kind kind)
{
	static const char *const names[KW_OSSL_KINDS] = {
		"foreign", "harmless-before", "own", "both", "parked", "by-command",
	};

	return (unsigned)kind < KW_OSSL_KINDS ? names[kind] : "?";
}

#define F(name, kind, writes) { #name, KW_OSSL_##kind, writes }

/* Every function of service/openssl_routed.h, in its (strcmp) order, and
 * three wrapped by hand since (SSL_ctrl, SSL_set_connect_state,
 * SSL_shutdown), for their wrappers. */
static const struct kw_ossl_call calls[] = {
	/* DTLS only: keepwarm keeps TCP connections, a DTLS SSL is never
	 * kept nor taken over (on a TLS one these fail or crash alike). */
	F(DTLS_get_data_mtu, FOREIGN, 0),
	F(DTLS_set_timer_cb, FOREIGN, 0),
	F(DTLSv1_listen, FOREIGN, 1), /* server side; answers with a HelloVerifyRequest */
	F(SRP_Calc_A_param, FOREIGN, 0),
	F(SSL_CIPHER_find, OWN, 0), /* a look-up by the method's cipher table */
	F(SSL_SRP_CTX_free, FOREIGN, 0),
	F(SSL_SRP_CTX_init, FOREIGN, 0),
	F(SSL_accept, FOREIGN, 1), /* the server side; runs a handshake */
	F(SSL_add1_host, HARMLESS_BEFORE, 0), /* the takeover verifies P's chain for N's hosts */
	F(SSL_add1_to_CA_list, FOREIGN, 0), /* CA names the handshake sends */
	F(SSL_add_client_CA, FOREIGN, 0),
	F(SSL_alloc_buffers, PARKED, 0), /* the buffers of the connection that does the I/O */
	F(SSL_bytes_to_cipher_list, OWN, 0), /* a parser of cipher bytes */
	F(SSL_callback_ctrl, BY_CMD, 0),
	F(SSL_certs_clear, FOREIGN, 0), /* its own certificates */
	F(SSL_check_chain, PARKED, 0), /* judged against the handshake's (peer's sigalgs) */
	F(SSL_check_private_key, OWN, 0),
	F(SSL_clear_options, BOTH, 0),
	/* The server's ClientHello callback's. */
	F(SSL_client_hello_get0_ciphers, FOREIGN, 0),
	F(SSL_client_hello_get0_compression_methods, FOREIGN, 0),
	F(SSL_client_hello_get0_ext, FOREIGN, 0),
	F(SSL_client_hello_get0_legacy_version, FOREIGN, 0),
	F(SSL_client_hello_get0_random, FOREIGN, 0),
	F(SSL_client_hello_get0_session_id, FOREIGN, 0),
	F(SSL_client_hello_get1_extensions_present, FOREIGN, 0),
	F(SSL_client_hello_isv2, FOREIGN, 0),
	F(SSL_client_version, PARKED, 0), /* the version its ClientHello sent */
	F(SSL_config, FOREIGN, 0), /* a configuration section: may set anything */
	F(SSL_copy_session_id, FOREIGN, 0), /* copies the session and the certificates too */
	F(SSL_ct_is_enabled, OWN, 0),
	F(SSL_ctrl, BY_CMD, 0),
	F(SSL_dane_clear_flags, FOREIGN, 0),
	F(SSL_dane_enable, FOREIGN, 0),
	F(SSL_dane_set_flags, FOREIGN, 0),
	F(SSL_dane_tlsa_add, FOREIGN, 0),
	/* Once out of its handshake, SSL_dup returns N itself with one more
	 * reference (as SSL_up_ref, which keepwarm counts); before, a copy of
	 * N's settings. Never P. */
	F(SSL_dup, OWN, 0),
	F(SSL_enable_ct, FOREIGN, 0),
	F(SSL_export_keying_material, PARKED, 0),
	F(SSL_export_keying_material_early, PARKED, 0),
	F(SSL_free_buffers, PARKED, 0),
	F(SSL_get0_CA_list, OWN, 0), /* the CA names it would send */
	F(SSL_get0_alpn_selected, PARKED, 0),
	F(SSL_get0_dane, OWN, 0), /* its DANE settings (a DANE SSL is never taken over) */
	F(SSL_get0_dane_authority, PARKED, 0), /* the verification's results */
	F(SSL_get0_dane_tlsa, PARKED, 0),
	F(SSL_get0_next_proto_negotiated, PARKED, 0),
	/* N's: what the program sets through the pointer (hosts, flags,
	 * purpose) the takeover judges with N's parameters. */
	F(SSL_get0_param, OWN, 0),
	F(SSL_get0_peer_CA_list, PARKED, 0),
	F(SSL_get0_peer_certificate, PARKED, 0),
	F(SSL_get0_peer_scts, PARKED, 0),
	F(SSL_get0_peername, PARKED, 0), /* the host the verification matched (in P's parameters) */
	F(SSL_get0_security_ex_data, OWN, 0),
	F(SSL_get0_verified_chain, PARKED, 0),
	F(SSL_get1_peer_certificate, PARKED, 0),
	F(SSL_get1_session, PARKED, 0),
	F(SSL_get1_supported_ciphers, OWN, 0), /* its cipher list under its version bounds */
	F(SSL_get_SSL_CTX, OWN, 0),
	/* The async job of the I/O in progress runs on P. */
	F(SSL_get_all_async_fds, PARKED, 0),
	F(SSL_get_async_status, PARKED, 0),
	F(SSL_get_certificate, OWN, 0),
	F(SSL_get_changed_async_fds, PARKED, 0),
	F(SSL_get_cipher_list, OWN, 0), /* the configured list, not the cipher chosen */
	F(SSL_get_ciphers, OWN, 0),
	F(SSL_get_client_CA_list, PARKED, 0), /* a client's: the CA names the server asked for */
	F(SSL_get_client_ciphers, PARKED, 0), /* what the peer offered */
	F(SSL_get_client_random, PARKED, 0),
	F(SSL_get_current_cipher, PARKED, 0),
	F(SSL_get_current_compression, PARKED, 0),
	F(SSL_get_current_expansion, PARKED, 0),
	F(SSL_get_default_passwd_cb, OWN, 0),
	F(SSL_get_default_passwd_cb_userdata, OWN, 0),
	F(SSL_get_default_timeout, OWN, 0), /* its method's */
	F(SSL_get_early_data_status, PARKED, 0),
	F(SSL_get_error, PARKED, 0), /* of the last I/O call, which P made */
	F(SSL_get_ex_data, OWN, 0),
	F(SSL_get_fd, OWN, 0),
	F(SSL_get_finished, PARKED, 0),
	F(SSL_get_info_callback, OWN, 0), /* the program's (P has a trampoline) */
	F(SSL_get_key_update_type, PARKED, 0),
	F(SSL_get_max_early_data, OWN, 0),
	F(SSL_get_num_tickets, OWN, 0),
	F(SSL_get_options, OWN, 0), /* N's, which P's follow (BOTH) */
	F(SSL_get_peer_cert_chain, PARKED, 0),
	F(SSL_get_peer_finished, PARKED, 0),
	F(SSL_get_peer_signature_type_nid, PARKED, 0),
	F(SSL_get_pending_cipher, PARKED, 0),
	F(SSL_get_privatekey, OWN, 0),
	F(SSL_get_psk_identity, PARKED, 0), /* the session's */
	F(SSL_get_psk_identity_hint, PARKED, 0),
	F(SSL_get_quiet_shutdown, OWN, 0),
	F(SSL_get_rbio, OWN, 0),
	F(SSL_get_read_ahead, OWN, 0),
	F(SSL_get_record_padding_callback_arg, OWN, 0),
	F(SSL_get_recv_max_early_data, OWN, 0),
	F(SSL_get_rfd, OWN, 0),
	F(SSL_get_security_callback, OWN, 0),
	F(SSL_get_security_level, OWN, 0),
	F(SSL_get_selected_srtp_profile, PARKED, 0),
	F(SSL_get_server_random, PARKED, 0),
	/* A client's: the name it sent (the takeover made N's the same). */
	F(SSL_get_servername, PARKED, 0),
	F(SSL_get_servername_type, PARKED, 0),
	F(SSL_get_session, PARKED, 0),
	F(SSL_get_shared_ciphers, PARKED, 0),
	F(SSL_get_shared_sigalgs, PARKED, 0),
	F(SSL_get_shutdown, PARKED, 0),
	F(SSL_get_sigalgs, PARKED, 0), /* the peer's */
	F(SSL_get_signature_type_nid, PARKED, 0), /* the handshake's own signature */
	/* SRP's (an SRP SSL is never taken over): what the session holds. */
	F(SSL_get_srp_N, PARKED, 0),
	F(SSL_get_srp_g, PARKED, 0),
	F(SSL_get_srp_userinfo, PARKED, 0),
	F(SSL_get_srp_username, PARKED, 0),
	F(SSL_get_srtp_profiles, OWN, 0), /* the configured ones */
	F(SSL_get_ssl_method, OWN, 0),
	F(SSL_get_state, PARKED, 0),
	F(SSL_get_verify_callback, OWN, 0),
	F(SSL_get_verify_depth, OWN, 0),
	F(SSL_get_verify_mode, OWN, 0),
	F(SSL_get_verify_result, PARKED, 0),
	F(SSL_get_version, PARKED, 0),
	F(SSL_get_wbio, OWN, 0),
	F(SSL_get_wfd, OWN, 0),
	F(SSL_group_to_name, OWN, 0), /* a look-up in its context's groups */
	F(SSL_has_matching_session_id, OWN, 0), /* a look in its context's cache */
	F(SSL_has_pending, PARKED, 0),
	F(SSL_in_before, PARKED, 0),
	F(SSL_in_init, PARKED, 0),
	F(SSL_is_dtls, OWN, 0),
	F(SSL_is_init_finished, PARKED, 0),
	F(SSL_is_server, OWN, 0), /* the role it was given */
	F(SSL_key_update, PARKED, 1), /* schedules a KeyUpdate the next write sends */
	F(SSL_new_session_ticket, FOREIGN, 1), /* the server side; schedules a ticket */
	F(SSL_pending, PARKED, 0),
	F(SSL_read_early_data, FOREIGN, 1), /* the server side; runs its handshake */
	F(SSL_renegotiate_pending, PARKED, 0),
	F(SSL_rstate_string, PARKED, 0),
	F(SSL_rstate_string_long, PARKED, 0),
	F(SSL_session_reused, PARKED, 0),
	F(SSL_set0_CA_list, FOREIGN, 0), /* CA names the handshake sends */
	F(SSL_set0_security_ex_data, OWN, 0), /* the security callback's data only */
	F(SSL_set0_tmp_dh_pkey, FOREIGN, 0), /* the server side */
	F(SSL_set1_host, HARMLESS_BEFORE, 0),
	/* The whole verification parameters: the takeover verifies P's chain
	 * with N's (SSL_get0_param's pointer may change them anyway). */
	F(SSL_set1_param, HARMLESS_BEFORE, 0),
	F(SSL_set_SSL_CTX, FOREIGN, 0), /* another context: its certificate and key too */
	F(SSL_set_accept_state, FOREIGN, 0),
	F(SSL_set_allow_early_data_cb, FOREIGN, 0),
	F(SSL_set_alpn_protos, HARMLESS_BEFORE, 0),
	/* Called with the SSL whose async job is ready (it would be P; no
	 * trampoline). */
	F(SSL_set_async_callback, FOREIGN, 0),
	F(SSL_set_async_callback_arg, FOREIGN, 0),
	F(SSL_set_block_padding, BOTH, 0), /* pads the records written */
	F(SSL_set_cert_cb, FOREIGN, 0),
	F(SSL_set_cipher_list, HARMLESS_BEFORE, 0),
	F(SSL_set_ciphersuites, HARMLESS_BEFORE, 0),
	F(SSL_set_client_CA_list, FOREIGN, 0),
	F(SSL_set_connect_state, HARMLESS_BEFORE, 0),
	F(SSL_set_ct_validation_callback, FOREIGN, 0),
	F(SSL_set_debug, OWN, 0), /* does nothing since 1.1.0 */
	/* Only for the keys it loads (SSL_use_..., foreign). */
	F(SSL_set_default_passwd_cb, OWN, 0),
	F(SSL_set_default_passwd_cb_userdata, OWN, 0),
	F(SSL_set_default_read_buffer_len, BOTH, 0),
	F(SSL_set_ex_data, OWN, 0),
	F(SSL_set_generate_session_id, FOREIGN, 0), /* the server side */
	F(SSL_set_hostflags, HARMLESS_BEFORE, 0),
	F(SSL_set_info_callback, BOTH, 0), /* P's is a trampoline that passes N */
	F(SSL_set_max_early_data, FOREIGN, 0),
	F(SSL_set_msg_callback, BOTH, 0), /* P's is a trampoline that passes N */
	F(SSL_set_not_resumable_session_callback, FOREIGN, 0),
	F(SSL_set_num_tickets, FOREIGN, 0), /* the server side */
	F(SSL_set_options, BOTH, 0), /* the version ones the takeover checks as bounds */
	F(SSL_set_post_handshake_auth, HARMLESS_BEFORE, 0),
	F(SSL_set_psk_client_callback, FOREIGN, 0),
	F(SSL_set_psk_find_session_callback, FOREIGN, 0),
	F(SSL_set_psk_server_callback, FOREIGN, 0),
	F(SSL_set_psk_use_session_callback, FOREIGN, 0),
	F(SSL_set_purpose, HARMLESS_BEFORE, 0), /* a verification parameter */
	/* SSL_shutdown, which goes to P, reads P's flag: a quiet shutdown
	 * asked for on N must hold there. */
	F(SSL_set_quiet_shutdown, BOTH, 0),
	F(SSL_set_read_ahead, BOTH, 0),
	/* Called with the SSL whose records are padded: P's is a trampoline
	 * that passes N, as for the msg and info callbacks. */
	F(SSL_set_record_padding_callback, BOTH, 0),
	F(SSL_set_record_padding_callback_arg, BOTH, 0),
	F(SSL_set_recv_max_early_data, FOREIGN, 0),
	F(SSL_set_security_callback, FOREIGN, 0), /* may veto anything in a handshake */
	/* The takeover judges P's chain and cipher by it. */
	F(SSL_set_security_level, HARMLESS_BEFORE, 0),
	F(SSL_set_session, HARMLESS_BEFORE, 0), /* a resumption the takeover makes unneeded */
	/* Names the sessions it caches; no client's handshake sends it. */
	F(SSL_set_session_id_context, OWN, 0),
	F(SSL_set_session_secret_cb, FOREIGN, 0),
	F(SSL_set_session_ticket_ext, FOREIGN, 0),
	F(SSL_set_session_ticket_ext_cb, FOREIGN, 0),
	/* P's flags (SSL_write refuses after SSL_SENT_SHUTDOWN): a park must
	 * clear what the program set when no close_notify went. */
	F(SSL_set_shutdown, PARKED, 0),
	F(SSL_set_srp_server_param, FOREIGN, 0),
	F(SSL_set_srp_server_param_pw, FOREIGN, 0),
	F(SSL_set_ssl_method, FOREIGN, 0), /* another method: its versions, maybe its role */
	F(SSL_set_tlsext_max_fragment_length, FOREIGN, 0), /* negotiated: P's stays what it was */
	F(SSL_set_tlsext_use_srtp, FOREIGN, 0),
	F(SSL_set_tmp_dh_callback, FOREIGN, 0),
	F(SSL_set_trust, HARMLESS_BEFORE, 0), /* a verification parameter */
	/* The takeover verifies P's chain with N's mode and callback. */
	F(SSL_set_verify, HARMLESS_BEFORE, 0),
	F(SSL_set_verify_depth, HARMLESS_BEFORE, 0),
	/* The connection's verdict, where SSL_get_verify_result reads it (a
	 * program that checks the peer itself sets its own). The takeover
	 * sets P's anew for each SSL that takes it, so that a verdict never
	 * outlives the program's SSL that gave it. */
	F(SSL_set_verify_result, PARKED, 0),
	F(SSL_shutdown, PARKED, 1), /* a close_notify on the connection */
	F(SSL_srp_server_param_with_username, FOREIGN, 0),
	F(SSL_state_string, PARKED, 0),
	F(SSL_state_string_long, PARKED, 0),
	F(SSL_stateless, FOREIGN, 1), /* the server side; runs its handshake */
	F(SSL_use_PrivateKey, FOREIGN, 0),
	F(SSL_use_PrivateKey_file, FOREIGN, 0),
	F(SSL_use_RSAPrivateKey, FOREIGN, 0),
	F(SSL_use_RSAPrivateKey_ASN1, FOREIGN, 0),
	F(SSL_use_RSAPrivateKey_file, FOREIGN, 0),
	F(SSL_use_cert_and_key, FOREIGN, 0),
	F(SSL_use_certificate, FOREIGN, 0),
	F(SSL_use_certificate_ASN1, FOREIGN, 0),
	F(SSL_use_certificate_chain_file, FOREIGN, 0),
	F(SSL_use_certificate_file, FOREIGN, 0),
	F(SSL_use_psk_identity_hint, FOREIGN, 0),
	F(SSL_verify_client_post_handshake, FOREIGN, 1), /* the server side; schedules a request */
	F(SSL_version, PARKED, 0),
	F(SSL_waiting_for_async, PARKED, 0),
	F(SSL_want, PARKED, 0), /* the last I/O call's */
};

#undef F

/* K: an SSL_ctrl command; C: an SSL_callback_ctrl one. */
#define K(cmd, name, kind, writes) { cmd, false, KW_OSSL_##kind, writes, #name }
#define C(cmd, name, kind, writes) { cmd, true, KW_OSSL_##kind, writes, #name }

/* Every command SSL_ctrl or SSL_callback_ctrl takes for an SSL, by number;
 * the others (SSL_CTX ones: session cache and its statistics, ticket keys,
 * the servername and status callbacks, SRP, extra chain certificates)
 * come back 0 from ssl3_ctrl and are unknown here. The macros are named
 * where they are not the command's name. */
static const struct kw_ossl_ctrl ctrls[] = {
	K(3, SSL_CTRL_SET_TMP_DH, FOREIGN, 0), /* the server side */
	/* Its key's curve becomes the group list (SSL_set1_groups). */
	K(4, SSL_CTRL_SET_TMP_ECDH, HARMLESS_BEFORE, 0),
	K(6, SSL_CTRL_SET_TMP_DH_CB, OWN, 0), /* refused: only SSL_callback_ctrl takes it */
	C(6, SSL_CTRL_SET_TMP_DH_CB, FOREIGN, 0), /* SSL_set_tmp_dh_callback: the server side */
	K(9, SSL_CTRL_GET_CLIENT_CERT_REQUEST, OWN, 0), /* does nothing (0) */
	K(10, SSL_CTRL_GET_NUM_RENEGOTIATIONS, PARKED, 0),
	K(11, SSL_CTRL_CLEAR_NUM_RENEGOTIATIONS, PARKED, 0),
	K(12, SSL_CTRL_GET_TOTAL_RENEGOTIATIONS, PARKED, 0),
	K(13, SSL_CTRL_GET_FLAGS, PARKED, 0), /* the connection's TLS1_FLAGS_ */
	C(15, SSL_CTRL_SET_MSG_CALLBACK, BOTH, 0), /* P's is a trampoline that passes N */
	K(16, SSL_CTRL_SET_MSG_CALLBACK_ARG, BOTH, 0),
	K(17, SSL_CTRL_SET_MTU, FOREIGN, 0), /* DTLS */
	K(33, SSL_CTRL_MODE, BOTH, 0), /* SSL_set_mode; SSL_get_mode sets nothing */
	K(40, SSL_CTRL_GET_READ_AHEAD, OWN, 0),
	K(41, SSL_CTRL_SET_READ_AHEAD, BOTH, 0),
	K(50, SSL_CTRL_GET_MAX_CERT_LIST, OWN, 0),
	/* Bounds the peer's certificate message in a handshake: P's is over. */
	K(51, SSL_CTRL_SET_MAX_CERT_LIST, OWN, 0),
	K(52, SSL_CTRL_SET_MAX_SEND_FRAGMENT, BOTH, 0),
	K(55, SSL_CTRL_SET_TLSEXT_HOSTNAME, HARMLESS_BEFORE, 0), /* the takeover compares it */
	/* The extension debugging callback (SSL_set_tlsext_debug_callback)
	 * runs only in a handshake: missing a taken-over one's loses a trace. */
	C(56, SSL_CTRL_SET_TLSEXT_DEBUG_CB, OWN, 0),
	K(57, SSL_CTRL_SET_TLSEXT_DEBUG_ARG, OWN, 0),
	/* OCSP stapling: both ClientHellos must ask for it alike, and the
	 * takeover calls the context's status callback as the handshake does
	 * (service/openssl_keep.c). The request's own extensions and
	 * responder ids are not compared: foreign. */
	K(65, SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, HARMLESS_BEFORE, 0),
	K(66, SSL_CTRL_GET_TLSEXT_STATUS_REQ_EXTS, OWN, 0),
	K(67, SSL_CTRL_SET_TLSEXT_STATUS_REQ_EXTS, FOREIGN, 0),
	K(68, SSL_CTRL_GET_TLSEXT_STATUS_REQ_IDS, OWN, 0),
	K(69, SSL_CTRL_SET_TLSEXT_STATUS_REQ_IDS, FOREIGN, 0),
	K(70, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, PARKED, 0), /* the stapled response */
	K(71, SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, FOREIGN, 0), /* the server side */
	K(73, DTLS_CTRL_GET_TIMEOUT, FOREIGN, 0), /* DTLS */
	K(74, DTLS_CTRL_HANDLE_TIMEOUT, FOREIGN, 1), /* DTLS; retransmits */
	/* SSL_get_secure_renegotiation_support: the peer's. (76 is also
	 * SSL_CTRL_SET_SRP_VERIFY_PARAM_CB, an SSL_CTX one.) */
	K(76, SSL_CTRL_GET_RI_SUPPORT, PARKED, 0),
	/* SSL_clear_mode. (78 is also SSL_CTRL_SET_SRP_ARG, an SSL_CTX one.) */
	K(78, SSL_CTRL_CLEAR_MODE, BOTH, 0),
	/* The server side. (79 is also SSL_CTRL_SET_TLS_EXT_SRP_USERNAME, an
	 * SSL_CTX one: SSL_ctrl does nothing with it.) */
	C(79, SSL_CTRL_SET_NOT_RESUMABLE_SESS_CB, FOREIGN, 0),
	K(88, SSL_CTRL_CHAIN, FOREIGN, 0), /* its own chain (SSL_set0_chain, SSL_set1_chain) */
	K(89, SSL_CTRL_CHAIN_CERT, FOREIGN, 0),
	K(90, SSL_CTRL_GET_GROUPS, PARKED, 0), /* SSL_get1_groups: the peer's */
	K(91, SSL_CTRL_SET_GROUPS, HARMLESS_BEFORE, 0),
	K(92, SSL_CTRL_SET_GROUPS_LIST, HARMLESS_BEFORE, 0),
	K(93, SSL_CTRL_GET_SHARED_GROUP, PARKED, 0),
	K(97, SSL_CTRL_SET_SIGALGS, HARMLESS_BEFORE, 0),
	K(98, SSL_CTRL_SET_SIGALGS_LIST, HARMLESS_BEFORE, 0),
	K(99, SSL_CTRL_CERT_FLAGS, FOREIGN, 0), /* Suite B and strict mode shape the handshake */
	K(100, SSL_CTRL_CLEAR_CERT_FLAGS, FOREIGN, 0),
	K(101, SSL_CTRL_SET_CLIENT_SIGALGS, FOREIGN, 0), /* for a client certificate */
	K(102, SSL_CTRL_SET_CLIENT_SIGALGS_LIST, FOREIGN, 0),
	K(103, SSL_CTRL_GET_CLIENT_CERT_TYPES, PARKED, 0), /* the server's certificate request */
	K(104, SSL_CTRL_SET_CLIENT_CERT_TYPES, FOREIGN, 0), /* the server side */
	K(105, SSL_CTRL_BUILD_CERT_CHAIN, FOREIGN, 0),
	/* A trust store of its own, not its context's. */
	K(106, SSL_CTRL_SET_VERIFY_CERT_STORE, FOREIGN, 0),
	K(107, SSL_CTRL_SET_CHAIN_CERT_STORE, FOREIGN, 0),
	K(108, SSL_CTRL_GET_PEER_SIGNATURE_NID, PARKED, 0),
	K(109, SSL_CTRL_GET_PEER_TMP_KEY, PARKED, 0),
	K(110, SSL_CTRL_GET_RAW_CIPHERLIST, PARKED, 0), /* the peer's */
	K(111, SSL_CTRL_GET_EC_POINT_FORMATS, PARKED, 0),
	K(115, SSL_CTRL_GET_CHAIN_CERTS, OWN, 0),
	K(116, SSL_CTRL_SELECT_CURRENT_CERT, FOREIGN, 0), /* which of its certificates it sends */
	K(117, SSL_CTRL_SET_CURRENT_CERT, FOREIGN, 0),
	K(118, SSL_CTRL_SET_DH_AUTO, FOREIGN, 0), /* the server side */
	K(120, DTLS_CTRL_SET_LINK_MTU, FOREIGN, 0), /* DTLS */
	K(121, DTLS_CTRL_GET_LINK_MIN_MTU, FOREIGN, 0),
	K(122, SSL_CTRL_GET_EXTMS_SUPPORT, PARKED, 0),
	K(123, SSL_CTRL_SET_MIN_PROTO_VERSION, HARMLESS_BEFORE, 0),
	K(124, SSL_CTRL_SET_MAX_PROTO_VERSION, HARMLESS_BEFORE, 0),
	K(125, SSL_CTRL_SET_SPLIT_SEND_FRAGMENT, BOTH, 0),
	K(126, SSL_CTRL_SET_MAX_PIPELINES, BOTH, 0), /* also turns read-ahead on */
	K(127, SSL_CTRL_GET_TLSEXT_STATUS_REQ_TYPE, OWN, 0), /* a client's: what it asked for */
	K(130, SSL_CTRL_GET_MIN_PROTO_VERSION, OWN, 0),
	K(131, SSL_CTRL_GET_MAX_PROTO_VERSION, OWN, 0),
	K(132, SSL_CTRL_GET_SIGNATURE_NID, PARKED, 0),
	K(133, SSL_CTRL_GET_TMP_KEY, PARKED, 0),
	K(134, SSL_CTRL_GET_NEGOTIATED_GROUP, PARKED, 0),
	/* From a verify callback, to pause a handshake: the takeover's
	 * verification cannot wait. */
	K(136, SSL_CTRL_SET_RETRY_VERIFY, FOREIGN, 0),
	K(137, SSL_CTRL_GET_VERIFY_CERT_STORE, OWN, 0),
	K(138, SSL_CTRL_GET_CHAIN_CERT_STORE, OWN, 0),
};

#undef K
#undef C

static int call_cmp(const void *key, const void *elt)
{
	return strcmp(key, ((const struct kw_ossl_call *)elt)->name);
}

enum kw_ossl_kind kw_ossl_call_kind(const char *name, bool *writes)
{
	const struct kw_ossl_call *c = NULL;

	if (name)
		c = bsearch(name, calls, sizeof calls / sizeof calls[0], sizeof calls[0], call_cmp);
	if (writes)
		*writes = c ? c->writes : true;
	return c ? (enum kw_ossl_kind)c->kind : KW_OSSL_FOREIGN;
}

struct ctrl_key {
	int cmd;
	bool callback;
};

static int ctrl_cmp(const void *key, const void *elt)
{
	const struct ctrl_key *k = key;
	const struct kw_ossl_ctrl *e = elt;

	if (k->cmd != e->cmd)
		return k->cmd < e->cmd ? -1 : 1;
	return (int)k->callback - (int)e->callback;
}

enum kw_ossl_kind kw_ossl_ctrl_kind(int cmd, bool callback_ctrl, bool *writes)
{
	struct ctrl_key k = { cmd, callback_ctrl };
	const struct kw_ossl_ctrl *c =
		bsearch(&k, ctrls, sizeof ctrls / sizeof ctrls[0], sizeof ctrls[0], ctrl_cmp);

	if (writes)
		*writes = c ? c->writes : true;
	return c ? (enum kw_ossl_kind)c->kind : KW_OSSL_FOREIGN;
}

const struct kw_ossl_call *kw_ossl_call_table(size_t *n)
{
	*n = sizeof calls / sizeof calls[0];
	return calls;
}

const struct kw_ossl_ctrl *kw_ossl_ctrl_table(size_t *n)
{
	*n = sizeof ctrls / sizeof ctrls[0];
	return ctrls;
}
