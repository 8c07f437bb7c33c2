/* replay.c - fresh connections for unsafe requests, and one replay. */
#include "feature/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "logic/transport.h"
#include "primitive/follow.h"
#include "primitive/park.h"
#include "service/tcp.h"
#include "service/state.h"
#include "sink/report.h"

/* Called by the transport before the unused connection leaves the
 * descriptor; when it cannot be parked it simply closes. */
static void park_unused(void *arg, int h)
{
	(void)kw_park(arg, h, true);
}

/* Wait up to KW_REDIAL_TIMEOUT_MS for nfd to connect, and send len bytes of
 * buf on it when len > 0, without the slot lock (the wait can be long, and a
 * signal or a cancellation may end it). True when that worked and s still
 * holds the same socket as before. */
static bool unlocked_dial_finish(struct kw_fd *s, int nfd, bool wait, const void *buf, size_t len)
{
	struct kw_conn *c = &s->conn;
	const struct kw_transport *tp = c->tp;
	uint32_t gen = c->gen;
	bool ok;

	kw_slot_unlock(s);
	ok = (!wait || tp->connected(nfd, kw_tcp_dial_wait_ms())) &&
	     (!len || tp->send_all(nfd, buf, len, KW_REDIAL_TIMEOUT_MS));
	kw_slot_lock(s);
	return ok && kw_slot_unchanged(s, gen);
}

bool kw_replay_admit(struct kw_fd *s, enum kw_head_status st, const struct kw_head *h,
                     ssize_t *result)
{
	struct kw_conn *c = &s->conn;
	const struct kw_transport *tp = c->tp;
	bool ok = kw_head_replayable(st, h, KW_REPLAY_MAX), in_progress, blocking;
	int nfd;

	if (ok || kw_cfg.reuse_always) {
		c->replayable = ok;
		return false;
	}
	/* A fresh connection in place of the handed-back one; a blocking
	 * descriptor waits for it, as its own connect() would have. Any failure
	 * keeps the reused one rather than fail. */
	blocking = tp->blocking(s->fd);
	if ((nfd = tp->dial(c, s->fd, &in_progress)) < 0)
		return false;
	if (in_progress && blocking && !unlocked_dial_finish(s, nfd, true, NULL, 0)) {
		tp->close(nfd);
		return false;
	}
	if (tp->replace(c, s->fd, nfd, park_unused, s) < 0)
		return false;
	c->reused = false;
	kw_conn_dialled(c, kw_now_ms());
	kw_follow(s);
	kw_report(KW_EVENT_FRESH, s->fd, &c->dest, KW_REASON_REQUEST_NOT_REPLAYABLE, -1, -1);
	if (!in_progress || blocking)
		return false;
	*result = -1;
	errno = EAGAIN; /* writable once connected, as after a connect() */
	return true;
}

bool kw_replay_worthy(const struct kw_conn *c, ssize_t ret, int err)
{
	return c->reused && !c->answered && c->replayable && !c->replayed &&
	       (ret == 0 || (ret < 0 && (err == ECONNRESET || err == EPIPE)));
}

bool kw_replay(struct kw_fd *s, enum kw_reason why)
{
	struct kw_conn *c = &s->conn;
	const struct kw_transport *tp = c->tp;
	bool in_progress;
	int nfd, saved = errno;
	uint64_t begin_us, asked_us;
	char *copy;
	size_t len;

	if (!c->reused || c->answered || !c->replayable || c->replayed || !c->replay_len)
		return false;
	/* The bytes travel from a copy: the slot is unlocked while they go. */
	if ((nfd = tp->dial(c, s->fd, &in_progress)) < 0 || !(copy = malloc(len = c->replay_len))) {
		if (nfd >= 0)
			tp->close(nfd);
		errno = saved;
		return false;
	}
	memcpy(copy, c->replay, len);
	if (!unlocked_dial_finish(s, nfd, in_progress, copy, len)) {
		tp->close(nfd);
		nfd = -1;
	}
	free(copy);
	/* (install consumes nfd whatever it returns) */
	if (nfd < 0 || tp->install(c, s->fd, nfd, KW_INSTALL_REPLACE, 0, -1) < 0) {
		errno = saved;
		return false; /* the program sees the original failure */
	}
	kw_track_oldest_times(&c->track, &begin_us, &asked_us);
	c->reused = false;
	c->replayed = true;
	kw_conn_dialled(c, kw_now_ms());
	c->meta.wire_sent = c->replay_len;
	kw_follow(s);
	/* The program's request began when it wrote it, not now. */
	c->track.now_us = begin_us;
	c->track.asked_us = asked_us;
	kw_track_request(&c->track, c->replay, c->replay_len);
	kw_report(KW_EVENT_REPLAY, s->fd, &c->dest, why, (int64_t)c->parked_idle_ms, -1);
	errno = saved;
	return true;
}
