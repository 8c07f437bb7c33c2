/* fuzz_config.c - libFuzzer harness for shim/logic/config.c.
 *
 * Input: byte 0 chooses the length of the origin name (byte * 2, up to 510
 * bytes, to reach the truncation of long file names); the rest is the text of
 * a configuration file (it ends at the first NUL, as a C string does).
 * Properties:
 *   - kw_config_apply_text never crashes or hangs; every warning is one line
 *     ("keepwarm: ...\n", no other newline), names the origin (cut at 250
 *     bytes) and a line number that exists, at most one warning per line;
 *   - the resulting settings are within their documented ranges, and
 *     applying the same text again changes nothing;
 *   - each parser, on every line and on every part after a '=', returns 0
 *     or -1, leaves its output alone on -1, and agrees with a simple
 *     reference where one is easy to state (uint, bool, size; durations
 *     that are a bare number or a whole number of ms);
 *   - destination rules read back from their canonical text as the same
 *     rules, at most KW_DEST_RULES_MAX of them. */
#include "logic/config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_config: %s failed (line %d)\n", #c, __LINE__); abort(); } } while (0)

static char origin[512];
static size_t origin_cut; /* origin as printed: at most 250 bytes */
static unsigned lines_in_text, warnings, last_warned_line;

static void warn(const char *line)
{
	size_t n = strlen(line);
	char *end;
	unsigned long no;

	CHECK(n > 11 && !strncmp(line, "keepwarm: ", 10));
	CHECK(line[n - 1] == '\n' && memchr(line, '\n', n) == line + n - 1);
	CHECK(!strncmp(line + 10, origin, origin_cut) && line[10 + origin_cut] == ':');
	no = strtoul(line + 11 + origin_cut, &end, 10);
	CHECK(end[0] == ':' && end[1] == ' ');
	CHECK(no >= 1 && no <= lines_in_text);
	CHECK(no > last_warned_line); /* one warning per line, in order */
	last_warned_line = (unsigned)no;
	warnings++;
}

static void check_ranges(const struct kw_config *c)
{
	CHECK(c->max_idle <= 0x7fffffffu && c->max_idle_per_host <= 0x7fffffffu &&
	      c->max_requests <= 0x7fffffffu);
	CHECK(!isnan(c->sample) && c->sample >= 0.0 && c->sample <= 1.0);
	CHECK(memchr(c->trace, '\0', sizeof c->trace) && memchr(c->stats, '\0', sizeof c->stats));
	CHECK(strlen(c->trace) < KW_TRACE_PATH_MAX && strlen(c->stats) < KW_TRACE_PATH_MAX);
	{
		static char text[KW_DEST_RULES_TEXT], err[256];
		static struct kw_dest_rules again;
		CHECK(c->destinations.n <= KW_DEST_RULES_MAX);
		kw_dest_rules_format(&c->destinations, text, sizeof text);
		CHECK(strlen(text) < sizeof text - 1);
		CHECK(kw_dest_rules_parse(text, &again, err, sizeof err) == 0);
		CHECK(!memcmp(&again, &c->destinations, sizeof again));
	}
}

static int all_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Decimal value of s[0..n), saturated at 2^80. */
static unsigned __int128 decimal(const char *s, size_t n)
{
	unsigned __int128 v = 0, cap = (unsigned __int128)1 << 80;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > cap)
			v = cap;
	}
	return v;
}

