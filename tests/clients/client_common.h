/* client_common.h - shared pieces of the keepwarm test clients.
 *
 * Every client does --requests N exchanges, each on a NEW socket (socket,
 * connect, write the request, read the whole response, close), the
 * one-connection-per-request idiom of legacy programs. The clients differ only
 * in the system calls they use; what they have in common lives here:
 *
 *   - kc_parse_args: the common command line (plus a few client-specific
 *     options, enabled per client with KC_OPT_* flags);
 *   - kc_request_build: the request bytes for the options;
 *   - struct kc_resp: a push parser for the response. Feed it whatever the
 *     client read (kc_resp_feed), tell it about EOF (kc_resp_eof), ask it
 *     whether the exchange is over (kc_resp_done) and, at the end, whether the
 *     status line, headers and body were what the target promises
 *     (kc_resp_check; bodies are compared byte for byte with
 *     tests/common/pattern.h);
 *   - reporting: kc_err prints "<client>: <message>" to stderr; kc_ok prints
 *     the single "ok requests=N" line on stdout.
 *
 * The reads themselves stay in each client's own source file, into buffers
 * whose size the compiler knows, with a length that comes from kc_read_len()
 * (defined in another translation unit, so the compiler cannot prove it fits):
 * with -D_FORTIFY_SOURCE=2 that makes glibc route read()/recv()/recvfrom()
 * through __read_chk/__recv_chk/__recvfrom_chk, as in distribution-built
 * programs. A constant length such as `sizeof buf` would let the compiler call
 * plain read() instead. */
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

/* Block on poll() for events on fd, bounded by the timeout. Returns revents,
 * or -1 (message printed) on error or timeout. */
int kc_poll_one(const struct kc_opts *o, int fd, short events);

/* "<prog>: <message>\n" on stderr (one write per call, so thread-safe). */
void kc_err(const struct kc_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line on stderr with --verbose describing the finished exchange. */
void kc_trace_exchange(const struct kc_opts *o, unsigned i, const struct kc_resp *r);

/* Print "ok requests=N" on stdout and return KC_EXIT_OK. */
int kc_ok(unsigned long requests);

/* socket() + blocking connect() to o->host:o->port. Returns the fd, or -1
 * (message printed, naming request i). */
int kc_connect_blocking(const struct kc_opts *o, unsigned i);

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

/* The common tail of an exchange: EOF/complete handled by the caller; this
 * checks the response and reports. Returns 0 or -1 (message printed with the
 * request index i). */
int kc_finish(const struct kc_opts *o, unsigned i, struct kc_resp *r);

#endif
