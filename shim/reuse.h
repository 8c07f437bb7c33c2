/* reuse.h - the two moments that matter: parking at close() and handing back
 * at connect(). Internal to the shim. */
#ifndef KW_REUSE_H
#define KW_REUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "fdtable.h"

extern int kw_private_base;

/* Slot lock with the re-entrancy depth raised (see kw_depth). */
void kw_slot_lock(struct kw_fd *s);
void kw_slot_unlock(struct kw_fd *s);

/* Stop following s (lock held); event NULL picks passthrough/discard from
 * the reason. Traced. */
void kw_let_go_locked(struct kw_fd *s, const char *event, const char *reason);

/* The bit for an option copied by value between sockets, 0 for others. */
uint32_t kw_copied_opt_bit(int level, int name);

/* Copy the program's socket options from one socket to another: the known
 * ones in touched by value (so defaults travel too), the rest as the
 * program set them before connect(). */
void kw_carry_options(const struct kw_conn *c, int from, int to, uint32_t touched);

/* Nothing to read, no FIN, no error. */
bool kw_looks_alive(int fd);

/* Park s's connection (slot lock held): checks it is clean (unused: the
 * program has written nothing on it since the handback, so the exchange state
 * is not consulted), removes the program's epoll registrations, moves it to a
 * private number and hands it to the pool. Returns NULL when parked, else why
 * not. fd stays open either way. */
const char *kw_park(struct kw_fd *s, int fd, bool unused);

/* Start following a new exchange on s (dialled, handed back or replayed). */
void kw_follow(struct kw_fd *s);

#endif
