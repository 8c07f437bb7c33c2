/* config.c - parse the KEEPWARM_* environment into struct kw_config. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void kw_config_defaults(struct kw_config *c)
{
	memset(c, 0, sizeof *c);
	c->enabled = true;
	c->max_idle = 100;
	c->max_idle_per_host = 20;
	c->idle_timeout_ms = 90 * 1000;
	c->tcp_keepalive_ms = 30 * 1000;
}

int kw_parse_uint(const char *s, unsigned *out)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 0x7fffffffUL)
			return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int kw_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "on", "true", "yes" };
	static const char *const no[] = { "0", "off", "false", "no" };

	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (!strcasecmp(s, yes[i])) { *out = true; return 0; }
		if (!strcasecmp(s, no[i])) { *out = false; return 0; }
	}
	return -1;
}

/* Unit length in nanoseconds; *len gets the unit's length in characters. */
static double unit_ns(const char *s, size_t *len)
{
	static const struct { const char *name; double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	/* Longest match first: "ms" before "m". */
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t n = strlen(units[i].name);
		if (!strncmp(s, units[i].name, n) && (n == 2 || s[1] != 's')) {
			*len = n;
			return units[i].ns;
		}
	}
	return 0;
}

int kw_parse_duration_ms(const char *s, uint64_t *out_ms)
{
	double total_ns = 0;

	if (!s || !*s)
		return -1;
	if (!strcmp(s, "0")) {
		*out_ms = 0;
		return 0;
	}
	while (*s) {
		double whole = 0, frac = 0, scale = 1;
		bool digits = false;
		size_t ulen;

		for (; isdigit((unsigned char)*s); s++, digits = true)
			whole = whole * 10 + (*s - '0');
		if (*s == '.') {
			for (s++; isdigit((unsigned char)*s); s++, digits = true) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
		}
		if (!digits)
			return -1;
		if (!*s && total_ns == 0) { /* a bare number means seconds */
			total_ns = (whole + frac) * 1e9;
			break;
		}
		double ns = unit_ns(s, &ulen);
		if (ns == 0)
			return -1;
		s += ulen;
		total_ns += (whole + frac) * ns;
		if (total_ns > 1.8e19) /* beyond uint64 milliseconds' useful range */
			return -1;
	}
	if (total_ns > 1.8e19)
		return -1;
	*out_ms = (uint64_t)(total_ns / 1e6);
	return 0;
}

static void warn_bad(kw_warn_fn warn, const char *name, const char *value, const char *kind,
                     const char *dflt)
{
	char line[512];

	if (!warn)
		return;
	snprintf(line, sizeof line, "keepwarm: %s=\"%.200s\" is not %s; using the default %s\n",
	         name, value, kind, dflt);
	warn(line);
}

static void load_uint(kw_getenv_fn getenv_fn, kw_warn_fn warn, const char *name, unsigned *field)
{
	const char *v = getenv_fn(name);
	char dflt[16];

	if (!v)
		return;
	snprintf(dflt, sizeof dflt, "%u", *field);
	if (kw_parse_uint(v, field) < 0)
		warn_bad(warn, name, v, "a whole number", dflt);
}

static void load_duration(kw_getenv_fn getenv_fn, kw_warn_fn warn, const char *name, uint64_t *field)
{
	const char *v = getenv_fn(name);
	char dflt[32];

	if (!v)
		return;
	if (*field == 0)
		snprintf(dflt, sizeof dflt, "0 (off)");
	else if (*field % 1000 == 0)
		snprintf(dflt, sizeof dflt, "%llus", (unsigned long long)(*field / 1000));
	else
		snprintf(dflt, sizeof dflt, "%llums", (unsigned long long)*field);
	if (kw_parse_duration_ms(v, field) < 0)
		warn_bad(warn, name, v, "a duration (like 90s, 500ms, 2m)", dflt);
}

void kw_config_load(struct kw_config *c, kw_getenv_fn getenv_fn, kw_warn_fn warn)
{
	const char *v;

	kw_config_defaults(c);
	if ((v = getenv_fn("KEEPWARM")) && kw_parse_bool(v, &c->enabled) < 0)
		warn_bad(warn, "KEEPWARM", v, "on or off", "on");
	load_uint(getenv_fn, warn, "KEEPWARM_MAX_IDLE", &c->max_idle);
	load_uint(getenv_fn, warn, "KEEPWARM_MAX_IDLE_PER_HOST", &c->max_idle_per_host);
	load_duration(getenv_fn, warn, "KEEPWARM_IDLE_TIMEOUT", &c->idle_timeout_ms);
	load_duration(getenv_fn, warn, "KEEPWARM_MAX_LIFETIME", &c->max_lifetime_ms);
	load_uint(getenv_fn, warn, "KEEPWARM_MAX_REQUESTS", &c->max_requests);
	load_duration(getenv_fn, warn, "KEEPWARM_TCP_KEEPALIVE", &c->tcp_keepalive_ms);
	if ((v = getenv_fn("KEEPWARM_TRACE"))) {
		if (strlen(v) >= sizeof c->trace)
			warn_bad(warn, "KEEPWARM_TRACE", v, "a path shorter than 1024 bytes", "off");
		else
			strcpy(c->trace, v);
	}
}
