/* fdtable.c - per-fd slots, one atomic pointer per descriptor number. */
#include "service/fdtable.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "service/state.h"

#define KW_FD_TABLE_MAX (1u << 20)

_Atomic(struct kw_fd *) *kw_fd_table;
size_t kw_fd_table_size;

/* Every slot ever allocated, for close_range, fork and iteration. */
static struct kw_fd **slots;
static size_t nslots, slots_cap;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

int kw_fd_table_init(void)
{
	struct rlimit rl;
	size_t size = 65536;
	void *mem;

	if (kw_fd_table)
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY ? KW_FD_TABLE_MAX : rl.rlim_max;
		if (want < rl.rlim_cur)
			want = rl.rlim_cur;
		size = want > KW_FD_TABLE_MAX ? KW_FD_TABLE_MAX : (size_t)want;
	}
	/* Untouched pages cost nothing: only numbers in use get memory. */
	mem = mmap(NULL, size * sizeof *kw_fd_table, PROT_READ | PROT_WRITE,
	           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return -1;
	kw_fd_table_size = size;
	kw_fd_table = mem;
	return 0;
}

struct kw_fd *kw_fd_slot(int fd)
{
	struct kw_fd *s, *expected = NULL;

	if (!kw_fd_table || fd < 0 || (size_t)fd >= kw_fd_table_size)
		return NULL;
	s = atomic_load_explicit(&kw_fd_table[fd], memory_order_acquire);
	if (s)
		return s;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->fd = fd;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_lock(&slots_lock);
	if (nslots == slots_cap) {
		size_t cap = slots_cap ? slots_cap * 2 : 64;
		struct kw_fd **grown = realloc(slots, cap * sizeof *grown);
		if (!grown) {
			pthread_mutex_unlock(&slots_lock);
			free(s);
			return NULL;
		}
		slots = grown;
		slots_cap = cap;
	}
	if (!atomic_compare_exchange_strong(&kw_fd_table[fd], &expected, s)) {
		pthread_mutex_unlock(&slots_lock);
		free(s);
		return expected; /* another thread allocated it first */
	}
	slots[nslots++] = s;
	pthread_mutex_unlock(&slots_lock);
	return s;
}

bool kw_fd_set_kind(int fd, enum kw_fd_kind kind)
{
	struct kw_fd *s;

	if (kind == KW_FD_NONE) {
		if (!kw_fd_table || fd < 0 || (size_t)fd >= kw_fd_table_size)
			return true;
		s = atomic_load_explicit(&kw_fd_table[fd], memory_order_acquire);
		if (s)
			atomic_store_explicit(&s->kind, KW_FD_NONE, memory_order_release);
		return true;
	}
	s = kw_fd_slot(fd);
	if (!s)
		return false;
	atomic_store_explicit(&s->kind, kind, memory_order_release);
	return true;
}

void kw_slot_lock(struct kw_fd *s)
{
	kw_depth++;
	kw_nocancel_enter();
	pthread_mutex_lock(&s->lock);
}

void kw_slot_unlock(struct kw_fd *s)
{
	pthread_mutex_unlock(&s->lock);
	kw_nocancel_leave();
	kw_depth--;
}

void kw_fd_for_each(void (*fn)(struct kw_fd *s, void *arg), void *arg)
{
	size_t n;

	pthread_mutex_lock(&slots_lock);
	n = nslots;
	pthread_mutex_unlock(&slots_lock);
	/* Slots are never freed and the array only grows at its end. */
	for (size_t i = 0; i < n; i++) {
		struct kw_fd *s;
		pthread_mutex_lock(&slots_lock);
		s = slots[i];
		pthread_mutex_unlock(&slots_lock);
		if (atomic_load_explicit(&s->kind, memory_order_acquire) != KW_FD_NONE)
			fn(s, arg);
	}
}

void kw_fd_after_fork_child(void)
{
	pthread_mutex_init(&slots_lock, NULL);
	for (size_t i = 0; i < nslots; i++)
		pthread_mutex_init(&slots[i]->lock, NULL);
}
