/* plan.h: the named plan families and the blind portfolio that draws one of
 * them per run from the run's seed.
 *
 * A family is a whole plan: which points, how likely a delay is, how long,
 * how the thread is held back, and whether the program's threads share one
 * CPU.  Blind injection (no plan variable set) draws a family from the
 * seed, so a run's family is a pure function of its seed: a kept failure's
 * seed gives the same family again on replay.  Every family can be named
 * (INJECT_PLAN=NAME, `inject --plan NAME`), and so can the draw
 * (INJECT_PLAN=portfolio), or a draw among some of the families only
 * (INJECT_PLAN=NAME,NAME,...: the same draw over the named subset).
 * Explicit INJECT_* values override the family's.
 *
 * Runs before the program does (launcher, shim constructor): no constraints
 * on the library calls made here. */
#ifndef INJECT_PLAN_H
#define INJECT_PLAN_H

#include <stdint.h>

struct inject_family {
	const char *name;
	const char *points, *prob, *delay, *action;  /* INJECT_* values */
	int pin;                /* all threads on one CPU, drawn from the seed */
	const char *what;       /* for --help: lines of at most 40 columns */
	/* Access-level families: 0 keeps the shim's sampling; else each run's
	 * INJECT_SAMPLE is 2^k with k drawn uniformly from 0..log2(sample_max)
	 * from the seed (inject_family_sample), so that runs visit programs
	 * with few accesses densely and programs with many sparsely. */
	unsigned sample_max;
	const char *max;        /* INJECT_MAX (a bound on delays), or NULL */
};

/* The families in draw order; the table ends with a NULL name.  A family
 * whose points a build lacks (the access-level points of instrumented
 * programs) is never drawn and cannot be named.  A set of families is a bit
 * set over the table's indexes, so the table holds at most INJ_MAXFAM. */
extern const struct inject_family inject_families[];
#define INJ_MAXFAM 32

/* The portfolio's pick among N available families for SEED (an index). */
unsigned inject_family_pick(uint64_t seed, unsigned n);

/* The INJECT_SAMPLE of family F for SEED (0: F keeps the shim's). */
uint64_t inject_family_sample(uint64_t seed, const struct inject_family *f);

/* The CPU a pinned family uses for SEED: an index among N allowed CPUs. */
unsigned inject_family_cpu(uint64_t seed, unsigned n);

/* Which families a build can use, the one a name or a seed gives, and
 * their list for messages, are in spec.c (they need its parser of
 * INJECT_POINTS): inject_family_available, inject_family_draw,
 * inject_family_draw_among, inject_family_list (spec.h); INJECT_PLAN's
 * parser, which reads a name or a list of them, is spec.c's parse_plan. */

#define INJECT_PLAN_PORTFOLIO "portfolio"

/* Every lock-level point by name, not "all": "all" would also take the
 * access-level points of instrumented programs, at a probability meant for
 * lock releases.  (hunt lists a program's sites at these points.) */
#define INJECT_LOCK_POINTS "mutex_unlock,mutex_lock,rwlock_unlock,spin_unlock,sem_post," \
			   "cond_signal,cond_broadcast,thread_start"

#endif
