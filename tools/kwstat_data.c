/* kwstat_data.c - keepwarm-stat's tables of arms and destinations, and the
 * distributions in them: merging and quantiles. */
#include "kwstat.h"

#include <math.h>
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

void kws_set_free(struct kws_set *set)
{
	for (size_t i = 0; i < set->nrows; i++) {
		free(set->rows[i].arm);
		free(set->rows[i].dest);
		kws_hist_free(&set->rows[i].latency);
		kws_hist_free(&set->rows[i].idle);
	}
	for (size_t i = 0; i < set->narms; i++)
		free(set->arms[i].name);
	free(set->rows);
	free(set->arms);
	memset(set, 0, sizeof *set);
}

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

double kws_hist_total(const struct kws_hist *h)
{
	return h->cumulative[KWS_NBOUNDS - 1] + (double)h->nsamples;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double nearest_rank(const struct kws_hist *h, double q)
{
	double *sorted = malloc(h->nsamples * sizeof *sorted), v;
	/* The tolerance keeps 0.9 * 10 at rank 9 despite rounding. */
	size_t rank = (size_t)ceil(q * (double)h->nsamples - 1e-9);

	if (!sorted) {
		perror("keepwarm-stat");
		exit(1);
	}
	memcpy(sorted, h->samples, h->nsamples * sizeof *sorted);
	qsort(sorted, h->nsamples, sizeof *sorted, compare_doubles);
	v = sorted[rank ? rank - 1 : 0];
	free(sorted);
	return v;
}

double kws_quantile(const struct kws_hist *h, double q)
{
	double cum[KWS_NBOUNDS], rank, start = 0, count;
	size_t b = 0;

	if (h->nsamples && h->cumulative[KWS_NBOUNDS - 1] == 0)
		return nearest_rank(h, q);
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
