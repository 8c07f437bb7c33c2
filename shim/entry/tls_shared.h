/* tls_shared.h - what entry/tls.c and its neighbours tls_reuse.c and
 * tls_routing.c share (entry-internal; the wrappers use entry.h). */
#ifndef KW_TLS_SHARED_H
#define KW_TLS_SHARED_H

#include <stdbool.h>
#include <stdint.h>

#include "logic/catalog.h"
#include "service/fdtable.h"

/* The socket h is tied to, and its generation (*gen), when it is tied to
 * one; NULL otherwise. (tls.c) */
struct kw_fd *kw_tls_bound_socket(int lib, const void *h, uint32_t *gen);

/* Never follow h again; let its socket go for reason (if it had one; eof:
 * the server's close_notify ends its response). A session not tied yet
 * never will be (its ClientHello is still to come). (tls.c) */
void kw_tls_give_up(int lib, const void *h, enum kw_reason reason, bool eof);

/* The session a zombie's calls go to: the one that never connects, or h
 * when there is none. Under the session table's lock. (tls_reuse.c) */
const void *kw_tls_zombie_target(int lib, const void *h);

#endif
