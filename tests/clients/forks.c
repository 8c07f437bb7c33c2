/* forks - a child never hands out a connection its parent can also hand out,
 * however it was made. The process makes one exchange and closes (keepwarm
 * parks the connection); then a child is made and makes one exchange on a new
 * socket (it must dial its own connection: the parked one is its parent's);
 * the parent waits for it and makes one more exchange (on its parked
 * connection). So the server sees 2 connections with keepwarm, 3 without.
 *   --mode daemon     the child of daemon() (run from a helper process, as
 *                     daemon() ends its caller)
 *   --mode forkpty    the child of forkpty()
 *   --mode _Fork      the child of _Fork(), which runs no fork handlers
 *   --mode clone      --requests children of syscall(SYS_clone), while
 *                     another thread parks and takes connections all the
 *                     time (so a child may copy keepwarm's lock held): each
 *                     child must dial its own connection and never hang
 * Each exchange checks that the response is its own (Content-Length).
 *
 *   forks --port P --mode M [--host H] [--requests N] [--timeout S]
 * Exit 0; 1 when an exchange fails or a child fails or hangs. */
#include "client_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static int port, children = 20;
static atomic_int stop;

static int exchange(long n)
{
	int fd = kc_dial(host, port), rc;

	if (fd < 0)
		return -1;
	rc = kc_get_sized(fd, host, n);
	close(fd);
	return rc;
}

/* Wait for pid at most 10 s; its exit status, or -1 (killed after the wait). */
static int wait_bounded(pid_t pid)
{
	for (int i = 0; i < 1000; i++) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static int one_child(pid_t pid, const char *how)
{
	int rc;

	if (pid < 0) {
		perror(how);
		return 1;
	}
	if (pid == 0)
		_exit(exchange(2002) ? 1 : 0);
	rc = wait_bounded(pid);
	if (rc) {
		fprintf(stderr, "the %s child %s\n", how, rc < 0 ? "hung" : "failed");
		return 1;
	}
	return exchange(1003) ? 1 : 0;
}

static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		if (exchange(100))
			break;
	return NULL;
}

int main(int argc, char **argv)
{
	struct kc_script o;
	const char *mode;

	if (kc_script_args(&o, argc, argv, NULL, NULL) < 0 || !(mode = o.mode)) {
		fprintf(stderr, "usage: forks --port P --mode daemon|forkpty|_Fork|clone "
		                "[--requests N] [--timeout S]\n");
		return 2;
	}
	host = o.host;
	port = o.port;
	if (o.requests > 0)
		children = o.requests;
	if (!strcmp(mode, "daemon")) {
		/* daemon() ends its caller: a helper makes the first exchange and
		 * becomes the daemon; its child reports through a pipe. */
		int p[2];
		char verdict = 'x';
		pid_t helper;
		if (pipe(p) < 0 || (helper = fork()) < 0)
			return 1;
		if (helper == 0) {
			close(p[0]);
			if (exchange(1001) || daemon(1, 1) < 0)
				_exit(1);
			verdict = exchange(2002) ? 'n' : 'y'; /* in the daemon */
			(void)!write(p[1], &verdict, 1);
			_exit(0);
		}
		close(p[1]);
		wait_bounded(helper);
		if (read(p[0], &verdict, 1) != 1 || verdict != 'y') {
			fprintf(stderr, "the daemon's exchange failed (%c)\n", verdict);
			return 1;
		}
		return exchange(1003) ? 1 : 0;
	}
	if (exchange(1001))
		return 1;
	if (!strcmp(mode, "forkpty")) {
		int master;
		pid_t pid = forkpty(&master, NULL, NULL, NULL);
		int rc = one_child(pid, "forkpty");
		if (pid > 0)
			close(master);
		return rc;
	}
	if (!strcmp(mode, "_Fork"))
		return one_child(_Fork(), "_Fork");
	if (!strcmp(mode, "clone")) {
		pthread_t t;
		int bad = 0;
		pthread_create(&t, NULL, churn, NULL);
		for (int i = 0; i < children && !bad; i++) {
			pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
			if (pid == 0)
				_exit(exchange(2002) ? 1 : 0);
			if (wait_bounded(pid)) {
				fprintf(stderr, "clone child %d failed or hung\n", i);
				bad = 1;
			}
		}
		atomic_store(&stop, 1);
		pthread_join(t, NULL);
		return bad;
	}
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
