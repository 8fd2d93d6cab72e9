/* plan.c: the plan families and the portfolio's draw (see plan.h).
 *
 * The scales come from issue 13's experience with programs written
 * elsewhere: the documented blind plan (release-mid) exposed a minority of
 * their bugs; every point (all-points), skew at thread start (start-skew)
 * and short delays at every release (release-short) each exposed others.
 * Long delays (release-long) widen windows that span a sleep or a system
 * call.  one-cpu puts every thread of the program on one CPU, so that a
 * thread held back at a point hands the CPU to the others instead of the
 * others running beside it.  access-noise delays at the plain memory
 * accesses and atomics of a program built with -fsanitize=thread; it is
 * drawn only by a build whose shim has those points.  Its values were
 * measured on the corpus's plain-store classes (bench/README.md): reach
 * follows the density of delays, and small programs (tens of accesses a
 * run) want every access a visit, so the sample is drawn per run, 1 to
 * 1024, and half the visits are delayed; the bound of 200 delays keeps a
 * program with millions of accesses from sleeping for hours at sample 1. */
#include "plan.h"

#include "policy.h"

#define LOCK_POINTS INJECT_LOCK_POINTS
/* The access-level points of -fsanitize=thread builds (preload/tsan.c). */
#define ACCESS_POINTS "access,atomic"

const struct inject_family inject_families[] = {
	{ "release-short", "mutex_unlock", "0.2", "loguniform:1us:100us", "sleep", 0,
	  "20% of unlocks, 1us-100us", 0, NULL },
	{ "release-mid", "mutex_unlock", "0.2", "loguniform:20us:4ms", "sleep", 0,
	  "20% of unlocks, 20us-4ms (the old blind plan)", 0, NULL },
	{ "release-long", "mutex_unlock", "0.05", "loguniform:1ms:30ms", "sleep", 0,
	  "5% of unlocks, 1ms-30ms", 0, NULL },
	{ "all-points", LOCK_POINTS, "0.2", "loguniform:20us:4ms", "sleep", 0,
	  "20% of every lock-level point, 20us-4ms", 0, NULL },
	{ "start-skew", "thread_start", "1", "uniform:0:5ms", "sleep", 0,
	  "every new thread starts 0-5ms late", 0, NULL },
	{ "one-cpu", LOCK_POINTS, "0.1", "loguniform:10us:2ms", "sleep", 1,
	  "all threads on one CPU; 10% of every\n"
	  "lock-level point, 10us-2ms", 0, NULL },
	{ "access-noise", ACCESS_POINTS, "0.5", "loguniform:20us:4ms", "sleep", 0,
	  "one access or atomic in 1-1024 (per\n"
	  "run) a visit, 50% of visits 20us-4ms,\n"
	  "at most 200 delays (-fsanitize=thread)", 1024, "200" },
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL },
};
_Static_assert(sizeof inject_families / sizeof inject_families[0] <= INJ_MAXFAM + 1,
	       "a set of families is a bit set of INJ_MAXFAM bits (plan.h)");

unsigned inject_family_pick(uint64_t seed, unsigned n)
{
	/* Salted so that the family is independent of the per-visit
	 * decisions, which hash the same seed. */
	return n ? (unsigned)(inject_mix64(seed ^ 0x5851f42d4c957f2dULL) % n) : 0;
}

uint64_t inject_family_sample(uint64_t seed, const struct inject_family *f)
{
	if (!f->sample_max)
		return 0;
	unsigned k = 0;
	while (k < 30 && (2ULL << k) <= f->sample_max)
		k++;                    /* k = floor(log2(sample_max)) */
	return 1ULL << (inject_mix64(seed ^ 0x2545f4914f6cdd1dULL) % (k + 1));
}

unsigned inject_family_cpu(uint64_t seed, unsigned n)
{
	return n ? (unsigned)(inject_mix64(seed ^ 0x14057b7ef767814fULL) % n) : 0;
}
