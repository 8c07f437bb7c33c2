/* keepwarm-stat - summarise keepwarm trace logs and stats files, and compare
 * the two arms of an A/B run.
 *
 *   keepwarm-stat summary FILE...
 *   keepwarm-stat compare [--plot OUT.svg] A B
 *
 * Exit status: 0, 1 for unreadable or malformed input, 2 for usage errors. */
#include "kwstat.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KEEPWARM_VERSION "0.1.0"

enum { EXIT_INPUT = 1, EXIT_USAGE = 2 };

static const double quantiles[] = { 0.5, 0.9, 0.99 };
#define NQUANTILES (sizeof quantiles / sizeof quantiles[0])

static void usage(FILE *out)
{
	fputs("usage: keepwarm-stat summary FILE...\n"
	      "       keepwarm-stat compare [--plot OUT.svg] A B\n"
	      "       keepwarm-stat compare [--plot OUT.svg] --a PATH... --b PATH...\n"
	      "       keepwarm-stat compare [--plot OUT.svg] --by-arm PATH...\n"
	      "       keepwarm-stat --help | --version\n\n"
	      "summary: per destination, from trace logs and stats files in any mix:\n"
	      "  requests, connections dialed and reused, reuse ratio, idle time and\n"
	      "  latency percentiles: lat-p50, -p90, -p99 of what the program waited\n"
	      "  (from its connect() or first byte written), req-p50 of the request\n"
	      "  alone (first byte written to last byte read).\n"
	      "compare: two sides, each a stats file or a directory of them (or several\n"
	      "  --a/--b paths; --by-arm splits the given paths by their arm label, off\n"
	      "  against on), side by side with B-A differences; latency is what the\n"
	      "  program waited. --plot draws both request-only latency distributions\n"
	      "  as SVG.\n",
	      out);
}

