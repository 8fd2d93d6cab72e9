/* report: the ranked table, the verdict and the plan, on stdout and in the
 * results folder (hunt.txt, hunt.json, failure-rate.svg, plan.sh; each written
 * whole or not at all).  Returns hunt's exit status: 0 culprit named, 1 none,
 * 125 when a result file could not be written (the reason on stderr). */
#ifndef HUNT_REPORT_H
#define HUNT_REPORT_H

#include "rank.h"

int report(struct row *funcs, int nf, struct row *sites, int ns);

#endif
