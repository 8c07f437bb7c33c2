/* test_stream.c - the stream entry points (shim/entry/entry.h) driven over
 * an in-memory transport: request upgrade, response head restore,
 * end-of-file at the end of an upgraded response (with the connection parked
 * in the pool), a fresh connection for a request that must not be replayed,
 * one replay after a reused connection ends early, the watch-only mode,
 * which feeds nothing to the tracker, and a TLS session tied to its socket by
 * its ClientHello, its plaintext fed through the stream. Linked with the whole shim but its
 * wrappers, so nothing here is interposed. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "entry/entry.h"
#include "logic/transport.h"
#include "logic/trace.h"
#include "primitive/follow.h"
#include "primitive/park.h"
#include "service/private.h"
#include "service/tls_sessions.h"
#include "service/transports.h"
#include "sink/pool.h"
#include "sink/report.h"

/* ---- an in-memory transport ---- */

#define PROGRAM_FD 700 /* the program's descriptor number (a slot, never opened) */
#define MAX_CONNS 16
#define MAX_HANDLES 64

struct mem_conn {
	bool server_open;
	bool eof;         /* the end-of-file stand-in end_with_eof installs */
	char out[8192];   /* what was sent on it */
	size_t out_len;
	char in[4096];    /* what waits to be read (drain, liveness) */
	size_t in_len;
};

static struct mem_conn conns[MAX_CONNS];
static int nconns;
static int handle_conn[MAX_HANDLES]; /* handle -> connection, -1 when closed */
static int nhandles;
static int program_handle;           /* what PROGRAM_FD holds */
static int undo_result;              /* 1: a fresh dial is still connecting on a non-blocking fd */
static int set_asides;

static int new_conn(void)
{
	ck_assert_int_lt(nconns, MAX_CONNS);
	memset(&conns[nconns], 0, sizeof conns[nconns]);
	conns[nconns].server_open = true;
	return nconns++;
}

static int new_handle(int conn)
{
	ck_assert_int_lt(nhandles, MAX_HANDLES);
	handle_conn[nhandles] = conn;
	return nhandles++;
}

static int conn_of(int h)
{
	if (h == PROGRAM_FD)
		h = program_handle;
	ck_assert(h > 0 && h < nhandles);
	return handle_conn[h];
}

static struct mem_conn *mc(int h)
{
	int c = conn_of(h);
	ck_assert_int_ge(c, 0);
	return &conns[c];
}

static void append(struct mem_conn *m, const void *buf, size_t len)
{
	ck_assert_uint_le(m->out_len + len, sizeof m->out);
	memcpy(m->out + m->out_len, buf, len);
	m->out_len += len;
}

static ssize_t mem_send(int fd, const struct iovec *iov, int iovcnt, int flags)
{
	ssize_t total = 0;
	(void)flags;
	for (int i = 0; i < iovcnt; i++) {
		append(mc(fd), iov[i].iov_base, iov[i].iov_len);
		total += (ssize_t)iov[i].iov_len;
	}
	return total;
}

static bool mem_send_all(int h, const void *buf, size_t len, int ms)
{
	(void)ms;
	append(mc(h), buf, len);
	return true;
}

static ssize_t mem_recv(int fd, void *buf, size_t len)
{
	struct mem_conn *m = mc(fd);
	if (!m->in_len) {
		errno = EAGAIN;
		return -1;
	}
	if (len > m->in_len)
		len = m->in_len;
	memcpy(buf, m->in, len);
	memmove(m->in, m->in + len, m->in_len - len);
	m->in_len -= len;
	return (ssize_t)len;
}

static bool mem_wait(int h, short events, int ms)
{
	(void)events;
	(void)ms;
	return mc(h)->in_len > 0;
}

static int mem_unread(int fd)
{
	return (int)mc(fd)->in_len;
}

static bool mem_alive(int h)
{
	struct mem_conn *m = mc(h);
	return m->server_open && !m->in_len;
}

/* The kernel's judge, in memory: every byte the connection carried was
 * counted by the stream (wire_sent, summed across handbacks). */
