/* kwstat_boot.c - percentile bootstrap intervals for keepwarm-stat compare:
 * both sides redrawn KWS_RESAMPLES times, by process (Poisson(1) weights)
 * or by request (each fine bucket count c as Poisson(c)), from a fixed seed
 * so the same files always print the same intervals. */
#include "kwstat.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* At least this many processes with requests: redraw by process. */
#define BY_PROCESS_MIN 10
/* A resample where a side has nothing to measure is left out; with fewer
 * than half of them left, there is no interval. */
#define MIN_VALID (KWS_RESAMPLES / 2)

/* --------------------------------------------------------------- randomness */

/* splitmix64: small, fast, and the same sequence everywhere. */
struct rng {
	uint64_t state;
};

static uint64_t rng_next(struct rng *g)
{
	uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double rng_uniform(struct rng *g)
{
	return (double)((rng_next(g) >> 11) + 1) * 0x1.0p-53;
}

/* Poisson(1) by inversion of its distribution function: one draw each. */
static unsigned poisson1(struct rng *g)
{
	static double cdf[16];
	double u = rng_uniform(g);
	unsigned k = 0;

	if (cdf[0] == 0) {
		double p = exp(-1), sum = 0;
		for (unsigned i = 0; i < 16; i++) {
			sum += p;
			cdf[i] = sum;
			p /= i + 1;
		}
		cdf[15] = 1;
	}
	while (u > cdf[k])
		k++;
	return k;
}

/* Poisson(mean): Knuth's product of uniforms for small means, a rounded
 * normal (Box-Muller) for large ones, where it is within a count. */
static double poisson(struct rng *g, double mean)
{
	if (mean <= 0)
		return 0;
	if (mean < 30) {
		double limit = exp(-mean), p = rng_uniform(g);
		unsigned k = 0;
		while (p > limit) {
			p *= rng_uniform(g);
			k++;
		}
		return k;
	}
	double z = sqrt(-2 * log(rng_uniform(g))) * cos(2 * M_PI * rng_uniform(g));
	double v = round(mean + sqrt(mean) * z);
	return v < 0 ? 0 : v;
}

/* ------------------------------------------------------------------- sides */

/* A fine bucket count of one process (or of the whole side). */
struct entry {
	unsigned char kind, index;
	double        count;
};

/* One side made ready for resampling. */
struct side {
	size_t        nprocs;
	size_t       *first;      /* entries of process i: first[i] .. first[i + 1] */
	struct entry *entries;
	double       *run;        /* run seconds, NaN when the file had none */
	size_t        with_run;   /* processes with a run time */
	struct entry *merged;     /* every non-empty fine bucket of the side */
	size_t        nmerged;
	bool          fine_ok[KWS_NKINDS]; /* quantiles from fine buckets */
	bool          by_process;
};

static void *alloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		perror("keepwarm-stat");
		exit(1);
	}
	return p;
}

static void prepare(struct side *sd, const struct kws_scope *scope)
{
	const struct kws_set *set = scope->set;
	size_t nentries = 0, with_requests = 0, p = 0;

	memset(sd, 0, sizeof *sd);
	for (size_t i = 0; i < set->nprocs; i++) {
		const struct kws_proc *proc = &set->procs[i];
		if (!kws_scope_arm(scope, proc->arm))
			continue;
		sd->nprocs++;
		for (size_t d = 0; d < proc->ndests; d++)
			if (kws_scope_dest(scope, proc->dests[d].dest))
				for (int k = 0; k < KWS_NKINDS; k++)
					nentries += proc->dests[d].fine[k].n;
	}
	sd->first = alloc(sd->nprocs + 1, sizeof *sd->first);
	sd->entries = alloc(nentries, sizeof *sd->entries);
	sd->run = alloc(sd->nprocs, sizeof *sd->run);
	nentries = 0;
	for (size_t i = 0; i < set->nprocs; i++) {
		const struct kws_proc *proc = &set->procs[i];
		double requests = 0;
		if (!kws_scope_arm(scope, proc->arm))
			continue;
		sd->first[p] = nentries;
		for (size_t d = 0; d < proc->ndests; d++) {
			if (!kws_scope_dest(scope, proc->dests[d].dest))
				continue;
			requests += proc->dests[d].requests;
			for (int k = 0; k < KWS_NKINDS; k++)
				for (size_t e = 0; e < proc->dests[d].fine[k].n; e++)
					sd->entries[nentries++] = (struct entry){
						(unsigned char)k, (unsigned char)proc->dests[d].fine[k].v[e].index,
						proc->dests[d].fine[k].v[e].count };
		}
		sd->run[p] = proc->has_run ? proc->run_seconds : NAN;
		sd->with_run += proc->has_run;
		with_requests += requests > 0;
		p++;
	}
	sd->first[p] = nentries;
	sd->by_process = with_requests >= BY_PROCESS_MIN;

	sd->merged = alloc(KWS_NKINDS * KWS_NFINE, sizeof *sd->merged);
	for (int k = 0; k < KWS_NKINDS; k++) {
		struct kws_hist h;
		double fine[KWS_NFINE];
		kws_scope_latency(scope, (enum kws_kind)k, &h);
		kws_hist_fine(&h, fine);
		sd->fine_ok[k] = !kws_hist_coarse(&h) && kws_hist_total(&h) > 0;
		for (int i = 0; i < KWS_NFINE; i++)
			if (fine[i] > 0)
				sd->merged[sd->nmerged++] = (struct entry){ (unsigned char)k, (unsigned char)i,
				                                            fine[i] };
		kws_hist_free(&h);
	}
}

