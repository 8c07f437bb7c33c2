/* keepwarm-stat - summarise keepwarm trace logs and stats files, and compare
 * the two arms of an A/B run.
 *
 *   keepwarm-stat summary FILE...
 *   keepwarm-stat compare [--by-dest] [--plot FILE.svg] A B
 *   keepwarm-stat help COMMAND
 *
 * Exit status: 0, 1 for unreadable or malformed input, 2 for usage errors. */
#include "kwstat.h"
#include "logic/version.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


enum { EXIT_INPUT = 1, EXIT_USAGE = 2 };

static const double quantiles[] = { 0.5, 0.9, 0.99 };
#define NQUANTILES (sizeof quantiles / sizeof quantiles[0])

#define SUMMARY_SYNOPSIS "keepwarm-stat summary FILE...\n"
#define COMPARE_SYNOPSIS \
	"keepwarm-stat compare [--by-dest] [--plot FILE.svg] A B\n" \
	"       keepwarm-stat compare [--by-dest] [--plot FILE.svg] --a PATH --b PATH\n" \
	"       keepwarm-stat compare [--by-dest] [--plot FILE.svg] --by-arm PATH...\n"

static const char summary_about[] =
	"Per destination (and arm, when there are several), from trace logs and\n"
	"stats files in any mix, told apart by their content: requests, connections\n"
	"dialed and reused, reuse ratio, idle time and latency percentiles: lat-p50,\n"
	"-p90, -p99 of what the program waited (from its connect() or first byte\n"
	"written), req-p50 of the request alone (first byte written to last byte\n"
	"read); a TLS destination is a row of its own, https://ADDRESS:PORT. A FILE\n"
	"of - is standard input. Lines of a trace log that are not trace lines (the\n"
	"program's own, in a trace sent to stderr) are skipped, and counted on\n"
	"stderr.\n";

static const char summary_options[] =
	"  -h, --help          print this help and exit\n";

static const char compare_about[] =
	"Two sides, each a stats file or a directory of them (a PATH of - is a stats\n"
	"file on standard input, for one side at most), side by side: latency\n"
	"p50/p90/p99 and job time (the run time of the processes added up) with B-A,\n"
	"the change B/A-1 and its 95% bootstrap interval, then request-only latency,\n"
	"processes, requests, connections, reuse and errors, then warnings about\n"
	"what is too thin to tell.\n";

static const char compare_options[] =
	"  --a PATH, --b PATH  add PATH to side A or B (repeat them for more)\n"
	"  --by-arm            split the PATHs by their arm label, off (A) against on (B)\n"
	"  --by-dest           repeat the latency and connection lines per destination\n"
	"  --plot FILE.svg     draw both sides' latency distributions into FILE.svg\n"
	"  -h, --help          print this help and exit\n";

/* keepwarm-stat --help: every synopsis, what each command prints and its
 * options. */
static void usage(void)
{
	printf("usage: " SUMMARY_SYNOPSIS
	       "       " COMPARE_SYNOPSIS
	       "       keepwarm-stat help COMMAND | COMMAND --help\n"
	       "       keepwarm-stat --help | --version\n\n"
	       "summary:\n%s%s\ncompare:\n%s%s",
	       summary_about, summary_options, compare_about, compare_options);
}

/* keepwarm-stat COMMAND --help. */
static void command_usage(const char *command)
{
	bool summary = !strcmp(command, "summary");

	printf("usage: %s\n%s\noptions:\n%s", summary ? SUMMARY_SYNOPSIS : COMPARE_SYNOPSIS,
	       summary ? summary_about : compare_about, summary ? summary_options : compare_options);
}

/* Print the error and where to read more (the command's help when there is
 * a command), both lines starting "keepwarm-stat: ", and exit 2. */
static void usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("keepwarm-stat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nkeepwarm-stat: try 'keepwarm-stat %s%s--help'\n", command ? command : "",
	        command ? " " : "");
	exit(EXIT_USAGE);
}

