/* handback.c - hand a parked connection back at connect(). */
#include "primitive/handback.h"

#include "primitive/follow.h"
#include "primitive/park.h"
#include "primitive/patience.h"
#include "service/private.h"
#include "service/state.h"
#include "service/tcp.h"
#include "service/tls_sessions.h"
#include "service/tls_transport.h"
#include "sink/report.h"

/* The next parked connection for c's destination over transport kind, -1
 * when none is left. */
static int take(struct kw_conn *c, enum kw_transport_kind kind, struct kw_idle_meta *m)
{
	struct kw_pool_drops dropped;
	uint64_t now = kw_now_ms();
	struct kw_key key;
	int h;
	struct kw_dest d = c->dest;

	/* An empty pool misses without the lock (which blocks signals). */
	if (kw_pool.ops->holds_none && kw_pool.ops->holds_none(kw_pool.self))
		return -1;
	d.tls = kind == KW_TRANSPORT_TLS; /* as the session's connection was parked */
	kw_key_make(&key, &d, kind, kw_conn_opts_hash(c));
	kw_private_lock();
	h = kw_pool.ops->take(kw_pool.self, &key, -1, now, m, &dropped);
	kw_park_probe_due(now);
	kw_private_unlock();
	kw_park_drop(&dropped, now);
	return h;
}

/* The kept TLS session over the parked socket h (its inode ino, 0 when
 * unknown), for c. */
static bool kept_session(struct kw_conn *c, int h, ino_t ino)
{
	struct kw_tls_session *e;

	if (!ino)
		ino = kw_tcp_inode(h);
	kw_tls_sessions_lock_shared();
	if ((e = kw_tls_map_find_kept(&kw_tls_sessions, ino)) && !e->lent) {
		c->tls = (void *)e->h;
		c->tls_lib = e->lib;
	}
	kw_tls_sessions_unlock();
	return e && c->tls;
}

/* Put parked handle h (of kind, through tp, with metadata m) on s's
 * descriptor: 1 when it holds it, 0 when h was dead or not a kept session
 * (closed; try the next), -1 when the install failed. */
static int give(struct kw_fd *s, const struct kw_transport *tp, enum kw_transport_kind kind,
                int h, const struct kw_idle_meta *m, enum kw_reason how)
{
	struct kw_conn *c = &s->conn;
	uint64_t idle = kw_now_ms() - m->parked_ms;
	uint32_t touched = c->meta.touched;
	ino_t ino = c->ino; /* put back if the install fails */

	c->tls = NULL;
	if (kind == KW_TRANSPORT_TLS && !kept_session(c, h, (ino_t)m->ino)) {
		tp->close(h);
		return 0;
	}
	/* The broker re-checked its connection (TCP_INFO) just before sending
	 * it: a second check here would only add a system call to the wait. */
	if (how != KW_REASON_FROM_BROKER && !tp->alive(h)) {
		kw_report(KW_EVENT_STALE, h, &c->dest, KW_REASON_CLOSED_WHILE_IDLE, (int64_t)idle,
		          m->conn.requests);
		kw_patience_learn(&c->dest, idle);
		tp->close(h);
		return 0;
	}
	c->ino = (ino_t)m->ino; /* install reads it when 0 */
	if (tp->install(c, s->fd, h, KW_INSTALL_HANDBACK, m->conn.touched | touched,
	                m->flags_known ? m->file_flags : -1) < 0) {
		c->ino = ino;
		c->tls = NULL;
		kw_report(KW_EVENT_DISCARD, h, &c->dest, KW_REASON_HANDBACK_FAILED, (int64_t)idle,
		          m->conn.requests);
		return -1;
	}
	c->reused = true;
	c->tp = tp;
	c->tls_pending = kind == KW_TRANSPORT_TLS;
	c->dest.tls = c->tls_pending; /* until its next ClientHello says otherwise */
	c->meta = m->conn;
	c->meta.touched = m->conn.touched | touched;
	c->parked_idle_ms = idle;
	kw_follow(s);
	kw_report(KW_EVENT_REUSE, s->fd, &c->dest, how, (int64_t)idle, m->conn.requests);
	return 1;
}

bool kw_handback(struct kw_fd *s)
{
	struct kw_conn *c = &s->conn;
	const struct kw_transport *tp = c->tp;
	/* Plain first; then a parked TLS session (the program's next
	 * ClientHello decides whether its session may take it over). */
	enum kw_transport_kind kind = KW_TRANSPORT_PLAIN;
	struct kw_idle_meta m;
	int parked;

	for (;;) {
		int done;

		if ((parked = take(c, kind, &m)) < 0) {
			if (kind == KW_TRANSPORT_TLS || !kw_cfg.tls_reuse)
				break;
			kind = KW_TRANSPORT_TLS;
			tp = kw_tls_transport_table();
			continue;
		}
		if ((done = give(s, tp, kind, parked, &m, KW_REASON_NONE)))
			return done > 0;
	}
	c->tls = NULL;
	return false;
}

int kw_handback_ask_far(const struct kw_dest *d, uint32_t opts, int probe, struct kw_idle_meta *m)
{
	struct kw_pool_drops none;
	struct kw_key key;
	struct kw_dest plain = *d;

	if (!kw_pool_far.ops)
		return -1;
	plain.tls = 0;
	kw_key_make(&key, &plain, KW_TRANSPORT_PLAIN, opts);
	return kw_pool_far.ops->take(kw_pool_far.self, &key, probe, kw_now_ms(), m, &none);
}

bool kw_handback_give(struct kw_fd *s, int h, const struct kw_idle_meta *m)
{
	return give(s, &kw_tcp_transport, KW_TRANSPORT_PLAIN, h, m, KW_REASON_FROM_BROKER) > 0;
}
