/* closestyle.c - upgrade, head restore, end-of-file and drain. */
#include "feature/closestyle.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "logic/transport.h"
#include "primitive/follow.h"
#include "primitive/park.h"
#include "service/state.h"
#include "sink/report.h"

#define DRAIN_BUDGET_US 5000 /* the longest close() waits for a remainder */

/* ---- request upgrade ---- */

static void account_sent(struct kw_conn *c, const void *buf, size_t len)
{
	kw_track_request(&c->track, buf, len);
	if (c->replayable)
		kw_conn_keep_replay(c, buf, len);
}

/* Send the upgraded head and the rest of the program's bytes (those after
 * its original head, which may span several iovecs). The program is told how
 * many of its own bytes went out. */
static ssize_t send_upgraded(struct kw_fd *s, const struct iovec *iov, int iovcnt, int flags,
                             const struct kw_head *h, const char *head, size_t head_len)
{
	struct kw_conn *c = &s->conn;
	struct iovec v[IOV_MAX];
	size_t skip = h->len, sent_rest;
	ssize_t r;
	int n = 0, err;
	uint32_t gen;
	bool head_out;

	v[n++] = (struct iovec){ (void *)head, head_len };
	for (int i = 0; i < iovcnt && n < IOV_MAX; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		v[n++] = (struct iovec){ (char *)iov[i].iov_base + skip, iov[i].iov_len - skip };
		skip = 0;
	}
	if (kw_report_latency)
		c->track.now_us = kw_now_us();
	/* Followed as sent before it goes, so a reader thread that gets the
	 * response first finds the request, and the head to put back. */
	account_sent(c, head, head_len);
	c->eof_after_response = true;
	c->restore_close = true;
	/* A send can block (a blocking socket, a full buffer): without the lock. */
	gen = c->gen;
	kw_slot_unlock(s);
	r = c->tp->send(s->fd, v, n, flags);
	err = errno;
	/* The program must never wait on bytes we hold: finish the head now. */
	head_out = r >= 0 && ((size_t)r >= head_len ||
	                      c->tp->send_all(s->fd, head + r, head_len - (size_t)r,
	                                      KW_REDIAL_TIMEOUT_MS));
	kw_slot_lock(s);
	if (r < 0) {
		/* Nothing went out, but the tracker heard it: let go; the program's
		 * retry goes out as it wrote it. */
		c->eof_after_response = false; /* the retry goes out close-style */
		c->restore_close = false;
		if (c->gen == gen)
			kw_let_go(s, err == EAGAIN || err == EWOULDBLOCK || err == EINTR
			                     ? KW_REASON_SEND_RETRIED
			                     : KW_REASON_WRITE_ERROR);
		errno = err;
		return r;
	}
	errno = err;
	if (!kw_slot_unchanged(s, gen)) {
		/* Closed or let go meanwhile: say what went out, follow nothing. */
		if (!head_out) {
			errno = EPIPE;
			return -1;
		}
		return (ssize_t)(h->len + ((size_t)r > head_len ? (size_t)r - head_len : 0));
	}
	if ((size_t)r < head_len) {
		if (!head_out) {
			kw_let_go(s, KW_REASON_WRITE_ERROR);
			errno = EPIPE;
			return -1;
		}
		r = (ssize_t)head_len;
	}
	c->meta.wire_sent += (uint64_t)r;
	sent_rest = (size_t)r - head_len;
	for (int i = 1, left = (int)sent_rest; i < n && left > 0; i++) {
		size_t take = v[i].iov_len < (size_t)left ? v[i].iov_len : (size_t)left;
		account_sent(c, v[i].iov_base, take);
		left -= (int)take;
	}
	kw_report(KW_EVENT_UPGRADE, s->fd, &c->dest,
	          h->minor == 0 ? KW_REASON_HTTP10_KEEP_ALIVE : KW_REASON_CLOSE_REMOVED, -1, -1);
	return (ssize_t)(h->len + sent_rest);
}

bool kw_closestyle_upgrade(struct kw_fd *s, const struct iovec *iov, int iovcnt, int flags,
                           const char *flat, const struct kw_head *h, ssize_t *result)
{
	char head[KW_HEAD_MAX + 64];
	size_t head_len = kw_head_upgrade(flat, h, head, sizeof head);

	if (!head_len)
		return false;
	*result = send_upgraded(s, iov, iovcnt, flags, h, head, head_len);
	return true;
}

