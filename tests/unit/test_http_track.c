/* test_http_track.c - unit tests for shim/logic/http_track.h.
 *
 * Every exchange below is a list of steps (bytes the program wrote, bytes it
 * read, or end-of-file) with the verdict expected after the last step and,
 * optionally, after individual steps. Each exchange is fed whole, byte by
 * byte, split in two at every point, at seeded pseudo-random splits (with
 * zero-length feeds mixed in) and through the _iov calls with random iovec
 * layouts (including zero-length segments and bytes beyond n); the verdict
 * must be the same every way. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logic/http_track.h"

/* Reasons as the trace writes them. */
#define WHY_NOT(t) kw_reason_name(kw_track_why_not(t))
#define REASON(t) kw_reason_name((t)->reason)

/* ---- exchanges ----------------------------------------------------------- */

enum dir { END = 0, REQ, RESP, EOFR };

#define ANY    (-1)   /* reusable / status / counters: not checked */
#define KA_ANY (-2)   /* ka_timeout_s / ka_max: not checked */
#define FOL    KW_TRACK_FOLLOWING
#define LETGO  KW_TRACK_LET_GO
#define MAXSTEPS 8

struct step {
	enum dir dir;
	const char *data;
	size_t len;
	int after; /* reusable after this step: 0, 1 or ANY */
};

struct exchange {
	const char *name;
	int reusable;       /* after the last step */
	int status;         /* after the last step, or ANY */
	int requests;       /* t->requests when still following, or ANY */
	int responses;      /* t->responses when still following, or ANY */
	int ka_timeout, ka_max; /* when still following, or KA_ANY */
	struct step steps[MAXSTEPS];
};

#define RQ(s, a) { REQ, s, sizeof(s) - 1, a }
#define RS(s, a) { RESP, s, sizeof(s) - 1, a }
#define EF(a)    { EOFR, NULL, 0, a }

#define GET    "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
#define GET_A  "GET /a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
#define GET_B  "GET /b?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"
#define HEAD   "HEAD /h HTTP/1.1\r\nHost: example.com\r\n\r\n"
#define OK5    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
#define OK0    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
#define OK_B   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc"

#define CLIENT_HELLO                                                                     \
	"\x16\x03\x01\x00\x45\x01\x00\x00\x41\x03\x03"                                   \
	"\x5b\x1a\x9c\x04\x77\x23\x88\xe1\x10\x42\x99\x0f\x3c\x6d\x71\xa2"               \
	"\x05\x61\x2f\xee\x90\x13\x57\xcc\x8e\x34\x26\x01\xbd\x7a\x48\x0e"               \
	"\x00\x00\x04\x13\x01\x13\x02\x01\x00\x00\x14\x00\x00\x00\x10\x00\x0e\x00\x00"   \
	"\x0b" "example.com"

