/* test_config_file.c - unit tests for configuration files and the settings
 * added for A/B tests (KEEPWARM_STATS, KEEPWARM_STATS_INTERVAL, KEEPWARM_SAMPLE). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "logic/config.h"

static char warnings[8][600];
static unsigned nwarn;

static void collect(const char *line)
{
	if (nwarn < 8)
		snprintf(warnings[nwarn], sizeof warnings[nwarn], "%s", line);
	nwarn++;
}

static const char *env_value;
static const char *one_env(const char *name)
{
	return !strcmp(name, "KEEPWARM_MAX_IDLE") ? env_value : NULL;
}

START_TEST(test_new_defaults)
{
	struct kw_config c;
	kw_config_defaults(&c);
	ck_assert_uint_eq(c.stats_interval_ms, 10000);
	ck_assert(c.sample == 1.0);
	ck_assert_str_eq(c.stats, "");
}
END_TEST

START_TEST(test_file_text)
{
	struct kw_config c;
	const char *text = "# comment\n"
	                   "\n"
	                   "KEEPWARM_MAX_IDLE = 7\n"
	                   "  KEEPWARM_IDLE_TIMEOUT=1m30s  \n"
	                   "KEEPWARM_STATS = /tmp/kw.%p.prom\n"
	                   "KEEPWARM_SAMPLE=0.25\n"
	                   "KEEPWARM = off";
	kw_config_defaults(&c);
	nwarn = 0;
	kw_config_apply_text(&c, text, "f.conf", collect);
	ck_assert_uint_eq(nwarn, 0);
	ck_assert_uint_eq(c.max_idle, 7);
	ck_assert_uint_eq(c.idle_timeout_ms, 90000);
	ck_assert_str_eq(c.stats, "/tmp/kw.%p.prom");
	ck_assert(c.sample == 0.25);
	ck_assert(!c.enabled);
}
END_TEST

START_TEST(test_file_errors)
{
	struct kw_config c;
	kw_config_defaults(&c);
	nwarn = 0;
	kw_config_apply_text(&c, "KEEPWARM_MAX_IDLE = 5\nnonsense\nKEEPWARM_NOPE = 1\n"
	                         "KEEPWARM_IDLE_TIMEOUT = soon\nKEEPWARM_SAMPLE = 2\n",
	                     "/etc/keepwarm.conf", collect);
	ck_assert_uint_eq(nwarn, 4);
	ck_assert_ptr_nonnull(strstr(warnings[0], "/etc/keepwarm.conf:2: "));
	ck_assert_ptr_nonnull(strstr(warnings[1], "/etc/keepwarm.conf:3: unknown setting \"KEEPWARM_NOPE\""));
	ck_assert_ptr_nonnull(strstr(warnings[2], "/etc/keepwarm.conf:4: KEEPWARM_IDLE_TIMEOUT=\"soon\""));
	ck_assert_ptr_nonnull(strstr(warnings[2], "the default 90s"));
	ck_assert_ptr_nonnull(strstr(warnings[3], "KEEPWARM_SAMPLE=\"2\""));
	ck_assert_uint_eq(c.max_idle, 5); /* good lines still apply */
	ck_assert(c.sample == 1.0);
}
END_TEST

/* Shell habits: an export prefix, values in quotes. */
START_TEST(test_file_shell_syntax)
{
	struct kw_config c;
	kw_config_defaults(&c);
	nwarn = 0;
	kw_config_apply_text(&c, "export KEEPWARM_MAX_IDLE=9\n"
	                         "\texport\tKEEPWARM_IDLE_TIMEOUT = \"30s\"\n"
	                         "KEEPWARM_STATS='/tmp/a b.prom'\n"
	                         "KEEPWARM_TRACE=\"\n" /* one quote: kept as it is */
	                         "exporter = 1\n",
	                     "f.conf", collect);
	ck_assert_uint_eq(c.max_idle, 9);
	ck_assert_uint_eq(c.idle_timeout_ms, 30000);
	ck_assert_str_eq(c.stats, "/tmp/a b.prom");
	ck_assert_str_eq(c.trace, "\"");
	ck_assert_uint_eq(nwarn, 1);
	ck_assert_ptr_nonnull(strstr(warnings[0], "f.conf:5: unknown setting \"exporter\""));
}
END_TEST

