/* tcp.h - the TCP transport: the program's own descriptors, and the
 * socket operations behind it (installing a connection on the program's
 * number with its flags, options and epoll registrations; liveness; dialling;
 * sending all; end-of-file). See logic/transport.h for each operation. */
#ifndef KW_TCP_H
#define KW_TCP_H

#include <sys/types.h>

#include "logic/transport.h"

extern const struct kw_transport kw_tcp_transport;

/* The socket inode behind fd, 0 when it cannot be read: notices a number
 * that was closed and reopened behind keepwarm's back. */
ino_t kw_tcp_inode(int fd);

/* TCP keepalive probes on parked handle h (KEEPWARM_TCP_KEEPALIVE; nothing
 * when it is 0), so a server that vanished is noticed while it waits. The
 * program's own values come back at the handback: the caller adds
 * kw_keepalive_opt_bits() to the connection's touched options. */
void kw_tcp_probe_idle(int h);

#endif
