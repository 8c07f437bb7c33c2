/* kwstat_data.c - keepwarm-stat's tables of arms, destinations and
 * processes, and the distributions in them: merging and quantiles. */
#include "kwstat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double kws_bounds[KWS_NBOUNDS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, INFINITY,
};

const char *const kws_event_names[KWS_NEVENTS] = {
	"dialed", "reused", "parked", "expired", "evicted", "stale", "discarded", "errors",
	"replays", "upgrades", "drains", "passthrough", "tainted",
};

static void *grow(void *array, size_t *cap, size_t elem)
{
	size_t n = *cap ? 2 * *cap : 16;
	void *p = realloc(array, n * elem);

	if (!p) {
		perror("keepwarm-stat");
		exit(1);
	}
	*cap = n;
	return p;
}

static char *copy(const char *s)
{
	char *c = strdup(s);

	if (!c) {
		perror("keepwarm-stat");
		exit(1);
	}
	return c;
}

/* Linear search: a set holds a few destinations (the library keeps at most
 * 64 per process) times a few arms. */
struct kws_row *kws_row(struct kws_set *set, const char *arm, const char *dest)
{
	for (size_t i = 0; i < set->nrows; i++)
		if (!strcmp(set->rows[i].arm, arm) && !strcmp(set->rows[i].dest, dest))
			return &set->rows[i];
	kws_arm(set, arm); /* every arm with rows is listed */
	if (set->nrows == set->rows_cap)
		set->rows = grow(set->rows, &set->rows_cap, sizeof *set->rows);
	struct kws_row *row = &set->rows[set->nrows++];
	memset(row, 0, sizeof *row);
	row->arm = copy(arm);
	row->dest = copy(dest);
	return row;
}

struct kws_row *kws_dest_row(struct kws_set *set, const char *arm, const char *dest, bool tls)
{
	static const char scheme[] = "https://";
	char small[128], *name = small;
	size_t len = sizeof scheme + strlen(dest);

	if (!tls)
		return kws_row(set, arm, dest);
	if (len > sizeof small && !(name = malloc(len))) {
		perror("keepwarm-stat");
		exit(1);
	}
	snprintf(name, len, "%s%s", scheme, dest);
	struct kws_row *row = kws_row(set, arm, name);
	if (name != small)
		free(name);
	return row;
}

struct kws_broker_row *kws_broker_row(struct kws_set *set, const char *dest)
{
	for (size_t i = 0; i < set->nbrokers; i++)
		if (!strcmp(set->brokers[i].dest, dest))
			return &set->brokers[i];
	if (set->nbrokers == set->brokers_cap) {
		size_t cap = set->brokers_cap ? set->brokers_cap * 2 : 8;
		struct kws_broker_row *b = realloc(set->brokers, cap * sizeof *b);
		if (!b) {
			perror("keepwarm-stat");
			exit(1);
		}
		set->brokers = b;
		set->brokers_cap = cap;
	}
	struct kws_broker_row *r = &set->brokers[set->nbrokers];
	memset(r, 0, sizeof *r);
	if (!(r->dest = strdup(dest))) {
		perror("keepwarm-stat");
		exit(1);
	}
	set->nbrokers++;
	return r;
}

bool kws_row_empty(const struct kws_row *r)
{
	return r->requests == 0 && r->dialed == 0 && r->reused == 0 &&
	       kws_hist_total(&r->latency[KWS_WAIT]) == 0 &&
	       kws_hist_total(&r->latency[KWS_REQUEST_ONLY]) == 0 && kws_hist_total(&r->idle) == 0;
}

static void free_row(struct kws_row *r)
{
	free(r->arm);
	free(r->dest);
	for (int k = 0; k < KWS_NKINDS; k++)
		kws_hist_free(&r->latency[k]);
	kws_hist_free(&r->idle);
}

void kws_drop_row(struct kws_set *set, size_t i)
{
	free_row(&set->rows[i]);
	memmove(&set->rows[i], &set->rows[i + 1], (set->nrows - i - 1) * sizeof *set->rows);
	set->nrows--;
}

struct kws_arm *kws_arm(struct kws_set *set, const char *name)
{
	for (size_t i = 0; i < set->narms; i++)
		if (!strcmp(set->arms[i].name, name))
			return &set->arms[i];
	if (set->narms == set->arms_cap)
		set->arms = grow(set->arms, &set->arms_cap, sizeof *set->arms);
	struct kws_arm *arm = &set->arms[set->narms++];
	memset(arm, 0, sizeof *arm);
	arm->name = copy(name);
	return arm;
}


