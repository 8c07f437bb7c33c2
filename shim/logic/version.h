/* version.h - keepwarm's version. The one place it is written is the first
 * line of debian/changelog (the Debian package's version): the Makefile
 * passes it as -DKW_VERSION to every compile, and the tests hold --version,
 * the man page and the stats files' version label to it. */
#ifndef KW_VERSION_H
#define KW_VERSION_H

#ifndef KW_VERSION
#define KW_VERSION "unknown" /* compiled outside the Makefile (static analysis) */
#endif

#endif
