/* config.c - parse the KEEPWARM_* environment into struct kw_config. */
#include "logic/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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
	c->stats_interval_ms = 10 * 1000;
	c->sample = 1.0;
	c->upgrade = true;
	c->drain_bytes = 64 * 1024;
	c->tls_reuse = true;
	strcpy(c->broker, "auto");
	c->broker_linger_ms = 10 * 60 * 1000;
	for (unsigned i = 0; i < KW_CONFIG_NKEYS; i++)
		strcpy(c->origin[i], "default");
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
	/* keepwarm counts whole milliseconds: a nonzero value that would be 0
	 * (off) is refused rather than read as off. */
	if (total_ns > 0 && total_ns < 1000000)
		return -1;
	*out_ms = (uint64_t)(total_ns / 1000000);
	return 0;
}

int kw_parse_fraction(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	v = strtod(s, &end);
	if (*end || !(v >= 0.0 && v <= 1.0))
		return -1;
	*out = v;
	return 0;
}

int kw_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 0 }, { "b", 0 }, { "k", 10 }, { "kb", 10 }, { "kib", 10 }, { "m", 20 },
		{ "mb", 20 }, { "mib", 20 }, { "g", 30 }, { "gb", 30 }, { "gib", 30 },
	};
	uint64_t v = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(s, units[i].suffix))
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return -1;
		*out = v << units[i].shift;
		return 0;
	}
	return -1;
}

/* "safe" or "always" into a bool that is true for always. */
static int parse_reuse(const char *s, bool *always)
{
	if (!strcasecmp(s, "safe"))
		*always = false;
	else if (!strcasecmp(s, "always"))
		*always = true;
	else
		return -1;
	return 0;
}

/* A broker's socket: auto, off, or an absolute path that fits a Unix socket
 * address. */
static int parse_broker(const char *s, char *out)
{
	bool on;

	if (!strcasecmp(s, "auto"))
		strcpy(out, "auto");
	else if (kw_parse_bool(s, &on) == 0 && !on)
		out[0] = '\0';
	else if (s[0] == '/' && strlen(s) < 108 && s[strlen(s) - 1] != '/')
		strcpy(out, s);
	else
		return -1;
	return 0;
}

enum key_kind { K_BOOL, K_UINT, K_DURATION, K_PATH, K_FRACTION, K_SIZE, K_REUSE, K_BROKER, K_RULES };

static const struct key {
	const char *name;
	enum key_kind kind;
	size_t offset;
} keys[] = {
	{ "KEEPWARM", K_BOOL, offsetof(struct kw_config, enabled) },
	{ "KEEPWARM_MAX_IDLE", K_UINT, offsetof(struct kw_config, max_idle) },
	{ "KEEPWARM_MAX_IDLE_PER_HOST", K_UINT, offsetof(struct kw_config, max_idle_per_host) },
	{ "KEEPWARM_IDLE_TIMEOUT", K_DURATION, offsetof(struct kw_config, idle_timeout_ms) },
	{ "KEEPWARM_MAX_LIFETIME", K_DURATION, offsetof(struct kw_config, max_lifetime_ms) },
	{ "KEEPWARM_MAX_REQUESTS", K_UINT, offsetof(struct kw_config, max_requests) },
	{ "KEEPWARM_TCP_KEEPALIVE", K_DURATION, offsetof(struct kw_config, tcp_keepalive_ms) },
	{ "KEEPWARM_TRACE", K_PATH, offsetof(struct kw_config, trace) },
	{ "KEEPWARM_STATS", K_PATH, offsetof(struct kw_config, stats) },
	{ "KEEPWARM_STATS_INTERVAL", K_DURATION, offsetof(struct kw_config, stats_interval_ms) },
	{ "KEEPWARM_SAMPLE", K_FRACTION, offsetof(struct kw_config, sample) },
	{ "KEEPWARM_UPGRADE", K_BOOL, offsetof(struct kw_config, upgrade) },
	{ "KEEPWARM_DRAIN", K_SIZE, offsetof(struct kw_config, drain_bytes) },
	{ "KEEPWARM_REUSE", K_REUSE, offsetof(struct kw_config, reuse_always) },
	{ "KEEPWARM_TLS_HANDSHAKE_TIMEOUT", K_DURATION,
	  offsetof(struct kw_config, tls_handshake_timeout_ms) },
	{ "KEEPWARM_TLS_REUSE", K_BOOL, offsetof(struct kw_config, tls_reuse) },
	{ "KEEPWARM_BROKER", K_BROKER, offsetof(struct kw_config, broker) },
	{ "KEEPWARM_BROKER_LINGER", K_DURATION, offsetof(struct kw_config, broker_linger_ms) },
	{ "KEEPWARM_DESTINATIONS", K_RULES, offsetof(struct kw_config, destinations) },
	{ "KEEPWARM_CONNECT_TIMEOUT", K_DURATION, offsetof(struct kw_config, connect_timeout_ms) },
	{ "KEEPWARM_BROKER_STATS", K_PATH, offsetof(struct kw_config, broker_stats) },
	{ "KEEPWARM_WARM", K_UINT, offsetof(struct kw_config, warm) },
};
_Static_assert(sizeof keys / sizeof keys[0] == KW_CONFIG_NKEYS, "KW_CONFIG_NKEYS");

