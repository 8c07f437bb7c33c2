/* kwstat_input.c - read keepwarm stats files (docs/formats.md, "Stats")
 * into a kws_set, and tell them from trace logs (kwstat_trace.c); malformed
 * lines are rejected with "keepwarm-stat: FILE:LINE: message". */
#include "kwstat_reader.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------ stats files */

#define MAX_LABELS 16

struct sample {
	char  *name;
	char  *label_names[MAX_LABELS];
	char  *label_values[MAX_LABELS];
	size_t nlabels;
	double value;
};

/* A histogram series being read: its buckets must come together, in the
 * documented order, with counts that never decrease. */
struct bucket_run {
	char  *key;       /* metric name and labels other than le; NULL = none */
	size_t next;      /* index of the bound expected next */
	double last;      /* previous cumulative count */
};

static bool metric_name_char(int c, bool first)
{
	return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

static char *skip_space(char *p)
{
	return p + strspn(p, " \t");
}

/* Parse "name{l1="v1",...} value [timestamp]" in place: names and decoded
 * label values end up NUL-terminated inside line. */
static int parse_sample(const struct reader *r, char *line, struct sample *s)
{
	char *p = line, *end;

	s->nlabels = 0;
	if (!metric_name_char((unsigned char)*p, true))
		return bad(r, "not a comment, a blank line or a sample: \"%.60s\"", line);
	s->name = p;
	while (metric_name_char((unsigned char)*p, false))
		p++;
	char after_name = *p;
	*p = '\0';
	if (after_name == '{') {
		for (p = skip_space(p + 1); *p != '}'; p = skip_space(p)) {
			char *name = p;
			if (!isalpha((unsigned char)*p) && *p != '_')
				return bad(r, "bad label name in %s", s->name);
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			char *name_end = p;
			p = skip_space(p);
			if (*p != '=' || *(p = skip_space(p + 1)) != '"')
				return bad(r, "label %.*s of %s is not name=\"value\"",
				           (int)(name_end - name), name, s->name);
			*name_end = '\0';
			char *value = ++p, *w = value;
			for (; *p != '"'; p++) {
				if (!*p)
					return bad(r, "unterminated label value in %s", s->name);
				if (*p == '\\') {
					p++;
					if (*p == 'n')
						*w++ = '\n';
					else if (*p == '\\' || *p == '"')
						*w++ = *p;
					else
						return bad(r, "bad escape \\%c in a label of %s", *p ? *p : ' ',
						           s->name);
				} else
					*w++ = *p;
			}
			*w = '\0';
			if (s->nlabels == MAX_LABELS)
				return bad(r, "more than %d labels on %s", MAX_LABELS, s->name);
			s->label_names[s->nlabels] = name;
			s->label_values[s->nlabels++] = value;
			p = skip_space(p + 1);
			if (*p == ',')
				p = skip_space(p + 1);
			else if (*p != '}')
				return bad(r, "expected , or } after a label of %s", s->name);
		}
		p++;
		after_name = *p;
	}
	if (after_name != ' ' && after_name != '\t')
		return bad(r, "expected a space and a value after %s", s->name);
	char *value = skip_space(p + 1);
	size_t len = strcspn(value, " \t");
	char saved = value[len];
	value[len] = '\0';
	errno = 0;
	s->value = strtod(value, &end);
	if (!len || *end || errno == ERANGE)
		return bad(r, "value \"%s\" of %s is not a number", value, s->name);
	value[len] = saved;
	p = skip_space(value + len);
	if (*p) { /* an optional timestamp in milliseconds */
		char *ts = p + (*p == '-');
		len = strspn(ts, "0123456789");
		if (!len || !blank(ts + len))
			return bad(r, "\"%s\" after the value of %s is not a timestamp", p, s->name);
	}
	return 0;
}

static const char *label(const struct sample *s, const char *name)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (!strcmp(s->label_names[i], name))
			return s->label_values[i];
	return NULL;
}