static enum kw_reason mem_settled(const struct kw_conn *c, int fd)
{
	struct mem_conn *m = mc(fd);

	if (m->in_len)
		return KW_REASON_UNREAD_BYTES;
	if (!m->server_open)
		return KW_REASON_SERVER_CLOSED;
	return m->out_len == c->meta.wire_sent ? KW_REASON_NONE : KW_REASON_UNSEEN_IO;
}

static bool mem_same(const struct kw_conn *c, int fd)
{
	(void)c;
	return fd == PROGRAM_FD;
}

static int mem_dial(struct kw_conn *c, int fd, bool *in_progress)
{
	(void)c;
	(void)fd;
	*in_progress = undo_result == 1;
	return new_handle(new_conn());
}

static bool mem_connected(int h, int ms)
{
	(void)ms;
	return conn_of(h) >= 0;
}

static int mem_detach(struct kw_conn *c, int fd)
{
	(void)c;
	return new_handle(conn_of(fd));
}

static int mem_install(struct kw_conn *c, int fd, int h, enum kw_install how, uint32_t carry,
                       int h_flags)
{
	(void)c;
	(void)how;
	(void)carry;
	(void)h_flags;
	ck_assert_int_eq(fd, PROGRAM_FD);
	handle_conn[program_handle] = -1;
	program_handle = h;
	return 0;
}

static void mem_close(int h)
{
	handle_conn[h] = -1;
}

static bool mem_end_with_eof(struct kw_conn *c, int fd, kw_set_aside_fn set_aside, void *arg)
{
	int e = new_conn(), keep = set_aside ? new_handle(conn_of(fd)) : -1;

	conns[e].eof = true;
	mem_install(c, fd, new_handle(e), KW_INSTALL_REPLACE, 0, -1);
	if (set_aside) {
		set_asides++;
		set_aside(arg, keep);
	}
	return true;
}

static bool mem_blocking(int fd)
{
	(void)fd;
	return undo_result != 1;
}

static int mem_replace(struct kw_conn *c, int fd, int h, kw_set_aside_fn set_aside, void *arg)
{
	int keep = new_handle(conn_of(fd));

	mem_install(c, fd, h, KW_INSTALL_REPLACE, 0, -1);
	set_asides++;
	set_aside(arg, keep);
	return 0;
}

static const struct kw_transport mem_transport = {
	.name = "memory",
	.kind = KW_TRANSPORT_PLAIN,
	.send = mem_send,
	.send_all = mem_send_all,
	.recv = mem_recv,
	.wait = mem_wait,
	.unread = mem_unread,
	.alive = mem_alive,
	.settled = mem_settled,
	.same = mem_same,
	.dial = mem_dial,
	.connected = mem_connected,
	.detach = mem_detach,
	.install = mem_install,
	.close = mem_close,
	.end_with_eof = mem_end_with_eof,
	.blocking = mem_blocking,
	.replace = mem_replace,
};

/* ---- the trace, captured ---- */

static char trace[16384];
static size_t trace_len;

static ssize_t capture(int fd, const void *buf, size_t len)
{
	(void)fd;
	if (trace_len + len < sizeof trace) {
		memcpy(trace + trace_len, buf, len);
		trace_len += len;
		trace[trace_len] = '\0';
	}
	return (ssize_t)len;
}

static bool traced(const char *words)
{
	return strstr(trace, words) != NULL;
}

/* ---- a followed connection on PROGRAM_FD ---- */

static struct kw_fd *s;
static struct kw_conn *c;
static int first; /* the connection the program dialled */

static void setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(8080),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	kw_init();
	ck_assert_msg(kw_fd_table != NULL, "the fd table was not set up (KEEPWARM=off?)");
	ck_assert_ptr_nonnull(kw_pool.ops);
	kw_config_defaults(&kw_cfg);
	kw_mode = KW_MODE_REUSE;
	kw_transport_register(&mem_transport);
	kw_trace_set_sink(1, capture);
	kw_tls_sessions_reset(); /* CK_FORK=no runs every test in one process */
	trace_len = 0;
	trace[0] = '\0';

	nconns = 0;
	nhandles = 1;
	first = new_conn();
	program_handle = new_handle(first);
	undo_result = 0;
	set_asides = 0;

	s = kw_fd_slot(PROGRAM_FD);
	ck_assert_ptr_nonnull(s);
	c = &s->conn;
	kw_conn_reset(c, getpid(), 1, &mem_transport);
	ck_assert_int_eq(kw_dest_from_sockaddr(&c->dest, (struct sockaddr *)&a, sizeof a), 0);
	kw_conn_dialled(c, kw_now_ms());
	kw_follow(s);
}

