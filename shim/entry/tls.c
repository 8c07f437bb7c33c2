/* tls.c - what the TLS wrappers tell keepwarm, turned into the session
 * table's state and the stream's plaintext calls (following; reuse is
 * tls_reuse.c, routed calls tls_routing.c). Library-neutral: the
 * wrappers ask their library what only it knows (ALPN, renegotiation).
 * Each call first lets the fork detector run: in a child, the table is
 * emptied before anything is looked up in it. */
#include "entry/entry.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "entry/tls_shared.h"
#include "service/forkwatch.h"
#include "service/real.h"
#include "service/state.h"
#include "service/tls_real.h"
#include "service/tls_sessions.h"

struct kw_fd *kw_tls_bound_socket(int lib, const void *h, uint32_t *gen)
{
	struct kw_tls_session *e;
	struct kw_fd *s = NULL;

	kw_tls_sessions_lock_shared();
	e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	if (e && e->state == KW_TLS_BOUND) {
		s = kw_fd_lookup(e->fd);
		*gen = e->gen;
	}
	kw_tls_sessions_unlock();
	return s;
}

void kw_tls_give_up(int lib, const void *h, enum kw_reason reason, bool eof)
{
	struct kw_tls_session *e;
	struct kw_fd *s = NULL;
	uint32_t gen = 0;

	kw_tls_sessions_lock();
	e = kw_tls_map_add(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	if (e) {
		if (e->state == KW_TLS_BOUND) {
			s = kw_fd_lookup(e->fd);
			gen = e->gen;
		}
		e->state = KW_TLS_GONE;
	}
	kw_tls_sessions_unlock();
	if (s)
		kw_stream_plain_end(s, gen, reason, eof);
}

bool kw_tls_handshake_begin(struct kw_tls_call *outer, int lib, const void *h)
{
	struct kw_tls_session *e;
	bool again = false;
	int saved = errno;

	kw_forkwatch_check();
	kw_tls_call_enter(outer, (enum kw_tls_lib)lib, h);
	kw_tls_sessions_lock_shared();
	e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	again = e && e->handshaken && e->state != KW_TLS_GONE;
	kw_tls_sessions_unlock();
	if (again)
		kw_tls_give_up(lib, h, KW_REASON_TLS_RENEGOTIATION, false);
	errno = saved;
	return !again;
}

void kw_tls_io_begin(struct kw_tls_call *outer, int lib, const void *h)
{
	kw_tls_call_enter(outer, (enum kw_tls_lib)lib, h);
}

void kw_tls_handshaken(int lib, const void *h, enum kw_reason veto)
{
	struct kw_tls_session *e;
	int saved = errno;

	kw_forkwatch_check();
	kw_tls_sessions_lock();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)))
		e->handshaken = true;
	kw_tls_sessions_unlock();
	if (veto)
		kw_tls_give_up(lib, h, veto, false);
	errno = saved;
}

void kw_tls_transport(int lib, const void *h, int fd)
{
	struct kw_tls_session *e;
	bool changed = false;
	int saved = errno;

	kw_forkwatch_check();
	kw_tls_sessions_lock();
	e = fd >= 0 ? kw_tls_map_add(&kw_tls_sessions, h, (enum kw_tls_lib)lib)
	            : kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	if (e && e->state == KW_TLS_BOUND)
		changed = fd != e->fd;
	else if (e && e->state == KW_TLS_SEEN)
		e->hint_fd = fd;
	kw_tls_sessions_unlock();
	if (changed)
		kw_tls_give_up(lib, h, KW_REASON_TLS_TRANSPORT_CHANGED, false);
	errno = saved;
}

void kw_tls_note_pull(int lib, const void *h, bool timeout_fn)
{
	struct kw_tls_session *e;
	int saved = errno;

	kw_forkwatch_check();
	kw_tls_sessions_lock();
	if ((e = kw_tls_map_add(&kw_tls_sessions, h, (enum kw_tls_lib)lib))) {
		if (timeout_fn)
			e->own_pull_timeout = true;
		else
			e->own_pull = true;
	}
	kw_tls_sessions_unlock();
	errno = saved;
}

void kw_tls_note_timeout(int lib, const void *h, unsigned ms)
{
	struct kw_tls_session *e;
	int saved = errno;

	kw_forkwatch_check();
	kw_tls_sessions_lock();
	if ((e = kw_tls_map_add(&kw_tls_sessions, h, (enum kw_tls_lib)lib)))
		e->timeout_ms = ms;
	kw_tls_sessions_unlock();
	errno = saved;
}

