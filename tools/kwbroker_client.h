/* kwbroker_client.h - the tools' side of keepwarmd: finding out whether a
 * broker of ours answers, and starting one (the launcher), with the trust
 * rules the library applies before it sends a descriptor. */
#ifndef KWBROKER_CLIENT_H
#define KWBROKER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum kwc_state {
	KWC_ANSWERS,   /* a broker of this user said hello */
	KWC_NONE,      /* nothing answers: no socket, refused, or no hello in time */
	KWC_UNTRUSTED, /* something is there that is not ours (why says what) */
};

/* Connect to the broker at path, in directory dir, as the library would:
 * dir and path owned by geteuid() with no access for others (lstat, no
 * link followed), the peer's SO_PEERCRED uid ours, its hello within
 * wait_ms. Returns the connected socket (close-on-exec) with *state
 * KWC_ANSWERS, else -1 with *state and a sentence in why. */
int kwc_open(const char *path, const char *dir, int wait_ms, enum kwc_state *state, char *why,
             size_t size);

/* Start the broker exe detached ("keepwarmd --daemon --syslog": its own
 * session, stdin, stdout and stderr on /dev/null, no other descriptor of
 * this process, default signal dispositions, no LD_PRELOAD) and wait, at
 * most wait_ms, for it to listen (keepwarmd's first process exits once its
 * socket listens). Returns true when it exited 0; false with why otherwise
 * (a broker that lost the race to another one exits 1: look again with
 * kwc_open). Leaves no child behind: one still running at the bound is
 * killed and reaped, so the program exec'd next inherits none. */
bool kwc_start(const char *exe, int wait_ms, char *why, size_t size);

/* `keepwarm status`: ask the broker on fd (from kwc_open) for its
 * statistics and print them to out, as a table per destination or, with
 * raw, as the broker's Prometheus text. Returns 0, or 3 with why when no
 * report came within wait_ms. */
int kwc_status(int fd, bool raw, int wait_ms, FILE *out, char *why, size_t size);

#endif
