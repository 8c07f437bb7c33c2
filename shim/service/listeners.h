/* listeners.h - the addresses this program listens on. A connection to one
 * of them goes to a server inside the same program (a test suite's server
 * thread, a forked child server), which may read until the client closes:
 * parking the client's side would leave that server waiting for an
 * end-of-file that never comes. So such a connection is never parked.
 *
 * One page shared across fork(): a listen() in the parent, in a child or in
 * a sibling is seen by all of the processes forked from the first (an exec
 * starts afresh). Entries are never removed; a closed listener only costs
 * the reuse of connections to its address. */
#ifndef KW_LISTENERS_H
#define KW_LISTENERS_H

#include <stdbool.h>

#include "logic/dest.h"

/* Map the shared page (once, at initialisation). Without it nothing is
 * recorded and nothing matches. */
void kw_listeners_init(void);

/* The program's listen() on fd succeeded: record its bound address. */
void kw_listeners_add(int fd);

/* Does a connection to d (on the program's socket fd) go to one of the
 * recorded listeners? A listener on 0.0.0.0 or :: matches every local
 * address: loopback, or the connection's own local address. Costs one load
 * while nothing listens. */
bool kw_listeners_match(const struct kw_dest *d, int fd);

#endif
