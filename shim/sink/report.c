/* report.c - trace lines and the stats file. */
#include "sink/report.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logic/stats.h"
#include "logic/trace.h"
#include "service/got.h"
#include "service/private.h"
#include "service/real.h"
#include "service/safefile.h"
#include "service/state.h"
#include "service/tls_keep.h"

bool kw_report_latency;
static bool keep_stats; /* KEEPWARM_STATS is set */

static const char *arm_name = "on";
static char stats_pattern[KW_TRACE_PATH_MAX]; /* KEEPWARM_STATS as given */
static char stats_path[KW_TRACE_PATH_MAX + 32];
static uint64_t interval_ms;
static mode_t file_mask;     /* the program's umask, read once */
static bool stats_refused;   /* said once that the stats path is refused */
static atomic_bool stats_written; /* the file has been written at least once */
static bool shared_said;     /* said that another process writes the same file */
static atomic_bool first_write_taken; /* kw_report_closed's one early write */
static _Atomic uint64_t next_write_ms;
static uint64_t start_unix_us, start_us; /* the process's start: wall and monotonic clocks */
static struct kw_stats stats;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER; /* one replacement of the file at a time */
static atomic_bool final_written; /* the file at exit is written */

static void lock_stats(void)
{
	kw_depth++;
	pthread_mutex_lock(&stats_lock);
}

static void unlock_stats(void)
{
	pthread_mutex_unlock(&stats_lock);
	kw_depth--;
}

/* "%p" becomes the pid, "%%" a percent sign. */
static void expand_stats_path(void)
{
	size_t n = 0;

	for (const char *p = stats_pattern; *p && n < sizeof stats_path - 24; p++) {
		if (p[0] == '%' && p[1] == 'p') {
			n += (size_t)snprintf(stats_path + n, sizeof stats_path - n, "%d", (int)getpid());
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			stats_path[n++] = '%';
			p++;
		} else {
			stats_path[n++] = *p;
		}
	}
	stats_path[n] = '\0';
}

static void open_trace(const char *where)
{
	int fd, high;

	if (!strcmp(where, "stderr")) {
		kw_trace_set_sink(2, kw_real.write);
		return;
	}
	fd = kw_safefile_append(where, "KEEPWARM_TRACE");
	if (fd < 0)
		return; /* said why; tracing is off */
	/* Keep it out of the program's way, like a parked connection. */
	high = kw_private_dup(fd);
	if (high >= 0) {
		kw_real.close(fd);
		fd = high;
	}
	kw_trace_set_sink(fd, kw_real.write);
}

/* This process starts now (keepwarm's initialisation, or a fork). */
static void mark_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	start_unix_us = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
	start_us = kw_now_us();
}

void kw_report_init(const struct kw_config *c, const char *arm)
{
	struct kw_trace_event start = { .event = kw_event_name(KW_EVENT_START), .fd = -1, .idle_ms = -1,
	                                .requests = -1, .arm = arm, .version = KW_VERSION,
	                                .build_id = kw_got_build_id() };

	arm_name = arm;
	mark_start();
	(void)kw_got_build_id(); /* read now, while nothing else runs */
	if (c->trace[0]) {
		open_trace(c->trace);
		kw_trace_emit(&start);
		kw_report_latency = kw_trace_fd() >= 0; /* for its request lines */
	}
	if (c->stats[0]) {
		strcpy(stats_pattern, c->stats);
		expand_stats_path();
		interval_ms = c->stats_interval_ms;
		file_mask = umask(022);
		umask(file_mask);
		next_write_ms = interval_ms ? kw_now_ms() + interval_ms : UINT64_MAX;
		keep_stats = true;
		kw_report_latency = true;
	}
}

void kw_report(enum kw_event event, int fd, const struct kw_dest *d, enum kw_reason reason,
               int64_t idle_ms, int64_t requests)
{
	struct kw_trace_event ev = { .event = kw_event_name(event), .fd = fd, .dest = d,
	                             .reason = reason ? kw_reason_name(reason) : NULL,
	                             .idle_ms = idle_ms, .requests = requests };
	enum kw_counter counter = kw_event_counter(event);
	int saved = errno;

	if (kw_trace_fd() >= 0)
		kw_trace_emit(&ev);
	if (!keep_stats || counter == KW_COUNTER_NONE)
		return;
	lock_stats();
	kw_stats_count(&stats, counter);
	kw_stats_count(&stats, kw_reason_counter(reason));
	kw_stats_reason(&stats, event, reason, d);
	if (d && (event == KW_EVENT_DIAL || event == KW_EVENT_REUSE))
		kw_stats_connection(&stats, d, event == KW_EVENT_REUSE,
		                    idle_ms > 0 ? (uint64_t)idle_ms * 1000 : 0);
	unlock_stats();
	errno = saved;
}

bool kw_report_relocate(int fd)
{
	if (fd < 0 || fd != kw_trace_fd())
		return false;
	kw_trace_set_sink(kw_private_move(fd), kw_real.write);
	return true;
}

void kw_report_answer(int fd, const struct kw_dest *d, int64_t requests, uint64_t request_us,
                      uint64_t wait_us)
{
	struct kw_trace_event ev = { .event = kw_event_name(KW_EVENT_REQUEST), .fd = fd, .dest = d,
	                             .idle_ms = -1, .requests = requests, .latency = true,
	                             .wait_us = wait_us, .request_us = request_us };
	int saved = errno;

	if (kw_trace_fd() >= 0)
		kw_trace_emit(&ev);
	if (keep_stats) {
		lock_stats();
		kw_stats_request(&stats, d, request_us, wait_us);
		unlock_stats();
	}
	errno = saved;
}

