/* tlspolicy.c - a TLS session's recorded settings and the takeover rules. */
#include "logic/tlspolicy.h"

#include <string.h>

void kw_tls_settings_init(struct kw_tls_settings *s, unsigned init_flags, bool born)
{
	memset(s, 0, sizeof *s);
	s->born = born;
	s->init_flags = init_flags;
	s->recv_ptr = s->send_ptr = (void *)(intptr_t)-1;
}

void kw_tls_settings_foreign(struct kw_tls_settings *s, enum kw_reason why)
{
	if (!s->foreign)
		s->foreign = why;
}

bool kw_tls_settings_sni(struct kw_tls_settings *s, const char *name, size_t len)
{
	if (!name || len >= KW_TLS_NAME_MAX) {
		kw_tls_settings_foreign(s, KW_REASON_TLS_SETTING);
		return false;
	}
	memcpy(s->sni, name, len);
	s->sni[len] = '\0';
	s->sni_len = (uint16_t)len;
	return true;
}

bool kw_tls_settings_alpn(struct kw_tls_settings *s, const unsigned char *const *protos,
                          const unsigned *lens, unsigned n, unsigned flags)
{
	size_t at = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!protos[i] || lens[i] > 255 || at + 1 + lens[i] > KW_TLS_ALPN_MAX) {
			kw_tls_settings_foreign(s, KW_REASON_TLS_SETTING);
			return false;
		}
		s->alpn[at++] = (unsigned char)lens[i];
		memcpy(s->alpn + at, protos[i], lens[i]);
		at += lens[i];
	}
	s->alpn_len = (uint16_t)at;
	s->alpn_flags = n ? flags : 0;
	return true;
}

bool kw_tls_settings_prio(struct kw_tls_settings *s, enum kw_tls_prio how, const char *str,
                          unsigned flags, const void *cache)
{
	size_t len = str ? strlen(str) : 0;

	if (len >= KW_TLS_PRIO_MAX) {
		kw_tls_settings_foreign(s, KW_REASON_TLS_SETTING);
		return false;
	}
	s->prio = (uint8_t)how;
	s->prio_flags = flags;
	s->prio_cache = cache;
	memcpy(s->prio_str, str ? str : "", len + 1);
	return true;
}

bool kw_tls_settings_verify(struct kw_tls_settings *s, const char *host, unsigned flags)
{
	size_t len = host ? strlen(host) : 0;

	if (len >= KW_TLS_NAME_MAX) {
		kw_tls_settings_foreign(s, KW_REASON_TLS_SETTING);
		return false;
	}
	s->verify_cert = true;
	s->verify_host_set = host != NULL;
	s->verify_flags = flags;
	memcpy(s->verify_host, host ? host : "", len + 1);
	return true;
}

enum kw_reason kw_tls_settings_parkable(const struct kw_tls_settings *s)
{
	if (!s->born)
		return KW_REASON_TLS_SETTING;
	if (s->foreign)
		return s->foreign;
	if (s->other_cred)
		return KW_REASON_TLS_CLIENT_AUTH;
	if (s->own & KW_TLS_OWN_ERRNO)
		return KW_REASON_TLS_TRANSPORT_STYLE;
	return KW_REASON_NONE;
}

enum kw_reason kw_tls_settings_match(const struct kw_tls_settings *p,
                                     const struct kw_tls_settings *n)
{
	/* Each rule on both sides before the next rule. */
	if (!p->born || !n->born)
		return KW_REASON_TLS_SETTING;
	if (p->foreign || n->foreign)
		return p->foreign ? p->foreign : n->foreign;
	if (p->other_cred || n->other_cred)
		return KW_REASON_TLS_CLIENT_AUTH;
	if ((p->own | n->own) & KW_TLS_OWN_ERRNO)
		return KW_REASON_TLS_TRANSPORT_STYLE;
	/* Descriptors stay descriptors and functions stay functions: the
	 * library's defaults cannot be put back once replaced. */
	if (p->own != n->own)
		return KW_REASON_TLS_TRANSPORT_STYLE;
	if (p->sni_len != n->sni_len || memcmp(p->sni, n->sni, p->sni_len))
		return KW_REASON_TLS_SERVER_NAME;
	if (p->alpn_len != n->alpn_len || p->alpn_flags != n->alpn_flags ||
	    memcmp(p->alpn, n->alpn, p->alpn_len))
		return KW_REASON_TLS_ALPN_OFFER;
	if (p->init_flags != n->init_flags || p->compat != n->compat || p->prio != n->prio || p->prio_flags != n->prio_flags ||
	    p->prio_cache != n->prio_cache || strcmp(p->prio_str, n->prio_str))
		return KW_REASON_TLS_POLICY;
	if (p->verify_cert != n->verify_cert || p->verify_flags != n->verify_flags ||
	    p->verify_host_set != n->verify_host_set || strcmp(p->verify_host, n->verify_host))
		return KW_REASON_TLS_POLICY;
	if (!n->cert_cred)
		return KW_REASON_TLS_POLICY; /* its own handshake could not even verify */
	return KW_REASON_NONE;
}

const char *kw_tls_settings_host(const struct kw_tls_settings *s)
{
	if (s->verify_cert)
		return s->verify_host_set ? s->verify_host : NULL;
	return s->sni_len ? s->sni : NULL;
}
