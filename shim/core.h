/* core.h - keepwarm's decisions, shared by the thin interposed wrappers.
 *
 * Wrappers look the fd up (kw_fd_lookup) and call straight through when it is
 * not followed; otherwise they call the real function and hand the outcome to
 * one of these. Every function here keeps errno as the program should see it. */
#ifndef KW_CORE_H
#define KW_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "config.h"
#include "fdtable.h"
#include "pool.h"

extern struct kw_config kw_cfg;

/* What this process does with the sockets it follows. */
enum kw_mode {
	KW_MODE_OFF,     /* pure passthrough: nothing is followed */
	KW_MODE_OBSERVE, /* the off arm with stats: follow and measure, never reuse */
	KW_MODE_REUSE,   /* the on arm: park and hand back */
};
extern enum kw_mode kw_mode;

/* Read the configuration and set everything up, once; safe to call from any
 * wrapper at any time. Returns true when sockets are followed (kw_mode is not
 * KW_MODE_OFF). */
bool kw_init(void);

/* Monotonic milliseconds and microseconds. */
uint64_t kw_now_ms(void);
uint64_t kw_now_us(void);

/* Per-thread "inside keepwarm" depth: a wrapper re-entered from a signal
 * handler or from our own code goes straight through. */
extern __thread int kw_depth;

/* A socket() call returned fd: follow it if it is a TCP socket. */
void kw_on_socket(int fd, int domain, int type, int protocol);

/* After socket() failed with EMFILE/ENFILE: close idle connections. Returns
 * true if any was closed (the caller retries once). */
bool kw_relieve_fd_pressure(void);

/* connect() on a followed, unconnected socket: hand back a parked
 * connection or dial for real. */
int kw_connect(struct kw_fd *s, int fd, const struct sockaddr *addr, socklen_t len);

/* close() of a followed or private fd: park, or close for real. */
int kw_close(struct kw_fd *s, int fd);

/* close_range()/closefrom() semantics around keepwarm's private fds. */
int kw_close_range(unsigned lo, unsigned hi, int flags);

/* After a real receive on a followed socket. buf or (iov, iovcnt) hold what
 * was read when *ret > 0; err is errno after the call; flags are recv flags.
 * For an upgraded request the response head may be put back to what the
 * server says to a close-style request, which shortens *ret.
 * Returns true when the call must be made once more: a reused connection
 * failed before answering and the request was replayed on a fresh one. */
bool kw_after_recv(struct kw_fd *s, ssize_t *ret, int err, void *buf,
                   const struct iovec *iov, int iovcnt, size_t asked, int flags);

/* After a real send on a followed socket (same conventions). */
bool kw_after_send(struct kw_fd *s, ssize_t ret, int err, const void *buf,
                   const struct iovec *iov, int iovcnt, int flags);

/* The program did something on fd that keepwarm does not model: stop
 * following it for good (never pooled). No-op for unfollowed fds. */
void kw_taint(int fd, const char *reason);

/* A followed socket must never be pooled nor handed a pooled connection
 * (bind(), SO_BINDTODEVICE, ...). */
void kw_pin(struct kw_fd *s, const char *reason);

/* setsockopt() succeeded on a followed socket: remember it for a handback. */
void kw_note_sockopt(struct kw_fd *s, int level, int name, const void *val, socklen_t len);

/* epoll_ctl() succeeded on a followed socket. */
void kw_note_epoll(struct kw_fd *s, int epfd, int op, const struct epoll_event *ev);

/* The program is about to get number fd from dup2/dup3/F_DUPFD: if keepwarm
 * owns it, move ours away; if it follows it, stop (the old socket is closed
 * implicitly, never parked). */
void kw_claim_number(int fd);

/* fork() with the pool held still across it; the child drops the idle
 * connections it inherited. */
pid_t kw_fork(void);

/* Close a private fd and forget it (used by the pool). */
void kw_private_close(int fd);

/* Move a private fd to another private number; returns the new number or -1. */
int kw_private_move(int fd);


/* Fail a call on a private fd as the kernel would on a number never opened. */
static inline int kw_ebadf(void)
{
	extern int *__errno_location(void);
	*__errno_location() = 9; /* EBADF */
	return -1;
}

#endif
