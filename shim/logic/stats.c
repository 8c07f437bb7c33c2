/* stats.c - counters, per-destination histograms, Prometheus text. */
#include "logic/stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const uint64_t bounds_us[KW_STATS_BUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};
static const char *const bound_labels[KW_STATS_BUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10", "+Inf",
};

void kw_stats_reset(struct kw_stats *s)
{
	memset(s, 0, sizeof *s);
}

void kw_stats_count(struct kw_stats *s, enum kw_counter c)
{
	if (c < KW_COUNTER_COUNT)
		s->events[c]++;
}

void kw_stats_reason(struct kw_stats *s, enum kw_event e, enum kw_reason r,
                     const struct kw_dest *d)
{
	if (r > KW_REASON_NONE && r < KW_REASON_COUNT &&
	    (e == KW_EVENT_DISCARD || e == KW_EVENT_TAINT || e == KW_EVENT_PASSTHROUGH))
		s->reasons[r][d && d->tls ? 1 : 0]++;
}

static struct kw_dest_stats *dest_stats(struct kw_stats *s, const struct kw_dest *d)
{
	for (unsigned i = 0; i < s->ndests; i++)
		if (kw_dest_equal(&s->dests[i].dest, d))
			return &s->dests[i];
	if (s->ndests < KW_STATS_MAX_DESTS) {
		struct kw_dest_stats *n = &s->dests[s->ndests++];
		memset(n, 0, sizeof *n);
		n->dest = *d;
		return n;
	}
	s->has_other = true;
	return &s->other;
}

static void observe(struct kw_histogram *h, uint64_t us)
{
	unsigned b = 0;

	while (b < KW_STATS_BUCKETS - 1 && us > bounds_us[b])
		b++;
	h->bucket[b]++;
	h->count++;
	h->sum_us += us;
}

void kw_stats_tls(struct kw_stats *s, const struct kw_dest *d)
{
	struct kw_dest plain = *d;
	struct kw_dest_stats *from;

	plain.tls = 0;
	from = dest_stats(s, &plain);
	if (from->dialed)
		from->dialed--;
	dest_stats(s, d)->dialed++;
}

void kw_stats_connection(struct kw_stats *s, const struct kw_dest *d, bool reused,
                         uint64_t idle_us)
{
	struct kw_dest_stats *ds = dest_stats(s, d);

	if (reused) {
		ds->reused++;
		observe(&ds->idle, idle_us);
	} else {
		ds->dialed++;
	}
}

/* 2^(b/4) seconds in microseconds, from the four quarter powers of two:
 * exact enough, and no libm in the library. */
static double fine_bound_us(int b)
{
	static const double quarter[4] = { 1.0, 1.189207115002721, 1.4142135623730951,
	                                   1.681792830507429 };
	int q = b >= 0 ? b / 4 : -((3 - b) / 4);
	double v = 1e6 * quarter[b - 4 * q];

	for (; q > 0; q--)
		v *= 2;
	for (; q < 0; q++)
		v /= 2;
	return v;
}

