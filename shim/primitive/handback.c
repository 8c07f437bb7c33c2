/* handback.c - hand a parked connection back at connect(). */
#include "primitive/handback.h"

#include "primitive/follow.h"
#include "primitive/park.h"
#include "primitive/patience.h"
#include "service/private.h"
#include "service/state.h"
#include "sink/report.h"

/* The next parked connection for c's key, -1 when none is left. */
static int take(struct kw_conn *c, struct kw_idle_meta *m)
{
	struct kw_pool_drops dropped;
	uint64_t now = kw_now_ms();
	struct kw_key key;
	int h;

	kw_key_make(&key, &c->dest, c->tp->kind, kw_conn_opts_hash(c));
	kw_private_lock();
	h = kw_pool.ops->take(kw_pool.self, &key, now, m, &dropped);
	kw_private_unlock();
	kw_park_drop(&dropped, now);
	return h;
}

bool kw_handback(struct kw_fd *s)
{
	struct kw_conn *c = &s->conn;
	const struct kw_transport *tp = c->tp;
	struct kw_idle_meta m;
	int parked;

	while ((parked = take(c, &m)) >= 0) {
		uint64_t idle = kw_now_ms() - m.parked_ms;
		uint32_t touched = c->meta.touched;

		if (!tp->alive(parked)) {
			kw_report(KW_EVENT_STALE, parked, &c->dest, KW_REASON_CLOSED_WHILE_IDLE,
			          (int64_t)idle, m.conn.requests);
			kw_patience_learn(&c->dest, idle);
			tp->close(parked);
			continue;
		}
		if (tp->install(c, s->fd, parked, KW_INSTALL_HANDBACK, m.conn.touched | touched) < 0) {
			kw_report(KW_EVENT_DISCARD, parked, &c->dest, KW_REASON_HANDBACK_FAILED,
			          (int64_t)idle, m.conn.requests);
			return false;
		}
		c->reused = true;
		c->meta = m.conn;
		c->meta.touched = m.conn.touched | touched;
		c->parked_idle_ms = idle;
		kw_follow(s);
		kw_report(KW_EVENT_REUSE, s->fd, &c->dest, KW_REASON_NONE, (int64_t)idle,
		          m.conn.requests);
		return true;
	}
	return false;
}
