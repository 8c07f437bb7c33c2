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
	return a->transport == b->transport && a->opts == b->opts &&
	       kw_dest_equal(&a->dest, &b->dest);
}

uint32_t kw_key_hash(const struct kw_key *k)
{
	/* The destination's hash, with the transport kind and options mixed in
	 * (FNV-1a steps). */
	return ((kw_dest_hash(&k->dest) ^ k->transport) * 16777619u ^ k->opts) * 16777619u;
}
