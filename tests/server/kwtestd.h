/* kwtestd.h - the parts of kwtestd (tests/server/kwtestd*.c) shared by its
 * files: kwtestd.c (options, listening, one thread per connection),
 * kwtestd_request.c (reading and parsing requests) and kwtestd_response.c
 * (the targets and the responses they produce). The contract (options,
 * targets, log lines) is tests/server/PROTOCOL.md. */
#ifndef KW_KWTESTD_H
#define KW_KWTESTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IN_BUF_SIZE            65536   /* also the largest request head accepted */
#define OUT_BUF_SIZE           65536
#define MAX_METHOD_LEN         32
#define MAX_TARGET_LEN         8192
#define MAX_BODY_LEN           (1ULL << 40)
#define MAX_EINTR_RETRIES      100

/* The command line's settings (kwtestd.c). */
extern struct options {
	int idle_ms;               /* 0: wait for the next request forever */
	bool idle_rst;
	bool keepalive_header;
	long keepalive_timeout, keepalive_max;
	unsigned long max_requests; /* 0: unlimited */
	unsigned long rst_on_request; /* reset instead of answering the N-th request, 0: never */
	int log_fd;                 /* -1: no log */
} opt;

enum io_result { IO_OK, IO_EOF, IO_TIMEOUT, IO_ERROR, IO_FULL };
enum body_result { BODY_OK, BODY_CLIENT_GONE, BODY_TIMEOUT, BODY_BAD };
/* What happens to a connection after a request. CLOSE_GRACEFUL: FIN, then
 * drain input briefly; CLOSE_PLAIN: close() alone; CLOSE_RST: abort. */
enum ending { KEEP_OPEN, CLIENT_GONE, CLOSE_GRACEFUL, CLOSE_PLAIN, CLOSE_RST };

struct conn {
	int fd;
	unsigned long id;
	unsigned long requests;
	bool write_failed;          /* sticky: later output is dropped */
	size_t in_pos, in_len;      /* unread input is in[in_pos, in_len) */
	size_t out_len;
	char in[IN_BUF_SIZE];
	char out[OUT_BUF_SIZE];
};

struct request {
	char method[MAX_METHOD_LEN + 1];
	char target[MAX_TARGET_LEN + 1];
	bool http10;
	bool wants_close, wants_keepalive;
	bool has_length, chunked, expects_continue;
	uint64_t content_length;
	uint64_t body_len;          /* bytes actually received */
};

/* ---- kwtestd_request.c: input and request parsing ------------------------ */

/* A complete request head at in[in_pos...] (*head_len bytes). */
enum io_result read_head(struct conn *c, size_t *head_len);

/* Consumes count body bytes. */
enum body_result skip_input(struct conn *c, uint64_t count);

/* Consumes a chunked body and its trailers; *total gets the data length. */
enum body_result read_chunked_body(struct conn *c, uint64_t *total);

/* Fills req from the head; returns 0 or the error status to answer with. */
int parse_head(char *head, size_t head_len, struct request *req);

/* ---- kwtestd_response.c: targets and output ------------------------------ */

enum route { R_GEN, R_CHUNKED, R_CLOSE, R_HTTP10, R_EOF, R_EXTRA, R_TWICE, R_STATUS,
	     R_CONTINUE, R_SLOW, R_FRAMED, R_MALFORMED, R_RESET, R_NOT_FOUND };

/* The route for a request target, with its number (e.g. /gen/123 -> 123). */
enum route route_of(const char *target, uint64_t *arg);

/* Writes the answer to req and says what becomes of the connection. */
enum ending answer(struct conn *c, const struct request *req, enum route route, uint64_t arg);

/* Answers (and flushes) a request that could not be parsed. */
void answer_error(struct conn *c, int status);

/* Output is buffered in c->out until out_flush (or until it is full). */
void out_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_flush(struct conn *c);

#endif
