/* trace.c - logfmt decision lines, written with one write() each. */
#include "logic/trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static _Atomic int trace_fd = -1;
static kw_write_fn trace_write;

static size_t append(char *buf, size_t size, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (len >= size)
		return len;
	va_start(ap, fmt);
	n = vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return len;
	return len + (size_t)n < size ? len + (size_t)n : size - 1;
}

size_t kw_trace_format(char *buf, size_t size, uint64_t wall_ms, pid_t pid,
                       const struct kw_trace_event *ev)
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	char dest[64];
	size_t len = 0;

	if (!size)
		return 0;
	buf[0] = '\0';
	gmtime_r(&secs, &tm);
	len = append(buf, size, len, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03uZ pid=%d event=%s",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	             tm.tm_sec, (unsigned)(wall_ms % 1000), (int)pid, ev->event ? ev->event : "?");
	if (ev->fd >= 0)
		len = append(buf, size, len, " fd=%d", ev->fd);
	if (ev->dest) {
		kw_dest_format(ev->dest, dest, sizeof dest);
		len = append(buf, size, len, " dest=%s%s", dest, ev->dest->tls ? " tls=1" : "");
	}
	if (ev->reason)
		len = append(buf, size, len, " reason=%s", ev->reason);
	if (ev->arm)
		len = append(buf, size, len, " arm=%s", ev->arm);
	if (ev->version)
		len = append(buf, size, len, " version=%s", ev->version);
	if (ev->build_id)
		len = append(buf, size, len, " build_id=%s", ev->build_id);
	if (ev->idle_ms >= 0)
		len = append(buf, size, len, " idle_ms=%lld", (long long)ev->idle_ms);
	if (ev->requests >= 0)
		len = append(buf, size, len, " requests=%lld", (long long)ev->requests);
	if (ev->latency)
		len = append(buf, size, len, " ms=%llu.%03llu request_ms=%llu.%03llu",
		             (unsigned long long)(ev->wait_us / 1000),
		             (unsigned long long)(ev->wait_us % 1000),
		             (unsigned long long)(ev->request_us / 1000),
		             (unsigned long long)(ev->request_us % 1000));
	if (ev->object) {
		len = append(buf, size, len, " object=");
		for (const char *c = ev->object; *c && len < size - 1; c++)
			len = *c == ' ' ? append(buf, size, len, "%%20")
			                : append(buf, size, len, "%c", *c);
	}
	if (ev->redirected > 0)
		len = append(buf, size, len, " redirected=%lld", (long long)ev->redirected);
	if (ev->library)
		len = append(buf, size, len, " library=%s", ev->library);
	if (size < 2) {
		buf[0] = '\0';
		return 0;
	}
	if (len > size - 2)
		len = size - 2;
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}

void kw_trace_set_sink(int fd, kw_write_fn write_fn)
{
	trace_write = write_fn;
	atomic_store(&trace_fd, fd);
}

int kw_trace_fd(void)
{
	return atomic_load_explicit(&trace_fd, memory_order_relaxed);
}

void kw_trace_emit(const struct kw_trace_event *ev)
{
	int fd = kw_trace_fd();
	char line[KW_TRACE_LINE_MAX];
	struct timespec now;
	size_t len;
	int saved = errno;

	if (fd < 0 || !trace_write)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	len = kw_trace_format(line, sizeof line,
	                      (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000,
	                      getpid(), ev);
	(void)trace_write(fd, line, len);
	errno = saved;
}
