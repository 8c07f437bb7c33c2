/* stats.h - counters and latency histograms for A/B tests (KEEPWARM_STATS).
 *
 * Pure logic: the shim serialises access (one mutex) and writes the text this
 * module formats. The format is Prometheus' text exposition (docs/formats.md),
 * so node_exporter's textfile collector can read the files unchanged. */
#ifndef KW_STATS_H
#define KW_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logic/catalog.h"
#include "logic/dest.h"

#define KW_STATS_MAX_DESTS 64 /* then "other" */
#define KW_STATS_BUCKETS   15 /* the last is +Inf */

/* Fine buckets b = KW_FINE_MIN..KW_FINE_MAX: b holds 2^((b-1)/4) < seconds
 * <= 2^(b/4) (Prometheus' native histogram boundaries at schema 2), the first
 * everything below, the last everything above. */
#define KW_FINE_MIN     (-58)
#define KW_FINE_MAX     25
#define KW_FINE_BUCKETS (KW_FINE_MAX - KW_FINE_MIN + 1)

struct kw_histogram {
	uint64_t bucket[KW_STATS_BUCKETS]; /* per bucket, not cumulative */
	uint64_t count;
	uint64_t sum_us;
};

struct kw_fine {
	uint64_t bucket[KW_FINE_BUCKETS]; /* [0] is b = KW_FINE_MIN */
};

struct kw_dest_stats {
	struct kw_dest dest;
	uint64_t requests, dialed, reused;
	struct kw_histogram latency, wait, idle; /* request alone, as the program waited */
	struct kw_fine fine_request, fine_wait;
};

struct kw_stats {
	uint64_t events[KW_COUNTER_COUNT];
	uint64_t reasons[KW_REASON_COUNT][2]; /* discard, taint and passthrough by reason,
	                                       * [0] plain, [1] TLS */
	unsigned ndests;
	bool has_other;
	struct kw_dest_stats dests[KW_STATS_MAX_DESTS];
	struct kw_dest_stats other;
};

struct kw_stats_labels {
	const char *arm;     /* "on" or "off" */
	long pid;
	const char *program; /* label-safe: only [A-Za-z0-9._-] are kept */
	const char *version;
	const char *build_id;    /* keepwarm's GNU build id in hex, "" when unknown */
	uint64_t start_unix_us;  /* when the process started, wall clock */
	uint64_t run_us;         /* how long it has run */
	bool exited;             /* written at its exit */
	long pgid;               /* its process group: a comment line, not a label */
	uint64_t tls_parked;     /* TLS sessions keepwarm keeps parked now... */
	uint64_t tls_parked_bytes; /* ...and the memory they hold (an estimate) */
};

/* Zero everything. */
void kw_stats_reset(struct kw_stats *s);

/* Add one to a counter (KW_COUNTER_NONE counts nothing). */
void kw_stats_count(struct kw_stats *s, enum kw_counter c);

/* A connection (to d, may be NULL) let go, closed or tainted with reason r
 * (its event one of discard, taint, passthrough): counted by reason, TLS
 * (d->tls) and plain apart. Other events count nothing here. */
void kw_stats_reason(struct kw_stats *s, enum kw_event e, enum kw_reason r,
                     const struct kw_dest *d);

/* A connection to d was obtained (dialled, or reused after idle_us parked). */
void kw_stats_connection(struct kw_stats *s, const struct kw_dest *d, bool reused,
                         uint64_t idle_us);

/* The connection to d.tls's plain twin dialled last carries a TLS session
 * (known only at its first bytes): its dial counts for the TLS destination d. */
void kw_stats_tls(struct kw_stats *s, const struct kw_dest *d);

/* A request to d was answered: request_us after its first byte was written,
 * wait_us after the program asked for it (connect() or first byte). */
void kw_stats_request(struct kw_stats *s, const struct kw_dest *d, uint64_t request_us,
                      uint64_t wait_us);

/* The fine bucket b (KW_FINE_MIN..KW_FINE_MAX) that holds us microseconds. */
int kw_stats_fine_bucket(uint64_t us);

/* The exposition text into buf (always terminated when size > 0). Returns the
 * length the whole text needs, like snprintf: call again with a bigger buffer
 * when it is >= size. */
size_t kw_stats_format(const struct kw_stats *s, const struct kw_stats_labels *l, char *buf,
                       size_t size);

#endif
