/* stress - many threads, one pool: --threads T threads each make --requests N
 * exchanges spread over the kwtestd servers named by --port (repeat it, one
 * per destination), every one on a new socket (socket, connect, write, read
 * the whole response, close: the legacy idiom), bodies checked byte for byte
 * (tests/common/pattern.h, through the client library). Meanwhile a thread
 * forks every --fork-ms ms; the child makes 2 exchanges and _exit()s with 0
 * if both were right.
 *
 * The exchanges mix keep-alive GETs of several sizes, chunked bodies, HEAD,
 * close-style requests read to EOF (upgraded by the shim) and POSTs (which
 * the shim keeps off reused connections). Every --sleepers-th thread pauses
 * 1-3 ms between requests and, every 100th request, longer than
 * --expire-ms, so parked connections expire while other threads park,
 * evict and take them over. Run under the shim with small idle caps
 * (tests/analysis/stress.sh), and under ThreadSanitizer.
 *
 * Prints one line on stdout:
 *   requests=R parent=P children=C child_requests=Q failures=F
 * R = P + Q is every request written. Exits 0 iff F == 0 and every child
 * exited 0. */
#include "client_common.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_DESTS 16

/* One kind of exchange; its options for each destination are built once. */
struct kind {
	unsigned    weight;
	const char *argv[12];        /* kc_parse_args options beyond host/port */
};
static const struct kind kinds[] = {
	{ 30, { "--path", "/gen/100" } },
	{ 20, { "--path", "/gen/4000" } },
	{ 10, { "--path", "/gen/70000" } },
	{ 10, { "--path", "/chunked/3000" } },
	{  5, { "--path", "/gen/2000", "--method", "HEAD" } },
	{ 10, { "--path", "/gen/1000", "--connection-close", "--read-to-eof" } },
	{  5, { "--path", "/gen/1000", "--http10", "--read-to-eof" } },
	{  5, { "--path", "/gen/500", "--method", "POST", "--body-bytes", "300" } },
	{  5, { "--path", "/slow/500" } },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

struct exch {
	struct kc_opts opts;
	struct kc_req  req;
};
static struct exch exch[MAX_DESTS][NKINDS];
static unsigned ndests;
static unsigned weight_total;

static unsigned n_threads = 16, n_requests = 1000, fork_ms = 50, sleepers = 4;
static unsigned expire_ms = 25;

static atomic_ulong parent_requests;
static atomic_ulong failures;
static atomic_int workers_done;

/* Written by the children, read by the parent: a shared page. */
struct shared {
	atomic_ulong child_requests;
};
static struct shared *shared;

static unsigned rnd(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (unsigned)(*s >> 11);
}

static const struct exch *pick(unsigned long long *s)
{
	unsigned d = rnd(s) % ndests, w = rnd(s) % weight_total, k = 0;
	while (w >= kinds[k].weight)
		w -= kinds[k++].weight;
	return &exch[d][k];
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct worker {
	pthread_t tid;
	unsigned  id;
};

static void *work(void *arg)
{
	const struct worker *w = arg;
	unsigned long long s = 0x9e3779b97f4a7c15ull * (w->id + 1);
	int sleeper = sleepers && w->id % sleepers == sleepers - 1;

	for (unsigned i = 0; i < n_requests; i++) {
		const struct exch *e = pick(&s);
		atomic_fetch_add(&parent_requests, 1);
		if (kc_exchange_blocking(&e->opts, &e->req, i, NULL) < 0)
			atomic_fetch_add(&failures, 1);
		if (sleeper)
			sleep_ms(i % 100 == 99 ? expire_ms : 1 + i % 3);
	}
	atomic_fetch_add(&workers_done, 1);
	return NULL;
}

/* The child of a fork from a busy process: 2 exchanges, then _exit. */
static void child(unsigned n)
{
	unsigned long long s = 0xd1b54a32d192ed03ull * (n + 1);
	int ok = 1;
	alarm(60);   /* alarms are not inherited */
	for (unsigned i = 0; i < 2; i++) {
		const struct exch *e = pick(&s);
		atomic_fetch_add(&shared->child_requests, 1);
		if (kc_exchange_blocking(&e->opts, &e->req, i, NULL) < 0)
			ok = 0;
	}
	_exit(ok ? 0 : 1);
}

static unsigned children, children_failed;

static void *forker(void *arg)
{
	(void)arg;
	while (atomic_load(&workers_done) < (int)n_threads) {
		sleep_ms(fork_ms);
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "stress: fork: %s\n", strerror(errno));
			children_failed++;
			continue;
		}
		if (pid == 0)
			child(children);
		children++;
		int st;
		pid_t r;
		while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
		if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			if (r >= 0 && WIFSIGNALED(st))
				fprintf(stderr, "stress: child %d killed by signal %d\n", (int)pid,
				        WTERMSIG(st));
			else
				fprintf(stderr, "stress: child %d exited with status %d\n", (int)pid,
				        r < 0 ? -1 : WEXITSTATUS(st));
			children_failed++;
		}
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: stress --port P [--port P ...] [--host H] [--threads T] [--requests N]\n"
	        "              [--fork-ms MS (0 = no forks)] [--sleepers K] [--expire-ms MS]\n"
	        "              [--timeout S]\n");
	exit(KC_EXIT_USAGE);
}

