/* kwbroker_dests.h - what keepwarmd learns of destinations: each server's
 * patience (how long it let a parked connection wait before closing it)
 * and the warm pool's targets (KEEPWARM_WARM: destinations to keep
 * connections ready for). Pure bookkeeping, no system call. */
#ifndef KWBROKER_DESTS_H
#define KWBROKER_DESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "logic/key.h"

/* The shortest idle time after which k's server closed a parked
 * connection (its network namespace and address), 0 when none was seen. */
uint64_t kwb_patience_of(const struct kw_key *k);

/* k's server closed a connection parked for idle ms. */
void kwb_patience_learn(const struct kw_key *k, uint64_t idle);

/* A destination the broker keeps warm. */
struct kwb_warm {
	struct kw_key key;   /* netns and cgroup the broker's own, opts 0 */
	uint64_t used_ms;    /* its last take */
	uint64_t retry_ms;   /* no dial before this (after a failure) */
	unsigned dialing;    /* dials under way */
	unsigned failures;   /* in a row */
	bool off;            /* its server closed a warm one before any use */
};

#define KWB_WARM_MAX 64

/* A take of key at now: the target it makes or refreshes when key may be
 * warmed (its netns and cgroup are mine, no option pins its socket, it is
 * plain, its server never closed an idle connection), else NULL. A full
 * table forgets its least recently used target. */
struct kwb_warm *kwb_warm_note(const struct kw_key *key, uint64_t mine_netns,
                               uint64_t mine_cgroup, uint64_t now);

/* How many connections to dial now for t, to hold want (held are parked,
 * t->dialing under way): 0 when it is off, in its back-off, or unused for
 * longer than idle_ms (0: no limit). */
unsigned kwb_warm_wanted(const struct kwb_warm *t, unsigned held, unsigned want,
                         uint64_t idle_ms, uint64_t now);

/* A dial of t ended: ok, or failed (back-off, doubling from 1 s to 60 s). */
void kwb_warm_dialled(struct kwb_warm *t, bool ok, uint64_t now);

/* The server of key closed a warm connection nobody had used: never warm
 * it again. */
void kwb_warm_spoiled(const struct kw_key *key);

/* Target i (0..KWB_WARM_MAX-1), NULL when unused. */
struct kwb_warm *kwb_warm_at(unsigned i);

#endif
