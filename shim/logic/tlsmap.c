/* tlsmap.c - the ClientHello test and an open-addressed table of sessions. */
#include "logic/tlsmap.h"

#include <stdlib.h>
#include <string.h>

const char *kw_tls_lib_name(enum kw_tls_lib lib)
{
	static const char *const names[KW_TLS_LIBS] = { "gnutls", "openssl" };

	return (unsigned)lib < KW_TLS_LIBS ? names[lib] : "?";
}

bool kw_tls_client_hello(const struct iovec *iov, int iovcnt, size_t n)
{
	unsigned char head[6];
	size_t got = 0;

	for (int i = 0; i < iovcnt && got < sizeof head && got < n; i++) {
		size_t take = iov[i].iov_len;
		if (take > sizeof head - got)
			take = sizeof head - got;
		if (take > n - got)
			take = n - got;
		memcpy(head + got, iov[i].iov_base, take);
		got += take;
	}
	/* A record: type 22 (handshake), version 3.0-3.4, a length that holds a
	 * handshake header; then handshake type 1 (ClientHello). */
	return got == sizeof head && head[0] == 22 && head[1] == 3 && head[2] <= 4 &&
	       ((unsigned)head[3] << 8 | head[4]) >= 4 && head[5] == 1;
}

static unsigned slot_of(const void *h, enum kw_tls_lib lib)
{
	uint64_t x = (uint64_t)(uintptr_t)h ^ (uint64_t)lib;

	/* Handles are heap addresses: mix the low bits, which malloc aligns. */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (unsigned)x & (KW_TLS_MAP_SIZE - 1);
}

struct kw_tls_session *kw_tls_map_find(struct kw_tls_map *m, const void *h, enum kw_tls_lib lib)
{
	if (!h)
		return NULL;
	for (unsigned i = slot_of(h, lib), k = 0; k < KW_TLS_MAP_SIZE && m->e[i].h;
	     i = (i + 1) & (KW_TLS_MAP_SIZE - 1), k++)
		if (m->e[i].h == h && m->e[i].lib == lib)
			return &m->e[i];
	return NULL;
}

struct kw_tls_session *kw_tls_map_add(struct kw_tls_map *m, const void *h, enum kw_tls_lib lib)
{
	struct kw_tls_session *e = kw_tls_map_find(m, h, lib);
	unsigned i;

	if (e || !h)
		return e;
	if (m->n >= KW_TLS_MAP_SIZE / 4 * 3)
		return NULL;
	for (i = slot_of(h, lib); m->e[i].h; i = (i + 1) & (KW_TLS_MAP_SIZE - 1))
		;
	m->e[i] = (struct kw_tls_session){ .h = h, .lib = (uint8_t)lib, .state = KW_TLS_SEEN,
	                                   .hint_fd = -1, .fd = -1 };
	m->n++;
	return &m->e[i];
}

/* Empty slot i, moving back the entries of its run that would no longer be
 * found past the hole (linear probing's deletion). */
static void remove_at(struct kw_tls_map *m, unsigned i)
{
	unsigned j = i;

	free(m->e[i].set);
	m->e[i].set = NULL;
	m->e[i].h = NULL;
	m->n--;
	for (;;) {
		j = (j + 1) & (KW_TLS_MAP_SIZE - 1);
		if (!m->e[j].h)
			return;
		unsigned home = slot_of(m->e[j].h, (enum kw_tls_lib)m->e[j].lib);
		/* j stays when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		m->e[i] = m->e[j];
		m->e[j].h = NULL;
		m->e[j].set = NULL;
		i = j;
	}
}

struct kw_tls_session *kw_tls_map_find_kept(struct kw_tls_map *m, ino_t ino)
{
	for (unsigned i = 0; ino && i < KW_TLS_MAP_SIZE; i++)
		if (m->e[i].h && m->e[i].state == KW_TLS_KEPT && m->e[i].ino == ino)
			return &m->e[i];
	return NULL;
}

void kw_tls_map_drop(struct kw_tls_map *m, const void *h, enum kw_tls_lib lib)
{
	struct kw_tls_session *e = kw_tls_map_find(m, h, lib);

	if (e)
		remove_at(m, (unsigned)(e - m->e));
}

unsigned kw_tls_map_sweep(struct kw_tls_map *m,
                          bool (*dead)(const struct kw_tls_session *e, void *arg), void *arg)
{
	unsigned gone = 0;

	for (unsigned i = 0; i < KW_TLS_MAP_SIZE; i++) {
		/* A removal may move a later entry into i: look at i again. */
		while (m->e[i].h && dead(&m->e[i], arg)) {
			remove_at(m, i);
			gone++;
		}
	}
	return gone;
}

void kw_tls_map_clear(struct kw_tls_map *m)
{
	memset(m, 0, sizeof *m);
}
