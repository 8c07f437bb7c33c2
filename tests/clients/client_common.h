/* client_common.h - shared pieces of the keepwarm test clients.
 *
 * Every client does --requests N exchanges, each on a NEW socket (socket,
 * connect, write the request, read the whole response, close), the
 * one-connection-per-request idiom of legacy programs. The clients differ only
 * in the system calls they use; what they have in common is the client
 * library, linked into every client:
 *
 *   client_common.c
 *   - kc_parse_args: the common command line (plus a few client-specific
 *     options, enabled per client with KC_OPT_* flags);
 *   - kc_request_build: the request bytes for the options;
 *   - reporting: kc_err prints "<client>: <message>" to stderr; kc_ok prints
 *     the single "ok requests=N" line on stdout;
 *   - the blocking exchange (kc_exchange_blocking), its parts for clients
 *     that vary one of them (kc_connect_send, kc_read_response with a
 *     client's own kc_read_fn, kc_close_finish), and kc_main, the whole
 *     main() of most clients;
 *   client_resp.c
 *   - struct kc_resp: a push parser for the response. Feed it whatever the
 *     client read (kc_resp_feed), tell it about EOF (kc_resp_eof), ask it
 *     whether the exchange is over (kc_resp_done) and, at the end, whether the
 *     status line, headers and body were what the target promises
 *     (kc_resp_check; bodies are compared byte for byte with
 *     tests/common/pattern.h);
 *   client_nonblock.c
 *   - the non-blocking exchange: connect in progress, SO_ERROR, send() and
 *     recv() driven by poll() or epoll_wait() (struct kc_waiter), and the
 *     epoll clients' whole exchange (kc_epoll_exchange).
 *
 * Every read goes into a buffer whose size the compiler knows, with a length
 * that comes from kc_read_len() (opaque to the optimiser, see below), so the
 * compiler cannot prove it fits: with -D_FORTIFY_SOURCE=2 that makes glibc
 * route read()/recv()/recvfrom() through __read_chk/__recv_chk/__recvfrom_chk,
 * as in distribution-built programs. A constant length such as `sizeof buf`
 * would let the compiler call plain read() instead. */
#ifndef KW_CLIENT_COMMON_H
#define KW_CLIENT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Exit codes. */
#define KC_EXIT_OK    0
#define KC_EXIT_FAIL  1   /* some exchange went wrong */
#define KC_EXIT_USAGE 2   /* bad command line */

/* Client-specific options accepted by kc_parse_args. */
#define KC_OPT_THREADS     0x01u  /* --threads T */
#define KC_OPT_USE_MSG     0x02u  /* --use-msg */
#define KC_OPT_FCNTL       0x04u  /* --fcntl: O_NONBLOCK via fcntl, not SOCK_NONBLOCK */
#define KC_OPT_EPOLL       0x08u  /* --epoll-del, --epoll-per-request */
#define KC_OPT_PEEK        0x10u  /* --peek-bytes P */

#define KC_LINE_MAX 8192          /* longest status/header/chunk-size line */

struct kc_opts {
	const char *prog;         /* client name, for messages */
	const char *host;         /* "127.0.0.1" or "::1" (any numeric address) */
	unsigned    port;
	unsigned    requests;     /* N */
	const char *path;         /* request target */
	const char *method;       /* GET, HEAD, POST (any token is sent as given) */
	size_t      body_bytes;   /* request body length (pattern bytes), 0 = none */
	bool        body_set;     /* --body-bytes given (send Content-Length even if 0) */
	unsigned    sleep_ms;     /* pause between requests */
	bool        http10;       /* send HTTP/1.0 */
	bool        keep_alive;   /* send Connection: keep-alive (for --http10) */
	bool        conn_close;   /* send Connection: close */
	bool        read_to_eof;  /* keep reading until the server closes */
	bool        close_early;  /* --close-after-headers: close with the body unread */
	int         expect_status;/* --expect-status, 0 = derive from the target */
	size_t      read_size;    /* --read-size: largest single read, default 65536 */
	unsigned    timeout_s;    /* --timeout: SIGALRM kills the client, 0 = none */
	bool        verbose;      /* --verbose: one line per exchange on stderr */
	bool        plain_read;   /* --plain-read: kc_exchange_blocking calls plain read() */
	/* client-specific */
	unsigned    threads;      /* --threads */
	bool        use_msg;      /* --use-msg */
	bool        use_fcntl;    /* --fcntl */
	bool        epoll_del;    /* --epoll-del: EPOLL_CTL_DEL before close */
	bool        epoll_per_request; /* --epoll-per-request: new epoll fd each time */
	size_t      peek_bytes;   /* --peek-bytes */
};

