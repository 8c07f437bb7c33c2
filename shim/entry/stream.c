/* stream.c - the byte stream of a followed connection: what the program
 * sent and received feeds the HTTP tracker, and the close-style and replay
 * features act at the right moments, all through the connection's transport.
 * The fd wrappers are one caller; the TLS wrappers (through entry/tls.c) are
 * the other, feeding a session's plaintext while the socket underneath is
 * followed in watch-only mode from its ClientHello on. */
#include "entry/entry.h"

#include <errno.h>
#include <string.h>

#include "feature/closestyle.h"
#include "feature/replay.h"
#include "feature/tlsreuse.h"
#include "logic/upgrade.h"
#include "primitive/follow.h"
#include "logic/tlsmap.h"
#include "service/forkwatch.h"
#include "service/tls_sessions.h"
#include "service/tls_transport.h"
#include "sink/report.h"

static bool soft_error(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* The first bytes of iov, up to cap, in one buffer. */
static size_t gather(const struct iovec *iov, int iovcnt, char *buf, size_t cap)
{
	size_t len = 0;

	for (int i = 0; i < iovcnt && len < cap; i++) {
		size_t n = iov[i].iov_len < cap - len ? iov[i].iov_len : cap - len;
		memcpy(buf + len, iov[i].iov_base, n);
		len += n;
	}
	return len;
}

bool kw_stream_before_send(struct kw_fd *s, const struct iovec *iov, int iovcnt, int flags,
                           ssize_t *result)
{
	struct kw_conn *c = &s->conn;
	char flat[KW_HEAD_MAX];
	struct kw_head h;
	enum kw_head_status st;
	size_t len;
	bool handled = false;
	int saved = errno;

	if (kw_mode != KW_MODE_REUSE || iovcnt < 1)
		return false;
	kw_forkwatch_check();
	kw_slot_lock(s);
	/* Handed back from a parked TLS session: taken over, or undone. */
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_HTTP && c->tls_pending) {
		size_t total = 0;
		for (int i = 0; i < iovcnt; i++)
			total += iov[i].iov_len;
		handled = kw_tlsreuse_first_send(s, iov, iovcnt, total, result);
		saved = errno;
		goto out;
	}
	/* Only the start of a request, on a connection whose bytes we follow. */
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_HTTP || c->watch_only ||
	    c->track.status != KW_TRACK_FOLLOWING || c->track.request_open ||
	    !(len = gather(iov, iovcnt, flat, sizeof flat)))
		goto out;
	st = kw_head_parse(flat, len, &h);
	if (c->reused && !c->track.requests && kw_replay_admit(s, st, &h, result)) {
		handled = true;
		goto out;
	}
	if (kw_cfg.upgrade && st == KW_HEAD_OK && h.close_style &&
	    kw_closestyle_upgrade(s, iov, iovcnt, flags, flat, &h, result)) {
		handled = true;
		saved = errno;
	}
out:
	kw_slot_unlock(s);
	if (handled && *result >= 0)
		errno = saved;
	return handled;
}

/* A session let go, or tied to a socket no longer followed (its number's
 * kind is read without that slot's lock: only whether it is gone). */
static bool dead_session(const struct kw_tls_session *e, void *arg)
{
	struct kw_fd *o;

	(void)arg;
	if (e->live || e->zombie || e->lent || e->state == KW_TLS_KEPT)
		return false; /* in use: routed to, kept with a socket, lent, or still the program's */
	return e->state == KW_TLS_GONE ||
	       (e->state == KW_TLS_BOUND &&
	        (!(o = kw_fd_lookup(e->fd)) ||
	         atomic_load_explicit(&o->kind, memory_order_acquire) != KW_FD_HTTP));
}

/* A ClientHello opens the connection on s: tie s to the TLS session whose
 * call this thread is inside, and follow s watch-only from now on (its
 * plaintext comes from the session); without such a session, let it go.
 * Returns whether s is still followed. */