/* Values of long options (but --a and --b, which are -a and -b): above any
 * char, so that getopt's optopt tells "--help=x" from "-h". */
enum { OPT_LONG = 256, OPT_PLOT = OPT_LONG, OPT_BY_ARM, OPT_BY_DEST, OPT_HELP };

/* The usage error for what getopt_long just refused (opt '?' or ':'). */
static void option_error(const char *command, const struct option *longopts, char **argv,
                         int opt)
{
	const char *name = NULL;

	for (const struct option *o = longopts; o->name; o++)
		if (optopt && o->val == optopt)
			name = o->name;
	if (opt == ':') /* optopt is the option, long or short */
		usage_error(command, "--%s needs %s", name ? name : "?",
		            optopt == OPT_PLOT ? "a file name" : "a path");
	if (optopt >= OPT_LONG) /* a long option without a value, given one */
		usage_error(command, "--%s takes no value", name);
	if (optopt) /* a short option; or "--name" left at argv[optind - 1] */
		usage_error(command, "unknown option '-%c' to %s", optopt, command);
	const char *arg = argv[optind - 1];
	int len = (int)strcspn(arg, "="), matches = 0;
	for (const struct option *o = longopts; o->name; o++) /* getopt takes abbreviations */
		matches += len > 2 && !strncmp(o->name, arg + 2, (size_t)len - 2);
	if (matches > 1) {
		char names[128] = "";
		for (const struct option *o = longopts; o->name; o++)
			if (!strncmp(o->name, arg + 2, (size_t)len - 2))
				snprintf(names + strlen(names), sizeof names - strlen(names), "%s--%s",
				         names[0] ? " or " : "", o->name);
		usage_error(command, "option '%.*s' of %s is ambiguous: %s", len, arg, command, names);
	}
	usage_error(command, "unknown option '%.*s' to %s", len, arg, command);
}

/* How many of paths are "-", standard input, which can be read once. */
static size_t dashes(char *const paths[], size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += !strcmp(paths[i], "-");
	return count;
}

/* ------------------------------------------------------------- formatting */

/* Three significant digits in a unit that keeps the number below 1000. */
static const char *fmt_seconds(char *buf, size_t size, double s)
{
	static const struct { const char *unit; double scale; } units[] = {
		{ "us", 1e6 }, { "ms", 1e3 }, { "s", 1 },
	};

	if (isnan(s))
		return "-";
	if (s == 0)
		return "0";
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		snprintf(buf, size, "%.3g%s", s * units[i].scale, units[i].unit);
		if (fabs(strtod(buf, NULL)) < 1000)
			return buf;
	}
	snprintf(buf, size, "%.0fs", s);
	return buf;
}

static const char *fmt_count(char *buf, size_t size, double v)
{
	snprintf(buf, size, "%.15g", v);
	return buf;
}

static const char *fmt_ratio(char *buf, size_t size, double v)
{
	if (isnan(v))
		return "-";
	snprintf(buf, size, "%.3f", v);
	return buf;
}

/* "+12.3%"; a change that rounds to nothing is "+0.0%", never "-0.0%". */
static const char *fmt_percent(char *buf, size_t size, double percent)
{
	snprintf(buf, size, "%+.1f%%", percent);
	if (!strcmp(buf, "-0.0%"))
		snprintf(buf, size, "+0.0%%");
	return buf;
}

/* "[-48.1%,-46.0%]", one token; "-" without an interval. */
static const char *fmt_interval(char *buf, size_t size, struct kws_interval iv)
{
	char lo[16], hi[16];

	if (isnan(iv.lo) || isnan(iv.hi))
		return "-";
	snprintf(buf, size, "[%s,%s]", fmt_percent(lo, sizeof lo, 100 * iv.lo),
	         fmt_percent(hi, sizeof hi, 100 * iv.hi));
	return buf;
}

