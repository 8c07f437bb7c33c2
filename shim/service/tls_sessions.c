/* tls_sessions.c - the table of followed TLS sessions and each thread's call. */
#include "service/tls_sessions.h"

#include <pthread.h>

#include "service/state.h"
#include "service/tls_keep.h"

struct kw_tls_map kw_tls_sessions;
/* (declared in service/tls_keep.h: both libraries' keep files read it) */
bool kw_tls_keep_refuse_all;
/* Read-mostly: every TLS read and write looks its session up. Writers
 * first, so that a stream of reads never holds a new session back (no
 * reader takes it twice). */
static pthread_rwlock_t lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static __thread struct kw_tls_call current __attribute__((tls_model("initial-exec")));

void kw_tls_call_enter(struct kw_tls_call *outer, enum kw_tls_lib lib, const void *h)
{
	*outer = current;
	current.h = h;
	current.lib = lib;
}

void kw_tls_call_leave(const struct kw_tls_call *outer)
{
	current = *outer;
}

const struct kw_tls_call *kw_tls_call_current(void)
{
	return current.h ? &current : NULL;
}

void kw_tls_sessions_lock(void)
{
	kw_nocancel_enter();
	kw_depth++;
	pthread_rwlock_wrlock(&lock);
}

void kw_tls_sessions_lock_shared(void)
{
	kw_nocancel_enter();
	kw_depth++;
	pthread_rwlock_rdlock(&lock);
}

void kw_tls_sessions_unlock(void)
{
	pthread_rwlock_unlock(&lock);
	kw_depth--;
	kw_nocancel_leave();
}

static bool not_in_use(const struct kw_tls_session *e, void *arg)
{
	(void)arg;
	return !e->live;
}

void kw_tls_sessions_reset(void)
{
	lock = (pthread_rwlock_t)PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
	/* A session of the program's that took over a kept one goes on
	 * working on it (never followed or parked here); nothing else is
	 * kept: the parent's idle sessions are not the child's to end. */
	kw_tls_map_sweep(&kw_tls_sessions, not_in_use, NULL);
	for (unsigned i = 0; i < KW_TLS_MAP_SIZE; i++)
		if (kw_tls_sessions.e[i].h)
			kw_tls_sessions.e[i].state = KW_TLS_GONE;
	current.h = NULL;
}
