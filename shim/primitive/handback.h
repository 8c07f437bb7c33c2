/* handback.h - giving a parked connection back at connect(). */
#ifndef KW_HANDBACK_H
#define KW_HANDBACK_H

#include <stdbool.h>

#include "service/fdtable.h"

/* connect() of a followed, unconnected socket whose destination is in
 * s->conn.dest (slot lock held): take the newest parked connection for it,
 * drop the ones its server closed meanwhile (traced stale; their server's
 * patience learned), and install a live one on the program's descriptor with
 * the program's flags, options and epoll registrations. Returns true when
 * the descriptor holds it (traced reuse; connect() returns 0). */
bool kw_handback(struct kw_fd *s);

#endif
