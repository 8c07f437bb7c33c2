/* kwstat_trace.c - read keepwarm trace logs (docs/formats.md, "Trace
 * (logfmt)") into a kws_set: requests per period of use, connections, idle
 * times and the latencies of request lines. */
#include "kwstat_reader.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Open-addressing map from a 64-bit key to a value, never shrunk: traces
 * key it by pid (the arm of a process) and by pid and fd (a connection in
 * use). Entries are not deleted; callers store a "none" value instead. */
struct u64map {
	uint64_t *keys;
	long     *vals;
	bool     *used;
	size_t    cap, n;
};

static size_t map_hash(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

static long *map_find(const struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = map_hash(key, m->cap); m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			return &m->vals[i];
	return NULL;
}

static void map_put(struct u64map *m, uint64_t key, long val)
{
	long *slot = map_find(m, key);

	if (slot) {
		*slot = val;
		return;
	}
	if (2 * (m->n + 1) > m->cap) { /* keep it at most half full */
		struct u64map grown = { 0 };
		grown.cap = m->cap ? 2 * m->cap : 64;
		grown.keys = calloc(grown.cap, sizeof *grown.keys);
		grown.vals = calloc(grown.cap, sizeof *grown.vals);
		grown.used = calloc(grown.cap, sizeof *grown.used);
		if (!grown.keys || !grown.vals || !grown.used) {
			perror("keepwarm-stat");
			exit(1);
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->used[i])
				map_put(&grown, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		free(m->used);
		*m = grown;
	}
	size_t i = map_hash(key, m->cap);
	while (m->used[i])
		i = (i + 1) & (m->cap - 1);
	m->used[i] = true;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
}

static void map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
}

struct trace_state {
	struct u64map arm_of_pid;   /* pid -> index in set->arms */
	struct u64map in_use;       /* pid<<32|fd -> requests when taken, -1 = none */
	/* A TLS connection's dial line comes before the library knows it is
	 * TLS, so it counts in the plain row until the tls line moves it. */
	struct u64map plain_dial;   /* pid<<32|fd -> the row its dial counted in, -1 = none */
	struct u64map tls_period;   /* pid<<32|fd -> 1 when its period of use is TLS's */
	struct u64map moved_from;   /* row index -> 1: a dial left it (kept unless empty) */
	/* A period still open at the trace's end (the program exited with the
	 * connection open, as wget does) counts what its request lines say. */
	struct u64map answered;     /* pid<<32|fd -> requests= of its last request line, -1 = none */
	struct u64map answer_row;   /* pid<<32|fd -> the row of that line */
	size_t        first_row;    /* the first row this trace made */
};

struct trace_line {
	const char *event, *dest, *arm, *reason;
	long        pid, fd, idle_ms, requests; /* -1 when absent */
	double      ms, request_ms;             /* -1 when absent */
	bool        tls;                        /* tls=1: about a TLS connection */
};

/* "2026-11-24T02:39:07.123Z" */
static bool valid_timestamp(const char *ts)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (strlen(ts) != sizeof shape - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)ts[i]) : ts[i] != shape[i])
			return false;
	return true;
}

static int number_field(const struct reader *r, const char *key, const char *value, long *out)
{
	if (!all_digits(value) || strlen(value) > 15)
		return bad(r, "%s=%s is not a whole number", key, value);
	*out = strtol(value, NULL, 10);
	return 0;
}

/* Milliseconds as the library writes them: "21.870" (any number of
 * decimals, or none). */
static int millis_field(const struct reader *r, const char *key, const char *value, double *out)
{
	size_t whole = strspn(value, "0123456789");
	const char *rest = value + whole;

	if (!whole || whole > 12 || (*rest && (*rest != '.' || !all_digits(rest + 1))))
		return bad(r, "%s=%s is not a number of milliseconds like 21.870", key, value);
	*out = strtod(value, NULL);
	return 0;
}

/* Split a logfmt line in place; the first three fields must be ts, pid,
 * event, in that order, as the library writes them. */
