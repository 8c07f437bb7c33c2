/* safefile.h - the files keepwarm writes for the program (the trace, the
 * stats file), safe in shared directories: a path that is a symbolic link
 * or a file another user owns is refused, the trace is opened without
 * following a link, and the stats file is replaced through a temporary file
 * with an unpredictable name, created exclusively. */
#ifndef KW_SAFEFILE_H
#define KW_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Open path for appending (created 0644 less the umask when missing).
 * Returns the descriptor, or -1 after one line on stderr naming setting and
 * path and why (a symbolic link, another user's file, an error). */
int kw_safefile_append(const char *path, const char *setting);

/* Put len bytes of buf at path in one rename, with the file mode
 * 0666 & ~mask. Returns false when the path is refused (a symbolic link or
 * another user's file) or cannot be written (a missing directory, a full
 * disk): one line on stderr naming setting, path and the system error the
 * first time, then *warned is set and later failures are quiet. */
bool kw_safefile_replace(const char *path, const char *setting, const void *buf, size_t len,
                         mode_t mask, bool *warned);

#endif
