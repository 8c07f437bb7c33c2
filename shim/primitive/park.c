/* park.c - park a clean connection at close(); what the pool gives back. */
#include "primitive/park.h"

#include <unistd.h>

#include "primitive/patience.h"
#include "service/forkwatch.h"
#include "service/listeners.h"
#include "service/private.h"
#include "service/state.h"
#include "service/tcp.h"
#include "service/transports.h"
#include "sink/report.h"

/* How long this connection may wait: our idle timeout, lowered by the
 * server's Keep-Alive: timeout= (with a margin), by what the server was seen
 * to tolerate (less a margin) and by the maximum lifetime. */
static uint64_t expiry(const struct kw_conn *c, uint64_t now, uint64_t patience)
{
	/* 0: no idle limit of our own, as Go's IdleConnTimeout (the server's
	 * Keep-Alive timeout, what it was seen to tolerate and the lifetime
	 * still bound it). */
	uint64_t idle = kw_cfg.idle_timeout_ms ? kw_cfg.idle_timeout_ms : UINT64_MAX / 2, expires;

	if (c->track.ka_timeout_s >= 0) {
		uint64_t server = (uint64_t)c->track.ka_timeout_s * 1000;
		uint64_t margin = server / 10 < 500 ? server / 10 : 500;
		if (server - margin < idle)
			idle = server - margin;
	}
	if (patience) {
		uint64_t margin = patience / 10 > 20 ? patience / 10 : 20;
		uint64_t limit = patience > margin ? patience - margin : 0;
		if (limit < idle)
			idle = limit;
	}
	expires = now + idle;
	if (kw_cfg.max_lifetime_ms && c->meta.born_ms + kw_cfg.max_lifetime_ms < expires)
		expires = c->meta.born_ms + kw_cfg.max_lifetime_ms;
	return expires;
}

/* Give plain connection h to the pool behind (the broker), with no lock
 * held; traced as handoff for why. Consumes h when it returns true. */
static bool hand_off(int h, const struct kw_idle_meta *m, uint64_t now_ms, enum kw_reason why)
{
	struct kw_pool_drops none;
	struct kw_idle_meta probing;

	if (!kw_pool_far.ops || m->key.transport != KW_TRANSPORT_PLAIN)
		return false;
	/* The broker may hold it for long: probes on before it goes. */
	if (!m->probing && kw_cfg.tcp_keepalive_ms) {
		probing = *m;
		probing.probing = true;
		probing.conn.touched |= kw_keepalive_opt_bits();
		kw_tcp_probe_idle(h);
		m = &probing;
	}
	if (kw_pool_far.ops->park(kw_pool_far.self, h, m, now_ms, &none) < 0)
		return false;
	kw_report(KW_EVENT_HANDOFF, h, &m->key.dest, why, -1, m->conn.requests);
	kw_transport_for(m->key.transport)->close(h); /* the broker holds its own copy */
	return true;
}

void kw_park_drop(const struct kw_pool_drops *d, uint64_t now_ms)
{
	for (unsigned i = 0; i < d->n; i++) {
		const struct kw_idle_entry *e = &d->entry[i];
		if (d->event[i] == KW_EVENT_EVICT && hand_off(e->fd, &e->meta, now_ms, KW_REASON_OVERFLOW))
			continue;
		kw_report(d->event[i], e->fd, &e->meta.key.dest, KW_REASON_NONE,
		          (int64_t)(now_ms - e->meta.parked_ms), e->meta.conn.requests);
		kw_transport_for(e->meta.key.transport)->close(e->fd);
	}
}

/* Why s's connection (on s->fd, or on the handle h a transport took from
 * it, of inode h_ino when known, else 0) may not be parked; 0 when it may. */
static enum kw_reason unparkable(struct kw_fd *s, int h, ino_t h_ino, bool unused,
                                 struct kw_idle_meta *m, uint64_t now)
{
	struct kw_conn *c = &s->conn;
	const struct kw_transport *tp = c->tp;
	enum kw_reason why = unused ? KW_REASON_NONE : kw_track_why_not(&c->track);
	int on = h >= 0 ? h : s->fd;
	uint64_t patience;

	/* A TLS session's connection is pooled only with its session, which
	 * keepwarm keeps once the program let go of it (a connection handed
	 * back from one and not taken over goes back whole). */
	if (c->dest.tls && !c->tls_kept && !c->tls_pending)
		return KW_REASON_TLS_NOT_POOLED;
	if (c->tls_pending && !unused)
		why = KW_REASON_NONE;
	if (why)
		return why;
	if (c->park_veto)
		return c->park_veto;
	if (c->owner != kw_pid)
		return KW_REASON_INHERITED_FROM_PARENT;
	patience = kw_patience_of(&c->dest);
	kw_key_make(&m->key, &c->dest, tp->kind, kw_conn_opts_hash(c));
	m->parked_ms = now;
	m->expires_ms = expiry(c, now, patience);
	m->conn = c->meta;
	m->conn.requests = (uint32_t)kw_conn_requests(c);
	m->conn.touched = c->meta.touched; /* and the probes' options once they are on */
	m->probing = false;
	/* The description parked with it: the program's socket, its flags
	 * those keepwarm saw. A set-aside handle is that socket, moved off fd,
	 * when the transport told its inode. */
	m->ino = h < 0 ? (uint64_t)c->ino : (uint64_t)h_ino; /* h < 0: checked by tp->same */
	m->flags_known = (h < 0 || h_ino) && c->file_flags >= 0;
	m->file_flags = c->file_flags;
	m->conn.max_lifetime_ms = kw_cfg.max_lifetime_ms;
	m->conn.max_requests = kw_cfg.max_requests;
	m->conn.server_max = c->track.ka_max;
	m->conn.patience_ms = patience;
	if (kw_cfg.max_requests && m->conn.requests >= kw_cfg.max_requests)
		return KW_REASON_MAX_REQUESTS;
	if (c->track.ka_max == 0)
		return KW_REASON_SERVER_MAX_REQUESTS;
	if (m->expires_ms <= now)
		return KW_REASON_NO_TIME_LEFT;
	if (h < 0 && !tp->same(c, on)) /* a handle was taken from our socket */
		return KW_REASON_NOT_OUR_SOCKET;
	if (kw_listeners_match(&c->dest, on))
		return KW_REASON_OWN_SERVER;
	return tp->settled(c, on);
}

