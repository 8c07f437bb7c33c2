/* safefile.c - the trace and the stats file, safe in shared directories. */
#include "service/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "service/real.h"

/* One line: the setting, the path, why, and the system's word for it when
 * err is not 0. */
static void say(const char *setting, const char *path, const char *why, int err)
{
	char line[512], buf[128];
	const char *sys = err ? strerror_r(err, buf, sizeof buf) : NULL;
	int n = snprintf(line, sizeof line, "keepwarm: %s=%s %s%s%s; not written\n", setting, path,
	                 why, sys ? ": " : "", sys ? sys : "");

	if (n > 0)
		kw_real.write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Why st (of path, lstat'ed or fstat'ed) is refused, NULL when it is not. */
static const char *refusal(const struct stat *st)
{
	if (S_ISLNK(st->st_mode))
		return "is a symbolic link";
	if (st->st_uid != geteuid())
		return "is a file another user owns";
	return NULL;
}

int kw_safefile_append(const char *path, const char *setting)
{
	struct stat st;
	const char *why;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0) {
		if (errno == ELOOP)
			say(setting, path, "is a symbolic link", 0);
		else
			say(setting, path, "cannot be opened", errno);
		return -1;
	}
	/* Judged on what was opened, so nothing can be swapped in between. */
	why = kw_real.fstat(fd, &st) < 0 ? "cannot be examined" : refusal(&st);
	if (why) {
		kw_real.close(fd);
		say(setting, path, why, 0);
		return -1;
	}
	return fd;
}

bool kw_safefile_replace(const char *path, const char *setting, const void *buf, size_t len,
                         mode_t mask, bool *warned)
{
	char tmp[4200];
	const char *slash = strrchr(path, '/'), *why;
	struct stat st;
	size_t done = 0;
	int fd, n, err = 0;

	if (lstat(path, &st) == 0 && (why = refusal(&st))) {
		if (!*warned)
			say(setting, path, why, 0);
		*warned = true;
		return false;
	}
	/* A fresh name in the target's directory (a rename stays on one file
	 * system), created exclusively: nobody can plant it beforehand. */
	if (slash)
		n = snprintf(tmp, sizeof tmp, "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1);
	else
		n = snprintf(tmp, sizeof tmp, ".%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		if (!*warned)
			say(setting, path, "is too long", 0);
		*warned = true;
		return false;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		/* Most often a directory that does not exist (yet). */
		if (!*warned)
			say(setting, path, "cannot be created", errno);
		*warned = true;
		return false;
	}
	fchmod(fd, 0666 & ~mask);
	while (done < len) {
		ssize_t w = kw_real.write(fd, (const char *)buf + done, len - done);
		if (w <= 0) {
			err = w < 0 ? errno : ENOSPC;
			break;
		}
		done += (size_t)w;
	}
	kw_real.close(fd);
	if (done == len && rename(tmp, path) == 0)
		return true;
	if (done == len)
		err = errno;
	unlink(tmp);
	if (!*warned)
		say(setting, path, "cannot be written", err);
	*warned = true;
	return false;
}