int kw_stats_fine_bucket(uint64_t us)
{
	int lo = KW_FINE_MIN, hi = KW_FINE_MAX; /* the answer is in [lo, hi] */

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if ((double)us <= fine_bound_us(mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void kw_stats_request(struct kw_stats *s, const struct kw_dest *d, uint64_t request_us,
                      uint64_t wait_us)
{
	struct kw_dest_stats *ds = dest_stats(s, d);

	ds->requests++;
	observe(&ds->latency, request_us);
	observe(&ds->wait, wait_us);
	ds->fine_request.bucket[kw_stats_fine_bucket(request_us) - KW_FINE_MIN]++;
	ds->fine_wait.bucket[kw_stats_fine_bucket(wait_us) - KW_FINE_MIN]++;
}

/* ---- text ---- */

struct out {
	char *buf;
	size_t size, len;
};

static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
	              o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void histogram(struct out *o, const char *name, const char *base, const char *dest,
                      const struct kw_histogram *h)
{
	uint64_t cumulative = 0;

	for (unsigned b = 0; b < KW_STATS_BUCKETS; b++) {
		cumulative += h->bucket[b];
		emit(o, "%s_bucket{%s,%s,le=\"%s\"} %llu\n", name, base, dest,
		     bound_labels[b], (unsigned long long)cumulative);
	}
	emit(o, "%s_sum{%s,%s} %llu.%06llu\n", name, base, dest,
	     (unsigned long long)(h->sum_us / 1000000), (unsigned long long)(h->sum_us % 1000000));
	emit(o, "%s_count{%s,%s} %llu\n", name, base, dest, (unsigned long long)h->count);
}

/* Call fn for every destination that saw something, "other" last, with its
 * labels: dest="127.0.0.1:8443", and tls="1" after it for a TLS one. */
static void each_dest(struct out *o, const struct kw_stats *s, const char *base,
                      void (*fn)(struct out *, const char *, const char *,
                                 const struct kw_dest_stats *))
{
	char name[64], labels[96];

	for (unsigned i = 0; i < s->ndests; i++) {
		const struct kw_dest_stats *d = &s->dests[i];
		/* A plain destination whose one dial turned out to be TLS's. */
		if (!d->requests && !d->dialed && !d->reused)
			continue;
		kw_dest_format(&s->dests[i].dest, name, sizeof name);
		snprintf(labels, sizeof labels, "dest=\"%s\"%s", name,
		         s->dests[i].dest.tls ? ",tls=\"1\"" : "");
		fn(o, base, labels, &s->dests[i]);
	}
	if (s->has_other)
		fn(o, base, "dest=\"other\"", &s->other);
}

static void requests_line(struct out *o, const char *base, const char *dest,
                          const struct kw_dest_stats *d)
{
	emit(o, "keepwarm_requests_total{%s,%s} %llu\n", base, dest,
	     (unsigned long long)d->requests);
}

static void connections_lines(struct out *o, const char *base, const char *dest,
                              const struct kw_dest_stats *d)
{
	emit(o, "keepwarm_connections_total{%s,%s,how=\"dialed\"} %llu\n", base, dest,
	     (unsigned long long)d->dialed);
	emit(o, "keepwarm_connections_total{%s,%s,how=\"reused\"} %llu\n", base, dest,
	     (unsigned long long)d->reused);
}

static void latency_lines(struct out *o, const char *base, const char *dest,
                          const struct kw_dest_stats *d)
{
	histogram(o, "keepwarm_request_duration_seconds", base, dest, &d->latency);
}

static void wait_lines(struct out *o, const char *base, const char *dest,
                       const struct kw_dest_stats *d)
{
	histogram(o, "keepwarm_request_wait_seconds", base, dest, &d->wait);
}

static void fine_series(struct out *o, const char *base, const char *dest, const char *from,
                        const struct kw_fine *f)
{
	for (int i = 0; i < KW_FINE_BUCKETS; i++)
		if (f->bucket[i])
			emit(o, "keepwarm_request_fine_total{%s,%s,from=\"%s\",b=\"%d\"} %llu\n",
			     base, dest, from, i + KW_FINE_MIN, (unsigned long long)f->bucket[i]);
}

static void fine_lines(struct out *o, const char *base, const char *dest,
                       const struct kw_dest_stats *d)
{
	fine_series(o, base, dest, "connect", &d->fine_wait);
	fine_series(o, base, dest, "request", &d->fine_request);
}

static void seconds(struct out *o, const char *name, const char *base, uint64_t us)
{
	emit(o, "%s{%s} %llu.%06llu\n", name, base, (unsigned long long)(us / 1000000),
	     (unsigned long long)(us % 1000000));
}

static void idle_lines(struct out *o, const char *base, const char *dest,
                       const struct kw_dest_stats *d)
{
	histogram(o, "keepwarm_idle_seconds", base, dest, &d->idle);
}

size_t kw_stats_format(const struct kw_stats *s, const struct kw_stats_labels *l, char *buf,
                       size_t size)
{
	struct out o = { buf, size, 0 };
	char base[64], program[64];
	size_t n = 0;

	/* Label values stay plain: no quotes or backslashes to escape. */
	for (const char *p = l->program ? l->program : "?"; *p && n < sizeof program - 1; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')
			program[n++] = *p;
	program[n] = '\0';
	snprintf(base, sizeof base, "arm=\"%s\",pid=\"%ld\"", l->arm, l->pid);
	if (size)
		buf[0] = '\0';

	/* Tells a file of this process group from one left by another run. */
	emit(&o, "# keepwarm process group %ld\n", l->pgid);
	emit(&o, "# HELP keepwarm_info keepwarm build and A/B arm of this process.\n"
	         "# TYPE keepwarm_info gauge\n"
	         "keepwarm_info{%s,program=\"%s\",version=\"%s\",build_id=\"%s\"} 1\n", base, program,
	         l->version, l->build_id ? l->build_id : "");
	emit(&o, "# HELP keepwarm_events_total Connection decisions, by event.\n"
	         "# TYPE keepwarm_events_total counter\n");
	for (unsigned c = 0; c < KW_COUNTER_COUNT; c++)
		emit(&o, "keepwarm_events_total{%s,event=\"%s\"} %llu\n", base,
		     kw_counter_name((enum kw_counter)c),
		     (unsigned long long)s->events[c]);
	emit(&o, "# HELP keepwarm_reasons_total Connections closed for real, passed through or "
	         "tainted, by event and reason, TLS and plain apart; only reasons that occurred.\n"
	         "# TYPE keepwarm_reasons_total counter\n");
	for (unsigned r = 1; r < KW_REASON_COUNT; r++)
		for (unsigned t = 0; t < 2; t++)
			if (s->reasons[r][t])
				emit(&o, "keepwarm_reasons_total{%s,event=\"%s\",reason=\"%s\",tls=\"%u\"} %llu\n",
				     base, kw_event_name(kw_reason_event((enum kw_reason)r)),
				     kw_reason_name((enum kw_reason)r), t,
				     (unsigned long long)s->reasons[r][t]);
	emit(&o, "# HELP keepwarm_requests_total Requests answered (final response fully read), by destination.\n"
	         "# TYPE keepwarm_requests_total counter\n");
	each_dest(&o, s, base, requests_line);
	emit(&o, "# HELP keepwarm_connections_total Connections used, by destination and how they were obtained.\n"
	         "# TYPE keepwarm_connections_total counter\n");
	each_dest(&o, s, base, connections_lines);
	emit(&o, "# HELP keepwarm_request_wait_seconds Latency as the program saw it: its connect() "
	         "(first request on a connection) or first request byte (later ones) to last "
	         "response byte read.\n"
	         "# TYPE keepwarm_request_wait_seconds histogram\n");
	each_dest(&o, s, base, wait_lines);
	emit(&o, "# HELP keepwarm_request_duration_seconds First request byte written to last response byte read.\n"
	         "# TYPE keepwarm_request_duration_seconds histogram\n");
	each_dest(&o, s, base, latency_lines);
	emit(&o, "# HELP keepwarm_request_fine_total Requests by latency in fine buckets: b holds "
	         "2^((b-1)/4) < seconds <= 2^(b/4); only non-empty buckets are written.\n"
	         "# TYPE keepwarm_request_fine_total counter\n");
	each_dest(&o, s, base, fine_lines);
	emit(&o, "# HELP keepwarm_idle_seconds How long a reused connection had been parked.\n"
	         "# TYPE keepwarm_idle_seconds histogram\n");
	each_dest(&o, s, base, idle_lines);
	emit(&o, "# HELP keepwarm_process_start_time_seconds When this process started (keepwarm's "
	         "start in it, or its fork), in seconds since the epoch.\n"
	         "# TYPE keepwarm_process_start_time_seconds gauge\n");
	seconds(&o, "keepwarm_process_start_time_seconds", base, l->start_unix_us);
	emit(&o, "# HELP keepwarm_process_run_seconds How long this process ran: start to exit, "
	         "or start to this write while it runs.\n"
	         "# TYPE keepwarm_process_run_seconds gauge\n");
	seconds(&o, "keepwarm_process_run_seconds", base, l->run_us);
	emit(&o, "# HELP keepwarm_tls_parked TLS sessions parked with their connections now.\n"
	         "# TYPE keepwarm_tls_parked gauge\n"
	         "keepwarm_tls_parked{%s} %llu\n", base, (unsigned long long)l->tls_parked);
	emit(&o, "# HELP keepwarm_tls_parked_bytes Memory the parked TLS sessions hold (an "
	         "estimate: what freeing one released, on average).\n"
	         "# TYPE keepwarm_tls_parked_bytes gauge\n"
	         "keepwarm_tls_parked_bytes{%s} %llu\n", base,
	     (unsigned long long)l->tls_parked_bytes);
	emit(&o, "# HELP keepwarm_process_exited 1 in the file written at exit, 0 in one written "
	         "on schedule while the process runs.\n"
	         "# TYPE keepwarm_process_exited gauge\n"
	         "keepwarm_process_exited{%s} %d\n", base, l->exited ? 1 : 0);
	return o.len;
}
