/* tls_transport.h - the TLS transport: a TLS session over TCP. Its
 * connections move exactly as TCP's do (the same descriptors, options,
 * flags and epoll registrations, service/tcp.h); closing one also ends the
 * session keepwarm kept on it (service/tls_keep.h). A connection's
 * transport becomes this one when its socket is tied to a session; its
 * pool key then says TLS. */
#ifndef KW_TLS_TRANSPORT_H
#define KW_TLS_TRANSPORT_H

#include "logic/transport.h"

/* The transport, once kw_tls_transport_init has run (else TCP's). */
const struct kw_transport *kw_tls_transport_table(void);

/* Make it and register it for KW_TRANSPORT_TLS. Once, at initialisation. */
void kw_tls_transport_init(void);

#endif
