/* report: the ranked table, the verdict and the plan, in the results folder
 * (hunt.txt, hunt.json, failure-rate.svg, plan.sh; each written whole or
 * not at all) and on stdout.  Returns hunt's exit status: 0 culprit named,
 * 1 none, 125 when a result file could not be written (report_write_error
 * says which and why; the caller prints it).
 *
 * With ABORT_RC non-zero, h->abort_verdict ("harness error", "usage error",
 * "interrupted") and h->abort_reason are the verdict: the tables show what
 * the finished runs say, no culprit or plan is named, and only an
 * interrupted report is printed (an error's one line is the caller's). */
#ifndef HUNT_REPORT_H
#define HUNT_REPORT_H

struct hunt;

#include "rank.h"

int report(const struct hunt *h, struct row *funcs, int nf, struct row *sites, int ns,
	   int abort_rc);
const char *report_write_error(void);

#endif
