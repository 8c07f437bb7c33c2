/* conn.h - what keepwarm remembers about one program socket it follows.
 *
 * Lives inside the fd table's slot for the socket's number. Pure bookkeeping:
 * the connection's travelling metadata (meta.h), the HTTP tracker, the socket
 * options the program set before connect() (replayed onto a handed back
 * connection), its epoll registrations (removed before parking, re-added after
 * a handback) and the close-style and replay state. */
#ifndef KW_CONN_H
#define KW_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "logic/dest.h"
#include "logic/http_track.h"
#include "logic/meta.h"
#include "logic/transport.h"

#define KW_CONN_MAX_OPTS    12
#define KW_CONN_OPT_MAX_LEN 32
#define KW_CONN_MAX_EPOLL   4

struct kw_sockopt {
	int level, name;
	socklen_t len;
	unsigned char value[KW_CONN_OPT_MAX_LEN];
};

struct kw_epoll_reg {
	int epfd;
	struct epoll_event ev;
};

struct kw_conn {
	uint32_t gen;          /* bumped at every reset: the number got a new socket */
	ino_t    ino;          /* socket inode, to notice the fd was closed behind our back */
	pid_t    owner;        /* process that connected it: a fork child never parks it */
	bool     reused;       /* handed back from the idle table */
	bool     watch_only;   /* follow errors and close only: plaintext is fed from above */
	const struct kw_transport *tp; /* how its bytes and connections move */
	struct kw_dest dest;
	struct kw_conn_meta meta; /* born_ms, requests served before this exchange, options
	                           * the program changed (touched), bytes on the wire */
	struct kw_track track;
	unsigned nopts;
	struct kw_sockopt opts[KW_CONN_MAX_OPTS];
	unsigned nregs;
	struct kw_epoll_reg regs[KW_CONN_MAX_EPOLL];
	/* Close-style requests and replay (a handed-back connection). */
	bool     eof_after_response; /* the request was upgraded: end the response with EOF */
	bool     restore_close;      /* ...and its response head should say close again */
	bool     replayable;         /* the request may be sent again on a fresh connection */
	bool     replayed;           /* it was: never twice */
	bool     answered;           /* a response byte arrived since connect() */
	enum kw_reason park_veto;    /* let go mid upgraded exchange: still followed to its
	                              * end-of-file, never parked (0: none) */
	uint64_t parked_idle_ms;     /* how long it had been parked before this handback */
	int      file_flags;         /* its F_GETFL as the program made it (socket()'s type,
	                              * fcntl, FIONBIO), -1 when unknown */
	int      fd_flags;           /* its F_GETFD likewise, -1 when unknown */
	ino_t    aside_ino;          /* the inode of the handle a set-aside callback is
	                              * given: the socket that left fd (0 = unknown) */
	uint64_t asked_us;           /* when the program called connect(): its first
	                              * request's wait starts there (0 = not measured) */
	char    *replay;             /* the request bytes sent so far (grows to KW_REPLAY_MAX) */
	size_t   replay_len, replay_cap;
	/* TLS reuse: the session keepwarm holds on this connection (a library's
	 * handle, its lib), when the program let go of its own (kept: parked
	 * with the socket at close) or when the connection was handed back from
	 * a parked session (pending: the next session's ClientHello decides). */
	void    *tls;
	const void *tls_handle;      /* the program's session tied to it (its own handle) */
	uint8_t  tls_lib;
	bool     tls_kept;
	bool     tls_pending;
};

#define KW_REPLAY_MAX (64 * 1024)

/* Forget everything: a new socket on this number, moved by transport tp. */
void kw_conn_reset(struct kw_conn *c, pid_t owner, ino_t ino, const struct kw_transport *tp);

/* A new TCP connection under the program's socket (its own connect(), or one
 * keepwarm dialled for a fresh start or a replay) at now_ms: a new birth and
 * no bytes on the wire yet. */
void kw_conn_dialled(struct kw_conn *c, uint64_t now_ms);

/* Requests the connection has served, since its dial. */
static inline int64_t kw_conn_requests(const struct kw_conn *c)
{
	return (int64_t)c->meta.requests + c->track.responses;
}

/* Keep a copy of request bytes sent on a handed-back connection, for a
 * replay. Returns false (and forgets the copy) past KW_REPLAY_MAX or when
 * memory runs out. */
bool kw_conn_keep_replay(struct kw_conn *c, const void *buf, size_t len);

/* The same for the first n bytes spread over iov. */
bool kw_conn_keep_replay_iov(struct kw_conn *c, const struct iovec *iov, int iovcnt, size_t n);

/* Remember a setsockopt(); the latest value of each (level, name) wins.
 * Returns false when it cannot be remembered (too long, too many). */
bool kw_conn_record_opt(struct kw_conn *c, int level, int name, const void *val, socklen_t len);

/* Socket options copied by value between sockets at a handback, so the
 * program's settings (and the defaults it did not touch) travel, not those of
 * the connection's previous user. family 0 = any. Set after connect(), any
 * other option taints the socket (sockopt-not-resettable): it would stay on
 * the connection for its next user. */
struct kw_copied_opt {
	int level, name;
	sa_family_t family;
};
extern const struct kw_copied_opt kw_copied_opts[];
extern const unsigned kw_ncopied_opts;

/* The bit of a copied option (its index in kw_copied_opts), 0 for others. */
uint32_t kw_copied_opt_bit(int level, int name);

/* The bits of the options keepwarm's own TCP keepalive probes change. */
uint32_t kw_keepalive_opt_bits(void);

/* The options the program set before connect() that are not copied ones
 * (SO_RCVBUF, say): they stay on the connection whoever holds it, so it is
 * handed back only to a socket that set the same. A hash of them for the
 * pool key, 0 when there are none. */
uint32_t kw_conn_opts_hash(const struct kw_conn *c);

/* Options that tie a connection to one local binding or routing decision; a
 * socket with one of them is never parked or handed a parked connection. */
bool kw_sockopt_pins_socket(int level, int name);

/* Remember an epoll_ctl() on this socket. Returns false when the registration
 * cannot be followed (too many epoll sets). */
bool kw_conn_record_epoll(struct kw_conn *c, int epfd, int op, const struct epoll_event *ev);

#endif