static int parse_trace_line(const struct reader *r, char *line, struct trace_line *t)
{
	static const char *const first[] = { "ts", "pid", "event" };
	char *save = NULL, *field;
	unsigned n = 0;

	*t = (struct trace_line){ .pid = -1, .fd = -1, .idle_ms = -1, .requests = -1, .ms = -1,
	                          .request_ms = -1 };
	if (strstr(line, "  ") || line[0] == ' ' || (*line && line[strlen(line) - 1] == ' '))
		return bad(r, "fields must be separated by exactly one space");
	for (field = strtok_r(line, " ", &save); field; field = strtok_r(NULL, " ", &save), n++) {
		char *eq = strchr(field, '=');
		if (!eq || eq == field || !eq[1])
			return bad(r, "field \"%s\" is not key=value", field);
		*eq = '\0';
		const char *key = field, *value = eq + 1;
		if (n < 3 && strcmp(key, first[n]))
			return bad(r, "expected %s= as field %u, found %s=", first[n], n + 1, key);
		if (!strcmp(key, "ts")) {
			if (!valid_timestamp(value))
				return bad(r, "ts=%s is not a UTC time like 2026-11-24T02:39:07.123Z", value);
		} else if (!strcmp(key, "pid")) {
			if (number_field(r, key, value, &t->pid) < 0)
				return -1;
		} else if (!strcmp(key, "event")) {
			if (value[strspn(value, "abcdefghijklmnopqrstuvwxyz_-")])
				return bad(r, "event=%s is not a lower-case word", value);
			t->event = value;
		} else if (!strcmp(key, "fd")) {
			if (number_field(r, key, value, &t->fd) < 0)
				return -1;
		} else if (!strcmp(key, "idle_ms")) {
			if (number_field(r, key, value, &t->idle_ms) < 0)
				return -1;
		} else if (!strcmp(key, "requests")) {
			if (number_field(r, key, value, &t->requests) < 0)
				return -1;
		} else if (!strcmp(key, "ms")) {
			if (millis_field(r, key, value, &t->ms) < 0)
				return -1;
		} else if (!strcmp(key, "request_ms")) {
			if (millis_field(r, key, value, &t->request_ms) < 0)
				return -1;
		} else if (!strcmp(key, "dest")) {
			t->dest = value;
		} else if (!strcmp(key, "tls")) {
			if (strcmp(value, "1"))
				return bad(r, "tls=%s is not 1 (a TLS connection; plain ones have no tls=)",
				           value);
			t->tls = true;
		} else if (!strcmp(key, "arm")) {
			t->arm = value;
		} else if (!strcmp(key, "reason")) {
			t->reason = value;
		}
	}
	if (n < 3)
		return bad(r, "a trace line needs ts=, pid= and event=");
	return 0;
}

static const char *arm_of(struct kws_set *set, struct trace_state *st, long pid)
{
	long *idx = map_find(&st->arm_of_pid, (uint64_t)pid);
	/* Traces from before the start event: only the on arm wrote a trace. */
	return idx ? set->arms[*idx].name : "on";
}

/* The tls line of a connection the library has just tied a TLS session to:
 * its dial, counted in the plain row of its dest (the library could not know
 * yet), moves to the TLS row, and so does the period of use it began. */
static void trace_tls(struct kws_set *set, struct trace_state *st, const struct trace_line *t,
                      uint64_t conn)
{
	long *from = map_find(&st->plain_dial, conn);

	map_put(&st->tls_period, conn, 1);
	if (!from || *from < 0)
		return;
	size_t plain = (size_t)*from;
	*from = -1; /* moved once */
	kws_dest_row(set, arm_of(set, st, t->pid), t->dest, true)->dialed++;
	set->rows[plain].dialed--;
	map_put(&st->moved_from, (uint64_t)plain, 1);
}

/* Requests are counted by period of use: the library reports on park,
 * discard and let-go how many requests a connection has served in all, and
 * on reuse how many it had served when parked. So the requests of one period
 * of use (dial or reuse, then park or let go, on one pid and fd) are the end
 * count less the start count. A period whose start is not in the trace (a
 * fork child closing what it inherited) is not counted. The request line of
 * each request gives its latencies, and its count only for a period still
 * open at the end of the trace: older traces have none.
 * Lines about a TLS connection (tls=1) count in the TLS row of their dest;
 * so does the end of a period a tls line moved there. */
