/* init.c - reading the configuration, choosing the arm, setting up the fd
 * table, the private range, the pool and the reports; once per process. */
#include "entry/entry.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <unistd.h>

#include "feature/reaper.h"
#include "primitive/follow.h"
#include "primitive/park.h"
#include "service/forkwatch.h"
#include "service/listeners.h"
#include "service/private.h"
#include "service/tls_sessions.h"
#include "service/tls_transport.h"
#include "sink/pool_broker.h"
#include "sink/pool_local.h"
#include "sink/report.h"

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
static _Atomic int init_state = INIT_NONE;

/* Did the parent process run keepwarm with the same KEEPWARM* environment?
 * Then it printed the same configuration warnings: a wrapped script's
 * every command would repeat them. Read-only: /proc/PPID/environ is the
 * parent's environment at its exec, which is what its keepwarm read. */
static bool parent_said_it(void)
{
	char path[64], env[32 * 1024], *p, *end;
	size_t mine = 0, theirs = 0;
	bool preloaded = false;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/environ", (int)getppid());
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = kw_real.read(fd, env, sizeof env - 1);
	kw_real.close(fd);
	if (n <= 0 || n == (ssize_t)sizeof env - 1) /* unreadable, or too long to judge */
		return false;
	env[n] = '\0';
	for (p = env, end = env + n; p < end; p += strlen(p) + 1) {
		if (!strncmp(p, "LD_PRELOAD=", 11) && strstr(p, "libkeepwarm"))
			preloaded = true;
		if (strncmp(p, "KEEPWARM", 8))
			continue;
		theirs++;
		const char *eq = strchr(p, '=');
		char name[128];
		if (!eq || (size_t)(eq - p) >= sizeof name)
			return false;
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		const char *v = getenv(name);
		if (!v || strcmp(v, eq + 1))
			return false;
	}
	for (char **e = environ; *e; e++)
		mine += !strncmp(*e, "KEEPWARM", 8);
	return preloaded && mine == theirs;
}

/* Configuration warnings: once per process tree, not once per process. */
static void warn_stderr(const char *line)
{
	static int quiet = -1; /* -1: not decided yet */

	if (quiet < 0)
		quiet = parent_said_it();
	if (!quiet)
		(void)kw_real.write(2, line, strlen(line));
}

static const char *env_lookup(const char *name)
{
	return secure_getenv(name); /* setuid programs ignore the environment */
}

/* The configuration files, read with the real libc. */
static long read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -1;
	while (len < size && (n = kw_real.read(fd, buf + len, size - len)) > 0)
		len += (size_t)n;
	err = errno;
	kw_real.close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	return (long)len;
}

/* /etc/keepwarm.conf, the user's file, then the environment: each overrides
 * the one before. */
static void load_config(void)
{
	kw_config_defaults(&kw_cfg);
	if (getauxval(AT_SECURE))
		return; /* setuid: neither files nor environment */
	kw_config_load_all(&kw_cfg, env_lookup, read_file, environ, warn_stderr);
}

/* KEEPWARM_SAMPLE: this process joins the on arm with that probability. */
static bool in_on_arm(void)
{
	uint64_t r;

	if (!kw_cfg.enabled || kw_cfg.sample <= 0.0)
		return false;
	if (kw_cfg.sample >= 1.0)
		return true;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ kw_now_ms();
	return (double)(r >> 11) / (double)(1ULL << 53) < kw_cfg.sample;
}

/* ---- children, however made (service/forkwatch.c) ---- */

/* In a child: keepwarm's locks afresh, the idle connections it inherited
 * closed, the parent's TLS sessions not followed (the child must never
 * write on a session its parent writes on), its own counters. */
static void after_fork_child(void)
{
	kw_fd_after_fork_child();
	kw_private_child_fork();
	kw_tls_sessions_reset(); /* first: the idle TLS connections' sessions are not ended */
	kw_park_forget_all();
	kw_pool_broker_after_fork_child();
	kw_report_after_fork_child();
	kw_reaper_after_fork_child();
}

/* The parent's followed sockets a child inherited (open without
 * close-on-exec): the child can move bytes on them, so none is parked. */
static void let_go_if_inherited(struct kw_fd *s, void *arg)
{
	int fl;

	(void)arg;
	if (atomic_load_explicit(&s->kind, memory_order_acquire) != KW_FD_HTTP)
		return;
	fl = kw_real.fcntl(s->fd, F_GETFD);
	if (fl < 0 || (fl & FD_CLOEXEC))
		return;
	kw_slot_lock(s);
	kw_let_go(s, KW_REASON_INHERITED_BY_CHILD);
	kw_slot_unlock(s);
}

/* In the parent, after each fork glibc ran. */
static void after_fork_parent(void)
{
	kw_fd_for_each(let_go_if_inherited, NULL);
}

bool kw_init(void)
{
	int expected = INIT_NONE;

	if (atomic_load_explicit(&init_state, memory_order_acquire) == INIT_DONE)
		return kw_mode != KW_MODE_OFF;
	if (!atomic_compare_exchange_strong(&init_state, &expected, INIT_RUNNING)) {
		if (kw_depth)
			return false; /* re-entered from our own initialisation */
		while (atomic_load_explicit(&init_state, memory_order_acquire) != INIT_DONE)
			sched_yield();
		return kw_mode != KW_MODE_OFF;
	}
	kw_depth++;
	if (kw_real_resolve() == 0) {
		bool on;
		load_config();
		on = in_on_arm();
		if ((on || kw_cfg.stats[0]) && kw_fd_table_init() == 0) {
			unsigned cap = kw_private_init(kw_cfg.max_idle);
			kw_listeners_init();
			kw_forkwatch_init(after_fork_child, after_fork_parent);
			unsigned total = kw_cfg.max_idle < cap ? kw_cfg.max_idle : cap;
			if (kw_pool_local_create(&kw_pool, total, kw_cfg.max_idle_per_host) == 0)
				kw_mode = on ? KW_MODE_REUSE : KW_MODE_OBSERVE;
			/* The off arm measures a process alone: no broker. */
			if (kw_mode == KW_MODE_REUSE)
				kw_pool_broker_create(&kw_pool_far, kw_cfg.broker,
				                      secure_getenv("XDG_RUNTIME_DIR"));
			/* Expiry on time, by a helper started at the first park. */
			if (kw_mode == KW_MODE_REUSE)
				kw_reaper_init();
			kw_tls_transport_init();
		}
		kw_report_init(&kw_cfg, on ? "on" : "off");
	}
	kw_depth--;
	atomic_store_explicit(&init_state, INIT_DONE, memory_order_release);
	return kw_mode != KW_MODE_OFF;
}

__attribute__((constructor)) static void kw_constructor(void)
{
	kw_init();
}
