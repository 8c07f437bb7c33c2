/* test_ossl_calls.c - unit tests for shim/logic/ossl_calls.h: every routed
 * OpenSSL function and every command SSL_ctrl and SSL_callback_ctrl take
 * for an SSL have an entry, checked against service/openssl_routed.h,
 * service/tls_real.h's hand-wrapped list and the installed headers; the
 * tables are sorted; spot checks. (The service headers give names only:
 * nothing of theirs is linked.) */
#include <check.h>
#include <ctype.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logic/ossl_calls.h"
#include "service/openssl_routed.h"
#include "service/tls_real.h"

#ifndef KW_OPENSSL_INCLUDE
#define KW_OPENSSL_INCLUDE "/usr/include/openssl"
#endif

#define ROUTED_NAME(name, version, i) #name,
static const char *const routed[] = { KW_OPENSSL_ROUTED(ROUTED_NAME) };
#undef ROUTED_NAME
#define NROUTED (sizeof routed / sizeof routed[0])

#define WRAPPED_NAME(name, ret, args) #name,
static const char *const wrapped[] = { KW_OPENSSL_WRAPPED(WRAPPED_NAME) };
#undef WRAPPED_NAME
#define NWRAPPED (sizeof wrapped / sizeof wrapped[0])

static bool listed(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

static const struct kw_ossl_call *call_entry(const char *name)
{
	size_t n;
	const struct kw_ossl_call *t = kw_ossl_call_table(&n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

static const struct kw_ossl_ctrl *ctrl_entry(int cmd, bool callback)
{
	size_t n;
	const struct kw_ossl_ctrl *t = kw_ossl_ctrl_table(&n);

	for (size_t i = 0; i < n; i++)
		if (t[i].cmd == cmd && t[i].callback == callback)
			return &t[i];
	return NULL;
}

/* Append name to a list of failures (a message). */
static void note(char *buf, size_t size, const char *name)
{
	size_t len = strlen(buf);

	if (len + strlen(name) + 2 < size)
		snprintf(buf + len, size - len, " %s", name);
}

START_TEST(test_every_routed_function)
{
	static char missing[8192], extra[8192];
	size_t n;
	const struct kw_ossl_call *t = kw_ossl_call_table(&n);

	missing[0] = extra[0] = 0;
	ck_assert_uint_eq(NROUTED, KW_OPENSSL_NROUTED);
	for (size_t i = 0; i < NROUTED; i++)
		if (!call_entry(routed[i]))
			note(missing, sizeof missing, routed[i]);
	ck_assert_msg(!missing[0], "routed functions without an entry:%s", missing);
	/* Nothing else but functions since wrapped by hand (their wrappers
	 * may ask too): a name the library lost goes from the table. */
	for (size_t i = 0; i < n; i++)
		if (!listed(routed, NROUTED, t[i].name) && !listed(wrapped, NWRAPPED, t[i].name))
			note(extra, sizeof extra, t[i].name);
	ck_assert_msg(!extra[0], "entries for functions neither routed nor wrapped:%s", extra);
	ck_assert_uint_ge(n, NROUTED);
}
END_TEST

START_TEST(test_call_table)
{
	size_t n;
	const struct kw_ossl_call *t = kw_ossl_call_table(&n);
	bool w;

	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(t[i].name);
		ck_assert_uint_lt(t[i].kind, KW_OSSL_KINDS);
		if (i)
			ck_assert_msg(strcmp(t[i - 1].name, t[i].name) < 0, "not sorted: %s, %s",
			              t[i - 1].name, t[i].name);
		/* The look-up finds each. */
		w = !t[i].writes;
		ck_assert_int_eq(kw_ossl_call_kind(t[i].name, &w), t[i].kind);
		ck_assert(w == t[i].writes);
		ck_assert_int_eq(kw_ossl_call_kind(t[i].name, NULL), t[i].kind);
		/* Only the two controls are by command. */
		bool by_cmd = !strcmp(t[i].name, "SSL_ctrl") ||
		              !strcmp(t[i].name, "SSL_callback_ctrl");
		ck_assert((t[i].kind == KW_OSSL_BY_CMD) == by_cmd);
	}
	/* Unknown: foreign, and written to (SSL_read, SSL_free, SSL_set_fd
	 * are wrapped by hand, without an entry). */
	static const char *const unknown[] = { "SSL_read", "SSL_free", "SSL_set_fd", "",
	                                       "SSL_", "zzz", "AAA", "SSL_get_fdx" };
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		w = false;
		ck_assert_int_eq(kw_ossl_call_kind(unknown[i], &w), KW_OSSL_FOREIGN);
		ck_assert(w);
	}
	w = false;
	ck_assert_int_eq(kw_ossl_call_kind(NULL, &w), KW_OSSL_FOREIGN);
	ck_assert(w);
}
END_TEST

/* The commands the installed headers define, and which of SSL_ctrl (CTRL)
 * and SSL_callback_ctrl (CB) take each for an SSL (0: an SSL_CTX one). */
enum { CTRL = 1, CB = 2 };
struct hdr_cmd {
	const char *name;
	int value;
	unsigned takes;
};
#define H(name, takes) { #name, name, takes }
static const struct hdr_cmd hdr[] = {
	H(SSL_CTRL_SET_TMP_DH, CTRL),
	H(SSL_CTRL_SET_TMP_ECDH, CTRL),
	H(SSL_CTRL_SET_TMP_DH_CB, CTRL | CB), /* SSL_ctrl refuses it, with an error */
	H(SSL_CTRL_GET_CLIENT_CERT_REQUEST, CTRL),
	H(SSL_CTRL_GET_NUM_RENEGOTIATIONS, CTRL),
	H(SSL_CTRL_CLEAR_NUM_RENEGOTIATIONS, CTRL),
	H(SSL_CTRL_GET_TOTAL_RENEGOTIATIONS, CTRL),
	H(SSL_CTRL_GET_FLAGS, CTRL),
	H(SSL_CTRL_EXTRA_CHAIN_CERT, 0),
	H(SSL_CTRL_SET_MSG_CALLBACK, CB),
	H(SSL_CTRL_SET_MSG_CALLBACK_ARG, CTRL),
	H(SSL_CTRL_SET_MTU, CTRL),
	H(SSL_CTRL_SESS_NUMBER, 0),
	H(SSL_CTRL_SESS_CONNECT, 0),
	H(SSL_CTRL_SESS_CONNECT_GOOD, 0),
	H(SSL_CTRL_SESS_CONNECT_RENEGOTIATE, 0),
	H(SSL_CTRL_SESS_ACCEPT, 0),
	H(SSL_CTRL_SESS_ACCEPT_GOOD, 0),
	H(SSL_CTRL_SESS_ACCEPT_RENEGOTIATE, 0),
	H(SSL_CTRL_SESS_HIT, 0),
	H(SSL_CTRL_SESS_CB_HIT, 0),
	H(SSL_CTRL_SESS_MISSES, 0),
	H(SSL_CTRL_SESS_TIMEOUTS, 0),
	H(SSL_CTRL_SESS_CACHE_FULL, 0),
	H(SSL_CTRL_MODE, CTRL),
	H(SSL_CTRL_GET_READ_AHEAD, CTRL),
	H(SSL_CTRL_SET_READ_AHEAD, CTRL),
	H(SSL_CTRL_SET_SESS_CACHE_SIZE, 0),
	H(SSL_CTRL_GET_SESS_CACHE_SIZE, 0),
	H(SSL_CTRL_SET_SESS_CACHE_MODE, 0),
	H(SSL_CTRL_GET_SESS_CACHE_MODE, 0),
	H(SSL_CTRL_GET_MAX_CERT_LIST, CTRL),
	H(SSL_CTRL_SET_MAX_CERT_LIST, CTRL),
	H(SSL_CTRL_SET_MAX_SEND_FRAGMENT, CTRL),
	H(SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, 0),
	H(SSL_CTRL_SET_TLSEXT_SERVERNAME_ARG, 0),
	H(SSL_CTRL_SET_TLSEXT_HOSTNAME, CTRL),
	H(SSL_CTRL_SET_TLSEXT_DEBUG_CB, CB),
	H(SSL_CTRL_SET_TLSEXT_DEBUG_ARG, CTRL),
	H(SSL_CTRL_GET_TLSEXT_TICKET_KEYS, 0),
	H(SSL_CTRL_SET_TLSEXT_TICKET_KEYS, 0),
	H(SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB, 0),
	H(SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB_ARG, 0),
	H(SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, CTRL),
	H(SSL_CTRL_GET_TLSEXT_STATUS_REQ_EXTS, CTRL),
	H(SSL_CTRL_SET_TLSEXT_STATUS_REQ_EXTS, CTRL),
	H(SSL_CTRL_GET_TLSEXT_STATUS_REQ_IDS, CTRL),
	H(SSL_CTRL_SET_TLSEXT_STATUS_REQ_IDS, CTRL),
	H(SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, CTRL),
	H(SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, CTRL),
	H(SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB, 0),
	H(SSL_CTRL_SET_TLS_EXT_SRP_USERNAME_CB, 0),
	H(SSL_CTRL_SET_SRP_VERIFY_PARAM_CB, 0),
	H(SSL_CTRL_SET_SRP_GIVE_CLIENT_PWD_CB, 0),
	H(SSL_CTRL_SET_SRP_ARG, 0),
	H(SSL_CTRL_SET_TLS_EXT_SRP_USERNAME, 0),
	H(SSL_CTRL_SET_TLS_EXT_SRP_STRENGTH, 0),
	H(SSL_CTRL_SET_TLS_EXT_SRP_PASSWORD, 0),
	H(DTLS_CTRL_GET_TIMEOUT, CTRL),
	H(DTLS_CTRL_HANDLE_TIMEOUT, CTRL),
	H(SSL_CTRL_GET_RI_SUPPORT, CTRL),
	H(SSL_CTRL_CLEAR_MODE, CTRL),
	H(SSL_CTRL_SET_NOT_RESUMABLE_SESS_CB, CB),
	H(SSL_CTRL_GET_EXTRA_CHAIN_CERTS, 0),
	H(SSL_CTRL_CLEAR_EXTRA_CHAIN_CERTS, 0),
	H(SSL_CTRL_CHAIN, CTRL),
	H(SSL_CTRL_CHAIN_CERT, CTRL),
	H(SSL_CTRL_GET_GROUPS, CTRL),
	H(SSL_CTRL_SET_GROUPS, CTRL),
	H(SSL_CTRL_SET_GROUPS_LIST, CTRL),
	H(SSL_CTRL_GET_SHARED_GROUP, CTRL),
	H(SSL_CTRL_SET_SIGALGS, CTRL),
	H(SSL_CTRL_SET_SIGALGS_LIST, CTRL),
	H(SSL_CTRL_CERT_FLAGS, CTRL),
	H(SSL_CTRL_CLEAR_CERT_FLAGS, CTRL),
	H(SSL_CTRL_SET_CLIENT_SIGALGS, CTRL),
	H(SSL_CTRL_SET_CLIENT_SIGALGS_LIST, CTRL),
	H(SSL_CTRL_GET_CLIENT_CERT_TYPES, CTRL),
	H(SSL_CTRL_SET_CLIENT_CERT_TYPES, CTRL),
	H(SSL_CTRL_BUILD_CERT_CHAIN, CTRL),
	H(SSL_CTRL_SET_VERIFY_CERT_STORE, CTRL),
	H(SSL_CTRL_SET_CHAIN_CERT_STORE, CTRL),
	H(SSL_CTRL_GET_PEER_SIGNATURE_NID, CTRL),
	H(SSL_CTRL_GET_PEER_TMP_KEY, CTRL),
	H(SSL_CTRL_GET_RAW_CIPHERLIST, CTRL),
	H(SSL_CTRL_GET_EC_POINT_FORMATS, CTRL),
	H(SSL_CTRL_GET_CHAIN_CERTS, CTRL),
	H(SSL_CTRL_SELECT_CURRENT_CERT, CTRL),
	H(SSL_CTRL_SET_CURRENT_CERT, CTRL),
	H(SSL_CTRL_SET_DH_AUTO, CTRL),
	H(DTLS_CTRL_SET_LINK_MTU, CTRL),
	H(DTLS_CTRL_GET_LINK_MIN_MTU, CTRL),
	H(SSL_CTRL_GET_EXTMS_SUPPORT, CTRL),
	H(SSL_CTRL_SET_MIN_PROTO_VERSION, CTRL),
	H(SSL_CTRL_SET_MAX_PROTO_VERSION, CTRL),
	H(SSL_CTRL_SET_SPLIT_SEND_FRAGMENT, CTRL),
	H(SSL_CTRL_SET_MAX_PIPELINES, CTRL),
	H(SSL_CTRL_GET_TLSEXT_STATUS_REQ_TYPE, CTRL),
	H(SSL_CTRL_GET_TLSEXT_STATUS_REQ_CB, 0),
	H(SSL_CTRL_GET_TLSEXT_STATUS_REQ_CB_ARG, 0),
	H(SSL_CTRL_GET_MIN_PROTO_VERSION, CTRL),
	H(SSL_CTRL_GET_MAX_PROTO_VERSION, CTRL),
	H(SSL_CTRL_GET_SIGNATURE_NID, CTRL),
	H(SSL_CTRL_GET_TMP_KEY, CTRL),
	H(SSL_CTRL_GET_NEGOTIATED_GROUP, CTRL),
	H(SSL_CTRL_SET_RETRY_VERIFY, CTRL),
	H(SSL_CTRL_GET_VERIFY_CERT_STORE, CTRL),
	H(SSL_CTRL_GET_CHAIN_CERT_STORE, CTRL),
	/* Other names of the same numbers. */
	H(SSL_CTRL_GET_SERVER_TMP_KEY, CTRL),
	H(SSL_CTRL_GET_CURVES, CTRL),
	H(SSL_CTRL_SET_CURVES, CTRL),
	H(SSL_CTRL_SET_CURVES_LIST, CTRL),
	H(SSL_CTRL_GET_SHARED_CURVE, CTRL),
};
#undef H
#define NHDR (sizeof hdr / sizeof hdr[0])

static const struct hdr_cmd *hdr_named(const char *name)
{
	for (size_t i = 0; i < NHDR; i++)
		if (!strcmp(hdr[i].name, name))
			return &hdr[i];
	return NULL;
}

/* Does some name of number cmd go to that function? */
static bool hdr_takes(int cmd, unsigned how)
{
	for (size_t i = 0; i < NHDR; i++)
		if (hdr[i].value == cmd && (hdr[i].takes & how))
			return true;
	return false;
}

/* The names "#define SSL_CTRL_..." and "#define DTLS_CTRL_..." in the
 * header file: each must be in hdr (a new one is classified here). */
static unsigned scan_header(const char *file, char *unknown, size_t size, unsigned *seen)
{
	char path[512], line[1024];
	unsigned found = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", KW_OPENSSL_INCLUDE, file);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	while (fgets(line, sizeof line, f)) {
		char *p = line, name[128];
		size_t len = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '#')
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "define", 6) || (p[6] != ' ' && p[6] != '\t'))
			continue;
		for (p += 6; *p == ' ' || *p == '\t'; p++)
			;
		while (len + 1 < sizeof name && (p[len] == '_' || isupper((unsigned char)p[len]) ||
		                                 isdigit((unsigned char)p[len])))
			len++;
		memcpy(name, p, len);
		name[len] = 0;
		if (strncmp(name, "SSL_CTRL_", 9) && strncmp(name, "DTLS_CTRL_", 10))
			continue;
		found++;
		const struct hdr_cmd *h = hdr_named(name);
		if (h)
			seen[h - hdr]++;
		else
			note(unknown, size, name);
	}
	fclose(f);
	return found;
}