/* What the program's send-family call does, with the real call done by
 * the in-memory transport: the stream first, then the bytes and their
 * accounting. Returns what the program's call returns. */
static ssize_t program_sends_n(const char *bytes, size_t n)
{
	struct iovec iov = { (void *)bytes, n };
	ssize_t r;

	if (kw_stream_before_send(s, &iov, 1, 0, &r))
		return r;
	r = mem_send(PROGRAM_FD, &iov, 1, 0);
	ck_assert(!kw_stream_sent(s, r, 0, &iov, 1, 0));
	return r;
}

static ssize_t program_sends(const char *bytes)
{
	return program_sends_n(bytes, strlen(bytes));
}

/* The program reads: ret bytes arrived in buf (of size cap), 0 for
 * end-of-file. Returns the stream's retry answer; *got is what the program
 * sees. */
static bool program_reads(char *buf, size_t cap, ssize_t ret, ssize_t *got)
{
	struct iovec iov = { buf, cap };

	*got = ret;
	return kw_stream_received(s, got, 0, &iov, 1, cap, 0);
}

static int parked_handle(void)
{
	struct kw_pool_drops dropped;
	struct kw_idle_meta m;
	struct kw_key k;
	int h;

	kw_key_make(&k, &c->dest, KW_TRANSPORT_PLAIN, 0);
	h = kw_pool.ops->take(kw_pool.self, &k, -1, kw_now_ms(), &m, &dropped);
	ck_assert_uint_eq(dropped.n, 0);
	return h;
}

static const char close_get[] = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
static const char keepalive_head[] = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
static const char ka_response[] = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
                                  "Keep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nhi";
static const char restored[] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi";

START_TEST(test_upgrade_restore_eof_at_end)
{
	char buf[512];
	ssize_t got;
	int h;

	/* The close-style head goes out as keep-alive; the program is told all
	 * of its own bytes went. */
	ck_assert_int_eq(program_sends(close_get), (ssize_t)strlen(close_get));
	ck_assert_uint_eq(conns[first].out_len, strlen(keepalive_head));
	ck_assert(!memcmp(conns[first].out, keepalive_head, strlen(keepalive_head)));
	ck_assert(traced("event=upgrade fd=700 dest=127.0.0.1:8080 reason=close-removed"));
	ck_assert_uint_eq(c->meta.wire_sent, strlen(keepalive_head));

	/* The response's head is put back to what a close-style request gets,
	 * and the response being complete, the connection is parked and the
	 * descriptor reads end-of-file. */
	memcpy(buf, ka_response, sizeof ka_response - 1);
	ck_assert(!program_reads(buf, sizeof buf, sizeof ka_response - 1, &got));
	ck_assert_int_eq(got, (ssize_t)strlen(restored));
	ck_assert(!memcmp(buf, restored, strlen(restored)));
	ck_assert_uint_eq(c->meta.wire_received, sizeof ka_response - 1);
	ck_assert_int_eq(set_asides, 1);
	ck_assert(conns[conn_of(PROGRAM_FD)].eof);
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("event=park fd=700 dest=127.0.0.1:8080 requests=1"));
	ck_assert(traced("event=eof fd=700 dest=127.0.0.1:8080 reason=response-complete requests=1"));

	/* What waits in the pool is the connection the request went on. */
	h = parked_handle();
	ck_assert_int_gt(h, 0);
	ck_assert_int_eq(conn_of(h), first);
	ck_assert_int_eq(parked_handle(), -1);
}
END_TEST

