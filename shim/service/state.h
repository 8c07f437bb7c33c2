/* state.h - process-wide state every level reads: the configuration, what
 * this process does with sockets, the re-entrancy depth and the clocks.
 * Filled once by initialisation (entry/init.c). */
#ifndef KW_STATE_H
#define KW_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "logic/config.h"

extern struct kw_config kw_cfg;

/* What this process does with the sockets it follows. */
enum kw_mode {
	KW_MODE_OFF,     /* pure passthrough: nothing is followed */
	KW_MODE_OBSERVE, /* the off arm with stats: follow and measure, never reuse */
	KW_MODE_REUSE,   /* the on arm: park and hand back */
};
extern enum kw_mode kw_mode;

/* Per-thread "inside keepwarm" depth: a wrapper re-entered from a signal
 * handler or from our own code goes straight through. Initial-exec, as
 * defined: read without a __tls_get_addr call (keepwarm is loaded at
 * start-up, where static TLS is given). */
extern __thread int kw_depth __attribute__((tls_model("initial-exec")));

/* While this thread holds a keepwarm lock, thread cancellation is off: a
 * cancellation point inside (the trace's write, a close) must never unwind
 * with the lock held. Nested: the first lock turns it off, the last unlock
 * puts the program's state back. */
void kw_nocancel_enter(void);
void kw_nocancel_leave(void);

/* Monotonic milliseconds and microseconds. */
/* Does a seccomp filter run this process (/proc/self/status Seccomp: not
 * 0, read once; true when it cannot be read)? Its rules were written for the
 * program's own calls: what keepwarm would add (the broker's socket, a
 * helper thread) is left out under one. */
bool kw_seccomp_filtered(void);

uint64_t kw_now_ms(void);
uint64_t kw_now_us(void);

#endif