static void trace_account(struct kws_set *set, struct trace_state *st, const struct trace_line *t)
{
	uint64_t conn = (uint64_t)t->pid << 32 | (uint32_t)t->fd;
	const char *e = t->event;

	/* A broker's lines (keepwarmd writes them in the same format). */
	if (!strncmp(e, "broker-", 7)) {
		struct kws_broker_row *b;
		if (!t->dest)
			return;
		b = kws_broker_row(set, t->dest);
		if (!strcmp(e, "broker-put"))
			b->given++;
		else if (!strcmp(e, "broker-give"))
			b->hits++;
		else if (!strcmp(e, "broker-miss"))
			b->misses++;
		else if (!strcmp(e, "broker-discard") && t->reason && !strcmp(t->reason, "expired"))
			b->expired++;
		else if (!strcmp(e, "broker-discard"))
			b->closed++;
		return;
	}
	if (!strcmp(e, "start")) {
		struct kws_arm *arm = kws_arm(set, t->arm ? t->arm : "");
		arm->processes++;
		map_put(&st->arm_of_pid, (uint64_t)t->pid, (long)(arm - set->arms));
		return;
	}
	if (!t->dest)
		return;
	if (!strcmp(e, "tls")) {
		if (t->fd >= 0)
			trace_tls(set, st, t, conn);
		return;
	}
	const char *arm = arm_of(set, st, t->pid);
	struct kws_row *row = kws_dest_row(set, arm, t->dest, t->tls);
	if (!strcmp(e, "request")) {
		if (t->fd >= 0 && t->requests >= 0) {
			map_put(&st->answered, conn, t->requests);
			map_put(&st->answer_row, conn, (long)(row - set->rows));
		}
		if (t->ms >= 0)
			kws_hist_observe(&row->latency[KWS_WAIT], t->ms / 1000.0);
		if (t->request_ms >= 0)
			kws_hist_observe(&row->latency[KWS_REQUEST_ONLY], t->request_ms / 1000.0);
	} else if (!strcmp(e, "dial") || !strcmp(e, "reuse")) {
		bool dial = e[0] == 'd';
		if (dial)
			row->dialed++;
		else {
			row->reused++;
			if (t->idle_ms >= 0)
				kws_hist_observe(&row->idle, (double)t->idle_ms / 1000.0);
		}
		if (t->fd >= 0) {
			map_put(&st->in_use, conn, dial || t->requests < 0 ? 0 : t->requests);
			map_put(&st->plain_dial, conn, dial && !t->tls ? (long)(row - set->rows) : -1);
			map_put(&st->tls_period, conn, t->tls);
			map_put(&st->answered, conn, -1);
		}
	} else if (t->fd >= 0 && t->requests >= 0 && t->idle_ms < 0 &&
	           (!strcmp(e, "park") || !strcmp(e, "discard") || !strcmp(e, "taint") ||
	            !strcmp(e, "passthrough"))) {
		/* idle_ms marks lines about parked connections (pool discards). */
		long *start = map_find(&st->in_use, conn), *tls = map_find(&st->tls_period, conn);
		if (!t->tls && tls && *tls == 1)
			row = kws_dest_row(set, arm, t->dest, true);
		if (start && *start >= 0 && t->requests >= *start)
			row->requests += (double)(t->requests - *start);
		if (start)
			*start = -1;
		map_put(&st->plain_dial, conn, -1);
		map_put(&st->tls_period, conn, 0);
		map_put(&st->answered, conn, -1);
	}
}

/* The periods of use the trace never saw end: what their request lines
 * counted. */
static void count_open_periods(struct kws_set *set, struct trace_state *st)
{
	for (size_t i = 0; i < st->in_use.cap; i++) {
		long start = st->in_use.vals[i], *last, *row;
		if (!st->in_use.used[i] || start < 0 ||
		    !(last = map_find(&st->answered, st->in_use.keys[i])) || *last < start ||
		    !(row = map_find(&st->answer_row, st->in_use.keys[i])))
			continue;
		set->rows[*row].requests += (double)(*last - start);
	}
}

/* The rows this trace made that a dial left for the TLS row and that hold
 * nothing else go: a TLS destination's address is not a plain one. */
static void drop_moved_rows(struct kws_set *set, struct trace_state *st)
{
	for (size_t i = set->nrows; i-- > st->first_row;)
		if (map_find(&st->moved_from, (uint64_t)i) && kws_row_empty(&set->rows[i]))
			kws_drop_row(set, i);
}

int read_trace(struct reader *r, FILE *f, char **buf, size_t *cap)
{
	struct trace_state st = { 0 };
	struct trace_line t;
	size_t foreign = 0;
	unsigned long first_foreign = 0;
	int rc = 0;

	r->set->trace_files++;
	st.first_row = r->set->nrows;
	while (next_line(r, f, buf, cap)) {
		if (blank(*buf))
			continue;
		/* A trace sent to stderr holds the program's own lines too: they
		 * are not the library's to check. One that starts like a trace
		 * line is, and is checked. */
		if (strncmp(*buf, "ts=", 3)) {
			if (!foreign++)
				first_foreign = r->line;
			continue;
		}
		if ((rc = parse_trace_line(r, *buf, &t)) < 0)
			break;
		trace_account(r->set, &st, &t);
	}
	count_open_periods(r->set, &st);
	drop_moved_rows(r->set, &st);
	if (rc == 0 && foreign)
		kws_note_skipped(r->set, r->path, foreign, first_foreign);
	map_free(&st.arm_of_pid);
	map_free(&st.in_use);
	map_free(&st.plain_dial);
	map_free(&st.tls_period);
	map_free(&st.moved_from);
	map_free(&st.answered);
	map_free(&st.answer_row);
	return rc;
}