/* Parse argv into o; prints usage and exits with KC_EXIT_USAGE on error.
 * extra is a mask of KC_OPT_* naming the client-specific options allowed.
 * Also arms the --timeout alarm. */
void kc_parse_args(struct kc_opts *o, int argc, char **argv, const char *prog,
                   unsigned extra);

/* The connect() address for o->host/o->port. Returns the family. */
int kc_sockaddr(const struct kc_opts *o, struct sockaddr_storage *ss, socklen_t *len);

/* The request bytes. data holds request line, headers, blank line, body. */
struct kc_req {
	char  *data;
	size_t len;
	size_t line_len;   /* request line including its CRLF */
	size_t head_len;   /* request line + headers + blank line */
};
/* Build the request for o (exits on out of memory). Free with kc_request_free. */
void kc_request_build(const struct kc_opts *o, struct kc_req *q);
void kc_request_free(struct kc_req *q);

/* What the target promises, derived from the path (see PROTOCOL.md). */
struct kc_expect {
	int       status;        /* expected final status, 0 = any */
	long long body_len;      /* pattern body length, -1 = don't check the body */
	bool      extra_ok;      /* bytes after the response are expected (/extra, /twice) */
	long long echo_len;      /* expected X-Body-Length, -1 = don't check */
	long long head_cl;       /* HEAD: Content-Length the GET would have, -1 = any */
	bool      want_chunked;  /* /chunked: chunked framing and the X-Trailer trailer */
	bool      want_interim;  /* /continue: a 100 Continue before the final response */
};

enum kc_resp_state {
	KC_ST_STATUS,        /* reading the status line */
	KC_ST_HEADERS,       /* reading header lines */
	KC_ST_BODY_CL,       /* Content-Length body */
	KC_ST_CHUNK_SIZE,    /* chunk-size line */
	KC_ST_CHUNK_DATA,    /* chunk data */
	KC_ST_CHUNK_CRLF,    /* the CRLF after chunk data */
	KC_ST_TRAILERS,      /* trailer lines after the last chunk */
	KC_ST_BODY_EOF,      /* body delimited by the server closing */
	KC_ST_DONE,          /* the final response is complete */
};

struct kc_resp {
	/* set by kc_resp_init */
	const struct kc_opts *opts;
	struct kc_expect exp;
	bool      is_head;
	/* parser state */
	enum kc_resp_state state;
	char      line[KC_LINE_MAX];
	size_t    line_len;
	bool      line_cr;       /* previous byte was CR (tolerates bare LF too) */
	/* current (last) response */
	int       version_minor; /* 0 or 1 */
	int       status;
	long long content_length;  /* -1 = none */
	bool      chunked;
	bool      conn_close;      /* Connection: close */
	bool      conn_keep_alive; /* Connection: keep-alive */
	long long echo_len;        /* X-Body-Length, -1 = none */
	bool      saw_trailer;     /* X-Trailer: yes */
	unsigned  interim;         /* 1xx responses skipped */
	long long remaining;       /* body bytes left (CL or chunk) */
	/* body check */
	long long body_len;        /* body bytes received */
	long long mismatch_at;     /* first differing byte, -1 = none */
	/* after the response */
	size_t    extra;           /* bytes seen after the final response */
	bool      eof;             /* the peer closed */
	bool      failed;          /* a protocol error was reported */
	char      err[256];
};

void kc_resp_init(struct kc_resp *r, const struct kc_opts *o);

/* Feed bytes read from the connection. Returns 0, or -1 on a protocol error
 * (message in r->err). Bytes after the final response are counted in extra. */
int kc_resp_feed(struct kc_resp *r, const void *buf, size_t n);

/* The peer closed. Completes an EOF-delimited body. Returns 0, or -1 if the
 * response was incomplete (message in r->err). */
int kc_resp_eof(struct kc_resp *r);

/* True when the client should stop reading: the final response is complete
 * (and, with --read-to-eof, the peer has closed), or an error was seen. */
bool kc_resp_done(const struct kc_resp *r);

/* True while the parser is inside a line (status, header, chunk size, trailer). */
bool kc_resp_in_line(const struct kc_resp *r);

/* Bytes that certainly belong to the response: the rest of a Content-Length
 * body or of a chunk; 0 while reading a line; SIZE_MAX for an EOF body. */
size_t kc_resp_need(const struct kc_resp *r);

