/* state.c - the process-wide settings and clocks. */
#include "service/state.h"

#include <pthread.h>

#include <time.h>

struct kw_config kw_cfg;
enum kw_mode kw_mode = KW_MODE_OFF;
__thread int kw_depth __attribute__((tls_model("initial-exec")));
static __thread int nocancel_depth __attribute__((tls_model("initial-exec")));
static __thread int nocancel_saved __attribute__((tls_model("initial-exec")));

void kw_nocancel_enter(void)
{
	int old;

	if (nocancel_depth++ == 0 && pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old) == 0)
		nocancel_saved = old;
}

void kw_nocancel_leave(void)
{
	if (--nocancel_depth == 0)
		pthread_setcancelstate(nocancel_saved, NULL);
}

uint64_t kw_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t kw_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