START_TEST(test_no_upgrade_without_setting)
{
	kw_cfg.upgrade = false;
	ck_assert_int_eq(program_sends(close_get), (ssize_t)strlen(close_get));
	ck_assert_uint_eq(conns[first].out_len, strlen(close_get));
	ck_assert(!traced("event=upgrade"));
	ck_assert(c->track.close_requested);
}
END_TEST

START_TEST(test_replay_after_early_eof)
{
	static const char get[] = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
	char buf[512];
	ssize_t got;
	int fresh;

	uint64_t begin, asked, begin2, asked2;

	kw_report_latency = true; /* the stream stamps its feeds */
	c->reused = true; /* as after a handback */
	c->parked_idle_ms = 12;
	ck_assert_int_eq(program_sends(get), (ssize_t)strlen(get));
	ck_assert(c->replayable);
	kw_track_oldest_times(&c->track, &begin, &asked);
	ck_assert_uint_gt(begin, 0);

	/* The reused connection ends before any response byte: the request goes
	 * again on a fresh connection, and the program's read is repeated. */
	ck_assert(program_reads(buf, sizeof buf, 0, &got));
	fresh = conn_of(PROGRAM_FD);
	ck_assert_int_ne(fresh, first);
	ck_assert_uint_eq(conns[fresh].out_len, strlen(get));
	ck_assert(!memcmp(conns[fresh].out, get, strlen(get)));
	ck_assert(c->replayed);
	ck_assert(!c->reused);
	ck_assert_uint_eq(c->meta.wire_sent, strlen(get));
	ck_assert_uint_eq(c->track.requests, 1);
	ck_assert(traced("event=replay fd=700 dest=127.0.0.1:8080 reason=eof idle_ms=12"));
	/* The request sent again keeps the times of the program's own attempt. */
	kw_track_oldest_times(&c->track, &begin2, &asked2);
	ck_assert_uint_eq(begin2, begin);
	ck_assert_uint_eq(asked2, asked);

	/* Never twice: the fresh connection's end-of-file reaches the program. */
	ck_assert(!program_reads(buf, sizeof buf, 0, &got));
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("event=discard fd=700 dest=127.0.0.1:8080 reason=server-closed"));
}
END_TEST

START_TEST(test_no_replay_once_answered)
{
	static const char get[] = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char part[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab";
	char buf[512];
	ssize_t got;

	c->reused = true;
	program_sends(get);
	memcpy(buf, part, sizeof part - 1);
	ck_assert(!program_reads(buf, sizeof buf, sizeof part - 1, &got));
	ck_assert(!program_reads(buf, sizeof buf, 0, &got));
	ck_assert_int_eq(conn_of(PROGRAM_FD), first);
	ck_assert(!traced("event=replay"));
}
END_TEST

START_TEST(test_fresh_for_unsafe_request)
{
	static const char post[] = "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx";
	int h;

	/* A non-blocking program whose fresh connection is still connecting. */
	c->reused = true;
	undo_result = 1;
	errno = 0;
	ck_assert_int_eq(program_sends(post), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(set_asides, 1);
	ck_assert_int_ne(conn_of(PROGRAM_FD), first);
	ck_assert(!c->reused);
	ck_assert(traced("event=fresh fd=700 dest=127.0.0.1:8080 reason=request-not-replayable"));
	/* The unused handed-back connection went back to the pool. */
	h = parked_handle();
	ck_assert_int_gt(h, 0);
	ck_assert_int_eq(conn_of(h), first);
	ck_assert_uint_eq(conns[first].out_len, 0);

	/* The program's retry goes out on the fresh connection. */
	ck_assert_int_eq(program_sends(post), (ssize_t)strlen(post));
	ck_assert_uint_eq(mc(PROGRAM_FD)->out_len, strlen(post));
}
END_TEST

START_TEST(test_watch_only_feeds_nothing)
{
	static const char garbage[] = "\x16\x03\x01 this is no HTTP\r\n\r\n";
	char buf[512];
	ssize_t got;

	c->watch_only = true;
	/* Not even a close-style head is touched: the bytes go out as they are. */
	ck_assert_int_eq(program_sends(close_get), (ssize_t)strlen(close_get));
	ck_assert_int_eq(program_sends(garbage), (ssize_t)strlen(garbage));
	ck_assert_uint_eq(conns[first].out_len, strlen(close_get) + strlen(garbage));
	memcpy(buf, garbage, sizeof garbage - 1);
	ck_assert(!program_reads(buf, sizeof buf, sizeof garbage - 1, &got));
	ck_assert_int_eq(got, (ssize_t)(sizeof garbage - 1));
	ck_assert(!memcmp(buf, garbage, sizeof garbage - 1));
	ck_assert_uint_eq(c->track.requests, 0);
	ck_assert_uint_eq(c->track.responses, 0);
	ck_assert(!c->track.saw_request);
	ck_assert_int_eq(c->track.status, KW_TRACK_FOLLOWING);
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_HTTP);
	ck_assert_uint_eq(trace_len, 0);
	/* The bytes are counted on the wire all the same. */
	ck_assert_uint_eq(c->meta.wire_sent, strlen(close_get) + strlen(garbage));
	ck_assert_uint_eq(c->meta.wire_received, sizeof garbage - 1);

	/* Its close is followed: the server closing lets it go. */
	ck_assert(!program_reads(buf, sizeof buf, 0, &got));
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("event=discard fd=700 dest=127.0.0.1:8080 reason=server-closed"));
}
END_TEST