static struct exchange exchanges[] = {
	/* ---- reusable ---- */
	{ "content-length", 1, FOL, 1, 1, -1, -1, { RQ(GET, 0), RS(OK5, 1) } },
	{ "content-length-zero", 1, FOL, 1, 1, -1, -1, { RQ(GET, 0), RS(OK0, 1) } },
	{ "response-connection-keep-alive", 1, FOL, 1, 1, -1, -1,
	  { RQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", 0),
	    RS("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 1) } },
	{ "post-content-length-body", 1, FOL, 1, 1, -1, -1,
	  { RQ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world", 0),
	    RS("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 1) } },
	{ "post-chunked-request-body", 1, FOL, 1, 1, -1, -1,
	  { RQ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0),
	    RS(OK0, 1) } },
	{ "chunked-with-trailers", 1, FOL, 1, 1, -1, -1,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
	       "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 42\r\nX-Trailer: yes\r\n\r\n", 1) } },
	{ "chunked-no-trailers", 1, FOL, 1, 1, -1, -1,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", 1) } },
	{ "head-with-content-length", 1, FOL, 1, 1, -1, -1,
	  { RQ(HEAD, 0), RS("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 1) } },
	{ "head-with-chunked", 1, FOL, 1, 1, -1, -1,
	  { RQ(HEAD, 0), RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1) } },
	{ "head-then-get-pipelined", 1, FOL, 2, 2, -1, -1,
	  { RQ(HEAD GET_B, 0),
	    RS("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 0),
	    RS(OK_B, 1) } },
	{ "get-then-head-pipelined", 1, FOL, 2, 2, -1, -1,
	  { RQ(GET_B HEAD, 0),
	    RS(OK_B "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 1) } },
	{ "100-continue", 1, FOL, 1, 1, -1, -1,
	  { RQ("PUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n", 0),
	    RS("HTTP/1.1 100 Continue\r\n\r\n", 0),
	    RQ("data", 0),
	    RS("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 1) } },
	{ "103-early-hints-then-200", 1, FOL, 1, 1, -1, -1,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", 0),
	    RS("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 1) } },
	{ "1xx-and-final-in-one-read", 1, FOL, 1, 1, -1, -1,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
	       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 1) } },
	{ "204", 1, FOL, 1, 1, -1, -1,
	  { RQ(GET, 0), RS("HTTP/1.1 204 No Content\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n", 1) } },
	{ "304-with-content-length", 1, FOL, 1, 1, -1, -1,
	  { RQ("GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n\r\n", 0),
	    RS("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 1234\r\n\r\n", 1) } },
	{ "pipelined-one-write", 1, FOL, 2, 2, -1, -1,
	  { RQ(GET_A GET_B, 0), RS(OK5, 0), RS(OK_B, 1) } },
	{ "pipelined-two-writes-one-read", 1, FOL, 2, 2, -1, -1,
	  { RQ(GET_A, 0), RQ(GET_B, 0), RS(OK5 OK_B, 1) } },
	{ "pipelined-response-between-writes", 1, FOL, 3, 3, -1, -1,
	  { RQ(GET_A GET_B, 0), RS(OK5, 0), RQ(GET, 0), RS(OK_B, 0), RS(OK0, 1) } },
	{ "sequential", 1, FOL, 2, 2, -1, -1,
	  { RQ(GET_A, 0), RS(OK5, 1), RQ(GET_B, 0), RS(OK_B, 1) } },
	{ "http10-keep-alive", 1, FOL, 1, 1, -1, -1,
	  { RQ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0),
	    RS("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello", 1) } },
	{ "connection-keep-alive-te-list", 1, FOL, 1, 1, -1, -1,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nConnection: keep-alive, TE\r\nContent-Length: 2\r\n\r\nok", 1) } },
	{ "keep-alive-header", 1, FOL, 1, 1, 5, 3,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=3\r\nContent-Length: 0\r\n\r\n", 1) } },
	{ "keep-alive-header-lowercase-reordered", 1, FOL, 1, 1, 7, 90,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nkeep-alive: max=90, timeout=7\r\n\r\nok", 1) } },
	{ "keep-alive-timeout-only", 1, FOL, 1, 1, 15, -1,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=15\r\nContent-Length: 0\r\n\r\n", 1) } },
	{ "keep-alive-last-response-wins", 1, FOL, 2, 2, 9, 1,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=3\r\nContent-Length: 0\r\n\r\n", 1),
	    RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=9, max=1\r\nContent-Length: 0\r\n\r\n", 1) } },
	{ "keep-alive-absent-in-last-response", 1, FOL, 2, 2, -1, -1,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=3\r\nContent-Length: 0\r\n\r\n", 1),
	    RQ(GET, 0), RS(OK0, 1) } },
	{ "keep-alive-in-request-ignored", 1, FOL, 1, 1, -1, -1,
	  { RQ("GET / HTTP/1.1\r\nHost: a\r\nKeep-Alive: timeout=300, max=50\r\n"
	       "Connection: keep-alive\r\n\r\n", 0),
	    RS(OK5, 1) } },
	{ "keep-alive-lookalike-headers-ignored", 1, FOL, 1, 1, -1, -1,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nX-Keep-Alive: timeout=9, max=9\r\nKeep-Alive-Ext: timeout=8\r\n"
	       "Content-Length: 0\r\n\r\n", 1) } },
	{ "keep-alive-long-value", 1, FOL, 1, 1, KA_ANY, KA_ANY,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=3, x=0123456789012345678901234567890"
	       "123456789012345678901234567890123456789012345678901234567890123456789\r\n"
	       "Content-Length: 0\r\n\r\n", 1) } },
	{ "long-headers", 1, FOL, 1, 1, -1, -1,
	  { RQ("GET / HTTP/1.1\r\nHost: a\r\nCookie: "
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	       "\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n", 0),
	    RS("HTTP/1.1 200 OK\r\nServer: test\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
	       "Cache-Control: no-cache, no-store, must-revalidate\r\nContent-Length: 5\r\n\r\nhello", 1) } },

	{ "upgrade-advertised-on-200", 1, FOL, 1, 1, -1, -1,
	  /* Apache with mod_http2 announces h2c on plain responses: informational. */
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nConnection: Upgrade\r\nContent-Length: 5\r\n"
	       "\r\nhello", 1) } },
	{ "extra-crlf-after-request-body", 1, FOL, 1, 1, -1, -1,
	  /* RFC 9112 2.2: an empty line before a request line is ignored. */
	  { RQ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab\r\n", 0), RS(OK0, 1) } },

	/* ---- not reusable, still HTTP ---- */
	{ "chunked-and-content-length", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0),
	    RS("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "5\r\nhello\r\n0\r\n\r\n", 0) } },
	{ "unsolicited-response-in-later-read", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS(OK5, 1), RS(OK0, 0) } },
	{ "close-delimited-then-eof", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome body bytes", 0), EF(0) } },
	{ "close-delimited-no-eof", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome body bytes", 0) } },
	{ "no-length-no-connection-header", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody", 0), EF(0) } },
	{ "transfer-encoding-not-chunked", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b\x08", 0), EF(0) } },
	{ "content-length-with-connection-close", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 0) } },
	{ "http10-response-no-keep-alive", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0) } },
	{ "http10-response-close-delimited", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("GET / HTTP/1.0\r\n\r\n", 0), RS("HTTP/1.0 200 OK\r\n\r\nbody until close", 0), EF(0) } },
	{ "request-connection-close", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0), RS(OK5, 0) } },
	{ "request-connection-te-close", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nConnection: TE, close\r\n\r\n", 0),
	    RS(OK5, 0) } },
	{ "response-connection-te-close", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nConnection: TE, close\r\nContent-Length: 2\r\n\r\nok", 0) } },
	{ "close-on-second-pipelined-response", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET_A GET_B, 0), RS(OK5, 0),
	    RS("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc", 0) } },
	{ "close-on-first-pipelined-response", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET_A GET_B, 0),
	    RS("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello", 0),
	    RS(OK_B, 0) } },
	{ "extra-bytes-after-response", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS(OK5 "GARBAGE", 0) } },
	{ "extra-bytes-in-later-read", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS(OK5, 1), RS("GARBAGE", 0) } },
	{ "two-responses-for-one-request", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS(OK5 OK0, 0) } },

	/* ---- half-done: following, not reusable ---- */
	{ "no-request-yet", 0, FOL, 0, 0, -1, -1, { { END, NULL, 0, 0 } } },
	{ "request-only", 0, FOL, 1, 0, -1, -1, { RQ(GET, 0) } },
	{ "request-headers-half-written", 0, FOL, ANY, 0, -1, -1,
	  { RQ("GET / HTTP/1.1\r\nHost: a\r\n", 0) } },
	{ "request-body-half-written", 0, ANY, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", 0), RS(OK0, 0) } },
	{ "response-headers-half-read", 0, FOL, 1, 0, ANY, ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", 0) } },
	{ "response-body-half-read", 0, FOL, 1, 0, ANY, ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 0) } },
	{ "response-chunk-half-read", 0, FOL, 1, 0, ANY, ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", 0) } },
	{ "interim-only", 0, FOL, 1, 0, ANY, ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 100 Continue\r\n\r\n", 0) } },
	{ "pipelined-first-answered", 0, FOL, 2, 1, -1, -1,
	  { RQ(GET_A GET_B, 0), RS(OK5, 0) } },

	/* ---- let go ---- */
	{ "upgrade-websocket", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 0),
	    RS("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05hello", 0),
	    RQ("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 0) } },
	{ "upgrade-h2c-101", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
	       "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", 0),
	    RS("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
	       "\x00\x00\x00\x04\x00\x00\x00\x00\x00", 0) } },
	{ "101-response", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n", 0) } },
	{ "connect", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 0),
	    RS("HTTP/1.1 200 Connection Established\r\n\r\n", 0),
	    RQ(CLIENT_HELLO, 0) } },
	{ "tls-client-hello", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY, { RQ(CLIENT_HELLO, 0) } },
	{ "http2-preface", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0) } },
	{ "binary-protocol", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("\x00\x00\x00\x2a\x01\x02\x03\x04\xff\xfe\x00\x01", 0) } },
	{ "redis-protocol", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ("*1\r\n$4\r\nPING\r\n", 0) } },
	{ "malformed-status-line", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 abc OK\r\n\r\n", 0) } },
	{ "malformed-version", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTX/9 ???\r\n\r\n", 0) } },
	{ "malformed-content-length", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", 0) } },
	{ "duplicate-content-length", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 0) } },
	{ "malformed-chunk-size", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n", 0) } },
	{ "non-http-response", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RQ(GET, 0), RS("SSH-2.0-OpenSSH_9.2\r\n", 0) } },
	{ "response-before-request", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY, { RS(OK0, 0) } },
	{ "server-greeting-before-request", 0, LETGO, ANY, ANY, KA_ANY, KA_ANY,
	  { RS("220 mail.example.com ESMTP ready\r\n", 0) } },

	/* ---- built at start-up (see build_dynamic) ---- */
	{ "pipelined-32", 1, FOL, 32, 32, -1, -1, { { END, NULL, 0, 0 } } },
	{ "pipelined-rounds-head-get", 1, FOL, 60, 60, -1, -1, { { END, NULL, 0, 0 } } },
};