/* Unknown KEEPWARM* names in the environment: one line each, with a hint;
 * settings, the launcher's own name and other variables pass. */
START_TEST(test_env_names)
{
	char *env[] = { "KEEPWARM_MAX_IDEL=3", "KEEPWARM_MAX_IDLE=3", "KEEPWARM_LIBRARY=/x.so",
	                "PATH=/bin", "KEEPWARM=on", "KEEPWARM_ZZZZZZZZZZZZ=1", "KEEPWARMTRACE=x", NULL };

	nwarn = 0;
	kw_config_check_env_names(env, collect);
	ck_assert_uint_eq(nwarn, 3);
	ck_assert_str_eq(warnings[0], "keepwarm: KEEPWARM_MAX_IDEL is not a keepwarm setting "
	                              "(did you mean KEEPWARM_MAX_IDLE?); ignored\n");
	ck_assert_str_eq(warnings[1], "keepwarm: KEEPWARM_ZZZZZZZZZZZZ is not a keepwarm setting; "
	                              "ignored\n");
	ck_assert_str_eq(warnings[2], "keepwarm: KEEPWARMTRACE is not a keepwarm setting "
	                              "(did you mean KEEPWARM_TRACE?); ignored\n");
}
END_TEST

/* The user file's place, and every source with its origin. */
static const char *fake_env[8][2];
static const char *fake_getenv(const char *name)
{
	for (int i = 0; i < 8 && fake_env[i][0]; i++)
		if (!strcmp(fake_env[i][0], name))
			return fake_env[i][1];
	return NULL;
}

static long fake_read(const char *path, char *buf, size_t size)
{
	const char *text = !strcmp(path, "/etc/keepwarm.conf") ? "KEEPWARM_MAX_IDLE = 5\n"
	                   : !strcmp(path, "/x/keepwarm/keepwarm.conf") ? "\nKEEPWARM_MAX_IDLE = 6\n"
	                                                                  "KEEPWARM_DRAIN = 1KiB\n"
	                                                                : NULL;
	if (!text) {
		errno = ENOENT;
		return -1;
	}
	snprintf(buf, size, "%s", text);
	return (long)strlen(buf);
}

START_TEST(test_user_file_and_origins)
{
	char path[256];
	struct kw_config c;
	char *env[] = { "KEEPWARM_DRAIN=2KiB", NULL };

	memset(fake_env, 0, sizeof fake_env);
	ck_assert(!kw_config_user_file(fake_getenv, path, sizeof path));
	fake_env[0][0] = "HOME", fake_env[0][1] = "/home/u";
	ck_assert(kw_config_user_file(fake_getenv, path, sizeof path));
	ck_assert_str_eq(path, "/home/u/.config/keepwarm/keepwarm.conf");
	fake_env[1][0] = "XDG_CONFIG_HOME", fake_env[1][1] = "relative";
	kw_config_user_file(fake_getenv, path, sizeof path);
	ck_assert_str_eq(path, "/home/u/.config/keepwarm/keepwarm.conf"); /* ignored */
	fake_env[1][1] = "/x";
	kw_config_user_file(fake_getenv, path, sizeof path);
	ck_assert_str_eq(path, "/x/keepwarm/keepwarm.conf");
	fake_env[2][0] = "KEEPWARM_DRAIN", fake_env[2][1] = "2KiB";
	nwarn = 0;
	kw_config_load_all(&c, fake_getenv, fake_read, env, collect);
	ck_assert_uint_eq(nwarn, 0);
	ck_assert_uint_eq(c.max_idle, 6);
	ck_assert_str_eq(c.origin[kw_config_index("KEEPWARM_MAX_IDLE")], "/x/keepwarm/keepwarm.conf:2");
	ck_assert_uint_eq(c.drain_bytes, 2048);
	ck_assert_str_eq(c.origin[kw_config_index("KEEPWARM_DRAIN")], "environment");
	ck_assert_str_eq(c.origin[kw_config_index("KEEPWARM_SAMPLE")], "default");
	/* KEEPWARM_CONFIG wins, and a missing one is said. */
	fake_env[3][0] = "KEEPWARM_CONFIG", fake_env[3][1] = "/nope.conf";
	kw_config_user_file(fake_getenv, path, sizeof path);
	ck_assert_str_eq(path, "/nope.conf");
	nwarn = 0;
	kw_config_load_all(&c, fake_getenv, fake_read, env, collect);
	ck_assert_uint_eq(nwarn, 1);
	ck_assert_ptr_nonnull(strstr(warnings[0], "configuration file /nope.conf cannot be read"));
	ck_assert_uint_eq(c.max_idle, 5);
	char v[64];
	kw_config_value(&c, (unsigned)kw_config_index("KEEPWARM_MAX_LIFETIME"), v, sizeof v);
	ck_assert_str_eq(v, "0");
	kw_config_value(&c, (unsigned)kw_config_index("KEEPWARM_TRACE"), v, sizeof v);
	ck_assert_str_eq(v, "");
	ck_assert_int_eq(kw_config_index("KEEPWARM_NOPE"), -1);
}
END_TEST

