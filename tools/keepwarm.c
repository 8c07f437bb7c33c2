/* keepwarm - run a program with libkeepwarm.so preloaded.
 *
 *   keepwarm [options] [--] program [args...]
 *   keepwarm [options] config      the settings in effect, and where each came from
 *   keepwarm [options] status [--raw]   what the broker holds (exit 3: none answers)
 *
 * Every option sets one KEEPWARM_* variable, validated here with the library's
 * own parsers (config.o) so that a typo fails loudly before the program runs
 * instead of becoming a one-line warning and a default inside it. The library
 * is prepended to LD_PRELOAD, then the program replaces this process, so its
 * exit status is the program's. Before that, when no broker answers at the
 * configured path, keepwarmd (next to this program) is started, detached. */
#include "kwbroker_client.h"
#include "logic/broker_proto.h"
#include "logic/config.h"
#include "logic/version.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIBRARY_NAME     "libkeepwarm.so"

enum { EXIT_USAGE = 2, EXIT_CANNOT_EXEC = 126, EXIT_NOT_FOUND = 127 };

enum value_kind {
	VALUE_NONE,     /* a flag: the variable gets the fixed value */
	VALUE_UINT,     /* whole number, as kw_parse_uint */
	VALUE_DURATION, /* Go-style duration, as kw_parse_duration_ms */
	VALUE_FRACTION, /* from 0 to 1, as kw_parse_fraction */
	VALUE_PATH,     /* file path, made absolute */
	VALUE_TRACE,    /* "stderr" or a file path */
	VALUE_SIZE,     /* bytes with an optional suffix, as kw_parse_size */
	VALUE_REUSE,    /* safe or always */
	VALUE_BROKER,   /* auto, off or a socket path, as the library reads it */
	VALUE_RULES,    /* allow and deny rules, as kw_dest_rules_parse */
};

struct setting {
	const char     *option;
	const char     *variable;
	enum value_kind kind;
	const char     *metavar;    /* for --help; for VALUE_NONE, the fixed value */
	const char     *help;
};