static double ratio(double part, double whole)
{
	return whole > 0 ? part / whole : NAN;
}

/* -------------------------------------------------------------- summary */

static int by_dest_then_arm(const void *a, const void *b)
{
	const struct kws_row *x = a, *y = b;
	int c = strcmp(x->dest, y->dest);
	return c ? c : strcmp(x->arm, y->arm);
}

static void print_row(const struct kws_row *r, int dest_width, bool show_arm)
{
	char b[8][32];

	printf("%-*s", dest_width, r->dest);
	if (show_arm)
		printf(" %-4s", r->arm[0] ? r->arm : "-");
	printf(" %9s %8s %8s %6s", fmt_count(b[0], 32, r->requests), fmt_count(b[1], 32, r->dialed),
	       fmt_count(b[2], 32, r->reused),
	       fmt_ratio(b[3], 32, ratio(r->reused, r->dialed + r->reused)));
	for (size_t q = 0; q < NQUANTILES; q++)
		printf(" %9s", fmt_seconds(b[4], 32, kws_quantile(&r->idle, quantiles[q])));
	for (size_t q = 0; q < NQUANTILES; q++)
		printf(" %9s", fmt_seconds(b[4], 32, kws_quantile(&r->latency[KWS_WAIT], quantiles[q])));
	printf(" %9s\n", fmt_seconds(b[4], 32, kws_quantile(&r->latency[KWS_REQUEST_ONLY], 0.5)));
}

/* What brokers said, per destination (their stats files or traces). */
static void print_brokers(const struct kws_set *set)
{
	int width = (int)strlen("broker destination");
	char b[6][32];

	if (!set->nbrokers)
		return;
	for (size_t i = 0; i < set->nbrokers; i++)
		if ((int)strlen(set->brokers[i].dest) > width)
			width = (int)strlen(set->brokers[i].dest);
	printf("%s%-*s %8s %8s %8s %8s %8s %8s\n", set->nrows ? "\n" : "", width,
	       "broker destination", "parked", "given", "hits", "misses", "expired", "closed");
	for (size_t i = 0; i < set->nbrokers; i++) {
		const struct kws_broker_row *r = &set->brokers[i];
		printf("%-*s %8s %8s %8s %8s %8s %8s\n", width, r->dest, fmt_count(b[0], 32, r->parked),
		       fmt_count(b[1], 32, r->given), fmt_count(b[2], 32, r->hits),
		       fmt_count(b[3], 32, r->misses), fmt_count(b[4], 32, r->expired),
		       fmt_count(b[5], 32, r->closed));
	}
}

