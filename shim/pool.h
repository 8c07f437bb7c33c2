/* pool.h - where parked connections wait: the backend interface.
 *
 * The shim parks and takes connections only through these operations, so a
 * second backend (a per-user broker process holding idle connections for many
 * processes and passing them over a Unix socket) can replace the in-process
 * one without reshaping the shim. Descriptors passed in and out are private,
 * FD_CLOEXEC descriptors owned by the pool while parked. */
#ifndef KW_POOL_H
#define KW_POOL_H

#include "idle_table.h"

struct kw_pool_ops {
	const char *name;
	/* Take ownership of fd and its metadata. Returns 0, or -1 when the pool
	 * will not hold it (the caller closes it). Connections pushed out by the
	 * caps are closed and traced by the pool. */
	int (*park)(int fd, const struct kw_idle_meta *m);
	/* The most recently parked live-looking connection to d: returns its fd,
	 * now owned by the caller, and fills *m; -1 when there is none. Expired
	 * ones met on the way are closed and traced. The caller still checks
	 * liveness: the pool cannot see the server's close. */
	int (*take)(const struct kw_dest *d, struct kw_idle_meta *m);
	/* Close every idle connection (descriptor pressure, shutdown). */
	void (*flush)(const char *reason);
	/* The program wants the number fd, which holds a parked connection: move
	 * the connection to another private number (or drop it). */
	void (*relocate)(int fd);
	/* Hold the pool still: no fd is parked or closed in between. Signals are
	 * blocked while held. */
	void (*lock)(void);
	void (*unlock)(void);
	/* Around fork(): prepare holds the lock; parent releases it; child
	 * re-initialises it and closes the inherited idle descriptors, without
	 * disturbing the parent's connections (no shutdown()). */
	void (*fork_prepare)(void);
	void (*fork_parent)(void);
	void (*fork_child)(void);
	/* A parked connection to d was found closed by the server after idle_ms:
	 * remember the server's patience. */
	void (*learn)(const struct kw_dest *d, uint64_t idle_ms);
	/* The shortest idle time after which d's server was seen to close, 0 if
	 * never seen. Connections are not parked for longer than that. */
	uint64_t (*patience)(const struct kw_dest *d);
};

/* The in-process backend: an idle table guarded by one mutex. */
extern const struct kw_pool_ops kw_pool_local;

/* Size the in-process backend. Returns 0, or -1 when out of memory. */
int kw_pool_local_init(unsigned max_total, unsigned max_per_host);

#endif
