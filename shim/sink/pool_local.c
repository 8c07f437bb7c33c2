/* pool_local.c - the in-process pool backend: one idle table. */
#include "sink/pool_local.h"

#include <stdatomic.h>
#include <stdlib.h>

/* How many connections the table holds, mirrored after every change (all
 * under the caller's lock) for holds_none, which reads it without. One
 * local pool per process. */
static atomic_uint parked_count;

static void mirror_count(void *self)
{
	atomic_store_explicit(&parked_count, kw_idle_count(self), memory_order_relaxed);
}

static int local_park(void *self, int h, const struct kw_idle_meta *m, uint64_t now_ms,
                      struct kw_pool_drops *dropped)
{
	struct kw_idle_entry evicted;
	int ret;

	dropped->n = kw_idle_expire(self, now_ms, dropped->entry, KW_POOL_DROPS_MAX - 1);
	for (unsigned i = 0; i < dropped->n; i++)
		dropped->event[i] = KW_EVENT_EXPIRE;
	ret = kw_idle_put(self, h, m, &evicted);
	mirror_count(self);
	if (ret == 1) {
		dropped->entry[dropped->n] = evicted;
		dropped->event[dropped->n++] = KW_EVENT_EVICT;
	}
	return ret < 0 ? -1 : 0;
}

static int local_take(void *self, const struct kw_key *k, int near, uint64_t now_ms,
                      struct kw_idle_meta *m, struct kw_pool_drops *dropped)
{
	struct kw_idle_entry found = { .fd = -1 };
	unsigned n = 0, more;
	int got;

	(void)near;
	do {
		got = kw_idle_take(self, k, now_ms, &found, dropped->entry + n,
		                   KW_POOL_DROPS_MAX - 1 - n, &more);
		n += more;
		/* An entry whose number could not be relocated is dead: skip it. */
	} while (got && found.fd < 0);
	if (n < KW_POOL_DROPS_MAX - 1)
		n += kw_idle_expire(self, now_ms, dropped->entry + n, KW_POOL_DROPS_MAX - 1 - n);
	mirror_count(self);
	dropped->n = n;
	for (unsigned i = 0; i < n; i++)
		dropped->event[i] = KW_EVENT_EXPIRE;
	if (!got)
		return -1;
	*m = found.meta;
	return found.fd;
}

static bool local_pop_oldest(void *self, struct kw_idle_entry *e)
{
	bool got = kw_idle_pop_oldest(self, e);

	mirror_count(self);
	return got;
}

static void local_renumber(void *self, int old_h, int new_h)
{
	kw_idle_renumber(self, old_h, new_h);
}

static bool local_holds_none(void *self)
{
	(void)self;
	return atomic_load_explicit(&parked_count, memory_order_relaxed) == 0;
}

static unsigned local_probe_due(void *self, uint64_t before_ms, uint64_t longer_than_ms,
                                uint32_t bits, int *h, unsigned max)
{
	return kw_idle_probe_due(self, before_ms, longer_than_ms, bits, h, max);
}

static void local_expire(void *self, uint64_t now_ms, struct kw_pool_drops *dropped)
{
	dropped->n = kw_idle_expire(self, now_ms, dropped->entry, KW_POOL_DROPS_MAX);
	for (unsigned i = 0; i < dropped->n; i++)
		dropped->event[i] = KW_EVENT_EXPIRE;
	mirror_count(self);
}

static const struct kw_pool_ops local_ops = {
	.name = "local",
	.park = local_park,
	.take = local_take,
	.pop_oldest = local_pop_oldest,
	.renumber = local_renumber,
	.holds_none = local_holds_none,
	.probe_due = local_probe_due,
	.expire = local_expire,
};

int kw_pool_local_create(struct kw_pool *pool, unsigned max_total, unsigned max_per_host)
{
	struct kw_idle_table *t = kw_idle_create(max_total, max_per_host);

	if (!t)
		return -1;
	pool->ops = &local_ops;
	pool->self = t;
	mirror_count(t);
	return 0;
}
