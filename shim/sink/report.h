/* report.h - what keepwarm tells the outside: the trace (KEEPWARM_TRACE) and
 * the stats file (KEEPWARM_STATS). Every decision goes through kw_report, which
 * writes its trace line and counts it. */
#ifndef KW_REPORT_H
#define KW_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "logic/catalog.h"
#include "logic/config.h"
#include "logic/dest.h"
#include "logic/version.h"


/* Open the trace and prepare the stats file for this process's arm ("on" or
 * "off"); writes the trace's start line. Called once from initialisation. */
void kw_report_init(const struct kw_config *c, const char *arm);

/* True when latencies are measured (a stats file or a trace is kept). */
extern bool kw_report_latency;

/* One decision: trace line (if tracing) and counters (if keeping stats).
 * reason is KW_REASON_NONE, idle_ms and requests -1, when they do not apply.
 * Keeps errno. */
void kw_report(enum kw_event event, int fd, const struct kw_dest *d, enum kw_reason reason,
               int64_t idle_ms, int64_t requests);

/* A request to d on the program's fd, the connection's requests-th, was
 * answered: request_us after its first byte went out, wait_us after the
 * program asked for it. Trace line and histograms. Keeps errno. */
void kw_report_answer(int fd, const struct kw_dest *d, int64_t requests, uint64_t request_us,
                      uint64_t wait_us);

/* The connection on the program's fd carries a TLS session of library
 * ("gnutls", "openssl") that keepwarm follows: its destination is d (TLS).
 * Trace line; its dial counts for d (reused: a parked session taken over,
 * whose reuse counted for d at the handback). Keeps errno. */
void kw_report_tls(int fd, const struct kw_dest *d, const char *library, bool reused);

/* A followed connection was closed (parked or not): the first one writes
 * the stats file at once, so that a process killed before its first
 * interval leaves one. Cheap afterwards. Keeps errno. */
void kw_report_closed(void);

/* Calls of object were redirected to keepwarm: n slots (trace line), or
 * (n < 0, reason) it could not be read and was left alone. Keeps errno. */
void kw_report_redirect(const char *object, int n, enum kw_reason reason);

/* Write the stats file if KEEPWARM_STATS_INTERVAL has passed since the last
 * write. Cheap when it has not. Keeps errno. */
void kw_report_tick(void);

/* The program wants number fd: if the trace file sits there, move it to
 * another private number and return true. */
bool kw_report_relocate(int fd);

/* In a fork child: start counting afresh, into the child's own file. */
void kw_report_after_fork_child(void);

#endif
