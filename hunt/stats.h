/* stats: the tests hunt makes (its intervals are common/wilson.h's).
 *
 * fisher_greater()  one-sided Fisher exact test on a 2x2 table: the
 *   probability, under independence with all margins fixed, of seeing at
 *   least a failures among the n1 "treated" runs, given f = a + c failures
 *   in n1 + n2 runs.  Small means "treated runs fail more often".
 * bonferroni()  p corrected for m tests: p times m, at most 1.
 */
#ifndef HUNT_STATS_H
#define HUNT_STATS_H

double fisher_greater(long a, long n1, long c, long n2);
double bonferroni(double p, long m);

#endif
