/* test_config.c - unit tests for shim/logic/config.h (defaults, KEEPWARM_* parsing,
 * warnings, durations, unsigned integers, booleans). */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "logic/config.h"

/* ---- fake environment and warning sink ---------------------------------- */

struct env_var {
	const char *name;
	const char *value;
};

#define ENV_MAX 16
static struct env_var fake_env[ENV_MAX];
static unsigned fake_env_n;

static void env_clear(void)
{
	fake_env_n = 0;
}

static void env_set(const char *name, const char *value)
{
	ck_assert_uint_lt(fake_env_n, ENV_MAX);
	fake_env[fake_env_n].name = name;
	fake_env[fake_env_n].value = value;
	fake_env_n++;
}

static const char *fake_getenv(const char *name)
{
	for (unsigned i = 0; i < fake_env_n; i++)
		if (strcmp(fake_env[i].name, name) == 0)
			return fake_env[i].value;
	return NULL;
}

#define WARN_MAX 16
static char warn_lines[WARN_MAX][1024];
static unsigned warn_n;

static void warn_clear(void)
{
	warn_n = 0;
}

static void collect_warn(const char *line)
{
	ck_assert_ptr_nonnull(line);
	if (warn_n < WARN_MAX)
		snprintf(warn_lines[warn_n], sizeof warn_lines[warn_n], "%s", line);
	warn_n++;
}

static void check_defaults(const struct kw_config *c)
{
	ck_assert(c->enabled);
	ck_assert_uint_eq(c->max_idle, 100);
	ck_assert_uint_eq(c->max_idle_per_host, 20);
	ck_assert_uint_eq(c->idle_timeout_ms, 90000);
	ck_assert_uint_eq(c->max_lifetime_ms, 0);
	ck_assert_uint_eq(c->max_requests, 0);
	ck_assert_uint_eq(c->tcp_keepalive_ms, 30000);
	ck_assert_str_eq(c->trace, "");
	ck_assert_str_eq(c->broker, "auto");
	ck_assert_uint_eq(c->broker_linger_ms, 600000);
	ck_assert_uint_eq(c->destinations.n, 0);
	ck_assert_uint_eq(c->connect_timeout_ms, 0);
}

/* Socket paths at the limit of a Unix socket address (108 bytes with its
 * terminator): 107 bytes fit, 108 do not. */
#define A10 "aaaaaaaaaa"
#define PATH107 "/" A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 "aaaaaa"
#define PATH108 PATH107 "a"
_Static_assert(sizeof PATH107 == 108 && sizeof PATH108 == 109, "socket path lengths");

static void load(struct kw_config *c)
{
	memset(c, 0xA5, sizeof *c); /* load must start from the defaults */
	warn_clear();
	kw_config_load(c, fake_getenv, collect_warn);
}

/* ---- defaults ------------------------------------------------------------ */

START_TEST(test_defaults)
{
	struct kw_config c;
	memset(&c, 0x5A, sizeof c);
	kw_config_defaults(&c);
	check_defaults(&c);
}
END_TEST

START_TEST(test_load_empty_env_gives_defaults)
{
	struct kw_config c;
	env_clear();
	load(&c);
	check_defaults(&c);
	ck_assert_uint_eq(warn_n, 0);
}
END_TEST

START_TEST(test_load_null_warn_ok)
{
	struct kw_config c;
	env_clear();
	env_set("KEEPWARM_MAX_IDLE", "bogus");
	env_set("KEEPWARM_IDLE_TIMEOUT", "10x");
	memset(&c, 0xA5, sizeof c);
	kw_config_load(&c, fake_getenv, NULL);
	check_defaults(&c);
}
END_TEST

/* ---- every variable ------------------------------------------------------ */