#define N_EXCHANGES ((int)(sizeof exchanges / sizeof exchanges[0]))

static char dyn_buf[4][8192];

static struct exchange *find_exchange(const char *name)
{
	for (int i = 0; i < N_EXCHANGES; i++)
		if (strcmp(exchanges[i].name, name) == 0)
			return &exchanges[i];
	ck_abort_msg("no exchange %s", name);
	return NULL;
}

static void build_dynamic(void)
{
	/* 32 pipelined requests (the documented maximum pending), 32 answers. */
	struct exchange *x = find_exchange("pipelined-32");
	size_t rq = 0, rs = 0;
	for (int i = 0; i < KW_TRACK_MAX_PENDING; i++) {
		rq += (size_t)sprintf(dyn_buf[0] + rq, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
		rs += (size_t)sprintf(dyn_buf[1] + rs, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%.*s",
		                      i % 7, i % 7, "abcdefg");
	}
	x->steps[0] = (struct step){ REQ, dyn_buf[0], rq, 0 };
	x->steps[1] = (struct step){ RESP, dyn_buf[1], rs, 1 };

	/* Three rounds of 20 pipelined requests alternating HEAD and GET, so the
	 * pending FIFO wraps around. */
	x = find_exchange("pipelined-rounds-head-get");
	rq = rs = 0;
	for (int i = 0; i < 20; i++) {
		bool head = i % 2 == 0;
		rq += (size_t)sprintf(dyn_buf[2] + rq, "%s /%d HTTP/1.1\r\nHost: a\r\n\r\n",
		                      head ? "HEAD" : "GET", i);
		if (head)
			rs += (size_t)sprintf(dyn_buf[3] + rs, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
		else
			rs += (size_t)sprintf(dyn_buf[3] + rs,
			                      "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody");
	}
	for (int r = 0; r < 3; r++) {
		x->steps[2 * r] = (struct step){ REQ, dyn_buf[2], rq, 0 };
		x->steps[2 * r + 1] = (struct step){ RESP, dyn_buf[3], rs, 1 };
	}
}

/* ---- feeding ------------------------------------------------------------- */

enum mode { M_WHOLE, M_BYTES, M_SPLIT2, M_RANDOM, M_IOV, M_IOV_RANDOM };
static const char *const mode_names[] = { "whole", "byte-by-byte", "split-in-two", "random",
                                          "iov", "iov-random" };

struct feeder {
	enum mode mode;
	int split_step;    /* M_SPLIT2 */
	size_t split_at;
	uint64_t seed, rng;
	char desc[160];
};

struct result {
	int status;
	bool reusable;
	uint32_t requests, responses;
	int ka_timeout, ka_max;
};

static uint64_t rnd(struct feeder *f)
{
	/* xorshift64* */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ULL;
}

static size_t rnd_below(struct feeder *f, size_t n)
{
	return n ? (size_t)(rnd(f) % n) : 0;
}

static void check_invariants(const struct kw_track *t, const char *ctx)
{
	bool r = kw_track_reusable(t);
	const char *why = WHY_NOT(t);
	ck_assert_msg(why != NULL, "%s: why_not NULL", ctx);
	ck_assert_msg(r == (why[0] == '\0'), "%s: reusable %d but why_not \"%s\"", ctx, r, why);
	ck_assert_msg(t->status == KW_TRACK_FOLLOWING || t->status == KW_TRACK_LET_GO,
	              "%s: bad status %d", ctx, t->status);
	if (r)
		ck_assert_msg(t->status == KW_TRACK_FOLLOWING, "%s: reusable but let go", ctx);
	if (t->status == KW_TRACK_LET_GO)
		ck_assert_msg(REASON(t)[0] != '\0', "%s: let go without reason",
		              ctx);
}

static char garbage[64] = "!!GARBAGE-BEYOND-N!!GARBAGE-BEYOND-N!!GARBAGE-BEYOND-N!!";

/* Feed p[0..n) of a step whose bytes continue up to p[avail), through the
 * iov call, spread over a random iovec layout: zero-length segments here and
 * there, and segments past n (the rest of the step, then garbage) that the
 * tracker must not look at. */
static enum kw_track_status feed_iov(struct kw_track *t, enum dir dir, const char *p, size_t n,
                                     size_t avail, struct feeder *f)
{
	struct iovec iov[80];
	int cnt = 0;
	size_t off = 0;
	while (off < n && cnt < 60) {
		if (rnd_below(f, 6) == 0) {
			iov[cnt].iov_base = rnd_below(f, 2) ? NULL : (void *)(p + off);
			iov[cnt].iov_len = 0;
			cnt++;
			continue;
		}
		size_t seg = 1 + rnd_below(f, rnd_below(f, 2) ? 4 : n - off);
		if (seg > n - off)
			seg = n - off;
		iov[cnt].iov_base = (void *)(p + off);
		iov[cnt].iov_len = seg;
		cnt++;
		off += seg;
	}
	if (off < n) { /* the rest in one */
		iov[cnt].iov_base = (void *)(p + off);
		iov[cnt].iov_len = n - off;
		cnt++;
	}
	/* Beyond n: extend the last segment into the step's following bytes, or
	 * add segments of garbage. */
	if (avail > n && rnd_below(f, 2) && cnt > 0 &&
	    (char *)iov[cnt - 1].iov_base + iov[cnt - 1].iov_len == p + n)
		iov[cnt - 1].iov_len += 1 + rnd_below(f, avail - n);
	if (rnd_below(f, 2)) {
		iov[cnt].iov_base = garbage;
		iov[cnt].iov_len = 1 + rnd_below(f, sizeof garbage - 1);
		cnt++;
	}
	if (rnd_below(f, 3) == 0) {
		iov[cnt].iov_base = NULL;
		iov[cnt].iov_len = 0;
		cnt++;
	}
	return dir == REQ ? kw_track_request_iov(t, iov, cnt, n)
	                  : kw_track_response_iov(t, iov, cnt, n);
}

static void feed_bytes(struct kw_track *t, enum dir dir, const char *p, size_t n, size_t avail,
                       struct feeder *f, bool iov)
{
	enum kw_track_status st;
	if (iov)
		st = feed_iov(t, dir, p, n, avail, f);
	else
		st = dir == REQ ? kw_track_request(t, p, n) : kw_track_response(t, p, n);
	ck_assert_msg(st == t->status, "%s: returned %d, status %d", f->desc, st, t->status);
}

static void run_exchange(const struct exchange *x, struct feeder *f, struct result *res)
{
	struct kw_track t;
	char ctx[256];
	int nsteps = 0;
	while (nsteps < MAXSTEPS && x->steps[nsteps].dir != END)
		nsteps++;

	memset(&t, 0xCC, sizeof t);
	kw_track_init(&t);
	snprintf(ctx, sizeof ctx, "%s [%s] init", x->name, f->desc);
	check_invariants(&t, ctx);
	ck_assert_msg(!kw_track_reusable(&t), "%s: reusable before any request", ctx);
	f->rng = f->seed * 0x9E3779B97F4A7C15ULL + 1;
	bool iov = f->mode == M_IOV || f->mode == M_IOV_RANDOM;

	for (int i = 0; i < nsteps; i++) {
		const struct step *s = &x->steps[i];
		bool last_of_reusable = i == nsteps - 1 && x->reusable == 1;
		if (s->dir == EOFR) {
			if (t.status != KW_TRACK_LET_GO)
				kw_track_response_eof(&t);
		} else {
			size_t off = 0;
			while (off < s->len && t.status != KW_TRACK_LET_GO) {
				size_t n;
				switch (f->mode) {
				case M_BYTES:
					n = 1;
					break;
				case M_SPLIT2:
					n = (i == f->split_step && off == 0) ? f->split_at : s->len - off;
					break;
				case M_RANDOM:
				case M_IOV_RANDOM:
					if (rnd_below(f, 8) == 0) /* zero-length feed: a no-op */
						feed_bytes(&t, s->dir, s->data + off, 0, s->len, f, iov);
					switch (rnd_below(f, 4)) {
					case 0: n = 1; break;
					case 1: n = 1 + rnd_below(f, 8); break;
					case 2: n = 1 + rnd_below(f, s->len / 2 + 1); break;
					default: n = s->len - off; break;
					}
					if (n > s->len - off)
						n = s->len - off;
					break;
				default:
					n = s->len;
					break;
				}
				feed_bytes(&t, s->dir, s->data + off, n, s->len - off, f, iov);
				off += n;
				snprintf(ctx, sizeof ctx, "%s [%s] step %d after %zu/%zu bytes", x->name,
				         f->desc, i, off, s->len);
				check_invariants(&t, ctx);
				if (last_of_reusable && off < s->len)
					ck_assert_msg(!kw_track_reusable(&t),
					              "%s: reusable before the last response is complete", ctx);
			}
		}
		snprintf(ctx, sizeof ctx, "%s [%s] after step %d", x->name, f->desc, i);
		check_invariants(&t, ctx);
		if (s->after != ANY && i < nsteps - 1)
			ck_assert_msg(kw_track_reusable(&t) == (s->after == 1),
			              "%s: reusable %d, want %d (why_not \"%s\")", ctx,
			              kw_track_reusable(&t), s->after, WHY_NOT(&t));
	}

	snprintf(ctx, sizeof ctx, "%s [%s] end", x->name, f->desc);
	res->status = t.status;
	res->reusable = kw_track_reusable(&t);
	res->requests = t.requests;
	res->responses = t.responses;
	res->ka_timeout = t.ka_timeout_s;
	res->ka_max = t.ka_max;

	ck_assert_msg(res->reusable == (x->reusable == 1),
	              "%s: reusable %d, want %d (status %d, why_not \"%s\", reason \"%s\")", ctx,
	              res->reusable, x->reusable, t.status, WHY_NOT(&t), REASON(&t));
	if (x->status != ANY)
		ck_assert_msg(res->status == x->status, "%s: status %d, want %d (why_not \"%s\")", ctx,
		              res->status, x->status, WHY_NOT(&t));
	if (t.status == KW_TRACK_FOLLOWING) {
		if (x->requests != ANY)
			ck_assert_msg(res->requests == (uint32_t)x->requests, "%s: requests %u, want %d",
			              ctx, res->requests, x->requests);
		if (x->responses != ANY)
			ck_assert_msg(res->responses == (uint32_t)x->responses,
			              "%s: responses %u, want %d", ctx, res->responses, x->responses);
		if (x->ka_timeout != KA_ANY)
			ck_assert_msg(res->ka_timeout == x->ka_timeout, "%s: ka_timeout_s %d, want %d",
			              ctx, res->ka_timeout, x->ka_timeout);
		if (x->ka_max != KA_ANY)
			ck_assert_msg(res->ka_max == x->ka_max, "%s: ka_max %d, want %d", ctx,
			              res->ka_max, x->ka_max);
	}
}

/* Run in mode f and compare with the whole-feed verdict. */
static void run_and_compare(const struct exchange *x, struct feeder *f)
{
	struct feeder whole = { .mode = M_WHOLE };
	struct result a, b;
	snprintf(whole.desc, sizeof whole.desc, "whole");
	run_exchange(x, &whole, &a);
	run_exchange(x, f, &b);
	ck_assert_msg(a.status == b.status && a.reusable == b.reusable,
	              "%s [%s]: status/reusable %d/%d, whole feed gave %d/%d", x->name, f->desc,
	              b.status, b.reusable, a.status, a.reusable);
	if (a.status == KW_TRACK_FOLLOWING)
		ck_assert_msg(a.requests == b.requests && a.responses == b.responses &&
		              a.ka_timeout == b.ka_timeout && a.ka_max == b.ka_max,
		              "%s [%s]: requests/responses/ka %u/%u/%d/%d, whole feed gave %u/%u/%d/%d",
		              x->name, f->desc, b.requests, b.responses, b.ka_timeout, b.ka_max,
		              a.requests, a.responses, a.ka_timeout, a.ka_max);
}

static void set_desc(struct feeder *f)
{
	switch (f->mode) {
	case M_SPLIT2:
		snprintf(f->desc, sizeof f->desc, "%s, step %d at %zu", mode_names[f->mode],
		         f->split_step, f->split_at);
		break;
	case M_RANDOM:
	case M_IOV:
	case M_IOV_RANDOM:
		snprintf(f->desc, sizeof f->desc, "%s, seed %llu", mode_names[f->mode],
		         (unsigned long long)f->seed);
		break;
	default:
		snprintf(f->desc, sizeof f->desc, "%s", mode_names[f->mode]);
	}
}

START_TEST(test_whole)
{
	struct feeder f = { .mode = M_WHOLE };
	struct result r;
	set_desc(&f);
	run_exchange(&exchanges[_i], &f, &r);
}
END_TEST

START_TEST(test_byte_by_byte)
{
	struct feeder f = { .mode = M_BYTES };
	set_desc(&f);
	run_and_compare(&exchanges[_i], &f);
}
END_TEST

START_TEST(test_every_split)
{
	const struct exchange *x = &exchanges[_i];
	for (int i = 0; i < MAXSTEPS && x->steps[i].dir != END; i++) {
		for (size_t k = 1; k < x->steps[i].len; k++) {
			struct feeder f = { .mode = M_SPLIT2, .split_step = i, .split_at = k };
			set_desc(&f);
			run_and_compare(x, &f);
		}
	}
}
END_TEST

START_TEST(test_random_splits)
{
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct feeder f = { .mode = M_RANDOM, .seed = seed };
		set_desc(&f);
		run_and_compare(&exchanges[_i], &f);
	}
}
END_TEST

START_TEST(test_iov)
{
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct feeder f = { .mode = M_IOV, .seed = seed };
		set_desc(&f);
		run_and_compare(&exchanges[_i], &f);
	}
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct feeder f = { .mode = M_IOV_RANDOM, .seed = seed };
		set_desc(&f);
		run_and_compare(&exchanges[_i], &f);
	}
}
END_TEST

