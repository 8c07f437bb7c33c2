/* threads - --threads T threads, each doing --requests N blocking exchanges
 * (new connection each) at the same time. */
#include "client_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker {
	pthread_t tid;
	struct kc_opts opts;      /* per thread: prog names the thread */
	char prog[32];
	const struct kc_req *req;
	int rc;
};

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	return kc_exchange_blocking(o, q, i, NULL);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	w->rc = kc_run_loop(&w->opts, w->req, one);
	return NULL;
}

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_req q;
	kc_parse_args(&o, argc, argv, "threads", KC_OPT_THREADS);
	kc_request_build(&o, &q);

	struct worker *w = calloc(o.threads, sizeof *w);
	if (!w) {
		kc_err(&o, "out of memory");
		return KC_EXIT_FAIL;
	}
	unsigned started = 0;
	int failed = 0;
	for (unsigned t = 0; t < o.threads; t++) {
		w[t].opts = o;
		snprintf(w[t].prog, sizeof w[t].prog, "threads[%u]", t);
		w[t].opts.prog = w[t].prog;
		w[t].req = &q;
		int e = pthread_create(&w[t].tid, NULL, run, &w[t]);
		if (e) {
			kc_err(&o, "pthread_create: %s", strerror(e));
			failed = 1;
			break;
		}
		started++;
	}
	for (unsigned t = 0; t < started; t++) {
		pthread_join(w[t].tid, NULL);
		if (w[t].rc < 0)
			failed = 1;
	}
	free(w);
	kc_request_free(&q);
	if (failed) {
		kc_err(&o, "some threads failed");
		return KC_EXIT_FAIL;
	}
	return kc_ok((unsigned long)o.threads * o.requests);
}