static int cmd_summary(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct kws_set set = { 0 };
	struct kws_row total = { .arm = "", .dest = "total" };
	int dest_width = (int)strlen("destination");
	bool show_arm = false;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt != 'h' && opt != OPT_HELP)
			option_error("summary", longopts, argv, opt);
		command_usage("summary");
		return 0;
	}
	if (optind == argc)
		usage_error("summary", "summary needs at least one FILE");
	if (dashes(argv + optind, (size_t)(argc - optind)) > 1)
		usage_error("summary", "standard input (-) can be read once, not for two FILEs");
	for (int i = optind; i < argc; i++) {
		if (kws_read_path(&set, argv[i], KWS_ANY) < 0) {
			kws_set_free(&set);
			return EXIT_INPUT;
		}
	}
	if (set.nrows)
		qsort(set.rows, set.nrows, sizeof *set.rows, by_dest_then_arm);
	for (size_t i = 0; i < set.nrows; i++) {
		const struct kws_row *r = &set.rows[i];
		if ((int)strlen(r->dest) > dest_width)
			dest_width = (int)strlen(r->dest);
		if (strcmp(r->arm, set.rows[0].arm))
			show_arm = true;
		total.requests += r->requests;
		total.dialed += r->dialed;
		total.reused += r->reused;
		for (int k = 0; k < KWS_NKINDS; k++)
			kws_hist_merge(&total.latency[k], &r->latency[k]);
		kws_hist_merge(&total.idle, &r->idle);
	}
	if (set.nrows || !set.nbrokers) {
		printf("%-*s%s %9s %8s %8s %6s %9s %9s %9s %9s %9s %9s %9s\n", dest_width,
		       "destination", show_arm ? " arm " : "", "requests", "dialed", "reused", "reuse",
		       "idle-p50", "idle-p90", "idle-p99", "lat-p50", "lat-p90", "lat-p99", "req-p50");
		for (size_t i = 0; i < set.nrows; i++)
			print_row(&set.rows[i], dest_width, show_arm);
		if (set.nrows > 1)
			print_row(&total, dest_width, show_arm);
		if (set.nrows == 0)
			puts("(no connection to any destination)");
	}
	print_brokers(&set);
	fflush(stdout); /* the table first, then what was left out of it */
	for (size_t i = 0; i < set.nskipped; i++) {
		const struct kws_skipped *k = &set.skipped[i];
		if (k->lines == 1)
			kws_error("%s: skipped 1 line that is not a trace line (line %lu)", k->path, k->first);
		else
			kws_error("%s: skipped %zu lines that are not trace lines (first at line %lu)",
			          k->path, k->lines, k->first);
	}
	for (int k = 0; k < KWS_NKINDS; k++)
		kws_hist_free(&total.latency[k]);
	kws_hist_free(&total.idle);
	kws_set_free(&set);
	return 0;
}

/* -------------------------------------------------------------- compare */

/* What one side of a comparison adds up to. */
struct side {
	char             label[64];
	struct kws_scope scope;
	size_t           files, processes;     /* keepwarm_info lines */
	size_t           records;              /* processes with any series */
	size_t           with_run, not_exited; /* of those: with a run time; not exited */
	double           requests, dialed, reused, job_seconds;
	double           events[KWS_NEVENTS];
	struct kws_hist  latency[KWS_NKINDS];
};

/* Add up the rows, arm totals and processes in the side's scope; label a
 * side of a whole set by its arms ("A" becomes "A (off)"). */
static void measure_side(struct side *side)
{
	const struct kws_scope *sc = &side->scope;
	const struct kws_set *set = sc->set;
	char arms[48] = "";

	for (size_t i = 0; i < set->nrows; i++) {
		const struct kws_row *r = &set->rows[i];
		if (!kws_scope_row(sc, r))
			continue;
		side->requests += r->requests;
		side->dialed += r->dialed;
		side->reused += r->reused;
	}
	for (int k = 0; k < KWS_NKINDS; k++)
		kws_scope_latency(sc, (enum kws_kind)k, &side->latency[k]);
	for (size_t i = 0; i < set->narms; i++) {
		const struct kws_arm *a = &set->arms[i];
		if (!kws_scope_arm(sc, a->name))
			continue;
		side->processes += a->processes;
		for (int e = 0; e < KWS_NEVENTS; e++)
			side->events[e] += a->events[e];
		size_t len = strlen(arms);
		snprintf(arms + len, sizeof arms - len, "%s%s", len ? "+" : "", a->name[0] ? a->name : "-");
	}
	for (size_t i = 0; i < set->nprocs; i++) {
		const struct kws_proc *p = &set->procs[i];
		if (!kws_scope_arm(sc, p->arm))
			continue;
		side->records++;
		if (p->has_run) {
			side->with_run++;
			side->job_seconds += p->run_seconds;
		}
		side->not_exited += p->has_exited && !p->exited;
	}
	if (!side->with_run)
		side->job_seconds = NAN;
	side->files = set->stats_files;
	if (sc->dest) /* a destination of a side keeps the side's label */
		return;
	if (sc->arm)
		snprintf(side->label, sizeof side->label, "%s", sc->arm);
	else if (arms[0]) {
		char letter = side->label[0];
		snprintf(side->label, sizeof side->label, "%c (%s)", letter, arms);
	}
}