/* ---- specific checks ----------------------------------------------------- */

static void req(struct kw_track *t, const char *s)
{
	kw_track_request(t, s, strlen(s));
}

static void resp(struct kw_track *t, const char *s)
{
	kw_track_response(t, s, strlen(s));
}

START_TEST(test_no_request_yet)
{
	struct kw_track t;
	kw_track_init(&t);
	ck_assert_int_eq(t.status, KW_TRACK_FOLLOWING);
	ck_assert(!kw_track_reusable(&t));
	ck_assert_ptr_nonnull(WHY_NOT(&t));
	ck_assert_str_ne(WHY_NOT(&t), "");
	ck_assert(!t.saw_request);
	ck_assert_uint_eq(t.requests, 0);
	ck_assert_uint_eq(t.responses, 0);
	ck_assert_int_eq(t.ka_timeout_s, -1);
	ck_assert_int_eq(t.ka_max, -1);
	/* Empty feeds change nothing. */
	ck_assert_int_eq(kw_track_request(&t, "", 0), KW_TRACK_FOLLOWING);
	ck_assert_int_eq(kw_track_response(&t, "", 0), KW_TRACK_FOLLOWING);
	ck_assert_int_eq(kw_track_request_iov(&t, NULL, 0, 0), KW_TRACK_FOLLOWING);
	ck_assert(!kw_track_reusable(&t));
}
END_TEST

