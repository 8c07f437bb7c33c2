/* transport.h - how a followed connection's bytes and connections move.
 *
 * The stream (entry/stream.c) and everything above the services level act on
 * a connection only through its transport table (kw_conn.tp): the TCP
 * transport (service/tcp.c) works on the program's descriptors; a TLS
 * transport will work on sessions; unit tests use one in memory. Handles are
 * small integers the transport hands out (for TCP, descriptors: the program's
 * number, or a private one for a parked or dialled connection). Every op keeps
 * errno unless it says it sets it. Types only: the implementations live below.
 */
#ifndef KW_TRANSPORT_H
#define KW_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "logic/key.h"

struct kw_conn;

/* How long keepwarm itself waits for a connection it dials, or for bytes it
 * must get out (the rest of an upgraded head, a replay). */
#define KW_REDIAL_TIMEOUT_MS 3000

/* Called back by end_with_eof and replace once the program's
 * descriptor holds what replaces its connection: h is a private handle on
 * that connection, to be parked or closed (shim/README.md lists the
 * callbacks that run upward). Never called when the replacement failed, so
 * a connection is never both on the program's descriptor and parked. */
typedef void (*kw_set_aside_fn)(void *arg, int h);

/* How install() puts a connection on the program's descriptor. */
enum kw_install {
	/* A handback: the descriptor holds the program's fresh, unconnected
	 * socket. Its options (and defaults) are copied onto the connection;
	 * fails, descriptor untouched, when its flags cannot be read. */
	KW_INSTALL_HANDBACK,
	/* The descriptor's connection lives on elsewhere (parked) or ends: its
	 * epoll registrations are taken off first. */
	KW_INSTALL_REPLACE,
};

struct kw_transport {
	const char *name;
	enum kw_transport_kind kind; /* part of the pool key */

	/* ---- bytes on the program's connection (fd) or a handle ---- */
	/* One send of the first bytes of iov (may be partial): -1 with errno. */
	ssize_t (*send)(int fd, const struct iovec *iov, int iovcnt, int flags);
	/* Send all len bytes within ms; false on error or timeout. */
	bool (*send_all)(int h, const void *buf, size_t len, int ms);
	/* Receive what is there without waiting: -1/EAGAIN when nothing is. */
	ssize_t (*recv)(int fd, void *buf, size_t len);
	/* Wait up to ms for POLLIN/POLLOUT-style events; true when they came. */
	bool (*wait)(int h, short events, int ms);
	/* Bytes waiting to be read, -1 when that cannot be told. */
	int (*unread)(int fd);

	/* ---- connections ---- */
	/* Idle and healthy: nothing to read, no FIN, no error. */
	bool (*alive)(int h);
	/* At park: the connection on fd rests exactly where keepwarm saw it,
	 * judged by the kernel's own counters against c->meta's wire_sent and
	 * wire_received (bytes moved behind keepwarm's back show there).
	 * KW_REASON_NONE when it may be parked, else why not: server-closed,
	 * unread-bytes, unacked (a tail not yet acknowledged), unseen-io. */
	enum kw_reason (*settled)(const struct kw_conn *c, int fd);
	/* fd still holds the connection c follows (not replaced behind our back). */
	bool (*same)(const struct kw_conn *c, int fd);
	/* A new connection to c's destination with the program's options (read
	 * from fd), dial started: returns its handle (*in_progress when still
	 * connecting), or -1. */
	int (*dial)(struct kw_conn *c, int fd, bool *in_progress);
	/* Wait up to ms for a dialled handle to be connected; true when it is. */
	bool (*connected)(int h, int ms);
	/* Take the connection on fd aside for parking (registrations off): its
	 * private handle, or -1. fd keeps it until replaced. */
	int (*detach)(struct kw_conn *c, int fd);
	/* Put handle h on the program's descriptor fd with the program's flags and
	 * epoll registrations (and, for a handback, options carry_opts), and
	 * c->ino to its inode (a handback's caller may set it beforehand: kept
	 * when not 0). h_flags: h's F_GETFL when the caller knows it (the flags
	 * are then set only if they differ), else -1. Consumes h. Returns 0, or
	 * -1. */
	int (*install)(struct kw_conn *c, int fd, int h, enum kw_install how, uint32_t carry_opts,
	               int h_flags);
	/* Close a handle (a parked or dialled connection). */
	void (*close)(int h);
	/* The program's descriptor reads end-of-file from now on, as after the
	 * server's close (readable and hung up in poll/select/epoll). set_aside,
	 * when given, gets the connection once it has left fd (c->aside_ino its
	 * inode, or 0). Returns false
	 * when only a plain end-of-file could be had (set_aside not called, the
	 * connection shut for reading on fd, not reusable). */
	bool (*end_with_eof)(struct kw_conn *c, int fd, kw_set_aside_fn set_aside, void *arg);
	/* The program's descriptor fd is in blocking mode. */
	bool (*blocking)(int fd);
	/* Put the dialled handle h on fd in place of the connection there (a
	 * handed-back one nobody may use for this request), which set_aside
	 * then gets (c->aside_ino its inode, or 0). Consumes h. Returns 0, or -1 when nothing changed. */
	int (*replace)(struct kw_conn *c, int fd, int h, kw_set_aside_fn set_aside, void *arg);
};

#endif
