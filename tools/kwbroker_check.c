/* kwbroker_check.c - what keepwarmd believes about a descriptor or a peer
 * comes from the kernel, never from what a client says. */
#include "kwbroker.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

bool kwb_syslog;

void kwb_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (kwb_syslog)
		syslog(LOG_NOTICE, "%s", line);
	else
		fprintf(stderr, "keepwarmd: %s\n", line);
}

bool kwb_netns_of(int fd, uint64_t *cookie)
{
	socklen_t len = sizeof *cookie;

	return getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) == 0 &&
	       len == sizeof *cookie;
}

bool kwb_conn_counters(int fd, struct kwb_conn *k, bool unread)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
		return false;
	k->established = ti.tcpi_state == 1; /* TCP_ESTABLISHED */
	k->acked = ti.tcpi_bytes_acked;
	k->received = ti.tcpi_bytes_received;
	k->unacked = ti.tcpi_unacked;
	k->notsent = len >= offsetof(struct tcp_info, tcpi_notsent_bytes) + sizeof ti.tcpi_notsent_bytes
	                     ? ti.tcpi_notsent_bytes
	                     : 0;
	k->unread = 0;
	return !unread || ioctl(fd, FIONREAD, &k->unread) == 0;
}

const char *kwb_conn_read(int fd, struct kwb_conn *k)
{
	struct sockaddr_storage ss;
	int proto;
	socklen_t len = sizeof proto;

	memset(k, 0, sizeof *k);
	/* Five calls: the protocol (TCP only exists as a stream), the peer
	 * (its family too), the namespace, the counters, what waits unread. */
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
		return errno == ENOTSOCK ? "not a socket" : "unreadable";
	if (proto != IPPROTO_TCP)
		return "not TCP";
	len = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return "not connected";
	if (kw_dest_from_sockaddr(&k->dest, (struct sockaddr *)&ss, len) < 0)
		return "an address keepwarm does not follow";
	if (!kwb_netns_of(fd, &k->netns))
		return "no network namespace cookie (Linux 5.14 or later is needed)";
	if (!kwb_conn_counters(fd, k, true))
		return "no TCP byte counters";
	return NULL;
}

bool kwb_cgroup_of(pid_t pid, uint64_t *id)
{
	char path[64], buf[4096];
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ (uint8_t)buf[i]) * 1099511628211ull;
		total += n;
	}
	close(fd);
	if (n < 0 || total == 0)
		return false;
	*id = h ? h : 1;
	return true;
}

const char *kwb_dir_unsafe(const char *dir, uid_t uid, char *why, size_t size)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		snprintf(why, size, "%s: %s", dir, strerror(errno));
		return why;
	}
	if (S_ISLNK(st.st_mode))
		snprintf(why, size, "%s is a symbolic link", dir);
	else if (!S_ISDIR(st.st_mode))
		snprintf(why, size, "%s is not a directory", dir);
	else if (st.st_uid != uid)
		snprintf(why, size, "%s is owned by uid %u, not %u", dir, (unsigned)st.st_uid,
		         (unsigned)uid);
	else if (st.st_mode & 077)
		snprintf(why, size, "%s is open to others (mode %04o; it must be 0700)", dir,
		         (unsigned)(st.st_mode & 07777));
	else
		return NULL;
	return why;
}
