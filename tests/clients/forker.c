/* forker - N requests, then fork(): the child does N requests and exits with
 * exit() (atexit handlers and library destructors run, as in a real program),
 * the parent does N more at the same time and then waitpid()s. Exits non-zero
 * if either process had a failure. */
#include "client_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int one(const struct kc_opts *o, const struct kc_req *q, unsigned i)
{
	return kc_exchange_blocking(o, q, i, NULL);
}

int main(int argc, char **argv)
{
	struct kc_opts o;
	struct kc_req q;
	kc_parse_args(&o, argc, argv, "forker", 0);
	kc_request_build(&o, &q);

	if (kc_run_loop(&o, &q, one) < 0) {
		kc_err(&o, "failed before fork");
		return KC_EXIT_FAIL;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		kc_err(&o, "fork: %s", strerror(errno));
		return KC_EXIT_FAIL;
	}
	if (pid == 0) {
		o.prog = "forker[child]";
		if (o.timeout_s)
			alarm(o.timeout_s);   /* alarms are not inherited */
		int rc = kc_run_loop(&o, &q, one);
		kc_request_free(&q);
		exit(rc < 0 ? KC_EXIT_FAIL : KC_EXIT_OK);
	}

	o.prog = "forker[parent]";
	int prc = kc_run_loop(&o, &q, one);
	int st = 0;
	pid_t w;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	kc_request_free(&q);
	o.prog = "forker";
	int crc = 0;
	if (w < 0) {
		kc_err(&o, "waitpid: %s", strerror(errno));
		crc = -1;
	} else if (WIFSIGNALED(st)) {
		kc_err(&o, "child killed by signal %d", WTERMSIG(st));
		crc = -1;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		kc_err(&o, "child exited with status %d", WEXITSTATUS(st));
		crc = -1;
	}
	if (prc < 0)
		kc_err(&o, "parent failed after fork");
	if (prc < 0 || crc < 0)
		return KC_EXIT_FAIL;
	return kc_ok(3ul * o.requests);
}
