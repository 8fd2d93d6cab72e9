/* hooks.h: what hooks.c offers the other entry points of the shim (tsan.c,
 * the __tsan_* functions of instrumented programs): the same seed, enabled
 * points and path to a delay as its own hooks. */
#ifndef INJECT_HOOKS_H
#define INJECT_HOOKS_H

#include <stdint.h>

#include "shim.h"
#include "state.h"

/* The enabled points (bit set of enum inject_point), or -1 while the
 * constructor has not yet read the configuration. */
int inj_points_now(void) HIDDEN;
/* The seed decisions use (re-derived in a forked child). */
uint64_t inj_seed_now(void) HIDDEN;
/* Give t a lineage if it has none (a thread we did not see created). */
void inj_known_lineage(struct tstate *t) HIDDEN;
/* A visit to point pt from the call whose return address is ra: name the
 * site, count the visit, decide, maybe wait; errno kept. */
void inj_point_visit(struct tstate *t, int pt, uintptr_t ra) HIDDEN;

#endif
