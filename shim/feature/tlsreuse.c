/* tlsreuse.c - take a parked TLS session over, or undo its handback. */
#include "feature/tlsreuse.h"

#include <errno.h>
#include <sys/socket.h>

#include "logic/tlsmap.h"
#include "logic/tlspolicy.h"
#include "primitive/follow.h"
#include "primitive/park.h"
#include "service/forkwatch.h"
#include "service/real.h"
#include "service/state.h"
#include "service/tcp.h"
#include "service/tls_keep.h"
#include "service/tls_sessions.h"
#include "sink/report.h"

/* The thread's session (inside its handshake call) takes over the kept
 * session on s: KW_REASON_NONE, or why not. hello: the ClientHello it is
 * sending (len bytes; NULL before it has one). */
static enum kw_reason take_over(struct kw_fd *s, const struct kw_tls_call *call,
                                const struct iovec *hello, int iovcnt, size_t len)
{
	struct kw_conn *c = &s->conn;
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)c->tls_lib);
	struct kw_tls_session *ne, *pe;
	enum kw_reason why = KW_REASON_TLS_NOT_HELLO;
	bool later = false;

	if (!ops)
		return why;
	kw_tls_sessions_lock();
	ne = kw_tls_map_find(&kw_tls_sessions, call->h, call->lib);
	pe = kw_tls_map_find(&kw_tls_sessions, c->tls, (enum kw_tls_lib)c->tls_lib);
	if (ne && pe && pe->state == KW_TLS_KEPT && !pe->lent && ne->state == KW_TLS_SEEN &&
	    !ne->live && !ne->handshaken && (ne->hint_fd < 0 || ne->hint_fd == s->fd)) {
		if (hello && ne->set && !ne->set->hello_seen)
			ne->set->hello_seen = kw_tls_hello_parse(hello, iovcnt, len, &ne->set->hello) ==
			                      KW_TLS_HELLO_OK;
		why = ne->set && pe->set ? ops->attach(c->tls, pe->set, call->h, ne->set, &later)
		                         : KW_REASON_TLS_SETTING;
		/* (attach may have moved nothing in the table: no entry was added) */
		if (!why) {
			ne->state = KW_TLS_BOUND;
			ne->fd = s->fd;
			ne->gen = c->gen;
			ne->live = c->tls;
			ne->verify_owed = later;
			pe->lent = true;
			pe->taker = call->h;
		}
	}
	kw_tls_sessions_unlock();
	if (!why && later)
		why = kw_tlsreuse_settle(s, call->lib, call->h, false);
	return why;
}

enum kw_reason kw_tlsreuse_settle(struct kw_fd *s, enum kw_tls_lib lib, const void *h, bool last)
{
	struct kw_conn *c = &s->conn;
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)c->tls_lib);
	const struct kw_tls_settings *nset = NULL;
	struct kw_tls_session *ne, *pe;
	enum kw_reason why = KW_REASON_TLS_VERIFY;
	bool owed = false, retry = false;

	kw_tls_sessions_lock_shared();
	if ((ne = kw_tls_map_find(&kw_tls_sessions, h, lib)) && ne->live == c->tls) {
		owed = ne->verify_owed;
		nset = ne->set;
	}
	kw_tls_sessions_unlock();
	if (!ne || !ops || !c->tls)
		return why;
	if (!owed)
		return KW_REASON_NONE; /* settled already */
	kw_depth++; /* the program's verify callback: its calls pass through */
	why = ops->settle(c->tls, h, nset, &retry);
	kw_depth--;
	if (why && retry && !last && !c->tp->blocking(s->fd))
		return KW_REASON_NONE; /* owed: at the next handshake call */
	kw_tls_sessions_lock();
	ne = kw_tls_map_find(&kw_tls_sessions, h, lib);
	pe = kw_tls_map_find(&kw_tls_sessions, c->tls, (enum kw_tls_lib)c->tls_lib);
	if (ne) {
		ne->verify_owed = false;
		if (why) {
			ne->state = KW_TLS_SEEN;
			ne->fd = -1;
			ne->live = NULL;
		}
	}
	if (pe && why) {
		pe->lent = false;
		pe->taker = NULL;
	}
	kw_tls_sessions_unlock();
	return why;
}

/* A connection set aside with its kept session (h), unused: back to the
 * pool, or closed (its session ends with it) and traced discard with why
 * it could not be parked. */