START_TEST(test_plain_stream_lets_go_of_garbage)
{
	/* The same bytes without watch-only mode: the tracker sees them and lets
	 * go (the contrast to the test above). */
	static const char garbage[] = "\x16\x03\x01 this is no HTTP\r\n\r\n";

	program_sends(garbage);
	ck_assert_int_eq(c->track.status, KW_TRACK_LET_GO);
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("event=passthrough fd=700 dest=127.0.0.1:8080 reason=not-http"));
}
END_TEST

/* ---- TLS sessions ---- */

/* The start of a ClientHello record: handshake, TLS 1.0 record version, a
 * length, type 1. */
static const char hello[] = "\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03";
#define HELLO_LEN (sizeof hello - 1)
static int session; /* its address stands for an SSL * */

/* The program's TLS call on the session: inside it the library sends the
 * ClientHello on the socket. */
static void handshake_sends_hello(void)
{
	struct kw_tls_call outer;
	struct iovec iov = { (void *)hello, HELLO_LEN };
	ssize_t r;

	ck_assert(kw_tls_handshake_begin(&outer, KW_TLS_OPENSSL, &session));
	ck_assert(!kw_stream_before_send(s, &iov, 1, 0, &r));
	r = mem_send(PROGRAM_FD, &iov, 1, 0);
	ck_assert(!kw_stream_sent(s, r, 0, &iov, 1, 0));
	kw_tls_call_leave(&outer);
	ck_assert_ptr_null(kw_tls_call_current());
}

static void plain(bool sent, const char *bytes, size_t from, size_t to)
{
	(void)kw_tls_plain(KW_TLS_OPENSSL, &session, sent, (char *)bytes + from, to - from);
}