static const struct setting settings[] = {
	{ "off",                "KEEPWARM",                   VALUE_NONE,     "off",
	  "never reuse connections (the control arm of an A/B test)" },
	{ "max-idle",           "KEEPWARM_MAX_IDLE",          VALUE_UINT,     "N",
	  "idle connections kept in total (default 100)" },
	{ "max-idle-per-host",  "KEEPWARM_MAX_IDLE_PER_HOST", VALUE_UINT,     "N",
	  "idle connections kept per address:port (default 20)" },
	{ "idle-timeout",       "KEEPWARM_IDLE_TIMEOUT",      VALUE_DURATION, "D",
	  "drop a parked connection idle this long, 0 = no limit (default 90s)" },
	{ "max-lifetime",       "KEEPWARM_MAX_LIFETIME",      VALUE_DURATION, "D",
	  "do not reuse connections older than D (default off)" },
	{ "max-requests",       "KEEPWARM_MAX_REQUESTS",      VALUE_UINT,     "N",
	  "do not reuse after N requests (default off)" },
	{ "tcp-keepalive",      "KEEPWARM_TCP_KEEPALIVE",     VALUE_DURATION, "D",
	  "TCP keepalive on parked sockets, 0 = off (default 30s)" },
	{ "trace",              "KEEPWARM_TRACE",             VALUE_TRACE,    "FILE|stderr",
	  "append one logfmt line per decision" },
	{ "stats",              "KEEPWARM_STATS",             VALUE_PATH,     "FILE",
	  "write Prometheus statistics here (%p = pid)" },
	{ "stats-interval",     "KEEPWARM_STATS_INTERVAL",    VALUE_DURATION, "D",
	  "rewrite the statistics this often (default 10s)" },
	{ "sample",             "KEEPWARM_SAMPLE",            VALUE_FRACTION, "F",
	  "fraction of processes in the 'on' arm, the rest 'off'" },
	{ "no-upgrade",         "KEEPWARM_UPGRADE",           VALUE_NONE,     "off",
	  "leave Connection: close and HTTP/1.0 requests as they are" },
	{ "drain",              "KEEPWARM_DRAIN",             VALUE_SIZE,     "SIZE",
	  "read away up to SIZE unread response bytes at close, 0 = off (default 64KiB)" },
	{ "reuse",              "KEEPWARM_REUSE",             VALUE_REUSE,    "safe|always",
	  "safe: requests that cannot be replayed get fresh connections (default)" },
	{ "tls-handshake-timeout", "KEEPWARM_TLS_HANDSHAKE_TIMEOUT", VALUE_DURATION, "D",
	  "end a TLS handshake after D (GnuTLS; OpenSSL: each wait of a blocking one), "
	  "or the program's own limit if shorter; 0 = off (default)" },
	{ "no-tls-reuse",       "KEEPWARM_TLS_REUSE",         VALUE_NONE,     "off",
	  "follow TLS connections, never park them" },
	{ "broker",             "KEEPWARM_BROKER",            VALUE_BROKER,   "auto|off|PATH",
	  "share idle plain-HTTP connections with other processes through the broker "
	  "keepwarmd at this socket (default auto)" },
	{ "no-broker",          "KEEPWARM_BROKER",            VALUE_NONE,     "off",
	  "never ask keepwarmd for connections nor give it any" },
	{ "broker-linger",      "KEEPWARM_BROKER_LINGER",     VALUE_DURATION, "D",
	  "keepwarmd exits after D with nothing parked and no clients, 0 = never "
	  "(default 10m)" },
	{ "broker-stats",       "KEEPWARM_BROKER_STATS",      VALUE_PATH,     "FILE",
	  "where keepwarmd writes its Prometheus statistics (%p = its pid)" },
	{ "warm",               "KEEPWARM_WARM",              VALUE_UINT,     "N",
	  "keepwarmd keeps N idle connections ready for each destination used lately "
	  "(default 0)" },
	{ "connect-timeout",    "KEEPWARM_CONNECT_TIMEOUT",   VALUE_DURATION, "D",
	  "fail a blocking connect() with ETIMEDOUT after D, unless the program's "
	  "SO_SNDTIMEO is shorter, and wait at most D for keepwarm's own dials; "
	  "0 = off (default)" },
	{ "destinations",       "KEEPWARM_DESTINATIONS",      VALUE_RULES,    "RULES",
	  "which destinations keepwarm follows: rules like 'deny 10.1.2.3:8080, allow "
	  "127.0.0.0/8, deny *:9200', the first match decides, default allow" },
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

/* getopt_long values: settings[i] is OPT_SETTING + i, clear of characters. */
enum { OPT_SETTING = 256, OPT_LIBRARY = 1000, OPT_HELP, OPT_VERSION };

/* "  --option VALUE   text", the text wrapped at word boundaries so that no
 * line passes 80 columns. */
enum { HELP_LEFT = 29, HELP_WIDTH = 80 };

static void help_entry(FILE *out, const char *left, const char *text)
{
	int col = fprintf(out, "  %-*s", HELP_LEFT - 3, left);

	if (col > HELP_LEFT - 1) { /* a long option: its text starts below it */
		fputc('\n', out);
		col = 0;
	}
	while (*text) {
		size_t word = strcspn(text, " ");
		if (col > HELP_LEFT && col + 1 + (int)word > HELP_WIDTH) {
			fputc('\n', out);
			col = 0;
		}
		if (col < HELP_LEFT)
			col += fprintf(out, "%*s", HELP_LEFT - col, "");
		else
			col += fprintf(out, " ");
		col += fprintf(out, "%.*s", (int)word, text);
		text += word;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: keepwarm [options] [--] program [args...]\n"
	        "       keepwarm [options] config\n"
	        "       keepwarm [options] status [--raw]\n"
	        "Run program with " LIBRARY_NAME " preloaded, so that it reuses its\n"
	        "HTTP/1.x keep-alive connections.\n\n");
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		char left[64];

		char text[256];

		if (s->kind == VALUE_NONE)
			snprintf(left, sizeof left, "--%s", s->option);
		else
			snprintf(left, sizeof left, "--%s %s", s->option, s->metavar);
		snprintf(text, sizeof text, "%s (%s)", s->help, s->variable);
		help_entry(out, left, text);
	}
	help_entry(out, "--library PATH", "use this library instead of searching for it");
	help_entry(out, "-h, --help", "show this help");
	help_entry(out, "--version", "show the version");
	fprintf(out,
	        "\nDurations: 90s, 500ms, 2m, 1m30s, 1.5s; a bare number means seconds.\n"
	        "The library is $KEEPWARM_LIBRARY if set, else found next to this program\n"
	        "(" LIBRARY_NAME "), in ../lib/" KW_MULTIARCH "/keepwarm/ (the Debian package)\n"
	        "or in ../lib/keepwarm/ (make install) relative to it.\n"
	        "When no broker answers at KEEPWARM_BROKER's socket, keepwarmd (next to\n"
	        "this program) is started there first, detached.\n");
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("keepwarm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'keepwarm --help'.\n", stderr);
	exit(EXIT_USAGE);
}

