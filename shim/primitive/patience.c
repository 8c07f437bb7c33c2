/* patience.c - learned server patience, per destination: a small table,
 * the least recently learned entry replaced when full. */
#include "primitive/patience.h"

#include <stdatomic.h>
#include <stdbool.h>

#include "service/private.h"
#include "sink/report.h"

#define LEARNED_MAX 64

static struct {
	struct kw_dest dest;
	uint64_t idle_ms;
	uint64_t stamp;
} learned[LEARNED_MAX];
static _Atomic unsigned nlearned; /* read without the lock: 0 is the common case */
static uint64_t learn_clock;

void kw_patience_learn(const struct kw_dest *d, uint64_t idle_ms)
{
	unsigned slot = 0;
	bool known = false;

	kw_private_lock();
	for (unsigned i = 0; i < nlearned; i++) {
		if (kw_dest_equal(&learned[i].dest, d)) {
			slot = i;
			known = true;
			break;
		}
		if (learned[i].stamp < learned[slot].stamp)
			slot = i;
	}
	if (!known && nlearned < LEARNED_MAX)
		slot = nlearned++;
	if (!known || idle_ms < learned[slot].idle_ms) {
		learned[slot].dest = *d;
		learned[slot].idle_ms = idle_ms;
	}
	learned[slot].stamp = ++learn_clock;
	kw_private_unlock();
	kw_report(KW_EVENT_LEARN, -1, d, KW_REASON_NONE, (int64_t)idle_ms, -1);
}

uint64_t kw_patience_of(const struct kw_dest *d)
{
	uint64_t ms = 0;

	if (!atomic_load_explicit(&nlearned, memory_order_acquire))
		return 0;
	kw_private_lock();
	for (unsigned i = 0; i < nlearned; i++)
		if (kw_dest_equal(&learned[i].dest, d))
			ms = learned[i].idle_ms;
	kw_private_unlock();
	return ms;
}
