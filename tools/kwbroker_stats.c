/* kwbroker_stats.c - keepwarmd's counters, its Prometheus text, its trace
 * and its stats file (see kwbroker_stats.h). */
#include "kwbroker_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kwbroker.h"
#include "logic/version.h"

struct row {
	char dest[64];
	uint64_t counts[KWB_NCOUNTS];
	unsigned parked;
	uint64_t oldest_ms, newest_ms; /* parked_ms of the oldest and newest held */
};

static struct row rows[KWB_DESTS + 1]; /* the last: "other" */
static unsigned nrows;
static uint64_t refusals[KWB_NREFUSALS];
static int trace_fd = -1;

unsigned kwb_dest(const struct kw_dest *d)
{
	char name[64];

	kw_dest_format(d, name, sizeof name);
	for (unsigned i = 0; i < nrows; i++)
		if (!strcmp(rows[i].dest, name))
			return i;
	if (nrows == KWB_DESTS) {
		snprintf(rows[KWB_DESTS].dest, sizeof rows[KWB_DESTS].dest, "other");
		return KWB_DESTS;
	}
	snprintf(rows[nrows].dest, sizeof rows[nrows].dest, "%s", name);
	return nrows++;
}

void kwb_count(unsigned i, enum kwb_count c)
{
	if (i <= KWB_DESTS && (unsigned)c < KWB_NCOUNTS)
		rows[i].counts[c]++;
}

void kwb_refused(enum kwb_refusal r)
{
	if ((unsigned)r < KWB_NREFUSALS)
		refusals[r]++;
}

void kwb_parked_clear(void)
{
	for (unsigned i = 0; i <= KWB_DESTS; i++)
		rows[i].parked = 0;
}

void kwb_parked_add(unsigned i, uint64_t parked_ms)
{
	struct row *r;

	if (i > KWB_DESTS)
		return;
	r = &rows[i];
	if (!r->parked++) {
		r->oldest_ms = r->newest_ms = parked_ms;
	} else {
		if (parked_ms < r->oldest_ms)
			r->oldest_ms = parked_ms;
		if (parked_ms > r->newest_ms)
			r->newest_ms = parked_ms;
	}
}

/* ---- Prometheus text ---- */

