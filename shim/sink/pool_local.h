/* pool_local.h - the in-process pool backend: one idle table (pool.h). */
#ifndef KW_POOL_LOCAL_H
#define KW_POOL_LOCAL_H

#include "sink/pool.h"

/* An idle table of max_total connections, at most max_per_host per key.
 * Returns 0 with *pool set to it, or -1 when out of memory. */
int kw_pool_local_create(struct kw_pool *pool, unsigned max_total, unsigned max_per_host);

#endif