START_TEST(test_every_header_command)
{
	static const char *const files[] = { "ssl.h", "tls1.h", "dtls1.h", "ssl3.h" };
	static char unknown[4096], missing[4096], bad[4096];
	unsigned seen[NHDR], found = 0;
	size_t n;
	const struct kw_ossl_ctrl *t = kw_ossl_ctrl_table(&n);

	unknown[0] = missing[0] = bad[0] = 0;
	memset(seen, 0, sizeof seen);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		found += scan_header(files[i], unknown, sizeof unknown, seen);
	ck_assert_msg(!unknown[0], "commands in the headers not classified here:%s", unknown);
	for (size_t i = 0; i < NHDR; i++)
		ck_assert_msg(seen[i] == 1, "%s defined %u times", hdr[i].name, seen[i]);
	ck_assert_uint_eq(found, NHDR);

	/* Every command taken for an SSL has an entry... */
	for (size_t i = 0; i < NHDR; i++) {
		if ((hdr[i].takes & CTRL) && !ctrl_entry(hdr[i].value, false))
			note(missing, sizeof missing, hdr[i].name);
		if ((hdr[i].takes & CB) && !ctrl_entry(hdr[i].value, true))
			note(missing, sizeof missing, hdr[i].name);
	}
	ck_assert_msg(!missing[0], "commands without an entry:%s", missing);
	/* ...and every entry is one, under its own name and number. */
	for (size_t i = 0; i < n; i++) {
		const struct hdr_cmd *h = hdr_named(t[i].name);
		if (!h || h->value != t[i].cmd || !(h->takes & (t[i].callback ? CB : CTRL)) ||
		    !hdr_takes(t[i].cmd, t[i].callback ? CB : CTRL))
			note(bad, sizeof bad, t[i].name);
	}
	ck_assert_msg(!bad[0], "entries not matching the headers:%s", bad);
}
END_TEST

