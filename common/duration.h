/* duration: the one grammar for every duration a binary of ours reads
 * (stress's --time, --timeout, --grace, --status and campaign keys, hunt's
 * flags, gosched's --period and --skew, the durations in INJECT_DELAY and
 * the inject launcher's --delay).  docs/interfaces.md ("Durations") is the
 * user's description; this is the same grammar as code:
 *
 *   duration = [sign] ( "0" | term { term } )       sign = "+" | "-"
 *   term     = number unit
 *   number   = ( digits [ "." [ digits ] ] | "." digits ) [ exponent ]
 *   exponent = ( "e" | "E" ) [ sign ] digits
 *   unit     = "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h"
 *
 * That is Go's time.ParseDuration ("1h30m", "1.5s", "200us", "-50us", "0")
 * plus two rules of ours: a number may carry a decimal exponent ("2e3ns",
 * which the INJECT_* values have always taken), and a number may not start
 * with a zero followed by another digit ("010ms": octal to some readers).
 * A bare number other than 0 has no unit and is refused: "10" would be
 * seconds to one reader and microseconds to another.  No blanks, no hex,
 * no inf or nan.
 *
 * The value is exact: each term is its number times its unit in whole
 * nanoseconds, a fraction of a nanosecond dropped (as Go does), and the
 * terms are summed; a value beyond int64_t nanoseconds (about 292 years) is
 * refused, never wrapped or rounded to infinity.  Which values make sense
 * (a timeout above 0, a delay at most an hour, a skew that may be negative)
 * is each caller's range to apply.
 *
 * Pure: no allocation, no stdio, no locale, no errno, no global state, so
 * the shim may call it from its constructor (libinject.so links it PIC) and
 * a signal handler could. */
#ifndef COMMON_DURATION_H
#define COMMON_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define DURATION_US INT64_C(1000)
#define DURATION_MS INT64_C(1000000)
#define DURATION_S INT64_C(1000000000)
#define DURATION_MIN (60 * DURATION_S)
#define DURATION_HOUR (3600 * DURATION_S)

enum {
	DURATION_OK = 0,
	DURATION_SYNTAX = -1,   /* not the grammar above */
	DURATION_OVERFLOW = -2, /* the grammar, but beyond int64_t nanoseconds */
};

/* The LEN bytes at S (no NUL needed) as nanoseconds.  Returns DURATION_OK
 * and sets *ns, or DURATION_SYNTAX / DURATION_OVERFLOW and leaves *ns. */
int duration_parse_n(const char *s, size_t len, int64_t *ns);

/* The same for a NUL-terminated S. */
int duration_parse(const char *s, int64_t *ns);

/* S in seconds, when it parses and lies in [min_ns, max_ns]; 0, or -1
 * (*sec untouched).  For the tools that keep their times as doubles. */
int duration_seconds(const char *s, int64_t min_ns, int64_t max_ns, double *sec);

#endif
