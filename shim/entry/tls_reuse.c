/* tls_reuse.c - TLS reuse, what the GnuTLS wrappers tell keepwarm: the
 * settings of the program's sessions, their teardown (bye, deinit: the
 * session kept with its socket), the calls of a session that took a kept
 * one over (the session they go on, the first request's safe policy, the
 * close-style upgrade, one replay) and of a zombie. */
#include "entry/entry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "entry/tls_shared.h"
#include "feature/tlsreuse.h"
#include "logic/tlspolicy.h"
#include "logic/upgrade.h"
#include "primitive/follow.h"
#include "service/forkwatch.h"
#include "service/real.h"
#include "service/state.h"
#include "service/tls_keep.h"
#include "service/tls_real.h"
#include "service/tls_sessions.h"
#include "sink/report.h"


void kw_tls_refuse_takeovers(void)
{
	kw_tls_keep_refuse_all = true;
}

void kw_tls_born(int lib, const void *h, unsigned flags)
{
	struct kw_tls_settings *set = malloc(sizeof *set);
	struct kw_tls_session *e;
	int saved = errno;

	kw_forkwatch_check();
	if (set)
		kw_tls_settings_init(set, flags, true);
	kw_tls_sessions_lock();
	/* A new session at an address an old one had (freed behind our back,
	 * or never seen freed): nothing of the old one holds. */
	kw_tls_map_drop(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	if ((e = kw_tls_map_add(&kw_tls_sessions, h, (enum kw_tls_lib)lib)))
		e->set = set;
	else
		free(set);
	kw_tls_sessions_unlock();
	errno = saved;
}

struct kw_tls_settings *kw_tls_settings_of(int lib, const void *h)
{
	struct kw_tls_session *e;

	kw_tls_sessions_lock();
	e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	return e ? e->set : NULL;
}

void kw_tls_settings_done(void)
{
	kw_tls_sessions_unlock();
}

const void *kw_tls_target(int lib, const void *h)
{
	struct kw_tls_session *e;
	const void *t = h;
	int saved = errno;

	kw_tls_sessions_lock_shared();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)) && e->zombie)
		t = kw_tls_zombie_target(lib, h);
	else if (e && e->live && !e->verify_owed)
		t = e->live;
	kw_tls_sessions_unlock();
	errno = saved;
	return t;
}

struct kw_tls_look kw_tls_look(int lib, const void *h)
{
	struct kw_tls_look look = { h, 0, false, false, false };
	struct kw_tls_session *e;
	int saved = errno;

	kw_tls_sessions_lock_shared();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib))) {
		if (e->zombie)
			look.zombie = e->zombie_eof ? 2 : 1;
		else if (e->live && !e->verify_owed)
			look.target = e->live;
		look.bye_owed = e->bye_faked;
		look.settle = e->verify_owed;
		look.handshaken = e->handshaken;
	}
	kw_tls_sessions_unlock();
	errno = saved;
	return look;
}

bool kw_tls_taken(int lib, const void *h)
{
	return kw_tls_target(lib, h) != h;
}

int kw_tls_zombie(int lib, const void *h)
{
	struct kw_tls_session *e;
	int z = 0, saved = errno;

	kw_tls_sessions_lock_shared();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)) && e->zombie)
		z = e->zombie_eof ? 2 : 1;
	kw_tls_sessions_unlock();
	errno = saved;
	return z;
}

/* The settings a session's connection is parked with: its own, or those of
 * the kept session it took over (the connection's first owner). */
static const struct kw_tls_settings *conn_settings(const struct kw_tls_session *e)
{
	const struct kw_tls_session *p;

	if (!e->live)
		return e->set;
	p = kw_tls_map_find(&kw_tls_sessions, e->live, (enum kw_tls_lib)e->lib);
	return p ? p->set : NULL;
}

