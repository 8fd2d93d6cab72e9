/* stats: the one-sided Fisher exact test and Bonferroni's correction. */
#include "stats.h"

#include <math.h>

static double lchoose(long n, long k)
{
	return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

/* P(X = x) for X ~ Hypergeometric(N = n1 + n2, K = f, draws = n1). */
static double hyper(long x, long n1, long n2, long f)
{
	return exp(lchoose(n1, x) + lchoose(n2, f - x) - lchoose(n1 + n2, f));
}

double fisher_greater(long a, long n1, long c, long n2)
{
	long f = a + c;
	long hi = f < n1 ? f : n1;
	if (n1 <= 0 || n2 < 0 || f == 0)
		return 1.0;
	double p = 0;
	for (long x = a; x <= hi; x++)
		if (f - x <= n2)
			p += hyper(x, n1, n2, f);
	return p > 1 ? 1 : p;
}

double bonferroni(double p, long m)
{
	double q = p * (m > 1 ? m : 1);
	return q > 1 ? 1 : q;
}
