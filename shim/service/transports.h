/* transports.h - which transport moves each kind of pooled connection.
 *
 * A parked connection is a handle and a key; closing it (expired, evicted,
 * flushed) needs the transport of its key's kind. KW_TRANSPORT_PLAIN is TCP
 * from the start; a TLS layer registers its own when it is resolved. */
#ifndef KW_TRANSPORTS_H
#define KW_TRANSPORTS_H

#include "logic/transport.h"

/* The transport for kind k (TCP for any kind nobody registered). */
const struct kw_transport *kw_transport_for(enum kw_transport_kind k);

/* Register tp for its kind (replacing the one before). */
void kw_transport_register(const struct kw_transport *tp);

#endif
