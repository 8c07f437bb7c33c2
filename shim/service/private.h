/* private.h - keepwarm's own descriptors: parked connections and the trace
 * file, kept at numbers the program never sees.
 *
 * They sit high, in the top eighth of the descriptor limit (below 65536;
 * lower when the pool may hold more, never below 1024), where programs that
 * take the lowest free number never reach, marked close-on-exec and
 * KW_FD_PRIVATE in the fd table so the wrappers answer EBADF for them. One
 * lock (signals blocked while it is held, once the program has a handler)
 * keeps the private
 * numbers and the pool that holds them still: close_range, fork and moving a
 * parked connection to another number take it, and so does every caller of
 * the pool backend. */
#ifndef KW_PRIVATE_H
#define KW_PRIVATE_H

/* The lowest private number. */
extern int kw_private_base;

/* Place the private range under the descriptor limit (and the fd table's
 * size): its top eighth, or room for want parked connections (the pool's
 * cap) when that is more, above the first 1024 numbers. Returns how many
 * connections may be parked in it (one number is kept for the trace file). */
unsigned kw_private_init(unsigned want);

/* A private copy of fd (fd stays open). Returns the new number, or -1. */
int kw_private_dup(int fd);

/* Move fd to a private number: the copy, and fd closed. Returns the new
 * number, or -1 (fd closed all the same). Keeps errno. */
int kw_private_move(int fd);

/* Close a private number and forget it. Keeps errno. */
void kw_private_close(int fd);

/* Hold the private numbers and the pool still. Signals are blocked while
 * held once the program has installed a signal handler (before, no handler
 * can run); the re-entrancy depth is raised. Not recursive. */
void kw_private_lock(void);
void kw_private_unlock(void);

/* The program is about to install a signal handler (sigaction, signal, ...):
 * from now on the lock blocks signals. Returns once no thread holds it
 * without, so the handler cannot run inside a hold. Async-signal-safe. */
void kw_private_handler_installed(void);

/* Around any fork glibc runs (pthread_atfork): the parent takes the lock
 * before (so the child copies a still pool), and releases it after. */
void kw_private_prepare_fork(void);
void kw_private_parent_fork(void);

/* In a child, however it was made: the lock afresh (a raw clone may have
 * copied it held by a thread the child does not have), and this thread's
 * signal mask as it was when the prepare handler took it. */
void kw_private_child_fork(void);

#endif
