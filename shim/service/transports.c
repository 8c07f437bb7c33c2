/* transports.c - the transport of each kind of pooled connection. */
#include "service/transports.h"

#include <stdatomic.h>

#include "service/tcp.h"

static _Atomic(const struct kw_transport *) registered[KW_TRANSPORT_KINDS];

const struct kw_transport *kw_transport_for(enum kw_transport_kind k)
{
	const struct kw_transport *tp = NULL;

	if ((unsigned)k < KW_TRANSPORT_KINDS)
		tp = atomic_load_explicit(&registered[k], memory_order_acquire);
	return tp ? tp : &kw_tcp_transport;
}

void kw_transport_register(const struct kw_transport *tp)
{
	if ((unsigned)tp->kind < KW_TRANSPORT_KINDS)
		atomic_store_explicit(&registered[tp->kind], tp, memory_order_release);
}
