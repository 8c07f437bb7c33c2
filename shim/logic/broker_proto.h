/* broker_proto.h - what the shim and the per-user broker (keepwarmd) say to
 * each other, and where the broker listens.
 *
 * Pure logic, shared by both sides. One message is one SOCK_SEQPACKET
 * datagram: a 16-byte header (magic, version, type, request id, body length)
 * and a fixed body per type, every field written little-endian at a fixed
 * offset, so a 32-bit and a 64-bit process agree. Descriptors travel beside
 * it (SCM_RIGHTS): exactly one with PUT, TAKE and GIVE, none with MISS and
 * HELLO (which has no body).
 *
 *   PUT   shim -> broker  a parked connection, its key and metadata     fd: it
 *   TAKE  shim -> broker  a connection to key, please                   fd: the
 *                         program's unconnected socket (its network namespace)
 *   GIVE  broker -> shim  one, the request's id and key echoed          fd: it
 *   MISS  broker -> shim  none, the request's id and key echoed
 *   HELLO broker -> shim  the broker took this client (its uid checked,
 *                         its cgroup read while the process surely lives)
 *   STATUS tool -> broker what do you hold? (keepwarm status)
 *   REPORT broker -> tool  its statistics, Prometheus text, the request's
 *                         id echoed (a body of any length up to
 *                         KW_BROKER_REPORT_MAX; a broker of an older build
 *                         refuses STATUS and sends nothing)
 *
 * The key's netns and cgroup never travel: the broker derives them from the
 * descriptors it holds and from its peer. Only plain connections travel (a
 * TLS session's keys live in its process). */
#ifndef KW_BROKER_PROTO_H
#define KW_BROKER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "logic/key.h"
#include "logic/meta.h"

#define KW_BROKER_MAGIC   0x3142574bu /* "KWB1" read little-endian */
#define KW_BROKER_VERSION 1
#define KW_BROKER_HEAD    16
/* The largest message of this version; a receiver's buffer is larger, so
 * that a longer datagram is seen as too long and not cut silently. */
#define KW_BROKER_MSG_MAX 160
/* The longest REPORT body (it fits a Unix socket's default send buffer). */
#define KW_BROKER_REPORT_MAX 65536

enum kw_bmsg_type {
	KW_BMSG_PUT = 1,
	KW_BMSG_TAKE = 2,
	KW_BMSG_GIVE = 3,
	KW_BMSG_MISS = 4,
	KW_BMSG_HELLO = 5,
	KW_BMSG_STATUS = 6,
	KW_BMSG_REPORT = 7,
};

/* A message, decoded. Fields a type does not carry are zero. */
struct kw_bmsg {
	uint16_t type;           /* enum kw_bmsg_type */
	uint32_t id;             /* the request's id; a reply echoes it */
	struct kw_key key;       /* dest, transport and opts only */
	uint64_t idle_ms;        /* PUT, GIVE: how long it has been parked */
	uint64_t expires_in_ms;  /* PUT, GIVE: how much longer it may stay parked */
	struct kw_conn_meta conn;/* PUT, GIVE: what travels with it */
	const char *text;        /* REPORT: its body, in the decoded buffer (not */
	size_t text_len;         /* terminated); to encode, what to send */
};

enum kw_bproto_error {
	KW_BPROTO_OK = 0,
	KW_BPROTO_SHORT,     /* shorter than its header or its body */
	KW_BPROTO_MAGIC,     /* not a keepwarm broker message */
	KW_BPROTO_VERSION,   /* another protocol version */
	KW_BPROTO_TYPE,      /* an unknown type */
	KW_BPROTO_LENGTH,    /* the body's length is not its type's */
	KW_BPROTO_FDS,       /* too many or too few descriptors for its type */
	KW_BPROTO_FIELD,     /* a field out of range: family, transport, metadata */
};

/* The message's encoding into buf (at least KW_BROKER_MSG_MAX bytes, and
 * KW_BROKER_HEAD + text_len for a REPORT): its length, or 0 when m is not
 * a message this version can say or does not fit. */
size_t kw_bmsg_encode(const struct kw_bmsg *m, uint8_t *buf, size_t size);

/* Decode the datagram buf[0..len) that arrived with nfds descriptors. On
 * KW_BPROTO_OK *m is the message; any other value means refuse it (and
 * close every descriptor that came with it). */
enum kw_bproto_error kw_bmsg_decode(const uint8_t *buf, size_t len, unsigned nfds,
                                    struct kw_bmsg *m);

/* How many descriptors a message of type t carries (0 for an unknown type). */
unsigned kw_bmsg_fds(enum kw_bmsg_type t);

/* A short name for an error ("short", "magic", ...), for logs. */
const char *kw_bproto_error_name(enum kw_bproto_error e);

/* Put descriptor fd beside the message of mh, in ctrl (size bytes, at least
 * CMSG_SPACE(sizeof(int)); zeroed here, since it all goes to the kernel). */
void kw_bmsg_attach_fd(struct msghdr *mh, void *ctrl, size_t size, int fd);

/* The descriptors that came with the received mh, in order, at most max
 * into fds (a receiver's control space holds no more than it can take, the
 * kernel closes the rest and says MSG_CTRUNC): their count. */
unsigned kw_bmsg_received_fds(struct msghdr *mh, int *fds, unsigned max);

/* Whether a reply r answers the request q: the same id, a GIVE or MISS,
 * the same destination, transport and options. */
bool kw_bmsg_answers(const struct kw_bmsg *r, const struct kw_bmsg *q);

/* Where the broker listens, from KEEPWARM_BROKER's value (config "" = off):
 * "auto" is $XDG_RUNTIME_DIR/keepwarm/broker when xdg_runtime_dir is an
 * absolute path, else /tmp/keepwarm-UID/broker; any other value is the
 * path itself. Writes the path and its directory (both terminated) and
 * returns true; false when off or when the path does not fit a Unix socket
 * address (108 bytes with its terminator). */
bool kw_broker_path(const char *value, const char *xdg_runtime_dir, unsigned uid,
                    char *path, size_t path_size, char *dir, size_t dir_size);

#endif
