/* tcp.h - the TCP transport: the program's own descriptors, and the
 * socket operations behind it (installing a connection on the program's
 * number with its flags, options and epoll registrations; liveness; dialling;
 * sending all; end-of-file). See logic/transport.h for each operation. */
#ifndef KW_TCP_H
#define KW_TCP_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "logic/transport.h"

extern const struct kw_transport kw_tcp_transport;

/* connect() on the program's blocking socket fd, bounded by
 * KEEPWARM_CONNECT_TIMEOUT unless the program's own SO_SNDTIMEO is as short
 * (Linux bounds a connect() by it): the send timeout is ours for the call,
 * and an attempt that outlasts it is aborted (connect(AF_UNSPEC), its
 * SO_ERROR read away) and fails with ETIMEDOUT, the socket unconnected as
 * after the kernel's own timeout. *timed_out tells. Otherwise, and for a
 * socket that does not block, the plain connect(). */
int kw_tcp_connect_bounded(int fd, const struct sockaddr *addr, socklen_t len, bool blocking,
                           bool *timed_out);

/* How long keepwarm waits for a connection it dials itself:
 * KEEPWARM_CONNECT_TIMEOUT when set, else KW_REDIAL_TIMEOUT_MS. */
int kw_tcp_dial_wait_ms(void);

/* The socket inode behind fd, 0 when it cannot be read: notices a number
 * that was closed and reopened behind keepwarm's back. */
ino_t kw_tcp_inode(int fd);

/* TCP keepalive probes on parked handle h (KEEPWARM_TCP_KEEPALIVE; nothing
 * when it is 0), so a server that vanished is noticed while it waits. The
 * program's own values come back at the handback: the caller adds
 * kw_keepalive_opt_bits() to the connection's touched options. */
void kw_tcp_probe_idle(int h);

#endif