START_TEST(test_env_over_file)
{
	struct kw_config c;
	kw_config_defaults(&c);
	nwarn = 0;
	kw_config_apply_text(&c, "KEEPWARM_MAX_IDLE = 5\n", "f", collect);
	env_value = "9";
	kw_config_apply_env(&c, one_env, collect);
	ck_assert_uint_eq(c.max_idle, 9);
	/* A bad environment value keeps the file's, and says so. */
	kw_config_apply_text(&c, "KEEPWARM_MAX_IDLE = 5\n", "f", collect);
	env_value = "many";
	kw_config_apply_env(&c, one_env, collect);
	ck_assert_uint_eq(c.max_idle, 5);
	ck_assert_uint_eq(nwarn, 1);
	ck_assert_ptr_nonnull(strstr(warnings[0], "KEEPWARM_MAX_IDLE=\"many\""));
	ck_assert_ptr_nonnull(strstr(warnings[0], "using 5"));
}
END_TEST

/* A line too long to read is skipped whole: a commented-out setting at its
 * end must not apply, and it warns once. */
START_TEST(test_long_line_skipped)
{
	struct kw_config c;
	char text[1400];

	memset(text, ' ', sizeof text);
	text[0] = '#';
	memcpy(text + 1300, "KEEPWARM_MAX_IDLE=3\nKEEPWARM_MAX_REQUESTS=4\n", 44);
	text[1344] = '\0';
	kw_config_defaults(&c);
	nwarn = 0;
	kw_config_apply_text(&c, text, "f", collect);
	ck_assert_uint_eq(nwarn, 1);
	ck_assert_ptr_nonnull(strstr(warnings[0], "f:1: line too long"));
	ck_assert_uint_eq(c.max_idle, 100);
	ck_assert_uint_eq(c.max_requests, 4);
}
END_TEST

START_TEST(test_fraction)
{
	double v;
	ck_assert_int_eq(kw_parse_fraction("0", &v), 0);
	ck_assert(v == 0.0);
	ck_assert_int_eq(kw_parse_fraction("1", &v), 0);
	ck_assert(v == 1.0);
	ck_assert_int_eq(kw_parse_fraction(".5", &v), 0);
	ck_assert(v == 0.5);
	ck_assert_int_eq(kw_parse_fraction("1.01", &v), -1);
	ck_assert_int_eq(kw_parse_fraction("-0.1", &v), -1);
	ck_assert_int_eq(kw_parse_fraction("", &v), -1);
	ck_assert_int_eq(kw_parse_fraction(" 0.5", &v), -1);
	ck_assert_int_eq(kw_parse_fraction("0.5x", &v), -1);
	ck_assert_int_eq(kw_parse_fraction("nan", &v), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config_file");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_new_defaults);
	tcase_add_test(tc, test_file_text);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_env_over_file);
	tcase_add_test(tc, test_file_shell_syntax);
	tcase_add_test(tc, test_env_names);
	tcase_add_test(tc, test_user_file_and_origins);
	tcase_add_test(tc, test_fraction);
	tcase_add_test(tc, test_long_line_skipped);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
