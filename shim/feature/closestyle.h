/* closestyle.h - making close-style clients poolable without adding a
 * failure: the request sent as keep-alive, the response head put back to what
 * a close-style request gets, end-of-file where the response ends, and the
 * remainder of a response read away at close. Every function expects the
 * slot lock and acts through the connection's transport. */
#ifndef KW_CLOSESTYLE_H
#define KW_CLOSESTYLE_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "logic/upgrade.h"
#include "service/fdtable.h"

/* The program writes a close-style request head h, parsed from flat (its
 * first bytes, complete in this call): send the keep-alive version of the
 * head and the program's bytes after its own head. *result (with errno) is
 * what the program's call returns: how many of its own bytes went out.
 * Returns false, sending nothing, when the head cannot be rewritten. */
bool kw_closestyle_upgrade(struct kw_fd *s, const struct iovec *iov, int iovcnt, int flags,
                           const char *flat, const struct kw_head *h, ssize_t *result);

/* The response to an upgraded request begins in these ret bytes (iov[0]
 * first): give the program the head a close-style request gets (Connection:
 * close, no Keep-Alive) when it is complete in the first buffer. Returns the
 * new length. */
ssize_t kw_closestyle_restore(struct kw_conn *c, const struct iovec *iov, ssize_t ret);

/* After the program read response bytes of an upgraded request: when the
 * response is complete, park the connection and leave the program a
 * descriptor that reads end-of-file, as after a server close. Returns true
 * when it took charge (the end-of-file is in place, or will be once the
 * program has read what a misbehaving server sent beyond the response). */
bool kw_closestyle_eof_check(struct kw_fd *s);

/* The program closes with part of a response unread: read it away, within
 * KEEPWARM_DRAIN bytes and a few milliseconds, so the connection can park. */
void kw_closestyle_drain(struct kw_fd *s);

#endif