struct out {
	char *buf;
	size_t size, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line, or none when it does not fit whole. */
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->buf[o->len] = '\0';
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static bool used(const struct row *r)
{
	if (r->parked)
		return true;
	for (int c = 0; c < KWB_NCOUNTS; c++)
		if (r->counts[c])
			return true;
	return false;
}

/* The label value v, escaped as Prometheus text wants. */
static const char *escaped(const char *v, char *buf, size_t size)
{
	size_t n = 0;

	for (; *v && n + 2 < size; v++) {
		if (*v == '"' || *v == '\\')
			buf[n++] = '\\';
		buf[n++] = *v == '\n' ? ' ' : *v;
	}
	buf[n] = '\0';
	return buf;
}

static void per_dest(struct out *o, const char *name, const char *extra, int count)
{
	for (unsigned i = 0; i <= KWB_DESTS; i++)
		if (rows[i].dest[0] && used(&rows[i]))
			put(o, "%s{dest=\"%s\"%s} %llu\n", name, rows[i].dest, extra,
			    (unsigned long long)rows[i].counts[count]);
}

size_t kwb_render(char *buf, size_t size, const struct kwb_info *info, uint64_t now_ms)
{
	static const struct { int count; const char *reason; } discards[] = {
		{ KWB_EXPIRED, "expired" },     { KWB_CLOSED, "server-closed" },
		{ KWB_STRAY, "unexpected-bytes" }, { KWB_STALE, "counters-moved" },
		{ KWB_EVICTED, "evicted" },     { KWB_NOT_KEPT, "not-kept" },
	};
	static const char *const refusal_names[] = { "peer-uid", "message", "connection" };
	/* Room kept for the note that rows were left out. */
	struct out o = { buf, size > 128 ? size - 64 : size, 0, false };
	char sock[256];
	unsigned parked = 0;

	if (!size)
		return 0;
	buf[0] = '\0';
	for (unsigned i = 0; i <= KWB_DESTS; i++)
		parked += rows[i].parked;
	head(&o, "keepwarm_broker_info", "gauge", "The broker: its version, socket and process id.");
	put(&o, "keepwarm_broker_info{version=\"%s\",socket=\"%s\",pid=\"%d\"} 1\n", KW_VERSION,
	    escaped(info->socket, sock, sizeof sock), (int)info->pid);
	head(&o, "keepwarm_broker_uptime_seconds", "gauge", "Seconds since the broker started.");
	put(&o, "keepwarm_broker_uptime_seconds %.3f\n",
	    (double)(now_ms - info->started_ms) / 1000.0);
	head(&o, "keepwarm_broker_clients", "gauge", "Processes connected to the broker now.");
	put(&o, "keepwarm_broker_clients %u\n", info->clients);
	head(&o, "keepwarm_broker_parked_total", "gauge", "Idle connections the broker holds.");
	put(&o, "keepwarm_broker_parked_total %u\n", parked);
	head(&o, "keepwarm_broker_refused_total", "counter",
	     "Clients, messages and descriptors the broker refused, by reason.");
	for (int r = 0; r < KWB_NREFUSALS; r++)
		put(&o, "keepwarm_broker_refused_total{reason=\"%s\"} %llu\n", refusal_names[r],
		    (unsigned long long)refusals[r]);
	head(&o, "keepwarm_broker_parked", "gauge", "Idle connections held, per destination.");
	for (unsigned i = 0; i <= KWB_DESTS; i++)
		if (rows[i].dest[0] && used(&rows[i]))
			put(&o, "keepwarm_broker_parked{dest=\"%s\"} %u\n", rows[i].dest, rows[i].parked);
	head(&o, "keepwarm_broker_parked_oldest_seconds", "gauge",
	     "How long the longest-held idle connection of each destination has waited.");
	for (unsigned i = 0; i <= KWB_DESTS; i++)
		if (rows[i].parked)
			put(&o, "keepwarm_broker_parked_oldest_seconds{dest=\"%s\"} %.3f\n", rows[i].dest,
			    (double)(now_ms - rows[i].oldest_ms) / 1000.0);
	head(&o, "keepwarm_broker_parked_newest_seconds", "gauge",
	     "How long the most recently parked idle connection of each destination has waited.");
	for (unsigned i = 0; i <= KWB_DESTS; i++)
		if (rows[i].parked)
			put(&o, "keepwarm_broker_parked_newest_seconds{dest=\"%s\"} %.3f\n", rows[i].dest,
			    (double)(now_ms - rows[i].newest_ms) / 1000.0);
	head(&o, "keepwarm_broker_handoffs_total", "counter",
	     "Connections given to the broker (in) and handed out by it (out), per destination.");
	per_dest(&o, "keepwarm_broker_handoffs_total", ",direction=\"in\"", KWB_IN);
	per_dest(&o, "keepwarm_broker_handoffs_total", ",direction=\"out\"", KWB_OUT);
	head(&o, "keepwarm_broker_takes_total", "counter",
	     "Requests for a connection, per destination: hit (one handed out) or miss.");
	per_dest(&o, "keepwarm_broker_takes_total", ",result=\"hit\"", KWB_OUT);
	per_dest(&o, "keepwarm_broker_takes_total", ",result=\"miss\"", KWB_MISS);
	head(&o, "keepwarm_broker_warmed_total", "counter",
	     "Connections the broker dialled itself to keep a destination warm.");
	per_dest(&o, "keepwarm_broker_warmed_total", "", KWB_WARMED);
	head(&o, "keepwarm_broker_discards_total", "counter",
	     "Connections the broker closed, per destination and reason.");
	for (size_t d = 0; d < sizeof discards / sizeof discards[0]; d++) {
		char extra[48];
		snprintf(extra, sizeof extra, ",reason=\"%s\"", discards[d].reason);
		per_dest(&o, "keepwarm_broker_discards_total", extra, discards[d].count);
	}
	if (o.full) {
		o.full = false;
		o.size = size;
		put(&o, "# truncated: more rows than fit\n");
	}
	return o.len;
}

/* ---- trace ---- */

void kwb_trace_open(const char *path)
{
	struct stat st;
	int fd;

	if (!path || !*path)
		return;
	if (!strcmp(path, "stderr")) {
		trace_fd = 2;
		return;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0) {
		kwb_log("KEEPWARM_TRACE=%s: cannot open it: %s; no trace", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		kwb_log("KEEPWARM_TRACE=%s: not a regular file of this user; no trace", path);
		close(fd);
		return;
	}
	trace_fd = fd;
}

bool kwb_tracing(void)
{
	return trace_fd >= 0;
}

void kwb_trace(const char *event, const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (trace_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ pid=%d event=%s ",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	             ts.tv_nsec / 1000000, (int)getpid(), event);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	if (n && line[n - 1] == ' ')
		n--;
	line[n++] = '\n';
	if (write(trace_fd, line, (size_t)n) < 0) {
		/* A full disk or a closed stderr: the broker goes on without. */
	}
}

/* ---- stats file ---- */

void kwb_stats_write(const char *path, const char *text, size_t len)
{
	static bool said;
	char real[4096], tmp[4200];
	size_t n = 0;
	struct stat st;
	int fd;

	for (const char *p = path; *p && n + 16 < sizeof real; p++) {
		if (p[0] == '%' && p[1] == 'p') {
			n += (size_t)snprintf(real + n, sizeof real - n, "%d", (int)getpid());
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			real[n++] = '%';
			p++;
		} else {
			real[n++] = *p;
		}
	}
	real[n] = '\0';
	if (lstat(real, &st) == 0 && (S_ISLNK(st.st_mode) || st.st_uid != geteuid())) {
		if (!said)
			kwb_log("KEEPWARM_BROKER_STATS=%s: %s; not written", real,
			        S_ISLNK(st.st_mode) ? "a symbolic link" : "a file of another user");
		said = true;
		return;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", real, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0) {
		if (!said)
			kwb_log("KEEPWARM_BROKER_STATS=%s: %s; not written", real, strerror(errno));
		said = true;
		return;
	}
	if (write(fd, text, len) != (ssize_t)len || close(fd) < 0 || rename(tmp, real) < 0) {
		if (!said)
			kwb_log("KEEPWARM_BROKER_STATS=%s: %s; not written", real, strerror(errno));
		said = true;
		unlink(tmp);
		return;
	}
	said = false;
}
