/* tls_transport.c - TCP's operations, with a kept session ended at close. */
#include "service/tls_transport.h"

#include <stdatomic.h>

#include "logic/conn.h"
#include "service/tcp.h"
#include "service/tcpinfo.h"
#include "service/tls_keep.h"
#include "service/transports.h"

static struct kw_transport tls;
static _Atomic bool made;

/* Idle and healthy: nothing to read, or only records that keep the
 * session going (a TLS 1.3 server sends session tickets and key updates
 * on an idle connection), which its kept session takes in. */
static bool tls_alive(int h)
{
	return kw_tcp_transport.alive(h) || kw_tls_keep_tidy(h, kw_tcp_inode(h));
}

/* At park: TCP's judgement, but a TLS 1.3 server sends session tickets
 * and key updates right after a response, which the kept session takes in
 * itself (its own reads and its key update's answer are I/O keepwarm's
 * counters do not show). Then the connection must be open, every byte read,
 * nothing left to send. */
static enum kw_reason tls_settled(const struct kw_conn *c, int fd)
{
	enum kw_reason why = kw_tcp_transport.settled(c, fd);
	struct kw_tcp_counters k;

	if (why == KW_REASON_NONE || !c->tls_kept ||
	    (why != KW_REASON_UNREAD_BYTES && why != KW_REASON_UNSEEN_IO &&
	     why != KW_REASON_UNACKED))
		return why;
	/* (by fd's own inode: a handle set aside has left c's descriptor) */
	if (why == KW_REASON_UNREAD_BYTES && !kw_tls_keep_tidy(fd, kw_tcp_inode(fd)))
		return why;
	if (!kw_tcp_counters(fd, &k))
		return why;
	return k.established && !k.notsent ? KW_REASON_NONE : KW_REASON_SERVER_CLOSED;
}

static void tls_close(int h)
{
	kw_tls_keep_end_ino(kw_tcp_inode(h));
	kw_tcp_transport.close(h);
}

const struct kw_transport *kw_tls_transport_table(void)
{
	return atomic_load_explicit(&made, memory_order_acquire) ? &tls : &kw_tcp_transport;
}

void kw_tls_transport_init(void)
{
	if (atomic_load_explicit(&made, memory_order_acquire))
		return;
	tls = kw_tcp_transport;
	tls.name = "tls";
	tls.kind = KW_TRANSPORT_TLS;
	tls.close = tls_close;
	tls.alive = tls_alive;
	tls.settled = tls_settled;
	atomic_store_explicit(&made, true, memory_order_release);
	kw_transport_register(&tls);
}