START_TEST(test_ctrl_table)
{
	size_t n;
	const struct kw_ossl_ctrl *t = kw_ossl_ctrl_table(&n);
	bool w;

	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_lt(t[i].kind, KW_OSSL_KINDS);
		ck_assert_int_ne(t[i].kind, KW_OSSL_BY_CMD);
		if (i) {
			bool up = t[i - 1].cmd < t[i].cmd ||
			          (t[i - 1].cmd == t[i].cmd && !t[i - 1].callback && t[i].callback);
			ck_assert_msg(up, "not sorted: %s, %s", t[i - 1].name, t[i].name);
		}
		w = !t[i].writes;
		ck_assert_int_eq(kw_ossl_ctrl_kind(t[i].cmd, t[i].callback, &w), t[i].kind);
		ck_assert(w == t[i].writes);
		ck_assert_int_eq(kw_ossl_ctrl_kind(t[i].cmd, t[i].callback, NULL), t[i].kind);
	}
	/* Unknown: an SSL_CTX command, or none. */
	static const int unknown[] = {
		SSL_CTRL_SESS_NUMBER, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_CTRL_GET_TLSEXT_TICKET_KEYS,
		SSL_CTRL_GET_EXTRA_CHAIN_CERTS, SSL_CTRL_SET_TLS_EXT_SRP_USERNAME, 0, -1, 1000,
	};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		w = false;
		ck_assert_int_eq(kw_ossl_ctrl_kind(unknown[i], false, &w), KW_OSSL_FOREIGN);
		ck_assert(w);
	}
	/* A command of one function given to the other. */
	w = false;
	ck_assert_int_eq(kw_ossl_ctrl_kind(SSL_CTRL_SET_MSG_CALLBACK, false, &w), KW_OSSL_FOREIGN);
	ck_assert(w);
	w = false;
	ck_assert_int_eq(kw_ossl_ctrl_kind(SSL_CTRL_MODE, true, &w), KW_OSSL_FOREIGN);
	ck_assert(w);
	ck_assert_int_eq(kw_ossl_ctrl_kind(SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, true, NULL),
	                 KW_OSSL_FOREIGN);
}
END_TEST

