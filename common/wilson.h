/* wilson: the 95% Wilson score interval, the one interval every rate we
 * print carries (stress's verdicts and summary.json, hunt's tables). */
#ifndef COMMON_WILSON_H
#define COMMON_WILSON_H

/* The 95% Wilson score interval [*lo, *hi] for K successes in N trials
 * (z = 1.96); [0, 1] when N is 0.  The bound at an end is exact: 0 when K
 * is 0, 1 when K is N. */
void wilson(long long k, long long n, double *lo, double *hi);

#endif
