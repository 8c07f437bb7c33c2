/* kwbroker_client.c - whether a broker of ours answers, and starting one
 * (see kwbroker_client.h). */
#include "kwbroker_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "logic/broker_proto.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What is wrong with path for a broker of ours: NULL when nothing, "" when
 * it is simply missing (the library's rule, sink/pool_broker.c). */
static const char *untrusted(const char *path, bool socket, char *why, size_t size)
{
	struct stat st;
	uid_t me = geteuid();

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return "";
		snprintf(why, size, "%s: %s", path, strerror(errno));
	} else if (socket ? !S_ISSOCK(st.st_mode) : !S_ISDIR(st.st_mode)) {
		snprintf(why, size, "%s is not a %s", path, socket ? "socket" : "directory");
	} else if (st.st_uid != me) {
		snprintf(why, size, "%s is owned by uid %u, not %u", path, (unsigned)st.st_uid,
		         (unsigned)me);
	} else if (st.st_mode & 077) {
		snprintf(why, size, "%s is open to others (mode %04o)", path,
		         (unsigned)(st.st_mode & 07777));
	} else {
		return NULL;
	}
	return why;
}

static int fail(int fd, enum kwc_state *state, enum kwc_state s)
{
	if (fd >= 0)
		close(fd);
	*state = s;
	return -1;
}

int kwc_open(const char *path, const char *dir, int wait_ms, enum kwc_state *state, char *why,
             size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t buf[KW_BROKER_MSG_MAX + 1];
	struct pollfd p;
	struct ucred cr;
	socklen_t len = sizeof cr;
	struct kw_bmsg hello;
	const char *bad;
	ssize_t n;
	int fd;

	if ((bad = untrusted(dir, false, why, size)) || (bad = untrusted(path, true, why, size))) {
		if (!*bad)
			snprintf(why, size, "%s does not exist", path);
		return fail(-1, state, *bad ? KWC_UNTRUSTED : KWC_NONE);
	}
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(why, size, "%s is too long for a socket address", path);
		return fail(-1, state, KWC_UNTRUSTED);
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(why, size, "nothing listens at %s (%s)", path, strerror(errno));
		return fail(fd, state, KWC_NONE);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != geteuid()) {
		snprintf(why, size, "the broker at %s runs as uid %u, not %u", path, (unsigned)cr.uid,
		         (unsigned)geteuid());
		return fail(fd, state, KWC_UNTRUSTED);
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (uint64_t until = now_ms() + (uint64_t)wait_ms;;) {
		uint64_t now = now_ms();
		int r = poll(&p, 1, now >= until ? 0 : (int)(until - now));
		if (r > 0)
			break;
		if (r == 0 || errno != EINTR) {
			snprintf(why, size, "the broker at %s did not say hello within %d ms", path,
			         wait_ms);
			return fail(fd, state, KWC_NONE);
		}
	}
	n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n <= 0 || kw_bmsg_decode(buf, (size_t)n, 0, &hello) || hello.type != KW_BMSG_HELLO) {
		snprintf(why, size, "what listens at %s is not a keepwarm broker of this version", path);
		return fail(fd, state, KWC_UNTRUSTED);
	}
	*state = KWC_ANSWERS;
	return fd;
}

/* The broker's process: nothing of the launcher's but its environment
 * (the settings) and its limits. */
static void become_broker(const char *exe)
{
	sigset_t none;
	int null;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL); /* SIGKILL and SIGSTOP refuse: no matter */
	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (close_range(3, ~0u, 0) < 0)
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	unsetenv("LD_PRELOAD");
	execl(exe, "keepwarmd", "--daemon", "--syslog", (char *)NULL);
	_exit(127);
}

