/* follow.c - start and stop following a connection. */
#include "primitive/follow.h"

#include "service/tls_keep.h"
#include "sink/report.h"

static void on_answer(void *arg, uint64_t request_us, uint64_t wait_us)
{
	struct kw_fd *s = arg;
	/* The tracker counts the response once this returns. */
	kw_report_answer(s->fd, &s->conn.dest, kw_conn_requests(&s->conn) + 1, request_us, wait_us);
}

void kw_follow(struct kw_fd *s)
{
	kw_track_init(&s->conn.track);
	if (kw_report_latency) {
		kw_track_set_observer(&s->conn.track, on_answer, s);
		s->conn.track.asked_us = s->conn.asked_us;
	}
	atomic_store_explicit(&s->kind, KW_FD_HTTP, memory_order_release);
}

void kw_let_go(struct kw_fd *s, enum kw_reason reason)
{
	int kind = atomic_load_explicit(&s->kind, memory_order_relaxed);
	const struct kw_conn *c = &s->conn;

	if (kind != KW_FD_SOCKET && kind != KW_FD_CONNECTING && kind != KW_FD_HTTP)
		return;
	/* A request keepwarm upgraded waits for an end-of-file the server will
	 * not send: keep following it to the end of its response (the
	 * stand-in goes there), but never park it. */
	if (kind == KW_FD_HTTP && c->eof_after_response && c->track.status == KW_TRACK_FOLLOWING) {
		if (!s->conn.park_veto) {
			s->conn.park_veto = reason;
			kw_report(kw_reason_event(reason), s->fd, &c->dest, reason, -1, kw_conn_requests(c));
		}
		return;
	}
	/* A connection handed back from a parked TLS session is not the
	 * program's to have: the handback is undone at its first send
	 * (feature/tlsreuse.c), which lets it go then. */
	if (kind == KW_FD_HTTP && c->tls_pending) {
		if (!s->conn.park_veto)
			s->conn.park_veto = reason;
		return;
	}
	/* A session keepwarm kept for parking: nobody will park it now. */
	if (c->tls_kept) {
		s->conn.tls_kept = false;
		s->conn.tls = NULL;
		kw_tls_keep_end_ino(c->ino);
	}
	atomic_store_explicit(&s->kind, KW_FD_NONE, memory_order_release);
	kw_report(kw_reason_event(reason), s->fd, kind != KW_FD_SOCKET ? &c->dest : NULL, reason, -1,
	          kind == KW_FD_HTTP ? kw_conn_requests(c) : -1);
}
