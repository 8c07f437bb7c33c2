/* tls_transport.c - TCP's operations, with a kept session ended at close. */
#include "service/tls_transport.h"

#include <stdatomic.h>

#include "service/tcp.h"
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
	atomic_store_explicit(&made, true, memory_order_release);
	kw_transport_register(&tls);
}
