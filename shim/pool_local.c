/* pool_local.c - the in-process pool backend: the idle table, one mutex held
 * with signals blocked, descriptors closed outside the lock. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core.h"
#include "report.h"
#include "idle_table.h"
#include "pool.h"

#define BATCH 16

static struct kw_idle_table *table;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static sigset_t held_mask; /* the holder's mask, written under the lock */

static void pool_lock(void)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	kw_depth++;
	pthread_mutex_lock(&table_lock);
	held_mask = old;
}

static void pool_unlock(void)
{
	sigset_t old = held_mask;

	pthread_mutex_unlock(&table_lock);
	kw_depth--;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void close_entries(const char *event, const struct kw_idle_entry *e, unsigned n,
                          uint64_t now)
{
	for (unsigned i = 0; i < n; i++) {
		kw_event(event, e[i].fd, &e[i].meta.dest, NULL, (int64_t)(now - e[i].meta.parked_ms),
		         e[i].meta.requests);
		kw_private_close(e[i].fd);
	}
}

int kw_pool_local_init(unsigned max_total, unsigned max_per_host)
{
	table = kw_idle_create(max_total, max_per_host);
	return table ? 0 : -1;
}

static int local_park(int fd, const struct kw_idle_meta *m)
{
	struct kw_idle_entry expired[BATCH], evicted;
	uint64_t now = kw_now_ms();
	unsigned n;
	int ret;

	pool_lock();
	n = kw_idle_expire(table, now, expired, BATCH);
	ret = kw_idle_put(table, fd, m, &evicted);
	pool_unlock();
	close_entries("expire", expired, n, now);
	if (ret == 1)
		close_entries("evict", &evicted, 1, now);
	return ret < 0 ? -1 : 0;
}

static int local_take(const struct kw_dest *d, struct kw_idle_meta *m)
{
	struct kw_idle_entry expired[BATCH], found = { .fd = -1 };
	uint64_t now = kw_now_ms();
	unsigned n = 0, more;
	int got;

	pool_lock();
	do {
		got = kw_idle_take(table, d, now, &found, expired + n, BATCH - n, &more);
		n += more;
		/* An entry whose number could not be relocated is dead: skip it. */
	} while (got && found.fd < 0);
	if (n < BATCH)
		n += kw_idle_expire(table, now, expired + n, BATCH - n);
	pool_unlock();
	close_entries("expire", expired, n, now);
	if (!got)
		return -1;
	*m = found.meta;
	return found.fd;
}

static void local_flush(const char *reason)
{
	struct kw_idle_entry e;
	uint64_t now = kw_now_ms();

	for (;;) {
		int got;
		pool_lock();
		got = kw_idle_pop_oldest(table, &e);
		pool_unlock();
		if (!got)
			break;
		kw_event("discard", e.fd, &e.meta.dest, reason, (int64_t)(now - e.meta.parked_ms),
		         e.meta.requests);
		kw_private_close(e.fd);
	}
}

static void local_relocate(int fd)
{
	pool_lock();
	kw_idle_renumber(table, fd, kw_private_move(fd));
	pool_unlock();
}

static void local_fork_child(void)
{
	struct kw_idle_entry e;
	sigset_t old = held_mask;

	pthread_mutex_init(&table_lock, NULL);
	kw_depth = 0;
	/* The parent keeps these connections; the child only drops its copies. */
	while (kw_idle_pop_oldest(table, &e))
		kw_private_close(e.fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Learned server patience, per destination: a small table, oldest replaced. */
#define LEARNED_MAX 64
static struct {
	struct kw_dest dest;
	uint64_t idle_ms;
	uint64_t stamp;
} learned[LEARNED_MAX];
static _Atomic unsigned nlearned; /* read without the lock: 0 is the common case */
static uint64_t learn_clock;

static void local_learn(const struct kw_dest *d, uint64_t idle_ms)
{
	unsigned slot = 0;
	bool known = false;

	pool_lock();
	for (unsigned i = 0; i < nlearned; i++) {
		if (kw_dest_equal(&learned[i].dest, d)) {
			slot = i;
			known = true;
			break;
		}
		if (learned[i].stamp < learned[slot].stamp)
			slot = i;
	}
	if (!known && nlearned < LEARNED_MAX)
		slot = nlearned++;
	if (!known || idle_ms < learned[slot].idle_ms) {
		learned[slot].dest = *d;
		learned[slot].idle_ms = idle_ms;
	}
	learned[slot].stamp = ++learn_clock;
	pool_unlock();
}

static uint64_t local_patience(const struct kw_dest *d)
{
	uint64_t ms = 0;

	if (!atomic_load_explicit(&nlearned, memory_order_acquire))
		return 0;
	pool_lock();
	for (unsigned i = 0; i < nlearned; i++)
		if (kw_dest_equal(&learned[i].dest, d))
			ms = learned[i].idle_ms;
	pool_unlock();
	return ms;
}

const struct kw_pool_ops kw_pool_local = {
	.name = "local",
	.park = local_park,
	.take = local_take,
	.flush = local_flush,
	.relocate = local_relocate,
	.lock = pool_lock,
	.unlock = pool_unlock,
	.fork_prepare = pool_lock,
	.fork_parent = pool_unlock,
	.fork_child = local_fork_child,
	.learn = local_learn,
	.patience = local_patience,
};
