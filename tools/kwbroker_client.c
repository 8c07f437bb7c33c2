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
