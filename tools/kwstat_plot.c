/* kwstat_plot.c - latency distributions as a standalone SVG: the cumulative
 * fraction of requests against latency on a log axis, a solid curve per arm
 * for the wait and a light one for the request alone. */
#include "kwstat.h"

#include <math.h>

/* Page geometry (pixels) and the latency range shown: 10us to 100s, around
 * the 50us to 60s the fine buckets resolve. */
enum { WIDTH = 760, HEIGHT = 470, LEFT = 80, RIGHT = 30, TOP = 50, BOTTOM = 70 };
#define PLOT_W (WIDTH - LEFT - RIGHT)
#define PLOT_H (HEIGHT - TOP - BOTTOM)
#define MIN_DECADE (-5)
#define MAX_DECADE 2

/* A coarse bucket is drawn with several points: the straight line
 * histogram_quantile interpolates on bends on a log axis. */
#define POINTS_PER_BUCKET 12

static const char *const colours[] = { "#1f63b4", "#d6452a", "#2a9d4a", "#8e44ad" };
static const char *const dashes[] = { "none", "7 4", "2 3", "9 3 2 3" };

static double x_of(double seconds)
{
	return LEFT + (log10(seconds) - MIN_DECADE) / (MAX_DECADE - MIN_DECADE) * PLOT_W;
}

static double y_of(double fraction)
{
	return TOP + (1 - fraction) * PLOT_H;
}

/* Text content and attribute values: names come from the command line and
 * from labels in the input. */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default:  fputc(*s, out); break;
		}
	}
}

static void draw_grid(FILE *out)
{
	static const char *const decade_names[] = { "10us", "100us", "1ms", "10ms", "100ms", "1s",
	                                            "10s", "100s" };
	static const double fractions[] = { 0, 0.25, 0.5, 0.75, 0.9, 1 };

	fputs("<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n", out);
	for (int d = MIN_DECADE; d < MAX_DECADE; d++)
		for (int k = 2; k <= 9; k++)
			fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
			        x_of(k * pow(10, d)), TOP, x_of(k * pow(10, d)), TOP + PLOT_H);
	fputs("</g>\n<g stroke=\"#bbbbbb\" stroke-width=\"1\">\n", out);
	for (int d = MIN_DECADE; d <= MAX_DECADE; d++)
		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
		        x_of(pow(10, d)), TOP, x_of(pow(10, d)), TOP + PLOT_H);
	for (size_t i = 0; i < sizeof fractions / sizeof fractions[0]; i++)
		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", LEFT,
		        y_of(fractions[i]), LEFT + PLOT_W, y_of(fractions[i]));
	fputs("</g>\n<g text-anchor=\"middle\">\n", out);
	for (int d = MIN_DECADE; d <= MAX_DECADE; d++)
		fprintf(out, "<text x=\"%.1f\" y=\"%d\">%s</text>\n", x_of(pow(10, d)),
		        TOP + PLOT_H + 18, decade_names[d - MIN_DECADE]);
	fputs("</g>\n<g text-anchor=\"end\">\n", out);
	for (size_t i = 0; i < sizeof fractions / sizeof fractions[0]; i++)
		fprintf(out, "<text x=\"%d\" y=\"%.1f\">%g</text>\n", LEFT - 8, y_of(fractions[i]) + 4,
		        fractions[i]);
	fputs("</g>\n", out);
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
	        "stroke=\"#333333\"/>\n", LEFT, TOP, PLOT_W, PLOT_H);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency, log scale "
	        "(solid: from connect() or first byte written; light: the request alone)</text>\n",
	        LEFT + PLOT_W / 2, TOP + PLOT_H + 44);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
	        "transform=\"rotate(-90 %d %d)\">fraction of requests at or below</text>\n",
	        22, TOP + PLOT_H / 2, 22, TOP + PLOT_H / 2);
}

static void begin_curve(FILE *out, const struct kws_curve *c)
{
	fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
	        "stroke-opacity=\"%s\" stroke-dasharray=\"%s\" points=\"", colours[c->colour % 4],
	        c->light ? "1.4" : "2.2", c->light ? "0.45" : "1", dashes[c->colour % 4]);
}