START_TEST(test_load_all_variables)
{
	struct kw_config c;
	env_clear();
	env_set("KEEPWARM", "off");
	env_set("KEEPWARM_MAX_IDLE", "7");
	env_set("KEEPWARM_MAX_IDLE_PER_HOST", "3");
	env_set("KEEPWARM_IDLE_TIMEOUT", "2m");
	env_set("KEEPWARM_MAX_LIFETIME", "1h");
	env_set("KEEPWARM_MAX_REQUESTS", "50");
	env_set("KEEPWARM_TCP_KEEPALIVE", "0");
	env_set("KEEPWARM_TRACE", "/tmp/keepwarm-trace.log");
	env_set("KEEPWARM_BROKER", "/run/user/1000/keepwarm/broker");
	env_set("KEEPWARM_BROKER_LINGER", "1h");
	load(&c);
	ck_assert_uint_eq(warn_n, 0);
	ck_assert(!c.enabled);
	ck_assert_uint_eq(c.max_idle, 7);
	ck_assert_uint_eq(c.max_idle_per_host, 3);
	ck_assert_uint_eq(c.idle_timeout_ms, 120000);
	ck_assert_uint_eq(c.max_lifetime_ms, 3600000);
	ck_assert_uint_eq(c.max_requests, 50);
	ck_assert_uint_eq(c.tcp_keepalive_ms, 0);
	ck_assert_str_eq(c.trace, "/tmp/keepwarm-trace.log");
	ck_assert_str_eq(c.broker, "/run/user/1000/keepwarm/broker");
	ck_assert_uint_eq(c.broker_linger_ms, 3600000);
}
END_TEST

/* One variable at a time, so a value cannot leak into another field. */
struct one_var {
	const char *name, *value;
};

static const struct one_var one_vars[] = {
	{ "KEEPWARM", "off" },
	{ "KEEPWARM", "on" },
	{ "KEEPWARM", "0" },
	{ "KEEPWARM", "FALSE" },
	{ "KEEPWARM_MAX_IDLE", "1" },
	{ "KEEPWARM_MAX_IDLE_PER_HOST", "99" },
	{ "KEEPWARM_IDLE_TIMEOUT", "500ms" },
	{ "KEEPWARM_MAX_LIFETIME", "1m30s" },
	{ "KEEPWARM_MAX_REQUESTS", "1000" },
	{ "KEEPWARM_TCP_KEEPALIVE", "15" },
	{ "KEEPWARM_TRACE", "stderr" },
	{ "KEEPWARM_TLS_HANDSHAKE_TIMEOUT", "2.5s" },
	{ "KEEPWARM_TLS_REUSE", "off" },
	{ "KEEPWARM_BROKER", "off" },
	{ "KEEPWARM_BROKER", "0" },
	{ "KEEPWARM_BROKER", "No" },
	{ "KEEPWARM_BROKER", "AUTO" },
	{ "KEEPWARM_BROKER", "/tmp/keepwarm-1000/broker" },
	{ "KEEPWARM_BROKER", PATH107 },
	{ "KEEPWARM_BROKER_LINGER", "0" },
	{ "KEEPWARM_BROKER_LINGER", "30s" },
	{ "KEEPWARM_DESTINATIONS", "deny 10.1.2.3:8080, allow 127.0.0.0/8" },
	{ "KEEPWARM_DESTINATIONS", "" },
	{ "KEEPWARM_CONNECT_TIMEOUT", "250ms" },
	{ "KEEPWARM_BROKER_STATS", "/tmp/broker.%p.prom" },
	{ "KEEPWARM_WARM", "3" },
};