bool kw_tls_hold_reset(int lib, const void *h)
{
	struct kw_tls_session *e;
	bool held = false;
	int saved = errno;

	kw_tls_sessions_lock();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)) && e->bye_faked)
		held = e->reset_owed = true;
	kw_tls_sessions_unlock();
	errno = saved;
	return held;
}

bool kw_tls_bye(int lib, const void *h, int how)
{
	struct kw_tls_session *e;
	const struct kw_tls_settings *set;
	struct kw_fd *s = NULL;
	uint32_t gen = 0;
	bool faked = false;
	int saved = errno;

	kw_forkwatch_check();
	if (!kw_cfg.tls_reuse || kw_mode != KW_MODE_REUSE)
		return false;
	s = kw_tls_bound_socket(lib, h, &gen);
	if (!s)
		return false;
	kw_slot_lock(s);
	if (kw_tlsreuse_parkable(s, gen)) {
		kw_tls_sessions_lock();
		e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
		set = e ? conn_settings(e) : NULL;
		if (e && e->state == KW_TLS_BOUND && e->handshaken && set &&
		    !kw_tls_settings_parkable(set)) {
			e->bye_faked = faked = true;
			e->bye_how = how;
		}
		kw_tls_sessions_unlock();
	}
	kw_slot_unlock(s);
	errno = saved;
	return faked;
}

int kw_tls_bye_owed(int lib, const void *h, bool *reset)
{
	struct kw_tls_session *e;
	int how = -1, saved = errno;

	if (reset)
		*reset = false;
	kw_tls_sessions_lock_shared();
	e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	if (e && e->bye_faked)
		how = e->bye_how;
	kw_tls_sessions_unlock();
	if (how >= 0) {
		kw_tls_sessions_lock();
		if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib))) {
			e->bye_faked = false;
			if (reset)
				*reset = e->reset_owed;
			e->reset_owed = false;
		}
		kw_tls_sessions_unlock();
		kw_tls_give_up(lib, h, KW_REASON_TLS_CALL, false);
	}
	errno = saved;
	return how;
}

/* End kept session p now (its entry is forgotten), unless the program
 * still holds it (a zombie: then when it frees it). Under the table lock. */
static void end_kept(int lib, void *p)
{
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)lib);
	struct kw_tls_session *e = kw_tls_map_find(&kw_tls_sessions, p, (enum kw_tls_lib)lib);

	if (e && e->zombie) {
		e->state = KW_TLS_GONE;
		e->lent = false;
		e->taker = NULL;
		e->ino = 0;
		return;
	}
	if (!e)
		return; /* ended already (never twice) */
	kw_tls_map_drop(&kw_tls_sessions, p, (enum kw_tls_lib)lib);
	if (ops)
		kw_tls_keep_measure_end(ops->end, p);
}

const void *kw_tls_zombie_target(int lib, const void *h)
{
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)lib);
	const void *d = ops ? ops->dead() : NULL;

	return d ? d : h;
}


