/* kwstat_reader.h - what kwstat_input.c (stats files, and files in
 * general) and kwstat_trace.c (trace logs) share while reading a file. */
#ifndef KWSTAT_READER_H
#define KWSTAT_READER_H

#include "kwstat.h"

#include <stdarg.h>
#include <string.h>

/* One file being read into a set. */
struct reader {
	const char     *path;       /* as messages name it */
	unsigned long   line;       /* the line being read, from 1 */
	bool            pending;    /* the line in the buffer is still to be read */
	struct kws_set *set;
	size_t          file;       /* number of this stats file in the set */
	size_t          first_proc; /* its first process in set->procs */
};

/* The next line of f in *buf (getline's buf and cap), without its newline,
 * counted in r->line; the line the file was told by comes first again, so a
 * file is read once from start to end (standard input cannot be rewound).
 * Returns false at the end of f or on a read error (see ferror). */
bool next_line(struct reader *r, FILE *f, char **buf, size_t *cap);

/* Read the rest of the trace log f into r->set, by next_line; lines that
 * do not start with "ts=" are skipped and noted (kws_note_skipped).
 * Returns 0, or -1 after printing "keepwarm-stat: FILE:LINE: message". */
int read_trace(struct reader *r, FILE *f, char **buf, size_t *cap);

/* Print "keepwarm-stat: FILE:LINE: message" on stderr; returns -1. */
static inline int bad(const struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline int bad(const struct reader *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "keepwarm-stat: %s:%lu: ", r->path, r->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Whether s is only spaces and tabs. */
static inline bool blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* Whether s is one or more decimal digits and nothing else. */
static inline bool all_digits(const char *s)
{
	return *s && s[strspn(s, "0123456789")] == '\0';
}

#endif
