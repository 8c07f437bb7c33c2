/* key.h - what a parked connection is found by: its destination, its
 * transport kind, the options that travel with it and, in the per-user
 * broker, the network namespace and cgroup it belongs to. Pure logic; the
 * idle table's key.
 *
 * Grows without touching the idle table or its callers: a new field (the
 * network namespace, TLS policy) is set where keys are made and compared in
 * kw_key_equal and kw_key_hash, nowhere else. */
#ifndef KW_KEY_H
#define KW_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logic/dest.h"

enum kw_transport_kind {
	KW_TRANSPORT_PLAIN = 0, /* plain TCP: the program's bytes are HTTP */
	KW_TRANSPORT_TLS,       /* a TLS session over TCP (not yet pooled) */
	KW_TRANSPORT_KINDS,
};

struct kw_key {
	struct kw_dest dest;
	uint8_t transport;   /* enum kw_transport_kind */
	uint8_t reserved[3]; /* zero; room for what a key gains later */
	uint32_t opts;       /* kw_conn_opts_hash: options that travel with it */
	/* Set by the broker only, from descriptors it holds (never from what a
	 * client says); 0 in a process's own pool. */
	uint64_t netns;      /* SO_NETNS_COOKIE of the connection's network namespace */
	uint64_t cgroup;     /* the sending process's cgroup (egress policy follows it) */
};

/* The key for a connection to d over transport kind t, with the options
 * that stay on it (kw_conn_opts_hash, 0 for none); netns and cgroup 0. */
void kw_key_make(struct kw_key *k, const struct kw_dest *d, enum kw_transport_kind t,
                 uint32_t opts);

bool kw_key_equal(const struct kw_key *a, const struct kw_key *b);

/* A hash spread over the whole key, for the idle table's buckets. */
uint32_t kw_key_hash(const struct kw_key *k);

#endif