struct spot {
	const char *name;
	enum kw_ossl_kind kind;
	bool writes;
};

START_TEST(test_call_spots)
{
	static const struct spot spots[] = {
		{ "SSL_get_ex_data", KW_OSSL_OWN, false },
		{ "SSL_set_ex_data", KW_OSSL_OWN, false },
		{ "SSL_get_SSL_CTX", KW_OSSL_OWN, false },
		{ "SSL_get_verify_mode", KW_OSSL_OWN, false },
		{ "SSL_get_verify_depth", KW_OSSL_OWN, false },
		{ "SSL_get_verify_callback", KW_OSSL_OWN, false },
		{ "SSL_get_rbio", KW_OSSL_OWN, false },
		{ "SSL_get_wbio", KW_OSSL_OWN, false },
		{ "SSL_get_fd", KW_OSSL_OWN, false },
		{ "SSL_get0_param", KW_OSSL_OWN, false },
		{ "SSL_get_info_callback", KW_OSSL_OWN, false },
		{ "SSL_get_quiet_shutdown", KW_OSSL_OWN, false },
		{ "SSL_get_security_level", KW_OSSL_OWN, false },
		{ "SSL_dup", KW_OSSL_OWN, false },
		{ "SSL_set_options", KW_OSSL_BOTH, false },
		{ "SSL_clear_options", KW_OSSL_BOTH, false },
		{ "SSL_set_read_ahead", KW_OSSL_BOTH, false },
		{ "SSL_set_default_read_buffer_len", KW_OSSL_BOTH, false },
		{ "SSL_set_msg_callback", KW_OSSL_BOTH, false },
		{ "SSL_set_info_callback", KW_OSSL_BOTH, false },
		{ "SSL_set_quiet_shutdown", KW_OSSL_BOTH, false },
		{ "SSL_pending", KW_OSSL_PARKED, false },
		{ "SSL_has_pending", KW_OSSL_PARKED, false },
		{ "SSL_get0_peer_certificate", KW_OSSL_PARKED, false },
		{ "SSL_get1_peer_certificate", KW_OSSL_PARKED, false },
		{ "SSL_get_peer_cert_chain", KW_OSSL_PARKED, false },
		{ "SSL_get0_verified_chain", KW_OSSL_PARKED, false },
		{ "SSL_version", KW_OSSL_PARKED, false },
		{ "SSL_get_version", KW_OSSL_PARKED, false },
		{ "SSL_get_current_cipher", KW_OSSL_PARKED, false },
		{ "SSL_get_session", KW_OSSL_PARKED, false },
		{ "SSL_get1_session", KW_OSSL_PARKED, false },
		{ "SSL_get0_alpn_selected", KW_OSSL_PARKED, false },
		{ "SSL_get_verify_result", KW_OSSL_PARKED, false },
		{ "SSL_set_verify_result", KW_OSSL_PARKED, false },
		{ "SSL_get_shutdown", KW_OSSL_PARKED, false },
		{ "SSL_set_shutdown", KW_OSSL_PARKED, false },
		{ "SSL_get_error", KW_OSSL_PARKED, false },
		{ "SSL_get_state", KW_OSSL_PARKED, false },
		{ "SSL_is_init_finished", KW_OSSL_PARKED, false },
		{ "SSL_export_keying_material", KW_OSSL_PARKED, false },
		{ "SSL_get_finished", KW_OSSL_PARKED, false },
		{ "SSL_get_servername", KW_OSSL_PARKED, false },
		{ "SSL_get_early_data_status", KW_OSSL_PARKED, false },
		{ "SSL_client_version", KW_OSSL_PARKED, false },
		{ "SSL_key_update", KW_OSSL_PARKED, true },
		{ "SSL_shutdown", KW_OSSL_PARKED, true },
		{ "SSL_use_certificate", KW_OSSL_FOREIGN, false },
		{ "SSL_use_PrivateKey_file", KW_OSSL_FOREIGN, false },
		{ "SSL_use_cert_and_key", KW_OSSL_FOREIGN, false },
		{ "SSL_set_client_CA_list", KW_OSSL_FOREIGN, false },
		{ "SSL_set_psk_client_callback", KW_OSSL_FOREIGN, false },
		{ "SSL_set_psk_use_session_callback", KW_OSSL_FOREIGN, false },
		{ "SSL_set_srp_server_param", KW_OSSL_FOREIGN, false },
		{ "SSL_dane_enable", KW_OSSL_FOREIGN, false },
		{ "SSL_enable_ct", KW_OSSL_FOREIGN, false },
		{ "SSL_set_session_ticket_ext", KW_OSSL_FOREIGN, false },
		{ "SSL_set_max_early_data", KW_OSSL_FOREIGN, false },
		{ "SSL_set_cert_cb", KW_OSSL_FOREIGN, false },
		{ "SSL_set_accept_state", KW_OSSL_FOREIGN, false },
		{ "SSL_accept", KW_OSSL_FOREIGN, true },
		{ "SSL_verify_client_post_handshake", KW_OSSL_FOREIGN, true },
		{ "DTLSv1_listen", KW_OSSL_FOREIGN, true },
		{ "SSL_set_alpn_protos", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_set1_host", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_add1_host", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_set_hostflags", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_set_cipher_list", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_set_ciphersuites", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_set_verify", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_set_verify_depth", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_set_session", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_set_post_handshake_auth", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_set_connect_state", KW_OSSL_HARMLESS_BEFORE, false },
		{ "SSL_ctrl", KW_OSSL_BY_CMD, false },
		{ "SSL_callback_ctrl", KW_OSSL_BY_CMD, false },
	};
	/* What writes, all of it. */
	static const char *const writers[] = {
		"DTLSv1_listen",  "SSL_accept",   "SSL_key_update", "SSL_new_session_ticket",
		"SSL_read_early_data", "SSL_shutdown", "SSL_stateless",
		"SSL_verify_client_post_handshake",
	};
	size_t n, nw = 0;
	const struct kw_ossl_call *t = kw_ossl_call_table(&n);
	bool w;

	for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
		w = !spots[i].writes;
		enum kw_ossl_kind k = kw_ossl_call_kind(spots[i].name, &w);
		ck_assert_msg(k == spots[i].kind, "%s: %s, not %s", spots[i].name,
		              kw_ossl_kind_name(k), kw_ossl_kind_name(spots[i].kind));
		ck_assert_msg(w == spots[i].writes, "%s writes", spots[i].name);
	}
	for (size_t i = 0; i < n; i++)
		nw += t[i].writes;
	ck_assert_uint_eq(nw, sizeof writers / sizeof writers[0]);
	for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
		ck_assert_ptr_nonnull(call_entry(writers[i]));
		ck_assert_msg(call_entry(writers[i])->writes, "%s writes", writers[i]);
	}
}
END_TEST

