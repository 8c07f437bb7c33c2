/* real.c - resolve the interposed functions' next definitions, once. */
#include "service/real.h"

#include <dlfcn.h>
#include <sched.h>
#include <stdatomic.h>

struct kw_real_table kw_real;

enum { UNRESOLVED, RESOLVING, RESOLVED = KW_REAL_RESOLVED };
_Atomic int kw_real_state = UNRESOLVED;
#define state kw_real_state
static __thread int resolving_here __attribute__((tls_model("initial-exec")));

int kw_real_resolve(void)
{
	int expected = UNRESOLVED;

	if (kw_real_ready())
		return 0;
	if (resolving_here)
		return -1; /* dlsym re-entered us: the caller fails this one call */
	if (!atomic_compare_exchange_strong(&state, &expected, RESOLVING)) {
		/* Another thread is resolving: dlsym is quick, wait for it. */
		while (!kw_real_ready())
			sched_yield();
		return 0;
	}
	resolving_here = 1;
#define KW_REAL_LOOKUP(name, ret, args) kw_real.name = (ret(*) args)dlsym(RTLD_NEXT, #name);
	KW_REAL_FUNCTIONS(KW_REAL_LOOKUP)
#undef KW_REAL_LOOKUP
	resolving_here = 0;
	atomic_store_explicit(&state, RESOLVED, memory_order_release);
	return 0;
}
