/* kwstat.h - keepwarm-stat's data model: what the trace logs and stats files
 * of docs/formats.md say, summed by A/B arm and destination.
 *
 * kwstat_input.c fills a kws_set from files; keepwarm-stat.c prints tables
 * from it; kwstat_plot.c draws latency distributions as SVG. */
#ifndef KWSTAT_H
#define KWSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Histogram bucket upper bounds in seconds, as the library writes them; the
 * last one is +Inf. Files with other bounds are rejected: cumulative counts
 * can only be added up bound by bound. */
#define KWS_NBOUNDS 15
extern const double kws_bounds[KWS_NBOUNDS];

/* Values of keepwarm_events_total{event=...}, in documented order. */
enum kws_event {
	KWS_DIALED, KWS_REUSED, KWS_PARKED, KWS_EXPIRED, KWS_EVICTED, KWS_STALE,
	KWS_DISCARDED, KWS_ERRORS, KWS_REPLAYS, KWS_UPGRADES, KWS_DRAINS,
	KWS_PASSTHROUGH, KWS_TAINTED, KWS_NEVENTS
};
extern const char *const kws_event_names[KWS_NEVENTS];

/* A distribution: cumulative bucket counts (from stats files) and/or exact
 * observations (from trace logs), both in seconds. */
struct kws_hist {
	double  cumulative[KWS_NBOUNDS];
	double *samples;
	size_t  nsamples, cap;
};

/* Everything known about one destination in one arm. */
struct kws_row {
	char           *arm;      /* "on", "off", ... */
	char           *dest;     /* "127.0.0.1:8080", "[::1]:80", "other" */
	double          requests; /* answered requests */
	double          dialed;   /* new connections */
	double          reused;   /* parked connections handed back */
	struct kws_hist latency;  /* request duration */
	struct kws_hist idle;     /* how long a reused connection was parked */
};

/* Per-arm totals that have no destination. */
struct kws_arm {
	char  *name;
	double events[KWS_NEVENTS];
	size_t processes;         /* keepwarm_info series, trace start lines */
};

struct kws_set {
	struct kws_row *rows;
	size_t          nrows, rows_cap;
	struct kws_arm *arms;
	size_t          narms, arms_cap;
	size_t          stats_files, trace_files;
};

/* Which inputs a caller takes. */
enum kws_accept { KWS_ANY, KWS_STATS_ONLY };

/* Read path into set: one file (a trace log or a stats file, told apart by
 * content), or with a directory, every regular file in it except hidden ones
 * and the library's "*.tmp.<pid>" files being written (stats files only).
 * Returns 0, or -1 after printing "FILE:LINE: message" (or "FILE: message")
 * on stderr; set then holds whatever was read before the error. */
int kws_read_path(struct kws_set *set, const char *path, enum kws_accept accept);

/* The row for (arm, dest), created empty on first use. Exits on ENOMEM. */
struct kws_row *kws_row(struct kws_set *set, const char *arm, const char *dest);
/* The totals of an arm, created empty on first use. Exits on ENOMEM. */
struct kws_arm *kws_arm(struct kws_set *set, const char *name);

void kws_set_free(struct kws_set *set);

/* Add one observation (seconds); add all of src into dst. Exit on ENOMEM. */
void kws_hist_observe(struct kws_hist *h, double seconds);
void kws_hist_merge(struct kws_hist *dst, const struct kws_hist *src);
void kws_hist_free(struct kws_hist *h);

/* Cumulative counts per bound with the exact observations put in their
 * buckets (a value v counts in every bucket whose bound is >= v). */
void kws_hist_buckets(const struct kws_hist *h, double out[KWS_NBOUNDS]);

/* Number of observations, bucketed or exact. */
double kws_hist_total(const struct kws_hist *h);

/* The q-quantile (0 < q < 1) in seconds, NaN without observations. With only
 * exact observations: the nearest-rank value (the smallest v with at least
 * q*n observations <= v). Otherwise Prometheus' histogram_quantile: linear
 * interpolation inside the bucket that holds rank q*n, the first bucket
 * starting at 0, and the largest finite bound when the rank falls in +Inf. */
double kws_quantile(const struct kws_hist *h, double q);

/* Draw each arm's latency distribution (cumulative fraction of requests
 * against latency on a log axis) as an SVG document. names[i] labels
 * hists[i] in the legend. Returns 0 or -1 with errno (from stdio). */
int kws_plot_svg(FILE *out, const char *title, const char *const names[],
                 const struct kws_hist *const hists[], size_t n);

#endif