START_TEST(test_tls_session_feeds_plaintext)
{
	static const char cipher[] = "\x17\x03\x03\x00\x20 ciphertext, not HTTP";
	char buf[512];
	ssize_t got;

	kw_tls_transport(KW_TLS_OPENSSL, &session, PROGRAM_FD);
	handshake_sends_hello();
	ck_assert(c->watch_only);
	ck_assert_int_eq(c->dest.tls, 1);
	ck_assert(traced("event=tls fd=700 dest=127.0.0.1:8080 tls=1 library=openssl"));
	kw_tls_handshaken(KW_TLS_OPENSSL, &session, KW_REASON_NONE);

	/* Ciphertext both ways on the socket: counted, never parsed. */
	ck_assert_int_eq(program_sends(cipher), (ssize_t)strlen(cipher));
	memcpy(buf, cipher, strlen(cipher));
	ck_assert(!program_reads(buf, sizeof buf, (ssize_t)strlen(cipher), &got));
	ck_assert_uint_eq(c->meta.wire_sent, HELLO_LEN + strlen(cipher));
	ck_assert_int_eq(c->track.status, KW_TRACK_FOLLOWING);

	/* Plaintext, split as records and reads split it. */
	plain(true, keepalive_head, 0, 5);
	plain(true, keepalive_head, 5, strlen(keepalive_head));
	ck_assert_uint_eq(c->track.requests, 1);
	plain(false, ka_response, 0, 20);
	plain(false, ka_response, 20, strlen(ka_response));
	ck_assert_uint_eq(c->track.responses, 1);
	plain(true, keepalive_head, 0, strlen(keepalive_head));
	plain(false, ka_response, 0, strlen(ka_response));
	ck_assert_uint_eq(c->track.responses, 2);
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_HTTP);
	/* Nothing was changed on the wire: the requests went as the library
	 * wrote them (here: not at all, the socket saw only ciphertext). */
	ck_assert_uint_eq(conns[first].out_len, HELLO_LEN + strlen(cipher));

	/* Never parked in this version. */
	kw_slot_lock(s);
	ck_assert_int_eq(kw_park(s, -1, false), KW_REASON_TLS_NOT_POOLED);
	kw_slot_unlock(s);

	/* Forgotten with the session: its plaintext no longer counts. */
	kw_tls_forget(KW_TLS_OPENSSL, &session);
	plain(true, keepalive_head, 0, strlen(keepalive_head));
	ck_assert_uint_eq(c->track.requests, 2);
}
END_TEST

START_TEST(test_tls_hello_outside_a_session)
{
	/* No TLS call on this thread: a library keepwarm does not reach. */
	ck_assert_int_eq(program_sends_n(hello, HELLO_LEN), (ssize_t)HELLO_LEN);
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("event=passthrough fd=700 dest=127.0.0.1:8080 reason=tls-unbound"));
	ck_assert(!traced("event=tls"));
}
END_TEST

START_TEST(test_tls_hello_on_another_socket)
{
	/* The program named another socket for the session. */
	kw_tls_transport(KW_TLS_OPENSSL, &session, PROGRAM_FD + 1);
	handshake_sends_hello();
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("reason=tls-unbound"));
}
END_TEST

START_TEST(test_tls_transport_changed)
{
	handshake_sends_hello();
	ck_assert(c->watch_only);
	kw_tls_transport(KW_TLS_OPENSSL, &session, -1); /* SSL_set_bio, say */
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("event=taint fd=700 dest=127.0.0.1:8080 tls=1 reason=tls-transport-changed"));
}
END_TEST

START_TEST(test_tls_close_notify_ends_response)
{
	static const char to_eof[] = "HTTP/1.0 200 OK\r\n\r\nall until the end";

	handshake_sends_hello();
	plain(true, keepalive_head, 0, strlen(keepalive_head));
	plain(false, to_eof, 0, strlen(to_eof));
	ck_assert_uint_eq(c->track.responses, 0);
	kw_tls_end(KW_TLS_OPENSSL, &session, KW_REASON_SERVER_CLOSED, true);
	ck_assert_uint_eq(c->track.responses, 1);
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("event=discard fd=700 dest=127.0.0.1:8080 tls=1 reason=server-closed requests=1"));
}
END_TEST

START_TEST(test_tls_second_handshake_lets_go)
{
	struct kw_tls_call outer;

	handshake_sends_hello();
	kw_tls_handshaken(KW_TLS_GNUTLS, &session, KW_REASON_NONE); /* another library's: no effect */
	kw_tls_handshaken(KW_TLS_OPENSSL, &session, KW_REASON_NONE);
	ck_assert(!kw_tls_handshake_begin(&outer, KW_TLS_OPENSSL, &session));
	kw_tls_call_leave(&outer);
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("reason=tls-renegotiation"));
}
END_TEST

