/* private.c - the private descriptor range and its lock. */
#include "service/private.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include "service/fdtable.h"
#include "service/real.h"
#include "service/state.h"

int kw_private_base = 1024;

static pthread_mutex_t private_lock = PTHREAD_MUTEX_INITIALIZER;
static sigset_t held_mask; /* the holder's signal mask, written under the lock */
static bool held_blocked;  /* the holder blocked signals (held_mask is to be restored) */

/* Signals are blocked around the lock so that no handler runs, re-enters or
 * leaves with siglongjmp while the pool is half changed. Until the program
 * installs a handler there is none to run, and the two sigprocmask calls per
 * operation are left out. handler_seen is set, never cleared (an exec starts
 * again with default dispositions); unblocked counts the threads on their way
 * in or inside without blocking, which an installation waits out (a Dekker
 * pair: each side writes its variable, then reads the other's). */
static atomic_bool handler_seen;
static atomic_uint unblocked;

unsigned kw_private_init(unsigned want)
{
	struct rlimit rl;
	size_t lim = 1024, size;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		lim = rl.rlim_cur;
	if (lim > 65536)
		lim = 65536;
	if (lim > kw_fd_table_size)
		lim = kw_fd_table_size;
	/* The top eighth, or more when asked for: never the first 1024 numbers,
	 * which select() can name. */
	size = lim / 8;
	if ((size_t)want + 1 > size && lim > 1024 + size)
		size = (size_t)want + 1 < lim - 1024 ? (size_t)want + 1 : lim - 1024;
	kw_private_base = (int)(lim - size);
	return size > 1 ? (unsigned)(size - 1) : 0; /* one number for the trace file */
}

int kw_private_dup(int fd)
{
	int high = kw_real.fcntl(fd, F_DUPFD_CLOEXEC, kw_private_base);

	if (high >= 0 && !kw_fd_set_kind(high, KW_FD_PRIVATE)) {
		kw_real.close(high);
		high = -1;
	}
	return high;
}

int kw_private_move(int fd)
{
	int saved = errno;
	int moved = kw_private_dup(fd);

	kw_fd_set_kind(fd, KW_FD_NONE);
	kw_real.close(fd);
	errno = saved;
	return moved;
}

void kw_private_close(int fd)
{
	int saved = errno;

	if (fd < 0)
		return;
	kw_fd_set_kind(fd, KW_FD_NONE);
	kw_real.close(fd);
	errno = saved;
}

void kw_private_lock(void)
{
	sigset_t all, old;
	bool block = true;

	if (!atomic_load_explicit(&handler_seen, memory_order_relaxed)) {
		atomic_fetch_add(&unblocked, 1);
		if (!atomic_load(&handler_seen))
			block = false;
		else
			atomic_fetch_sub(&unblocked, 1);
	}
	if (block) {
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
	}
	kw_depth++;
	kw_nocancel_enter();
	pthread_mutex_lock(&private_lock);
	held_blocked = block;
	if (block)
		held_mask = old;
}

void kw_private_unlock(void)
{
	sigset_t old = held_mask;
	bool blocked = held_blocked;

	pthread_mutex_unlock(&private_lock);
	kw_nocancel_leave();
	kw_depth--;
	if (blocked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	else
		atomic_fetch_sub(&unblocked, 1);
}

/* Not instrumented under ThreadSanitizer: its runtime installs its own
 * handlers while it starts (signal_wrap.c). */
#ifdef __SANITIZE_THREAD__
__attribute__((no_sanitize_thread))
#endif
void kw_private_handler_installed(void)
{
	struct timespec pause = { 0, 50000 };

	if (atomic_load_explicit(&handler_seen, memory_order_relaxed))
		return;
	atomic_store(&handler_seen, true);
	/* This thread's own unblocked hold (a handler installed from within
	 * keepwarm's critical section) cannot be waited out, and nothing was
	 * locked before the real functions were resolved. Others end within
	 * microseconds; bounded all the same (about a second). */
	if (kw_depth || __atomic_load_n((int *)&kw_real_state, __ATOMIC_ACQUIRE) != KW_REAL_RESOLVED)
		return;
	for (unsigned i = 0; i < 20000 && atomic_load(&unblocked); i++)
		kw_real.syscall(SYS_nanosleep, &pause, NULL);
}

static __thread bool prepared __attribute__((tls_model("initial-exec"))); /* holds it for a fork */

void kw_private_prepare_fork(void)
{
	kw_private_lock();
	prepared = true;
}

void kw_private_parent_fork(void)
{
	prepared = false;
	kw_private_unlock();
}

void kw_private_child_fork(void)
{
	pthread_mutex_init(&private_lock, NULL);
	/* The parent's other threads, on their way in, are not in the child. */
	atomic_store(&unblocked, 0);
	if (prepared) {
		sigset_t old = held_mask;
		prepared = false;
		kw_nocancel_leave();
		kw_depth--;
		if (held_blocked)
			pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
}