bool kwc_start(const char *exe, int wait_ms, char *why, size_t size)
{
	uint64_t until = now_ms() + (uint64_t)wait_ms;
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(why, size, "cannot start %s: %s", exe, strerror(errno));
		return false;
	}
	if (pid == 0)
		become_broker(exe);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		struct timespec ts = { 0, 5 * 1000000L };

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			snprintf(why, size, "cannot wait for %s: %s", exe, strerror(errno));
			return false;
		}
		if (now_ms() >= until) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			snprintf(why, size, "%s did not listen within %d ms", exe, wait_ms);
			return false;
		}
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFEXITED(status))
		snprintf(why, size, "%s exited with status %d", exe, WEXITSTATUS(status));
	else
		snprintf(why, size, "%s was killed by signal %d", exe, WTERMSIG(status));
	return false;
}

/* ---- keepwarm status ---- */

struct dest_row {
	char dest[64];
	double idle, oldest, newest, in, hits, misses, expired, warmed;
	bool aged;
};

struct status {
	char version[32], socket[256], pid[16];
	double uptime, clients, parked, refused;
	struct dest_row rows[300];
	unsigned nrows;
};

/* The value of label name in the {...} of a sample line, into buf. */
static bool label(const char *labels, const char *name, char *buf, size_t size)
{
	size_t len = strlen(name);

	for (const char *p = labels; p && *p && *p != '}';) {
		const char *q;
		size_t n = 0;

		p += strspn(p, "{, ");
		if (!strncmp(p, name, len) && p[len] == '=' && p[len + 1] == '"') {
			for (q = p + len + 2; *q && *q != '"' && n + 1 < size; q++) {
				if (*q == '\\' && q[1])
					q++;
				buf[n++] = *q;
			}
			buf[n] = '\0';
			return true;
		}
		if (!(q = strchr(p, '"')) || !(q = strchr(q + 1, '"')))
			return false;
		p = q + 1;
	}
	return false;
}

static struct dest_row *row_of(struct status *st, const char *labels)
{
	char dest[64];

	if (!label(labels, "dest", dest, sizeof dest))
		return NULL;
	for (unsigned i = 0; i < st->nrows; i++)
		if (!strcmp(st->rows[i].dest, dest))
			return &st->rows[i];
	if (st->nrows == sizeof st->rows / sizeof st->rows[0])
		return NULL;
	memset(&st->rows[st->nrows], 0, sizeof st->rows[0]);
	snprintf(st->rows[st->nrows].dest, sizeof st->rows[0].dest, "%s", dest);
	return &st->rows[st->nrows++];
}

static void take_line(struct status *st, char *line)
{
	char *labels = NULL, *value, v[32];
	struct dest_row *r;
	double x;

	if (!*line || *line == '#')
		return;
	value = line + strcspn(line, "{ ");
	if (*value == '{') {
		*value++ = '\0';
		labels = value;
		if (!(value = strchr(value, '}')))
			return;
		value++;
	} else if (*value) {
		*value++ = '\0';
	}
	x = strtod(value, NULL);
	if (!strcmp(line, "keepwarm_broker_info") && labels) {
		label(labels, "version", st->version, sizeof st->version);
		label(labels, "socket", st->socket, sizeof st->socket);
		label(labels, "pid", st->pid, sizeof st->pid);
	} else if (!strcmp(line, "keepwarm_broker_uptime_seconds")) {
		st->uptime = x;
	} else if (!strcmp(line, "keepwarm_broker_clients")) {
		st->clients = x;
	} else if (!strcmp(line, "keepwarm_broker_parked_total")) {
		st->parked = x;
	} else if (!strcmp(line, "keepwarm_broker_refused_total")) {
		st->refused += x;
	} else if (labels && (r = row_of(st, labels))) {
		if (!strcmp(line, "keepwarm_broker_parked")) {
			r->idle = x;
		} else if (!strcmp(line, "keepwarm_broker_parked_oldest_seconds")) {
			r->oldest = x;
			r->aged = true;
		} else if (!strcmp(line, "keepwarm_broker_parked_newest_seconds")) {
			r->newest = x;
		} else if (!strcmp(line, "keepwarm_broker_handoffs_total") &&
		           label(labels, "direction", v, sizeof v) && !strcmp(v, "in")) {
			r->in = x;
		} else if (!strcmp(line, "keepwarm_broker_takes_total") &&
		           label(labels, "result", v, sizeof v)) {
			if (!strcmp(v, "hit"))
				r->hits = x;
			else if (!strcmp(v, "miss"))
				r->misses = x;
		} else if (!strcmp(line, "keepwarm_broker_discards_total") &&
		           label(labels, "reason", v, sizeof v) && !strcmp(v, "expired")) {
			r->expired = x;
		} else if (!strcmp(line, "keepwarm_broker_warmed_total")) {
			r->warmed = x;
		}
	}
}

