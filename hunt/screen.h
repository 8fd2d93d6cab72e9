/* screen: steps 1 and 2 of hunt.h (the baseline and the blind screening),
 * and the random site subsets that screening and the confirmation's control
 * share. */
#ifndef HUNT_SCREEN_H
#define HUNT_SCREEN_H

struct hunt;

#include <stddef.h>

#include "rank.h"

/* Step 1: the baseline campaign, the sites it lists and, with --prob auto,
 * the screening probability. */
void baseline(struct hunt *h);
/* Step 2: screening batches until the top row is significant or the
 * budget (--max-runs, the screening share of --time-limit) runs out. */
void blind(struct hunt *h);
/* --analyze: the screening runs read from --record files instead of run. */
void load_analyze(struct hunt *h);
/* A screening-like subset into BUF as a --sites list: each targetable site,
 * except those in SET (by function, or with EXACT by exact name), in with
 * chance --fraction, and one at random should none be drawn; a draw longer
 * than the shim's INJECT_SITES takes (injector/spec.h) keeps a random part
 * that fits.  Returns the number of sites listed, 0 when no site is left. */
int subset_list(struct hunt *h, char *const *set, int nset, int exact, char *buf, size_t n);
/* The screening's stop rule for a row: Bonferroni p below --alpha, at
 * least 3 failures among its delayed runs, which fail more than the
 * undelayed ones. */
int significant(struct hunt *h, const struct row *w);
/* Runs of PHASE (excluded ones too) in which at least one delay was injected. */
long delayed_runs(struct hunt *h, int phase);

#endif
