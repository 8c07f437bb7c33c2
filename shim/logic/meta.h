/* meta.h - what a connection carries with it while it is parked.
 *
 * Plain data: no pointers, no descriptors, fixed-size fields, so it can be
 * copied into the idle table today and sent to another process (a per-user
 * broker) later. Versioned: a reader checks version and size and ignores what
 * it does not know; fields are only ever appended. Times are CLOCK_MONOTONIC
 * milliseconds, which every process of the machine shares. */
#ifndef KW_META_H
#define KW_META_H

#include <stdint.h>

#define KW_CONN_META_VERSION 1

struct kw_conn_meta {
	uint16_t version;         /* KW_CONN_META_VERSION */
	uint16_t size;            /* sizeof(struct kw_conn_meta) of the writer */
	uint32_t touched;         /* socket options the program changed (kw_copied_opt_bit) */
	uint64_t born_ms;         /* when the TCP connection was dialled */
	uint64_t max_lifetime_ms; /* KEEPWARM_MAX_LIFETIME when parked, 0 = none */
	uint32_t requests;        /* requests it has served (in a followed socket: before
	                           * the exchange its tracker follows now) */
	uint32_t max_requests;    /* KEEPWARM_MAX_REQUESTS when parked, 0 = none */
	int32_t  server_max;      /* the server's last Keep-Alive max=, -1 = none */
	uint32_t reserved;        /* zero */
	uint64_t patience_ms;     /* idle time after which its server was seen to close, 0 = unknown */
	uint64_t wire_sent;       /* bytes written on the wire since the dial (after rewriting) */
	uint64_t wire_received;   /* bytes consumed from the wire since the dial (before restoring) */
};

/* A fresh connection's metadata: dialled at now_ms, nothing sent yet. */
static inline struct kw_conn_meta kw_conn_meta_fresh(uint64_t now_ms)
{
	struct kw_conn_meta m = { .version = KW_CONN_META_VERSION,
	                          .size = sizeof(struct kw_conn_meta),
	                          .born_ms = now_ms,
	                          .server_max = -1 };
	return m;
}

#endif
