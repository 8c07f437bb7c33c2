/* sig_install - keepwarm blocks signals around its pool lock only once the
 * program has a signal handler, whichever call installed it.
 *
 *   sig_install --port P --install HOW [--requests N] [--race] [--host H]
 *               [--timeout S]
 *
 * N requests (default 20; a new socket each, closed after the response). With
 * HOW one of sigaction, __sigaction, signal, bsd_signal, ssignal, sysv_signal,
 * __sysv_signal, sigset: after N/2 requests a SIGUSR1 handler is installed that
 * way, and after each request that follows the process sends itself SIGUSR1
 * (kill, which blocks nothing itself); the handler counts. HOW none installs
 * nothing. Under strace the calls of rt_sigprocmask before and after the
 * rt_sigaction of SIGUSR1 tell whether keepwarm blocks signals.
 *
 * --race: the handler is installed by a second thread while the main thread
 * makes its requests, and that thread then sends the main thread 200
 * SIGUSR1s (pthread_kill, 1 ms apart): the requests must all succeed.
 * Exit 0 when every request got its body and (HOW not none) the handler ran;
 * 1 otherwise. */
#include "client_common.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
__sighandler_t bsd_signal(int sig, __sighandler_t handler);
__sighandler_t ssignal(int sig, __sighandler_t handler);
__sighandler_t __sysv_signal(int sig, __sighandler_t handler);
__sighandler_t sysv_signal(int sig, __sighandler_t handler);

static volatile sig_atomic_t caught;
static const char *how = "none";
static pthread_t main_thread;

static void on_usr1(int sig)
{
	caught++;
	/* System V semantics reset the disposition: put the handler back. */
	if (!strcmp(how, "sysv_signal"))
		sysv_signal(sig, on_usr1);
	else if (!strcmp(how, "__sysv_signal"))
		__sysv_signal(sig, on_usr1);
}

static int install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	if (!strcmp(how, "sigaction"))
		return sigaction(SIGUSR1, &sa, NULL);
	if (!strcmp(how, "__sigaction"))
		return __sigaction(SIGUSR1, &sa, NULL);
	if (!strcmp(how, "signal"))
		return signal(SIGUSR1, on_usr1) == SIG_ERR ? -1 : 0;
	if (!strcmp(how, "bsd_signal"))
		return bsd_signal(SIGUSR1, on_usr1) == SIG_ERR ? -1 : 0;
	if (!strcmp(how, "ssignal"))
		return ssignal(SIGUSR1, on_usr1) == SIG_ERR ? -1 : 0;
	if (!strcmp(how, "sysv_signal"))
		return sysv_signal(SIGUSR1, on_usr1) == SIG_ERR ? -1 : 0;
	if (!strcmp(how, "__sysv_signal"))
		return __sysv_signal(SIGUSR1, on_usr1) == SIG_ERR ? -1 : 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* old programs still call it */
	if (!strcmp(how, "sigset"))
		return sigset(SIGUSR1, on_usr1) == SIG_ERR ? -1 : 0;
#pragma GCC diagnostic pop
	return -1;
}

static void *racer(void *arg)
{
	struct timespec ms = { 0, 1000000 };

	(void)arg;
	nanosleep(&ms, NULL);
	if (install() < 0)
		return (void *)1;
	for (int i = 0; i < 200; i++) {
		pthread_kill(main_thread, SIGUSR1);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *const flags[] = { "--race", NULL };
	bool seen[1] = { false };
	struct kc_script o;
	pthread_t t;
	void *tr = NULL;
	int n;

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--install")) {
			how = argv[i + 1];
			memmove(argv + i, argv + i + 2, (size_t)(argc - i - 1) * sizeof *argv);
			argc -= 2;
			break;
		}
	if (kc_script_args(&o, argc, argv, flags, seen) < 0) {
		fprintf(stderr, "usage: sig_install --port P --install HOW [--requests N] [--race]\n");
		return 2;
	}
	n = o.requests > 0 ? o.requests : 20;
	main_thread = pthread_self();
	if (seen[0] && strcmp(how, "none") && pthread_create(&t, NULL, racer, NULL) != 0)
		return 1;
	for (int i = 0; i < n; i++) {
		int fd;
		if (!seen[0] && i == n / 2 && strcmp(how, "none") && install() < 0) {
			fprintf(stderr, "sig_install: %s failed\n", how);
			return 1;
		}
		if ((fd = kc_dial(o.host, o.port)) < 0 || kc_get_sized(fd, o.host, 100) < 0) {
			fprintf(stderr, "sig_install: request %d failed\n", i + 1);
			return 1;
		}
		close(fd);
		if (!seen[0] && i >= n / 2 && strcmp(how, "none"))
			kill(getpid(), SIGUSR1);
	}
	if (seen[0] && strcmp(how, "none") && (pthread_join(t, &tr) != 0 || tr))
		return 1;
	printf("%d requests, handler ran %d times\n", n, (int)caught);
	return strcmp(how, "none") && !caught;
}
