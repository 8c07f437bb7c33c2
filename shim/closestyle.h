/* closestyle.h - making close-style clients poolable without adding a
 * failure: request upgrade, end-of-file at the end of an upgraded response,
 * draining at close, fresh connections for requests that must not be
 * replayed, and one transparent replay when a reused connection dies before
 * answering. Internal to the shim; every function expects the slot lock. */
#ifndef KW_CLOSESTYLE_H
#define KW_CLOSESTYLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "dest.h"
#include "fdtable.h"

/* Before the program's bytes go out on a followed socket. Returns true when
 * the call was handled here and *result (with errno) is what the program gets:
 * an upgraded request head was sent, or a fresh connection is still being
 * dialled for a request that must not travel on a reused one (EAGAIN). */
bool kw_send_hook(struct kw_fd *s, int fd, const struct iovec *iov, int iovcnt, int flags,
                  ssize_t *result);

/* After the program read response bytes of an upgraded request: when the
 * response is complete, park the connection and leave the program a socket
 * that reads end-of-file, as after a server close. Returns true when it took
 * charge (the EOF is in place, or will be once the program has read what the
 * misbehaving server sent beyond the response). */
bool kw_eof_check(struct kw_fd *s, int fd);

/* The program closes with part of a response unread: read it away, within
 * KEEPWARM_DRAIN bytes and a few milliseconds, so the connection can park. */
void kw_drain(struct kw_fd *s, int fd);

/* A reused connection failed before any response byte: send the request again
 * on a fresh connection installed on fd. Returns true when the program's call
 * should be repeated. */
bool kw_replay(struct kw_fd *s, int fd, const char *why);

/* A parked connection to d died after idle_ms: remember it (trace: learn). */
void kw_learn(const struct kw_dest *d, uint64_t idle_ms);

#endif