bool kw_tls_release(int lib, const void *h)
{
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)lib);
	struct kw_tls_session *e, *pe;
	struct kw_fd *s = NULL;
	void *live = NULL;
	uint32_t gen = 0;
	bool bound = false, kept = false;
	int saved = errno;

	kw_forkwatch_check();
	kw_tls_sessions_lock();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)) && e->zombie) {
		/* Its connection was parked at close: a kept session stays
		 * keepwarm's; one keepwarm ended already, or a handle that had
		 * taken another over, is the caller's to free. */
		kept = e->state == KW_TLS_KEPT;
		if (kept)
			e->zombie = false;
		else
			kw_tls_map_drop(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
		kw_tls_sessions_unlock();
		errno = saved;
		return kept;
	}
	kw_tls_sessions_unlock();
	kw_tls_sessions_lock_shared();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib))) {
		live = e->live;
		if ((bound = e->state == KW_TLS_BOUND)) {
			s = kw_fd_lookup(e->fd);
			gen = e->gen;
		}
	}
	kw_tls_sessions_unlock();
	if (s && bound && ops) {
		kw_slot_lock(s);
		kw_tls_sessions_lock();
		e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
		if (e && e->live == live && kw_tlsreuse_parkable(s, gen)) {
			void *p = live ? live : (void *)h;
			pe = live ? kw_tls_map_find(&kw_tls_sessions, p, (enum kw_tls_lib)lib) : e;
			if (pe && pe->set && !kw_tls_settings_parkable(pe->set) && ops->keep(p, pe->set)) {
				pe->state = KW_TLS_KEPT;
				pe->lent = false;
				pe->taker = NULL;
				pe->ino = s->conn.ino;
				pe->bye_faked = false;
				s->conn.tls_handle = NULL;
				s->conn.tls = p;
				s->conn.tls_lib = (uint8_t)lib;
				s->conn.tls_kept = true;
				kept = true;
			}
		}
		kw_tls_sessions_unlock();
		kw_slot_unlock(s);
	}
	kw_tls_sessions_lock();
	if (live) {
		/* h goes (the caller frees it); the session it took over stays
		 * with the socket, or ends with h. */
		if (!kept)
			end_kept(lib, live);
		kw_tls_map_drop(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	} else if (!kept) {
		kw_tls_map_drop(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	}
	kw_tls_sessions_unlock();
	errno = saved;
	return kept && !live;
}

/* h took over a kept session on s (slot lock held), which it leaves now
 * for a fresh connection (stale: the kept one failed): its route goes, and
 * it is a session of its own again, its handshake still to run. False when
 * the connection could not be changed. */
static bool leave_kept(int lib, const void *h, struct kw_fd *s, bool stale, enum kw_reason why)
{
	struct kw_tls_session *e;

	if (!kw_tlsreuse_untake(s, stale, why))
		return false;
	kw_tls_sessions_lock();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib))) {
		e->live = NULL;
		e->verify_owed = false;
		e->state = KW_TLS_SEEN;
		e->handshaken = false;
		e->fd = -1;
	}
	kw_tls_sessions_unlock();
	return true;
}

/* h's own handshake on the fresh connection on fd, inside a call on h (its
 * ClientHello ties h to the socket on the way out). 0 or the library's
 * error. */
static int own_handshake(int lib, const void *h, int fd)
{
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)lib);
	struct kw_tls_call outer;
	struct kw_tls_session *e;
	int r;

	kw_tls_call_enter(&outer, (enum kw_tls_lib)lib, h);
	r = ops->handshake((void *)h, fd, KW_REDIAL_TIMEOUT_MS);
	kw_tls_call_leave(&outer);
	if (r == 0) {
		kw_tls_sessions_lock();
		if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)))
			e->handshaken = true;
		kw_tls_sessions_unlock();
	}
	return r;
}

/* The slot of the socket h is tied to, locked, when h took over a kept
 * session there (and its generation); NULL otherwise. */
static struct kw_fd *lent_socket(int lib, const void *h, uint32_t *gen)
{
	struct kw_tls_session *e;
	struct kw_fd *s = NULL;

	kw_tls_sessions_lock_shared();
	e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	if (e && e->live && e->state == KW_TLS_BOUND) {
		s = kw_fd_lookup(e->fd);
		*gen = e->gen;
	}
	kw_tls_sessions_unlock();
	if (s) {
		kw_slot_lock(s);
		if (!kw_slot_unchanged(s, *gen) || !s->conn.reused || !s->conn.tls) {
			kw_slot_unlock(s);
			s = NULL;
		}
	}
	return s;
}

static const void *first_request(int lib, const void *h, const void *t, const void *buf,
                                 size_t n, ssize_t *answer);

/* Could h's connection, going on session t, be parked with t when its
 * exchange ends (its settings, and what the library says of t)? */