static void free_side(struct side *side)
{
	for (int k = 0; k < KWS_NKINDS; k++)
		kws_hist_free(&side->latency[k]);
}

enum value_kind { COUNT, RATIO, SECONDS };

/* One line of the comparison: both values, then B-A and B/A-1, and the
 * interval of the change when there is one to print (interval not NULL). */
static void compare_line(const char *what, enum value_kind kind, double a, double b, bool diff,
                         int width, const struct kws_interval *interval)
{
	char va[32], vb[32], vd[40], tmp[32], pct[32], iv[48];
	const char *sa, *sb, *sd = "", *sp = "";

	switch (kind) {
	case COUNT:   sa = fmt_count(va, 32, a);   sb = fmt_count(vb, 32, b);   break;
	case RATIO:   sa = fmt_ratio(va, 32, a);   sb = fmt_ratio(vb, 32, b);   break;
	default:      sa = fmt_seconds(va, 32, a); sb = fmt_seconds(vb, 32, b); break;
	}
	if (diff && !isnan(a) && !isnan(b)) {
		double d = b - a;
		if (kind == COUNT)
			snprintf(vd, sizeof vd, "%+.15g", d);
		else if (kind == RATIO)
			snprintf(vd, sizeof vd, "%+.3f", d);
		else
			snprintf(vd, sizeof vd, "%s%s", d < 0 ? "-" : "+", fmt_seconds(tmp, 32, fabs(d)));
		sd = vd;
		sp = a != 0 ? fmt_percent(pct, sizeof pct, 100 * d / a) : "-";
	} else if (diff)
		sd = sp = "-";
	if (!diff) { /* counts of inputs: nothing after B, and no trailing blanks */
		printf("%-20s %*s %*s\n", what, width, sa, width, sb);
		return;
	}
	printf("%-20s %*s %*s %*s %9s", what, width, sa, width, sb, width, sd, sp);
	if (interval)
		printf(" %s", fmt_interval(iv, sizeof iv, *interval));
	putchar('\n');
}

/* "latency p50", "latency p90", ... of one kind, each with its interval. */
static void latency_lines(const char *prefix, const struct side sides[2], enum kws_kind kind,
                          const struct kws_boot *boot, int width)
{
	for (size_t q = 0; q < NQUANTILES; q++) {
		char what[32];
		snprintf(what, sizeof what, "%s p%g", prefix, quantiles[q] * 100);
		compare_line(what, SECONDS, kws_quantile(&sides[0].latency[kind], quantiles[q]),
		             kws_quantile(&sides[1].latency[kind], quantiles[q]), true, width,
		             &boot->latency[kind][q]);
	}
}