void kw_report_tls(int fd, const struct kw_dest *d, const char *library, bool reused)
{
	struct kw_trace_event ev = { .event = kw_event_name(KW_EVENT_TLS), .fd = fd, .dest = d,
	                             .idle_ms = -1, .requests = -1, .library = library };
	int saved = errno;

	if (kw_trace_fd() >= 0)
		kw_trace_emit(&ev);
	if (keep_stats) {
		lock_stats();
		if (!reused)
			kw_stats_tls(&stats, d);
		unlock_stats();
	}
	errno = saved;
}

void kw_report_redirect(const char *object, int n, enum kw_reason reason)
{
	struct kw_trace_event ev = { .event = kw_event_name(KW_EVENT_REDIRECT), .fd = -1,
	                             .reason = reason ? kw_reason_name(reason) : NULL,
	                             .idle_ms = -1, .requests = -1, .object = object,
	                             .redirected = n };
	int saved = errno;

	if (kw_trace_fd() >= 0)
		kw_trace_emit(&ev);
	errno = saved;
}

/* A path without %p is one file for every process of the program: when one
 * that another process of this process group wrote is there (a wrapped
 * script's curl calls, a forking server; not the last run's), say once that
 * they replace each other's. */
static void say_if_shared(void)
{
	static const char group[] = "# keepwarm process group ";
	char head[512], line[1300];
	const char *p;
	ssize_t n;
	long other;
	int fd;

	if (shared_said || strstr(stats_pattern, "%p"))
		return;
	shared_said = true;
	if ((fd = open(stats_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	n = kw_real.read(fd, head, sizeof head - 1);
	kw_real.close(fd);
	if (n <= 0)
		return;
	head[n] = '\0';
	if (strncmp(head, group, sizeof group - 1) ||
	    strtol(head + sizeof group - 1, NULL, 10) != (long)getpgrp() ||
	    !(p = strstr(head, "pid=\"")) || (other = strtol(p + 5, NULL, 10)) == (long)getpid())
		return;
	snprintf(line, sizeof line, "keepwarm: KEEPWARM_STATS=%s is also written by process %ld: "
	         "each process replaces the other's; put %%p in the path for a file per process\n",
	         stats_path, other);
	kw_real.write(2, line, strlen(line));
}

/* Format under the lock, write outside it, rename into place. A process
 * that never followed a connection (the shell, grep and friends in a wrapped
 * script) writes nothing: an A/B comparison counts only processes that did. */
static void write_stats(bool exiting)
{
	struct kw_stats_labels labels = { arm_name, (long)getpid(), program_invocation_short_name,
	                                  KW_VERSION, kw_got_build_id(), start_unix_us,
	                                  kw_now_us() - start_us, exiting, (long)getpgrp(), 0, 0 };
	size_t need = 64 * 1024, len = 0;
	char *buf = NULL;
	bool bystander;

	for (int tries = 0; tries < 4; tries++) {
		char *grown = realloc(buf, need);
		if (!grown)
			break;
		buf = grown;
		kw_tls_keep_census(&labels.tls_parked, &labels.tls_parked_bytes);
		lock_stats();
		bystander = !stats.events[KW_COUNTER_DIALED] && !stats.events[KW_COUNTER_REUSED];
		len = bystander ? 0 : kw_stats_format(&stats, &labels, buf, need);
		unlock_stats();
		if (bystander) {
			free(buf);
			return;
		}
		if (len < need)
			break;
		need = len + 4096;
	}
	if (!buf || len >= need) {
		free(buf);
		return;
	}
	/* The file written at exit is the last: a write on schedule (by the
	 * helper thread, or another of the program's) that comes after it or
	 * races it leaves it be. */
	pthread_mutex_lock(&file_lock);
	if (!atomic_load(&stats_written))
		say_if_shared();
	if ((exiting || !atomic_load(&final_written)) &&
	    kw_safefile_replace(stats_path, "KEEPWARM_STATS", buf, len, file_mask, &stats_refused))
		atomic_store(&stats_written, true);
	if (exiting)
		atomic_store(&final_written, true);
	pthread_mutex_unlock(&file_lock);
	free(buf);
}

void kw_report_closed(void)
{
	int saved = errno;
	bool no = false;

	/* The first followed connection's end writes the file at once: a
	 * process killed before its first interval still leaves one. */
	if (keep_stats && !atomic_load_explicit(&stats_written, memory_order_relaxed) &&
	    atomic_compare_exchange_strong(&first_write_taken, &no, true))
		write_stats(false);
	errno = saved;
}

void kw_report_tick(void)
{
	uint64_t due = atomic_load_explicit(&next_write_ms, memory_order_relaxed), now;
	int saved = errno;

	if (!keep_stats || !interval_ms || (now = kw_now_ms()) < due)
		return;
	/* One thread writes; the others carry on. */
	if (!atomic_compare_exchange_strong(&next_write_ms, &due, now + interval_ms))
		return;
	write_stats(false);
	errno = saved;
}

void kw_report_after_fork_child(void)
{
	mark_start();
	if (!keep_stats)
		return;
	pthread_mutex_init(&stats_lock, NULL);
	pthread_mutex_init(&file_lock, NULL);
	atomic_store(&final_written, false);
	kw_stats_reset(&stats);
	atomic_store(&stats_written, false);
	atomic_store(&first_write_taken, false);
	shared_said = false;
	expand_stats_path();
	next_write_ms = interval_ms ? kw_now_ms() + interval_ms : UINT64_MAX;
}

__attribute__((destructor)) static void write_final_stats(void)
{
	int saved = errno;

	if (keep_stats && stats_path[0])
		write_stats(true);
	errno = saved;
}