static bool keepable(int lib, const void *h, const void *t, const struct kw_tls_keep_ops *ops)
{
	const struct kw_tls_settings *set;
	struct kw_tls_session *e;
	bool ok;

	kw_tls_sessions_lock_shared();
	e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	set = e ? conn_settings(e) : NULL;
	ok = e && e->handshaken && set && !kw_tls_settings_parkable(set);
	kw_tls_sessions_unlock();
	return ok && ops->keepable(t);
}

/* A close-style request head at the start of buf (n bytes) on h, on a
 * connection that may be parked: sent as keep-alive on t, with the rest of
 * buf (traced upgrade), and *answer says how many of the program's bytes
 * went out (or the library's error). Nothing done when it is not such a
 * head. */
static void upgrade(int lib, const void *h, const void *t, const void *buf, size_t n,
                    ssize_t *answer)
{
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)lib);
	char out[KW_HEAD_MAX + 64];
	struct kw_head head;
	struct kw_conn *c;
	struct kw_fd *s;
	uint32_t gen;
	size_t len;
	int fd, r;

	if (!ops || !(s = kw_tls_bound_socket(lib, h, &gen)))
		return;
	c = &s->conn;
	kw_slot_lock(s);
	if (!kw_slot_unchanged(s, gen) || !c->watch_only || !c->dest.tls ||
	    atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_HTTP ||
	    c->track.status != KW_TRACK_FOLLOWING || c->track.request_open ||
	    kw_head_parse(buf, n < KW_HEAD_MAX ? n : KW_HEAD_MAX, &head) != KW_HEAD_OK ||
	    !head.close_style || !(len = kw_head_upgrade(buf, &head, out, sizeof out))) {
		kw_slot_unlock(s);
		return;
	}
	/* Only for a connection that can be parked where the response ends:
	 * the program waits for the server's close otherwise. */
	if (!keepable(lib, h, t, ops)) {
		kw_slot_unlock(s);
		return;
	}
	/* Followed as sent before it goes, so a reader thread that gets the
	 * response first finds the request, and the head to put back. */
	if (kw_report_latency)
		c->track.now_us = kw_now_us();
	kw_track_request(&c->track, out, len);
	if (c->replayable && !c->answered && !c->replayed)
		kw_conn_keep_replay(c, out, len);
	c->eof_after_response = true;
	c->restore_close = true;
	fd = s->fd;
	kw_slot_unlock(s);
	r = ops->send_all((void *)t, fd, out, len, KW_REDIAL_TIMEOUT_MS);
	if (r == 0 && n > head.len)
		r = ops->send_all((void *)t, fd, (const char *)buf + head.len, n - head.len,
		                  KW_REDIAL_TIMEOUT_MS);
	kw_slot_lock(s);
	if (kw_slot_unchanged(s, gen)) {
		if (r) {
			kw_let_go(s, KW_REASON_WRITE_ERROR);
		} else {
			if (n > head.len) {
				kw_track_request(&c->track, (const char *)buf + head.len, n - head.len);
				if (c->replayable && !c->answered && !c->replayed)
					kw_conn_keep_replay(c, (const char *)buf + head.len, n - head.len);
			}
			kw_report(KW_EVENT_UPGRADE, fd, &c->dest,
			          head.minor == 0 ? KW_REASON_HTTP10_KEEP_ALIVE : KW_REASON_CLOSE_REMOVED,
			          -1, -1);
		}
	}
	kw_slot_unlock(s);
	*answer = r ? r : (ssize_t)n;
}

const void *kw_tls_before_send(int lib, const void *h, const void *t, const void *buf, size_t n,
                               ssize_t *answer)
{
	int saved = errno;

	*answer = 0;
	t = first_request(lib, h, t, buf, n, answer);
	if (!*answer && kw_cfg.upgrade && kw_cfg.tls_reuse && kw_mode == KW_MODE_REUSE)
		upgrade(lib, h, t, buf, n, answer);
	errno = saved;
	return t;
}

