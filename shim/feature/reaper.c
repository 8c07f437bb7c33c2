/* reaper.c - the helper thread that closes parked connections on time and
 * rewrites the stats file on schedule (see reaper.h for why and when). */
#include "feature/reaper.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "primitive/park.h"
#include "service/private.h"
#include "service/state.h"
#include "sink/pool.h"
#include "sink/report.h"

#define TICK_MS       1000u       /* expiry within a tick of the deadline */
#define EMPTY_TICKS   10u         /* of an empty pool, before sleeping for good */
#define HELPER_STACK  (128u << 10)
/* A process younger than this at its park does not start the helper:
 * starting a thread costs a short-lived program (curl in a shell loop,
 * which parks just before it exits) a few percent of its life. */
#define YOUNG_MS      20u

enum { NOT_STARTED, STARTING, AWAKE, ASLEEP, FAILED };

static atomic_int state = NOT_STARTED;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake; /* CLOCK_MONOTONIC, made at the start */
static unsigned tick_ms = TICK_MS;
static uint64_t born_ms; /* keepwarm's start in this process, or its fork */
static bool under_tsan; /* ThreadSanitizer's runtime is loaded */

static bool pool_empty(void)
{
	return !kw_pool.ops || (kw_pool.ops->holds_none && kw_pool.ops->holds_none(kw_pool.self));
}

/* What the program's next park or connect() would have done by now. */
static void tick(void)
{
	uint64_t now = kw_now_ms();
	struct kw_pool_drops dropped = { .n = 0 };

	if (kw_pool.ops && kw_pool.ops->expire && !pool_empty()) {
		kw_private_lock();
		kw_pool.ops->expire(kw_pool.self, now, &dropped);
		kw_park_probe_due(now);
		kw_private_unlock();
		kw_park_drop(&dropped, now);
	}
	kw_report_tick();
}

/* Asleep for good only with nothing to do: an empty pool (checked under
 * the pool's lock after saying so, so that a park that saw AWAKE is seen
 * here, and one that comes later sees ASLEEP and wakes the thread). */
static void maybe_sleep(unsigned *empty)
{
	int awake = AWAKE, asleep = ASLEEP;
	bool still;

	if (!pool_empty() || (kw_cfg.stats[0] && kw_cfg.stats_interval_ms)) {
		*empty = 0;
		return;
	}
	if (++*empty < EMPTY_TICKS)
		return;
	*empty = 0;
	if (!atomic_compare_exchange_strong(&state, &awake, ASLEEP))
		return;
	kw_private_lock();
	still = pool_empty();
	kw_private_unlock();
	if (!still)
		atomic_compare_exchange_strong(&state, &asleep, AWAKE);
}

static void *run(void *arg)
{
	unsigned empty = 0;

	(void)arg;
	kw_depth = 1; /* a wrapper reached from here passes straight through */
	/* Named by itself: one prctl here, where the creator's thread would
	 * open, write and close /proc/self/task/TID/comm. */
	pthread_setname_np(pthread_self(), "keepwarm");
	for (;;) {
		struct timespec until;

		pthread_mutex_lock(&wake_lock);
		while (atomic_load(&state) == ASLEEP)
			pthread_cond_wait(&wake, &wake_lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)(tick_ms % 1000) * 1000000L;
		until.tv_sec += tick_ms / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&wake, &wake_lock, &until);
		pthread_mutex_unlock(&wake_lock);
		tick();
		maybe_sleep(&empty);
	}
	return NULL;
}

static bool start(void)
{
	pthread_condattr_t ca;
	pthread_attr_t a;
	pthread_t t;
	sigset_t all;
	bool ok;

	if (kw_mode != KW_MODE_REUSE || kw_seccomp_filtered())
		return false;
	if (kw_cfg.stats[0] && kw_cfg.stats_interval_ms && kw_cfg.stats_interval_ms < TICK_MS)
		tick_ms = (unsigned)kw_cfg.stats_interval_ms;
	if (pthread_condattr_init(&ca))
		return false;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	ok = pthread_cond_init(&wake, &ca) == 0;
	pthread_condattr_destroy(&ca);
	if (!ok || pthread_attr_init(&a))
		return false;
	pthread_attr_setstacksize(&a, HELPER_STACK);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* Every signal blocked from its first instruction (glibc sets the mask
	 * before the thread runs): the program's handlers never run on it, and
	 * its signals go to the program's own threads. */
	sigfillset(&all);
	ok = pthread_attr_setsigmask_np(&a, &all) == 0 && pthread_create(&t, &a, run, NULL) == 0;
	pthread_attr_destroy(&a);
	return ok;
}

void kw_reaper_parked(void)
{
	int s = atomic_load_explicit(&state, memory_order_relaxed), expect;

	if (s == AWAKE || s == STARTING || s == FAILED)
		return;
	if (s == ASLEEP) {
		pthread_mutex_lock(&wake_lock);
		expect = ASLEEP;
		if (atomic_compare_exchange_strong(&state, &expect, AWAKE))
			pthread_cond_signal(&wake);
		pthread_mutex_unlock(&wake_lock);
		return;
	}
	if (kw_now_ms() - born_ms < YOUNG_MS)
		return; /* the next park, once older, starts it */
	expect = NOT_STARTED;
	if (atomic_compare_exchange_strong(&state, &expect, STARTING))
		atomic_store(&state, start() ? AWAKE : FAILED);
}

void kw_reaper_init(void)
{
	born_ms = kw_now_ms();
	under_tsan = dlsym(RTLD_DEFAULT, "__tsan_init") != NULL;
	kw_park_set_hook(kw_reaper_parked);
}

void kw_reaper_after_fork_child(void)
{
	int was = atomic_load(&state);

	born_ms = kw_now_ms();
	pthread_mutex_init(&wake_lock, NULL);
	/* A child of a process that had the helper was forked from a
	 * multithreaded one: POSIX allows it only async-signal-safe calls (a
	 * thread sanitizer kills it at a new thread). One forked under
	 * ThreadSanitizer cannot tell. Neither starts a helper. */
	atomic_store(&state, was == NOT_STARTED && !under_tsan ? NOT_STARTED : FAILED);
}