static void compare_table(const struct side s[2], bool show_files, int width)
{
	struct kws_boot boot;
	const struct kws_scope scopes[2] = { s[0].scope, s[1].scope };

	kws_bootstrap(scopes, quantiles, NQUANTILES, &boot);
	printf("%-20s %*s %*s %*s %9s %s\n", "", width, s[0].label, width, s[1].label, width, "B-A",
	       "change", "95% interval");
	latency_lines("latency", s, KWS_WAIT, &boot, width);
	compare_line("job time", SECONDS, s[0].job_seconds, s[1].job_seconds, true, width, &boot.job);
	latency_lines("request-only", s, KWS_REQUEST_ONLY, &boot, width);
	if (show_files)
		compare_line("stats files", COUNT, (double)s[0].files, (double)s[1].files, false, width,
		             NULL);
	compare_line("processes", COUNT, (double)s[0].processes, (double)s[1].processes, false, width,
	             NULL);
	compare_line("requests", COUNT, s[0].requests, s[1].requests, true, width, NULL);
	compare_line("connections", COUNT, s[0].dialed, s[1].dialed, true, width, NULL);
	compare_line("connections/request", RATIO, ratio(s[0].dialed, s[0].requests),
	             ratio(s[1].dialed, s[1].requests), true, width, NULL);
	compare_line("reuse ratio", RATIO, ratio(s[0].reused, s[0].dialed + s[0].reused),
	             ratio(s[1].reused, s[1].dialed + s[1].reused), true, width, NULL);
	compare_line("errors", COUNT, s[0].events[KWS_ERRORS], s[1].events[KWS_ERRORS], true, width,
	             NULL);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* For every destination either side used (sorted): its latency, request
 * and connection lines. */
static void dest_tables(const struct side whole[2], int width)
{
	size_t n = 0, cap = whole[0].scope.set->nrows + whole[1].scope.set->nrows;
	const char **dests = calloc(cap ? cap : 1, sizeof *dests);

	if (!dests) {
		perror("keepwarm-stat");
		exit(EXIT_INPUT);
	}
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < whole[s].scope.set->nrows; i++)
			if (kws_scope_row(&whole[s].scope, &whole[s].scope.set->rows[i]))
				dests[n++] = whole[s].scope.set->rows[i].dest;
	qsort(dests, n, sizeof *dests, by_string);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(dests[i], dests[i - 1]))
			continue;
		struct side s[2] = { { .scope = whole[0].scope }, { .scope = whole[1].scope } };
		struct kws_boot boot;
		for (int k = 0; k < 2; k++) {
			memcpy(s[k].label, whole[k].label, sizeof s[k].label);
			s[k].scope.dest = dests[i];
			measure_side(&s[k]);
		}
		const struct kws_scope scopes[2] = { s[0].scope, s[1].scope };
		kws_bootstrap(scopes, quantiles, NQUANTILES, &boot);
		printf("destination %s\n", dests[i]);
		latency_lines("latency", s, KWS_WAIT, &boot, width);
		latency_lines("request-only", s, KWS_REQUEST_ONLY, &boot, width);
		compare_line("requests", COUNT, s[0].requests, s[1].requests, true, width, NULL);
		compare_line("connections", COUNT, s[0].dialed, s[1].dialed, true, width, NULL);
		compare_line("reuse ratio", RATIO, ratio(s[0].reused, s[0].dialed + s[0].reused),
		             ratio(s[1].reused, s[1].dialed + s[1].reused), true, width, NULL);
		free_side(&s[0]);
		free_side(&s[1]);
	}
	free(dests);
}

/* "p90 and p99" from the quantiles an arm is too thin for. */
static void thin_quantile_warning(const struct side *s)
{
	char list[64] = "", need[64] = "";
	size_t n = 0;

	for (size_t q = 0; q < NQUANTILES; q++) {
		double needed = round(10 / (1 - quantiles[q]));
		if (s->requests >= needed)
			continue;
		n++;
		size_t len = strlen(list), nlen = strlen(need);
		const char *sep = len == 0 ? "" : q + 1 == NQUANTILES ? " and " : ", ";
		snprintf(list + len, sizeof list - len, "%sp%g", sep, quantiles[q] * 100);
		snprintf(need + nlen, sizeof need - nlen, "%s%g", sep, needed);
	}
	if (n)
		printf("warning: %s has %g requests: %s %s on fewer than 10 requests above %s "
		       "(%s %s)\n", s->label, s->requests, list, n > 1 ? "rest" : "rests",
		       n > 1 ? "them" : "it", n > 1 ? "they need" : "it needs", need);
}

