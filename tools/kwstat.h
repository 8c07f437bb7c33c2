/* kwstat.h - keepwarm-stat's data model: what the trace logs and stats files
 * of docs/formats.md say, summed by A/B arm and destination, and kept per
 * process for the bootstrap.
 *
 * kwstat_input.c fills a kws_set from files; kwstat_data.c holds the tables
 * and the quantiles; kwstat_boot.c resamples two sides into intervals;
 * keepwarm-stat.c prints tables from it all; kwstat_plot.c draws latency
 * distributions as SVG. */
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

/* Fine buckets: b holds 2^((b-1)/4) < seconds <= 2^(b/4); the first also
 * holds everything below, the last everything above. Arrays of them are
 * indexed by b - KWS_FINE_MIN. */
#define KWS_FINE_MIN (-58)
#define KWS_FINE_MAX 25
#define KWS_NFINE (KWS_FINE_MAX - KWS_FINE_MIN + 1)

/* Values of keepwarm_events_total{event=...}, in documented order. */
enum kws_event {
	KWS_DIALED, KWS_REUSED, KWS_PARKED, KWS_EXPIRED, KWS_EVICTED, KWS_STALE,
	KWS_DISCARDED, KWS_ERRORS, KWS_REPLAYS, KWS_UPGRADES, KWS_DRAINS,
	KWS_PASSTHROUGH, KWS_TAINTED, KWS_NEVENTS
};
extern const char *const kws_event_names[KWS_NEVENTS];

/* The two latencies of a request: what the program waited (from its
 * connect() or first byte written; from="connect", trace ms=) and the
 * request alone (first byte written; from="request", trace request_ms=). */
enum kws_kind { KWS_WAIT, KWS_REQUEST_ONLY, KWS_NKINDS };

/* A distribution in seconds: cumulative coarse bucket counts and fine bucket
 * counts (from stats files), and exact observations (from trace logs). */
struct kws_hist {
	double  cumulative[KWS_NBOUNDS];
	double  fine[KWS_NFINE];
	double  coarse_only;      /* observations of files that had no fine buckets */
	double *samples;
	size_t  nsamples, cap;
};

/* Everything known about one destination in one arm. */
struct kws_row {
	char           *arm;      /* "on", "off", ... */
	char           *dest;     /* "127.0.0.1:8080", "[::1]:80", "other"; a TLS
	                           * one "https://127.0.0.1:8443" (kws_dest_row) */
	double          requests; /* answered requests */
	double          dialed;   /* new connections */
	double          reused;   /* parked connections handed back */
	struct kws_hist latency[KWS_NKINDS];
	struct kws_hist idle;     /* how long a reused connection was parked */
};

/* Per-arm totals that have no destination. */
struct kws_arm {
	char  *name;
	double events[KWS_NEVENTS];
	size_t processes;         /* keepwarm_info series, trace start lines */
};

/* Non-empty fine buckets, in the order first seen: what one process wrote
 * for one destination and latency. */
struct kws_fine_count {
	int    index;             /* b - KWS_FINE_MIN */
	double count;
};
struct kws_sparse {
	struct kws_fine_count *v;
	size_t                 n, cap;
};

/* One destination of one process. */
struct kws_proc_dest {
	const char       *dest;   /* the row's string */
	double            requests;
	double            coarse[KWS_NKINDS]; /* +Inf bucket of its coarse histograms */
	struct kws_sparse fine[KWS_NKINDS];
};

/* One process: the series of one pid and arm in one stats file. */
struct kws_proc {
	const char           *arm;  /* the arm's name string */
	char                 *pid;
	size_t                file; /* which stats file of the set, from 1 */
	double                start_time, run_seconds, requests;
	bool                  has_start, has_run, has_exited, exited;
	struct kws_proc_dest *dests;
	size_t                ndests, dests_cap;
};

/* The lines of one trace log that were not trace lines (did not start with
 * "ts="): a program's own output mixed into a trace sent to stderr. They
 * are skipped, and said so once per file. */
struct kws_skipped {
	char         *path;
	size_t        lines;
	unsigned long first;    /* the line number of the first of them */
};

