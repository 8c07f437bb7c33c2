/* key.c - pool keys. */
#include "logic/key.h"

#include <string.h>

void kw_key_make(struct kw_key *k, const struct kw_dest *d, enum kw_transport_kind t,
                 uint32_t opts)
{
	memset(k, 0, sizeof *k);
	k->dest = *d;
	k->transport = (uint8_t)t;
	k->opts = opts;
}

bool kw_key_equal(const struct kw_key *a, const struct kw_key *b)
{
	return a->transport == b->transport && a->opts == b->opts && a->netns == b->netns &&
	       a->cgroup == b->cgroup && kw_dest_equal(&a->dest, &b->dest);
}

uint32_t kw_key_hash(const struct kw_key *k)
{
	/* The destination's hash, with the transport kind, options, namespace
	 * and cgroup mixed in (FNV-1a steps). */
	uint32_t h = ((kw_dest_hash(&k->dest) ^ k->transport) * 16777619u ^ k->opts) * 16777619u;
	uint64_t more = k->netns ^ (k->cgroup * 0x9e3779b97f4a7c15ull);

	return ((h ^ (uint32_t)more) * 16777619u ^ (uint32_t)(more >> 32)) * 16777619u;
}