static void side_warnings(const struct side *s)
{
	const struct kws_hist *wait = &s->latency[KWS_WAIT], *alone = &s->latency[KWS_REQUEST_ONLY];
	bool fine = !kws_hist_coarse(wait) && !kws_hist_coarse(alone);
	bool any_fine = false;

	for (int i = 0; i < KWS_NFINE; i++)
		any_fine |= wait->fine[i] > 0 || alone->fine[i] > 0;
	if (!s->processes)
		printf("warning: %s has no processes (no keepwarm_info line)\n", s->label);
	if (!s->requests) {
		printf("warning: %s has no requests\n", s->label);
		return;
	}
	if (!any_fine)
		printf("warning: %s has no fine buckets (stats files from an older keepwarm): its "
		       "quantiles interpolate the coarse buckets, may be off by a whole bucket, and "
		       "have no interval\n", s->label);
	else if (!fine)
		printf("warning: %s: some of its stats files have no fine buckets (from an older "
		       "keepwarm): its quantiles interpolate the coarse buckets, may be off by a "
		       "whole bucket, and have no interval\n", s->label);
	if (kws_hist_total(wait) == 0 && kws_hist_total(alone) > 0)
		printf("warning: %s has no wait latency (keepwarm_request_wait_seconds; stats files "
		       "from an older keepwarm): the latency lines are -\n", s->label);
	thin_quantile_warning(s);
	if (s->processes && !s->with_run)
		printf("warning: %s has no process run time (keepwarm_process_run_seconds; stats "
		       "files from an older keepwarm): job time is -\n", s->label);
	if (s->not_exited)
		printf("warning: %s: %zu of %zu processes had not exited when their stats file was "
		       "last written: job time counts their run so far\n", s->label, s->not_exited,
		       s->records);
}

static void warnings(const struct side s[2])
{
	side_warnings(&s[0]);
	side_warnings(&s[1]);
	if (s[0].with_run && s[1].with_run && (s[0].with_run < 2 || s[1].with_run < 2))
		printf("warning: job time has no interval with fewer than 2 processes in an arm "
		       "(%s has %zu, %s %zu): run each arm several times, its stats files into the "
		       "same directory\n", s[0].label, s[0].with_run, s[1].label, s[1].with_run);
}

static int plot_sides(const char *path, const struct side s[2])
{
	char names[2][96];
	struct kws_curve curves[4];
	size_t n = 0;

	for (int i = 0; i < 2; i++)
		curves[n++] = (struct kws_curve){ s[i].label, &s[i].latency[KWS_WAIT], (size_t)i, false };
	for (int i = 0; i < 2; i++) {
		snprintf(names[i], sizeof names[i], "%s request only", s[i].label);
		curves[n++] = (struct kws_curve){ names[i], &s[i].latency[KWS_REQUEST_ONLY], (size_t)i,
		                                  true };
	}
	FILE *out = fopen(path, "w");
	int failed = !out || kws_plot_svg(out, "keepwarm: latency the program waited", curves, n) < 0;
	if ((out && fclose(out) != 0) || failed)
		return kws_error("%s: %s", path, strerror(errno));
	return 0;
}