#define NKEYS (sizeof keys / sizeof keys[0])

/* The field's current value, as a user would write it. */
static void describe(const struct kw_config *c, const struct key *k, char *buf, size_t size)
{
	/* The table's offsets point at fields of the right type. */
	const char *field = (const char *)c + k->offset;
	uint64_t ms;

	switch (k->kind) {
	case K_BOOL:
		snprintf(buf, size, "%s", *(const bool *)field ? "on" : "off");
		break;
	case K_UINT:
		snprintf(buf, size, "%u", *(const unsigned *)field);
		break;
	case K_DURATION:
		ms = *(const uint64_t *)field;
		if (ms == 0)
			snprintf(buf, size, "0 (off)");
		else if (ms % 1000 == 0)
			snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
		else
			snprintf(buf, size, "%llums", (unsigned long long)ms);
		break;
	case K_PATH:
		snprintf(buf, size, "%s", *field ? field : "off");
		break;
	case K_FRACTION:
		// cppcheck-suppress invalidPointerCast ; field points at a double
		snprintf(buf, size, "%g", *(const double *)field);
		break;
	case K_SIZE:
		snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)field);
		break;
	case K_REUSE:
		snprintf(buf, size, "%s", *(const bool *)field ? "always" : "safe");
		break;
	case K_BROKER:
		snprintf(buf, size, "%s", *field ? field : "off");
		break;
	case K_RULES:
		/* "" for none, which reads back as none */
		kw_dest_rules_format((const struct kw_dest_rules *)field, buf, size);
		break;
	}
}

static const char *expected(enum key_kind kind)
{
	static const char *const what[] = {
		[K_BOOL] = "on or off", [K_UINT] = "a whole number",
		[K_DURATION] = "a duration of 1ms or more, or 0 (like 90s, 500ms, 2m)",
		[K_PATH] = "a path shorter than 1024 bytes",
		[K_FRACTION] = "a fraction from 0 to 1",
		[K_SIZE] = "a size (like 65536, 64KiB, 1MiB)",
		[K_REUSE] = "safe or always",
		[K_BROKER] = "auto, off, or an absolute socket path (under 108 bytes, not ending in /)",
		[K_RULES] = "a list of allow and deny rules (like deny 10.1.2.3:8080, allow 127.0.0.0/8)",
	};
	return what[kind];
}

/* Set one key from its text; on a bad value keep the field and warn. */
static void apply(struct kw_config *c, const struct key *k, const char *value,
                  const char *where, const char *from, kw_warn_fn warn)
{
	char *field = (char *)c + k->offset;
	struct kw_config dflt;
	char now[64], was_default[64], line[600], why[200];
	int bad;

	switch (k->kind) {
	case K_BOOL:
		bad = kw_parse_bool(value, (bool *)field);
		/* A typo must not switch a control arm on. */
		if (bad && k->offset == offsetof(struct kw_config, enabled))
			*(bool *)field = false;
		break;
	case K_UINT:
		bad = kw_parse_uint(value, (unsigned *)field);
		break;
	case K_DURATION:
		bad = kw_parse_duration_ms(value, (uint64_t *)field);
		break;
	case K_FRACTION:
		// cppcheck-suppress invalidPointerCast ; field points at a double
		bad = kw_parse_fraction(value, (double *)field);
		break;
	case K_SIZE:
		bad = kw_parse_size(value, (uint64_t *)field);
		break;
	case K_REUSE:
		bad = parse_reuse(value, (bool *)field);
		break;
	case K_BROKER:
		bad = parse_broker(value, field);
		break;
	case K_RULES:
		bad = kw_dest_rules_parse(value, (struct kw_dest_rules *)field, why, sizeof why);
		if (bad && warn) {
			bool none = !((struct kw_dest_rules *)field)->n;
			snprintf(line, sizeof line, "keepwarm: %s%s=\"%.160s%s\": %s; using %s\n", where,
			         k->name, value, strlen(value) > 160 ? "..." : "", why,
			         none ? "the default (none: every destination followed)"
			              : "the rules set before");
			warn(line);
		}
		if (bad)
			return;
		break;
	default:
		bad = strlen(value) >= KW_TRACE_PATH_MAX ? -1 : 0;
		if (!bad)
			strcpy(field, value);
		break;
	}
	if (!bad) {
		snprintf(c->origin[k - keys], KW_ORIGIN_MAX, "%s", from);
		return;
	}
	if (!warn)
		return;
	kw_config_defaults(&dflt);
	describe(c, k, now, sizeof now);
	describe(&dflt, k, was_default, sizeof was_default);
	snprintf(line, sizeof line, "keepwarm: %s%s=\"%.200s\" is not %s; using %s%s\n", where,
	         k->name, value, expected(k->kind), strcmp(now, was_default) ? "" : "the default ",
	         now);
	warn(line);
}

