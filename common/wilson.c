/* wilson: the 95% Wilson score interval (see wilson.h). */
#include "wilson.h"

#include <math.h>

void wilson(long long k, long long n, double *lo, double *hi)
{
	if (n <= 0) {
		*lo = 0;
		*hi = 1;
		return;
	}
	const double z = 1.959963984540054;
	double p = (double)k / (double)n, nn = (double)n;
	double den = 1 + z * z / nn;
	double c = (p + z * z / (2 * nn)) / den;
	double h = z / den * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn));
	*lo = fmax(0, c - h);
	*hi = fmin(1, c + h);
	if (k == 0)
		*lo = 0;
	if (k == n)
		*hi = 1;
}
