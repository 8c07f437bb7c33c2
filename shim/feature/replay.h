/* replay.h - reuse without adding a failure: a request that could not be
 * sent again never travels on a handed-back connection (the handback is
 * undone), and a replayable one whose reused connection fails before any
 * response byte is sent once more on a fresh connection. Every function
 * expects the slot lock and acts through the connection's transport. */
#ifndef KW_REPLAY_H
#define KW_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "logic/catalog.h"
#include "logic/upgrade.h"
#include "service/fdtable.h"

/* The first request on a handed-back connection, head h (status st) parsed
 * from its first bytes: may it travel on this connection? If not
 * (and KEEPWARM_REUSE is safe), park the unused connection and put a fresh
 * one on the descriptor (traced: fresh). Returns true when the program's call
 * is answered here: *result is -1 with errno EAGAIN while the fresh
 * connection is still connecting. */
bool kw_replay_admit(struct kw_fd *s, enum kw_head_status st, const struct kw_head *h,
                     ssize_t *result);

/* A call on a reused connection came back ret with errno err: true when it
 * failed before answering a replayable request that was not replayed yet. */
bool kw_replay_worthy(const struct kw_conn *c, ssize_t ret, int err);

/* Send the request again on a fresh connection installed on the program's
 * descriptor (traced: replay, with why). Returns true when the program's
 * call should be repeated; false leaves the original failure to the program. */
bool kw_replay(struct kw_fd *s, enum kw_reason why);

#endif
