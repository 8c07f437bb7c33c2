/* upgrade.h - reading and rewriting one request head, before it is sent,
 * and the response head that comes back.
 *
 * Pure logic for the close-style work: a request that asks the server to
 * close (`Connection: close`, or HTTP/1.0 without keep-alive) is upgraded to
 * keep-alive so the connection can be reused, and a request is classified as
 * replayable or not before it may travel on a reused connection. Only a head
 * that is complete in one buffer is considered; anything else is left alone.
 *
 * libhttp-parser, the tracker's parser, reads every field (method, version,
 * Content-Length, chunked, keep-alive or close); the code here only finds
 * byte positions and filters out heads that not every parser reads alike. */
#ifndef KW_UPGRADE_H
#define KW_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

#define KW_HEAD_MAX 16384 /* larger heads are never rewritten */

struct kw_head {
	size_t len;             /* bytes of request line + headers + blank line */
	int minor;              /* HTTP/1.<minor> */
	bool close_style;       /* the client expects the server to close after the response */
	bool keep_alive_token;  /* a Connection header names keep-alive */
	bool rewritable;        /* every parser reads its Connection headers alike */
	bool idempotent;        /* method is idempotent (RFC 9110 9.2.2); also set
	                         * for an incomplete head once its method is read */
	bool idempotency_key;   /* an Idempotency-Key header is present */
	bool chunked;           /* Transfer-Encoding: chunked body */
	long long content_length; /* -1 when absent */
};

enum kw_head_status {
	KW_HEAD_INCOMPLETE, /* no complete head at the start of buf */
	KW_HEAD_MALFORMED,  /* not a head we understand: leave the request alone */
	KW_HEAD_OK,
};

/* Parse the request head at the start of buf. Fields are meaningful for
 * KW_HEAD_OK; for KW_HEAD_INCOMPLETE only idempotent is (the method). */
enum kw_head_status kw_head_parse(const char *buf, size_t len, struct kw_head *h);

/* May the request travel on a reused connection, and so be sent again once
 * if that connection turns out dead? An idempotent method or an
 * Idempotency-Key, no chunked body, head and body within max bytes; a head
 * still being written is judged by its method alone. */
bool kw_head_replayable(enum kw_head_status st, const struct kw_head *h, size_t max);

/* Write the keep-alive version of a close-style head into out: the `close`
 * token removed from every Connection header (a header left empty is dropped),
 * and for HTTP/1.0 without keep-alive a `Connection: keep-alive` line added.
 * The request line and every other header stay byte for byte. Returns the new
 * length, or 0 when h is not close-style or not rewritable, out is too small,
 * or libhttp-parser would not read the result as keep-alive. */
size_t kw_head_upgrade(const char *buf, const struct kw_head *h, char *out, size_t cap);

/* The length of the response head at the start of buf when it is complete
 * within len bytes and libhttp-parser reads it as a final (not 1xx) HTTP/1.x
 * response head; 0 otherwise (incomplete, interim, or not understood). */
size_t kw_response_head_final(const char *buf, size_t len);

/* In a response head the server sent to an upgraded request, put back what
 * it says to a close-style one: a Connection header's keep-alive token
 * becomes close, Keep-Alive headers go. buf holds len bytes beginning with a
 * complete head of head_len bytes; what follows the head moves up. Only ever
 * shrinks. Returns the new length (len when nothing applied). */
size_t kw_response_restore_close(char *buf, size_t head_len, size_t len);

/* True when a libhttp-parser method (enum http_method) is idempotent per
 * RFC 9110 9.2.2. */
bool kw_method_idempotent(unsigned method);

#endif