/* Linear search from the file's first process: a stats file holds one. */
struct kws_proc *kws_proc(struct kws_set *set, size_t file, const char *arm, const char *pid)
{
	for (size_t i = set->nprocs; i-- > 0 && set->procs[i].file == file;)
		if (!strcmp(set->procs[i].pid, pid) && !strcmp(set->procs[i].arm, arm))
			return &set->procs[i];
	const char *arm_name = kws_arm(set, arm)->name;
	if (set->nprocs == set->procs_cap)
		set->procs = grow(set->procs, &set->procs_cap, sizeof *set->procs);
	struct kws_proc *proc = &set->procs[set->nprocs++];
	memset(proc, 0, sizeof *proc);
	proc->arm = arm_name;
	proc->pid = copy(pid);
	proc->file = file;
	return proc;
}

struct kws_proc_dest *kws_proc_dest(struct kws_proc *proc, const char *dest)
{
	for (size_t i = 0; i < proc->ndests; i++)
		if (!strcmp(proc->dests[i].dest, dest))
			return &proc->dests[i];
	if (proc->ndests == proc->dests_cap)
		proc->dests = grow(proc->dests, &proc->dests_cap, sizeof *proc->dests);
	struct kws_proc_dest *d = &proc->dests[proc->ndests++];
	memset(d, 0, sizeof *d);
	d->dest = dest;
	return d;
}

void kws_sparse_add(struct kws_sparse *s, int index, double count)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].index == index) {
			s->v[i].count += count;
			return;
		}
	if (s->n == s->cap)
		s->v = grow(s->v, &s->cap, sizeof *s->v);
	s->v[s->n++] = (struct kws_fine_count){ index, count };
}

double kws_sparse_total(const struct kws_sparse *s)
{
	double total = 0;

	for (size_t i = 0; i < s->n; i++)
		total += s->v[i].count;
	return total;
}

void kws_note_skipped(struct kws_set *set, const char *path, size_t lines, unsigned long first)
{
	if (set->nskipped == set->skipped_cap)
		set->skipped = grow(set->skipped, &set->skipped_cap, sizeof *set->skipped);
	set->skipped[set->nskipped++] = (struct kws_skipped){ copy(path), lines, first };
}

void kws_set_free(struct kws_set *set)
{
	for (size_t i = 0; i < set->nrows; i++)
		free_row(&set->rows[i]);
	for (size_t i = 0; i < set->narms; i++)
		free(set->arms[i].name);
	for (size_t i = 0; i < set->nprocs; i++) {
		struct kws_proc *p = &set->procs[i];
		for (size_t d = 0; d < p->ndests; d++)
			for (int k = 0; k < KWS_NKINDS; k++)
				free(p->dests[d].fine[k].v);
		free(p->dests);
		free(p->pid);
	}
	for (size_t i = 0; i < set->nskipped; i++)
		free(set->skipped[i].path);
	for (size_t i = 0; i < set->nbrokers; i++)
		free(set->brokers[i].dest);
	free(set->brokers);
	free(set->rows);
	free(set->arms);
	free(set->procs);
	free(set->skipped);
	memset(set, 0, sizeof *set);
}

/* ---------------------------------------------------------- distributions */

void kws_hist_observe(struct kws_hist *h, double seconds)
{
	if (h->nsamples == h->cap)
		h->samples = grow(h->samples, &h->cap, sizeof *h->samples);
	h->samples[h->nsamples++] = seconds;
}

void kws_hist_merge(struct kws_hist *dst, const struct kws_hist *src)
{
	for (size_t i = 0; i < KWS_NBOUNDS; i++)
		dst->cumulative[i] += src->cumulative[i];
	for (size_t i = 0; i < KWS_NFINE; i++)
		dst->fine[i] += src->fine[i];
	dst->coarse_only += src->coarse_only;
	for (size_t i = 0; i < src->nsamples; i++)
		kws_hist_observe(dst, src->samples[i]);
}

void kws_hist_free(struct kws_hist *h)
{
	free(h->samples);
	memset(h, 0, sizeof *h);
}

void kws_hist_buckets(const struct kws_hist *h, double out[KWS_NBOUNDS])
{
	memcpy(out, h->cumulative, sizeof h->cumulative);
	for (size_t s = 0; s < h->nsamples; s++)
		for (size_t i = 0; i < KWS_NBOUNDS; i++)
			if (h->samples[s] <= kws_bounds[i])
				out[i]++;
}

void kws_hist_fine(const struct kws_hist *h, double out[KWS_NFINE])
{
	memcpy(out, h->fine, sizeof h->fine);
	for (size_t s = 0; s < h->nsamples; s++)
		out[kws_fine_index(h->samples[s])]++;
}