static bool tls_hello(struct kw_fd *s, const struct iovec *iov, int iovcnt, size_t len)
{
	const struct kw_tls_call *call = kw_tls_call_current();
	struct kw_conn *c = &s->conn;
	enum kw_reason why = KW_REASON_TLS_UNBOUND;

	if (call && !c->reused) {
		struct kw_tls_session *e;
		kw_tls_sessions_lock();
		e = kw_tls_map_add(&kw_tls_sessions, call->h, call->lib);
		if (!e && kw_tls_map_sweep(&kw_tls_sessions, dead_session, NULL))
			e = kw_tls_map_add(&kw_tls_sessions, call->h, call->lib);
		if (!e) {
			why = KW_REASON_TLS_TOO_MANY;
		} else if (e->state == KW_TLS_SEEN && (e->hint_fd < 0 || e->hint_fd == s->fd)) {
			e->state = KW_TLS_BOUND;
			e->fd = s->fd;
			e->gen = c->gen;
			/* What it offered: a takeover of its connection compares it. */
			if (e->set && !e->set->hello_seen)
				e->set->hello_seen = kw_tls_hello_parse(iov, iovcnt, len, &e->set->hello) ==
				                     KW_TLS_HELLO_OK;
			why = KW_REASON_NONE;
		} else {
			e->state = KW_TLS_GONE; /* its socket is another, or it had one */
		}
		kw_tls_sessions_unlock();
	}
	if (why) {
		kw_let_go(s, why);
		return false;
	}
	c->watch_only = true;
	c->dest.tls = 1;
	c->tls_handle = call->h;
	c->tls_lib = (uint8_t)call->lib;
	c->tp = kw_tls_transport_table();
	kw_report_tls(s->fd, &c->dest, kw_tls_lib_name(call->lib), false);
	return true;
}

bool kw_stream_sent(struct kw_fd *s, ssize_t ret, int err, const struct iovec *iov,
                    int iovcnt, int flags)
{
	struct kw_conn *c = &s->conn;
	bool retry = false;

	kw_forkwatch_check();
	kw_slot_lock(s);
	if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_HTTP) {
		/* Unconnected (sendto with an address, TCP Fast Open): not modelled. */
		if (ret > 0)
			kw_let_go(s, KW_REASON_SEND_BEFORE_CONNECT);
	} else if (flags & MSG_OOB) {
		kw_let_go(s, KW_REASON_SEND_OOB);
	} else if (ret > 0) {
		if (!c->watch_only && !c->meta.wire_sent &&
		    kw_tls_client_hello(iov, iovcnt, (size_t)ret) && !tls_hello(s, iov, iovcnt, (size_t)ret))
			goto out;
		c->meta.wire_sent += (uint64_t)ret;
		if (!c->watch_only) {
			if (kw_report_latency)
				c->track.now_us = kw_now_us();
			kw_track_request_iov(&c->track, iov, iovcnt, (size_t)ret);
			if (c->replayable && !c->answered)
				kw_conn_keep_replay_iov(c, iov, iovcnt, (size_t)ret);
			if (c->track.status == KW_TRACK_LET_GO)
				kw_let_go(s, c->track.reason);
		}
	} else if (!c->watch_only && kw_replay_worthy(c, ret, err) &&
	           kw_replay(s, KW_REASON_REPLAY_RESET)) {
		retry = true;
	} else if (ret < 0 && !soft_error(err)) {
		kw_let_go(s, KW_REASON_WRITE_ERROR);
	}
out:
	kw_slot_unlock(s);
	errno = err;
	return retry;
}

/* Response bytes the program consumed (not peeked): the tracker, the head a
 * close-style request expects, and end-of-file where the response ends. */
static void received(struct kw_fd *s, ssize_t *retp, const struct iovec *iov, int iovcnt)
{
	struct kw_conn *c = &s->conn;
	ssize_t ret = *retp;
	bool starts_response = !c->track.response_open;

	c->answered = true;
	if (kw_report_latency)
		c->track.now_us = kw_now_us();
	kw_track_response_iov(&c->track, iov, iovcnt, (size_t)ret);
	if (c->restore_close && starts_response && kw_cfg.upgrade)
		*retp = kw_closestyle_restore(c, iov, ret);
	if (!kw_closestyle_eof_check(s) && c->track.status == KW_TRACK_LET_GO)
		kw_let_go(s, c->track.reason);
}

