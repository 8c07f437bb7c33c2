/* fdtable.h - keepwarm's view of the process's descriptor numbers.
 *
 * One atomic pointer per fd number, sized from RLIMIT_NOFILE. A wrapper asks
 * kw_fd_lookup(fd) first: NULL (one lock-free load) means "not ours, go straight
 * to libc", which is every file, pipe, UDP socket and untracked TCP socket.
 * Slots are allocated once per fd number and never freed, so a pointer read
 * without a lock stays valid even while another thread closes the fd. */
#ifndef KW_FDTABLE_H
#define KW_FDTABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "logic/conn.h"

enum kw_fd_kind {
	KW_FD_NONE = 0, /* not followed */
	KW_FD_SOCKET,   /* a TCP socket created by the program, not yet connected */
	KW_FD_CONNECTING, /* inside the program's connect(), which runs unlocked */
	KW_FD_HTTP,     /* connected (dialled or handed back), being followed */
	KW_FD_PRIVATE,  /* keepwarm's own (a parked connection, the trace file) */
};

struct kw_fd {
	_Atomic int kind;
	int fd;
	pthread_mutex_t lock; /* guards conn; taken only for followed sockets */
	struct kw_conn conn;
};

extern _Atomic(struct kw_fd *) *kw_fd_table;
extern size_t kw_fd_table_size;

/* Allocate the table (idempotent). Returns 0, or -1 when out of memory (then
 * nothing is ever followed). */
int kw_fd_table_init(void);

/* The slot for fd when keepwarm follows or owns it, else NULL. Lock-free. */
static inline struct kw_fd *kw_fd_lookup(int fd)
{
	_Atomic(struct kw_fd *) *tab = kw_fd_table;
	struct kw_fd *s;

	if (__builtin_expect(!tab || fd < 0 || (size_t)fd >= kw_fd_table_size, 1))
		return NULL;
	s = atomic_load_explicit(&tab[fd], memory_order_acquire);
	if (!s || atomic_load_explicit(&s->kind, memory_order_acquire) == KW_FD_NONE)
		return NULL;
	return s;
}

/* The slot for fd, allocating it if needed; NULL if fd is out of range or
 * memory ran out. */
struct kw_fd *kw_fd_slot(int fd);

/* Set a slot's kind (allocating for a non-NONE kind). Returns false when fd
 * cannot be represented (then it stays unfollowed). */
bool kw_fd_set_kind(int fd, enum kw_fd_kind kind);

/* The slot lock, with the re-entrancy depth raised (kw_depth) while held. */
void kw_slot_lock(struct kw_fd *s);
void kw_slot_unlock(struct kw_fd *s);

/* After a wait made without the slot lock (now held again): does s still
 * follow the connected socket it followed when gen was read from s->conn.gen
 * (no close, let go or new socket on the number meanwhile)? */
static inline bool kw_slot_unchanged(const struct kw_fd *s, uint32_t gen)
{
	return s->conn.gen == gen &&
	       atomic_load_explicit(&s->kind, memory_order_relaxed) == KW_FD_HTTP;
}

/* Call fn for every allocated slot whose kind is not NONE. */
void kw_fd_for_each(void (*fn)(struct kw_fd *s, void *arg), void *arg);

/* In a fork child: re-initialise every slot lock (another thread may have held
 * one at the moment of fork). */
void kw_fd_after_fork_child(void);

#endif