/* A duration as "1h2m", "3m4s", "5.6s". */
static const char *human(double s, char *buf, size_t size)
{
	if (s >= 3600)
		snprintf(buf, size, "%dh%dm", (int)(s / 3600), (int)(s / 60) % 60);
	else if (s >= 60)
		snprintf(buf, size, "%dm%ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, size, "%.1fs", s);
	return buf;
}

static void print_status(struct status *st, FILE *out)
{
	char a[32], b[32];
	int width = (int)strlen("destination");

	fprintf(out, "keepwarmd %s (pid %s) at %s: up %s, %.0f client%s, %.0f idle connection%s",
	        st->version, st->pid, st->socket, human(st->uptime, a, sizeof a), st->clients,
	        st->clients == 1 ? "" : "s", st->parked, st->parked == 1 ? "" : "s");
	if (st->refused)
		fprintf(out, ", %.0f refused", st->refused);
	fputc('\n', out);
	if (!st->nrows) {
		fputs("(no destination yet)\n", out);
		return;
	}
	for (unsigned i = 0; i < st->nrows; i++)
		if ((int)strlen(st->rows[i].dest) > width)
			width = (int)strlen(st->rows[i].dest);
	fprintf(out, "%-*s %5s %7s %7s %7s %7s %7s %7s %7s\n", width, "destination", "idle", "oldest",
	        "newest", "given", "hits", "misses", "expired", "warmed");
	for (unsigned i = 0; i < st->nrows; i++) {
		const struct dest_row *r = &st->rows[i];
		fprintf(out, "%-*s %5.0f %7s %7s %7.0f %7.0f %7.0f %7.0f %7.0f\n", width, r->dest,
		        r->idle, r->aged ? human(r->oldest, a, sizeof a) : "-",
		        r->aged ? human(r->newest, b, sizeof b) : "-", r->in, r->hits, r->misses,
		        r->expired, r->warmed);
	}
}

int kwc_status(int fd, bool raw, int wait_ms, FILE *out, char *why, size_t size)
{
	static uint8_t buf[KW_BROKER_HEAD + KW_BROKER_REPORT_MAX + 1];
	static char text[KW_BROKER_REPORT_MAX + 1];
	static struct status st;
	struct kw_bmsg q = { .type = KW_BMSG_STATUS, .id = (uint32_t)getpid() }, r;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rcvbuf = (int)sizeof buf * 2;
	size_t n = kw_bmsg_encode(&q, buf, sizeof buf);
	ssize_t got;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n) {
		snprintf(why, size, "cannot ask the broker: %s", strerror(errno));
		return 3;
	}
	for (uint64_t until = now_ms() + (uint64_t)wait_ms;;) {
		uint64_t now = now_ms();
		int k = poll(&p, 1, now >= until ? 0 : (int)(until - now));
		if (k > 0)
			break;
		if (k == 0 || errno != EINTR) {
			snprintf(why, size, "the broker sent no status within %d ms (one older than "
			         "this launcher does not know the request)", wait_ms);
			return 3;
		}
	}
	got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (got <= 0 || kw_bmsg_decode(buf, (size_t)got, 0, &r) || r.type != KW_BMSG_REPORT ||
	    r.id != q.id) {
		snprintf(why, size, "the broker's answer is not a status report");
		return 3;
	}
	memcpy(text, r.text, r.text_len);
	text[r.text_len] = '\0';
	if (raw) {
		fputs(text, out);
		return 0;
	}
	memset(&st, 0, sizeof st);
	for (char *line = text, *next; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		take_line(&st, line);
	}
	print_status(&st, out);
	return 0;
}
