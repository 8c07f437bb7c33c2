/* tls_keep.c - what keepwarm does to the TLS sessions it keeps, whatever
 * their library (service/tls_keep.h): the table of each library's
 * operations, the census of parked sessions, their end by socket. */
#include "service/tls_keep.h"

#include <errno.h>
#include <malloc.h>

#include "service/state.h"
#include "service/tls_real.h"
#include "service/tls_sessions.h"

/* What ending a kept session released, on average (bytes; an estimate,
 * as other threads allocate meanwhile), and how many were measured. */
static uint64_t ended_bytes, ended;

void kw_tls_keep_measure_end(void (*end)(void *), void *p)
{
	struct mallinfo2 before = mallinfo2(), after;

	end(p);
	after = mallinfo2();
	/* Under the session table's lock, as every caller holds it. */
	if (before.uordblks > after.uordblks && ended < UINT32_MAX) {
		ended_bytes += before.uordblks - after.uordblks;
		ended++;
	}
}

void kw_tls_keep_census(uint64_t *parked, uint64_t *bytes)
{
	uint64_t n = 0;

	*parked = *bytes = 0;
	if (!kw_tls_real_ready(KW_TLS_GNUTLS) && !kw_tls_real_ready(KW_TLS_OPENSSL))
		return;
	kw_tls_sessions_lock_shared();
	for (unsigned i = 0; i < KW_TLS_MAP_SIZE; i++)
		if (kw_tls_sessions.e[i].h && kw_tls_sessions.e[i].state == KW_TLS_KEPT &&
		    !kw_tls_sessions.e[i].lent)
			n++;
	*parked = n;
	*bytes = ended ? n * (ended_bytes / ended) : 0;
	kw_tls_sessions_unlock();
}


const struct kw_tls_keep_ops *kw_tls_keep_ops(enum kw_tls_lib lib)
{
	if (!kw_tls_real_ready(lib))
		return NULL;
	if (lib == KW_TLS_GNUTLS)
		return &kw_gnutls_keep_ops;
	return lib == KW_TLS_OPENSSL && kw_openssl_keep_ready() ? &kw_openssl_keep_ops : NULL;
}

bool kw_tls_keep_tidy(int h, ino_t ino)
{
	const struct kw_tls_keep_ops *ops;
	struct kw_tls_session *e;
	bool healthy = false;
	int saved = errno;

	kw_tls_sessions_lock();
	if ((e = kw_tls_map_find_kept(&kw_tls_sessions, ino)) && !e->lent &&
	    (ops = kw_tls_keep_ops((enum kw_tls_lib)e->lib)))
		healthy = ops->tidy((void *)e->h, e->set, h);
	kw_tls_sessions_unlock();
	errno = saved;
	return healthy;
}

void kw_tls_keep_end_ino(ino_t ino)
{
	const struct kw_tls_keep_ops *ops = NULL;
	struct kw_tls_session *e;
	void *p = NULL;
	int saved = errno;

	if (!ino)
		return; /* a socket that never dialled, or an inode never read */
	kw_tls_sessions_lock();
	if ((e = kw_tls_map_find_kept(&kw_tls_sessions, ino)) && (e->zombie || e->lent)) {
		/* The program still holds it, or works on it through the session
		 * that took it over: freed when the program lets go of that. */
		e->state = KW_TLS_GONE;
		e->ino = 0;
	} else if (e) {
		p = (void *)e->h;
		ops = kw_tls_keep_ops((enum kw_tls_lib)e->lib);
		kw_tls_map_drop(&kw_tls_sessions, e->h, (enum kw_tls_lib)e->lib);
	}
	if (p && ops)
		kw_tls_keep_measure_end(ops->end, p);
	kw_tls_sessions_unlock();
	errno = saved;
}
