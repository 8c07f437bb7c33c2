/* park.h - keeping a clean connection at close() instead of closing it,
 * and looking after what waits in the pool. */
#ifndef KW_PARK_H
#define KW_PARK_H

#include <stdbool.h>
#include <stdint.h>

#include "logic/catalog.h"
#include "service/fdtable.h"
#include "sink/pool.h"

/* Park s's connection (slot lock held): checks it is clean (unused: the
 * program has written nothing on it since the handback, so the exchange is
 * not consulted), still the program's socket, settled and within its
 * limits, then takes it aside (transport detach) into the pool. h is -1
 * while the connection is on s->fd, else a private handle on it already
 * taken aside (a set-aside callback's), which is consumed: parked, or closed
 * when it cannot be. Returns KW_REASON_NONE when parked (traced: park), else
 * why not; the program's descriptor stays open either way. */
enum kw_reason kw_park(struct kw_fd *s, int h, bool unused);

/* fn is called after every park, with no pool lock held (initialisation
 * sets the helper thread's feature/reaper.c here: a primitive calls no
 * feature). */
void kw_park_set_hook(void (*fn)(void));

/* Trace and close what the pool pushed out (expired, evicted), as of now_ms;
 * an evicted plain connection goes to the pool behind (the broker) when
 * there is one (traced: handoff, reason overflow). A connection the pool
 * cannot hold at all goes there from kw_park too. */
void kw_park_drop(const struct kw_pool_drops *d, uint64_t now_ms);

/* With kw_private_lock() held, after a pool operation at now_ms: TCP
 * keepalive probes switched on for the connections that have been parked
 * for KW_PROBE_AFTER_MS or longer and may stay longer than
 * KEEPWARM_TCP_KEEPALIVE (a probe goes out only after that much silence).
 * Probes are not set at park: most parked connections are taken back
 * sooner, and each costs three setsockopt calls on and three off. */
#define KW_PROBE_AFTER_MS 1000
void kw_park_probe_due(uint64_t now_ms);

/* Close every idle connection, each traced as discard with reason. */
void kw_park_flush(enum kw_reason reason);

/* At exit: give every parked plain connection to the pool behind (the
 * broker), each traced as handoff (reason exit); the ones it will not take
 * are closed. Nothing when there is no pool behind. */
void kw_park_hand_over(void);

/* The program wants number fd, which holds a parked connection: move the
 * connection to another private number (or lose it, when none is free). */
void kw_park_relocate(int fd);

/* In a fork child, with the private lock held since before fork(): close
 * the child's copies of the idle connections (the parent keeps its own),
 * untraced. */
void kw_park_forget_all(void);

#endif
