/* http_track.h - follows the HTTP/1.x exchange on one connection.
 *
 * Pure logic over Debian's libhttp-parser. The shim feeds it the bytes the
 * program actually wrote (request side) and actually consumed (response side,
 * never MSG_PEEK data); a TLS layer can feed plaintext through the same calls.
 * It answers one question at close(): is the connection idle at a message
 * boundary, with every response read and the server willing to keep it open?
 * Anything it cannot follow makes it let go for good (KW_TRACK_LET_GO) with a
 * reason from the catalogue; the caller then stops feeding it. */
#ifndef KW_HTTP_TRACK_H
#define KW_HTTP_TRACK_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "logic/catalog.h"

#define KW_TRACK_MAX_PENDING 32  /* pipelined requests awaiting a response */
#define KW_TRACK_HDR_MAX     64  /* bytes kept of a Keep-Alive header value */

enum kw_track_status {
	KW_TRACK_FOLLOWING = 0, /* HTTP/1.x so far (or nothing seen yet) */
	KW_TRACK_LET_GO    = 1, /* stop following: never pool this connection */
};

/* A final response was read to its end: request_us since its request's first
 * byte, wait_us since the program asked for it (see asked_us). */
typedef void (*kw_answer_fn)(void *arg, uint64_t request_us, uint64_t wait_us);

struct kw_track {
	http_parser request, response;
	enum kw_track_status status;
	enum kw_reason reason;       /* why it let go */
	bool     saw_request;        /* first request bytes were HTTP/1.x */
	bool     request_open;       /* inside a request message */
	bool     response_open;      /* inside a response message */
	bool     request_is_head;    /* set while parsing the current request */
	bool     close_requested;    /* a request asked the server to close: followed, never reused */
	uint8_t  pending_head[KW_TRACK_MAX_PENDING]; /* FIFO: 1 = HEAD request */
	unsigned pending_first, pending_count;
	uint32_t requests;           /* requests whose headers were written */
	uint32_t responses;          /* final responses fully read */
	int      ka_timeout_s;       /* last response's Keep-Alive timeout=, -1 if none */
	int      ka_max;             /* last response's Keep-Alive max=, -1 if none */
	/* Keep-Alive header capture, across callback splits. */
	uint8_t  hdr_state;
	uint8_t  hdr_match;
	uint8_t  ka_len;
	char     ka_value[KW_TRACK_HDR_MAX];
	/* Latency observation: the caller sets now_us before each feed, and
	 * asked_us to when the program asked for the connection (its connect()).
	 * The observer hears of every final response with the time since its
	 * request's first byte was written, and the time the program waited:
	 * since asked_us for the first request, since its first byte for later
	 * ones. */
	uint64_t now_us;
	uint64_t asked_us;           /* 0 once the first request has used it */
	uint64_t request_begin_us, request_asked_us;
	uint64_t pending_start_us[KW_TRACK_MAX_PENDING];
	uint64_t pending_asked_us[KW_TRACK_MAX_PENDING];
	kw_answer_fn on_answer;
	void    *answer_arg;
};

/* Start following a new connection. */
void kw_track_init(struct kw_track *t);

/* Hear of every final response (fn may be NULL). Survives nothing: set it
 * again after kw_track_init. */
void kw_track_set_observer(struct kw_track *t, kw_answer_fn fn, void *arg);

/* When the oldest unanswered request (the one being written when none waits)
 * began and when its wait began: a request sent again keeps them. */
void kw_track_oldest_times(const struct kw_track *t, uint64_t *begin_us, uint64_t *asked_us);

/* Bytes the program wrote, in order. Returns the status after them. */
enum kw_track_status kw_track_request(struct kw_track *t, const void *buf, size_t len);

/* The first n bytes spread over iov, as written by writev/sendmsg. */
enum kw_track_status kw_track_request_iov(struct kw_track *t, const struct iovec *iov,
                                          int iovcnt, size_t n);

/* Bytes the program consumed from the socket, in order. */
enum kw_track_status kw_track_response(struct kw_track *t, const void *buf, size_t len);

/* The first n bytes spread over iov, as read by readv/recvmsg. */
enum kw_track_status kw_track_response_iov(struct kw_track *t, const struct iovec *iov,
                                           int iovcnt, size_t n);

/* The program read end-of-file: ends a close-delimited body; the connection is
 * not reusable afterwards in any case. */
void kw_track_response_eof(struct kw_track *t);

/* Stop following for a reason found outside the byte stream (an error, an
 * unmodelled call). Keeps the first reason. */
void kw_track_let_go(struct kw_track *t, enum kw_reason reason);

/* True when at least one request was answered, every request has its final
 * response fully read, no message is half-written or half-read, the server
 * allowed keep-alive for every response, and the tracker still follows. */
bool kw_track_reusable(const struct kw_track *t);

/* Bytes of the open response's body still to come, when Content-Length
 * declares them (while its head is read: the declared length, once seen);
 * -1 when not known: no response open, a chunked or close-delimited body. */
long long kw_track_response_left(const struct kw_track *t);

/* Why the connection is not reusable now (KW_REASON_NONE when it is). */
enum kw_reason kw_track_why_not(const struct kw_track *t);

#endif
