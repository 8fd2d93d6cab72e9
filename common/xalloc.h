/* xalloc: allocation for the tools (stress, hunt) that cannot go on
 * without memory.  Each either returns what was asked for or prints
 * "<program>: out of memory" and exits 125 (a harness error): no caller
 * checks for NULL.  Not for the shim, which never allocates. */
#ifndef COMMON_XALLOC_H
#define COMMON_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What the above do when memory runs out; for a caller of an allocating
 * function that returns NULL (common/resultio.h's, jansson's). */
void xalloc_die(void) __attribute__((noreturn));

#endif
