/* kwbroker.h - keepwarmd's parts: what it learns from the descriptors and
 * peers it is given (kwbroker_check.c), and its log. */
#ifndef KWBROKER_H
#define KWBROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "logic/dest.h"

/* What the kernel says of a TCP connection: its destination, its network
 * namespace, and its byte counters. */
struct kwb_conn {
	struct kw_dest dest;
	uint64_t netns;     /* SO_NETNS_COOKIE */
	bool established;
	uint64_t acked;     /* tcpi_bytes_acked (the SYN counts one) */
	uint64_t received;  /* tcpi_bytes_received */
	uint32_t unacked, notsent;
	int unread;         /* FIONREAD */
};

/* Read fd's facts; NULL when it is a connected TCP socket of AF_INET or
 * AF_INET6 whose facts could all be read, else why not ("not a socket",
 * "not TCP", "not connected", ...). (A UDP socket is "not TCP", a pipe
 * "not a socket".) */
const char *kwb_conn_read(int fd, struct kwb_conn *k);

/* Only the counters (of a socket kwb_conn_read already vouched for), and
 * what waits unread when unread is set; false when they cannot be read.
 * Without unread, k->unread is 0: a received count unchanged since
 * kwb_conn_read found nothing unread says the same in one call less. */
bool kwb_conn_counters(int fd, struct kwb_conn *k, bool unread);

/* The network namespace of any socket fd (SO_NETNS_COOKIE); false when the
 * kernel cannot say (before Linux 5.14). */
bool kwb_netns_of(int fd, uint64_t *cookie);

/* A number naming process pid's cgroups (a hash of /proc/PID/cgroup,
 * never 0); false when it cannot be read. */
bool kwb_cgroup_of(pid_t pid, uint64_t *id);

/* Whether dir is a directory (not a symbolic link) owned by uid with no
 * access for group or others: NULL, or a sentence saying what is wrong. */
const char *kwb_dir_unsafe(const char *dir, uid_t uid, char *why, size_t size);

/* One log line: stderr in the foreground, syslog once detached. */
void kwb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool kwb_syslog;

#endif