bool kw_stream_received(struct kw_fd *s, ssize_t *retp, int err, const struct iovec *iov,
                        int iovcnt, size_t asked, int flags)
{
	struct kw_conn *c = &s->conn;
	ssize_t ret = *retp;
	bool retry = false;

	kw_forkwatch_check();
	kw_slot_lock(s);
	if (flags & MSG_PEEK) {
		/* Nothing consumed: the tracker must not advance; and a program that
		 * peeks sees the server's own head from then on. */
		if (ret > 0)
			c->restore_close = false;
	} else if (atomic_load_explicit(&s->kind, memory_order_relaxed) != KW_FD_HTTP) {
		/* Unconnected: nothing to follow yet. */
	} else if (flags & (MSG_OOB | MSG_TRUNC | MSG_ERRQUEUE)) {
		kw_let_go(s, KW_REASON_RECV_FLAGS);
	} else if (ret > 0) {
		c->meta.wire_received += (uint64_t)ret;
		if (!c->watch_only)
			received(s, retp, iov, iovcnt);
	} else if (!c->watch_only && kw_replay_worthy(c, ret, err) &&
	           kw_replay(s, ret ? KW_REASON_REPLAY_RESET : KW_REASON_REPLAY_EOF)) {
		retry = true;
	} else if (ret == 0 && asked > 0) {
		if (!c->watch_only)
			kw_track_response_eof(&c->track);
		kw_let_go(s, KW_REASON_SERVER_CLOSED);
	} else if (ret < 0 && !soft_error(err)) {
		kw_let_go(s, KW_REASON_READ_ERROR);
	}
	kw_slot_unlock(s);
	errno = err;
	return retry;
}

/* ---- a TLS session's plaintext ---- */

/* Is s still the socket a session was tied to at generation gen? */
static bool plain_followed(struct kw_fd *s, uint32_t gen)
{
	return kw_slot_unchanged(s, gen) && s->conn.watch_only && s->conn.dest.tls;
}

/* n plaintext bytes the program wrote (sent) or consumed on the session
 * over s: how many it gets of those it read (an upgraded response's head
 * put back to what a close-style request gets, in buf). */
static size_t plain(struct kw_fd *s, uint32_t gen, void *buf, size_t n, bool sent)
{
	struct kw_conn *c = &s->conn;
	struct iovec iov = { buf, n };
	bool starts_response;
	int saved = errno;

	kw_forkwatch_check();
	kw_slot_lock(s);
	starts_response = !c->track.response_open;
	if (n && plain_followed(s, gen)) {
		if (kw_report_latency)
			c->track.now_us = kw_now_us();
		if (sent) {
			kw_track_request_iov(&c->track, &iov, 1, n);
			/* The first request on a session that took over a kept one,
			 * for a replay (entry/tls.c). */
			if (c->replayable && !c->answered && !c->replayed)
				kw_conn_keep_replay(c, buf, n);
		} else {
			c->answered = true;
			kw_track_response_iov(&c->track, &iov, 1, n);
			if (c->restore_close && starts_response && kw_cfg.upgrade)
				n = (size_t)kw_closestyle_restore(c, &iov, (ssize_t)n);
			/* An upgraded response ends here: the connection parks with
			 * its session, and the program reads end-of-file next, as
			 * after the server's close. */
			if (c->eof_after_response && kw_track_reusable(&c->track) &&
			    kw_tlsreuse_keep_now(s, true))
				(void)kw_closestyle_eof_check(s);
		}
		if (atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_HTTP &&
		    c->track.status == KW_TRACK_LET_GO)
			kw_let_go(s, c->track.reason);
	}
	kw_slot_unlock(s);
	errno = saved;
	return n;
}

void kw_stream_plain_sent(struct kw_fd *s, uint32_t gen, const void *buf, size_t n)
{
	(void)plain(s, gen, (void *)buf, n, true);
}

size_t kw_stream_plain_received(struct kw_fd *s, uint32_t gen, void *buf, size_t n)
{
	return plain(s, gen, buf, n, false);
}

void kw_stream_plain_end(struct kw_fd *s, uint32_t gen, enum kw_reason reason, bool eof)
{
	int saved = errno;

	kw_forkwatch_check();
	kw_slot_lock(s);
	if (plain_followed(s, gen)) {
		if (eof) {
			if (kw_report_latency)
				s->conn.track.now_us = kw_now_us();
			kw_track_response_eof(&s->conn.track);
		}
		kw_let_go(s, reason);
	}
	kw_slot_unlock(s);
	errno = saved;
}
