/* confirm: step 4 of hunt.h, each candidate set tested on fresh runs. */
#ifndef HUNT_CONFIRM_H
#define HUNT_CONFIRM_H

struct hunt;

#include "rank.h"

/* Step 4 on the ranked screening rows: singles in rank order (a weak one
 * then looks for a partner), the pair stage, a growing union, then the
 * narrowing of a function culprit to one site; the results go into h->conf,
 * h->culprit, h->superseded and h->exact_site. */
void confirmation(struct hunt *h, struct row *funcs, int nfuncs, struct row *sites, int nsites);

#endif
