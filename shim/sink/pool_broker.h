/* pool_broker.h - the pool behind the process's own: the per-user broker
 * (keepwarmd), reached over a Unix socket, holding plain connections for
 * every process of the user (pool.h's second backend).
 *
 * Used only when it must be ours: its directory and socket belong to this
 * effective uid with no access for others, and the peer's SO_PEERCRED uid
 * is this uid; otherwise the process works alone and says so once on
 * stderr. Never in a setuid (AT_SECURE) process or under a seccomp filter.
 * One socket per process (close-on-exec, private, opened again in a child
 * and when its number no longer holds it). Every call is bounded (1 ms for
 * a take, then a miss), takes no keepwarm lock, keeps errno, and after a
 * failure leaves the broker alone for a while (backoff): a missing, slow or
 * dead broker means "dial". */
#ifndef KW_POOL_BROKER_H
#define KW_POOL_BROKER_H

#include "sink/pool.h"

/* Make *pool the broker at KEEPWARM_BROKER's value (c->broker) for this
 * process, or leave it empty (ops NULL) when off, setuid or the path does
 * not fit. xdg_runtime_dir is $XDG_RUNTIME_DIR (NULL if unset). Nothing is
 * opened until the first call. */
void kw_pool_broker_create(struct kw_pool *pool, const char *broker, const char *xdg_runtime_dir);

/* In a child, however made: the parent's socket is closed and forgotten;
 * the child opens its own when it needs one. */
void kw_pool_broker_after_fork_child(void);

#endif
