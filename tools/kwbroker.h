/* kwbroker.h - keepwarmd's parts: what it learns from the descriptors and
 * peers it is given (kwbroker_check.c), and its log. */
#ifndef KWBROKER_H
#define KWBROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "logic/config.h"
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

/* Where the broker listens. */
struct kwb_socket {
	char path[108];
	char dir[KW_TRACE_PATH_MAX];
	int listen_fd;
	ino_t ino;       /* the socket's, to remove only our own */
	bool activated;  /* given by socket activation (LISTEN_FDS) */
};

/* The lock beside sk's socket (PATH.lock, flock): this broker is the only
 * one on the path. The open lock, or -1 after a log line. */
int kwb_take_lock(const struct kwb_socket *sk);

/* The directory (made 0700 if missing, refused if not ours alone), the
 * lock, a stale socket replaced, the socket made and listening (mode 0600):
 * the open lock, or -1 after a log line. */
int kwb_listen(struct kwb_socket *sk);

/* Socket activation (sd_listen_fds(3)): 0 when LISTEN_PID is not this
 * process; 1 with descriptor 3 checked (a listening SOCK_SEQPACKET socket
 * at a path, in a directory of ours alone, itself ours alone) and taken as
 * sk's; -1 after a log line. The LISTEN_* variables are removed. */
int kwb_activated(struct kwb_socket *sk);

/* Write this process's id into the lock file. */
void kwb_write_pid(int lock);

/* Detach: fork (the parent exits 0), a new session, / as the directory,
 * /dev/null as stdin, stdout and stderr, syslog from then on, the pid
 * written. */
void kwb_daemonize(int lock);

/* One log line: stderr in the foreground, syslog once detached. */
void kwb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool kwb_syslog;

#endif