START_TEST(test_not_reusable_mid_body)
{
	struct kw_track t;
	kw_track_init(&t);
	req(&t, GET);
	ck_assert(t.saw_request);
	ck_assert_uint_eq(t.requests, 1);
	ck_assert(!kw_track_reusable(&t));
	resp(&t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
	ck_assert(!kw_track_reusable(&t));
	resp(&t, "01234");
	ck_assert(!kw_track_reusable(&t));
	ck_assert_str_ne(WHY_NOT(&t), "");
	resp(&t, "");
	ck_assert(!kw_track_reusable(&t)); /* a zero-length read is not EOF */
	resp(&t, "5678");
	ck_assert(!kw_track_reusable(&t));
	resp(&t, "9");
	ck_assert(kw_track_reusable(&t));
	ck_assert_str_eq(WHY_NOT(&t), "");
	ck_assert_uint_eq(t.responses, 1);

	/* Chunked: mid-chunk, between chunks, before the final CRLF. */
	req(&t, GET);
	ck_assert(!kw_track_reusable(&t));
	resp(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab");
	ck_assert(!kw_track_reusable(&t));
	resp(&t, "cd\r\n");
	ck_assert(!kw_track_reusable(&t));
	resp(&t, "0\r\n");
	ck_assert(!kw_track_reusable(&t));
	resp(&t, "\r\n");
	ck_assert(kw_track_reusable(&t));
	ck_assert_uint_eq(t.requests, 2);
	ck_assert_uint_eq(t.responses, 2);
}
END_TEST

START_TEST(test_request_half_written_blocks_reuse)
{
	struct kw_track t;
	kw_track_init(&t);
	req(&t, GET);
	resp(&t, OK5);
	ck_assert(kw_track_reusable(&t));
	req(&t, "GET /next HTTP/1.1\r\nHo");
	ck_assert(!kw_track_reusable(&t));
	ck_assert_str_ne(WHY_NOT(&t), "");
	ck_assert_int_eq(t.status, KW_TRACK_FOLLOWING);
}
END_TEST

START_TEST(test_eof_after_complete_response)
{
	struct kw_track t;
	kw_track_init(&t);
	req(&t, GET);
	resp(&t, OK5);
	ck_assert(kw_track_reusable(&t));
	kw_track_response_eof(&t);
	ck_assert(!kw_track_reusable(&t));
	ck_assert_str_ne(WHY_NOT(&t), "");
}
END_TEST

START_TEST(test_eof_ends_close_delimited)
{
	struct kw_track t;
	kw_track_init(&t);
	req(&t, GET);
	resp(&t, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial");
	ck_assert(!kw_track_reusable(&t));
	kw_track_response_eof(&t);
	ck_assert(!kw_track_reusable(&t));
	ck_assert_str_ne(WHY_NOT(&t), "");
}
END_TEST

START_TEST(test_let_go_keeps_first_reason)
{
	struct kw_track t;
	kw_track_init(&t);
	req(&t, GET);
	resp(&t, OK5);
	ck_assert(kw_track_reusable(&t));
	kw_track_let_go(&t, KW_REASON_READ_ERROR);
	ck_assert_int_eq(t.status, KW_TRACK_LET_GO);
	ck_assert(!kw_track_reusable(&t));
	ck_assert_str_ne(WHY_NOT(&t), "");
	ck_assert_str_eq(REASON(&t), "read-error");
	kw_track_let_go(&t, KW_REASON_WRITE_ERROR);
	ck_assert_str_eq(REASON(&t), "read-error");
	ck_assert_int_eq(t.status, KW_TRACK_LET_GO);
}
END_TEST

START_TEST(test_let_go_reason_kept_after_stream_error)
{
	struct kw_track t;
	kw_track_init(&t);
	ck_assert_int_eq(kw_track_request(&t, "\x16\x03\x01\x00", 4), KW_TRACK_LET_GO);
	ck_assert(!t.saw_request);
	enum kw_reason first = t.reason;
	ck_assert_int_ne(first, KW_REASON_NONE);
	kw_track_let_go(&t, KW_REASON_READ_ERROR);
	ck_assert_int_eq(t.reason, first);
}
END_TEST

START_TEST(test_pipelined_beyond_max_pending)
{
	/* One more than KW_TRACK_MAX_PENDING: either it lets go or it copes;
	 * it must never claim reusable with a response still owed. */
	struct kw_track t;
	kw_track_init(&t);
	for (int i = 0; i < KW_TRACK_MAX_PENDING + 1; i++)
		req(&t, i % 2 ? GET : HEAD);
	ck_assert(!kw_track_reusable(&t));
	for (int i = 0; i < KW_TRACK_MAX_PENDING + 1; i++) {
		if (t.status == KW_TRACK_LET_GO)
			break;
		ck_assert(!kw_track_reusable(&t));
		resp(&t, i % 2 ? OK5 : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
	}
	if (t.status == KW_TRACK_FOLLOWING) {
		ck_assert(kw_track_reusable(&t));
		ck_assert_uint_eq(t.requests, KW_TRACK_MAX_PENDING + 1);
		ck_assert_uint_eq(t.responses, KW_TRACK_MAX_PENDING + 1);
	} else {
		ck_assert(!kw_track_reusable(&t));
	}
}
END_TEST

START_TEST(test_iov_only_first_n_bytes)
{
	/* writev wrote only part of the iovec: the rest must not be seen. */
	struct kw_track t;
	kw_track_init(&t);
	char r1[] = "GET / HTTP/1.1\r\n", r2[] = "Host: a\r\n\r\nGARBAGE THAT WAS NOT WRITTEN";
	struct iovec iov[2] = { { r1, strlen(r1) }, { r2, strlen(r2) } };
	size_t n = strlen(r1) + strlen("Host: a\r\n\r\n");
	ck_assert_int_eq(kw_track_request_iov(&t, iov, 2, n), KW_TRACK_FOLLOWING);
	char s1[] = "HTTP/1.1 200 OK\r\nContent-Le", s2[] = "ngth: 2\r\n\r\nokXYZ";
	struct iovec jov[3] = { { s1, strlen(s1) }, { NULL, 0 }, { s2, strlen(s2) } };
	ck_assert_int_eq(kw_track_response_iov(&t, jov, 3, strlen(s1) + strlen(s2) - 3),
	                 KW_TRACK_FOLLOWING);
	ck_assert(kw_track_reusable(&t));
	ck_assert_uint_eq(t.responses, 1);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* What the drain at close decides by: the body still to come, when known. */
START_TEST(test_response_left)
{
	struct kw_track t;

	kw_track_init(&t);
	ck_assert_int_eq(kw_track_response_left(&t), -1); /* no response open */
	req(&t, "GET / HTTP/1.1\r\n\r\n");
	resp(&t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	ck_assert_int_eq(kw_track_response_left(&t), 7);
	resp(&t, "defghij");
	ck_assert_int_eq(kw_track_response_left(&t), -1); /* complete */
	req(&t, "GET / HTTP/1.1\r\n\r\n");
	resp(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
	ck_assert_int_eq(kw_track_response_left(&t), -1); /* chunked */
	kw_track_init(&t);
	req(&t, "GET / HTTP/1.1\r\n\r\n");
	resp(&t, "HTTP/1.1 200 OK\r\n\r\nuntil close");
	ck_assert_int_eq(kw_track_response_left(&t), -1); /* close-delimited */
}
END_TEST

/* The observer hears both latencies of every final response: the first
 * request's wait from the connect() in asked_us, later ones' from their first
 * byte; pipelined requests keep their own times; a 1xx is not an answer. */
struct heard {
	int n;
	uint64_t request_us[4], wait_us[4];
};

static void hear(void *arg, uint64_t request_us, uint64_t wait_us)
{
	struct heard *h = arg;
	if (h->n < 4) {
		h->request_us[h->n] = request_us;
		h->wait_us[h->n] = wait_us;
	}
	h->n++;
}

START_TEST(test_latencies)
{
	struct kw_track t;
	struct heard h = { 0 };
	uint64_t begin, asked;

	kw_track_init(&t);
	kw_track_set_observer(&t, hear, &h);
	t.asked_us = 1000;          /* connect() */
	t.now_us = 1500;
	req(&t, "GET /a HTTP/1.1\r\n\r\n");
	kw_track_oldest_times(&t, &begin, &asked);
	ck_assert_uint_eq(begin, 1500);
	ck_assert_uint_eq(asked, 1000);
	t.now_us = 1600;
	req(&t, "GET /b HTTP/1.1\r\n\r\n"); /* pipelined */
	t.now_us = 2000;
	resp(&t, "HTTP/1.1 100 Continue\r\n\r\n");
	ck_assert_int_eq(h.n, 0);
	t.now_us = 3000;
	resp(&t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ck_assert_int_eq(h.n, 1);
	ck_assert_uint_eq(h.request_us[0], 1500);
	ck_assert_uint_eq(h.wait_us[0], 2000);
	kw_track_oldest_times(&t, &begin, &asked);
	ck_assert_uint_eq(begin, 1600);
	ck_assert_uint_eq(asked, 1600);
	t.now_us = 3600;
	resp(&t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ck_assert_int_eq(h.n, 2);
	ck_assert_uint_eq(h.request_us[1], 2000);
	ck_assert_uint_eq(h.wait_us[1], 2000); /* a later request waits from its first byte */
	t.now_us = 5000;
	req(&t, "GET /c HTTP/1.1\r\n\r\n");
	t.now_us = 5400;
	resp(&t, "HTTP/1.1 204 No Content\r\n\r\n");
	ck_assert_int_eq(h.n, 3);
	ck_assert_uint_eq(h.request_us[2], 400);
	ck_assert_uint_eq(h.wait_us[2], 400);
}
END_TEST

static Suite *track_suite(void)
{
	Suite *s = suite_create("http_track");
	TCase *tc;

	tc = tcase_create("specific");
	tcase_add_test(tc, test_no_request_yet);
	tcase_add_test(tc, test_not_reusable_mid_body);
	tcase_add_test(tc, test_request_half_written_blocks_reuse);
	tcase_add_test(tc, test_eof_after_complete_response);
	tcase_add_test(tc, test_eof_ends_close_delimited);
	tcase_add_test(tc, test_let_go_keeps_first_reason);
	tcase_add_test(tc, test_let_go_reason_kept_after_stream_error);
	tcase_add_test(tc, test_pipelined_beyond_max_pending);
	tcase_add_test(tc, test_iov_only_first_n_bytes);
	tcase_add_test(tc, test_response_left);
	tcase_add_test(tc, test_latencies);
	suite_add_tcase(s, tc);

	tc = tcase_create("exchanges");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_whole, 0, N_EXCHANGES);
	tcase_add_loop_test(tc, test_byte_by_byte, 0, N_EXCHANGES);
	tcase_add_loop_test(tc, test_every_split, 0, N_EXCHANGES);
	tcase_add_loop_test(tc, test_random_splits, 0, N_EXCHANGES);
	tcase_add_loop_test(tc, test_iov, 0, N_EXCHANGES);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	build_dynamic();
	SRunner *sr = srunner_create(track_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
