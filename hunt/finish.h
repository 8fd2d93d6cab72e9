/* finish: the endings that are not a verdict.  Each writes hunt.txt and
 * hunt.json once the results folder exists (the tables of the finished
 * runs, no culprit, no plan), prints one line on stderr and ends hunt. */
#ifndef HUNT_FINISH_H
#define HUNT_FINISH_H

struct hunt;

/* Write the report of what is known so far, marked with h->abort_verdict,
 * and end: exit RC, or, after a signal (h->stop_sig), die of it. */
void finish_early(struct hunt *h, int rc) __attribute__((noreturn));
/* A harness error (125): stress or inject failing, a file not written. */
void harness_fail(struct hunt *h, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* A usage error (64) found by stress in the arguments hunt passed it. */
void usage_fail(struct hunt *h, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

#endif
