/* state.c - the process-wide settings and clocks. */
#include "service/state.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/real.h"

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

bool kw_seccomp_filtered(void)
{
	static atomic_int known = -1; /* the same in a child: filters are inherited */
	char buf[4096], *p;
	ssize_t n;
	int fd, v = atomic_load_explicit(&known, memory_order_relaxed);

	if (v >= 0)
		return v;
	v = 1;
	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) >= 0) {
		n = kw_real.read(fd, buf, sizeof buf - 1);
		kw_real.close(fd);
		if (n > 0) {
			buf[n] = '\0';
			p = strstr(buf, "\nSeccomp:");
			v = p && strtol(p + 9, NULL, 10) != 0;
		}
	}
	atomic_store_explicit(&known, v, memory_order_relaxed);
	return v;
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