static int need_label(const struct reader *r, const struct sample *s, const char *name,
                      const char **out)
{
	if (!(*out = label(s, name)))
		return bad(r, "%s has no %s label", s->name, name);
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static int bound_index(const char *le)
{
	char *end;
	double v = strtod(le, &end);

	if (end == le || *end)
		return -1;
	for (int i = 0; i < KWS_NBOUNDS; i++)
		if (isinf(kws_bounds[i]) ? isinf(v) && v > 0 : fabs(v - kws_bounds[i]) <= 1e-9 * kws_bounds[i])
			return i;
	return -1;
}

static void format_le(char *buf, size_t size, size_t i)
{
	if (isinf(kws_bounds[i]))
		snprintf(buf, size, "+Inf");
	else
		snprintf(buf, size, "%g", kws_bounds[i]);
}

static int end_bucket_run(const struct reader *r, struct bucket_run *run)
{
	char le[16];

	if (run->key && run->next < KWS_NBOUNDS) {
		format_le(le, sizeof le, run->next);
		free(run->key);
		run->key = NULL;
		return bad(r, "histogram buckets end before le=\"%s\"", le);
	}
	free(run->key);
	run->key = NULL;
	return 0;
}

/* Returns the bound's index, or -1 after an error. */
static int take_bucket(const struct reader *r, const struct sample *s, struct bucket_run *run,
                       struct kws_hist *h)
{
	const char *le;
	char key[1024], want[16];
	size_t len = (size_t)snprintf(key, sizeof key, "%s", s->name);

	if (need_label(r, s, "le", &le) < 0)
		return -1;
	for (size_t i = 0; i < s->nlabels && len < sizeof key; i++)
		if (strcmp(s->label_names[i], "le"))
			len += (size_t)snprintf(key + len, sizeof key - len, "\n%s=%s", s->label_names[i],
			                        s->label_values[i]);
	if (!run->key || strcmp(run->key, key)) {
		if (end_bucket_run(r, run) < 0)
			return -1;
		if (!(run->key = strdup(key))) {
			perror("keepwarm-stat");
			exit(1);
		}
		run->next = 0;
		run->last = 0;
	}
	int i = bound_index(le);
	if (run->next >= KWS_NBOUNDS)
		return bad(r, "%s: a bucket after le=\"+Inf\"", s->name);
	format_le(want, sizeof want, run->next);
	if (i != (int)run->next)
		return bad(r, "%s: le=\"%s\" where le=\"%s\" was expected", s->name, le, want);
	if (s->value < run->last)
		return bad(r, "%s: cumulative count %g below the previous bucket's %g", s->name,
		           s->value, run->last);
	run->last = s->value;
	run->next++;
	h->cumulative[i] += s->value;
	return i;
}

/* The row of a per-destination sample: its dest label, and tls="1" for a
 * TLS destination (no tls label: a plain one). NULL after an error. */
static struct kws_row *dest_row(const struct reader *r, const struct sample *s, const char *arm)
{
	const char *dest, *tls = label(s, "tls");

	if (need_label(r, s, "dest", &dest) < 0)
		return NULL;
	if (tls && strcmp(tls, "1")) {
		bad(r, "%s: tls=\"%s\" is not \"1\" (a TLS destination; plain ones have no tls label)",
		    s->name, tls);
		return NULL;
	}
	return kws_dest_row(r->set, arm, dest, tls != NULL);
}

/* The process a sample belongs to, by its pid label. */
static struct kws_proc *proc_of(const struct reader *r, const struct sample *s, const char *arm)
{
	const char *pid = label(s, "pid");
	return kws_proc(r->set, r->file, arm, pid ? pid : "");
}

/* keepwarm_request_fine_total{...,dest,from,b}: into the row and the process. */
static int take_fine(const struct reader *r, const struct sample *s, const char *arm)
{
	const char *from, *b;
	char *end;
	enum kws_kind kind;
	struct kws_row *row;

	if (need_label(r, s, "from", &from) < 0 || need_label(r, s, "b", &b) < 0 ||
	    !(row = dest_row(r, s, arm)))
		return -1;
	errno = 0;
	long index = strtol(b, &end, 10);
	if (end == b || *end || errno || index < KWS_FINE_MIN || index > KWS_FINE_MAX)
		return bad(r, "%s: b=\"%s\" is not a fine bucket (a whole number from %d to %d)",
		           s->name, b, KWS_FINE_MIN, KWS_FINE_MAX);
	if (!strcmp(from, "connect"))
		kind = KWS_WAIT;
	else if (!strcmp(from, "request"))
		kind = KWS_REQUEST_ONLY;
	else
		return 0; /* a latency of a later format */
	int i = (int)index - KWS_FINE_MIN;
	row->latency[kind].fine[i] += s->value;
	kws_sparse_add(&kws_proc_dest(proc_of(r, s, arm), row->dest)->fine[kind], i, s->value);
	return 0;
}

/* The bucket of a latency or idle histogram; a latency's +Inf bucket is the
 * process's number of coarse observations. */
static int take_histogram(const struct reader *r, const struct sample *s, const char *arm,
                          struct bucket_run *run)
{
	static const char *const latencies[KWS_NKINDS] = {
		[KWS_WAIT] = "keepwarm_request_wait_seconds_bucket",
		[KWS_REQUEST_ONLY] = "keepwarm_request_duration_seconds_bucket",
	};
	struct kws_row *row = dest_row(r, s, arm);

	if (!row)
		return -1;
	for (int k = 0; k < KWS_NKINDS; k++) {
		if (strcmp(s->name, latencies[k]))
			continue;
		int i = take_bucket(r, s, run, &row->latency[k]);
		if (i == KWS_NBOUNDS - 1)
			kws_proc_dest(proc_of(r, s, arm), row->dest)->coarse[k] += s->value;
		return i < 0 ? -1 : 0;
	}
	return take_bucket(r, s, run, &row->idle) < 0 ? -1 : 0;
}

/* keepwarm_process_*: start time, run time, exited. */
static void take_process(const struct reader *r, const struct sample *s, const char *arm)
{
	struct kws_proc *p = proc_of(r, s, arm);

	if (!strcmp(s->name, "keepwarm_process_start_time_seconds")) {
		p->start_time = s->value;
		p->has_start = true;
	} else if (!strcmp(s->name, "keepwarm_process_run_seconds")) {
		p->run_seconds = s->value;
		p->has_run = true;
	} else {
		p->exited = s->value != 0;
		p->has_exited = true;
	}
}

/* One keepwarm_broker_* sample (a keepwarmd stats file): into the broker
 * row of its dest; the broker's own totals have none and are left alone. */
static int take_broker(const struct reader *r, const struct sample *s)
{
	const char *dest = label(s, "dest"), *what;
	struct kws_broker_row *b;

	if (!dest)
		return 0;
	b = kws_broker_row(r->set, dest);
	if (!strcmp(s->name, "keepwarm_broker_parked")) {
		b->parked += s->value;
	} else if (!strcmp(s->name, "keepwarm_broker_handoffs_total")) {
		if ((what = label(s, "direction")) && !strcmp(what, "in"))
			b->given += s->value;
	} else if (!strcmp(s->name, "keepwarm_broker_takes_total")) {
		if (!(what = label(s, "result")))
			return 0;
		if (!strcmp(what, "hit"))
			b->hits += s->value;
		else if (!strcmp(what, "miss"))
			b->misses += s->value;
	} else if (!strcmp(s->name, "keepwarm_broker_discards_total")) {
		if ((what = label(s, "reason")) && !strcmp(what, "expired"))
			b->expired += s->value;
		else
			b->closed += s->value;
	}
	return 0;
}

/* Add one keepwarm_* sample to the set; other metrics, and keepwarm_
 * families this version does not know, are left alone. */
static int take_sample(const struct reader *r, const struct sample *s, struct bucket_run *run)
{
	const char *arm = label(s, "arm"), *what;
	struct kws_row *row;
	bool bucket = has_suffix(s->name, "_bucket");

	if (strncmp(s->name, "keepwarm_", 9))
		return 0;
	if (!bucket && end_bucket_run(r, run) < 0)
		return -1;
	if (!isfinite(s->value) || s->value < 0)
		return bad(r, "%s: %g is not a count", s->name, s->value);
	if (!strncmp(s->name, "keepwarm_broker_", 16))
		return take_broker(r, s);
	if (!arm)
		arm = "";
	if (!strcmp(s->name, "keepwarm_info")) {
		kws_arm(r->set, arm)->processes++;
		proc_of(r, s, arm);
	} else if (!strcmp(s->name, "keepwarm_events_total")) {
		if (need_label(r, s, "event", &what) < 0)
			return -1;
		for (int e = 0; e < KWS_NEVENTS; e++)
			if (!strcmp(what, kws_event_names[e]))
				kws_arm(r->set, arm)->events[e] += s->value;
	} else if (!strcmp(s->name, "keepwarm_requests_total")) {
		if (!(row = dest_row(r, s, arm)))
			return -1;
		struct kws_proc *p = proc_of(r, s, arm);
		row->requests += s->value;
		p->requests += s->value;
		kws_proc_dest(p, row->dest)->requests += s->value;
	} else if (!strcmp(s->name, "keepwarm_connections_total")) {
		if (!(row = dest_row(r, s, arm)) || need_label(r, s, "how", &what) < 0)
			return -1;
		if (!strcmp(what, "dialed"))
			row->dialed += s->value;
		else if (!strcmp(what, "reused"))
			row->reused += s->value;
	} else if (!strcmp(s->name, "keepwarm_request_fine_total")) {
		return take_fine(r, s, arm);
	} else if (!strcmp(s->name, "keepwarm_request_wait_seconds_bucket") ||
	           !strcmp(s->name, "keepwarm_request_duration_seconds_bucket") ||
	           !strcmp(s->name, "keepwarm_idle_seconds_bucket")) {
		return take_histogram(r, s, arm, run);
	} else if (!strcmp(s->name, "keepwarm_process_start_time_seconds") ||
	           !strcmp(s->name, "keepwarm_process_run_seconds") ||
	           !strcmp(s->name, "keepwarm_process_exited")) {
		take_process(r, s, arm);
	}
	return 0;
}

/* A latency a process of this file has only in coarse buckets (a file from
 * before the fine buckets) marks its row: quantiles there interpolate. */
static void mark_coarse_only(const struct reader *r)
{
	struct kws_set *set = r->set;

	for (size_t i = r->first_proc; i < set->nprocs; i++) {
		const struct kws_proc *p = &set->procs[i];
		for (size_t d = 0; d < p->ndests; d++)
			for (int k = 0; k < KWS_NKINDS; k++)
				if (p->dests[d].coarse[k] > 0 && kws_sparse_total(&p->dests[d].fine[k]) == 0)
					kws_row(set, p->arm, p->dests[d].dest)->latency[k].coarse_only +=
						p->dests[d].coarse[k];
	}
}

/* "# HELP name text", "# TYPE name type"; any other # line is a comment. */
static int check_comment(const struct reader *r, char *line)
{
	static const char *const types[] = { "counter", "gauge", "histogram", "summary", "untyped" };
	bool help = !strncmp(line, "# HELP ", 7), type = !strncmp(line, "# TYPE ", 7);
	char *p, *name;

	if (!help && !type)
		return 0;
	p = name = skip_space(line + 7);
	if (!metric_name_char((unsigned char)*p, true))
		return bad(r, "%.6s without a metric name", line);
	while (metric_name_char((unsigned char)*p, false))
		p++;
	if (*p && *p != ' ' && *p != '\t')
		return bad(r, "bad metric name in %.6s", line);
	if (type) {
		char *kind = skip_space(p);
		size_t len = strcspn(kind, " \t");
		if (!blank(kind + len))
			return bad(r, "unexpected text after the type");
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (len == strlen(types[i]) && !strncmp(kind, types[i], len))
				return 0;
		return bad(r, "\"%.*s\" is not a metric type", (int)len, kind);
	}
	return 0;
}

static int read_stats(struct reader *r, FILE *f, char **buf, size_t *cap)
{
	struct bucket_run run = { 0 };
	struct sample s;
	int rc = 0;

	r->file = ++r->set->stats_files;
	r->first_proc = r->set->nprocs;
	while (rc == 0 && next_line(r, f, buf, cap)) {
		char *line = *buf;
		if (blank(line))
			continue;
		if (line[0] == '#')
			rc = check_comment(r, line);
		else if ((rc = parse_sample(r, line, &s)) == 0)
			rc = take_sample(r, &s, &run);
	}
	if (rc == 0)
		rc = end_bucket_run(r, &run); /* at the last line read */
	if (rc == 0)
		mark_coarse_only(r);
	free(run.key);
	return rc;
}

/* ------------------------------------------------------------------ files */

int kws_error(const char *fmt, ...)
{
	va_list ap;

	fputs("keepwarm-stat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

bool next_line(struct reader *r, FILE *f, char **buf, size_t *cap)
{
	if (r->pending) {
		r->pending = false;
		return true;
	}
	if (getline(buf, cap, f) < 0)
		return false;
	r->line++;
	(*buf)[strcspn(*buf, "\n")] = '\0';
	return true;
}

enum file_kind { FILE_EMPTY, FILE_TRACE, FILE_STATS, FILE_OTHER };

/* A file is told by its first non-blank line, left pending in buf. */
static enum file_kind classify(struct reader *r, FILE *f, char **buf, size_t *cap)
{
	while (next_line(r, f, buf, cap)) {
		if (blank(*buf))
			continue;
		r->pending = true;
		if (!strncmp(*buf, "ts=", 3))
			return FILE_TRACE;
		if (**buf == '#' || !strncmp(*buf, "keepwarm_", 9))
			return FILE_STATS;
		return FILE_OTHER;
	}
	return FILE_EMPTY;
}

/* Read the open file f, named name in messages, into set. */
static int read_stream(struct kws_set *set, FILE *f, const char *name, enum kws_accept accept)
{
	struct reader r = { .path = name, .set = set };
	char *buf = NULL;
	size_t cap = 0;
	int rc;

	switch (classify(&r, f, &buf, &cap)) {
	case FILE_TRACE:
		rc = accept == KWS_STATS_ONLY ? bad(&r, "a trace log, not a stats file")
		                              : read_trace(&r, f, &buf, &cap);
		break;
	case FILE_STATS:
		rc = read_stats(&r, f, &buf, &cap);
		break;
	case FILE_EMPTY: /* a trace opened by a process that made no connection */
		if (accept == KWS_STATS_ONLY)
			kws_error("%s: empty, not a stats file", name);
		rc = accept == KWS_STATS_ONLY ? -1 : 0;
		break;
	default:
		rc = bad(&r, "neither a trace line (ts=...) nor a stats line (# HELP, # TYPE, keepwarm_...)");
		break;
	}
	if (rc == 0 && ferror(f))
		rc = kws_error("%s: %s", name, strerror(errno));
	free(buf);
	return rc;
}

static int read_file(struct kws_set *set, const char *path, enum kws_accept accept)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return kws_error("%s: %s", path, strerror(errno));
	int rc = read_stream(set, f, path, accept);
	fclose(f);
	return rc;
}

/* Skip dot files and the library's temporary "<path>.tmp.<pid>" files. */
static int stats_candidate(const struct dirent *d)
{
	return d->d_name[0] != '.' && !strstr(d->d_name, ".tmp.");
}

int kws_read_path(struct kws_set *set, const char *path, enum kws_accept accept)
{
	struct dirent **names;
	struct stat st;
	int n, rc = 0;

	if (!strcmp(path, "-"))
		return read_stream(set, stdin, KWS_STDIN_NAME, accept);
	if (stat(path, &st) < 0) {
		kws_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return read_file(set, path, accept);
	n = scandir(path, &names, stats_candidate, alphasort);
	if (n < 0) {
		kws_error("%s: %s", path, strerror(errno));
		return -1;
	}
	size_t before = set->stats_files;
	for (int i = 0; i < n; i++) {
		char *file;
		size_t len = strlen(path);
		bool slash = len && path[len - 1] == '/';
		if (rc == 0 && asprintf(&file, "%s%s%s", path, slash ? "" : "/", names[i]->d_name) >= 0) {
			if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
				rc = read_file(set, file, KWS_STATS_ONLY);
			free(file);
		}
		free(names[i]);
	}
	free(names);
	if (rc == 0 && set->stats_files == before) {
		kws_error("%s: no stats files in this directory", path);
		rc = -1;
	}
	return rc;
}
