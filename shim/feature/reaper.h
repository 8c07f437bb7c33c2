/* reaper.h - parked connections closed on time, and the stats file
 * rewritten on schedule, when the program makes no more calls into keepwarm.
 *
 * Without it a parked connection is closed only at the process's next park,
 * connect() or exit: a program that stops connecting holds it past its idle
 * timeout, and a server that serves one connection at a time waits with it.
 * One helper thread does this, the least a program can be given: started at
 * the first park of a process that has run for 20 ms (a short-lived one,
 * such as curl in a shell loop, parks just before it exits, and would pay
 * for a thread it never uses; in a fork child only once it parks, and only
 * if its parent had none: after a fork from a multithreaded process only
 * async-signal-safe calls are allowed), every signal blocked,
 * named "keepwarm", a small stack, no descriptor of its own but what it
 * closes and the stats file it writes. It wakes once a second while anything
 * is parked or a stats file is kept, and sleeps without waking once the pool
 * has been empty for ten seconds (and no stats file is kept), until the next
 * park. Never started with KEEPWARM=off or in the off arm, under a seccomp
 * filter, or once starting one has failed: then as without it. */
#ifndef KW_REAPER_H
#define KW_REAPER_H

/* In the on arm, at initialisation: from now on every park calls
 * kw_reaper_parked (through park's hook). */
void kw_reaper_init(void);

/* A connection was parked (no lock held): the helper starts, or wakes. One
 * relaxed atomic load when it is already awake. */
void kw_reaper_parked(void);

/* In a fork child: there is no helper thread (only the forking thread
 * survives a fork); the child's first park starts one, unless the parent
 * had one (or ThreadSanitizer runs the process). */
void kw_reaper_after_fork_child(void);

#endif