/* A fork child never follows a session its parent follows. */
START_TEST(test_tls_fork_child_forgets)
{
	int status;
	pid_t pid;

	handshake_sends_hello();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		plain(true, keepalive_head, 0, strlen(keepalive_head));
		_exit(c->track.requests == 0 && kw_tls_sessions.n == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent goes on following it. */
	plain(true, keepalive_head, 0, strlen(keepalive_head));
	ck_assert_uint_eq(c->track.requests, 1);
}
END_TEST

/* KEEPWARM_TLS_HANDSHAKE_TIMEOUT: the shorter limit wins; a session that
 * cannot wait on one is left alone; looked at once per session. */
START_TEST(test_tls_handshake_limit)
{
	static int a, b, c2, d;

	ck_assert_uint_eq(kw_tls_handshake_limit(KW_TLS_GNUTLS, &a), 0); /* off */
	kw_cfg.tls_handshake_timeout_ms = 300;
	ck_assert_uint_eq(kw_tls_handshake_limit(KW_TLS_GNUTLS, &a), 300);
	ck_assert_uint_eq(kw_tls_handshake_limit(KW_TLS_GNUTLS, &a), 0); /* once */
	kw_tls_note_timeout(KW_TLS_GNUTLS, &b, 200); /* the program's own is shorter */
	ck_assert_uint_eq(kw_tls_handshake_limit(KW_TLS_GNUTLS, &b), 0);
	kw_tls_note_timeout(KW_TLS_GNUTLS, &c2, 40000);
	kw_tls_note_pull(KW_TLS_GNUTLS, &c2, false); /* its own pull function alone */
	ck_assert_uint_eq(kw_tls_handshake_limit(KW_TLS_GNUTLS, &c2), 0);
	kw_tls_note_pull(KW_TLS_GNUTLS, &d, false);
	kw_tls_note_pull(KW_TLS_GNUTLS, &d, true); /* ...and a pull-timeout one */
	ck_assert_uint_eq(kw_tls_handshake_limit(KW_TLS_GNUTLS, &d), 300);
	kw_cfg.tls_handshake_timeout_ms = 0;
}
END_TEST

START_TEST(test_tls_alpn_veto)
{
	handshake_sends_hello();
	kw_tls_handshaken(KW_TLS_OPENSSL, &session, KW_REASON_TLS_ALPN);
	ck_assert_int_eq(atomic_load(&s->kind), KW_FD_NONE);
	ck_assert(traced("event=passthrough fd=700 dest=127.0.0.1:8080 tls=1 reason=tls-alpn"));
}
END_TEST

/* No cancellation point inside keepwarm may unwind with one of its locks
 * held: while a lock is held, cancellation is off; the program's state comes
 * back with the last unlock. */
START_TEST(test_locks_keep_cancellation_off)
{
	int state;

	kw_slot_lock(s);
	kw_private_lock();
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &state);
	ck_assert_int_eq(state, PTHREAD_CANCEL_DISABLE);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	kw_private_unlock();
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	ck_assert_int_eq(state, PTHREAD_CANCEL_DISABLE); /* the slot lock is still held */
	kw_slot_unlock(s);
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &state);
	ck_assert_int_eq(state, PTHREAD_CANCEL_ENABLE);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("stream");
	TCase *tc = tcase_create("stream");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_upgrade_restore_eof_at_end);
	tcase_add_test(tc, test_no_upgrade_without_setting);
	tcase_add_test(tc, test_replay_after_early_eof);
	tcase_add_test(tc, test_no_replay_once_answered);
	tcase_add_test(tc, test_fresh_for_unsafe_request);
	tcase_add_test(tc, test_watch_only_feeds_nothing);
	tcase_add_test(tc, test_plain_stream_lets_go_of_garbage);
	tcase_add_test(tc, test_tls_session_feeds_plaintext);
	tcase_add_test(tc, test_tls_hello_outside_a_session);
	tcase_add_test(tc, test_tls_hello_on_another_socket);
	tcase_add_test(tc, test_tls_transport_changed);
	tcase_add_test(tc, test_tls_close_notify_ends_response);
	tcase_add_test(tc, test_tls_second_handshake_lets_go);
	tcase_add_test(tc, test_tls_fork_child_forgets);
	tcase_add_test(tc, test_tls_handshake_limit);
	tcase_add_test(tc, test_tls_alpn_veto);
	tcase_add_test(tc, test_locks_keep_cancellation_off);
	suite_add_tcase(suite, tc);
	sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
