/* trace.h - the decision log (KEEPWARM_TRACE), one logfmt line per event.
 *
 * Formatting is pure (kw_trace_format); kw_trace_emit writes the line with a
 * single write() through the writer installed by the shim, so lines from many
 * processes appending to one O_APPEND file never interleave. errno is kept. */
#ifndef KW_TRACE_H
#define KW_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "logic/dest.h"

#define KW_TRACE_LINE_MAX 512

struct kw_trace_event {
	const char *event;            /* dial, reuse, park, expire, evict, stale, discard, passthrough, taint, ... */
	int fd;                       /* the program's fd, or the private fd; -1 for none */
	const struct kw_dest *dest;   /* may be NULL */
	const char *reason;           /* may be NULL */
	int64_t idle_ms;              /* -1 = omit */
	int64_t requests;             /* requests served by the connection, -1 = omit */
	const char *arm;              /* A/B arm, on the start event; may be NULL */
	const char *version;          /* keepwarm's version, on the start event; may be NULL */
	const char *build_id;         /* its GNU build id (hex), on the start event; may be NULL */
	bool latency;                 /* a request event: write wait_us and request_us */
	uint64_t wait_us, request_us; /* its latencies (ms=, request_ms=) */
	const char *object;           /* a redirect event's loaded object; may be NULL */
	int64_t redirected;           /* slots it redirected, -1 = omit (0: omit too) */
	const char *library;          /* a tls event's library (gnutls, openssl); may be NULL */
};

/* One line: ts=<RFC 3339 UTC, ms> pid=<pid> event=<e> [fd=<n>] [dest=<a:p>
 * [tls=1]] [reason=<r>] [arm=<a>] [version=<v>] [build_id=<hex>] [idle_ms=<n>] [requests=<n>] [ms=<n.nnn>]
 * [request_ms=<n.nnn>] [object=<path>] [redirected=<n>] [library=<l>] and a newline (a space
 * in the path is written %20). wall_ms is the
 * wall clock in ms since the epoch. Returns the length (truncated to size-1). */
size_t kw_trace_format(char *buf, size_t size, uint64_t wall_ms, pid_t pid,
                       const struct kw_trace_event *ev);

/* Where lines go: fd < 0 switches tracing off. write_fn is the real write(). */
typedef ssize_t (*kw_write_fn)(int fd, const void *buf, size_t len);
void kw_trace_set_sink(int fd, kw_write_fn write_fn);

/* The current sink fd, -1 when tracing is off (cheap check before formatting). */
int kw_trace_fd(void);

/* Format and write one event if tracing is on. Keeps errno. */
void kw_trace_emit(const struct kw_trace_event *ev);

#endif