static void check_parsers(const char *s)
{
	size_t len = strlen(s), nd = 0;
	unsigned u = 0xdeadbeef;
	bool b = (bool)(len & 1), b0 = b;
	uint64_t v = 0x5a5a5a5a5a5a5a5aULL;
	double f = -42.0;
	int r;

	while (isdigit((unsigned char)s[nd]))
		nd++;

	/* uint: digits only, below 2^31. */
	r = kw_parse_uint(s, &u);
	CHECK(r == 0 || r == -1);
	if (all_digits(s, len) && decimal(s, len) <= 0x7fffffff)
		CHECK(r == 0 && u == (unsigned)decimal(s, len));
	else
		CHECK(r == -1 && u == 0xdeadbeef);

	/* bool */
	r = kw_parse_bool(s, &b);
	{
		static const char *const yes[] = { "1", "on", "true", "yes" }, *const no[] = { "0", "off", "false", "no" };
		int want = -1;
		for (int i = 0; i < 4; i++) {
			if (!strcasecmp(s, yes[i])) want = 1;
			if (!strcasecmp(s, no[i])) want = 0;
		}
		if (want < 0)
			CHECK(r == -1 && b == b0);
		else
			CHECK(r == 0 && b == (want == 1));
	}

	/* size: digits, then an optional binary suffix. */
	r = kw_parse_size(s, &v);
	CHECK(r == 0 || r == -1);
	{
		static const char *const sfx[] = { "", "b", "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib" };
		static const unsigned shift[] = { 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30 };
		int k = -1;
		for (int i = 0; nd && i < 11; i++)
			if (!strcasecmp(s + nd, sfx[i]))
				k = i;
		if (k < 0) {
			CHECK(r == -1 && v == 0x5a5a5a5a5a5a5a5aULL);
		} else {
			unsigned __int128 want = decimal(s, nd) << shift[k];
			if (r == 0)
				CHECK(v == (uint64_t)want && want <= UINT64_MAX);
			else
				CHECK(want > UINT64_MAX / 16 && v == 0x5a5a5a5a5a5a5a5aULL);
		}
	}

	/* fraction: within [0, 1]. */
	r = kw_parse_fraction(s, &f);
	CHECK(r == 0 || r == -1);
	if (r == 0)
		CHECK(!isnan(f) && f >= 0.0 && f <= 1.0);
	else
		CHECK(f == -42.0);

	/* duration */
	v = 0x5a5a5a5a5a5a5a5aULL;
	r = kw_parse_duration_ms(s, &v);
	CHECK(r == 0 || r == -1);
	if (r == -1)
		CHECK(v == 0x5a5a5a5a5a5a5a5aULL);
	if (len == 0 || s[0] == '-' || s[0] == '+' || isspace((unsigned char)s[0]))
		CHECK(r == -1);
	if (nd && nd <= 15 && nd == len)
		CHECK(r == 0 && v == (uint64_t)decimal(s, nd) * 1000);
	if (nd && nd <= 15 && len == nd + 2 && !strcmp(s + nd, "ms"))
		CHECK(r == 0 && v == (uint64_t)decimal(s, nd));
	if (nd && nd <= 12 && len == nd + 1 && (s[nd] == 's' || s[nd] == 'm' || s[nd] == 'h'))
		CHECK(r == 0 && v == (uint64_t)decimal(s, nd) *
		                         (s[nd] == 's' ? 1000 : s[nd] == 'm' ? 60000 : 3600000));
}

/* Run a parser check on an exact-size NUL-terminated copy of p[0..n). */
static void piece(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	CHECK(s);
	memcpy(s, p, n);
	s[n] = '\0';
	check_parsers(s);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kw_config c, again;
	size_t olen, tlen;
	char *text;
	unsigned first_warnings;

	if (size < 1 || size > 65536)
		return 0;
	olen = (size_t)data[0] * 2;
	memset(origin, 0, sizeof origin);
	memcpy(origin, "/home/user/.config/keepwarm/", 28 < olen ? 28 : olen);
	for (size_t i = 28; i < olen; i++)
		origin[i] = (char)('a' + i % 26);
	origin_cut = olen < 250 ? olen : 250;
	data++;
	size--;
	tlen = strnlen((const char *)data, size);
	text = malloc(tlen + 1);
	CHECK(text);
	memcpy(text, data, tlen);
	text[tlen] = '\0';

	lines_in_text = 0;
	for (size_t i = 0; i < tlen; i++)
		if (i == 0 || text[i - 1] == '\n')
			lines_in_text++;

	/* Every line, and what follows each line's first '='. */
	for (size_t i = 0; i < tlen;) {
		const char *nl = memchr(text + i, '\n', tlen - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : tlen - i;
		const char *eq = memchr(text + i, '=', n);
		piece(text + i, n);
		if (eq)
			piece(eq + 1, n - (size_t)(eq + 1 - (text + i)));
		i += n + 1;
	}

	kw_config_defaults(&c);
	warnings = last_warned_line = 0;
	kw_config_apply_text(&c, text, origin, warn);
	check_ranges(&c);
	first_warnings = warnings;
	CHECK(warnings <= lines_in_text);

	/* Applying the same text again: same settings, same number of warnings. */
	again = c;
	warnings = last_warned_line = 0;
	kw_config_apply_text(&again, text, origin, warn);
	CHECK(warnings == first_warnings);
	CHECK(!memcmp(&again, &c, sizeof c));

	/* No sink: no crash either. */
	kw_config_apply_text(&again, text, origin, NULL);
	free(text);
	return 0;
}