START_TEST(test_load_one_variable)
{
	const struct one_var *v = &one_vars[_i];
	struct kw_config c, want;
	env_clear();
	env_set(v->name, v->value);
	load(&c);
	ck_assert_msg(warn_n == 0, "%s=%s: unexpected warning", v->name, v->value);

	kw_config_defaults(&want);
	if (strcmp(v->name, "KEEPWARM") == 0)
		want.enabled = strcmp(v->value, "on") == 0;
	else if (strcmp(v->name, "KEEPWARM_MAX_IDLE") == 0)
		want.max_idle = 1;
	else if (strcmp(v->name, "KEEPWARM_MAX_IDLE_PER_HOST") == 0)
		want.max_idle_per_host = 99;
	else if (strcmp(v->name, "KEEPWARM_IDLE_TIMEOUT") == 0)
		want.idle_timeout_ms = 500;
	else if (strcmp(v->name, "KEEPWARM_MAX_LIFETIME") == 0)
		want.max_lifetime_ms = 90000;
	else if (strcmp(v->name, "KEEPWARM_MAX_REQUESTS") == 0)
		want.max_requests = 1000;
	else if (strcmp(v->name, "KEEPWARM_TCP_KEEPALIVE") == 0)
		want.tcp_keepalive_ms = 15000;
	else if (strcmp(v->name, "KEEPWARM_TRACE") == 0)
		strcpy(want.trace, "stderr");
	else if (strcmp(v->name, "KEEPWARM_TLS_HANDSHAKE_TIMEOUT") == 0)
		want.tls_handshake_timeout_ms = 2500;
	else if (strcmp(v->name, "KEEPWARM_TLS_REUSE") == 0)
		want.tls_reuse = false;
	else if (strcmp(v->name, "KEEPWARM_BROKER") == 0 && v->value[0] == '/')
		strcpy(want.broker, v->value);
	else if (strcmp(v->name, "KEEPWARM_BROKER") == 0) /* auto stays, the off words clear it */
		strcpy(want.broker, strcasecmp(v->value, "auto") ? "" : "auto");
	else if (strcmp(v->name, "KEEPWARM_BROKER_LINGER") == 0)
		want.broker_linger_ms = strcmp(v->value, "0") ? 30000 : 0;
	else if (strcmp(v->name, "KEEPWARM_DESTINATIONS") == 0 && v->value[0])
		want.destinations.n = 2;
	else if (strcmp(v->name, "KEEPWARM_CONNECT_TIMEOUT") == 0)
		want.connect_timeout_ms = 250;
	else if (strcmp(v->name, "KEEPWARM_BROKER_STATS") == 0)
		strcpy(want.broker_stats, v->value);
	else if (strcmp(v->name, "KEEPWARM_WARM") == 0)
		want.warm = 3;

	ck_assert_msg(c.enabled == want.enabled, "%s=%s: enabled", v->name, v->value);
	ck_assert_uint_eq(c.max_idle, want.max_idle);
	ck_assert_uint_eq(c.max_idle_per_host, want.max_idle_per_host);
	ck_assert_uint_eq(c.idle_timeout_ms, want.idle_timeout_ms);
	ck_assert_uint_eq(c.max_lifetime_ms, want.max_lifetime_ms);
	ck_assert_uint_eq(c.max_requests, want.max_requests);
	ck_assert_uint_eq(c.tcp_keepalive_ms, want.tcp_keepalive_ms);
	ck_assert_str_eq(c.trace, want.trace);
	ck_assert_uint_eq(c.tls_handshake_timeout_ms, want.tls_handshake_timeout_ms);
	ck_assert(c.tls_reuse == want.tls_reuse);
	ck_assert_str_eq(c.broker, want.broker);
	ck_assert_uint_eq(c.destinations.n, want.destinations.n);
	ck_assert_uint_eq(c.connect_timeout_ms, want.connect_timeout_ms);
	ck_assert_str_eq(c.broker_stats, want.broker_stats);
	ck_assert_uint_eq(c.warm, want.warm);
	ck_assert_uint_eq(c.broker_linger_ms, want.broker_linger_ms);
}
END_TEST

START_TEST(test_trace_long_path_terminated)
{
	static char longpath[3 * KW_TRACE_PATH_MAX];
	struct kw_config c;
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	env_clear();
	env_set("KEEPWARM_TRACE", longpath);
	load(&c);
	/* Truncated or refused, but always a terminated string in the field. */
	ck_assert(memchr(c.trace, '\0', sizeof c.trace) != NULL);
	ck_assert_uint_eq(c.max_idle, 100);
}
END_TEST

/* ---- malformed values: default kept, one warning naming var, value, default */

struct bad_var {
	const char *name, *value;
	const char *defaults[5]; /* acceptable spellings of the default, NULL-ended */
};