struct ctrl_spot {
	int cmd;
	bool callback;
	uint8_t kind; /* enum kw_ossl_kind */
	bool writes;
};

START_TEST(test_ctrl_spots)
{
	static const struct ctrl_spot spots[] = {
		{ SSL_CTRL_SET_TLSEXT_HOSTNAME, false, KW_OSSL_HARMLESS_BEFORE, false },
		{ SSL_CTRL_SET_MIN_PROTO_VERSION, false, KW_OSSL_HARMLESS_BEFORE, false },
		{ SSL_CTRL_SET_MAX_PROTO_VERSION, false, KW_OSSL_HARMLESS_BEFORE, false },
		{ SSL_CTRL_SET_GROUPS_LIST, false, KW_OSSL_HARMLESS_BEFORE, false },
		{ SSL_CTRL_SET_CURVES, false, KW_OSSL_HARMLESS_BEFORE, false },
		{ SSL_CTRL_SET_SIGALGS_LIST, false, KW_OSSL_HARMLESS_BEFORE, false },
		{ SSL_CTRL_MODE, false, KW_OSSL_BOTH, false },
		{ SSL_CTRL_CLEAR_MODE, false, KW_OSSL_BOTH, false },
		{ SSL_CTRL_SET_SRP_ARG, false, KW_OSSL_BOTH, false }, /* is SSL_CTRL_CLEAR_MODE */
		{ SSL_CTRL_SET_READ_AHEAD, false, KW_OSSL_BOTH, false },
		{ SSL_CTRL_SET_MAX_SEND_FRAGMENT, false, KW_OSSL_BOTH, false },
		{ SSL_CTRL_SET_SPLIT_SEND_FRAGMENT, false, KW_OSSL_BOTH, false },
		{ SSL_CTRL_SET_MSG_CALLBACK, true, KW_OSSL_BOTH, false },
		{ SSL_CTRL_SET_MSG_CALLBACK_ARG, false, KW_OSSL_BOTH, false },
		{ SSL_CTRL_GET_READ_AHEAD, false, KW_OSSL_OWN, false },
		{ SSL_CTRL_GET_MIN_PROTO_VERSION, false, KW_OSSL_OWN, false },
		{ SSL_CTRL_GET_NEGOTIATED_GROUP, false, KW_OSSL_PARKED, false },
		{ SSL_CTRL_GET_PEER_TMP_KEY, false, KW_OSSL_PARKED, false },
		{ SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, false, KW_OSSL_PARKED, false },
		{ SSL_CTRL_GET_RI_SUPPORT, false, KW_OSSL_PARKED, false },
		{ SSL_CTRL_GET_EXTMS_SUPPORT, false, KW_OSSL_PARKED, false },
		{ SSL_CTRL_SET_VERIFY_CERT_STORE, false, KW_OSSL_FOREIGN, false },
		{ SSL_CTRL_SET_CHAIN_CERT_STORE, false, KW_OSSL_FOREIGN, false },
		{ SSL_CTRL_CHAIN_CERT, false, KW_OSSL_FOREIGN, false },
		{ SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, false, KW_OSSL_HARMLESS_BEFORE, false },
		{ SSL_CTRL_SET_NOT_RESUMABLE_SESS_CB, true, KW_OSSL_FOREIGN, false },
		{ SSL_CTRL_SET_TMP_DH_CB, true, KW_OSSL_FOREIGN, false },
		{ DTLS_CTRL_HANDLE_TIMEOUT, false, KW_OSSL_FOREIGN, true },
		{ DTLS_CTRL_GET_TIMEOUT, false, KW_OSSL_FOREIGN, false },
	};
	size_t n, nw = 0;
	const struct kw_ossl_ctrl *t = kw_ossl_ctrl_table(&n);
	bool w;

	for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
		w = !spots[i].writes;
		enum kw_ossl_kind k = kw_ossl_ctrl_kind(spots[i].cmd, spots[i].callback, &w);
		ck_assert_msg(k == spots[i].kind, "command %d%s: %s", spots[i].cmd,
		              spots[i].callback ? " (callback)" : "", kw_ossl_kind_name(k));
		ck_assert(w == spots[i].writes);
	}
	for (size_t i = 0; i < n; i++)
		nw += t[i].writes;
	ck_assert_uint_eq(nw, 1); /* DTLS_CTRL_HANDLE_TIMEOUT */
}
END_TEST

START_TEST(test_kind_names)
{
	ck_assert_str_eq(kw_ossl_kind_name(KW_OSSL_FOREIGN), "foreign");
	ck_assert_str_eq(kw_ossl_kind_name(KW_OSSL_HARMLESS_BEFORE), "harmless-before");
	ck_assert_str_eq(kw_ossl_kind_name(KW_OSSL_OWN), "own");
	ck_assert_str_eq(kw_ossl_kind_name(KW_OSSL_BOTH), "both");
	ck_assert_str_eq(kw_ossl_kind_name(KW_OSSL_PARKED), "parked");
	ck_assert_str_eq(kw_ossl_kind_name(KW_OSSL_BY_CMD), "by-command");
	ck_assert_str_eq(kw_ossl_kind_name(KW_OSSL_KINDS), "?");
	ck_assert_str_eq(kw_ossl_kind_name((enum kw_ossl_kind)-1), "?");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ossl_calls");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_every_routed_function);
	tcase_add_test(tc, test_call_table);
	tcase_add_test(tc, test_every_header_command);
	tcase_add_test(tc, test_ctrl_table);
	tcase_add_test(tc, test_call_spots);
	tcase_add_test(tc, test_ctrl_spots);
	tcase_add_test(tc, test_kind_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
