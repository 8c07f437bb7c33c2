/* follow.h - starting and stopping to follow a program's connection.
 * Both expect the slot lock. */
#ifndef KW_FOLLOW_H
#define KW_FOLLOW_H

#include "logic/catalog.h"
#include "service/fdtable.h"

/* Start following a new exchange on s (dialled, handed back or replayed): a
 * fresh tracker, the latency observer when latencies are measured (its first
 * request's wait from the connect() in conn.asked_us), kind HTTP. */
void kw_follow(struct kw_fd *s);

/* Stop following s for good: never parked, passed straight through from now
 * on. Traced with the reason's event (passthrough, discard or taint). No-op
 * for a socket no longer followed. */
void kw_let_go(struct kw_fd *s, enum kw_reason reason);

#endif