static double fine_total(const double fine[KWS_NFINE])
{
	double n = 0;

	for (size_t i = 0; i < KWS_NFINE; i++)
		n += fine[i];
	return n;
}

bool kws_hist_coarse(const struct kws_hist *h)
{
	return h->cumulative[KWS_NBOUNDS - 1] > 0 && (fine_total(h->fine) == 0 || h->coarse_only > 0);
}

double kws_hist_total(const struct kws_hist *h)
{
	double bucketed = kws_hist_coarse(h) ? h->cumulative[KWS_NBOUNDS - 1] : fine_total(h->fine);
	return bucketed + (double)h->nsamples;
}

int kws_fine_index(double seconds)
{
	if (!(seconds > 0))
		return 0;
	/* The tolerance keeps a value on a bound (2^(b/4)) in bucket b. */
	double b = ceil(4 * log2(seconds) - 1e-9);
	if (b < KWS_FINE_MIN)
		return 0;
	if (b > KWS_FINE_MAX)
		return KWS_NFINE - 1;
	return (int)b - KWS_FINE_MIN;
}

double kws_fine_middle(int index)
{
	return exp2((index + KWS_FINE_MIN - 0.5) / 4);
}

double kws_fine_upper(int index)
{
	return exp2((index + KWS_FINE_MIN) / 4.0);
}

/* The rank as an observation number: the tolerance keeps 0.9 * 10 at rank 9
 * despite rounding; fractional counts never ask for more than there is. */
static double nearest_rank_of(double q, double n)
{
	double rank = ceil(q * n - 1e-9);
	if (rank < 1)
		rank = 1;
	return rank > n ? n : rank;
}

double kws_fine_quantile(const double fine[KWS_NFINE], double q)
{
	double n = fine_total(fine), cum = 0, rank;
	int last = 0;

	if (n <= 0)
		return NAN;
	rank = nearest_rank_of(q, n);
	for (int i = 0; i < KWS_NFINE; i++) {
		if (fine[i] <= 0)
			continue;
		cum += fine[i];
		last = i;
		if (cum >= rank - 1e-9)
			break;
	}
	return kws_fine_middle(last);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double nearest_rank(const struct kws_hist *h, double q)
{
	double *sorted = malloc(h->nsamples * sizeof *sorted), v;
	size_t rank = (size_t)nearest_rank_of(q, (double)h->nsamples);

	if (!sorted) {
		perror("keepwarm-stat");
		exit(1);
	}
	memcpy(sorted, h->samples, h->nsamples * sizeof *sorted);
	qsort(sorted, h->nsamples, sizeof *sorted, compare_doubles);
	v = sorted[rank - 1];
	free(sorted);
	return v;
}

static double interpolated(const struct kws_hist *h, double q)
{
	double cum[KWS_NBOUNDS], rank, start = 0, count;
	size_t b = 0;

	kws_hist_buckets(h, cum);
	if (cum[KWS_NBOUNDS - 1] <= 0)
		return NAN;
	rank = q * cum[KWS_NBOUNDS - 1];
	while (b < KWS_NBOUNDS - 1 && cum[b] < rank)
		b++;
	if (b == KWS_NBOUNDS - 1) /* in +Inf: all that can be said is "above" */
		return kws_bounds[KWS_NBOUNDS - 2];
	count = cum[b];
	if (b > 0) {
		start = kws_bounds[b - 1];
		count -= cum[b - 1];
		rank -= cum[b - 1];
	}
	return start + (kws_bounds[b] - start) * (rank / count);
}

double kws_quantile(const struct kws_hist *h, double q)
{
	double fine[KWS_NFINE];

	if (kws_hist_coarse(h))
		return interpolated(h, q);
	if (fine_total(h->fine) == 0)
		return h->nsamples ? nearest_rank(h, q) : NAN;
	kws_hist_fine(h, fine);
	return kws_fine_quantile(fine, q);
}

/* ------------------------------------------------------------------ scopes */

bool kws_scope_arm(const struct kws_scope *s, const char *arm)
{
	return !s->arm || !strcmp(s->arm, arm);
}

bool kws_scope_dest(const struct kws_scope *s, const char *dest)
{
	return !s->dest || !strcmp(s->dest, dest);
}

bool kws_scope_row(const struct kws_scope *s, const struct kws_row *r)
{
	return kws_scope_arm(s, r->arm) && kws_scope_dest(s, r->dest);
}

void kws_scope_latency(const struct kws_scope *s, enum kws_kind kind, struct kws_hist *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < s->set->nrows; i++)
		if (kws_scope_row(s, &s->set->rows[i]))
			kws_hist_merge(out, &s->set->rows[i].latency[kind]);
}