/* A relative path would name another file once the program (or a child it
 * starts) changes directory, so the variable gets an absolute one. */
static char *absolute_path(const char *option, const char *path)
{
	char cwd[PATH_MAX], *abs;

	if (!*path)
		usage_error("--%s: the path is empty", option);
	if (path[0] == '/')
		abs = strdup(path);
	else if (!getcwd(cwd, sizeof cwd) || asprintf(&abs, "%s/%s", cwd, path) < 0)
		abs = NULL;
	if (!abs) {
		perror("keepwarm");
		exit(EXIT_USAGE);
	}
	if (strlen(abs) >= KW_TRACE_PATH_MAX)
		usage_error("--%s: the path \"%.80s...\" is too long", option, abs);
	return abs;
}

/* Does the library take value for variable? Asked of the library itself (a
 * one-variable environment through kw_config_apply_env, which warns on a bad
 * value) where its parser is not public, so the two cannot disagree. */
static const char *probe_name, *probe_value;
static int probe_bad;

static const char *probe_getenv(const char *name)
{
	return strcmp(name, probe_name) ? NULL : probe_value;
}

static void probe_warn(const char *line)
{
	(void)line;
	probe_bad = 1;
}

static int library_accepts(const char *variable, const char *value)
{
	struct kw_config c;

	kw_config_defaults(&c);
	probe_name = variable;
	probe_value = value;
	probe_bad = 0;
	kw_config_apply_env(&c, probe_getenv, probe_warn);
	return !probe_bad;
}

/* The option that set each setting, for `keepwarm config`. */
static const char *set_by_option[KW_CONFIG_NKEYS];

/* Validate one option's value and put it in the environment. */
static void apply_setting(const struct setting *s, const char *arg)
{
	unsigned number;
	uint64_t ms;
	double fraction;
	char *value = NULL;

	switch (s->kind) {
	case VALUE_NONE:
		arg = s->metavar;
		break;
	case VALUE_UINT:
		if (kw_parse_uint(arg, &number) < 0)
			usage_error("--%s: \"%s\" is not a whole number (0 to 2147483647)", s->option, arg);
		break;
	case VALUE_DURATION:
		if (kw_parse_duration_ms(arg, &ms) < 0)
			usage_error("--%s: \"%s\" is not a duration (like 90s, 500ms, 2m, 1m30s, 1.5s)",
			            s->option, arg);
		break;
	case VALUE_FRACTION:
		if (kw_parse_fraction(arg, &fraction) < 0)
			usage_error("--%s: \"%s\" is not a fraction from 0 to 1 (like 0.25)", s->option, arg);
		break;
	case VALUE_SIZE:
		if (kw_parse_size(arg, &ms) < 0)
			usage_error("--%s: \"%s\" is not a size (like 65536, 64KiB, 1MiB)", s->option, arg);
		break;
	case VALUE_REUSE:
		if (strcmp(arg, "safe") && strcmp(arg, "always"))
			usage_error("--%s: \"%s\" is neither safe nor always", s->option, arg);
		break;
	case VALUE_BROKER:
		/* Not made absolute as --trace is: a relative path is more likely a
		 * mistyped auto or off than a socket meant to be under $PWD. */
		if (!library_accepts(s->variable, arg))
			usage_error("--%s: \"%s\" is not auto, off, or an absolute socket path "
			            "shorter than 108 bytes and not ending in /", s->option, arg);
		break;
	case VALUE_RULES: {
		struct kw_dest_rules rules;
		char why[200];
		if (kw_dest_rules_parse(arg, &rules, why, sizeof why) < 0)
			usage_error("--%s: %s", s->option, why);
		break;
	}
	case VALUE_TRACE:
		if (!strcmp(arg, "stderr"))
			break;
		/* fall through */
	case VALUE_PATH:
		arg = value = absolute_path(s->option, arg);
		break;
	}
	if (setenv(s->variable, arg, 1) < 0) {
		perror("keepwarm: setenv");
		exit(EXIT_USAGE);
	}
	if (kw_config_index(s->variable) >= 0)
		set_by_option[kw_config_index(s->variable)] = s->option;
	free(value);
}