static const struct bad_var bad_vars[] = {
	{ "KEEPWARM_MAX_IDLE", "lots", { "100", NULL } },
	{ "KEEPWARM_MAX_IDLE", "-3", { "100", NULL } },
	{ "KEEPWARM_MAX_IDLE_PER_HOST", "abc", { "20", NULL } },
	{ "KEEPWARM_MAX_IDLE_PER_HOST", "4294967297", { "20", NULL } },
	{ "KEEPWARM_IDLE_TIMEOUT", "soon", { "90000", "90s", "1m30s", NULL } },
	{ "KEEPWARM_IDLE_TIMEOUT", "-5s", { "90000", "90s", "1m30s", NULL } },
	{ "KEEPWARM_IDLE_TIMEOUT", "500us", { "90000", "90s", "1m30s", NULL } },
	{ "KEEPWARM_TCP_KEEPALIVE", "1ns", { "30000", "30s", NULL } },
	{ "KEEPWARM_MAX_LIFETIME", "forever", { "0", NULL } },
	{ "KEEPWARM_MAX_REQUESTS", "1e3", { "0", NULL } },
	{ "KEEPWARM_TCP_KEEPALIVE", "7x", { "30000", "30s", NULL } },
	/* A broker's socket: absolute, fits sun_path, names a file. */
	{ "KEEPWARM_BROKER", "relative/path", { "using the default auto", NULL } },
	{ "KEEPWARM_BROKER", PATH108, { "using the default auto", NULL } },
	{ "KEEPWARM_BROKER", "/trailing/", { "using the default auto", NULL } },
	{ "KEEPWARM_BROKER", "maybe", { "using the default auto", NULL } },
	{ "KEEPWARM_BROKER", "on", { "using the default auto", NULL } },
	{ "KEEPWARM_BROKER", "", { "using the default auto", NULL } },
	{ "KEEPWARM_BROKER_LINGER", "10x", { "using the default 600s", NULL } },
	{ "KEEPWARM_BROKER_LINGER", "-1m", { "using the default 600s", NULL } },
	/* Destination rules: the bad one named, none applied. */
	{ "KEEPWARM_DESTINATIONS", "deny 10.1.2.3:8080, deny 10.1.2.3:99999",
	  { "rule 2 \"deny 10.1.2.3:99999\": the port is not 1 to 65535, nor *; using the default", NULL } },
	{ "KEEPWARM_DESTINATIONS", "permit 10.0.0.1", { "rule 1 \"permit 10.0.0.1\"", NULL } },
	{ "KEEPWARM_DESTINATIONS", "deny 10.0.0.0/33", { "the prefix is more than /32", NULL } },
	{ "KEEPWARM_CONNECT_TIMEOUT", "soon", { "using the default 0 (off)", NULL } },
	{ "KEEPWARM_CONNECT_TIMEOUT", "100us", { "using the default 0 (off)", NULL } },
};

START_TEST(test_load_malformed)
{
	const struct bad_var *v = &bad_vars[_i];
	struct kw_config c;
	env_clear();
	env_set(v->name, v->value);
	load(&c);
	check_defaults(&c);
	ck_assert_msg(warn_n == 1, "%s=%s: %u warnings, want 1", v->name, v->value, warn_n);
	const char *line = warn_lines[0];
	ck_assert_msg(strstr(line, v->name) != NULL, "warning lacks variable name: %s", line);
	ck_assert_msg(strstr(line, v->value) != NULL, "warning lacks bad value '%s': %s",
	              v->value, line);
	bool has_default = false;
	for (int k = 0; v->defaults[k]; k++)
		if (strstr(line, v->defaults[k]))
			has_default = true;
	ck_assert_msg(has_default, "warning lacks the default (%s): %s", v->defaults[0], line);
}
END_TEST

/* A typo in KEEPWARM must not switch a control arm on: it means off. */
START_TEST(test_load_malformed_switch_is_off)
{
	struct kw_config c;
	env_clear();
	env_set("KEEPWARM", "maybe");
	load(&c);
	ck_assert(!c.enabled);
	ck_assert_uint_eq(warn_n, 1);
	ck_assert_msg(strstr(warn_lines[0], "KEEPWARM=\"maybe\"") && strstr(warn_lines[0], "using off"),
	              "%s", warn_lines[0]);
}
END_TEST

