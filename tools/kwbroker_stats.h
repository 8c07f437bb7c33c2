/* kwbroker_stats.h - what keepwarmd counts, and where it says so: its
 * Prometheus text (the answer to `keepwarm status`, and KEEPWARM_BROKER_STATS
 * on schedule and at exit) and its trace lines (KEEPWARM_TRACE, the
 * library's line format with events named broker-*). */
#ifndef KWBROKER_STATS_H
#define KWBROKER_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "logic/dest.h"

/* One row per destination address and port (across network namespaces and
 * cgroups); past KWB_DESTS destinations the rest share a row "other". */
#define KWB_DESTS 256

enum kwb_count {
	KWB_IN,        /* a connection given to the broker and kept */
	KWB_OUT,       /* one handed out (a take that hit) */
	KWB_MISS,      /* a take that found none */
	KWB_WARMED,    /* one the broker dialled itself (KEEPWARM_WARM) */
	/* discards: why one the broker held, or was given, is closed */
	KWB_EXPIRED,   /* its idle time, lifetime or patience ran out */
	KWB_CLOSED,    /* its server closed it while parked */
	KWB_STRAY,     /* bytes arrived that nobody asked for */
	KWB_STALE,     /* its byte counters moved, seen before a hand-out */
	KWB_EVICTED,   /* pushed out by the caps */
	KWB_NOT_KEPT,  /* given but not kept (no time left, the caps, its limits) */
	KWB_NCOUNTS
};

enum kwb_refusal {
	KWB_REFUSED_PEER,       /* a client of another uid */
	KWB_REFUSED_MESSAGE,    /* a malformed message */
	KWB_REFUSED_CONNECTION, /* a descriptor that is not a clean connection */
	KWB_NREFUSALS
};

/* The row of destination d (made on first use). */
unsigned kwb_dest(const struct kw_dest *d);

/* Count one event of row i. */
void kwb_count(unsigned i, enum kwb_count c);

/* Count one refusal. */
void kwb_refused(enum kwb_refusal r);

/* The parked connections, told afresh before each rendering: clear, then
 * one call per connection held. */
void kwb_parked_clear(void);
void kwb_parked_add(unsigned i, uint64_t parked_ms);

/* What the broker is. */
struct kwb_info {
	const char *socket;
	pid_t pid;
	uint64_t started_ms; /* CLOCK_MONOTONIC */
	unsigned clients;
};

/* The Prometheus text of everything counted, at now_ms, into buf: its
 * length (it ends at a whole line; a "# truncated" comment says when rows
 * did not fit). */
size_t kwb_render(char *buf, size_t size, const struct kwb_info *info, uint64_t now_ms);

/* Open the trace at path ("" none, "stderr", or a file, appended to; a
 * symbolic link or a file of another owner is refused in one log line). */
void kwb_trace_open(const char *path);

/* One trace line: event (broker-...), then the fields as given
 * ("dest=... from=..."). */
void kwb_trace(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether a trace is being written (to skip building its fields). */
bool kwb_tracing(void);

/* Write the text to path (%p = the broker's pid) through a temporary file
 * beside it, renamed over it: a reader sees a whole file. A symbolic link
 * at the path is refused (logged once). */
void kwb_stats_write(const char *path, const char *text, size_t len);

#endif
