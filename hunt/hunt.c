/* hunt.c: the small services every step of a hunt uses: its clock, its
 * progress lines, its random stream, and the one line of a usage error. */
#include "hunt.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void __attribute__((noreturn, format(printf, 1, 2))) usage_exit(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hunt: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (hunt --help)\n");
	va_end(ap);
	exit(64);
}

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double elapsed(const struct hunt *h)
{
	return now_s() - h->t0;
}

uint64_t rng(struct hunt *h)
{
	/* splitmix64 */
	uint64_t z = (h->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double urand(struct hunt *h)
{
	return (rng(h) >> 11) * (1.0 / 9007199254740992.0);
}

void progress(const struct hunt *h, const char *fmt, ...)
{
	if (h->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hunt: [%5.1fs] ", elapsed(h));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
