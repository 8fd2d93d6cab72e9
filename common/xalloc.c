/* xalloc: allocations that succeed or end the program (see xalloc.h). */
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 125: the harness failed, not the program under test (docs/interfaces.md). */
#define EXIT_HARNESS 125

void xalloc_die(void)
{
	fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
	exit(EXIT_HARNESS);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		xalloc_die();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		xalloc_die();
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		xalloc_die();
	return s;
}