static int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "a", required_argument, NULL, 'a' },
		{ "b", required_argument, NULL, 'b' },
		{ "by-arm", no_argument, NULL, OPT_BY_ARM },
		{ "by-dest", no_argument, NULL, OPT_BY_DEST },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *plot = NULL;
	char **paths[2];
	size_t npaths[2] = { 0, 0 };
	bool by_arm = false, by_dest = false;
	struct kws_set sets[2] = { { 0 }, { 0 } };
	struct side sides[2] = { { .label = "A" }, { .label = "B" } };
	int opt, rc = 0;

	paths[0] = calloc((size_t)argc + 1, sizeof *paths[0]);
	paths[1] = calloc((size_t)argc + 1, sizeof *paths[1]);
	if (!paths[0] || !paths[1]) {
		perror("keepwarm-stat");
		free(paths[0]);
		free(paths[1]);
		return EXIT_INPUT;
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:b:h", longopts, NULL)) != -1) {
		if (opt == OPT_PLOT) {
			/* So that "--plot off on" is refused, not a plot in a file named off. */
			size_t len = strlen(optarg);
			if (len <= 4 || strcasecmp(optarg + len - 4, ".svg"))
				usage_error("compare", "--plot needs a file name ending in .svg, not '%s'",
				            optarg);
			plot = optarg;
		}
		else if (opt == 'a' || opt == 'b')
			paths[opt - 'a'][npaths[opt - 'a']++] = optarg;
		else if (opt == OPT_BY_ARM)
			by_arm = true;
		else if (opt == OPT_BY_DEST)
			by_dest = true;
		else if (opt == 'h' || opt == OPT_HELP) {
			command_usage("compare");
			free(paths[0]);
			free(paths[1]);
			return 0;
		} else
			option_error("compare", longopts, argv, opt);
	}
	int rest = argc - optind;
	if (by_arm) {
		if (npaths[0] || npaths[1] || rest < 1)
			usage_error("compare", "compare --by-arm takes paths, and no --a or --b");
		for (int i = 0; i < rest; i++)
			paths[0][npaths[0]++] = argv[optind + i];
	} else if (npaths[0] || npaths[1]) {
		if (rest || !npaths[0] || !npaths[1])
			usage_error("compare", "compare needs --a and --b paths, and nothing else");
	} else if (rest == 2) {
		paths[0][npaths[0]++] = argv[optind];
		paths[1][npaths[1]++] = argv[optind + 1];
	} else
		usage_error("compare", "compare needs two paths, A and B");
	if (dashes(paths[0], npaths[0]) + dashes(paths[1], npaths[1]) > 1)
		usage_error("compare", "standard input (-) can be read once, for one side at most");

	for (int s = 0; s < 2 && rc == 0; s++)
		for (size_t i = 0; i < npaths[s] && rc == 0; i++)
			if (kws_read_path(&sets[s], paths[s][i], KWS_STATS_ONLY) < 0)
				rc = EXIT_INPUT;
	if (rc == 0) {
		if (by_arm) { /* the control arm first: B-A is what keepwarm changes */
			sides[0].scope = (struct kws_scope){ &sets[0], "off", NULL };
			sides[1].scope = (struct kws_scope){ &sets[0], "on", NULL };
		} else {
			sides[0].scope = (struct kws_scope){ &sets[0], NULL, NULL };
			sides[1].scope = (struct kws_scope){ &sets[1], NULL, NULL };
		}
		measure_side(&sides[0]);
		measure_side(&sides[1]);
		int width = 14;
		for (int s = 0; s < 2; s++)
			if ((int)strlen(sides[s].label) + 2 > width)
				width = (int)strlen(sides[s].label) + 2;
		compare_table(sides, !by_arm, width);
		if (by_dest)
			dest_tables(sides, width);
		warnings(sides);
	}
	if (rc == 0 && plot && plot_sides(plot, sides) < 0)
		rc = EXIT_INPUT;
	for (int s = 0; s < 2; s++) {
		free_side(&sides[s]);
		kws_set_free(&sets[s]);
		free(paths[s]);
	}
	return rc;
}

static bool is_command(const char *s)
{
	return !strcmp(s, "summary") || !strcmp(s, "compare");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage_error(NULL, "a command is needed: summary or compare");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || (!strcmp(cmd, "help") && argc == 2)) {
		usage();
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		puts("keepwarm-stat " KW_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help")) { /* help COMMAND */
		if (argc > 3)
			usage_error(NULL, "help takes one command, not %d", argc - 2);
		if (!is_command(argv[2]))
			usage_error(NULL, "unknown command '%s'; use summary or compare", argv[2]);
		command_usage(argv[2]);
		return 0;
	}
	if (!strcmp(cmd, "summary"))
		return cmd_summary(argc - 1, argv + 1);
	if (!strcmp(cmd, "compare"))
		return cmd_compare(argc - 1, argv + 1);
	if (cmd[0] == '-')
		usage_error(NULL, "unknown option '%s'; a command comes first: summary or compare", cmd);
	usage_error(NULL, "unknown command '%s'; use summary or compare", cmd);
}