/* What a broker (keepwarmd) said of one destination, in its stats file
 * (keepwarm_broker_*) or its trace (event=broker-*). */
struct kws_broker_row {
	char  *dest;
	double parked;   /* held at the file's writing (stats files only) */
	double given;    /* connections given to it */
	double hits;     /* handed out */
	double misses;   /* asked for, none there */
	double expired;  /* closed when their time ran out */
	double closed;   /* closed for another reason (server's close, caps, ...) */
};

struct kws_set {
	struct kws_broker_row *brokers;
	size_t              nbrokers, brokers_cap;
	struct kws_row     *rows;
	size_t              nrows, rows_cap;
	struct kws_arm     *arms;
	size_t              narms, arms_cap;
	struct kws_proc    *procs;
	size_t              nprocs, procs_cap;
	struct kws_skipped *skipped;
	size_t              nskipped, skipped_cap;
	size_t              stats_files, trace_files;
};

/* Which inputs a caller takes. */
enum kws_accept { KWS_ANY, KWS_STATS_ONLY };

/* How messages name standard input. */
#define KWS_STDIN_NAME "(stdin)"

/* Read path into set: one file (a trace log or a stats file, told apart by
 * content), "-" for standard input (read to its end: give it once), or with
 * a directory, every regular file in it except hidden ones and the
 * library's "*.tmp.<pid>" files being written (stats files only).
 * Returns 0, or -1 after printing "keepwarm-stat: FILE:LINE: message" (or
 * "keepwarm-stat: FILE: message") on stderr; set then holds whatever was
 * read before the error. */
int kws_read_path(struct kws_set *set, const char *path, enum kws_accept accept);

/* Print "keepwarm-stat: " and the message, then a newline, on stderr: every
 * error (and notice) of the program starts so. Returns -1. */
int kws_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The row for (arm, dest), created empty on first use. Exits on ENOMEM. */
struct kws_row *kws_row(struct kws_set *set, const char *arm, const char *dest);
/* The row for dest as the library writes it (a stats file's dest label, a
 * trace's dest=) in arm: for a TLS destination (tls="1", tls=1) the row
 * "https://" dest, so that it is shown, and matched across sides, apart
 * from a plain destination on the same address and port. */
struct kws_row *kws_dest_row(struct kws_set *set, const char *arm, const char *dest, bool tls);
/* Whether a row holds no count and no observation. */
/* The broker row of dest (made on first use). */
struct kws_broker_row *kws_broker_row(struct kws_set *set, const char *dest);

bool kws_row_empty(const struct kws_row *r);
/* Remove row i of set, freeing what it holds; later rows move down one, so
 * no pointer to a row may be held, nor to the removed row's dest string (a
 * process's dest is one: drop only rows no process has). */
void kws_drop_row(struct kws_set *set, size_t i);
/* The totals of an arm, created empty on first use. Exits on ENOMEM. */
struct kws_arm *kws_arm(struct kws_set *set, const char *name);
/* The process (arm, pid) of stats file number file, created on first use
 * (with its arm). Exits on ENOMEM. */
struct kws_proc *kws_proc(struct kws_set *set, size_t file, const char *arm, const char *pid);
/* The entry of proc for dest (a row's string), created on first use. */
struct kws_proc_dest *kws_proc_dest(struct kws_proc *proc, const char *dest);
/* Add count to fine bucket index of s. Exits on ENOMEM. */
void kws_sparse_add(struct kws_sparse *s, int index, double count);
/* The sum of the counts of s. */
double kws_sparse_total(const struct kws_sparse *s);

/* Note that lines lines of the trace log path, the first at line first,
 * were skipped. Exits on ENOMEM. */
void kws_note_skipped(struct kws_set *set, const char *path, size_t lines, unsigned long first);

/* Free everything set holds and leave it empty. */
void kws_set_free(struct kws_set *set);

/* Add one observation (seconds); add all of src into dst. Exit on ENOMEM. */
void kws_hist_observe(struct kws_hist *h, double seconds);
void kws_hist_merge(struct kws_hist *dst, const struct kws_hist *src);
void kws_hist_free(struct kws_hist *h);

