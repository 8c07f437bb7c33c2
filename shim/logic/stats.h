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

struct kw_histogram {
	uint64_t bucket[KW_STATS_BUCKETS]; /* per bucket, not cumulative */
	uint64_t count;
	uint64_t sum_us;
};

struct kw_dest_stats {
	struct kw_dest dest;
	uint64_t requests, dialed, reused;
	struct kw_histogram latency, idle;
};

struct kw_stats {
	uint64_t events[KW_COUNTER_COUNT];
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
};

/* Zero everything. */
void kw_stats_reset(struct kw_stats *s);

/* Add one to a counter (KW_COUNTER_NONE counts nothing). */
void kw_stats_count(struct kw_stats *s, enum kw_counter c);

/* A connection to d was obtained (dialled, or reused after idle_us parked). */
void kw_stats_connection(struct kw_stats *s, const struct kw_dest *d, bool reused,
                         uint64_t idle_us);

/* A request to d was answered, latency_us after its first byte was written. */
void kw_stats_request(struct kw_stats *s, const struct kw_dest *d, uint64_t latency_us);

/* The exposition text into buf (always terminated when size > 0). Returns the
 * length the whole text needs, like snprintf: call again with a bigger buffer
 * when it is >= size. */
size_t kw_stats_format(const struct kw_stats *s, const struct kw_stats_labels *l, char *buf,
                       size_t size);

#endif