unsigned kw_tls_handshake_limit(int lib, const void *h)
{
	uint64_t limit = kw_cfg.tls_handshake_timeout_ms;
	struct kw_tls_session *e;
	unsigned ms = 0;
	int saved = errno;

	if (!limit)
		return 0;
	if (limit > UINT32_MAX - 1)
		limit = UINT32_MAX - 1;
	kw_forkwatch_check();
	kw_tls_sessions_lock();
	/* Without an entry nothing is known of its pull function: left alone.
	 * GnuTLS waits for a limit with the pull-timeout function, which the
	 * default transport has and a pull function of the program's alone
	 * does not. */
	e = kw_tls_map_add(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	if (e && !e->limit_applied) {
		e->limit_applied = true;
		if ((!e->own_pull || e->own_pull_timeout) && (!e->timeout_ms || e->timeout_ms > limit))
			ms = (unsigned)limit;
	}
	kw_tls_sessions_unlock();
	errno = saved;
	return ms;
}

size_t kw_tls_plain(int lib, const void *h, bool sent, void *buf, size_t n)
{
	uint32_t gen;
	struct kw_fd *s;
	int saved = errno;

	kw_forkwatch_check();
	if ((s = kw_tls_bound_socket(lib, h, &gen))) {
		if (sent)
			kw_stream_plain_sent(s, gen, buf, n);
		else
			n = kw_stream_plain_received(s, gen, buf, n);
	}
	errno = saved;
	return n;
}

void kw_tls_end(int lib, const void *h, enum kw_reason reason, bool eof)
{
	int saved = errno;

	kw_forkwatch_check();
	kw_tls_give_up(lib, h, reason, eof);
	errno = saved;
}

void kw_tls_ref(int lib, const void *h)
{
	struct kw_tls_session *e;
	int saved = errno;

	kw_forkwatch_check();
	kw_tls_sessions_lock();
	if ((e = kw_tls_map_add(&kw_tls_sessions, h, (enum kw_tls_lib)lib)) && e->refs < UINT32_MAX)
		e->refs++;
	kw_tls_sessions_unlock();
	errno = saved;
}

bool kw_tls_unref(int lib, const void *h)
{
	struct kw_tls_session *e;
	bool last = true;
	int saved = errno;

	kw_tls_sessions_lock();
	e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	if (e && e->refs) {
		e->refs--;
		last = false;
	}
	kw_tls_sessions_unlock();
	errno = saved;
	return last;
}

void kw_tls_forget(int lib, const void *h)
{
	int saved = errno;

	kw_tls_sessions_lock();
	kw_tls_map_drop(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	kw_tls_sessions_unlock();
	errno = saved;
}


/* Is the program's own limit t unset, or longer than ms? */
static bool longer(const struct timeval *t, unsigned ms)
{
	return (!t->tv_sec && !t->tv_usec) || (uint64_t)t->tv_sec * 1000 + (uint64_t)t->tv_usec / 1000 > ms;
}

void kw_tls_limit_begin(int lib, const void *h, int fd, struct kw_tls_limit *l)
{
	unsigned ms;
	socklen_t len = sizeof l->rcv, len2 = sizeof l->snd;
	struct timeval tv;
	int fl, saved = errno;

	l->fd = fd;
	l->set = false;
	if (fd < 0 || !kw_cfg.tls_handshake_timeout_ms || !(ms = kw_tls_handshake_limit(lib, h)))
		return;
	if ((fl = kw_real.fcntl(fd, F_GETFL)) < 0 || (fl & O_NONBLOCK))
		return; /* a program that does not block keeps its own time */
	if (kw_real.getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &l->rcv, &len) < 0 ||
	    kw_real.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &l->snd, &len2) < 0 ||
	    !longer(&l->rcv, ms) || !longer(&l->snd, ms)) {
		errno = saved;
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	l->set = kw_real.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
	         kw_real.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
	errno = saved;
}

bool kw_tls_limit_end(int lib, const void *h, struct kw_tls_limit *l, bool wanting)
{
	struct kw_tls_session *e;
	int err = errno;
	bool timed_out;

	if (!l->set)
		return false;
	timed_out = wanting && (err == EAGAIN || err == EWOULDBLOCK);
	kw_real.setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &l->rcv, sizeof l->rcv);
	kw_real.setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &l->snd, sizeof l->snd);
	if (timed_out) {
		kw_tls_sessions_lock();
		if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)))
			e->timed_out = true;
		kw_tls_sessions_unlock();
		kw_tls_give_up(lib, h, KW_REASON_TLS_CALL, false);
		err = ETIMEDOUT;
	}
	errno = err;
	return timed_out;
}