/* Cumulative counts per bound with the exact observations put in their
 * buckets (a value v counts in every bucket whose bound is >= v). */
void kws_hist_buckets(const struct kws_hist *h, double out[KWS_NBOUNDS]);

/* Fine bucket counts with the exact observations put in their buckets. */
void kws_hist_fine(const struct kws_hist *h, double out[KWS_NFINE]);

/* Whether h's quantiles come from its coarse buckets: it has coarse counts
 * and no fine ones, or some of its files had no fine buckets. */
bool kws_hist_coarse(const struct kws_hist *h);

/* Number of observations, in the buckets the quantiles use, plus exact. */
double kws_hist_total(const struct kws_hist *h);

/* The fine bucket index holding seconds; the geometric middle of a bucket,
 * 2^((b-0.5)/4) seconds; its upper bound 2^(b/4). */
int kws_fine_index(double seconds);
double kws_fine_middle(int index);
double kws_fine_upper(int index);

/* The q-quantile of fine bucket counts by nearest rank (the bucket holding
 * the ceil(q*n)-th smallest observation), as its geometric middle; NaN when
 * the counts add up to 0. */
double kws_fine_quantile(const double fine[KWS_NFINE], double q);

/* The q-quantile (0 < q < 1) in seconds, NaN without observations. With only
 * exact observations: the nearest-rank value (the smallest v with at least
 * q*n observations <= v). With fine buckets (and any exact observations put
 * in them): kws_fine_quantile. When kws_hist_coarse: Prometheus'
 * histogram_quantile, linear interpolation inside the bucket that holds rank
 * q*n, the first bucket starting at 0, the largest finite bound when the
 * rank falls in +Inf. */
double kws_quantile(const struct kws_hist *h, double q);

/* One side of a comparison: the rows and processes of set, only those of
 * arm and of dest when they are set. */
struct kws_scope {
	const struct kws_set *set;
	const char           *arm;  /* NULL: every arm */
	const char           *dest; /* NULL: every destination */
};

/* Whether a row, an arm (by name) or a process's destination is in scope. */
bool kws_scope_row(const struct kws_scope *s, const struct kws_row *r);
bool kws_scope_arm(const struct kws_scope *s, const char *arm);
bool kws_scope_dest(const struct kws_scope *s, const char *dest);

/* The latency of kind of every row in scope, merged into out (zeroed first;
 * free it with kws_hist_free). */
void kws_scope_latency(const struct kws_scope *s, enum kws_kind kind, struct kws_hist *out);

/* A 95% interval of the change B/A - 1; both NaN when there is none. */
struct kws_interval {
	double lo, hi;
};

#define KWS_MAX_QUANTILES 4
#define KWS_RESAMPLES 1000

/* Intervals of a comparison of side[0] (A) with side[1] (B). */
struct kws_boot {
	struct kws_interval latency[KWS_NKINDS][KWS_MAX_QUANTILES];
	struct kws_interval job;     /* NaN with a destination in scope */
	bool                by_process[2]; /* how each side was redrawn */
};

/* Percentile bootstrap of the changes of the nq (<= KWS_MAX_QUANTILES)
 * quantiles q[] of both latencies and of the job time (docs/formats.md,
 * "How keepwarm-stat compare reads the arms"): KWS_RESAMPLES resamples from
 * a fixed seed, so the same input always gives the same intervals. */
void kws_bootstrap(const struct kws_scope side[2], const double q[], size_t nq,
                   struct kws_boot *out);

/* One curve of a plot. */
struct kws_curve {
	const char            *name;   /* legend text */
	const struct kws_hist *hist;
	size_t                 colour; /* the curves of one arm share one */
	bool                   light;  /* paler and thinner (the request alone) */
};

/* Draw latency distributions (cumulative fraction of requests against
 * latency on a log axis) as an SVG document: from fine buckets, the fraction
 * at each bucket's upper bound; from coarse ones, as histogram_quantile
 * interpolates. Returns 0 or -1 with errno (from stdio). */
int kws_plot_svg(FILE *out, const char *title, const struct kws_curve curves[], size_t n);

#endif
