/* pool_local.c - the in-process pool backend: one idle table. */
#include "sink/pool_local.h"

#include <stdlib.h>

static int local_park(void *self, int h, const struct kw_idle_meta *m, uint64_t now_ms,
                      struct kw_pool_drops *dropped)
{
	struct kw_idle_entry evicted;
	int ret;

	dropped->n = kw_idle_expire(self, now_ms, dropped->entry, KW_POOL_DROPS_MAX - 1);
	for (unsigned i = 0; i < dropped->n; i++)
		dropped->event[i] = KW_EVENT_EXPIRE;
	ret = kw_idle_put(self, h, m, &evicted);
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
	return kw_idle_pop_oldest(self, e);
}

static void local_renumber(void *self, int old_h, int new_h)
{
	kw_idle_renumber(self, old_h, new_h);
}

static const struct kw_pool_ops local_ops = {
	.name = "local",
	.park = local_park,
	.take = local_take,
	.pop_oldest = local_pop_oldest,
	.renumber = local_renumber,
};

int kw_pool_local_create(struct kw_pool *pool, unsigned max_total, unsigned max_per_host)
{
	struct kw_idle_table *t = kw_idle_create(max_total, max_per_host);

	if (!t)
		return -1;
	pool->ops = &local_ops;
	pool->self = t;
	return 0;
}