/* ---- keepwarm config ---- */

static const char *plain_getenv(const char *name)
{
	return getenv(name);
}

static long read_whole(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -1;
	while (len < size && (n = read(fd, buf + len, size - len)) > 0)
		len += (size_t)n;
	err = errno;
	close(fd);
	errno = err;
	return n < 0 ? -1 : (long)len;
}

static void warn_line(const char *line)
{
	fputs(line, stderr);
}

/* What the library would read in this environment, read the way it reads
 * it (kw_config_load_all), one setting per line with where its value came
 * from, like ssh -G. */
static int show_config(void)
{
	extern char **environ;
	struct kw_config c;
	char value[KW_CONFIG_VALUE_MAX], line[KW_CONFIG_VALUE_MAX + 64], user[KW_TRACE_PATH_MAX];

	kw_config_load_all(&c, plain_getenv, read_whole, environ, warn_line);
	for (unsigned i = 0; i < KW_CONFIG_NKEYS; i++) {
		kw_config_value(&c, i, value, sizeof value);
		snprintf(line, sizeof line, "%s=%s", kw_config_name(i), value);
		if (set_by_option[i])
			printf("%-40s # option --%s\n", line, set_by_option[i]);
		else
			printf("%-40s # %s\n", line, c.origin[i]);
	}
	printf("# files: /etc/keepwarm.conf, %s\n",
	       kw_config_user_file(plain_getenv, user, sizeof user) ? user : "(no user file: no HOME)");
	return 0;
}

static void quiet_line(const char *line)
{
	(void)line; /* the library says it again, inside the program */
}

/* `keepwarm status`: the broker's pool, per destination; exit 0 when a
 * broker answers, 3 when none does (as systemctl is-active), with a reason. */
static int show_status(bool raw)
{
	extern char **environ;
	struct kw_config c;
	char path[108], dir[KW_TRACE_PATH_MAX], why[KW_TRACE_PATH_MAX + 128];
	enum kwc_state state;
	int fd, rc;

	kw_config_load_all(&c, plain_getenv, read_whole, environ, quiet_line);
	if (!kw_broker_path(c.broker, getenv("XDG_RUNTIME_DIR"), (unsigned)geteuid(), path,
	                    sizeof path, dir, sizeof dir)) {
		fprintf(stderr, "keepwarm: no broker: KEEPWARM_BROKER is %s\n",
		        c.broker[0] ? "not a usable socket path" : "off");
		return 3;
	}
	if ((fd = kwc_open(path, dir, 1000, &state, why, sizeof why)) < 0) {
		fprintf(stderr, "keepwarm: no broker answers at %s: %s\n", path, why);
		return 3;
	}
	rc = kwc_status(fd, raw, 2000, stdout, why, sizeof why);
	close(fd);
	if (rc)
		fprintf(stderr, "keepwarm: %s: %s\n", path, why);
	return rc;
}

/* How long the launcher waits for a broker's hello and for a new one to
 * listen: the program starts either way. */
#define BROKER_HELLO_MS 200
#define BROKER_START_MS 2000

/* The broker the library will ask, started if none answers: with
 * keepwarm on (some processes in the on arm), the broker not off, its
 * socket not something of another user's (the library refuses that, and
 * says so), and keepwarmd beside this program. Silent: the program runs
 * whether or not a broker could be started. */
static void ensure_broker(void)
{
	extern char **environ;
	struct kw_config c;
	char path[108], dir[KW_TRACE_PATH_MAX], why[KW_TRACE_PATH_MAX + 128], exe[PATH_MAX];
	enum kwc_state state;
	ssize_t n;
	int fd;

	kw_config_load_all(&c, plain_getenv, read_whole, environ, quiet_line);
	if (!c.enabled || c.sample <= 0 ||
	    !kw_broker_path(c.broker, getenv("XDG_RUNTIME_DIR"), (unsigned)geteuid(), path,
	                    sizeof path, dir, sizeof dir))
		return;
	if ((fd = kwc_open(path, dir, BROKER_HELLO_MS, &state, why, sizeof why)) >= 0) {
		close(fd);
		return;
	}
	if (state != KWC_NONE)
		return;
	n = readlink("/proc/self/exe", exe, sizeof exe - 16);
	if (n <= 0)
		return;
	exe[n] = '\0';
	strcpy(strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe, "keepwarmd");
	if (access(exe, X_OK) == 0)
		(void)kwc_start(exe, BROKER_START_MS, why, sizeof why);
}