static void release(struct side *sd)
{
	free(sd->first);
	free(sd->entries);
	free(sd->run);
	free(sd->merged);
}

/* One resample of a side: its fine buckets and its job time (the side's
 * number of processes times their weighted mean run time, so that the
 * number of processes stays what it was). weight is scratch space. */
static void redraw(struct rng *g, const struct side *sd, unsigned *weight,
                   double fine[KWS_NKINDS][KWS_NFINE], double *job)
{
	double weights = 0, weighted_run = 0;

	memset(fine, 0, sizeof(double) * KWS_NKINDS * KWS_NFINE);
	for (size_t p = 0; p < sd->nprocs; p++) {
		weight[p] = poisson1(g);
		if (!isnan(sd->run[p])) {
			weights += weight[p];
			weighted_run += weight[p] * sd->run[p];
		}
	}
	*job = weights > 0 ? (double)sd->with_run * weighted_run / weights : NAN;
	if (sd->by_process) {
		for (size_t p = 0; p < sd->nprocs; p++)
			if (weight[p])
				for (size_t e = sd->first[p]; e < sd->first[p + 1]; e++)
					fine[sd->entries[e].kind][sd->entries[e].index] +=
						weight[p] * sd->entries[e].count;
	} else {
		for (size_t e = 0; e < sd->nmerged; e++)
			fine[sd->merged[e].kind][sd->merged[e].index] = poisson(g, sd->merged[e].count);
	}
}

/* ---------------------------------------------------------------- intervals */

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The 2.5th and 97.5th percentiles (nearest rank) of the n changes. */
static struct kws_interval percentiles(double *changes, size_t n)
{
	if (n < MIN_VALID)
		return (struct kws_interval){ NAN, NAN };
	qsort(changes, n, sizeof *changes, compare_doubles);
	size_t lo = (size_t)ceil(0.025 * (double)n), hi = (size_t)ceil(0.975 * (double)n);
	return (struct kws_interval){ changes[lo - 1], changes[hi - 1] };
}

/* Each change list: its values so far and how many. */
struct changes {
	double v[KWS_RESAMPLES];
	size_t n;
};

static void add_change(struct changes *c, double a, double b)
{
	if (!isnan(a) && !isnan(b) && a > 0)
		c->v[c->n++] = b / a - 1;
}

void kws_bootstrap(const struct kws_scope scope[2], const double q[], size_t nq,
                   struct kws_boot *out)
{
	struct side sides[2];
	struct rng g = { 0x6b656570776172ULL }; /* "keepwar" */
	static struct changes latency[KWS_NKINDS][KWS_MAX_QUANTILES], job;
	double fine[2][KWS_NKINDS][KWS_NFINE], jobs[2];
	unsigned *weight[2];

	if (nq > KWS_MAX_QUANTILES)
		nq = KWS_MAX_QUANTILES;
	memset(latency, 0, sizeof latency);
	memset(&job, 0, sizeof job);
	for (int s = 0; s < 2; s++) {
		prepare(&sides[s], &scope[s]);
		weight[s] = alloc(sides[s].nprocs, sizeof *weight[s]);
		out->by_process[s] = sides[s].by_process;
	}
	bool job_ok = !scope[0].dest && !scope[1].dest && sides[0].with_run >= 2 &&
	              sides[1].with_run >= 2;
	for (int r = 0; r < KWS_RESAMPLES; r++) {
		for (int s = 0; s < 2; s++)
			redraw(&g, &sides[s], weight[s], fine[s], &jobs[s]);
		for (int k = 0; k < KWS_NKINDS; k++)
			if (sides[0].fine_ok[k] && sides[1].fine_ok[k])
				for (size_t i = 0; i < nq; i++)
					add_change(&latency[k][i], kws_fine_quantile(fine[0][k], q[i]),
					           kws_fine_quantile(fine[1][k], q[i]));
		if (job_ok)
			add_change(&job, jobs[0], jobs[1]);
	}
	for (int k = 0; k < KWS_NKINDS; k++)
		for (size_t i = 0; i < KWS_MAX_QUANTILES; i++)
			out->latency[k][i] = percentiles(latency[k][i].v, i < nq ? latency[k][i].n : 0);
	out->job = percentiles(job.v, job.n);
	for (int s = 0; s < 2; s++) {
		release(&sides[s]);
		free(weight[s]);
	}
}