static void (*parked_hook)(void);

void kw_park_set_hook(void (*fn)(void))
{
	parked_hook = fn;
}

enum kw_reason kw_park(struct kw_fd *s, int h, bool unused)
{
	struct kw_conn *c = &s->conn;
	const struct kw_transport *tp = c->tp;
	uint64_t now = kw_now_ms();
	struct kw_pool_drops dropped;
	struct kw_idle_meta m;
	ino_t h_ino = h >= 0 ? c->aside_ino : 0; /* only for this handle */
	enum kw_reason why;
	int parked, ret;

	c->aside_ino = 0;
	why = unparkable(s, h, h_ino, unused, &m, now);

	if (why) {
		if (h >= 0)
			tp->close(h);
		return why;
	}
	parked = h >= 0 ? h : tp->detach(c, s->fd);
	if (parked < 0)
		return KW_REASON_NO_PRIVATE_FD;
	kw_private_lock();
	ret = kw_pool.ops->park(kw_pool.self, parked, &m, now, &dropped);
	kw_park_probe_due(now);
	kw_private_unlock();
	kw_park_drop(&dropped, now);
	if (ret < 0) {
		if (hand_off(parked, &m, now, KW_REASON_OVERFLOW))
			return KW_REASON_NONE;
		tp->close(parked);
		return KW_REASON_POOL_FULL;
	}
	kw_report(KW_EVENT_PARK, s->fd, &c->dest, KW_REASON_NONE, -1, m.conn.requests);
	if (parked_hook)
		parked_hook(); /* the helper that expires on time (feature/reaper.c) */
	return KW_REASON_NONE;
}

void kw_park_probe_due(uint64_t now_ms)
{
	int h[16];
	unsigned n;

	if (!kw_cfg.tcp_keepalive_ms || !kw_pool.ops->probe_due || now_ms < KW_PROBE_AFTER_MS)
		return;
	/* Bounded: what is left is due at the next operation. */
	n = kw_pool.ops->probe_due(kw_pool.self, now_ms - KW_PROBE_AFTER_MS, kw_cfg.tcp_keepalive_ms,
	                           kw_keepalive_opt_bits(), h, sizeof h / sizeof h[0]);
	for (unsigned i = 0; i < n; i++)
		kw_tcp_probe_idle(h[i]);
}

void kw_park_flush(enum kw_reason reason)
{
	struct kw_idle_entry e;
	uint64_t now = kw_now_ms();

	for (;;) {
		bool got;
		kw_private_lock();
		got = kw_pool.ops->pop_oldest(kw_pool.self, &e);
		kw_private_unlock();
		if (!got)
			break;
		kw_report(KW_EVENT_DISCARD, e.fd, &e.meta.key.dest, reason,
		          (int64_t)(now - e.meta.parked_ms), e.meta.conn.requests);
		kw_transport_for(e.meta.key.transport)->close(e.fd);
	}
}

void kw_park_hand_over(void)
{
	struct kw_idle_entry e;
	uint64_t now = kw_now_ms();

	if (!kw_pool_far.ops)
		return;
	/* Bounded: a pool holds at most KEEPWARM_MAX_IDLE entries. */
	for (unsigned round = 0; round < 65536; round++) {
		bool got;
		kw_private_lock();
		got = kw_pool.ops->pop_oldest(kw_pool.self, &e);
		kw_private_unlock();
		if (!got)
			break;
		/* A TLS session cannot leave the process: the exit closes it, as
		 * it would have without the broker. */
		if (e.meta.key.transport == KW_TRANSPORT_PLAIN &&
		    !hand_off(e.fd, &e.meta, now, KW_REASON_AT_EXIT))
			kw_transport_for(e.meta.key.transport)->close(e.fd);
	}
}

void kw_park_relocate(int fd)
{
	kw_private_lock();
	kw_pool.ops->renumber(kw_pool.self, fd, kw_private_move(fd));
	kw_private_unlock();
}

void kw_park_forget_all(void)
{
	struct kw_idle_entry e;

	/* In a child made while another thread changed the pool, an entry may be
	 * half written: only a number keepwarm owns is closed. */
	while (kw_pool.ops->pop_oldest(kw_pool.self, &e)) {
		struct kw_fd *s = kw_fd_lookup(e.fd);
		if (s && atomic_load_explicit(&s->kind, memory_order_acquire) == KW_FD_PRIVATE)
			kw_transport_for(e.meta.key.transport)->close(e.fd);
	}
}