void kw_config_apply_env(struct kw_config *c, kw_getenv_fn getenv_fn, kw_warn_fn warn)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = getenv_fn(keys[i].name);
		if (v)
			apply(c, &keys[i], v, "", "environment", warn);
	}
}

void kw_config_load(struct kw_config *c, kw_getenv_fn getenv_fn, kw_warn_fn warn)
{
	kw_config_defaults(c);
	kw_config_apply_env(c, getenv_fn, warn);
}

static void warn_at(kw_warn_fn warn, const char *where, const char *what)
{
	char line[1024];

	if (!warn)
		return;
	snprintf(line, sizeof line, "keepwarm: %s%s\n", where, what);
	warn(line);
}

/* Edit distance of two short names, for "did you mean". */
static unsigned distance(const char *a, size_t na, const char *b)
{
	unsigned row[64], nb = (unsigned)strlen(b);

	if (na >= 63 || nb >= 63)
		return 99;
	for (unsigned j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		unsigned diag = row[0], up;
		row[0] = (unsigned)i;
		for (unsigned j = 1; j <= nb; j++) {
			up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb];
}

/* " (did you mean KEEPWARM_X?)" for the nearest setting within 3 edits, or "". */
static const char *suggestion(const char *name, size_t len, char *buf, size_t size)
{
	const char *best = NULL;
	unsigned best_d = 4;

	for (size_t i = 0; i < NKEYS; i++) {
		unsigned d = distance(name, len, keys[i].name);
		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	if (!best)
		return "";
	snprintf(buf, size, " (did you mean %s?)", best);
	return buf;
}

/* Names read that are not settings: the launcher's library, the user file. */
static const char *const launcher_names[] = { "KEEPWARM_LIBRARY", "KEEPWARM_CONFIG" };

void kw_config_check_env_names(char *const *env, kw_warn_fn warn)
{
	for (; env && *env && warn; env++) {
		const char *entry = *env, *eq = strchr(entry, '=');
		size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
		bool known = false;
		char line[400], hint[80];

		if (strncmp(entry, "KEEPWARM", 8))
			continue;
		for (size_t i = 0; i < NKEYS && !known; i++)
			known = strlen(keys[i].name) == len && !strncmp(keys[i].name, entry, len);
		for (size_t i = 0; i < sizeof launcher_names / sizeof *launcher_names && !known; i++)
			known = strlen(launcher_names[i]) == len && !strncmp(launcher_names[i], entry, len);
		if (known)
			continue;
		snprintf(line, sizeof line, "keepwarm: %.*s is not a keepwarm setting%s; ignored\n",
		         (int)(len < 200 ? len : 200), entry, suggestion(entry, len, hint, sizeof hint));
		warn(line);
	}
}

void kw_config_apply_text(struct kw_config *c, const char *text, const char *origin,
                          kw_warn_fn warn)
{
	unsigned lineno = 0;

	while (text && *text) {
		const char *eol = strchr(text, '\n');
		size_t len = eol ? (size_t)(eol - text) : strlen(text);
		const char *next = text + len + (eol ? 1 : 0);
		char buf[1200], where[300], *key, *value, *eq, *end;
		const struct key *k = NULL;

		lineno++;
		snprintf(where, sizeof where, "%.250s:%u: ", origin, lineno);
		if (len >= sizeof buf) {
			warn_at(warn, where, "line too long; skipped");
			text = next;
			continue;
		}
		memcpy(buf, text, len);
		buf[len] = '\0';
		text = next;
		/* buf[0..len] is set above; the analyzer loses track of memcpy's length. */
		for (key = buf; isspace((unsigned char)*key); key++) // NOLINT(clang-analyzer-core.uninitialized.ArraySubscript)
			;
		if (!*key || *key == '#')
			continue;
		/* Shell syntax people paste: "export NAME=value". */
		if (!strncmp(key, "export", 6) && (key[6] == ' ' || key[6] == '\t'))
			for (key += 6; isspace((unsigned char)*key); key++)
				;
		eq = strchr(key, '=');
		if (!eq) {
			warn_at(warn, where, "expected KEEPWARM_NAME = value; skipped");
			continue;
		}
		for (end = eq; end > key && isspace((unsigned char)end[-1]); end--)
			;
		*end = '\0';
		for (value = eq + 1; isspace((unsigned char)*value); value++)
			;
		for (end = value + strlen(value); end > value && isspace((unsigned char)end[-1]); end--)
			;
		*end = '\0';
		/* A value in matching quotes, as a shell would take it: no escapes. */
		if (end - value >= 2 && (*value == '"' || *value == '\'') && end[-1] == *value) {
			end[-1] = '\0';
			value++;
		}
		for (size_t i = 0; i < NKEYS; i++)
			if (!strcmp(keys[i].name, key))
				k = &keys[i];
		if (!k) {
			char what[400], hint[80];
			snprintf(what, sizeof what, "unknown setting \"%.200s\"%s; skipped", key,
			         suggestion(key, strlen(key), hint, sizeof hint));
			warn_at(warn, where, what);
			continue;
		}
		char from[KW_ORIGIN_MAX];
		snprintf(from, sizeof from, "%.140s:%u", origin, lineno);
		apply(c, k, value, where, from, warn);
	}
}

/* ---- every source, in order ---- */

static void apply_file(struct kw_config *c, const char *path, bool named, kw_read_fn read_fn,
                       kw_warn_fn warn)
{
	static char text[64 * 1024]; /* read at start, one thread */
	char line[1300], why[128];
	long n = read_fn(path, text, sizeof text - 1);

	if (n < 0) {
		/* No file is the usual case, unless KEEPWARM_CONFIG named it. */
		if ((errno == ENOENT || errno == ENOTDIR) && !named)
			return;
		if (warn) {
			snprintf(line, sizeof line, "keepwarm: configuration file %.1100s cannot be read: "
			         "%s; skipped\n", path, strerror_r(errno, why, sizeof why));
			warn(line);
		}
		return;
	}
	text[n] = '\0';
	kw_config_apply_text(c, text, path, warn);
}

bool kw_config_user_file(kw_getenv_fn getenv_fn, char *buf, size_t size)
{
	const char *named = getenv_fn("KEEPWARM_CONFIG"), *xdg = getenv_fn("XDG_CONFIG_HOME");
	const char *home = getenv_fn("HOME");
	int n;

	if (named && *named)
		n = snprintf(buf, size, "%s", named);
	else if (xdg && xdg[0] == '/') /* the spec ignores a relative one */
		n = snprintf(buf, size, "%s/keepwarm/keepwarm.conf", xdg);
	else if (home && *home)
		n = snprintf(buf, size, "%s/.config/keepwarm/keepwarm.conf", home);
	else
		n = -1;
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return false;
	}
	return true;
}

void kw_config_load_all(struct kw_config *c, kw_getenv_fn getenv_fn, kw_read_fn read_fn,
                        char *const *env, kw_warn_fn warn)
{
	char user[KW_TRACE_PATH_MAX];
	const char *named = getenv_fn("KEEPWARM_CONFIG");

	kw_config_defaults(c);
	apply_file(c, "/etc/keepwarm.conf", false, read_fn, warn);
	if (kw_config_user_file(getenv_fn, user, sizeof user))
		apply_file(c, user, named && *named, read_fn, warn);
	kw_config_check_env_names(env, warn);
	kw_config_apply_env(c, getenv_fn, warn);
}

const char *kw_config_name(unsigned i)
{
	return i < KW_CONFIG_NKEYS ? keys[i].name : "?";
}

int kw_config_index(const char *name)
{
	for (unsigned i = 0; i < KW_CONFIG_NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return (int)i;
	return -1;
}

void kw_config_value(const struct kw_config *c, unsigned i, char *buf, size_t size)
{
	if (i >= KW_CONFIG_NKEYS) {
		snprintf(buf, size, "?");
		return;
	}
	describe(c, &keys[i], buf, size);
	if (keys[i].kind == K_DURATION && !strcmp(buf, "0 (off)"))
		snprintf(buf, size, "0");
	else if (keys[i].kind == K_PATH && !strcmp(buf, "off"))
		buf[0] = '\0';
}
