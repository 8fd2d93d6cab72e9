/* rank: how strongly a site's delays predict failure.
 *
 * For each unit (an exact site, or a function: all its sites together) the
 * runs of one phase split into those where the unit was delayed at least once
 * and those where it was not.  The row holds both failure rates with 95%
 * Wilson intervals and the one-sided Fisher exact p-value for "delayed runs
 * fail more often", Bonferroni-corrected by the number of units tested (units
 * delayed in some runs and not in others).  Rows sort by corrected p, then by
 * the difference of rates.  A unit that no passing run visited (a lock in
 * the crash path) is not tested: it follows failure rather than causing it.
 */
#ifndef HUNT_RANK_H
#define HUNT_RANK_H

#include "runs.h"

struct row {
	char *unit;		/* site or function name */
	int func;		/* 1: a function aggregate */
	long visited;		/* runs that visited it */
	long n1, a;		/* delayed runs, failures among them */
	long n0, c;		/* undelayed runs, failures among them */
	double r1, lo1, hi1, r0, lo0, hi0;
	double p, padj;
	double delay_ms;	/* mean injected delay per delayed run */
	int after_failure;	/* no passing run visited it: untested */
	char where[256];	/* file:line (the report looks it up), or "-" */
};

/* Rank every unit over runs whose phase is PHASE (-1: all).  Returns the
 * number of rows; *out is malloc'd.  *tested gets the Bonferroni m. */
int rank_rows(const struct runs *r, int phase, int by_func, struct row **out, int *tested);
void rank_free(struct row *rows, int n);
/* Count FAIL, PASS and EXCLUDED runs of PHASE. */
void rank_outcomes(const struct runs *r, int phase, long *fail, long *pass, long *excl);

struct hunt;
/* The screening's ranked rows, by function and by site (rank_free each),
 * and how many of each were tested, kept in h for the report. */
void rank_screening(struct hunt *h, struct row **funcs, int *nf, struct row **sites, int *ns);

#endif
