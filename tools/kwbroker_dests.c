/* kwbroker_dests.c - learned patience and warm targets (see
 * kwbroker_dests.h). */
#include "kwbroker_dests.h"

#include <string.h>

#define PATIENCE_MAX 256
#define RETRY_MIN_MS 1000u
#define RETRY_MAX_MS 60000u

/* What each server was seen to tolerate (in-process: primitive/patience.c). */
static struct {
	struct kw_dest dest;
	uint64_t netns, ms;
} patience[PATIENCE_MAX];
static unsigned npatience, patience_next;

static struct kwb_warm warm[KWB_WARM_MAX];
static bool warm_used[KWB_WARM_MAX];

uint64_t kwb_patience_of(const struct kw_key *k)
{
	for (unsigned i = 0; i < npatience; i++)
		if (patience[i].netns == k->netns && kw_dest_equal(&patience[i].dest, &k->dest))
			return patience[i].ms;
	return 0;
}

void kwb_patience_learn(const struct kw_key *k, uint64_t idle)
{
	unsigned i;

	for (i = 0; i < npatience; i++)
		if (patience[i].netns == k->netns && kw_dest_equal(&patience[i].dest, &k->dest))
			break;
	if (i == npatience) {
		i = npatience < PATIENCE_MAX ? npatience++ : patience_next++ % PATIENCE_MAX;
		patience[i].dest = k->dest;
		patience[i].netns = k->netns;
		patience[i].ms = idle;
	} else if (idle < patience[i].ms) {
		patience[i].ms = idle;
	}
}

static struct kwb_warm *find(const struct kw_key *key)
{
	for (unsigned i = 0; i < KWB_WARM_MAX; i++)
		if (warm_used[i] && kw_key_equal(&warm[i].key, key))
			return &warm[i];
	return NULL;
}

struct kwb_warm *kwb_warm_note(const struct kw_key *key, uint64_t mine_netns,
                               uint64_t mine_cgroup, uint64_t now)
{
	struct kwb_warm *t;
	int slot = -1;

	if (key->netns != mine_netns || key->cgroup != mine_cgroup || key->opts ||
	    key->transport != KW_TRANSPORT_PLAIN || key->dest.tls || kwb_patience_of(key))
		return NULL;
	if ((t = find(key))) {
		if (t->off)
			return NULL;
		t->used_ms = now;
		return t;
	}
	/* A free entry, else the least recently used one not dialling (a dial
	 * under way points at its target). */
	for (int i = 0; i < KWB_WARM_MAX; i++) {
		if (!warm_used[i]) {
			slot = i;
			break;
		}
		if (!warm[i].dialing && (slot < 0 || warm[i].used_ms < warm[slot].used_ms))
			slot = i;
	}
	if (slot < 0)
		return NULL;
	memset(&warm[slot], 0, sizeof warm[slot]);
	warm[slot].key = *key;
	warm[slot].used_ms = now;
	warm_used[slot] = true;
	return &warm[slot];
}

unsigned kwb_warm_wanted(const struct kwb_warm *t, unsigned held, unsigned want,
                         uint64_t idle_ms, uint64_t now)
{
	if (!t || t->off || now < t->retry_ms || (idle_ms && now - t->used_ms > idle_ms))
		return 0;
	return held + t->dialing >= want ? 0 : want - held - t->dialing;
}

void kwb_warm_dialled(struct kwb_warm *t, bool ok, uint64_t now)
{
	uint64_t wait;

	if (t->dialing)
		t->dialing--;
	if (ok) {
		t->failures = 0;
		return;
	}
	wait = (uint64_t)RETRY_MIN_MS << (t->failures < 6 ? t->failures : 6);
	t->retry_ms = now + (wait < RETRY_MAX_MS ? wait : RETRY_MAX_MS);
	t->failures++;
}

void kwb_warm_spoiled(const struct kw_key *key)
{
	struct kwb_warm *t = find(key);

	if (t)
		t->off = true;
}

struct kwb_warm *kwb_warm_at(unsigned i)
{
	return i < KWB_WARM_MAX && warm_used[i] ? &warm[i] : NULL;
}