/* The first request on a kept session h took over (target t) decides, as
 * on a plain handback: one that could not be sent again never travels
 * there; h then runs its own handshake on a fresh connection (*answer: its
 * error). Returns the session the request goes on. */
static const void *first_request(int lib, const void *h, const void *t, const void *buf,
                                 size_t n, ssize_t *answer)
{
	enum kw_head_status st;
	struct kw_head head;
	struct kw_fd *s;
	uint32_t gen;
	bool left;
	int fd;

	if (t == h || kw_cfg.reuse_always || !(s = lent_socket(lib, h, &gen)))
		return t;
	/* The first request on the kept session decides, as on a plain
	 * handback: one that could not be sent again never travels there. */
	if (s->conn.track.requests || s->conn.track.request_open || s->conn.replayable ||
	    s->conn.answered) {
		kw_slot_unlock(s);
		return t;
	}
	st = kw_head_parse(buf, n < KW_HEAD_MAX ? n : KW_HEAD_MAX, &head);
	if (kw_head_replayable(st, &head, KW_REPLAY_MAX)) {
		s->conn.replayable = true;
		kw_slot_unlock(s);
		return t;
	}
	left = leave_kept(lib, h, s, false, KW_REASON_REQUEST_NOT_REPLAYABLE);
	fd = s->fd;
	kw_slot_unlock(s);
	if (!left)
		return t; /* keep the reused one rather than fail */
	*answer = own_handshake(lib, h, fd);
	return h;
}

bool kw_tls_replay_worthy(int lib, const void *h)
{
	struct kw_fd *s;
	uint32_t gen;
	bool worthy;

	if (!(s = lent_socket(lib, h, &gen)))
		return false;
	worthy = !s->conn.answered && s->conn.replayable && !s->conn.replayed && s->conn.replay_len;
	kw_slot_unlock(s);
	return worthy;
}

int kw_tls_replay(int lib, const void *h)
{
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)lib);
	uint64_t idle_ms = 0;
	struct kw_fd *s;
	uint32_t gen;
	char *copy = NULL;
	size_t len = 0;
	int fd, r = -1, saved = errno;

	if (!ops || !(s = lent_socket(lib, h, &gen)))
		return -1;
	if (!s->conn.answered && s->conn.replayable && !s->conn.replayed && s->conn.replay_len &&
	    (copy = malloc(len = s->conn.replay_len))) {
		memcpy(copy, s->conn.replay, len);
		idle_ms = s->conn.parked_idle_ms;
		if (!leave_kept(lib, h, s, true, KW_REASON_REPLAY_EOF)) {
			free(copy);
			copy = NULL;
		}
	}
	fd = s->fd;
	gen = s->conn.gen;
	kw_slot_unlock(s);
	if (!copy)
		return -1;
	/* Its own handshake, then the request again: the program never sees
	 * the failure (its session is one of its own now). */
	r = own_handshake(lib, h, fd);
	if (r == 0)
		r = ops->send_all((void *)h, fd, copy, len, KW_REDIAL_TIMEOUT_MS);
	if (r == 0 && (s = kw_tls_bound_socket(lib, h, &gen))) {
		kw_slot_lock(s);
		s->conn.replayed = true;
		s->conn.replay_len = 0;
		kw_slot_unlock(s);
		kw_stream_plain_sent(s, gen, copy, len);
		kw_report(KW_EVENT_REPLAY, fd, &s->conn.dest, KW_REASON_REPLAY_EOF, (int64_t)idle_ms, -1);
	}
	free(copy);
	errno = saved;
	return r;
}