static unsigned num(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 10000000)
		usage();
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *ports[MAX_DESTS];
	unsigned timeout_s = 600;

	for (int a = 1; a < argc; a++) {
		if (a + 1 >= argc)
			usage();
		const char *opt = argv[a], *val = argv[++a];
		if (!strcmp(opt, "--port")) {
			if (ndests == MAX_DESTS)
				usage();
			ports[ndests++] = val;
		} else if (!strcmp(opt, "--host")) {
			host = val;
		} else if (!strcmp(opt, "--threads")) {
			n_threads = num(val);
		} else if (!strcmp(opt, "--requests")) {
			n_requests = num(val);
		} else if (!strcmp(opt, "--fork-ms")) {
			fork_ms = num(val);
		} else if (!strcmp(opt, "--sleepers")) {
			sleepers = num(val);
		} else if (!strcmp(opt, "--expire-ms")) {
			expire_ms = num(val);
		} else if (!strcmp(opt, "--timeout")) {
			timeout_s = num(val);
		} else {
			usage();
		}
	}
	if (!ndests || !n_threads)
		usage();

	for (unsigned k = 0; k < NKINDS; k++)
		weight_total += kinds[k].weight;
	for (unsigned d = 0; d < ndests; d++) {
		for (unsigned k = 0; k < NKINDS; k++) {
			char *av[20];
			int ac = 0;
			av[ac++] = "stress";
			av[ac++] = "--host";
			av[ac++] = (char *)host;
			av[ac++] = "--port";
			av[ac++] = (char *)ports[d];
			for (unsigned j = 0; kinds[k].argv[j]; j++)
				av[ac++] = (char *)kinds[k].argv[j];
			av[ac] = NULL;
			kc_parse_args(&exch[d][k].opts, ac, av, "stress", 0);
			exch[d][k].opts.requests = n_requests;
			kc_request_build(&exch[d][k].opts, &exch[d][k].req);
		}
	}

	shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	              -1, 0);
	if (shared == MAP_FAILED) {
		perror("stress: mmap");
		return KC_EXIT_FAIL;
	}
	alarm(timeout_s);

	struct worker *w = calloc(n_threads, sizeof *w);
	if (!w) {
		perror("stress: calloc");
		return KC_EXIT_FAIL;
	}
	pthread_t ftid;
	int forking = 0;
	if (fork_ms) {
		int e = pthread_create(&ftid, NULL, forker, NULL);
		if (e) {
			fprintf(stderr, "stress: pthread_create: %s\n", strerror(e));
			return KC_EXIT_FAIL;
		}
		forking = 1;
	}
	for (unsigned t = 0; t < n_threads; t++) {
		w[t].id = t;
		int e = pthread_create(&w[t].tid, NULL, work, &w[t]);
		if (e) {
			fprintf(stderr, "stress: pthread_create: %s\n", strerror(e));
			return KC_EXIT_FAIL;
		}
	}
	for (unsigned t = 0; t < n_threads; t++)
		pthread_join(w[t].tid, NULL);
	if (forking)
		pthread_join(ftid, NULL);
	free(w);

	unsigned long p = atomic_load(&parent_requests);
	unsigned long q = atomic_load(&shared->child_requests);
	unsigned long f = atomic_load(&failures);
	printf("requests=%lu parent=%lu children=%u child_requests=%lu failures=%lu "
	       "children_failed=%u\n", p + q, p, children, q, f, children_failed);
	for (unsigned d = 0; d < ndests; d++)
		for (unsigned k = 0; k < NKINDS; k++)
			kc_request_free(&exch[d][k].req);
	return f || children_failed ? KC_EXIT_FAIL : KC_EXIT_OK;
}
