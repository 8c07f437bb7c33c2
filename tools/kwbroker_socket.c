/* kwbroker_socket.c - where keepwarmd listens: its directory, its lock, its
 * socket (made, or given by socket activation), and its detaching. */
#include "kwbroker.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

/* The lock beside the socket makes this the only broker on its path (and
 * tells the pid of the one that has it): the open lock, or -1. */
int kwb_take_lock(const struct kwb_socket *sk)
{
	char lock_path[sizeof sk->path + 8], pid[24];
	int lock;

	snprintf(lock_path, sizeof lock_path, "%s.lock", sk->path);
	lock = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0) {
		kwb_log("cannot open %s: %s", lock_path, strerror(errno));
		return -1;
	}
	if (flock(lock, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = read(lock, pid, sizeof pid - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		kwb_log("another broker (pid %s) serves %s", *pid ? pid : "?", sk->path);
		close(lock);
		return -1;
	}
	return lock;
}

/* The directory (made 0700 if missing), the lock, the socket. */
int kwb_listen(struct kwb_socket *sk)
{
	char why[KW_TRACE_PATH_MAX + 100];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int lock;

	if (mkdir(sk->dir, 0700) < 0 && errno != EEXIST) {
		kwb_log("cannot make %s: %s", sk->dir, strerror(errno));
		return -1;
	}
	if (kwb_dir_unsafe(sk->dir, geteuid(), why, sizeof why)) {
		kwb_log("refusing the directory: %s", why);
		return -1;
	}
	if ((lock = kwb_take_lock(sk)) < 0)
		return -1;
	/* The lock is ours: a socket left at the path is a dead broker's. */
	if (lstat(sk->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			kwb_log("%s exists and is not a socket", sk->path);
			return -1;
		}
		unlink(sk->path);
	}
	sk->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	memcpy(sa.sun_path, sk->path, strlen(sk->path) + 1);
	old = umask(0177);
	if (sk->listen_fd < 0 || bind(sk->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(sk->listen_fd, 128) < 0 || lstat(sk->path, &st) < 0) {
		umask(old);
		kwb_log("cannot listen on %s: %s", sk->path, strerror(errno));
		return -1;
	}
	umask(old);
	sk->ino = st.st_ino;
	return lock; /* held open for the broker's life */
}

/* Socket activation (systemd's LISTEN_FDS protocol, sd_sk->listen_fds(3)):
 * 0 when the variables are not for this process; 1 with descriptor 3 as
 * the listening socket, its path and directory taken from it and checked
 * as a broker's own; -1 after saying why it cannot be used. */
int kwb_activated(struct kwb_socket *sk)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char why[KW_TRACE_PATH_MAX + 100], *slash;
	struct sockaddr_un sa;
	socklen_t len = sizeof sa;
	int type = 0, accepting = 0;
	socklen_t olen = sizeof type;
	struct stat st;

	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (strcmp(fds, "1")) {
		kwb_log("socket activation passed %s descriptors, not 1", fds);
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &olen) < 0 || type != SOCK_SEQPACKET ||
	    getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &olen) < 0 || !accepting ||
	    getsockname(3, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX ||
	    sa.sun_path[0] != '/' || len <= offsetof(struct sockaddr_un, sun_path)) {
		kwb_log("socket activation: descriptor 3 is not a listening SOCK_SEQPACKET "
		        "socket at a path (ListenSequentialPacket=)");
		return -1;
	}
	sa.sun_path[sizeof sa.sun_path - 1] = '\0';
	snprintf(sk->path, sizeof sk->path, "%s", sa.sun_path);
	snprintf(sk->dir, sizeof sk->dir, "%s", sa.sun_path);
	if ((slash = strrchr(sk->dir, '/')) && slash != sk->dir)
		*slash = '\0';
	if (kwb_dir_unsafe(sk->dir, geteuid(), why, sizeof why)) {
		kwb_log("refusing the directory: %s (DirectoryMode=0700)", why);
		return -1;
	}
	if (lstat(sk->path, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		kwb_log("refusing %s: not this user's alone (SocketMode=0600)", sk->path);
		return -1;
	}
	sk->listen_fd = 3;
	fcntl(sk->listen_fd, F_SETFD, FD_CLOEXEC);
	fcntl(sk->listen_fd, F_SETFL, fcntl(sk->listen_fd, F_GETFL) | O_NONBLOCK);
	sk->ino = st.st_ino;
	return 1;
}

void kwb_write_pid(int lock)
{
	char pid[24];
	int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());

	if (ftruncate(lock, 0) == 0 && pwrite(lock, pid, (size_t)n, 0) != n)
		kwb_log("cannot write the lock file: %s", strerror(errno));
}

void kwb_daemonize(int lock)
{
	pid_t pid = fork();
	int null;

	if (pid < 0) {
		kwb_log("cannot detach: %s", strerror(errno));
		exit(1);
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		exit(1);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	openlog("keepwarmd", LOG_PID, LOG_DAEMON);
	kwb_syslog = true;
	kwb_write_pid(lock);
}