static void usage_error(const char *msg)
{
	fprintf(stderr, "keepwarm-stat: %s\nTry 'keepwarm-stat --help'.\n", msg);
	exit(EXIT_USAGE);
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

static int cmd_summary(int argc, char **argv)
{
	struct kws_set set = { 0 };
	struct kws_row total = { .arm = "", .dest = "total" };
	int dest_width = (int)strlen("destination");
	bool show_arm = false;

	if (argc < 1)
		usage_error("summary needs at least one file");
	for (int i = 0; i < argc; i++) {
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
	printf("%-*s%s %9s %8s %8s %6s %9s %9s %9s %9s %9s %9s %9s\n", dest_width, "destination",
	       show_arm ? " arm " : "", "requests", "dialed", "reused", "reuse", "idle-p50",
	       "idle-p90", "idle-p99", "lat-p50", "lat-p90", "lat-p99", "req-p50");
	for (size_t i = 0; i < set.nrows; i++)
		print_row(&set.rows[i], dest_width, show_arm);
	if (set.nrows > 1)
		print_row(&total, dest_width, show_arm);
	if (set.nrows == 0)
		puts("(no connection to any destination)");
	for (int k = 0; k < KWS_NKINDS; k++)
		kws_hist_free(&total.latency[k]);
	kws_hist_free(&total.idle);
	kws_set_free(&set);
	return 0;
}

/* -------------------------------------------------------------- compare */

struct side {
	char            label[64];
	size_t          files, processes;
	double          requests, dialed, reused;
	double          events[KWS_NEVENTS];
	struct kws_hist latency;        /* the wait */
	struct kws_hist request_only;   /* what --plot draws */
};

/* Add up the rows and arm totals of set, only those of arm when it is set. */
static void sum_side(struct side *side, const struct kws_set *set, const char *arm)
{
	char arms[48] = "";

	for (size_t i = 0; i < set->nrows; i++) {
		const struct kws_row *r = &set->rows[i];
		if (arm && strcmp(r->arm, arm))
			continue;
		side->requests += r->requests;
		side->dialed += r->dialed;
		side->reused += r->reused;
		kws_hist_merge(&side->latency, &r->latency[KWS_WAIT]);
		kws_hist_merge(&side->request_only, &r->latency[KWS_REQUEST_ONLY]);
	}
	for (size_t i = 0; i < set->narms; i++) {
		const struct kws_arm *a = &set->arms[i];
		if (arm && strcmp(a->name, arm))
			continue;
		side->processes += a->processes;
		for (int e = 0; e < KWS_NEVENTS; e++)
			side->events[e] += a->events[e];
		size_t len = strlen(arms);
		snprintf(arms + len, sizeof arms - len, "%s%s", len ? "+" : "", a->name[0] ? a->name : "-");
	}
	side->files = set->stats_files;
	if (arm)
		snprintf(side->label, sizeof side->label, "%s", arm);
	else if (arms[0]) { /* "A" becomes "A (off)" */
		char letter = side->label[0];
		snprintf(side->label, sizeof side->label, "%c (%s)", letter, arms);
	}
}

/* One line of the comparison: both values, then B-A and its share of A. */
enum value_kind { COUNT, RATIO, SECONDS };

static void compare_line(const char *what, enum value_kind kind, double a, double b, bool diff,
                         int width)
{
	char va[32], vb[32], vd[40], tmp[32];
	const char *sa, *sb, *sd = "", *sp = "";
	char pct[32];

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
		if (a != 0) {
			snprintf(pct, sizeof pct, "%+.1f%%", 100 * d / a);
			sp = pct;
		} else
			sp = "-";
	}
	printf("%-20s %*s %*s %*s %9s\n", what, width, sa, width, sb, width, sd, sp);
}

static int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "plot", required_argument, NULL, 'p' },
		{ "a", required_argument, NULL, 'a' },
		{ "b", required_argument, NULL, 'b' },
		{ "by-arm", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *plot = NULL;
	char **paths[2];
	size_t npaths[2] = { 0, 0 };
	bool by_arm = false;
	struct kws_set sets[2] = { { 0 }, { 0 } };
	struct side sides[2] = { { .label = "A" }, { .label = "B" } };
	int opt, rc = 0;

	paths[0] = calloc((size_t)argc + 1, sizeof *paths[0]);
	paths[1] = calloc((size_t)argc + 1, sizeof *paths[1]);
	if (!paths[0] || !paths[1]) {
		perror("keepwarm-stat");
		return EXIT_INPUT;
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:b:", longopts, NULL)) != -1) {
		if (opt == 'p')
			plot = optarg;
		else if (opt == 'a' || opt == 'b')
			paths[opt - 'a'][npaths[opt - 'a']++] = optarg;
		else if (opt == 'r')
			by_arm = true;
		else
			usage_error(opt == ':' ? "an option of compare needs a value"
			                       : "unknown option to compare");
	}
	int rest = argc - optind;
	if (by_arm) {
		if (npaths[0] || npaths[1] || rest < 1)
			usage_error("compare --by-arm takes paths, and no --a or --b");
		for (int i = 0; i < rest; i++)
			paths[0][npaths[0]++] = argv[optind + i];
	} else if (npaths[0] || npaths[1]) {
		if (rest || !npaths[0] || !npaths[1])
			usage_error("compare needs --a and --b paths, and nothing else");
	} else if (rest == 2) {
		paths[0][npaths[0]++] = argv[optind];
		paths[1][npaths[1]++] = argv[optind + 1];
	} else
		usage_error("compare needs two paths, A and B");

	for (int s = 0; s < 2 && rc == 0; s++)
		for (size_t i = 0; i < npaths[s] && rc == 0; i++)
			if (kws_read_path(&sets[s], paths[s][i], KWS_STATS_ONLY) < 0)
				rc = EXIT_INPUT;
	if (rc == 0) {
		if (by_arm) { /* the control arm first: B-A is what keepwarm changes */
			sum_side(&sides[0], &sets[0], "off");
			sum_side(&sides[1], &sets[0], "on");
		} else {
			sum_side(&sides[0], &sets[0], NULL);
			sum_side(&sides[1], &sets[1], NULL);
		}
		int width = 14;
		for (int s = 0; s < 2; s++)
			if ((int)strlen(sides[s].label) + 2 > width)
				width = (int)strlen(sides[s].label) + 2;
		const struct side *a = &sides[0], *b = &sides[1];
		printf("%-20s %*s %*s %*s %9s\n", "", width, a->label, width, b->label, width, "B-A",
		       "change");
		if (!by_arm)
			compare_line("stats files", COUNT, (double)a->files, (double)b->files, false, width);
		compare_line("processes", COUNT, (double)a->processes, (double)b->processes, false, width);
		compare_line("requests", COUNT, a->requests, b->requests, true, width);
		compare_line("connections", COUNT, a->dialed, b->dialed, true, width);
		compare_line("connections/request", RATIO, ratio(a->dialed, a->requests),
		             ratio(b->dialed, b->requests), true, width);
		compare_line("reuse ratio", RATIO, ratio(a->reused, a->dialed + a->reused),
		             ratio(b->reused, b->dialed + b->reused), true, width);
		for (size_t q = 0; q < NQUANTILES; q++) {
			char what[32];
			snprintf(what, sizeof what, "latency p%g", quantiles[q] * 100);
			compare_line(what, SECONDS, kws_quantile(&a->latency, quantiles[q]),
			             kws_quantile(&b->latency, quantiles[q]), true, width);
		}
		compare_line("errors", COUNT, a->events[KWS_ERRORS], b->events[KWS_ERRORS], true, width);
	}
	if (rc == 0 && plot) {
		const char *names[2] = { sides[0].label, sides[1].label };
		const struct kws_hist *hists[2] = { &sides[0].request_only, &sides[1].request_only };
		FILE *out = fopen(plot, "w");
		int failed = !out || kws_plot_svg(out, "keepwarm: request latency", names, hists, 2) < 0;
		if ((out && fclose(out) != 0) || failed) {
			perror(plot);
			rc = EXIT_INPUT;
		}
	}
	for (int s = 0; s < 2; s++) {
		kws_hist_free(&sides[s].latency);
		kws_hist_free(&sides[s].request_only);
		kws_set_free(&sets[s]);
		free(paths[s]);
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage_error("a command is needed: summary or compare");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("keepwarm-stat " KEEPWARM_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "summary"))
		return cmd_summary(argc - 2, argv + 2);
	if (!strcmp(argv[1], "compare"))
		return cmd_compare(argc - 1, argv + 1);
	usage_error("unknown command; use summary or compare");
	return EXIT_USAGE;
}
