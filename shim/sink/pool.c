/* pool.c - the pool in use (pool.h), chosen at initialisation. */
#include "sink/pool.h"

struct kw_pool kw_pool;
struct kw_pool kw_pool_far;