/* ---- the response head ---- */

ssize_t kw_closestyle_restore(struct kw_conn *c, const struct iovec *iov, ssize_t ret)
{
	size_t head;

	c->restore_close = false;
	if ((size_t)ret > iov[0].iov_len)
		return ret;
	/* Incomplete in this first buffer, or an interim 1xx: leave it be. */
	head = kw_response_head_final(iov[0].iov_base, (size_t)ret);
	return head ? (ssize_t)kw_response_restore_close(iov[0].iov_base, head, (size_t)ret) : ret;
}

/* ---- end of an upgraded response ---- */

/* Called by the transport once the end-of-file stand-in is on the program's
 * descriptor, with a handle on the connection that left it. */
static void park_before_eof(void *arg, int h)
{
	struct kw_fd *s = arg;
	enum kw_reason why = kw_park(s, h, false);

	if (why)
		kw_report(KW_EVENT_DISCARD, s->fd, &s->conn.dest, why, -1, kw_conn_requests(&s->conn));
}

static void end_with_eof(struct kw_fd *s, bool park)
{
	struct kw_conn *c = &s->conn;

	if (!c->tp->end_with_eof(c, s->fd, park ? park_before_eof : NULL, s)) {
		kw_let_go(s, KW_REASON_NO_FD_FOR_EOF);
		return;
	}
	kw_report(KW_EVENT_EOF, s->fd, &c->dest,
	          park ? KW_REASON_RESPONSE_COMPLETE : KW_REASON_SERVER_KEPT_TALKING, -1,
	          kw_conn_requests(c));
	atomic_store_explicit(&s->kind, KW_FD_NONE, memory_order_release);
}

bool kw_closestyle_eof_check(struct kw_fd *s)
{
	struct kw_conn *c = &s->conn;

	if (!c->eof_after_response)
		return false;
	if (kw_track_reusable(&c->track)) {
		end_with_eof(s, true);
		return true;
	}
	if (c->track.status != KW_TRACK_LET_GO || c->track.reason == KW_REASON_RESPONSE_CLOSE ||
	    c->track.reason == KW_REASON_SERVER_CLOSED)
		return false; /* still mid-response, or the server closes by itself */
	/* The server sent more than the response and will not close: end it
	 * once the program has what was sent. */
	if (c->tp->unread(s->fd) == 0)
		end_with_eof(s, false);
	return true;
}

/* ---- drain at close ---- */

void kw_closestyle_drain(struct kw_fd *s)
{
	struct kw_conn *c = &s->conn;
	long long left = kw_track_response_left(&c->track);
	uint64_t deadline = kw_now_us() + DRAIN_BUDGET_US, total = 0;
	char buf[16384];

	/* A Content-Length remainder we already know is too big: not worth it. */
	if (left >= 0 && (uint64_t)left > kw_cfg.drain_bytes)
		return;
	while (c->track.status == KW_TRACK_FOLLOWING && !kw_track_reusable(&c->track) &&
	       total < kw_cfg.drain_bytes) {
		uint64_t now = kw_now_us();
		size_t want = sizeof buf;
		ssize_t n;

		if (now >= deadline)
			break;
		if (want > kw_cfg.drain_bytes - total)
			want = (size_t)(kw_cfg.drain_bytes - total);
		n = c->tp->recv(s->fd, buf, want);
		if (n > 0) {
			total += (uint64_t)n;
			c->meta.wire_received += (uint64_t)n;
			kw_track_response(&c->track, buf, (size_t)n);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			break;
		} else {
			/* poll is a cancellation point: wait without the lock. */
			uint32_t gen = c->gen;
			bool came;
			kw_slot_unlock(s);
			came = c->tp->wait(s->fd, POLLIN, (int)((deadline - now + 999) / 1000));
			kw_slot_lock(s);
			if (!came || !kw_slot_unchanged(s, gen))
				break;
		}
	}
	kw_report(KW_EVENT_DRAIN, s->fd, &c->dest,
	          kw_track_reusable(&c->track) ? KW_REASON_DRAIN_COMPLETE : KW_REASON_DRAIN_GAVE_UP,
	          -1, (int64_t)total);
}
