/* forkwatch.h - one detector for every way a process is copied: fork(), the
 * fork inside daemon(), forkpty() and system(), _Fork(), clone() and
 * syscall(SYS_clone). A page marked MADV_WIPEONFORK reads zero in any child,
 * whatever made it; pthread_atfork's child handler covers glibc's forks on
 * kernels without the flag (before Linux 4.14), and its prepare and parent
 * handlers keep the pool still across them. A child drops what it inherited
 * before it takes or parks anything. */
#ifndef KW_FORKWATCH_H
#define KW_FORKWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* This process's pid, as of the last check (no getpid() on the hot path). */
extern pid_t kw_pid;

extern volatile uint8_t *kw_forkwatch_page;

/* Map the page and register the fork handlers; on_child runs once in every
 * child (re-initialise locks, drop inherited idle connections), on_parent in
 * the parent after each fork glibc ran. */
void kw_forkwatch_init(void (*on_child)(void), void (*on_parent)(void));

/* The detector found a child: note its pid and run on_child. */
void kw_forkwatch_child(void);

/* Checked before every take and park: one load. */
static inline void kw_forkwatch_check(void)
{
	if (__builtin_expect(kw_forkwatch_page && !kw_forkwatch_page[0], 0))
		kw_forkwatch_child();
}

#endif