/* Final verdict for one exchange: status, body and echoed length as expected,
 * no stray bytes. Returns 0, or -1 with the reason in r->err. */
int kc_resp_check(struct kc_resp *r);

/* Length for the next read into a buffer of cap bytes: min(cap, --read-size).
 * Kept opaque to the optimiser on purpose (see the top of this file). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noipa))
#else
__attribute__((noinline))
#endif
size_t kc_read_len(const struct kc_resp *r, size_t cap);

/* Write all of buf (blocking fd); retries EINTR and short writes with write(). */
int kc_write_all(int fd, const void *buf, size_t len);

/* Pause --sleep-ms between requests (not after the last). */
void kc_pause(const struct kc_opts *o, unsigned i);

/* "<prog>: <message>\n" on stderr (one write per call, so thread-safe). */
void kc_err(const struct kc_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line on stderr with --verbose describing the finished exchange. */
void kc_trace_exchange(const struct kc_opts *o, unsigned i, const struct kc_resp *r);

/* Print "ok requests=N" on stdout and return KC_EXIT_OK. */
int kc_ok(unsigned long requests);

/* The common tail of an exchange: EOF/complete handled by the caller; this
 * checks the response and reports. Returns 0 or -1 (message printed with the
 * request index i). */
int kc_finish(const struct kc_opts *o, unsigned i, struct kc_resp *r);

/* ---------------------------------------------------------------- blocking */

/* socket() + blocking connect() to o->host:o->port. Returns the fd, or -1
 * (message printed, naming request i). */
int kc_connect_blocking(const struct kc_opts *o, unsigned i);

/* kc_connect_blocking, then write the whole request. Returns the fd, or -1
 * (message printed, nothing left open). */
int kc_connect_send(const struct kc_opts *o, const struct kc_req *q, unsigned i);

/* One read of the response: reads once from fd and feeds what it got to r
 * (kc_resp_feed; it may also call kc_resp_eof). Returns the byte count, 0 at
 * EOF, -1 with errno set and *call naming the failed call (EINTR is retried),
 * or KC_READ_REPORTED after printing a message of its own. */
#define KC_READ_REPORTED (-2)
typedef ssize_t (*kc_read_fn)(int fd, struct kc_resp *r, void *ctx, const char **call);

/* The kc_read_fn of the plain blocking clients: read() into a 4096-byte
 * buffer, length from kc_read_len (so __read_chk). */
ssize_t kc_read_chk(int fd, struct kc_resp *r, void *ctx, const char **call);

/* kc_resp_init(r, o), then rd(fd, r, ctx, ...) until kc_resp_done, calling
 * kc_resp_eof on EOF. Returns 0, or -1 with *call and errno describing the
 * failed read (*call NULL: rd printed the message). Closes nothing. */
int kc_read_response(const struct kc_opts *o, int fd, struct kc_resp *r, kc_read_fn rd,
                     void *ctx, const char **call);

/* close(fd), then kc_finish. Returns 0 or -1 (message printed). */
int kc_close_finish(const struct kc_opts *o, unsigned i, int fd, struct kc_resp *r);

/* The rest of an exchange once the request is sent: kc_read_response with
 * rd ("request i: <call>: <error>" if a read fails), then kc_close_finish.
 * fd is closed in any case. Returns 0 or -1. */
int kc_receive_finish(const struct kc_opts *o, unsigned i, int fd, kc_read_fn rd, void *ctx);

/* One complete blocking exchange on a new socket: socket, connect, write(),
 * read() until the response is complete, then close_fn(fd) (close() when
 * NULL). Returns 0, or -1 with a message printed. */
typedef int (*kc_close_fn)(int fd);
int kc_exchange_blocking(const struct kc_opts *o, const struct kc_req *q, unsigned i,
                         kc_close_fn close_fn);

/* Run one() for i = 0 .. o->requests-1 with kc_pause between them; stops at
 * the first failure. Returns 0 or -1. */
typedef int (*kc_exchange_fn)(const struct kc_opts *o, const struct kc_req *q, unsigned i);
int kc_run_loop(const struct kc_opts *o, const struct kc_req *q, kc_exchange_fn one);

/* The whole main() of a client: kc_parse_args (prog, extra), the request,
 * kc_run_loop with one(), then after(o) if not NULL. Returns the exit code
 * (having printed "ok requests=N" on success). */
int kc_main(int argc, char **argv, const char *prog, unsigned extra, kc_exchange_fn one,
            void (*after)(const struct kc_opts *o));

/* ---------------------------------------------------------------- non-blocking */

/* Block on poll() for events on fd, bounded by the timeout. Returns revents,
 * or -1 (message printed) on error or timeout. */
int kc_poll_one(const struct kc_opts *o, int fd, short events);

/* epoll_wait on epfd until events arrive for token (the data.u64 the client
 * registered its current connection with); *got gets their union. An event
 * for any other token means a connection the program already closed is still
 * in its epoll set: that is reported as an error. Returns 0 or -1 (printed). */
int kc_epoll_wait_token(const struct kc_opts *o, int epfd, uint64_t token, unsigned i,
                        uint32_t *got);

/* The data.u64 token for request i on fd. */
static inline uint64_t kc_token(unsigned i, int fd)
{
	return ((uint64_t)(i + 1) << 32) | (uint32_t)fd;
}

/* How a non-blocking exchange waits for its socket: poll() when epfd < 0,
 * else kc_epoll_wait_token(epfd, token), leaving the events in got. */
struct kc_waiter {
	int      epfd;
	uint64_t token;
	uint32_t got;
};

/* socket(SOCK_STREAM | type_flags) for o->host, whose address it leaves in
 * ss and sl. Returns the fd, or -1 (message printed). */
int kc_nb_socket(const struct kc_opts *o, unsigned i, int type_flags,
                 struct sockaddr_storage *ss, socklen_t *sl);

/* connect() on a non-blocking fd: 0 with *pending telling EINPROGRESS from an
 * immediate connection, or -1 (message printed). */
int kc_nb_connect(const struct kc_opts *o, unsigned i, int fd,
                  const struct sockaddr_storage *ss, socklen_t sl, bool *pending);

/* getsockopt(SO_ERROR) once connect() is done. Returns 0 or -1 (printed). */
int kc_check_connected(const struct kc_opts *o, unsigned i, int fd);

/* send() the whole request, waiting with w on EAGAIN. Returns 0 or -1 (printed). */
int kc_send_nb(const struct kc_opts *o, const struct kc_req *q, unsigned i, int fd,
               struct kc_waiter *w);

/* kc_resp_init(r, o), then wait with w and recv() once, until the response
 * is done (level-triggered). Returns 0 or -1 (printed). */
int kc_recv_level(const struct kc_opts *o, unsigned i, int fd, struct kc_waiter *w,
                  struct kc_resp *r);

/* The epoll clients' exchange: a non-blocking socket registered with the
 * run's epoll instance after connect() (EPOLLOUT, then EPOLLIN|EPOLLRDHUP
 * once the request is sent, recv() on every level-triggered event), before
 * connect() (the same), or edge-triggered after connect() (EPOLLIN|EPOLLOUT|
 * EPOLLRDHUP|EPOLLET once, recv() until EAGAIN). --epoll-del removes the
 * socket before close(); --epoll-per-request closes the instance after each
 * request. Returns 0 or -1 (printed). */
enum kc_epoll_mode { KC_EPOLL_AFTER, KC_EPOLL_BEFORE, KC_EPOLL_EDGE };
int kc_epoll_exchange(const struct kc_opts *o, const struct kc_req *q, unsigned i,
                      enum kc_epoll_mode mode);

/* kc_main's after() for the epoll clients: closes the epoll instance. */
void kc_epoll_done(const struct kc_opts *o);

/* ---- for the clients that script their own socket calls (client_script.c) ---- */

/* --port P, --host H (default 127.0.0.1), --requests N, --mode M and
 * --timeout S (arms an alarm: a hang ends the run); flags named in flags
 * (e.g. "--any") set the matching entry of seen. Returns 0, or -1 on an
 * unknown option or a missing --port. */
struct kc_script {
	const char *host, *mode;
	int port, requests, timeout_s;
};
int kc_script_args(struct kc_script *o, int argc, char **argv, const char *const *flags,
                   bool *seen);

/* A blocking TCP socket connected to host:port (IPv6 when host has a ':'),
 * or -1. */
int kc_dial(const char *host, int port);

/* The same with one socket option set before connect() (val NULL: none). */
int kc_dial_opt(const char *host, int port, int level, int name, const void *val, socklen_t vlen);

/* "GET /gen/N" on fd and its whole response read back with read(): 0 when
 * the response is its own (Content-Length N), else -1. */
int kc_get_sized(int fd, const char *host, long n);

/* Read one whole response whose body has a Content-Length with rd (read()
 * when NULL). Returns its Content-Length, or -1 (short, no length, or more
 * bytes than one response). */
long kc_read_sized(int fd, long (*rd)(int fd, void *buf, size_t len));

#endif
