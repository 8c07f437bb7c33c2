/* patience.h - how long each server lets an idle connection live, as seen:
 * a parked connection found closed by its server after idle_ms tells that
 * the server's idle timeout is shorter than ours. Connections to it are then
 * not parked for longer (park.c). */
#ifndef KW_PATIENCE_H
#define KW_PATIENCE_H

#include <stdint.h>

#include "logic/dest.h"

/* d's server closed a connection idle for idle_ms: remember the shortest such
 * time (trace: learn). */
void kw_patience_learn(const struct kw_dest *d, uint64_t idle_ms);

/* The shortest idle time after which d's server was seen to close, 0 if
 * never seen. Lock-free while nothing has been learned. */
uint64_t kw_patience_of(const struct kw_dest *d);

#endif