/* A bad broker in the environment keeps the file's socket, and says so. */
START_TEST(test_broker_malformed_keeps_file_value)
{
	struct kw_config c;
	env_clear();
	env_set("KEEPWARM_BROKER", "maybe");
	warn_clear();
	kw_config_defaults(&c);
	kw_config_apply_text(&c, "KEEPWARM_BROKER = /run/kw/broker\n", "test.conf", collect_warn);
	kw_config_apply_env(&c, fake_getenv, collect_warn);
	ck_assert_str_eq(c.broker, "/run/kw/broker");
	ck_assert_uint_eq(warn_n, 1);
	ck_assert_msg(strstr(warn_lines[0], "KEEPWARM_BROKER=\"maybe\"") &&
	              strstr(warn_lines[0], "using /run/kw/broker"), "%s", warn_lines[0]);
}
END_TEST

START_TEST(test_load_malformed_others_still_parsed)
{
	struct kw_config c;
	env_clear();
	env_set("KEEPWARM_MAX_IDLE", "12");
	env_set("KEEPWARM_IDLE_TIMEOUT", "zzz");
	env_set("KEEPWARM_MAX_REQUESTS", "4");
	env_set("KEEPWARM_MAX_IDLE_PER_HOST", "x9");
	load(&c);
	ck_assert_uint_eq(warn_n, 2);
	ck_assert_uint_eq(c.max_idle, 12);
	ck_assert_uint_eq(c.idle_timeout_ms, 90000);
	ck_assert_uint_eq(c.max_requests, 4);
	ck_assert_uint_eq(c.max_idle_per_host, 20);
	bool saw_timeout = false, saw_per_host = false;
	for (unsigned i = 0; i < warn_n && i < WARN_MAX; i++) {
		if (strstr(warn_lines[i], "KEEPWARM_IDLE_TIMEOUT") && strstr(warn_lines[i], "zzz"))
			saw_timeout = true;
		if (strstr(warn_lines[i], "KEEPWARM_MAX_IDLE_PER_HOST") && strstr(warn_lines[i], "x9"))
			saw_per_host = true;
	}
	ck_assert(saw_timeout);
	ck_assert(saw_per_host);
}
END_TEST

/* ---- durations ----------------------------------------------------------- */

struct dur_case {
	const char *s;
	uint64_t ms;
};

static const struct dur_case good_durations[] = {
	{ "90s", 90000 },
	{ "500ms", 500 },
	{ "2m", 120000 },
	{ "1m30s", 90000 },
	{ "1.5s", 1500 },
	{ "1h", 3600000 },
	{ "1.5h", 5400000 },
	{ "0", 0 },
	{ "0s", 0 },
	{ "10", 10000 },
	{ "1500us", 1 },
	{ "1000us", 1 },
	{ "1000000ns", 1 },
	{ "0ms", 0 },
	{ "0.0s", 0 },
	{ "2000000ns", 2 },
	{ "1h2m3s4ms", 3723004 },
	{ "1.9999ms", 1 },
	/* Exact decimal fractions: "rounded down" must not lose a millisecond to
	 * binary floating point. */
	{ "1.001s", 1001 },
	{ "1.005s", 1005 },
	{ "0.003s", 3 },
	{ "1.13m", 67800 },
	{ "2.01m", 120600 },
	{ "0.1h", 360000 },
	{ "1m0.001s", 60001 },
};

START_TEST(test_duration_good)
{
	const struct dur_case *d = &good_durations[_i];
	uint64_t out = 777;
	int rc = kw_parse_duration_ms(d->s, &out);
	ck_assert_msg(rc == 0, "\"%s\": rc %d, want 0", d->s, rc);
	ck_assert_msg(out == d->ms, "\"%s\": got %llu ms, want %llu", d->s,
	              (unsigned long long)out, (unsigned long long)d->ms);
}
END_TEST

static const char *const bad_durations[] = {
	"", "s", "ms", "10x", "-5s", "-0.5s", "1.2.3s", "99999999999999999999h",
	"10000000000000h", "99999999999999999999", "5 s", "s5", "1s2", "h1", ".", "1..5s",
	"abc", "0x10s",
	/* Below a millisecond but not 0: it would read as "off". */
	"250us", "999999ns", "1ns", "0.5ms", "0.0001s",
};

