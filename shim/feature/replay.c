/* replay.c - fresh connections for unsafe requests, and one replay. */
#include "feature/replay.h"

#include <errno.h>

#include "logic/transport.h"
#include "primitive/follow.h"
#include "primitive/park.h"
#include "service/state.h"
#include "sink/report.h"

/* Called by the transport before the unused connection leaves the
 * descriptor; when it cannot be parked it simply closes. */
static void park_unused(void *arg, int h)
{
	(void)kw_park(arg, h, true);
}

bool kw_replay_admit(struct kw_fd *s, enum kw_head_status st, const struct kw_head *h,
                     ssize_t *result)
{
	struct kw_conn *c = &s->conn;
	bool ok = kw_head_replayable(st, h, KW_REPLAY_MAX);
	int undone;

	if (ok || kw_cfg.reuse_always) {
		c->replayable = ok;
		return false;
	}
	undone = c->tp->undo_handback(c, s->fd, park_unused, s);
	if (undone < 0)
		return false; /* keep the reused one rather than fail */
	c->reused = false;
	kw_conn_dialled(c, kw_now_ms());
	kw_follow(s);
	kw_report(KW_EVENT_FRESH, s->fd, &c->dest, KW_REASON_REQUEST_NOT_REPLAYABLE, -1, -1);
	if (undone == 0)
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

	if (!c->reused || c->answered || !c->replayable || c->replayed || !c->replay_len)
		return false;
	nfd = tp->dial(c, s->fd, &in_progress);
	if (nfd >= 0 && ((in_progress && !tp->connected(nfd, KW_REDIAL_TIMEOUT_MS)) ||
	                 !tp->send_all(nfd, c->replay, c->replay_len, KW_REDIAL_TIMEOUT_MS))) {
		tp->close(nfd);
		nfd = -1;
	}
	if (nfd < 0 || tp->install(c, s->fd, nfd, KW_INSTALL_REPLACE, 0) < 0) {
		errno = saved;
		return false; /* the program sees the original failure */
	}
	c->reused = false;
	c->replayed = true;
	kw_conn_dialled(c, kw_now_ms());
	c->meta.wire_sent = c->replay_len;
	kw_follow(s);
	kw_track_request(&c->track, c->replay, c->replay_len);
	kw_report(KW_EVENT_REPLAY, s->fd, &c->dest, why, (int64_t)c->parked_idle_ms, -1);
	errno = saved;
	return true;
}
