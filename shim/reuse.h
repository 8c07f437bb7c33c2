/* reuse.h - the two moments that matter: parking at close() and handing back
 * at connect(). Internal to the shim. */
#ifndef KW_REUSE_H
#define KW_REUSE_H

#include "fdtable.h"

extern int kw_private_base;

/* Slot lock with the re-entrancy depth raised (see kw_depth). */
void kw_slot_lock(struct kw_fd *s);
void kw_slot_unlock(struct kw_fd *s);

/* Stop following s (lock held); event NULL picks passthrough/discard from
 * the reason. Traced. */
void kw_let_go_locked(struct kw_fd *s, const char *event, const char *reason);

#endif
