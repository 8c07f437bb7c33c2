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

/* Unit length in nanoseconds, 0 if s does not start with a unit; *len gets
 * the unit's length. Two-letter units first, so "ms" is not read as "m". */
static uint64_t unit_ns(const char *s, size_t *len)
{
	static const struct { const char *name; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ULL }, { "m", 60000000000ULL }, { "h", 3600000000000ULL },
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t n = strlen(units[i].name);
		if (!strncmp(s, units[i].name, n)) {
			*len = n;
			return units[i].ns;
		}
	}
	return 0;
}

/* Exact integer arithmetic: "1.001s" is 1001 ms, not 1000.999... */
int kw_parse_duration_ms(const char *s, uint64_t *out_ms)
{
	const unsigned __int128 limit = (unsigned __int128)UINT64_MAX * 1000000;
	unsigned __int128 total_ns = 0;
	bool first = true;

	if (!s || !*s)
		return -1;
	if (!strcmp(s, "0")) {
		*out_ms = 0;
		return 0;
	}
	while (*s) {
		unsigned __int128 whole = 0, frac = 0, scale = 1;
		bool digits = false;
		uint64_t ns;
		size_t ulen;

		for (; isdigit((unsigned char)*s); s++, digits = true) {
			whole = whole * 10 + (unsigned)(*s - '0');
			if (whole > limit)
				return -1;
		}
		if (*s == '.') {
			for (s++; isdigit((unsigned char)*s); s++, digits = true) {
				if (scale < 1000000000000000000ULL) { /* beyond 1e-18: below 1 ns */
					frac = frac * 10 + (unsigned)(*s - '0');
					scale *= 10;
				}
			}
		}
		if (!digits)
			return -1;
		if (!*s && first) /* a bare number means seconds */
			ns = 1000000000ULL;
		else if (!(ns = unit_ns(s, &ulen)))
			return -1;
		else
			s += ulen;
		total_ns += whole * ns + frac * ns / scale;
		if (total_ns > limit)
			return -1;
		first = false;
	}
	*out_ms = (uint64_t)(total_ns / 1000000);
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