static void park_or_discard(struct kw_fd *s, int h)
{
	enum kw_reason why = kw_park(s, h, true);

	if (why)
		kw_report(KW_EVENT_DISCARD, s->fd, &s->conn.dest, why, -1, -1);
}

/* Called by the transport before the unused connection leaves the
 * descriptor: back to the pool with its session, or closed (and the
 * session ended) when it cannot be parked. */
static void park_unused(void *arg, int h)
{
	park_or_discard(arg, h);
}

/* Undo the handback on s for why: a fresh connection on the program's
 * number, still connecting. Returns whether the send is answered here. */
static bool undo(struct kw_fd *s, enum kw_reason why, ssize_t *result)
{
	struct kw_conn *c = &s->conn;
	const struct kw_transport *tp = c->tp;
	enum kw_reason veto = c->park_veto;
	bool in_progress, blocking = tp->blocking(s->fd);
	int nfd = tp->dial(c, s->fd, &in_progress);

	c->park_veto = KW_REASON_NONE;
	/* (replace consumes nfd whatever it returns) */
	if (nfd < 0 || tp->replace(c, s->fd, nfd, park_unused, s) < 0) {
		/* No fresh connection to be had: the program's descriptor reads
		 * as closed by the server, which its handshake reports. */
		c->tls_pending = false;
		if (!tp->end_with_eof(c, s->fd, park_unused, s)) {
			kw_tls_keep_end_ino(c->ino);
			kw_real.shutdown(s->fd, SHUT_RDWR); /* its bytes must never reach the session */
		}
		c->tls = NULL;
		c->dest.tls = 0;
		kw_let_go(s, why);
		*result = -1;
		errno = ECONNRESET; /* as a connection the server dropped (no SIGPIPE) */
		return true;
	}
	c->tls_pending = false;
	c->tls = NULL;
	c->reused = false;
	c->tp = &kw_tcp_transport;
	c->dest.tls = 0; /* its own ClientHello ties it to a session again */
	c->meta.requests = 0;
	kw_conn_dialled(c, kw_now_ms());
	kw_follow(s);
	kw_report(KW_EVENT_FRESH, s->fd, &c->dest, why, -1, -1);
	if (veto) {
		/* What the program did before its first send lets it go now. */
		kw_let_go(s, veto);
	}
	if (!in_progress || blocking)
		return false; /* a blocking send waits for the connection, as after connect() */
	*result = -1;
	errno = EAGAIN; /* writable once connected */
	return true;
}

/* call's session took the kept session on s over: s is followed as its. */
static void taken(struct kw_fd *s, const struct kw_tls_call *call)
{
	struct kw_conn *c = &s->conn;

	c->tls_pending = false;
	c->tls_handle = call->h;
	c->watch_only = true;
	kw_report_tls(s->fd, &c->dest, kw_tls_lib_name(call->lib), true);
}

bool kw_tlsreuse_first_send(struct kw_fd *s, const struct iovec *iov, int iovcnt, size_t len,
                            ssize_t *result)
{
	struct kw_conn *c = &s->conn;
	const struct kw_tls_call *call = kw_tls_call_current();
	enum kw_reason why = c->park_veto;

	if (!why && (!call || call->lib != c->tls_lib || !kw_tls_client_hello(iov, iovcnt, len)))
		why = KW_REASON_TLS_NOT_HELLO;
	if (!why)
		why = take_over(s, call, iov, iovcnt, len);
	if (why)
		return undo(s, why, result);
	taken(s, call);
	*result = -1;
	errno = EAGAIN;
	return true;
}

bool kw_tlsreuse_take_before_hello(struct kw_fd *s, const struct kw_tls_call *call)
{
	struct kw_conn *c = &s->conn;

	if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_HTTP ||
	    !c->tls_pending || c->park_veto || call->lib != c->tls_lib ||
	    take_over(s, call, NULL, 0, 0))
		return false;
	taken(s, call);
	return true;
}

/* The taken-over session's connection, set aside by replace: healthy, back
 * to the pool as a kept session nobody holds (its program's settings taken
 * off again); stale, closed (its session ends with it). */
struct set_aside {
	struct kw_fd *s;
	bool stale;
};

