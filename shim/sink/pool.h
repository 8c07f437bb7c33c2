/* pool.h - where parked connections wait: the backend interface.
 *
 * One pool is chosen at initialisation (kw_pool) and every caller goes
 * through it, so a second backend (a per-user broker holding idle
 * connections for many processes and passing them over a Unix socket) can
 * replace the in-process one without reshaping the shim. Modelled on nginx's
 * upstream keepalive cache and curl's connection pool: the backend stores and
 * finds; it never traces, closes or relocates a descriptor. What it expires
 * or evicts comes back to the caller, which reports and closes it.
 *
 * Handles are the transport's (private descriptors for TCP), owned by the pool
 * while parked. Callers hold kw_private_lock() around every call of a local
 * backend: one lock keeps the pool and the private numbers still together
 * (close_range, fork, relocation), so backends take no lock of their own. A
 * remote backend (ops->remote: the broker, in another process) is called
 * with no keepwarm lock held, since its calls wait for another process;
 * what it holds is not in this process, so nothing here can move it. */
#ifndef KW_POOL_H
#define KW_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "logic/catalog.h"
#include "logic/idle_table.h"

/* What a call pushed out of the pool: each entry is now the caller's, to be
 * traced with its event (expire or evict) and closed. */
#define KW_POOL_DROPS_MAX 17
struct kw_pool_drops {
	unsigned n;
	struct kw_idle_entry entry[KW_POOL_DROPS_MAX];
	enum kw_event event[KW_POOL_DROPS_MAX];
};

struct kw_pool_ops {
	const char *name;
	bool remote; /* in another process: called without the private lock */
	/* Take ownership of handle h and its metadata, at now_ms. Returns 0, or
	 * -1 when the pool will not hold it (the caller closes it). A remote
	 * backend holds a copy: the caller closes h either way. */
	int (*park)(void *self, int h, const struct kw_idle_meta *m, uint64_t now_ms,
	            struct kw_pool_drops *dropped);
	/* The most recently parked unexpired connection for k: its handle, now
	 * the caller's, with *m filled; -1 when there is none. The caller still
	 * checks liveness: the pool cannot see the server's close. near is a
	 * socket of the caller's (-1: none), from which a remote backend learns
	 * the caller's network namespace. A remote backend returns -2 when it
	 * gave up waiting for its answer. */
	int (*take)(void *self, const struct kw_key *k, int near, uint64_t now_ms,
	            struct kw_idle_meta *m, struct kw_pool_drops *dropped);
	/* Give up the least recently parked connection: true with *e filled, now
	 * the caller's; false when the pool is empty (flush, fork child). */
	bool (*pop_oldest)(void *self, struct kw_idle_entry *e);
	/* The connection parked on handle old_h now lives on new_h (-1: gone). */
	void (*renumber)(void *self, int old_h, int new_h);
	/* True when nothing is parked, read without the caller's lock (NULL in
	 * a remote backend): a take can miss without blocking signals for the
	 * lock. A connection another thread parks meanwhile is missed as if it
	 * had been parked a moment later. */
	bool (*holds_none)(void *self);
	/* Connections parked at or before before_ms that have no idle probes
	 * yet and may stay parked longer than longer_than_ms (NULL in a remote
	 * backend, which keeps its own): marked as probing with bits added to
	 * their touched options, up to max of their handles in h[], for the
	 * caller to switch the probes on while it still holds the lock. Returns
	 * the count. */
	unsigned (*probe_due)(void *self, uint64_t before_ms, uint64_t longer_than_ms, uint32_t bits,
	                      int *h, unsigned max);
	/* Give up what expired by now_ms (into dropped, as park does), with no
	 * other change: for a caller that runs on time, not on the program's
	 * calls (NULL in a remote backend, which expires its own). */
	void (*expire)(void *self, uint64_t now_ms, struct kw_pool_drops *dropped);
};

struct kw_pool {
	const struct kw_pool_ops *ops;
	void *self;
};

/* The pool in use, set once by initialisation; ops NULL until then. */
extern struct kw_pool kw_pool;

/* The pool behind it (the per-user broker), ops NULL when there is none:
 * asked when kw_pool has no connection, given what kw_pool cannot hold and
 * what is left at exit. Plain connections only. */
extern struct kw_pool kw_pool_far;

#endif
