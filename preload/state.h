/* state.h: the state the files of the shim share: the configuration, the
 * process's ending flag, start time and pid, and each thread's own state.
 * hooks.c sets them up (constructor, fork) and the others read them; this
 * file and state.c use nothing of the shim's but shim.h's definitions.
 *
 * Who writes what: inj_cfg, inj_t0 and inj_pid are written by the
 * constructor before any hook is enabled, and again in a forked child (one
 * thread); inj_stop is set by the first ending thread (ending.c) and cleared
 * in a forked child; a thread's inj_t is its own. */
#ifndef INJECT_STATE_H
#define INJECT_STATE_H

#include <stdint.h>
#include <sys/types.h>

#include "../injector/spec.h"
#include "shim.h"

#define LINEAGE_MAX 64
#define TCOUNTS 512                 /* per-thread counters; more go to a shared table */
struct tslot;
struct site_rec;

/* One thread's state, in initial-exec TLS (never allocated). */
struct tstate {
	int guard;                  /* inside the shim: hooks pass straight through */
	int resolving;              /* inside dlsym: lazy stubs take the safe path */
	int exiting;                /* the slot key's destructor ran (ring.c) */
	char lineage[LINEAGE_MAX];  /* "0", "0.1", "0.1.2"; "" until known */
	uint64_t lhash;             /* lineage hash (policy.h) */
	uint32_t children, forks;
	struct tslot *slot;         /* this thread's event ring (ring.c), or NULL */
	struct site_rec *spare;     /* a record this thread named but lost the race
				     * to publish: used for its next naming */
	uint64_t uid;               /* for inj_visit's shared counters; 0 = none yet */
	uint32_t ncounts;           /* used entries of counts */
	struct tcount {             /* visit counters of the first sites this thread
				     * visits (open addressing on the site index) */
		uint32_t site1;     /* site index + 1; 0 = free */
		uint32_t n;
	} counts[TCOUNTS];
};
extern __thread struct tstate inj_t TLS_IE HIDDEN;

extern struct inject_config inj_cfg HIDDEN;   /* the INJECT_* values */
extern int inj_stop HIDDEN;          /* atomic: exiting, hooks only pass through */
extern uint64_t inj_t0 HIDDEN;       /* process start, CLOCK_MONOTONIC ns */
extern pid_t inj_pid HIDDEN;         /* our pid, set at start and in a forked child */

#endif