static void set_aside_lent(void *arg, int h)
{
	struct set_aside *a = arg;
	struct kw_conn *c = &a->s->conn;
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)c->tls_lib);
	struct kw_tls_session *pe;
	bool keep = false;

	kw_tls_sessions_lock();
	pe = kw_tls_map_find(&kw_tls_sessions, c->tls, (enum kw_tls_lib)c->tls_lib);
	if (pe) {
		pe->lent = false;
		pe->taker = NULL;
		keep = !a->stale && ops && pe->set && ops->keep(c->tls, pe->set);
	}
	kw_tls_sessions_unlock();
	if (!keep) {
		c->tp->close(h); /* the kept session ends with its socket */
		if (!a->stale) /* (a stale one: the caller traces the replay) */
			kw_report(KW_EVENT_DISCARD, a->s->fd, &c->dest, KW_REASON_TLS_NOT_POOLED, -1, -1);
		return;
	}
	c->tls_pending = true; /* parked whole, as a handback nobody took */
	park_or_discard(a->s, h);
	c->tls_pending = false;
}

bool kw_tlsreuse_untake(struct kw_fd *s, bool stale, enum kw_reason why)
{
	struct kw_conn *c = &s->conn;
	const struct kw_transport *tp = c->tp;
	struct set_aside a = { s, stale };
	bool in_progress;
	int nfd;

	if (!c->reused || !c->tls)
		return false;
	/* A fresh connection, connected before the session's own handshake
	 * goes out on it (the library may not wait for it otherwise). */
	if ((nfd = tp->dial(c, s->fd, &in_progress)) < 0)
		return false;
	if (in_progress && !tp->connected(nfd, kw_tcp_dial_wait_ms())) {
		tp->close(nfd);
		return false;
	}
	if (tp->replace(c, s->fd, nfd, set_aside_lent, &a) < 0)
		return false;
	c->tls = NULL;
	c->reused = false;
	c->watch_only = false;
	c->tp = &kw_tcp_transport;
	c->dest.tls = 0; /* the session's own ClientHello ties it again */
	c->meta.requests = 0;
	kw_conn_dialled(c, kw_now_ms());
	kw_follow(s);
	if (!stale)
		kw_report(KW_EVENT_FRESH, s->fd, &c->dest, why, -1, -1);
	return true;
}

bool kw_tlsreuse_parkable(struct kw_fd *s, uint32_t gen)
{
	const struct kw_conn *c = &s->conn;

	return kw_mode == KW_MODE_REUSE && kw_cfg.tls_reuse && kw_slot_unchanged(s, gen) &&
	       atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_HTTP &&
	       c->watch_only && c->dest.tls && !c->park_veto && c->owner == kw_pid &&
	       kw_track_why_not(&c->track) == KW_REASON_NONE;
}

bool kw_tlsreuse_keep_now(struct kw_fd *s, bool eof)
{
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)s->conn.tls_lib);
	struct kw_conn *c = &s->conn;
	struct kw_tls_session *e, *pe;
	bool kept = false;
	int saved = errno;

	if (!ops || !c->tls_handle || c->tls_kept || c->tls_pending ||
	    !kw_tlsreuse_parkable(s, c->gen))
		return false;
	kw_tls_sessions_lock();
	e = kw_tls_map_find(&kw_tls_sessions, c->tls_handle, (enum kw_tls_lib)c->tls_lib);
	if (e && e->state == KW_TLS_BOUND && e->fd == s->fd && e->gen == c->gen && e->handshaken &&
	    ops->dead()) {
		void *p = e->live ? e->live : (void *)e->h;
		pe = e->live ? kw_tls_map_find(&kw_tls_sessions, p, (enum kw_tls_lib)c->tls_lib) : e;
		if (pe && pe->set && !kw_tls_settings_parkable(pe->set) && ops->keep(p, pe->set)) {
			/* The program's handle goes on as a zombie; the
			 * connection and its session are parked. */
			e->zombie = true;
			e->zombie_eof = eof;
			e->bye_faked = false;
			e->live = NULL;
			pe->state = KW_TLS_KEPT;
			pe->lent = false;
			pe->taker = NULL;
			pe->ino = c->ino;
			c->tls = p;
			c->tls_kept = true;
			c->tls_handle = NULL;
			kept = true;
		}
	}
	kw_tls_sessions_unlock();
	errno = saved;
	return kept;
}