static int readable_file(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Why path cannot be preloaded into programs like this launcher, NULL when
 * it can: an ELF shared object (not a program: no interpreter) of this
 * launcher's class and machine. */
static const char *not_a_library(const char *path)
{
	static char why[96];
	unsigned char ident[EI_NIDENT];
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const char *answer = NULL;

	if (fd < 0)
		return strerror(errno);
	if (pread(fd, ident, sizeof ident, 0) != (ssize_t)sizeof ident ||
	    memcmp(ident, ELFMAG, SELFMAG))
		answer = "it is not an ELF file";
	else if (ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)) {
		snprintf(why, sizeof why, "it is a %s-bit library and keepwarm runs %zu-bit programs",
		         ident[EI_CLASS] == ELFCLASS32 ? "32" : "64", 8 * sizeof(void *));
		answer = why;
	} else if (sizeof(void *) == 8) { /* the headers of our own class */
		if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || eh.e_type != ET_DYN)
			answer = "it is not a shared library";
		else {
			for (unsigned i = 0; i < eh.e_phnum && !answer; i++)
				if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) ==
				        (ssize_t)sizeof ph && ph.p_type == PT_INTERP)
					answer = "it is a program, not a shared library";
		}
	}
	close(fd);
	return answer;
}

/* The library: --library, else $KEEPWARM_LIBRARY, else next to the real path
 * of this executable (build tree), else <prefix>/lib/<triplet>/keepwarm/
 * (the Debian package: the library's own architecture's directory, so
 * packages of several can be installed), else <prefix>/lib/keepwarm/ (make
 * install).
 * An explicit choice that does not exist is an error, not a reason to look
 * elsewhere: the user asked for that file. */
static char *find_library(const char *option_path)
{
	const char *chosen = option_path ? option_path : getenv("KEEPWARM_LIBRARY");
	char exe[PATH_MAX], beside[PATH_MAX + 32], packaged[PATH_MAX + 64], installed[PATH_MAX + 32];
	char *real;
	ssize_t n;

	if (chosen && *chosen) {
		if (!readable_file(chosen)) {
			fprintf(stderr, "keepwarm: cannot read the library %s (from %s): %s\n", chosen,
			        option_path ? "--library" : "KEEPWARM_LIBRARY", strerror(errno));
			exit(EXIT_USAGE);
		}
		const char *why = not_a_library(chosen);
		if (why) {
			fprintf(stderr, "keepwarm: cannot preload %s (from %s): %s\n", chosen,
			        option_path ? "--library" : "KEEPWARM_LIBRARY", why);
			exit(EXIT_USAGE);
		}
		real = realpath(chosen, NULL);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n < 0) {
			perror("keepwarm: cannot read /proc/self/exe");
			exit(EXIT_USAGE);
		}
		exe[n] = '\0';
		char *dir = dirname(exe); /* dirname edits exe in place */
		snprintf(beside, sizeof beside, "%s/%s", dir, LIBRARY_NAME);
		char *prefix = dirname(dir);
		if (!strcmp(prefix, "/"))
			prefix = "";
		snprintf(packaged, sizeof packaged, "%s/lib/" KW_MULTIARCH "/keepwarm/%s", prefix,
		         LIBRARY_NAME);
		snprintf(installed, sizeof installed, "%s/lib/keepwarm/%s", prefix, LIBRARY_NAME);
		if (readable_file(beside))
			real = realpath(beside, NULL);
		else if (readable_file(packaged))
			real = realpath(packaged, NULL);
		else if (readable_file(installed))
			real = realpath(installed, NULL);
		else {
			fprintf(stderr,
			        "keepwarm: cannot find " LIBRARY_NAME "; looked at:\n"
			        "  %s\n  %s\n  %s\n"
			        "Set KEEPWARM_LIBRARY or use --library PATH.\n",
			        beside, packaged, installed);
			exit(EXIT_USAGE);
		}
	}
	if (!real) {
		perror("keepwarm: realpath");
		exit(EXIT_USAGE);
	}
	/* ld.so splits LD_PRELOAD at spaces and colons. */
	if (strpbrk(real, " :")) {
		fprintf(stderr, "keepwarm: the library path \"%s\" contains a space or a colon, "
		        "which LD_PRELOAD cannot hold\n", real);
		exit(EXIT_USAGE);
	}
	return real;
}