START_TEST(test_duration_bad)
{
	const char *s = bad_durations[_i];
	uint64_t out = 777;
	int rc = kw_parse_duration_ms(s, &out);
	ck_assert_msg(rc == -1, "\"%s\": rc %d (out %llu), want -1", s, rc,
	              (unsigned long long)out);
}
END_TEST

/* ---- unsigned integers --------------------------------------------------- */

struct uint_case {
	const char *s;
	unsigned v;
};

static const struct uint_case good_uints[] = {
	{ "0", 0 },
	{ "1", 1 },
	{ "42", 42 },
	{ "007", 7 },
	{ "2147483647", 2147483647u },
};

START_TEST(test_uint_good)
{
	const struct uint_case *u = &good_uints[_i];
	unsigned out = 12345;
	ck_assert_msg(kw_parse_uint(u->s, &out) == 0, "\"%s\" rejected", u->s);
	ck_assert_uint_eq(out, u->v);
}
END_TEST

static const char *const bad_uints[] = {
	"", "-1", "-0x1", "12a", "a12", "1 ", "0x10", "1.5", "2147483648", "4294967295",
	"4294967296", "18446744073709551615", "99999999999999999999999",
};

START_TEST(test_uint_bad)
{
	const char *s = bad_uints[_i];
	unsigned out = 12345;
	int rc = kw_parse_uint(s, &out);
	ck_assert_msg(rc == -1, "\"%s\": rc %d (out %u), want -1", s, rc, out);
}
END_TEST

/* ---- booleans ------------------------------------------------------------ */

struct bool_case {
	const char *s;
	bool v;
};

static const struct bool_case good_bools[] = {
	{ "on", true },     { "ON", true },     { "On", true },    { "1", true },
	{ "true", true },   { "TRUE", true },   { "True", true },  { "yes", true },
	{ "YES", true },    { "yEs", true },    { "off", false },  { "OFF", false },
	{ "Off", false },   { "0", false },     { "false", false }, { "FALSE", false },
	{ "fAlSe", false }, { "no", false },    { "NO", false },   { "No", false },
};

START_TEST(test_bool_good)
{
	const struct bool_case *b = &good_bools[_i];
	bool out = !b->v;
	ck_assert_msg(kw_parse_bool(b->s, &out) == 0, "\"%s\" rejected", b->s);
	ck_assert_msg(out == b->v, "\"%s\" parsed as %d", b->s, out);
}
END_TEST

static const char *const bad_bools[] = {
	"", "maybe", "2", "-1", "10", "o", "of", "onn", "offf", "tru", "truex", "ye", "yess",
	"n", "y", "t", "f", "enable",
};

START_TEST(test_bool_bad)
{
	const char *s = bad_bools[_i];
	bool out = false;
	ck_assert_msg(kw_parse_bool(s, &out) == -1, "\"%s\" accepted", s);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("load");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_load_empty_env_gives_defaults);
	tcase_add_test(tc, test_load_null_warn_ok);
	tcase_add_test(tc, test_load_all_variables);
	tcase_add_loop_test(tc, test_load_one_variable, 0, N(one_vars));
	tcase_add_test(tc, test_trace_long_path_terminated);
	tcase_add_loop_test(tc, test_load_malformed, 0, N(bad_vars));
	tcase_add_test(tc, test_load_malformed_switch_is_off);
	tcase_add_test(tc, test_load_malformed_others_still_parsed);
	tcase_add_test(tc, test_broker_malformed_keeps_file_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_duration_good, 0, N(good_durations));
	tcase_add_loop_test(tc, test_duration_bad, 0, N(bad_durations));
	tcase_add_loop_test(tc, test_uint_good, 0, N(good_uints));
	tcase_add_loop_test(tc, test_uint_bad, 0, N(bad_uints));
	tcase_add_loop_test(tc, test_bool_good, 0, N(good_bools));
	tcase_add_loop_test(tc, test_bool_bad, 0, N(bad_bools));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