void kw_tls_note_callback(int lib, const void *h, enum kw_tls_callback which, kw_tls_fn fn,
                          unsigned htype, int when)
{
	const struct kw_tls_keep_ops *ops = kw_tls_keep_ops((enum kw_tls_lib)lib);
	struct kw_tls_session *e;
	int saved = errno;

	kw_forkwatch_check();
	kw_tls_sessions_lock();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)) && e->set) {
		if (which == KW_TLS_CB_KEYLOG) {
			e->set->keylog = fn;
		} else if (which == KW_TLS_CB_ALERT_READ) {
			e->set->alert_read = fn;
		} else {
			e->set->hook = fn;
			e->set->hook_htype = htype;
			e->set->hook_when = when;
			/* Its handshake's messages would never reach it. */
			if (fn && !e->handshaken && !e->live)
				kw_tls_settings_foreign(e->set, KW_REASON_TLS_SETTING);
		}
		/* A session taken over: the kept one calls it, with h. */
		if (e->live && ops)
			ops->callbacks(e->live, e->set);
	}
	kw_tls_sessions_unlock();
	errno = saved;
}


bool kw_tls_take_early(int lib, const void *h)
{
	const struct kw_tls_call *call = kw_tls_call_current();
	struct kw_tls_session *e;
	struct kw_fd *s;
	bool taken = false;
	int fd = -1, saved = errno;

	if (!kw_cfg.tls_reuse || kw_mode != KW_MODE_REUSE || !call || call->h != h)
		return false;
	kw_tls_sessions_lock_shared();
	e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib);
	/* The library's own functions on one descriptor: its number is known
	 * before anything is written. */
	if (e && e->set && e->state == KW_TLS_SEEN && !e->handshaken && !e->set->own &&
	    e->set->recv_ptr == e->set->send_ptr)
		fd = (int)(intptr_t)e->set->recv_ptr;
	kw_tls_sessions_unlock();
	if (fd < 0 || !(s = kw_fd_lookup(fd)))
		return false;
	kw_slot_lock(s);
	taken = kw_tlsreuse_take_before_hello(s, call);
	kw_slot_unlock(s);
	errno = saved;
	return taken;
}

int kw_tls_settle(int lib, const void *h)
{
	enum kw_reason why;
	struct kw_tls_session *e;
	struct kw_fd *s;
	uint32_t gen;
	int settled = 1, saved = errno;

	if (!(s = lent_socket(lib, h, &gen)))
		return 0;
	why = kw_tlsreuse_settle(s, (enum kw_tls_lib)lib, h, true);
	if (why && kw_tlsreuse_untake(s, false, why)) {
		settled = 0;
	} else if (why) {
		/* No fresh connection to be had: h goes on with none (its
		 * handshake fails as on a connection the server dropped), and
		 * never with the session it could not verify. */
		kw_tls_sessions_lock();
		if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)))
			e->state = KW_TLS_GONE;
		kw_tls_sessions_unlock();
		kw_real.shutdown(s->fd, SHUT_RDWR);
		kw_let_go(s, why);
		settled = -1;
	}
	kw_slot_unlock(s);
	errno = saved;
	return settled;
}

void kw_tls_reset(int lib, const void *h)
{
	struct kw_tls_session *e;
	enum kw_reason foreign = KW_REASON_NONE;
	bool had = false, live = false;
	int saved = errno;

	kw_tls_sessions_lock_shared();
	if ((e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib))) {
		live = e->live != NULL;
		if ((had = e->set != NULL))
			foreign = e->set->foreign;
	}
	kw_tls_sessions_unlock();
	/* A session it took over goes back to the pool (or ends); h is a new
	 * session, but for what the program set on it, which stays. */
	if (live)
		(void)kw_tls_release(lib, h);
	else
		kw_tls_forget(lib, h);
	if (had) {
		kw_tls_born(lib, h, 0);
		kw_tls_sessions_lock();
		if (foreign && (e = kw_tls_map_find(&kw_tls_sessions, h, (enum kw_tls_lib)lib)) &&
		    e->set)
			kw_tls_settings_foreign(e->set, foreign);
		kw_tls_sessions_unlock();
	}
	errno = saved;
}
