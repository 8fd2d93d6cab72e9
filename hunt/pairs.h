/* pairs: failures that need two delays at once (issue 13, item 4).
 *
 * A race whose failure needs two threads held back together shows each of
 * its two sites only weakly: delaying one alone fails a few runs, both
 * together most of them.  In the screening runs, each site is in a batch's
 * subset independently, so for two units the runs split four ways: both
 * delayed, only one, only the other, neither.  A pair's row tests "both
 * delayed fail more than exactly one delayed" (one-sided Fisher exact test),
 * the joint effect beyond each alone, Bonferroni over every pair tested:
 * all pairs of the tested function units (PAIR_TOP at most, those with the
 * smallest screening p first).  Choosing a few units by their p and then
 * correcting only for their pairs would test what the same runs already
 * favoured: on a program with 35 decoys that proposed two decoys.
 */
#ifndef HUNT_PAIRS_H
#define HUNT_PAIRS_H

#include "rank.h"
#include "runs.h"

#define PAIR_TOP 64
/* The units the pair stage of confirmation pairs (confirm.c). */
#define PAIR_STAGE_TOP 6

struct pair {
	char *a, *b;		/* function names (strings of the rows given) */
	long n11, f11;		/* runs with both delayed, failures among them */
	long n1, f1;		/* runs with exactly one delayed */
	long n0, f0;		/* runs with neither */
	double p, padj;
};

/* Pairs of the TOP (at most PAIR_TOP) units of ROWS with the smallest p
 * (function rows of the screening; only tested units that OK accepts: those
 * a --sites list can name) over the runs of PHASE, most significant first.
 * Returns the number of pairs; *out is malloc'd (free it), its names point
 * into ROWS. */
int rank_pairs(const struct runs *r, int phase, const struct row *rows, int nrows, int top,
	       int (*ok)(const char *unit), struct pair **out);

/* The pair stage's rows (confirm.c): the pairs of its N units over the runs
 * of PHASE, most significant first; when ANCHOR (a unit in every run of the
 * stage) is given, only the anchor's pairs, their p still corrected for
 * every pair of the units.  Returns the number; *out is malloc'd. */
int stage_pairs(const struct runs *r, int phase, const struct row *units, int n,
		const char *anchor, struct pair **out);

/* The screening stop rule for a pair: Bonferroni p below ALPHA, at least 3
 * failures with both delayed, more often than with one. */
int pair_significant(const struct pair *p, double alpha);

#endif
