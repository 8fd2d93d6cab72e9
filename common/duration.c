/* duration: the one duration grammar (see duration.h).
 *
 * A term's number is read as its digit string, a decimal point position and
 * an exponent; the value in nanoseconds is then computed from the digits
 * with integer arithmetic only.  The digits left of the (exponent-shifted)
 * point give whole units, multiplied out with an overflow check; those right
 * of it give a fraction of a unit, and floor(fraction x unit) is the carry
 * out of the long multiplication of those digits by the unit, done from the
 * last digit to the first.  The carry stays below the unit (at most an
 * hour's 3.6e12 ns), so every step fits in 64 bits however many digits the
 * number has; strtod would round, and accept hex, inf and nan besides. */
#include "duration.h"

#include <stdbool.h>
#include <string.h>

static const struct unit {
	const char *name;
	size_t len;
	uint64_t ns;
} units[] = {
	{"ns", 2, 1},
	{"us", 2, DURATION_US},
	{"\xc2\xb5s", 3, DURATION_US},  /* U+00B5 MICRO SIGN, as Go takes it */
	{"\xce\xbcs", 3, DURATION_US},  /* U+03BC GREEK SMALL LETTER MU, likewise */
	{"ms", 2, DURATION_MS},
	{"s", 1, DURATION_S},
	{"m", 1, DURATION_MIN},
	{"h", 1, DURATION_HOUR},
};

/* An exponent beyond this is clamped: the value has overflowed (or become
 * less than a nanosecond) long before. */
#define EXP_CLAMP 1000000

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* One term, number then unit, starting at *pp (before end).  Adds its
 * nanoseconds to *sum, which may not pass max.  Advances *pp. */
static int term(const char **pp, const char *end, uint64_t max, uint64_t *sum)
{
	const char *p = *pp;
	const char *ip = p;
	while (p < end && digit(*p))
		p++;
	size_t nint = (size_t)(p - ip);
	if (nint > 1 && ip[0] == '0')
		return DURATION_SYNTAX;         /* "010ms" */
	const char *fp = p;
	size_t nfrac = 0;
	if (p < end && *p == '.') {
		fp = ++p;
		while (p < end && digit(*p))
			p++;
		nfrac = (size_t)(p - fp);
	}
	if (nint + nfrac == 0)
		return DURATION_SYNTAX;         /* ".", "ms", "-" */
	long long exp = 0;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		bool eneg = false;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == end || !digit(*p))
			return DURATION_SYNTAX;
		while (p < end && digit(*p)) {
			if (exp < EXP_CLAMP)
				exp = exp * 10 + (*p - '0');
			p++;
		}
		if (eneg)
			exp = -exp;
	}
	const char *up = p;
	while (p < end && !digit(*p) && *p != '.')
		p++;
	const struct unit *u = NULL;
	for (size_t k = 0; k < sizeof units / sizeof units[0] && !u; k++)
		if (units[k].len == (size_t)(p - up) && !memcmp(up, units[k].name, units[k].len))
			u = &units[k];
	if (!u)
		return DURATION_SYNTAX;         /* no unit, or one we do not know */

	/* The digits are ip[0..nint) then fp[0..nfrac); the point sits after
	 * the first q of them (q may be negative or beyond the last). */
	size_t n = nint + nfrac;
	long long q = (long long)nint + exp;
#define DIGIT(i) ((uint64_t)((i) < nint ? ip[(i)] : fp[(i) - nint]) - '0')
	uint64_t whole = 0, lim = max / u->ns;
	/* Checked before each step: whole * 10 could pass 2^64 and wrap. */
	for (size_t i = 0; (long long)i < q && i < n; i++) {
		if (whole > (lim - DIGIT(i)) / 10)
			return DURATION_OVERFLOW;
		whole = whole * 10 + DIGIT(i);
	}
	for (long long k = (long long)n; k < q && whole; k++) {
		if (whole > lim / 10)
			return DURATION_OVERFLOW;
		whole *= 10;
	}
	uint64_t carry = 0;
	for (size_t i = n; i > 0 && (long long)(i - 1) >= q; i--)
		carry = (DIGIT(i - 1) * u->ns + carry) / 10;
	for (long long k = q; k < 0 && carry; k++)
		carry /= 10;
#undef DIGIT
	if (whole > (max - carry) / u->ns)
		return DURATION_OVERFLOW;
	uint64_t v = whole * u->ns + carry;
	if (v > max - *sum)
		return DURATION_OVERFLOW;
	*sum += v;
	*pp = p;
	return DURATION_OK;
}

int duration_parse_n(const char *s, size_t len, int64_t *ns)
{
	const char *p = s, *end = s + len;
	bool neg = false;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (end - p == 1 && *p == '0') {
		*ns = 0;
		return DURATION_OK;
	}
	if (p == end)
		return DURATION_SYNTAX;
	/* -2^63 ns is a value; +2^63 ns is not. */
	uint64_t max = neg ? UINT64_C(1) << 63 : (UINT64_C(1) << 63) - 1, sum = 0;
	while (p < end) {
		int rc = term(&p, end, max, &sum);
		if (rc != DURATION_OK)
			return rc;
	}
	if (!neg)
		*ns = (int64_t)sum;
	else if (sum == UINT64_C(1) << 63)
		*ns = INT64_MIN;
	else
		*ns = -(int64_t)sum;
	return DURATION_OK;
}

int duration_parse(const char *s, int64_t *ns)
{
	return duration_parse_n(s, strlen(s), ns);
}

int duration_seconds(const char *s, int64_t min_ns, int64_t max_ns, double *sec)
{
	int64_t ns;
	if (duration_parse(s, &ns) != DURATION_OK || ns < min_ns || ns > max_ns)
		return -1;
	/* Whole seconds and the rest apart, so that "100ms" is the double
	 * nearest 0.1 and a year's worth of nanoseconds (past 2^53) still
	 * gives its whole seconds exactly. */
	*sec = (double)(ns / DURATION_S) + (double)(ns % DURATION_S) / 1e9;
	return 0;
}
