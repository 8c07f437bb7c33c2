/* idle_table.h - the in-process idle connection table.
 *
 * Pure logic with an injected clock: it stores descriptors and their metadata
 * and never makes a system call; whoever removes an entry closes its fd.
 * LIFO per key (destination and transport), a per-key cap, a total cap with
 * the least recently parked entry evicted first, and per-entry expiry times. */
#ifndef KW_IDLE_TABLE_H
#define KW_IDLE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "logic/key.h"
#include "logic/meta.h"

struct kw_idle_meta {
	struct kw_key key;         /* what it is found by */
	uint64_t parked_ms;        /* when it was parked */
	uint64_t expires_ms;       /* parked_ms + its idle timeout, capped by its lifetime */
	struct kw_conn_meta conn;  /* what travels with the connection */
	bool probing;              /* TCP keepalive probes switched on while parked */
	uint64_t ino;              /* the socket's inode when the parker knew it, 0 = unknown */
	bool flags_known;          /* file_flags holds its F_GETFL */
	int file_flags;
};

struct kw_idle_entry {
	int fd;
	struct kw_idle_meta meta;
};

struct kw_idle_table;

/* A table for at most max_total entries and max_per_host per key.
 * Returns NULL when out of memory. A cap of 0 makes every put fail. */
struct kw_idle_table *kw_idle_create(unsigned max_total, unsigned max_per_host);

/* Free the table; its fds are not closed (drain it first). */
void kw_idle_destroy(struct kw_idle_table *t);

/* Park fd. To respect the caps one older entry may be pushed out: it is stored
 * in *evicted and 1 is returned (the oldest of the same key when that key is
 * full, else the least recently parked overall). Returns 0 when
 * nothing was pushed out, -1 when the table cannot hold any entry. */
int kw_idle_put(struct kw_idle_table *t, int fd, const struct kw_idle_meta *m,
                struct kw_idle_entry *evicted);

/* Take the most recently parked entry for k that has not expired at now_ms.
 * Expired entries of k met on the way are removed into expired[] (at most
 * max_expired, count in *n_expired). Returns 1 with *found filled, or 0. */
int kw_idle_take(struct kw_idle_table *t, const struct kw_key *k, uint64_t now_ms,
                 struct kw_idle_entry *found, struct kw_idle_entry *expired,
                 unsigned max_expired, unsigned *n_expired);

/* Remove up to max entries that expired at now_ms, oldest parked first, into
 * out[]; stops at the first unexpired one from the old end. Returns the count. */
unsigned kw_idle_expire(struct kw_idle_table *t, uint64_t now_ms,
                        struct kw_idle_entry *out, unsigned max);

/* Remove the least recently parked entry into *out. Returns 1, or 0 if empty. */
int kw_idle_pop_oldest(struct kw_idle_table *t, struct kw_idle_entry *out);

/* The entry parked on old_fd now lives on new_fd. Returns true if found. */
bool kw_idle_renumber(struct kw_idle_table *t, int old_fd, int new_fd);

/* Remove the entry parked on fd into *out (its server closed it while it
 * waited). Returns true if found. */
bool kw_idle_remove_fd(struct kw_idle_table *t, int fd, struct kw_idle_entry *out);

/* Entries parked at or before before_ms whose probes are not on yet, oldest
 * first: each is marked probing, bits are added to its touched options, and
 * up to max of their fds go to out[]; an entry that may stay no longer than
 * longer_than_ms (expires_ms - parked_ms) is marked but left out, since no
 * probe could go out before it expires. Returns the count; O(1) when none
 * is due (entries are marked in park order, so the unmarked ones are the
 * newest). */
unsigned kw_idle_probe_due(struct kw_idle_table *t, uint64_t before_ms, uint64_t longer_than_ms,
                           uint32_t bits, int *out, unsigned max);

/* Entries in the table, in total and for one key. */
unsigned kw_idle_count(const struct kw_idle_table *t);
unsigned kw_idle_count_key(const struct kw_idle_table *t, const struct kw_key *k);

#endif