/* Is library already one of the entries of the LD_PRELOAD list? */
static int preload_has(const char *list, const char *library)
{
	size_t len = strlen(library);

	for (const char *p = list; *p;) {
		p += strspn(p, " :");
		size_t entry = strcspn(p, " :");
		if (entry == len && !strncmp(p, library, len))
			return 1;
		p += entry;
	}
	return 0;
}

/* Put the library first, so its wrappers come before any other preloaded
 * library's, and keep whatever was there: the user may be stacking tools. */
static void prepend_preload(const char *library)
{
	const char *old = getenv("LD_PRELOAD");
	char *joined;

	if (old && preload_has(old, library))
		return;
	if (old && old[strspn(old, " :")]) {
		if (asprintf(&joined, "%s:%s", library, old) < 0) {
			perror("keepwarm");
			exit(EXIT_USAGE);
		}
	} else if (!(joined = strdup(library))) {
		perror("keepwarm");
		exit(EXIT_USAGE);
	}
	if (setenv("LD_PRELOAD", joined, 1) < 0) {
		perror("keepwarm: setenv");
		exit(EXIT_USAGE);
	}
	free(joined);
}

int main(int argc, char **argv)
{
	struct option longopts[NSETTINGS + 4];
	const char *library_option = NULL;
	int opt;

	for (size_t i = 0; i < NSETTINGS; i++)
		longopts[i] = (struct option){ settings[i].option,
		                               settings[i].kind == VALUE_NONE ? no_argument : required_argument,
		                               NULL, OPT_SETTING + (int)i };
	longopts[NSETTINGS] = (struct option){ "library", required_argument, NULL, OPT_LIBRARY };
	longopts[NSETTINGS + 1] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	longopts[NSETTINGS + 2] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	longopts[NSETTINGS + 3] = (struct option){ NULL, 0, NULL, 0 };

	opterr = 0; /* our own messages, with the exit status we document */
	/* "+": stop at the first non-option, which is the program; ":": a
	 * missing value is reported as ':', apart from unknown options. */
	while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		/* "--trace -- prog" means a missing value, not a file named "--";
		 * "--trace --stats x" one too. A path that starts with "--" can be
		 * given as ./--name. */
		if (optarg && !strncmp(optarg, "--", 2))
			usage_error("--%s needs a value, and \"%s\" looks like an option or the end of them",
			            opt == OPT_LIBRARY ? "library" : settings[opt - OPT_SETTING].option,
			            optarg);
		if (opt >= OPT_SETTING && opt < OPT_SETTING + (int)NSETTINGS)
			apply_setting(&settings[opt - OPT_SETTING], optarg);
		else if (opt == OPT_LIBRARY)
			library_option = optarg;
		else if (opt == OPT_HELP || opt == 'h') {
			usage(stdout);
			return 0;
		} else if (opt == OPT_VERSION) {
			puts("keepwarm " KW_VERSION);
			return 0;
		} else if (opt == ':')
			usage_error("%s needs a value", argv[optind - 1]);
		else
			usage_error("invalid option %s", argv[optind - 1]);
	}
	if (optind >= argc)
		usage_error("no program to run");
	/* "keepwarm config" shows the settings; "keepwarm -- config" runs a
	 * program of that name. */
	if (!strcmp(argv[optind], "config") && strcmp(argv[optind - 1], "--")) {
		if (optind + 1 < argc)
			usage_error("config takes no arguments (options go before it)");
		return show_config();
	}
	if (!strcmp(argv[optind], "status") && strcmp(argv[optind - 1], "--")) {
		bool raw = optind + 1 < argc && !strcmp(argv[optind + 1], "--raw");
		if (optind + 1 + raw < argc)
			usage_error("status takes only --raw (options go before it)");
		return show_status(raw);
	}

	char *library = find_library(library_option);
	ensure_broker();
	prepend_preload(library);
	free(library);

	execvp(argv[optind], argv + optind);
	int err = errno;
	fprintf(stderr, "keepwarm: cannot run %s: %s\n", argv[optind], strerror(err));
	return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}
