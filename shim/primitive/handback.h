/* handback.h - giving a parked connection back at connect(). */
#ifndef KW_HANDBACK_H
#define KW_HANDBACK_H

#include <stdbool.h>

#include "logic/idle_table.h"
#include "service/fdtable.h"

/* connect() of a followed, unconnected socket whose destination is in
 * s->conn.dest (slot lock held): take the newest parked connection for it,
 * drop the ones its server closed meanwhile (traced stale; their server's
 * patience learned), and install a live one on the program's descriptor with
 * the program's flags, options and epoll registrations. Returns true when
 * the descriptor holds it (traced reuse; connect() returns 0). */
bool kw_handback(struct kw_fd *s);

/* When kw_handback found none: ask the pool behind (the broker) for a plain
 * connection to d with options opts, with no keepwarm lock held (it waits
 * for another process, at most a millisecond). probe is the program's
 * socket, which tells the broker the network namespace. Returns a private
 * handle with *m filled, now the caller's, -1 for none, -2 when the broker
 * did not answer in time. */
int kw_handback_ask_far(const struct kw_dest *d, uint32_t opts, int probe, struct kw_idle_meta *m);

/* Install h from kw_handback_ask_far on s's descriptor (slot lock held
 * again) as kw_handback installs a parked one (traced reuse, reason
 * broker). Consumes h. Returns true when the descriptor holds it. */
bool kw_handback_give(struct kw_fd *s, int h, const struct kw_idle_meta *m);

#endif