/* From fine buckets: the fraction at or below each bucket's upper bound,
 * from the bound below the first non-empty bucket, flat to the right edge. */
static void draw_fine_curve(FILE *out, const struct kws_curve *c)
{
	double fine[KWS_NFINE], total = 0, below = 0;
	int first = -1;

	kws_hist_fine(c->hist, fine);
	for (int i = 0; i < KWS_NFINE; i++) {
		total += fine[i];
		if (first < 0 && fine[i] > 0)
			first = i;
	}
	if (total <= 0)
		return;
	begin_curve(out, c);
	if (first > 0)
		fprintf(out, "%.1f,%.1f ", x_of(kws_fine_upper(first - 1)), y_of(0));
	for (int i = first; i + 1 < KWS_NFINE; i++) { /* the last bucket has no upper bound */
		below += fine[i];
		fprintf(out, "%.1f,%.1f ", x_of(kws_fine_upper(i)), y_of(below / total));
	}
	fprintf(out, "%.1f,%.1f\"/>\n", x_of(pow(10, MAX_DECADE)), y_of(below / total));
}

/* From coarse buckets: between bucket bounds the curve follows the straight
 * line that histogram_quantile interpolates on. */
static void draw_coarse_curve(FILE *out, const struct kws_curve *c)
{
	double cum[KWS_NBOUNDS], total, below = 0, xmin = pow(10, MIN_DECADE);

	kws_hist_buckets(c->hist, cum);
	total = cum[KWS_NBOUNDS - 1];
	if (total <= 0)
		return;
	begin_curve(out, c);
	for (size_t b = 0; b + 1 < KWS_NBOUNDS; b++) {
		double lo = b ? kws_bounds[b - 1] : 0, hi = kws_bounds[b];
		double from = lo > xmin ? lo : xmin;
		for (int k = 0; k <= POINTS_PER_BUCKET; k++) {
			if (k == 0 && b > 0)
				continue; /* drawn as the previous bucket's last point */
			double x = from * pow(hi / from, (double)k / POINTS_PER_BUCKET);
			double f = (below + (cum[b] - below) * (x - lo) / (hi - lo)) / total;
			fprintf(out, "%.1f,%.1f ", x_of(x), y_of(f));
		}
		below = cum[b];
	}
	fprintf(out, "%.1f,%.1f\"/>\n", x_of(pow(10, MAX_DECADE)), y_of(below / total));
}

static void draw_legend(FILE *out, const struct kws_curve curves[], size_t n)
{
	/* Bottom right: where cumulative curves have mostly reached 1 already. */
	int box_w = 320, box_h = 22 * (int)n + 8;
	int x = LEFT + PLOT_W - box_w - 6, y = TOP + PLOT_H - box_h - 6 + 20;

	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" "
	        "fill-opacity=\"0.9\" stroke=\"#999999\"/>\n", x, y - 14, box_w, box_h);
	x += 8;
	for (size_t i = 0; i < n; i++, y += 22) {
		const struct kws_curve *c = &curves[i];
		double total = kws_hist_total(c->hist);
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
		        "stroke-width=\"%s\" stroke-opacity=\"%s\" stroke-dasharray=\"%s\"/>\n",
		        x, y - 4, x + 30, y - 4, colours[c->colour % 4], c->light ? "1.4" : "2.2",
		        c->light ? "0.45" : "1", dashes[c->colour % 4]);
		fprintf(out, "<text x=\"%d\" y=\"%d\">", x + 38, y);
		put_escaped(out, c->name);
		if (total > 0)
			fprintf(out, ": %.15g requests</text>\n", total);
		else
			fputs(": no latency data</text>\n", out);
	}
}

int kws_plot_svg(FILE *out, const char *title, const struct kws_curve curves[], size_t n)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	        "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
	        WIDTH, HEIGHT, WIDTH, HEIGHT);
	fprintf(out, "<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"15\">",
	        WIDTH / 2);
	put_escaped(out, title);
	fputs("</text>\n", out);
	draw_grid(out);
	for (size_t i = n; i-- > 0;) /* the light curves under the solid ones */
		(kws_hist_coarse(curves[i].hist) ? draw_coarse_curve : draw_fine_curve)(out, &curves[i]);
	draw_legend(out, curves, n);
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
